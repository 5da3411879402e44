//! Questionnaires and interviews: starting, answering, paradata, completing, discarding.

use std::sync::Arc;

use chrono::{Local, Utc};
use tauri::State;
use uuid::Uuid;
use zhisu_app_api::{self as api, CommandError, ErrorCode, StartedInterview};
use zhisu_core::Questionnaire;
use zhisu_store::{DeviceStore, TabletStart};

use super::{Args, Result};
use crate::error::{internal, Failure};
use crate::questionnaires::Catalogue;
use crate::{audio, search, AppState};

/// The questionnaire interview `id` was started with.
fn questionnaire_of(
    store: &DeviceStore,
    catalogue: &mut Catalogue,
    id: Uuid,
) -> std::result::Result<Arc<Questionnaire>, Failure> {
    let interview = store.interview(id)?;
    catalogue.get(
        &interview.questionnaire_id,
        &interview.questionnaire_version,
        store,
    )
}

#[tauri::command]
pub async fn questionnaires(state: State<'_, AppState>) -> Result<api::Questionnaires> {
    state
        .db
        .run(|store, catalogue| {
            catalogue.refresh(store)?;
            Ok(catalogue.latest())
        })
        .await
}

#[tauri::command]
pub async fn questionnaire(
    state: State<'_, AppState>,
    args: Args<api::GetQuestionnaire>,
) -> Result<api::GetQuestionnaire> {
    let q = state
        .db
        .run(move |store, c| c.get(&args.id, &args.version, store))
        .await?;
    Ok((*q).clone())
}

#[tauri::command]
pub async fn search_keys(
    state: State<'_, AppState>,
    args: Args<api::GetSearchKeys>,
) -> Result<api::GetSearchKeys> {
    let q = state
        .db
        .run(move |store, c| c.get(&args.id, &args.version, store))
        .await?;
    blocking(move || Ok(search::search_keys(&q))).await
}

#[tauri::command]
pub async fn item_audio(
    state: State<'_, AppState>,
    args: Args<api::ItemAudio>,
) -> Result<api::ItemAudio> {
    let media_dirs = state.media_dirs.clone();
    let found = state
        .db
        .run(move |store, catalogue| {
            let q = catalogue.get(&args.id, &args.version, store)?;
            if let Some((kind, bytes)) =
                store.recording(&args.id, &args.version, &args.item_id, &args.option)?
            {
                return Ok(Ok((kind, bytes)));
            }
            let named = q
                .item(&args.item_id)
                .and_then(|item| item.audio.clone())
                .filter(|_| args.option.is_empty());
            let Some(file) = named else {
                return Err(Failure::Command(CommandError::new(
                    ErrorCode::NoAudio,
                    format!("item '{}' has no recording here", args.item_id),
                )));
            };
            Ok(Err((
                file,
                catalogue.media_dirs(&args.id, &args.version, &media_dirs),
            )))
        })
        .await?;
    match found {
        Ok((kind, bytes)) => blocking(move || Ok(audio::delivered_data_url(&kind, &bytes))).await,
        Err((file, dirs)) => blocking(move || audio::data_url(&dirs, &file)).await,
    }
}

#[tauri::command]
pub async fn recorded_places(
    state: State<'_, AppState>,
    args: Args<api::RecordedPlaces>,
) -> Result<api::RecordedPlaces> {
    state
        .db
        .run(move |store, _| {
            Ok(store
                .recorded_places(&args.id, &args.version)?
                .into_iter()
                .map(|(item_id, option)| zhisu_core::RecordingSlot { item_id, option })
                .collect())
        })
        .await
}

#[tauri::command]
pub async fn item_image(
    state: State<'_, AppState>,
    args: Args<api::ItemImage>,
) -> Result<api::ItemImage> {
    let media_dirs = state.media_dirs.clone();
    let (file, dirs) = state
        .db
        .run(move |store, catalogue| {
            let q = catalogue.get(&args.id, &args.version, store)?;
            let Some(file) = q.item(&args.item_id).and_then(|item| item.image.clone()) else {
                return Err(Failure::Command(CommandError::new(
                    ErrorCode::NoPicture,
                    format!("item '{}' has no picture", args.item_id),
                )));
            };
            Ok((
                file,
                catalogue.media_dirs(&args.id, &args.version, &media_dirs),
            ))
        })
        .await?;
    blocking(move || crate::pictures::picture(&dirs, &file)).await
}

/// Starts an interview by the surveyor signed in, at the chosen site, in the language asked
/// for when the questionnaire has it.
#[tauri::command]
pub async fn start_interview(
    state: State<'_, AppState>,
    args: Args<api::StartInterview>,
) -> Result<api::StartInterview> {
    let signed_in = state.signed_in().map(|s| s.id);
    let utc_offset_minutes = Local::now().offset().local_minus_utc() / 60;
    let started = state
        .db
        .run(move |store, catalogue| {
            let q = catalogue.get(&args.id, &args.version, store)?;
            let start = TabletStart {
                id: Uuid::new_v4(),
                started_at: Utc::now(),
                utc_offset_minutes,
                signed_in: signed_in.as_deref(),
                language: args.language.as_deref(),
                practice: args.practice,
            };
            let new = store.start_interview_on_tablet(&q, &start)?;
            let language = q.interview_language(new.language.as_deref()).to_string();
            Ok(StartedInterview {
                id: new.id,
                language,
            })
        })
        .await?;
    tracing::info!(interview_id = %started.id, "interview started");
    Ok(started)
}

