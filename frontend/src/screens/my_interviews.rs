//! My interviews: every interview on this tablet with its state and how the contact ended;
//! unfinished ones can be resumed or closed with their outcome (partial, refused, other, or as
//! the screening decided), unsent ones discarded with a reason.

use std::rc::Rc;

use yew::prelude::*;
use zhisu_app_api::{
    self as api, CloseContactArgs, CommandError, DiscardArgs, InterviewState, InterviewSummary,
};
use zhisu_core::Disposition;

use super::interview;
use super::{home_button, typed};
use crate::backend::call;
use crate::context::Opened;
use crate::context::{app_context, error_view, AppContext, Route};
use crate::i18n::{disposition_text, error_text, local_time, state_text, Words};

pub enum Msg {
    Context(AppContext),
    Loaded(Result<Vec<InterviewSummary>, CommandError>),
    Reason(String),
    Discard(uuid::Uuid),
    Discarded(Result<(), CommandError>),
    Resume(InterviewSummary),
    /// A completed interview's feedback page, again.
    FeedbackAgain(InterviewSummary),
    /// The outcome chosen for closing a contact (empty: as the screening decided).
    Outcome(String),
    Close(uuid::Uuid),
    Closed(Result<InterviewSummary, CommandError>),
    Opened(Result<Opened, CommandError>),
}

pub struct MyInterviews {
    app: AppContext,
    _context: ContextHandle<AppContext>,
    interviews: Vec<InterviewSummary>,
    reason: String,
    outcome: String,
    error: Option<String>,
}

async fn load() -> Msg {
    Msg::Loaded(call::<api::Interviews>(()).await)
}

impl Component for MyInterviews {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        ctx.link().send_future(load());
        let (app, handle) = app_context(ctx, Msg::Context);
        MyInterviews {
            app,
            _context: handle,
            interviews: Vec::new(),
            reason: String::new(),
            outcome: String::new(),
            error: None,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let ui = self.app.ui;
        match msg {
            Msg::Context(app) => self.app = app,
            Msg::Loaded(Ok(list)) => self.interviews = list,
            Msg::Reason(text) => self.reason = text,
            Msg::Discard(interview_id) => self.discard(ctx, interview_id),
            Msg::Discarded(result) => {
                match result {
                    Ok(()) => {
                        self.reason.clear();
                        self.error = None;
                    }
                    Err(e) => self.error = Some(error_text(&e, ui)),
                }
                ctx.link().send_future(load());
            }
            Msg::Outcome(name) => self.outcome = name,
            Msg::Close(interview_id) => self.close(ctx, interview_id),
            Msg::Closed(result) => {
                match result {
                    Ok(_) => {
                        self.reason.clear();
                        self.error = None;
                    }
                    Err(e) => self.error = Some(error_text(&e, ui)),
                }
                ctx.link().send_future(load());
            }
            Msg::Resume(listing) => ctx
                .link()
                .send_future(async move { Msg::Opened(interview::resume(listing).await) }),
            Msg::FeedbackAgain(listing) => ctx
                .link()
                .send_future(async move { Msg::Opened(interview::feedback_again(listing).await) }),
            Msg::Opened(Ok(opened)) => self.app.navigate.emit(Route::Interview(Rc::new(opened))),
            Msg::Loaded(Err(e)) | Msg::Opened(Err(e)) => self.error = Some(error_text(&e, ui)),
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let ui = self.app.ui;
        html! {
            <>
                <h1>{ ui.pick("我的访谈", "My interviews") }</h1>
                <p class="hint">{ ui.pick("作废（只用于误开的访谈）或结束一份没做完的访谈，要先写下原因。", "To discard an interview opened by mistake, or to finish an unfinished one, first write down why.") }</p>
                <input id="discard-reason" type="text" placeholder={ui.pick("原因，比如：受访者中途离开", "Reason, e.g. the respondent left")}
                    value={self.reason.clone()}
                    oninput={ctx.link().callback(|e| Msg::Reason(typed(e)))} />
                <p class="hint">{ ui.pick(
                    "没做完的接触要记下结果：选结果，中途停止和其他要写原因，再点“结束”。",
                    "Record how an unfinished contact ended: choose the outcome (a partial or other needs a reason), then tap Finish.") }</p>
                <label for="close-outcome">{ ui.pick("结果：", "Outcome: ") }</label>
                <select id="close-outcome" onchange={ctx.link().callback(|e: Event| Msg::Outcome(// `value` is read by name: a select has it as an input does
                    e.target_unchecked_into::<web_sys::HtmlInputElement>().value()))}>
                    <option value="" selected={self.outcome.is_empty()}>{ ui.pick("按筛查结果（拒绝或不符合条件）", "As the screening decided (refused or not eligible)") }</option>
                    { for [Disposition::Partial, Disposition::Refused, Disposition::Other].into_iter().map(|d| html! {
                        <option value={d.as_str()} selected={self.outcome == d.as_str()}>{ disposition_text(d, ui) }</option>
                    }) }
                </select>
                <ul class="review" id="interview-list">
                    { for self.interviews.iter().map(|i| self.entry(ctx, i)) }
                </ul>
                { home_button(&self.app) }
                { error_view(&self.error) }
            </>
        }
    }
}

impl MyInterviews {
    fn discard(&mut self, ctx: &Context<Self>, interview_id: uuid::Uuid) {
        let reason = self.reason.trim().to_string();
        if reason.is_empty() {
            let text = self.app.ui.pick(
                "请先写下作废的原因。",
                "Write down why the interview is discarded first.",
            );
            self.error = Some(text.to_string());
            return;
        }
        ctx.link().send_future(async move {
            let args = DiscardArgs {
                interview_id,
                reason,
            };
            Msg::Discarded(call::<api::DiscardInterview>(args).await)
        });
    }

