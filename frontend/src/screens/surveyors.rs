//! Who holds the tablet: choose a surveyor and type their PIN, or add one. Signing in (or
//! adding) goes back home.

use yew::prelude::*;
use zhisu_app_api::{self as api, AddSurveyorArgs, CommandError, SignInArgs, SurveyorsView};

use super::{home_button, typed};
use crate::backend::call;
use crate::context::{app_context, error_view, AppContext, Route};
use crate::i18n::{error_text, Words};

pub enum Msg {
    Context(AppContext),
    Loaded(Result<SurveyorsView, CommandError>),
    /// The answer to signing in or adding a surveyor: on success, back to the home screen.
    SignedIn(Result<SurveyorsView, CommandError>),
    Pick(String),
    Pin(String),
    SignIn,
    SignOut,
    /// The add-a-surveyor form: id, name, PIN.
    NewSurveyor(usize, String),
    Add,
}

pub struct Surveyors {
    app: AppContext,
    _context: ContextHandle<AppContext>,
    view: Option<SurveyorsView>,
    /// The surveyor whose PIN is being typed, and the PIN.
    pin_for: Option<String>,
    pin: String,
    /// The add-a-surveyor form: id, name, PIN.
    new_surveyor: [String; 3],
    busy: bool,
    error: Option<String>,
}

async fn load() -> Msg {
    Msg::Loaded(call::<api::GetSurveyors>(()).await)
}

impl Component for Surveyors {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        ctx.link().send_future(load());
        let (app, handle) = app_context(ctx, Msg::Context);
        Surveyors {
            app,
            _context: handle,
            view: None,
            pin_for: None,
            pin: String::new(),
            new_surveyor: Default::default(),
            busy: false,
            error: None,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Context(app) => self.app = app,
            Msg::Loaded(Ok(view)) => self.view = Some(view),
            Msg::Loaded(Err(e)) => self.error = Some(error_text(&e, self.app.ui)),
            Msg::SignedIn(result) => self.signed_in(result),
            Msg::Pick(id) => {
                self.pin_for = Some(id);
                self.pin.clear();
                self.error = None;
            }
            Msg::Pin(pin) => {
                self.pin = pin;
                self.error = None;
            }
            Msg::SignIn => {
                let Some(id) = self.pin_for.clone() else {
                    return false;
                };
                let pin = self.pin.clone();
                self.busy = true;
                ctx.link().send_future(async move {
                    Msg::SignedIn(call::<api::SignInSurveyor>(SignInArgs { id, pin }).await)
                });
            }
            Msg::SignOut => {
                ctx.link().send_future(async {
                    match call::<api::SignOutSurveyor>(()).await {
                        Ok(()) => load().await,
                        Err(e) => Msg::Loaded(Err(e)),
                    }
                });
                return false;
            }
            Msg::NewSurveyor(field, value) => {
                self.new_surveyor[field] = value;
                self.error = None;
            }
            Msg::Add => {
                let [id, name, pin] = self.new_surveyor.clone();
                self.busy = true;
                ctx.link().send_future(async move {
                    let args = AddSurveyorArgs { id, name, pin };
                    Msg::SignedIn(call::<api::AddSurveyor>(args).await)
                });
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let ui = self.app.ui;
        let current = self.view.as_ref().and_then(|v| v.current.as_ref());
        html! {
            <>
                <h1>{ ui.pick("调查员", "Surveyors") }</h1>
                if let Some(s) = current {
                    <div class="status">
                        <span id="signed-in">{ format!("{}{}（{}）", ui.pick("现在是：", "Signed in: "), s.name, s.id) }</span>
                        <button id="sign-out" onclick={link.callback(|_| Msg::SignOut)}>{ ui.pick("退出，交给别人", "Sign out and hand over") }</button>
                    </div>
                }
                { self.choose_view(ctx) }
                if self.view.as_ref().is_some_and(|v| v.from_server) {
                    <p id="surveyors-from-server" class="note">{ ui.pick(
                        "调查员由区里在系统里添加，联网同步后出现在这里。忘了 PIN，请找区里重设。",
                        "The district adds surveyors on the server; they appear here after a sync. Forgot your PIN? Ask the district to set a new one.") }</p>
                    if let Some(view) = self.view.as_ref().filter(|v| !v.retired.is_empty()) {
                        <p id="surveyors-retired" class="note">
                            { ui.pick("以前在这台平板上添加的调查员不能再登录：", "Surveyors added on this tablet before can no longer sign in: ") }
                            { view.retired.iter().map(|s| format!("{}（{}）", s.name, s.id)).collect::<Vec<_>>().join(ui.pick("、", ", ")) }
                            { ui.pick("。请用区里发来的名字和 PIN 登录；以前做的调查照样会上传。", ". Sign in with the name and PIN the district sent; their interviews still upload.") }
                        </p>
                    }
                } else {
                    <h2>{ ui.pick("添加调查员", "Add a surveyor") }</h2>
                    { self.field(ctx, "new-surveyor-id", ui.pick("调查员编号", "Surveyor id"), 0, false) }
                    { self.field(ctx, "new-surveyor-name", ui.pick("姓名", "Name"), 1, false) }
                    { self.field(ctx, "new-surveyor-pin", ui.pick("设一个 PIN（4 到 6 位数字）", "Choose a PIN (4 to 6 digits)"), 2, true) }
                    <button id="add-surveyor" disabled={self.busy} onclick={link.callback(|_| Msg::Add)}>{ ui.pick("添加", "Add") }</button>
                }
                if self.pin_for.is_none() {
                    { error_view(&self.error) }
                }
                <div class="nav">
                    { home_button(&self.app) }
                </div>
            </>
        }
    }
}

impl Surveyors {
    fn signed_in(&mut self, result: Result<SurveyorsView, CommandError>) {
        self.busy = false;
        self.pin.clear();
        match result {
            Ok(view) => {
                self.view = Some(view);
                self.app.navigate.emit(Route::Home);
            }
            Err(e) => self.error = Some(error_text(&e, self.app.ui)),
        }
    }

