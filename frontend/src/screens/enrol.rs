//! Enrolment: the server address, the one-time code (typed or read from a QR code picture) and
//! the tablet's name.

use yew::prelude::*;
use zhisu_app_api::{self as api, CommandError, EnrolArgs, IdentityView};

use super::typed;
use crate::backend::{self, call, mark_interactive_once};
use crate::context::{
    app_context, error_view, language_button, text_size_button, theme_button, AppContext,
};
use crate::i18n::{error_text, Words};

#[derive(Clone, Copy)]
pub enum Field {
    ServerUrl,
    Code,
    DeviceName,
}

pub enum Msg {
    Context(AppContext),
    Field(Field, String),
    Enrol,
    Enrolled(Result<IdentityView, CommandError>),
    /// The app's own "choose a picture" button was pressed.
    ChooseQrPicture,
    /// A picture of the enrolment code's QR code was chosen.
    QrPicture(web_sys::HtmlInputElement),
    QrRead(Result<Option<String>, CommandError>),
}

pub struct Enrol {
    app: AppContext,
    _context: ContextHandle<AppContext>,
    /// Server address, code, tablet name.
    form: [String; 3],
    /// The code in the form was read from a QR code picture.
    qr_read: bool,
    /// The server address in the form came with the code (an enrolment URI: QR code or pasted).
    server_from_uri: bool,
    /// The name of the picture chosen last.
    qr_file: Option<String>,
    /// The webview's file input, hidden: the app's own button opens it.
    qr_input: NodeRef,
    busy: bool,
    error: Option<String>,
}

impl Component for Enrol {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let (app, handle) = app_context(ctx, Msg::Context);
        let server = app.identity.as_ref().map(|i| i.default_server_url.clone());
        Enrol {
            form: [server.unwrap_or_default(), String::new(), String::new()],
            app,
            _context: handle,
            qr_read: false,
            server_from_uri: false,
            qr_file: None,
            qr_input: NodeRef::default(),
            busy: false,
            error: None,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let ui = self.app.ui;
        match msg {
            Msg::Context(app) => {
                if let (true, Some(identity)) = (self.form[0].is_empty(), &app.identity) {
                    self.form[0] = identity.default_server_url.clone();
                }
                self.app = app;
            }
            Msg::Field(field, value) => {
                if matches!(field, Field::Code) {
                    self.qr_read = false;
                }
                self.form[field as usize] = value;
                self.error = None;
                // an enrolment URI pasted into the code field: the server address and the code
                if matches!(field, Field::Code) {
                    self.take_uri();
                }
            }
            Msg::Enrol => return self.enrol(ctx),
            Msg::Enrolled(Ok(identity)) => {
                self.busy = false;
                self.app.enrolled.emit(identity);
            }
            Msg::Enrolled(Err(e)) => {
                self.busy = false;
                self.error = Some(error_text(&e, ui));
            }
            Msg::ChooseQrPicture => {
                if let Some(input) = self.qr_input.cast::<web_sys::HtmlInputElement>() {
                    input.click();
                }
                return false;
            }
            Msg::QrPicture(input) => {
                let path = input.value();
                let name = path.rsplit(['/', '\\']).next().unwrap_or_default();
                self.qr_file = Some(name.to_string()).filter(|n| !n.is_empty());
                self.busy = true;
                self.error = None;
                ctx.link().send_future(async move {
                    let result = backend::read_qr_code(&input).await;
                    input.set_value(""); // the same picture can be chosen again
                    Msg::QrRead(result)
                });
            }
            Msg::QrRead(result) => self.qr_read(result),
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let ui = self.app.ui;
        let field = |id: &'static str, label: &str, which: Field, placeholder: &str| {
            html! {
                <label class="field">
                    <span>{ label }</span>
                    <input id={id} type="text" placeholder={placeholder.to_string()}
                        value={self.form[which as usize].clone()}
                        oninput={link.callback(move |e| Msg::Field(which, typed(e)))} />
                </label>
            }
        };
        html! {
            <>
                { language_button(&self.app) }
                { theme_button(&self.app) }
                { text_size_button(&self.app, ui) }
                <h1>{ ui.pick("登记这台平板", "Enrol this tablet") }</h1>
                <p class="hint">{ ui.pick("第一次使用，请填写管理员给您的登记码。登记后，完成的答卷会自动上传到这个服务器。",
                    "First use: enter the code the administrator gave you. Once enrolled, completed interviews are uploaded to this server.") }</p>
                { field("server-url", ui.pick("服务器地址", "Server address"), Field::ServerUrl, "http://…") }
                { field("enrol-code", ui.pick("登记码", "Enrolment code"), Field::Code, ui.pick("例如 K7XM-3QPA", "e.g. K7XM-3QPA")) }
                <div class="field">
                    <span id="qr-label">{ ui.pick("或者：选一张登记码二维码的图片", "Or: choose a picture of the code's QR code") }</span>
                    // the webview's own file button speaks its own language (often English):
                    // it is hidden, and a button in the screen's language opens it
                    <div class="file-choice">
                        <button id="choose-qr" type="button" aria-describedby="qr-label qr-file-name" disabled={self.busy}
                            onclick={link.callback(|_| Msg::ChooseQrPicture)}>
                            <span aria-hidden="true">{ "🖼 " }</span>{ ui.pick("选择图片", "Choose a picture") }
                        </button>
                        <span id="qr-file-name" class="hint">{
                            self.qr_file.clone().unwrap_or_else(|| ui.pick("还没有选图片", "No picture chosen yet").to_string())
                        }</span>
                    </div>
                    <input id="qr-file" class="file-input" type="file" accept="image/*" tabindex="-1" aria-hidden="true"
                        disabled={self.busy} ref={self.qr_input.clone()}
                        onchange={link.callback(|e: Event| Msg::QrPicture(e.target_unchecked_into()))} />
                </div>
                if self.qr_read {
                    <p class="result-good" id="qr-result">{ ui.pick("已从二维码读出登记码。", "The code was read from the QR code.") }</p>
                }
                if self.server_from_uri {
                    <p class="result-good" id="uri-result">{ if self.qr_read {
                        ui.pick("服务器地址也已从二维码填好，请核对后点“登记”。",
                            "The server address was filled in from the QR code too: check it and press Enrol.")
                    } else {
                        ui.pick("服务器地址和登记码都已填好，请核对后点“登记”。",
                            "The server address and the code are filled in: check them and press Enrol.")
                    } }</p>
                }
                { field("device-name", ui.pick("平板名称", "Tablet name"), Field::DeviceName, ui.pick("例如 渝中区 3 号平板", "e.g. Yuzhong tablet 3")) }
                <button id="enrol" class="primary" disabled={self.busy} onclick={link.callback(|_| Msg::Enrol)}>
                    { if self.busy { ui.pick("正在登记……", "Enrolling…") } else { ui.pick("登记", "Enrol") } }
                </button>
                { error_view(&self.error) }
            </>
        }
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        // the first screen a surveyor can use on a tablet not yet enrolled
        mark_interactive_once();
    }
}