    fn close(&mut self, ctx: &Context<Self>, interview_id: uuid::Uuid) {
        let disposition = Disposition::from_name(&self.outcome);
        let reason = self.reason.trim().to_string();
        ctx.link().send_future(async move {
            let args = CloseContactArgs {
                interview_id,
                disposition,
                reason,
            };
            Msg::Closed(call::<api::CloseContact>(args).await)
        });
    }

    fn entry(&self, ctx: &Context<Self>, i: &InterviewSummary) -> Html {
        let link = ctx.link();
        let ui = self.app.ui;
        let (id, listing, again) = (i.id, i.clone(), i.clone());
        html! {
            <li data-state={i.state.as_str()} data-practice={i.practice.to_string()}>
                <div>
                    if i.practice {
                        <b class="practice-mark">{ ui.pick("【练习】", "[Practice] ") }</b>
                    }
                    { format!("{}　{}", local_time(&i.started_at), i.questionnaire_id) }
                </div>
                <b class="state">{ state_text(i.state, ui) }</b>
                if let Some(d) = i.disposition {
                    <b class="disposition" data-disposition={d.as_str()}>{ format!("　{}", disposition_text(d, ui)) }</b>
                }
                if let (Some(reason), None) = (i.disposition_reason.as_ref(), i.discard_reason.as_ref()) {
                    <div class="hint disposition-reason">{ reason }</div>
                }
                if let Some(message) = i.sync_message.as_ref().or(i.discard_reason.as_ref()) {
                    <div class="hint">{ message }</div>
                }
                <div class="nav">
                    if i.state == InterviewState::InProgress {
                        <button class="resume" onclick={link.callback(move |_| Msg::Resume(listing.clone()))}>{ ui.pick("继续", "Resume") }</button>
                        <button class="close" onclick={link.callback(move |_| Msg::Close(id))}>{ ui.pick("结束", "Finish") }</button>
                    }
                    if i.feedback_kept {
                        <button class="feedback-again" onclick={link.callback(move |_| Msg::FeedbackAgain(again.clone()))}>{ ui.pick("再看结果", "Show the result again") }</button>
                    }
                    // a contact closed with its outcome is counted as it is: never discarded
                    if i.state.can_discard() && matches!(i.disposition, None | Some(Disposition::Completed)) {
                        <button class="discard" onclick={link.callback(move |_| Msg::Discard(id))}>{ ui.pick("作废", "Discard") }</button>
                    }
                </div>
            </li>
        }
    }
}
