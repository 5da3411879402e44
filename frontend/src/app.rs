//! The app shell: which screen is shown (routing), the device's enrolment, the sync badge
//! (polled), the surveyor's language and text size, handed to every screen in an
//! [`AppContext`]. Each screen keeps its own state and messages.

use std::rc::Rc;

use yew::prelude::*;
use zhisu_app_api::{self as api, CommandError, IdentityView, Preferences, SyncView};

use crate::backend::call;
use crate::i18n::{error_text, Lang, Words};
use crate::screens::interview::{Interview, Opened};
use crate::screens::{Enrol, Home, MyInterviews, Surveyors, SyncLog, Today};

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

pub enum Msg {
    Identity(Result<IdentityView, CommandError>),
    Preferences(Result<Preferences, CommandError>),
    Status(Result<SyncView, CommandError>),
    Poll,
    Navigate(Route),
    ToggleLanguage,
    ToggleTextSize,
    SyncNow,
    Failed(CommandError),
}

pub struct App {
    route: Route,
    ui: Lang,
    large_text: bool,
    identity: Option<Rc<IdentityView>>,
    sync: Option<Rc<SyncView>>,
    /// A failure of the shell's own calls (enrolment state, preferences, sync badge).
    error: Option<String>,
    /// The context's callbacks (its state fields are filled in by `context`).
    callbacks: AppContext,
}

/// How often the sync badge asks for news.
const POLL: std::time::Duration = std::time::Duration::from_millis(1500);

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let link = ctx.link();
        link.send_future(async { Msg::Identity(call::<api::GetIdentity>(()).await) });
        link.send_future(async { Msg::Preferences(call::<api::GetPreferences>(()).await) });
        link.send_message(Msg::Poll);
        App {
            route: Route::Home,
            ui: Lang::default(),
            large_text: false,
            identity: None,
            sync: None,
            error: None,
            callbacks: AppContext {
                ui: Lang::default(),
                large_text: false,
                identity: None,
                sync: None,
                navigate: link.callback(Msg::Navigate),
                toggle_language: link.callback(|()| Msg::ToggleLanguage),
                toggle_text_size: link.callback(|()| Msg::ToggleTextSize),
                enrolled: link.callback(|identity| Msg::Identity(Ok(identity))),
                sync_now: link.callback(|()| Msg::SyncNow),
            },
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Identity(Ok(identity)) => self.identity_loaded(identity),
            Msg::Preferences(Ok(preferences)) => self.ui = preferences.language,
            Msg::Status(result) => {
                match result {
                    Ok(view) => self.sync = Some(Rc::new(view)),
                    Err(e) => self.error = Some(error_text(&e, self.ui)),
                }
                ctx.link().send_future(async {
                    yew::platform::time::sleep(POLL).await;
                    Msg::Poll
                });
            }
            Msg::Poll => {
                ctx.link()
                    .send_future(async { Msg::Status(call::<api::GetSyncStatus>(()).await) });
                return false;
            }
            Msg::Navigate(route) => {
                self.route = route;
                self.error = None;
            }
            Msg::ToggleLanguage => self.toggle_language(ctx),
            Msg::ToggleTextSize => self.large_text = !self.large_text,
            Msg::SyncNow => {
                // the badge's own polling shows the outcome
                wasm_bindgen_futures::spawn_local(async {
                    let _ = call::<api::SyncNow>(()).await;
                });
                return false;
            }
            Msg::Identity(Err(e)) | Msg::Preferences(Err(e)) | Msg::Failed(e) => {
                self.error = Some(error_text(&e, self.ui))
            }
        }
        true
    }

    fn view(&self, _ctx: &Context<Self>) -> Html {
        let context = self.context();
        let screen = match &self.route {
            Route::Enrol => html! { <Enrol /> },
            Route::Home => html! { <Home /> },
            Route::Today => html! { <Today /> },
            Route::Surveyors => html! { <Surveyors /> },
            Route::MyInterviews => html! { <MyInterviews /> },
            Route::SyncLog => html! { <SyncLog /> },
            Route::Interview(opened) => html! { <Interview opened={Rc::clone(opened)} /> },
        };
        html! {
            <main class={if self.large_text { "large" } else { "" }}>
                <ContextProvider<AppContext> {context}>
                    { screen }
                </ContextProvider<AppContext>>
                if let Some(e) = &self.error {
                    <p class="error" id="app-error" role="alert">{ e }</p>
                }
            </main>
        }
    }
}

impl App {
    fn identity_loaded(&mut self, identity: IdentityView) {
        if !identity.enrolled {
            self.route = Route::Enrol;
        } else if self.route == Route::Enrol {
            self.route = Route::Home;
        }
        self.identity = Some(Rc::new(identity));
    }

    fn toggle_language(&mut self, ctx: &Context<Self>) {
        self.ui = self.ui.other();
        let language = self.ui;
        let failed = ctx.link().callback(Msg::Failed);
        wasm_bindgen_futures::spawn_local(async move {
            let args = api::SetLanguageArgs { language };
            if let Err(e) = call::<api::SetLanguage>(args).await {
                failed.emit(e);
            }
        });
    }

    /// The context with this shell's state; its callbacks are made once, so screens are told
    /// of a change only when the state changed.
    fn context(&self) -> AppContext {
        AppContext {
            ui: self.ui,
            large_text: self.large_text,
            identity: self.identity.clone(),
            sync: self.sync.clone(),
            ..self.callbacks.clone()
        }
    }
}
