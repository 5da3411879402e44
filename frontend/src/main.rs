//! The surveyor's screens, in Yew, shown in the Tauri webview: an app shell (`app`: routing,
//! enrolment, the sync badge, language) and one module per screen (`screens`), calling the
//! native side through the typed commands of `zhisu-app-api` (`backend`). Never moves to the
//! next question before the answer's save has returned.

mod app;
mod backend;
mod context;
mod i18n;
mod screens;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
