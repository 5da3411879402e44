//! The re-contact card of the feedback page (复核, issue 15): when the round has back-checks,
//! the respondent is asked, after the interview and apart from its questions, whether a
//! colleague may phone them once to check a few answers. A yes takes a phone number (checked
//! at once by the core's rule, again by the store) and, if they like, how to address them.
//! The answer goes to the native side (`answer_recontact`), which keeps it apart from the
//! interview; the card then says what happens next. In the interview's language.

use uuid::Uuid;
use yew::prelude::*;
use zhisu_app_api::{self as api, CommandError, ErrorCode};

use crate::backend::call;
use crate::i18n::{error_text, lang_of, Lang, Words};
use crate::screens::typed;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub interview_id: Uuid,
    /// The interview's language.
    pub language: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Asking,
    /// "Yes": the number and the form of address.
    Details,
    /// Kept: yes or no.
    Done(bool),
}

pub enum Msg {
    Yes,
    No,
    Phone(String),
    CallName(String),
    Save,
    /// Back from the number to the question (a mistaken tap on "yes").
    Back,
    Kept(bool, Result<(), CommandError>),
}

pub struct RecontactCard {
    stage: Stage,
    phone: String,
    call_name: String,
    busy: bool,
    error: Option<String>,
}

impl RecontactCard {
    fn lang(ctx: &Context<Self>) -> Lang {
        lang_of(&ctx.props().language)
    }

    fn send(&mut self, ctx: &Context<Self>, consent: bool) {
        if self.busy {
            return;
        }
        self.busy = true;
        self.error = None;
        let args = api::RecontactArgs {
            interview_id: ctx.props().interview_id,
            consent,
            phone: if consent {
                self.phone.clone()
            } else {
                String::new()
            },
            call_name: if consent {
                self.call_name.clone()
            } else {
                String::new()
            },
        };
        ctx.link().send_future(async move {
            Msg::Kept(consent, call::<api::AnswerRecontact>(args).await)
        });
    }
}

/// A refusal of the store in the respondent's words.
fn refusal(e: &CommandError, l: Lang) -> String {
    match e.code {
        ErrorCode::BadPhone => l
            .pick(
                "号码不对：手机号是 1 开头的 11 位数字；座机要带区号，比如 023-12345678。",
                "This number is not right: a mobile number has 11 digits starting with 1; a landline needs its area code, e.g. 023-12345678.",
            )
            .to_string(),
        ErrorCode::BadCallName => l
            .pick(
                "称呼请写短一点，比如“王师傅”，不用写全名。",
                "Please keep it short, e.g. \u{201c}Mr Wang\u{201d}; no full name needed.",
            )
            .to_string(),
        _ => error_text(e, l),
    }
}

impl Component for RecontactCard {
    type Message = Msg;
    type Properties = Props;

