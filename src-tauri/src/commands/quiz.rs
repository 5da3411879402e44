//! Quiz mode (issue 24): the events to attach a quiz to, drawing a quiz with the shell's
//! randomness and clock (`zhisu_core::quiz` holds the rule and draws nothing), and keeping a
//! quiz played to the end as an outreach record for the server. Never an interview.

use chrono::{Local, Utc};
use tauri::State;
use uuid::Uuid;
use zhisu_app_api::{self as api, QuizEventView, QuizPlan, QuizSetupView, QuizSummary};
use zhisu_store::PlayedQuiz;

use super::{Args, Result};
use crate::AppState;

#[tauri::command]
pub async fn quiz_setup(
    state: State<'_, AppState>,
    args: Args<api::QuizSetup>,
) -> Result<api::QuizSetup> {
    state
        .db
        .run(move |store, catalogue| {
            catalogue.get(&args.id, &args.version, store)?;
            let counts = store.quiz_counts()?;
            Ok(QuizSetupView {
                events: store
                    .outreach_events()?
                    .into_iter()
                    .map(|e| QuizEventView {
                        id: e.id,
                        kind: e.kind,
                        place: e.place,
                        date: e.date.to_string(),
                    })
                    .collect(),
                has_weak_points: !store.weak_items(&args.id)?.is_empty(),
                waiting: counts.waiting,
                acknowledged: counts.acknowledged,
            })
        })
        .await
}

/// A random index below `n` from the OS generator (by way of a v4 UUID), for a fair draw.
fn random_below(n: usize) -> usize {
    (Uuid::new_v4().as_u128() % n.max(1) as u128) as usize
}

#[tauri::command]
pub async fn start_quiz(
    state: State<'_, AppState>,
    args: Args<api::StartQuiz>,
) -> Result<api::StartQuiz> {
    state
        .db
        .run(move |store, catalogue| {
            let q = catalogue.get(&args.id, &args.version, store)?;
            let weak = store.weak_items(&args.id)?;
            let items = zhisu_core::quiz::quiz_items(&q, &weak, args.whole, &mut random_below);
            let pieces = store.pieces_for_items(&items)?;
            Ok(QuizPlan {
                quiz_id: Uuid::new_v4(),
                started_at: Utc::now(),
                items,
                pieces: pieces.iter().map(zhisu_store::piece_view).collect(),
            })
        })
        .await
}

#[tauri::command]
pub async fn finish_quiz(
    state: State<'_, AppState>,
    args: Args<api::FinishQuiz>,
) -> Result<api::FinishQuiz> {
    let signed_in = state.signed_in().map(|s| s.id);
    let utc_offset_minutes = Local::now().offset().local_minus_utc() / 60;
    let summary = state
        .db
        .run(move |store, catalogue| {
            let q = catalogue.get(&args.id, &args.version, store)?;
            let played = PlayedQuiz {
                id: args.quiz_id,
                started_at: args.started_at,
                ended_at: Utc::now().max(args.started_at),
                utc_offset_minutes,
                signed_in: signed_in.as_deref(),
                event_id: args.event_id,
                items: args.items.clone(),
            };
            let kept = store.keep_quiz_session(&q, &played)?;
            Ok(QuizSummary {
                quiz_id: kept.id,
                right: kept.right() as u32,
                asked: kept.items.len() as u32,
                take_home_qr: kept.take_home_qr,
            })
        })
        .await?;
    tracing::info!(quiz_id = %summary.quiz_id, "quiz session kept");
    state.sync_trigger.notify_one();
    Ok(summary)
}

/// The back-checks (复核, issue 15) the signed-in surveyor may do on this tablet.
#[tauri::command]
pub async fn backchecks(state: State<'_, AppState>) -> Result<api::Backchecks> {
    let Some(surveyor) = state.signed_in().map(|s| s.id) else {
        return Ok(Vec::new());
    };
    state
        .db
        .run(move |store, _| {
            Ok(store
                .backchecks_for(&surveyor)?
                .into_iter()
                .map(|t| api::BackcheckView {
                    id: t.id,
                    questionnaire_id: t.questionnaire_id,
                    version: t.questionnaire_version,
                    items: t.items,
                    contact: t.contact,
                })
                .collect())
        })
        .await
}

/// Keeps a back-check by the signed-in surveyor and queues it for the server.
#[tauri::command]
pub async fn save_backcheck(
    state: State<'_, AppState>,
    args: Args<api::SaveBackcheck>,
) -> Result<api::SaveBackcheck> {
    let surveyor = state.signed_in().map(|s| s.id);
    state
        .db
        .run(move |store, catalogue| {
            let Some(surveyor) = surveyor else {
                return Err(zhisu_store::StoreError::SurveyorNeeded.into());
            };
            let Some(task) = store.backcheck_task(args.task_id)? else {
                return Err(zhisu_store::StoreError::UnknownBackcheck(args.task_id).into());
            };
            let (id, version) = (task.questionnaire_id, task.questionnaire_version);
            let q = catalogue.get(&id, &version, store)?;
            store.keep_backcheck(
                &q,
                args.task_id,
                &surveyor,
                args.reached,
                &args.answers,
                Utc::now(),
            )?;
            Ok(())
        })
        .await?;
    tracing::info!(task = %args.task_id, "back-check kept");
    state.sync_trigger.notify_one();
    Ok(())
}
