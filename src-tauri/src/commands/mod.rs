//! The webview commands: each one's arguments and result are the `zhisu-app-api` types of the
//! command of the same name (`Args<C>`, `Result<C>`), so the shell and the frontend cannot
//! disagree. Every command is async; database work goes to the database thread (`db`).

pub mod device;
pub mod interview;
pub mod quiz;
pub mod surveyors;
pub mod update;

use zhisu_app_api::{Command, CommandError};

/// The arguments of command `C`.
pub type Args<C> = <C as Command>::Args;

/// What command `C` answers.
pub type Result<C> = std::result::Result<<C as Command>::Output, CommandError>;
