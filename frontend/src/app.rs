//! The app shell: which screen is shown (routing), the device's enrolment, the sync badge
//! (polled), the surveyor's language and text size, handed to every screen in an
//! [`AppContext`](crate::context::AppContext). Each screen keeps its own state and messages.

use std::rc::Rc;

use yew::prelude::*;
use zhisu_app_api::{
    self as api, CommandError, IdentityView, Preferences, SyncView, TextSize, Theme,
};

use crate::backend::call;
use crate::context::{AppContext, Route};
use crate::i18n::{error_text, Lang, Words};
use crate::screens::interview::Interview;
use crate::screens::{Backchecks, Enrol, Home, MyInterviews, Quiz, Surveyors, SyncLog, Today};

pub enum Msg {
    Identity(Result<IdentityView, CommandError>),
    Preferences(Result<Preferences, CommandError>),
    Status(Result<SyncView, CommandError>),
    Poll,
    Navigate(Route),
    ToggleLanguage,
    ToggleTextSize,
    ToggleTheme,
    SyncNow,
    Failed(CommandError),
}

pub struct App {
    route: Route,
    ui: Lang,
    text_size: TextSize,
    theme: Theme,
    identity: Option<Rc<IdentityView>>,
    sync: Option<Rc<SyncView>>,
    /// A failure of the shell's own calls (enrolment state, preferences, sync badge).
    error: Option<String>,
    /// Whether the enrolment state and the preferences have been read (or failed to be). No
    /// screen is shown before: it would first show in the default language and text size,
    /// or as home on a tablet not yet enrolled, and then jump under the surveyor's finger.
    identity_read: bool,
    preferences_read: bool,
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
            text_size: TextSize::default(),
            theme: Theme::default(),
            identity: None,
            sync: None,
            error: None,
            identity_read: false,
            preferences_read: false,
            callbacks: AppContext {
                ui: Lang::default(),
                text_step: 0,
                theme: Theme::default(),
                identity: None,
                sync: None,
                navigate: link.callback(Msg::Navigate),
                toggle_language: link.callback(|()| Msg::ToggleLanguage),
                toggle_text_size: link.callback(|()| Msg::ToggleTextSize),
                toggle_theme: link.callback(|()| Msg::ToggleTheme),
                enrolled: link.callback(|identity| Msg::Identity(Ok(identity))),
                sync_now: link.callback(|()| Msg::SyncNow),
            },
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match &msg {
            Msg::Identity(_) => self.identity_read = true,
            Msg::Preferences(_) => self.preferences_read = true,
            _ => {}
        }
        match msg {
            Msg::Identity(Ok(identity)) => self.identity_loaded(identity),
            Msg::Preferences(Ok(preferences)) => {
                self.ui = preferences.language;
                self.theme = preferences.theme;
                self.text_size = preferences.text_size;
                show_theme(self.theme);
            }
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
            Msg::ToggleTextSize => self.toggle_text_size(ctx),
            Msg::ToggleTheme => self.toggle_theme(ctx),
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
        if !(self.identity_read && self.preferences_read) {
            // a moment at launch: the local database answers in milliseconds
            return html! {
                <main><p class="hint" id="starting">{ "正在打开… Opening…" }</p></main>
            };
        }
        let context = self.context();
        let screen = match &self.route {
            Route::Enrol => html! { <Enrol /> },
            Route::Home => html! { <Home /> },
            Route::Today => html! { <Today /> },
            Route::Surveyors => html! { <Surveyors /> },
            Route::MyInterviews => html! { <MyInterviews /> },
            Route::SyncLog => html! { <SyncLog /> },
            Route::Interview(opened) => html! { <Interview opened={Rc::clone(opened)} /> },
            Route::Quiz(start) => html! { <Quiz start={Rc::clone(start)} /> },
            Route::Backchecks => html! { <Backchecks /> },
        };
        html! {
            <main class={format!("text-{}", self.text_size.step())}>
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

    /// Larger, larger still, then back to normal; the device remembers it.
    fn toggle_text_size(&mut self, ctx: &Context<Self>) {
        self.text_size = self.text_size.next();
        let text_size = self.text_size;
        let failed = ctx.link().callback(Msg::Failed);
        wasm_bindgen_futures::spawn_local(async move {
            let args = api::SetTextSizeArgs { text_size };
            if let Err(e) = call::<api::SetTextSize>(args).await {
                failed.emit(e);
            }
        });
    }

    fn toggle_theme(&mut self, ctx: &Context<Self>) {
        self.theme = match self.theme {
            Theme::Standard => Theme::HighContrast,
            Theme::HighContrast => Theme::Standard,
        };
        show_theme(self.theme);
        let theme = self.theme;
        let failed = ctx.link().callback(Msg::Failed);
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = call::<api::SetTheme>(api::SetThemeArgs { theme }).await {
                failed.emit(e);
            }
        });
    }

    /// The context with this shell's state; its callbacks are made once, so screens are told
    /// of a change only when the state changed.
    fn context(&self) -> AppContext {
        AppContext {
            ui: self.ui,
            text_step: self.text_size.step(),
            theme: self.theme,
            identity: self.identity.clone(),
            sync: self.sync.clone(),
            ..self.callbacks.clone()
        }
    }
}

/// Puts the theme on the whole document (`<html class="theme-high_contrast">`), so the page
/// around the screen changes too.
fn show_theme(theme: Theme) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        root.set_class_name(&format!("theme-{}", theme.code()));
    }
}
