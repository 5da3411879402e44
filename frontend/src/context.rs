//! What the app shell hands every screen: the surveyor's language and text size, the device's
//! enrolment and sync badge, and navigation; and the small pieces every screen draws alike.

use std::rc::Rc;

use uuid::Uuid;
use yew::prelude::*;
use zhisu_app_api::{IdentityView, SyncView};
use zhisu_core::{Answers, Questionnaire};

use crate::i18n::{Lang, Words};

/// The screens.
#[derive(Clone, PartialEq)]
pub enum Route {
    /// First run (or after revocation): enrol the tablet with the server.
    Enrol,
    Home,
    /// Today's work: the round, the site and its quotas.
    Today,
    /// Who is using the tablet: choose a surveyor with their PIN, or add one.
    Surveyors,
    MyInterviews,
    SyncLog,
    /// An interview, opened (started or resumed).
    Interview(Rc<Opened>),
}

/// What every screen may read and ask of the shell.
#[derive(Clone, PartialEq)]
pub struct AppContext {
    /// The language of the surveyor's screens.
    pub ui: Lang,
    /// Larger text for a respondent who reads with difficulty.
    pub large_text: bool,
    pub identity: Option<Rc<IdentityView>>,
    pub sync: Option<Rc<SyncView>>,
    pub navigate: Callback<Route>,
    pub toggle_language: Callback<()>,
    pub toggle_text_size: Callback<()>,
    /// The device was enrolled (or enrolled again).
    pub enrolled: Callback<IdentityView>,
    pub sync_now: Callback<()>,
}

/// Reads the [`AppContext`] in a struct component; `changed` turns a new one into a message.
pub fn app_context<C: Component>(
    ctx: &Context<C>,
    changed: impl Fn(AppContext) -> C::Message + 'static,
) -> (AppContext, ContextHandle<AppContext>) {
    ctx.link()
        .context(ctx.link().callback(changed))
        .expect("screens are shown inside the app shell")
}

/// A screen's error message, where the screen shows it.
pub fn error_view(error: &Option<String>) -> Html {
    match error {
        Some(e) => html! { <p class="error" id="error" role="alert">{ e }</p> },
        None => html! {},
    }
}

/// Switches the surveyor's screens between Chinese and English (shows the other one).
pub fn language_button(app: &AppContext) -> Html {
    let toggle = app.toggle_language.reform(|_| ());
    html! {
        <button id="language" class="text-size" lang={app.ui.other().code()} onclick={toggle}>
            { app.ui.pick("English", "中文") }
        </button>
    }
}

/// An interview to show: its id, questionnaire, saved answers and language.
pub struct Opened {
    pub interview_id: Uuid,
    pub questionnaire: Rc<Questionnaire>,
    pub answers: Answers,
    /// The language of the respondent's screens (a questionnaire language code).
    pub language: String,
}

impl PartialEq for Opened {
    fn eq(&self, other: &Self) -> bool {
        self.interview_id == other.interview_id
    }
}
