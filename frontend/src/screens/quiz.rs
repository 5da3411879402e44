//! Quiz mode (issue 24): a knowledge game at an outreach event. Ten questions (the district's
//! weakest knowledge points first) or all of them, the right answer and why after each, the
//! score at the end with the take-home QR code for the questions missed, and "next person" to
//! start again in one tap. Kept as an outreach record, never as an interview.

use std::rc::Rc;

use uuid::Uuid;
use yew::prelude::*;
use zhisu_app_api::{self as api, CommandError, QuizAnswer, QuizPlan, QuizSetupView, QuizSummary};
use zhisu_core::learn_link::LearnLink;
use zhisu_core::{AnswerValue, Item, ItemKind, Questionnaire};

use super::interview::feedback::{answer_text, piece_for, piece_view, take_home, yes_no};
use crate::backend::call;
use crate::context::{app_context, error_view, AppContext, QuizStart, Route};
use crate::i18n::{error_text, t, Lang, Words};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub start: Rc<QuizStart>,
}

pub enum Msg {
    Context(AppContext),
    /// Boxed: a questionnaire is much larger than the other messages.
    Loaded(Result<Box<Questionnaire>, CommandError>),
    Setup(Result<QuizSetupView, CommandError>),
    ChooseEvent(Option<Uuid>),
    ChooseWhole(bool),
    Start,
    Plan(Result<QuizPlan, CommandError>),
    Answer(AnswerValue),
    Toggle(String),
    Confirm,
    Next,
    Kept(Result<QuizSummary, CommandError>),
}

/// What the person answered to the question on screen, once answered.
struct Revealed {
    given: AnswerValue,
    right: bool,
}

pub struct Quiz {
    app: AppContext,
    _context: ContextHandle<AppContext>,
    questionnaire: Option<Rc<Questionnaire>>,
    setup: Option<QuizSetupView>,
    event: Option<Uuid>,
    whole: bool,
    plan: Option<QuizPlan>,
    answers: Vec<QuizAnswer>,
    /// Multiple-choice keys picked on the question on screen.
    picked: Vec<String>,
    revealed: Option<Revealed>,
    /// The quiz was kept (the score screen).
    kept: Option<QuizSummary>,
    busy: bool,
    error: Option<String>,
}

impl Quiz {
    /// The question on screen: the next one to answer, or the one whose answer is shown.
    fn current_item(&self) -> Option<&Item> {
        let plan = self.plan.as_ref()?;
        // while an answer is shown, the question it answered
        let shown = self.answers.len() - usize::from(self.revealed.is_some());
        let id = plan.items.get(shown)?;
        self.questionnaire.as_ref()?.item(id)
    }

    fn start(&mut self, ctx: &Context<Self>) {
        let start = &ctx.props().start;
        let args = api::StartQuizArgs {
            id: start.id.clone(),
            version: start.version.clone(),
            whole: self.whole,
        };
        self.busy = true;
        self.error = None;
        ctx.link()
            .send_future(async move { Msg::Plan(call::<api::StartQuiz>(args).await) });
    }

    fn finish(&mut self, ctx: &Context<Self>) {
        let (Some(plan), start) = (&self.plan, &ctx.props().start) else {
            return;
        };
        let args = api::FinishQuizArgs {
            quiz_id: plan.quiz_id,
            id: start.id.clone(),
            version: start.version.clone(),
            started_at: plan.started_at,
            event_id: self.event,
            items: self.answers.clone(),
        };
        self.busy = true;
        ctx.link()
            .send_future(async move { Msg::Kept(call::<api::FinishQuiz>(args).await) });
    }
}

impl Component for Quiz {
    type Message = Msg;
    type Properties = Props;

