//! What the app shell hands every screen: the surveyor's language and text size, the device's
//! enrolment and sync badge, and navigation; and the small pieces every screen draws alike.

use std::rc::Rc;

use uuid::Uuid;
use yew::prelude::*;
use zhisu_app_api::{IdentityView, SyncView, Theme};
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
    /// Quiz mode with a questionnaire's scored items (never an interview).
    Quiz(Rc<QuizStart>),
    /// Back-checks (复核): respondents of another surveyor to call and ask again.
    Backchecks,
}

/// The questionnaire version a quiz is drawn from, and its title to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizStart {
    pub id: String,
    pub version: String,
    pub title: String,
}

/// What every screen may read and ask of the shell.
#[derive(Clone, PartialEq)]
pub struct AppContext {
    /// The language of the surveyor's screens.
    pub ui: Lang,
    /// The text size step, 0 (normal) to [`LARGEST_TEXT`]: larger text for a respondent who
    /// reads with difficulty. Question, answers, buttons and feedback grow together.
    pub text_step: u8,
    /// How the screens look (the surveyor's choice, kept on the device).
    pub theme: Theme,
    pub identity: Option<Rc<IdentityView>>,
    pub sync: Option<Rc<SyncView>>,
    pub navigate: Callback<Route>,
    pub toggle_language: Callback<()>,
    pub toggle_text_size: Callback<()>,
    pub toggle_theme: Callback<()>,
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

/// Switches the high-contrast look on and off (for bright sun); the device remembers it.
pub fn theme_button(app: &AppContext) -> Html {
    let toggle = app.toggle_theme.reform(|_| ());
    let on = app.theme == Theme::HighContrast;
    html! {
        <button id="theme" class="text-size" aria-pressed={on.to_string()} onclick={toggle}>
            <span aria-hidden="true">{ if on { "◼ " } else { "◻ " } }</span>
            { app.ui.pick("强对比", "High contrast") }
        </button>
    }
}

/// Makes the text of every screen larger, larger still, then normal again (the device
/// remembers it), labelled in `words`' language: the surveyor's on their screens, the
/// respondent's in an interview.
pub fn text_size_button(app: &AppContext, words: Lang) -> Html {
    let label = if app.text_step >= LARGEST_TEXT {
        words.pick("字变回原来大小", "Normal text size")
    } else {
        words.pick("字大一点", "Larger text")
    };
    let toggle = app.toggle_text_size.reform(|_| ());
    html! {
        <button id="text-size" class="text-size" lang={words.code()} onclick={toggle}>{ label }</button>
    }
}

/// The largest text size step (150 %).
pub const LARGEST_TEXT: u8 = zhisu_app_api::TextSize::Largest.step();

/// An interview to show: its id, questionnaire, saved answers and language.
pub struct Opened {
    pub interview_id: Uuid,
    pub questionnaire: Rc<Questionnaire>,
    pub answers: Answers,
    /// The language of the respondent's screens (a questionnaire language code).
    pub language: String,
    /// A completed interview's feedback page shown again (kept by the tablet for a day): the
    /// interview opens on it, with no answers (they are sealed).
    pub feedback: Option<zhisu_app_api::Completion>,
    /// A practice interview of surveyor training: the banner on every screen says so.
    pub practice: bool,
}

impl PartialEq for Opened {
    fn eq(&self, other: &Self) -> bool {
        self.interview_id == other.interview_id
    }
}