impl Enrol {
    fn enrol(&mut self, ctx: &Context<Self>) -> bool {
        let [server_url, code, device_name] = self.form.clone();
        if code.trim().is_empty() || device_name.trim().is_empty() {
            let text = self.app.ui.pick(
                "请填写登记码和平板名称。",
                "Fill in the enrolment code and the tablet's name.",
            );
            self.error = Some(text.to_string());
            return true;
        }
        self.busy = true;
        ctx.link().send_future(async move {
            let args = EnrolArgs {
                server_url,
                code,
                device_name,
            };
            Msg::Enrolled(call::<api::Enrol>(args).await)
        });
        true
    }

    /// When the code field holds an enrolment URI (docs/sync-protocol.md), puts its server
    /// address and its code in their fields.
    fn take_uri(&mut self) {
        match zhisu_core::enrol_uri::EnrolUri::parse(&self.form[Field::Code as usize]) {
            Some(uri) => {
                self.form[Field::ServerUrl as usize] = uri.server_url;
                self.form[Field::Code as usize] = uri.code;
                self.server_from_uri = true;
            }
            None => self.server_from_uri = false,
        }
    }

    fn qr_read(&mut self, result: Result<Option<String>, CommandError>) {
        self.busy = false;
        match result {
            Ok(Some(code)) => {
                self.form[Field::Code as usize] = code;
                self.qr_read = true;
                self.take_uri();
            }
            Ok(None) => {}
            Err(e) => {
                self.qr_read = false;
                self.error = Some(error_text(&e, self.app.ui));
            }
        }
    }
}
