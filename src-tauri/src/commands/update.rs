//! Updates of the app from the server (issue 22): what is offered, and installing it. The sync
//! engine downloads and checks a newer version (`zhisu_sync::update`); installing replaces this
//! program's executable, never while an interview is in progress, and restarts the app. The
//! device's data stays where it is: the new version opens the same database.

use std::path::PathBuf;

use tauri::{AppHandle, Runtime, State};
use zhisu_app_api::{
    self as api, CommandError, ErrorCode, UpdateOffer, UpdateUnavailable, UpdateView,
};
use zhisu_sync::update::{this_platform, InstallError, Updater};

use super::Result;
use crate::error::internal;
use crate::AppState;

/// The program to replace, when it can be told.
fn this_program() -> Option<PathBuf> {
    std::env::current_exe().ok()
}

fn unavailable(updater: &Updater) -> Option<UpdateUnavailable> {
    if this_platform().is_none() {
        Some(UpdateUnavailable::Unsupported)
    } else if this_program().is_none_or(|exe| Updater::managed_install(&exe)) {
        Some(UpdateUnavailable::ManagedInstall)
    } else if !updater.has_keys() {
        Some(UpdateUnavailable::NoKey)
    } else {
        None
    }
}

#[tauri::command]
pub async fn update_status(state: State<'_, AppState>) -> Result<api::GetUpdateStatus> {
    let open_interviews = state
        .db
        .run(|store, _| Ok(store.state_counts()?.in_progress))
        .await?;
    let updater = std::sync::Arc::clone(&state.updater);
    let downloaded = tauri::async_runtime::spawn_blocking({
        let updater = std::sync::Arc::clone(&updater);
        move || updater.downloaded()
    })
    .await
    .map_err(internal)?;
    Ok(UpdateView {
        current_version: updater.current().to_string(),
        unavailable: unavailable(&updater),
        offered: downloaded.map(|d| UpdateOffer {
            version: d.version,
            notes_zh: d.notes_zh,
            notes_en: d.notes_en,
            ready: d.refused.is_none(),
            refused: d.refused,
        }),
        open_interviews,
    })
}

/// Installs the version downloaded, then (unless `ZHISU_UPDATE_NO_RELAUNCH` is set, as IT's
/// kiosk launcher or a test may) starts it and closes this app.
#[tauri::command]
pub async fn install_update<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<api::InstallUpdate> {
    let open = state
        .db
        .run(|store, _| Ok(store.state_counts()?.in_progress))
        .await?;
    if open > 0 {
        return Err(CommandError::new(
            ErrorCode::InterviewOpen,
            format!("{open} interview(s) in progress: finish or close them before updating"),
        ));
    }
    let exe = this_program().ok_or_else(|| {
        CommandError::new(
            ErrorCode::UpdateManaged,
            "this program's file cannot be found",
        )
    })?;
    let updater = std::sync::Arc::clone(&state.updater);
    let target = exe.clone();
    let installed = tauri::async_runtime::spawn_blocking(move || updater.install(&target))
        .await
        .map_err(internal)?
        .map_err(|e| {
            let code = match &e {
                InstallError::NothingReady => ErrorCode::UpdateNotReady,
                InstallError::Refused(_) => ErrorCode::UpdateRefused,
                InstallError::ManagedInstall(_) | InstallError::Unsupported => {
                    ErrorCode::UpdateManaged
                }
                InstallError::Io(_) => ErrorCode::UpdateFailed,
            };
            tracing::warn!(error = %e, "update not installed");
            CommandError::new(code, e.to_string())
        })?;
    tracing::info!(version = %installed.version, exe = %exe.display(), "update installed; restarting");
    let relaunch = std::env::var_os("ZHISU_UPDATE_NO_RELAUNCH").is_none();
    tauri::async_runtime::spawn(async move {
        // let the answer reach the screen first
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        if relaunch {
            if let Err(error) = std::process::Command::new(&exe)
                .args(std::env::args_os().skip(1))
                .spawn()
            {
                tracing::error!(%error, "the new version did not start; start the app again");
            }
        }
        app.exit(0);
    });
    Ok(installed.version)
}
