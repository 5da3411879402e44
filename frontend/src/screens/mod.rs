//! One module per screen, each a component with its own state and messages.

mod backchecks;
mod enrol;
mod home;
pub mod interview;
mod my_interviews;
mod quiz;
mod surveyors;
mod sync_log;
mod today;

pub use backchecks::Backchecks;
pub use enrol::Enrol;
pub use home::Home;
pub use my_interviews::MyInterviews;
pub use quiz::Quiz;
pub use surveyors::Surveyors;
pub use sync_log::SyncLog;
pub use today::Today;

use web_sys::HtmlInputElement;
use yew::prelude::*;

/// What is typed in an input, for `oninput`.
pub fn typed(e: InputEvent) -> String {
    let input: HtmlInputElement = e.target_unchecked_into();
    input.value()
}

/// The "Home" button at the foot of a screen.
pub fn home_button(app: &crate::context::AppContext) -> Html {
    let home = app.navigate.reform(|_| crate::context::Route::Home);
    html! {
        <button id="home" class="primary" onclick={home}>{ crate::i18n::Words::pick(app.ui, "返回首页", "Home") }</button>
    }
}
