//! Who holds the tablet: surveyors with their PINs. The one signed in is kept in memory only,
//! so a restarted app asks again; the wrong-PIN count is the store's.

use chrono::Utc;
use tauri::State;
use zhisu_app_api::{self as api, SurveyorsView};

use super::{Args, Result};
use crate::AppState;

#[tauri::command]
pub async fn surveyors(state: State<'_, AppState>) -> Result<api::GetSurveyors> {
    let (surveyors, from_server, retired) = state
        .db
        .run(|store, _| {
            Ok((
                store.surveyors()?,
                store.surveyors_from_server()?,
                store.retired_local_surveyors()?,
            ))
        })
        .await?;
    // someone signed in whom the last sync retired is signed out
    let current = state
        .signed_in()
        .filter(|s| surveyors.iter().any(|t| t.id == s.id));
    if current.is_none() {
        state.sign_in(None);
    }
    Ok(SurveyorsView {
        surveyors,
        current,
        from_server,
        retired,
    })
}

/// Adds a surveyor with a PIN of 4 to 6 digits, and signs them in.
#[tauri::command]
pub async fn add_surveyor(
    state: State<'_, AppState>,
    args: Args<api::AddSurveyor>,
) -> Result<api::AddSurveyor> {
    let added = state
        .db
        .run(move |store, _| Ok(store.add_surveyor(&args.id, &args.name, &args.pin, Utc::now())?))
        .await?;
    tracing::info!(surveyor = %added.id, "surveyor added");
    state.sign_in(Some(added));
    surveyors(state).await
}

/// Signs a surveyor in with their PIN; too many wrong PINs in a row pause sign-in.
#[tauri::command]
pub async fn sign_in_surveyor(
    state: State<'_, AppState>,
    args: Args<api::SignInSurveyor>,
) -> Result<api::SignInSurveyor> {
    let who = args.id.clone();
    let signed_in = state
        .db
        .run(move |store, _| Ok(store.sign_in_surveyor(&args.id, &args.pin, Utc::now())?))
        .await
        .inspect_err(|e| tracing::warn!(surveyor = %who, code = %e.code, "sign-in refused"))?;
    state.sign_in(Some(signed_in));
    surveyors(state).await
}

/// The surveyor hands the tablet over: nobody is signed in until the next PIN.
#[tauri::command]
pub async fn sign_out_surveyor(state: State<'_, AppState>) -> Result<api::SignOutSurveyor> {
    state.sign_in(None);
    Ok(())
}