#[tauri::command]
pub async fn save_answer(
    state: State<'_, AppState>,
    args: Args<api::SaveAnswer>,
) -> Result<api::SaveAnswer> {
    state
        .db
        .run(move |store, catalogue| {
            let q = questionnaire_of(store, catalogue, args.interview_id)?;
            let (id, item, value) = (args.interview_id, &args.item_id, &args.value);
            Ok(store.save_answer(&q, id, item, value, Utc::now())?)
        })
        .await
}

#[tauri::command]
pub async fn screen_shown(
    state: State<'_, AppState>,
    args: Args<api::ScreenShown>,
) -> Result<api::ScreenShown> {
    state
        .db
        .run(move |store, _| Ok(store.screen_shown(args.interview_id, args.item_id.as_deref())?))
        .await
}

#[tauri::command]
pub async fn record_location(
    state: State<'_, AppState>,
    args: Args<api::RecordLocation>,
) -> Result<api::RecordLocation> {
    let api::RecordLocationArgs {
        interview_id,
        moment,
        fix,
    } = args;
    state
        .db
        .run(move |store, _| {
            let (lat, lon, accuracy) = (fix.latitude, fix.longitude, fix.accuracy_m);
            Ok(store.record_location(interview_id, moment, lat, lon, accuracy)?)
        })
        .await
}

#[tauri::command]
pub async fn quality_check(
    state: State<'_, AppState>,
    args: Args<api::QualityCheck>,
) -> Result<api::QualityCheck> {
    state
        .db
        .run(move |store, catalogue| {
            let q = questionnaire_of(store, catalogue, args.interview_id)?;
            let thresholds = store.round_settings()?.quality;
            Ok(store.paradata(&q, args.interview_id, &thresholds)?.flags)
        })
        .await
}

/// Whether the respondent may already have answered at this site today (same background
/// answers): a warning for the surveyor, never a block.
#[tauri::command]
pub async fn repeat_respondent(
    state: State<'_, AppState>,
    args: Args<api::RepeatRespondent>,
) -> Result<api::RepeatRespondent> {
    state
        .db
        .run(move |store, catalogue| {
            let q = questionnaire_of(store, catalogue, args.interview_id)?;
            Ok(store.repeat_respondent(&q, args.interview_id)?)
        })
        .await
}

#[tauri::command]
pub async fn complete_interview(
    state: State<'_, AppState>,
    args: Args<api::CompleteInterview>,
) -> Result<api::CompleteInterview> {
    let id = args.interview_id;
    let completion = state
        .db
        .run(move |store, catalogue| {
            let q = questionnaire_of(store, catalogue, id)?;
            let now = Utc::now();
            store.complete_interview(&q, id, now)?;
            // what the page shows is what the store kept for showing it again
            Ok(store.kept_feedback(id, now)?.completion)
        })
        .await?;
    tracing::info!(%id, "interview completed and queued");
    state.sync_trigger.notify_one();
    Ok(completion)
}

/// The respondent's answer to the feedback page's re-contact card (issue 15), kept apart from
/// the interview; a yes goes to the server after the interview, and its number then leaves
/// the tablet.
#[tauri::command]
pub async fn answer_recontact(
    state: State<'_, AppState>,
    args: Args<api::AnswerRecontact>,
) -> Result<api::AnswerRecontact> {
    let id = args.interview_id;
    state
        .db
        .run(move |store, _| {
            Ok(store.answer_recontact(
                id,
                args.consent,
                &args.phone,
                &args.call_name,
                Utc::now(),
            )?)
        })
        .await?;
    tracing::info!(%id, consent = args.consent, "re-contact answer kept");
    state.sync_trigger.notify_one();
    Ok(())
}

/// The feedback page of an interview completed here in the last day, again (after a crash, or
/// for a respondent who comes back for the QR code).
#[tauri::command]
pub async fn feedback_again(
    state: State<'_, AppState>,
    args: Args<api::FeedbackAgain>,
) -> Result<api::FeedbackAgain> {
    state
        .db
        .run(move |store, _| Ok(store.kept_feedback(args.interview_id, Utc::now())?))
        .await
}

#[tauri::command]
pub async fn interviews(state: State<'_, AppState>) -> Result<api::Interviews> {
    state
        .db
        .run(|store, _| {
            store.forget_old_feedback(Utc::now())?;
            Ok(store.interviews()?)
        })
        .await
}

#[tauri::command]
pub async fn interview_answers(
    state: State<'_, AppState>,
    args: Args<api::InterviewAnswers>,
) -> Result<api::InterviewAnswers> {
    state
        .db
        .run(move |store, _| Ok(store.answers(args.interview_id)?))
        .await
}

#[tauri::command]
pub async fn discard_interview(
    state: State<'_, AppState>,
    args: Args<api::DiscardInterview>,
) -> Result<api::DiscardInterview> {
    state
        .db
        .run(move |store, _| {
            Ok(store.discard_interview(args.interview_id, &args.reason, Utc::now())?)
        })
        .await
}

/// Ends an unfinished contact with its disposition (refused, not eligible, partial, other),
/// sealed and queued like a completed interview.
#[tauri::command]
pub async fn close_contact(
    state: State<'_, AppState>,
    args: Args<api::CloseContact>,
) -> Result<api::CloseContact> {
    let id = args.interview_id;
    let summary = state
        .db
        .run(move |store, catalogue| {
            let q = questionnaire_of(store, catalogue, id)?;
            store.close_contact(&q, id, args.disposition, &args.reason, Utc::now())?;
            Ok(store.interview(id)?)
        })
        .await?;
    tracing::info!(%id, disposition = ?summary.disposition, "contact closed and queued");
    state.sync_trigger.notify_one();
    Ok(summary)
}

/// CPU or file work that is not the database's, on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::result::Result<T, CommandError> + Send + 'static,
) -> std::result::Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(internal)?
}
