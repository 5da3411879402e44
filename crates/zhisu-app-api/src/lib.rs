//! The app's webview boundary in one place: the name, the arguments and the result of every
//! command the webview invokes, and the one error type they fail with. `src-tauri` implements
//! the commands with these types and the frontend calls them with these types, so nothing that
//! crosses the boundary is written twice.
//!
//! Pure types: no I/O; builds for `wasm32-unknown-unknown`. The app and its webview ship
//! together, so these types may change freely (unlike `zhisu-protocol`).
#![forbid(unsafe_code)]

pub mod commands;
mod error;
mod views;

pub use commands::*;
pub use error::{CommandError, ErrorCode};
pub use views::*;
