//! Practice interviews of surveyor training (issue 24): the banner on every screen of one, and
//! after it, what a supervisor's quality control would flag, in plain words, with what to do
//! differently. The flags are the core's paradata flags under the round's thresholds, the
//! very ones the interview was sealed with and the server recomputes.

use yew::prelude::*;
use zhisu_core::QcFlag;

use crate::i18n::{Lang, Words};

/// Always on top of a practice interview's screens: it is practice, and counts for nothing.
pub fn banner(ui: Lang) -> Html {
    html! {
        <div class="practice-banner" id="practice-banner" role="status">
            <b>{ ui.pick("练习模式", "Practice mode") }</b>
            { ui.pick("　这是练习，不算正式调查，不计入任何结果。", "  This is practice: it is not survey data and counts for nothing.") }
        </div>
    }
}

/// What to do differently next time, for a flag's kind.
fn advice(flag: &QcFlag, ui: Lang) -> &'static str {
    match flag {
        QcFlag::TooFast { .. } => ui.pick(
            "每道题都要完整地读给对方听，等对方想好了再点答案，不要替对方答。",
            "Read every question out in full and wait for the answer; never answer for the respondent.",
        ),
        QcFlag::StraightLining { .. } => ui.pick(
            "对方总选同一个位置时，请把每个选项都读一遍，确认对方听懂了再点。",
            "When the answers keep falling on the same place, read every choice out and check the respondent understood.",
        ),
        QcFlag::ManyChanges { .. } => ui.pick(
            "点之前先听清对方的回答；改答案前要问清楚，不要替对方改。",
            "Listen to the whole answer before tapping; ask before changing an answer, never change it for them.",
        ),
        _ => ui.pick(
            "正式调查时督导会核对这一点，请照调查员手册去做。",
            "A supervisor checks this in fieldwork: follow the surveyor's manual.",
        ),
    }
}

/// After a practice interview: what quality control would flag (or that it would flag
/// nothing), in the surveyor's language.
pub fn after_practice(ui: Lang, flags: &[QcFlag]) -> Html {
    html! {
        <section class="practice-result" id="practice-result" aria-labelledby="practice-result-title">
            <h2 id="practice-result-title">{ ui.pick("练习结果：督导质控会看到什么", "Practice result: what quality control would see") }</h2>
            if flags.is_empty() {
                <p class="result-good" id="practice-clean">{ ui.pick(
                    "这次练习没有会被质控标出的问题。正式调查也请这样做。",
                    "Quality control would flag nothing in this practice. Do the same in fieldwork.") }</p>
            } else {
                <p>{ ui.pick("如果这是正式调查，督导会看到下面的问题，可能会退回这份问卷：",
                    "Were this a real interview, a supervisor would see the following and might return it:") }</p>
                <ul class="review" id="practice-flags">
                    { for flags.iter().map(|f| html! {
                        <li data-flag={f.code()}>
                            <b>{ f.describe(ui.code()) }</b>
                            <div>{ advice(f, ui) }</div>
                        </li>
                    }) }
                </ul>
            }
            <p class="hint">{ ui.pick("下面是受访者会看到的结果页。练习的结果会上传到服务器的“练习记录”，不计入调查。",
                "Below is the page a respondent sees. The practice goes to the server's practice record, never into the survey.") }</p>
        </section>
    }
}
