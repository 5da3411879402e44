//! The sync protocol's device endpoints: enrol, assignment, upload, questionnaires.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use zhisu_protocol::{
    codes, CompletedInterview, DeviceAssignment, EnrolRequest, Enrolment, QuestionnaireDownload,
    QuestionnaireListing, Receipt, ReceiptStatus, UploadRequest, UploadResponse,
    MAX_BATCH_INTERVIEWS,
};

use crate::error::{blocking, check_protocol, json_rejection, Failure};
use crate::extract::AuthedDevice;
use crate::HttpState;
use zhisu_server_service::outreach;

pub(super) async fn enrol(
    State(state): State<HttpState>,
    crate::extract::PeerAddress(address): crate::extract::PeerAddress,
    headers: HeaderMap,
    body: Result<Json<EnrolRequest>, JsonRejection>,
) -> Result<Json<Enrolment>, Failure> {
    check_protocol(&headers)?;
    if !state.enrol_guard.may_try(address, &state.storage).await? {
        tracing::warn!(address = ?address, "enrolment attempts throttled");
        return Err(Failure::new(
            StatusCode::TOO_MANY_REQUESTS,
            codes::RATE_LIMITED,
            "too many enrolment attempts; wait a minute and check the code with the administrator",
        ));
    }
    let Json(request) = body.map_err(json_rejection)?;
    let name = request.device_name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            "give the device a name of 1 to 100 characters",
        ));
    }
    let for_enrol = state.clone();
    let outcome = tokio::task::spawn_blocking(move || for_enrol.enrol(&request.code, &name))
        .await
        .map_err(Failure::internal)?
        .map_err(Failure::storage)?;
    match outcome {
        Ok(enrolment) => {
            state.metrics.enrolment();
            let audit_state = state.clone();
            let detail = format!(
                "device {} in {} ({})",
                enrolment.device_id, enrolment.district, enrolment.round
            );
            blocking(move || audit_state.audit("device", "enrol_device", &detail)).await?;
            Ok(Json(enrolment))
        }
        Err(refusal) => {
            state.enrol_guard.failed(&state.storage).await?;
            let (audit_state, detail) = (
                state.clone(),
                format!(
                    "from {}: {refusal}",
                    address.map_or("an unknown address".to_string(), |a| a.to_string())
                ),
            );
            blocking(move || audit_state.audit("device", "enrol_failed", &detail)).await?;
            Err(Failure::new(
                match refusal {
                    zhisu_server_service::EnrolRefusal::Unknown => StatusCode::NOT_FOUND,
                    zhisu_server_service::EnrolRefusal::Used
                    | zhisu_server_service::EnrolRefusal::Expired => StatusCode::GONE,
                },
                codes::INVALID_ENROLMENT_CODE,
                refusal.to_string(),
            ))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AssignmentQuery {
    /// Interviews waiting on the device, for the dashboard's view of the tablets.
    #[serde(default)]
    pub pending: Option<u32>,
}

pub(super) async fn assignment(
    State(state): State<HttpState>,
    AuthedDevice(device): AuthedDevice,
    axum::extract::Query(query): axum::extract::Query<AssignmentQuery>,
) -> Result<Json<DeviceAssignment>, Failure> {
    let storage = state.storage.clone();
    let district = device.district.clone();
    let round = device.round.clone();
    let device_id = device.id;
    let server = state.server.clone();
    let actor = format!("device {device_id}");
    let (sites, rejected, settings, events, weak_items, library, surveyors, backchecks) =
        blocking(move || {
            if let Some(pending) = query.pending {
                storage.note_pending(device_id, pending)?;
            }
            let today = chrono::Utc::now().date_naive();
            Ok::<_, crate::StorageError>((
                storage.sites(&district)?,
                storage.rejected_for_device(device_id)?,
                storage.round_settings(&round)?.unwrap_or_default(),
                outreach::events_for_tablets(&server, &district, today)?,
                outreach::weak_items_for_tablets(&server, &district, &round)?,
                server.library_digest()?,
                zhisu_server_service::surveyors::device_surveyors(&server, &district)?.digest,
                server.backchecks_for_device(&district, &round, &actor)?,
            ))
        })
        .await?;
    let round_key = state
        .round_keys
        .get(&device.round)
        .map(|key| key.public_key());
    Ok(Json(DeviceAssignment {
        device_id: device.id,
        round: device.round,
        district: device.district,
        sites,
        rejected,
        settings,
        round_key,
        events,
        weak_items,
        library: Some(library),
        backchecks,
        surveyors: Some(surveyors),
    }))
}

/// The district's surveyors managed on the server, for the device's district only (issue 15).
pub(super) async fn device_surveyors(
    State(state): State<HttpState>,
    AuthedDevice(device): AuthedDevice,
) -> Result<Json<zhisu_protocol::surveyors::SurveyorList>, Failure> {
    let server = state.server.clone();
    Ok(Json(
        blocking(move || {
            zhisu_server_service::surveyors::device_surveyors(&server, &device.district)
        })
        .await?,
    ))
}

/// An upload is read, checked and stored while it holds one of `max_concurrent_uploads`
/// permits; the others wait with their bodies unread, which bounds the server's memory
/// whatever the number of tablets draining a backlog at once.
pub(super) async fn upload(
    State(state): State<HttpState>,
    AuthedDevice(device): AuthedDevice,
    unread: axum::extract::Request,
) -> Result<Json<UploadResponse>, Failure> {
    // a large body weighs more: one permit per 128 KiB started, at most half of them, so
    // batches of 100 run four at a time and small batches eight (memory, BENCHMARKS.md P2)
    let total = state.upload_permits_total.max(1);
    let length = unread
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let weight = length.div_ceil(128 * 1024).clamp(1, (total / 2).max(1)) as u32;
    let _permit = state
        .upload_permits
        .clone()
        .acquire_many_owned(weight)
        .await
        .map_err(Failure::internal)?;
    let body = <Json<UploadRequest> as axum::extract::FromRequest<HttpState>>::from_request(
        unread, &state,
    )
    .await;
    let Json(request) = body.map_err(json_rejection)?;
    let records = request.interviews.len() + request.sealed.len() + request.contacts.len();
    if records > MAX_BATCH_INTERVIEWS {
        return Err(Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::BATCH_TOO_LARGE,
            format!(
                "at most {MAX_BATCH_INTERVIEWS} interviews and contacts per request; this one had {records}"
            ),
        ));
    }
    let mut request = request;
    let contacts = std::mem::take(&mut request.contacts);
    let (interviews, unreadable) = open_sealed(&state, request)?;
    let state_for_ingest = state.clone();
    let receipts = tokio::task::spawn_blocking(move || {
        // the interviews in one transaction, then the contacts in another: a failure between
        // the two answers 5xx and the device sends both again (already_stored, stored)
        let mut receipts =
            zhisu_server_service::ingest::ingest(&state_for_ingest, interviews, Some(&device))?;
        // a sealed interview that did not open keeps its place in the order sent
        for (position, receipt) in unreadable {
            receipts.insert(position.min(receipts.len()), receipt);
        }
        receipts.extend(zhisu_server_service::ingest::ingest_contacts(
            &state_for_ingest,
            contacts,
            Some(&device),
        )?);
        Ok::<_, zhisu_server_service::StorageError>(receipts)
    })
    .await
    .map_err(Failure::internal)?
    .map_err(Failure::storage)?;
    for receipt in &receipts {
        state.metrics.receipt(receipt.status);
    }
    Ok(Json(UploadResponse { receipts }))
}

/// A receipt with its place among the receipts of a request.
type PlacedReceipt = (usize, Receipt);

/// The plain interviews of an upload followed by its sealed ones opened with the round keys,
/// and a `rejected` receipt (with its place among the receipts) for each sealed one that does
/// not open. Sealed to a key this server does not hold: the whole request is refused with 503,
/// so the device keeps the interview and tries again when the key is back.
fn open_sealed(
    state: &HttpState,
    request: UploadRequest,
) -> Result<(Vec<CompletedInterview>, Vec<PlacedReceipt>), Failure> {
    let mut interviews = request.interviews;
    let plain = interviews.len();
    let mut unreadable = Vec::new();
    for (n, sealed) in request.sealed.iter().enumerate() {
        let Some(key) = state.round_keys.get(&sealed.key_id) else {
            return Err(Failure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::ROUND_KEY_MISSING,
                format!(
                    "interview {} is sealed to the key '{}', which this server does not hold; \
                     nothing was stored",
                    sealed.id, sealed.key_id
                ),
            ));
        };
        match key.open(sealed) {
            Ok(interview) => interviews.push(interview),
            Err(error) => unreadable.push((
                plain + n,
                Receipt {
                    interview_id: sealed.id,
                    status: ReceiptStatus::Rejected,
                    code: Some(codes::SEALED_UNREADABLE.into()),
                    message: Some(error.to_string()),
                },
            )),
        }
    }
    Ok((interviews, unreadable))
}

pub(super) async fn list_questionnaires(
    State(state): State<HttpState>,
    AuthedDevice(device): AuthedDevice,
) -> Result<Json<QuestionnaireListing>, Failure> {
    Ok(Json(QuestionnaireListing {
        questionnaires: state.questionnaires.refs_for(Some(&device.round)),
    }))
}

pub(super) async fn download_questionnaire(
    State(state): State<HttpState>,
    _device: AuthedDevice,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<QuestionnaireDownload>, Failure> {
    state
        .questionnaires
        .download(&id, &version)
        .map(Json)
        .ok_or_else(|| {
            Failure::new(
                StatusCode::NOT_FOUND,
                codes::UNKNOWN_QUESTIONNAIRE_VERSION,
                format!("the server publishes no questionnaire {id} version {version}"),
            )
        })
}