    /// The surveyors to choose from, and the PIN of the one chosen.
    fn choose_view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let ui = self.app.ui;
        let Some(view) = self.view.as_ref().filter(|v| !v.surveyors.is_empty()) else {
            return html! {};
        };
        html! {
            <>
                <h2>{ ui.pick("选择调查员", "Choose the surveyor") }</h2>
                <div class="choices" role="radiogroup">
                    { for view.surveyors.iter().map(|s| {
                        let id = s.id.clone();
                        let pressed = self.pin_for.as_deref() == Some(s.id.as_str());
                        html! {
                            <button class="choice" id={format!("surveyor-{}", s.id)} aria-pressed={pressed.to_string()}
                                onclick={link.callback(move |_| Msg::Pick(id.clone()))}>
                                { format!("{}（{}）", s.name, s.id) }
                            </button>
                        }
                    }) }
                </div>
                if self.pin_for.is_some() {
                    <label class="field">
                        <span>{ ui.pick("请输入 PIN（4 到 6 位数字）", "PIN (4 to 6 digits)") }</span>
                        <input id="pin" type="password" inputmode="numeric" autocomplete="off" maxlength="6"
                            value={self.pin.clone()} oninput={link.callback(|e| Msg::Pin(typed(e)))} />
                    </label>
                    <button id="sign-in" class="primary" disabled={self.busy} onclick={link.callback(|_| Msg::SignIn)}>{ ui.pick("确定", "Sign in") }</button>
                    // the message right under the PIN, where a phone shows it
                    { error_view(&self.error) }
                }
            </>
        }
    }

    fn field(
        &self,
        ctx: &Context<Self>,
        id: &'static str,
        label: &str,
        which: usize,
        secret: bool,
    ) -> Html {
        html! {
            <label class="field">
                <span>{ label.to_string() }</span>
                <input id={id} type={if secret { "password" } else { "text" }}
                    inputmode={if secret { "numeric" } else { "text" }} autocomplete="off"
                    value={self.new_surveyor[which].clone()}
                    oninput={ctx.link().callback(move |e| Msg::NewSurveyor(which, typed(e)))} />
            </label>
        }
    }
}