    fn create(_ctx: &Context<Self>) -> Self {
        RecontactCard {
            stage: Stage::Asking,
            phone: String::new(),
            call_name: String::new(),
            busy: false,
            error: None,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let l = Self::lang(ctx);
        match msg {
            Msg::Yes => {
                self.stage = Stage::Details;
                self.error = None;
            }
            Msg::No => self.send(ctx, false),
            Msg::Back => {
                self.stage = Stage::Asking;
                self.error = None;
            }
            Msg::Phone(text) => {
                self.phone = text;
                self.error = None;
            }
            Msg::CallName(text) => {
                self.call_name = text;
                self.error = None;
            }
            Msg::Save => {
                // the same rule the store applies, for an instant message
                if let Err(problem) = zhisu_core::normalize_phone(&self.phone) {
                    self.error = Some(problem.message(l.code()).to_string());
                    return true;
                }
                if zhisu_core::normalize_call_name(&self.call_name).is_none() {
                    self.error = Some(refusal(
                        &CommandError::new(ErrorCode::BadCallName, String::new()),
                        l,
                    ));
                    return true;
                }
                self.send(ctx, true);
            }
            Msg::Kept(consent, result) => {
                self.busy = false;
                match result {
                    Ok(()) => {
                        self.stage = Stage::Done(consent);
                        // the number is not kept on screen once it is saved
                        self.phone.clear();
                        self.call_name.clear();
                    }
                    Err(e) => self.error = Some(refusal(&e, l)),
                }
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let l = Self::lang(ctx);
        let link = ctx.link();
        // the error next to what caused it: under the number while it is typed
        let error = html! {
            <p id="recontact-error" class="error" role="alert">{ self.error.clone().unwrap_or_default() }</p>
        };
        let details = self.stage == Stage::Details;
        let body = match self.stage {
            Stage::Asking => html! {
                <>
                    <p>{ l.pick(
                        "为了看看这次调查做得好不好，我们的同事可能在接下来几周给您打一次电话，再问您几个刚才的问题，几分钟就好。",
                        "To check that this survey was done well, a colleague may phone you once in the next few weeks and ask a few of the same questions again. It takes a few minutes.",
                    ) }</p>
                    <p>{ l.pick(
                        "您的电话号码只用来打这一次电话，不会给别人，调查结束后就删掉。不同意也完全没关系。",
                        "Your number is only for this one call. Nobody else gets it, and it is deleted after the survey. It is fine to say no.",
                    ) }</p>
                    <div class="recontact-choices">
                        <button id="recontact-yes" class="choice" disabled={self.busy}
                            onclick={link.callback(|_| Msg::Yes)}>{ l.pick("可以，请打给我", "Yes, you may call me") }</button>
                        <button id="recontact-no" class="choice" disabled={self.busy}
                            onclick={link.callback(|_| Msg::No)}>{ l.pick("不用了", "No, thank you") }</button>
                    </div>
                </>
            },
            Stage::Details => html! {
                <>
                    <label class="field" for="recontact-phone">
                        <span>{ l.pick("您的电话号码（座机请带区号）", "Your phone number (a landline with its area code)") }</span>
                        <input id="recontact-phone" type="tel" inputmode="tel" autocomplete="off"
                            value={self.phone.clone()} aria-describedby="recontact-error"
                            oninput={link.callback(|e| Msg::Phone(typed(e)))} />
                    </label>
                    { error.clone() }
                    <label class="field" for="recontact-name">
                        <span>{ l.pick("怎么称呼您？（可以不填，比如：王师傅）", "How should we address you? (optional, e.g. Mr Wang)") }</span>
                        <input id="recontact-name" type="text" autocomplete="off"
                            value={self.call_name.clone()}
                            oninput={link.callback(|e| Msg::CallName(typed(e)))} />
                    </label>
                    <div class="nav">
                        <button id="recontact-back" disabled={self.busy}
                            onclick={link.callback(|_| Msg::Back)}>{ l.pick("上一步", "Back") }</button>
                        <button id="recontact-save" class="primary" disabled={self.busy}
                            onclick={link.callback(|_| Msg::Save)}>{ l.pick("保存", "Save") }</button>
                    </div>
                </>
            },
            Stage::Done(true) => html! {
                <p id="recontact-done" data-consent="yes" role="status">{ l.pick(
                    "谢谢您！同事会给您打一次电话。",
                    "Thank you! A colleague will phone you once.",
                ) }</p>
            },
            Stage::Done(false) => html! {
                <p id="recontact-done" data-consent="no" role="status">{ l.pick(
                    "好的，不会给您打电话。",
                    "All right, nobody will phone you.",
                ) }</p>
            },
        };
        html! {
            <section class="recontact" id="recontact-card" aria-labelledby="recontact-title">
                <h2 id="recontact-title">{ l.pick("可以请同事给您打一次电话吗？", "May a colleague phone you once?") }</h2>
                { body }
                if !details {
                    { error }
                }
            </section>
        }
    }
}
