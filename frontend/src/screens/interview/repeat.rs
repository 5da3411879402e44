//! The warning of a repeat respondent (issue #15, intercept surveys at stations): another
//! interview on this tablet at the same site today has the same background answers (the
//! respondent fingerprint). Shown to the surveyor, in the surveyor's language, as soon as the
//! fingerprint items are all answered — before the test questions, so a traveller who already
//! took part is not asked them again — and on the review. A warning, never a block: two people
//! can give the same background answers, so the surveyor asks and decides.

use yew::prelude::*;
use zhisu_app_api::{self as api, InterviewArgs};
use zhisu_core::Disposition;

use super::{Interview, Msg};
use crate::backend::call;
use crate::i18n::Words;

impl Interview {
    /// Asks the native side whether the respondent may already have answered here today.
    pub(super) fn check_repeat(&self, ctx: &Context<Self>) {
        let interview_id = self.id;
        ctx.link().send_future(async move {
            Msg::RepeatChecked(call::<api::RepeatRespondent>(InterviewArgs { interview_id }).await)
        });
    }

    /// Ends the contact of a respondent who already took part today: "other", with the reason.
    pub(super) fn end_repeat(&mut self, ctx: &Context<Self>) {
        if self.busy || self.repeat.is_none() {
            return;
        }
        self.busy = true;
        let interview_id = self.id;
        let reason = self
            .app
            .ui
            .pick(
                "今天已经参加过（重复访问）",
                "Already took part today (repeat interview)",
            )
            .to_string();
        ctx.link().send_future(async move {
            let args = api::CloseContactArgs {
                interview_id,
                disposition: Some(Disposition::Other),
                reason,
            };
            Msg::ContactClosed(call::<api::CloseContact>(args).await)
        });
    }

    /// The warning above the question or the review, while a match stands and the surveyor
    /// has not said it is someone else.
    pub(super) fn repeat_warning(&self, ctx: &Context<Self>) -> Html {
        let Some(earlier) = self.repeat.as_ref().filter(|_| !self.repeat_dismissed) else {
            return Html::default();
        };
        let ui = self.app.ui;
        let link = ctx.link();
        let time = &earlier.local_time;
        let text = match ui {
            api::UiLanguage::Zh => format!(
                "这位受访者今天在这个调查点可能已经答过一次（性别、年龄等基本情况和 {time} 的一份相同）。请问一下：今天是不是已经参加过？参加过就不要再做，点“结束”。不是同一个人，点“继续”。"
            ),
            api::UiLanguage::En => format!(
                "This respondent may already have answered at this site today (sex, age and the other background answers are the same as in the interview of {time}). Ask: have you already taken part today? If so, do not go on: tap Finish. If it is someone else, tap Continue."
            ),
        };
        html! {
            <div class="repeat-warning" id="repeat-warning" role="alert" data-time={time.clone()}>
                <p><b>{ ui.pick("可能重复访问", "Possible repeat interview") }</b></p>
                <p>{ text }</p>
                <div class="nav">
                    <button id="repeat-continue" disabled={self.busy} onclick={link.callback(|_| Msg::DismissRepeat)}>{ ui.pick("继续", "Continue") }</button>
                    <button id="repeat-end" class="primary" disabled={self.busy} onclick={link.callback(|_| Msg::EndRepeat)}>{ ui.pick("结束", "Finish") }</button>
                </div>
            </div>
        }
    }
}
