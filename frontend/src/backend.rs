//! Calls into the Rust side of the app (Tauri commands). The types here mirror what
//! `src-tauri` returns; the two ship together, so they change together.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use zhisu_core::{AnswerValue, Questionnaire, ScoreReport};

#[wasm_bindgen]
extern "C" {
    // window.__TAURI__.core.invoke: present because tauri.conf.json sets app.withGlobalTauri.
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

/// The `{code, message}` every command fails with.
#[derive(Debug, Clone, Deserialize)]
pub struct CommandError {
    pub code: String,
    pub message: String,
}

impl CommandError {
    fn local(code: &str, message: impl Into<String>) -> Self {
        CommandError {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct StateCounts {
    pub in_progress: u64,
    pub waiting: u64,
    pub acknowledged: u64,
    pub rejected: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct SyncProgress {
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SyncStatus {
    pub online: Option<bool>,
    pub last_error: Option<String>,
    pub progress: Option<SyncProgress>,
    pub waiting_for_wifi: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SyncView {
    pub counts: StateCounts,
    pub status: SyncStatus,
    pub server_url: String,
}

async fn call<T: DeserializeOwned>(cmd: &str, args: impl Serialize) -> Result<T, CommandError> {
    let args = serde_wasm_bindgen::to_value(&args)
        .map_err(|e| CommandError::local("bad_arguments", e.to_string()))?;
    match tauri_invoke(cmd, args).await {
        Ok(value) => serde_wasm_bindgen::from_value(value)
            .map_err(|e| CommandError::local("bad_response", format!("{cmd}: {e}"))),
        Err(error) => Err(
            serde_wasm_bindgen::from_value(error.clone()).unwrap_or_else(|_| {
                CommandError::local(
                    "app_unavailable",
                    error.as_string().unwrap_or_else(|| format!("{error:?}")),
                )
            }),
        ),
    }
}

#[derive(Serialize)]
struct NoArgs {}

pub async fn questionnaire() -> Result<Questionnaire, CommandError> {
    call("questionnaire", NoArgs {}).await
}

pub async fn start_interview() -> Result<String, CommandError> {
    call("start_interview", NoArgs {}).await
}

pub async fn save_answer(
    interview_id: &str,
    item_id: &str,
    value: &AnswerValue,
) -> Result<(), CommandError> {
    #[derive(Serialize)]
    struct Args<'a> {
        interview_id: &'a str,
        item_id: &'a str,
        value: &'a AnswerValue,
    }
    call(
        "save_answer",
        Args {
            interview_id,
            item_id,
            value,
        },
    )
    .await
}

pub async fn complete_interview(interview_id: &str) -> Result<ScoreReport, CommandError> {
    #[derive(Serialize)]
    struct Args<'a> {
        interview_id: &'a str,
    }
    call("complete_interview", Args { interview_id }).await
}

pub async fn sync_status() -> Result<SyncView, CommandError> {
    call("sync_status", NoArgs {}).await
}

pub async fn sync_now() -> Result<(), CommandError> {
    call("sync_now", NoArgs {}).await
}