    fn create(ctx: &Context<Self>) -> Self {
        let start = Rc::clone(&ctx.props().start);
        let version = api::VersionArgs {
            id: start.id.clone(),
            version: start.version.clone(),
        };
        let setup = version.clone();
        ctx.link().send_future(async move {
            Msg::Loaded(call::<api::GetQuestionnaire>(version).await.map(Box::new))
        });
        ctx.link()
            .send_future(async move { Msg::Setup(call::<api::QuizSetup>(setup).await) });
        let (app, handle) = app_context(ctx, Msg::Context);
        Quiz {
            app,
            _context: handle,
            questionnaire: None,
            setup: None,
            event: None,
            whole: false,
            plan: None,
            answers: Vec::new(),
            picked: Vec::new(),
            revealed: None,
            kept: None,
            busy: false,
            error: None,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let ui = self.app.ui;
        match msg {
            Msg::Context(app) => self.app = app,
            Msg::Loaded(Ok(q)) => self.questionnaire = Some(Rc::new(*q)),
            Msg::Setup(Ok(setup)) => {
                // today's event, when there is one, is the likely one
                self.event = self.event.or_else(|| setup.events.first().map(|e| e.id));
                self.setup = Some(setup);
            }
            Msg::ChooseEvent(event) => self.event = event,
            Msg::ChooseWhole(whole) => self.whole = whole,
            Msg::Start => self.start(ctx),
            Msg::Plan(Ok(plan)) => {
                self.busy = false;
                self.plan = Some(plan);
                self.answers.clear();
                self.picked.clear();
                self.revealed = None;
                self.kept = None;
            }
            Msg::Answer(given) => {
                if self.revealed.is_none() {
                    if let Some(item) = self.current_item() {
                        let right = item.answered_right(&given);
                        let id = item.id.clone();
                        self.answers.push(QuizAnswer { item: id, right });
                        self.revealed = Some(Revealed { given, right });
                    }
                }
            }
            Msg::Toggle(_) if self.revealed.is_some() => return false,
            Msg::Toggle(key) => match self.picked.iter().position(|k| k == &key) {
                Some(i) => drop(self.picked.remove(i)),
                None => self.picked.push(key),
            },
            Msg::Confirm => {
                if !self.picked.is_empty() {
                    let given = AnswerValue::Choices(self.picked.clone());
                    ctx.link().send_message(Msg::Answer(given));
                }
            }
            Msg::Next => {
                self.revealed = None;
                self.picked.clear();
                let asked = self.plan.as_ref().map_or(0, |p| p.items.len());
                if self.answers.len() >= asked {
                    self.finish(ctx);
                }
            }
            Msg::Kept(Ok(summary)) => {
                self.busy = false;
                self.kept = Some(summary);
            }
            Msg::Loaded(Err(e)) | Msg::Setup(Err(e)) | Msg::Plan(Err(e)) | Msg::Kept(Err(e)) => {
                self.busy = false;
                self.error = Some(error_text(&e, ui));
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let ui = self.app.ui;
        let body = match (&self.questionnaire, &self.plan) {
            (None, _) => {
                html! { <p class="hint">{ ui.pick("正在准备题目……", "Getting the questions ready…") }</p> }
            }
            (Some(_), None) => self.setup_view(ctx),
            (Some(q), Some(plan)) => match (&self.kept, self.current_item()) {
                (Some(summary), _) => self.score_view(ctx, q, summary),
                (None, Some(item))
                    if self.revealed.is_some() || self.answers.len() < plan.items.len() =>
                {
                    self.question_view(ctx, q, plan, item)
                }
                _ => {
                    html! { <p class="hint" id="quiz-saving">{ ui.pick("正在保存……", "Saving…") }</p> }
                }
            },
        };
        html! {
            <div class="quiz" id="quiz">
                { body }
                { error_view(&self.error) }
            </div>
        }
    }
}

/// An event's kind in the surveyor's words.
fn kind_text(kind: &str, ui: Lang) -> &'static str {
    match kind {
        "enterprise" => ui.pick("进企业", "Enterprise"),
        "school" => ui.pick("进学校", "School"),
        "institution" => ui.pick("进机关、医院", "Institution or hospital"),
        "community" => ui.pick("进社区", "Community"),
        "village" => ui.pick("进农村", "Village"),
        "station" => ui.pick("进车站", "Station"),
        _ => ui.pick("宣传活动", "Event"),
    }
}

impl Quiz {
    fn setup_view(&self, ctx: &Context<Self>) -> Html {
        let ui = self.app.ui;
        let link = ctx.link();
        let title = &ctx.props().start.title;
        let home = self.app.navigate.reform(|_| Route::Home);
        let events = self.setup.as_ref().map_or(&[][..], |s| &s.events[..]);
        let pressed = |on: bool| on.to_string();
        html! {
            <>
                <h1 id="quiz-title">{ ui.pick("知识问答", "Knowledge quiz") }</h1>
                <p class="hint" id="quiz-about">
                    { title.clone() }
                    { ui.pick("。问答不是调查，不记名字，不计入调查结果。", ". A quiz is not the survey: no names, and it is not counted in the survey's results.") }
                </p>
                <h2>{ ui.pick("在哪个宣传活动？", "At which outreach event?") }</h2>
                <div class="choices" role="group" id="quiz-events">
                    { for events.iter().map(|e| {
                        let id = e.id;
                        html! {
                            <button class="choice" id={format!("quiz-event-{id}")} aria-pressed={pressed(self.event == Some(id))}
                                onclick={link.callback(move |_| Msg::ChooseEvent(Some(id)))}>
                                { format!("{} · {} · {}", e.date, kind_text(&e.kind, ui), e.place) }
                            </button>
                        }
                    }) }
                    <button class="choice" id="quiz-event-none" aria-pressed={pressed(self.event.is_none())}
                        onclick={link.callback(|_| Msg::ChooseEvent(None))}>
                        { ui.pick("不在活动中", "Not at an event") }
                    </button>
                </div>
                <h2>{ ui.pick("答几道题？", "How many questions?") }</h2>
                <div class="choices" role="group" id="quiz-length">
                    <button class="choice" id="quiz-short" aria-pressed={pressed(!self.whole)}
                        onclick={link.callback(|_| Msg::ChooseWhole(false))}>
                        { ui.pick("10 道题（先问大家最容易错的）", "10 questions (the ones most often missed first)") }
                    </button>
                    <button class="choice" id="quiz-whole" aria-pressed={pressed(self.whole)}
                        onclick={link.callback(|_| Msg::ChooseWhole(true))}>
                        { ui.pick("全部题目", "Every question") }
                    </button>
                </div>
                if let Some(setup) = &self.setup {
                    <p class="hint" id="quiz-counts">
                        { match ui {
                            Lang::Zh => format!("本机问答记录：待上传 {} 份，已上传 {} 份。", setup.waiting, setup.acknowledged),
                            Lang::En => format!("Quizzes on this tablet: {} waiting, {} sent.", setup.waiting, setup.acknowledged),
                        } }
                    </p>
                }
                <div class="nav">
                    <button id="home" onclick={home}>{ ui.pick("返回首页", "Home") }</button>
                    <button id="quiz-start" class="primary" disabled={self.busy}
                        onclick={link.callback(|_| Msg::Start)}>{ ui.pick("开始答题", "Start") }</button>
                </div>
            </>
        }
    }

    fn question_view(
        &self,
        ctx: &Context<Self>,
        q: &Questionnaire,
        plan: &QuizPlan,
        item: &Item,
    ) -> Html {
        let ui = self.app.ui;
        let lang = ui.code();
        let link = ctx.link();
        let number = match &self.revealed {
            Some(_) => self.answers.len(),
            None => self.answers.len() + 1,
        };
        let total = plan.items.len();
        let answered = self.revealed.is_some();
        let choice_button = |key: String, label: String, chosen: bool| -> Html {
            let id = format!("quiz-answer-{key}");
            let multiple = matches!(item.kind, ItemKind::MultipleChoice { .. });
            let onclick = if multiple {
                link.callback(move |_| Msg::Toggle(key.clone()))
            } else {
                link.callback(move |_| Msg::Answer(AnswerValue::Choice(key.clone())))
            };
            html! {
                <button class="choice quiz-answer" {id} aria-pressed={chosen.to_string()} {onclick}>{ label }</button>
            }
        };
        let answers = match &item.kind {
            ItemKind::TrueFalse => html! {
                <div class="choices quiz-choices">
                    { for [true, false].into_iter().map(|value| {
                        let chosen = matches!(&self.revealed, Some(Revealed { given: AnswerValue::Bool(b), .. }) if *b == value);
                        html! {
                            <button class="choice quiz-answer" id={format!("quiz-answer-{value}")} aria-pressed={chosen.to_string()}
                                onclick={link.callback(move |_| Msg::Answer(AnswerValue::Bool(value)))}>
                                { yes_no(item, value, ui) }
                            </button>
                        }
                    }) }
                </div>
            },
            kind => {
                let picked = |key: &str| match &self.revealed {
                    Some(Revealed {
                        given: AnswerValue::Choice(k),
                        ..
                    }) => k == key,
                    Some(Revealed {
                        given: AnswerValue::Choices(ks),
                        ..
                    }) => ks.iter().any(|k| k == key),
                    _ => self.picked.iter().any(|k| k == key),
                };
                html! {
                    <>
                        if matches!(kind, ItemKind::MultipleChoice { .. }) {
                            <p class="hint">{ ui.pick("可以选多个，选好后点“确定”。", "Choose all that apply, then tap “OK”.") }</p>
                        }
                        <div class="choices quiz-choices">
                            { for kind.choices().iter().map(|c| choice_button(c.key.clone(), t(q, lang, &c.label).to_string(), picked(&c.key))) }
                        </div>
                        if matches!(kind, ItemKind::MultipleChoice { .. }) && !answered {
                            <button id="quiz-confirm" class="primary" disabled={self.picked.is_empty()}
                                onclick={link.callback(|_| Msg::Confirm)}>{ ui.pick("确定", "OK") }</button>
                        }
                    </>
                }
            }
        };
        let last = self.answers.len() >= total;
        html! {
            <>
                <p class="counter" id="quiz-counter">
                    { match ui { Lang::Zh => format!("第 {number} 题，共 {total} 题"), Lang::En => format!("Question {number} of {total}") } }
                </p>
                <h1 class="quiz-question" id="quiz-question" data-item={item.id.clone()}>{ t(q, lang, &item.label) }</h1>
                { answers }
                if let Some(revealed) = &self.revealed {
                    <div class={classes!("quiz-verdict", if revealed.right { "right" } else { "wrong" })} id="quiz-verdict"
                        data-right={revealed.right.to_string()} role="status">
                        <p class="quiz-verdict-word">
                            { if revealed.right { ui.pick("✔ 答对了！", "✔ Right!") } else { ui.pick("✘ 答错了，没关系，记住正确答案：", "✘ Not quite. Remember the right answer:") } }
                        </p>
                        <p id="quiz-right-answer">{ ui.pick("正确答案：", "Right answer: ") }
                            <b>{ answer_text(q, lang, item, item.scoring.as_ref().map(|s| &s.key)) }</b></p>
                        if let Some(explanation) = &item.explanation {
                            <p id="quiz-explanation">{ t(q, lang, explanation) }</p>
                        }
                        if !revealed.right {
                            if let Some(piece) = piece_for(&plan.pieces, &item.id) {
                                { piece_view(&item.id, piece, ui) }
                            }
                        }
                    </div>
                    <div class="nav">
                        <button id="home" onclick={self.app.navigate.reform(|_| Route::Home)}>{ ui.pick("结束问答", "End the quiz") }</button>
                        <button id="quiz-next" class="primary" disabled={self.busy} onclick={link.callback(|_| Msg::Next)}>
                            { if last { ui.pick("看得分", "See the score") } else { ui.pick("下一题", "Next question") } }
                        </button>
                    </div>
                }
            </>
        }
    }

    fn score_view(&self, ctx: &Context<Self>, q: &Questionnaire, summary: &QuizSummary) -> Html {
        let ui = self.app.ui;
        let link = ctx.link();
        let missed: Vec<&str> = self
            .answers
            .iter()
            .filter(|a| !a.right)
            .map(|a| a.item.as_str())
            .collect();
        // offered as the store decided when it kept the quiz (and sealed into it)
        let url = summary
            .take_home_qr
            .then(|| take_home_url(&self.app, q, &missed, ui.code()))
            .flatten();
        let home = self.app.navigate.reform(|_| Route::Home);
        let all_right = summary.right == summary.asked;
        html! {
            <>
                <h1 id="quiz-done">{ ui.pick("答完了，谢谢您！", "All done. Thank you!") }</h1>
                <p class="quiz-score" id="quiz-score" data-right={summary.right.to_string()} data-asked={summary.asked.to_string()}>
                    { match ui {
                        Lang::Zh => format!("答对 {} 题，共 {} 题", summary.right, summary.asked),
                        Lang::En => format!("{} right out of {}", summary.right, summary.asked),
                    } }
                </p>
                <p class={if all_right { "result-good" } else { "hint" }} id="quiz-praise">
                    { if all_right {
                        ui.pick("全部答对，真棒！", "Every answer right. Well done!")
                    } else if url.is_some() {
                        ui.pick("答错的题，扫下面的二维码带回家再看看。", "Scan the code below to take the questions you missed home.")
                    } else {
                        ui.pick("答错的题，记住刚才看到的正确答案。", "Remember the right answers you just saw.")
                    } }
                </p>
                if let Some(url) = url {
                    { take_home(&url, ui) }
                }
                <div class="nav">
                    <button id="home" onclick={home}>{ ui.pick("结束问答", "End the quiz") }</button>
                    <button id="quiz-next-person" class="primary" disabled={self.busy}
                        onclick={link.callback(|_| Msg::Start)}>{ ui.pick("下一位", "Next person") }</button>
                </div>
            </>
        }
    }
}

/// The take-home page for the questions missed, on the server this tablet was enrolled with:
/// names knowledge points only (`zhisu_core::learn_link`), nothing of the person.
fn take_home_url(
    app: &AppContext,
    q: &Questionnaire,
    missed: &[&str],
    lang: &str,
) -> Option<String> {
    let identity = app.identity.as_ref().filter(|i| i.enrolled)?;
    let server = identity.server_url.as_deref()?.trim_end_matches('/');
    if server.is_empty() {
        return None;
    }
    let link = LearnLink::for_items(q, missed.iter().copied())?;
    let english = if lang.starts_with("en") {
        "&lang=en"
    } else {
        ""
    };
    Some(format!("{server}{}{english}", link.to_path()))
}
