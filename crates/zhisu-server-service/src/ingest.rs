//! Taking in completed interviews: each one checked against the exact questionnaire version it
//! was answered with and re-scored (a device's score is never trusted), flagged when recorded
//! far from its site, then the batch stored in one transaction with a receipt per interview.

use chrono::{DateTime, Utc};
use zhisu_protocol::{codes, CompletedInterview, ContactOutcome, Receipt, ReceiptStatus};

use crate::storage::{Accepted, AcceptedContact, AcceptedPractice};
use crate::{Device, ServerState, StorageError};

fn rejected(interview: &CompletedInterview, code: &str, message: String) -> Receipt {
    Receipt {
        interview_id: interview.id,
        status: ReceiptStatus::Rejected,
        code: Some(code.to_string()),
        message: Some(message),
    }
}

/// Checks one interview against the protocol's limits and its questionnaire and scores it, or
/// says why it is rejected. A device clock that looks wrong flags it (`received_at`: now).
fn accept(
    state: &ServerState,
    interview: CompletedInterview,
    thresholds: &zhisu_core::QcThresholds,
    received_at: DateTime<Utc>,
) -> Result<Accepted, Receipt> {
    let problems = zhisu_protocol::limits::field_problems(&interview);
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(rejected(
            &interview,
            codes::INVALID_INTERVIEW,
            list.join("; "),
        ));
    }
    if let Err(mismatch) = interview.check_content_hash() {
        return Err(rejected(
            &interview,
            codes::CONTENT_HASH_MISMATCH,
            mismatch.to_string(),
        ));
    }
    let Some(published) = state.questionnaires.get(
        &interview.questionnaire_id,
        &interview.questionnaire_version,
    ) else {
        return Err(rejected(
            &interview,
            codes::UNKNOWN_QUESTIONNAIRE_VERSION,
            format!(
                "the server has no questionnaire {} version {}",
                interview.questionnaire_id, interview.questionnaire_version
            ),
        ));
    };
    let questionnaire = &published.questionnaire;
    let problems = questionnaire.check_interview(&interview.answers);
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(rejected(
            &interview,
            codes::INVALID_ANSWERS,
            list.join("; "),
        ));
    }
    let score = questionnaire.score(&interview.answers);
    let clock = zhisu_protocol::limits::clock_problem(&interview, received_at);
    let mut accepted = Accepted::with_thresholds(questionnaire, interview, score, thresholds);
    accepted
        .facts
        .qc_flags
        .retain(|f| f.code() != "device_clock");
    accepted.facts.qc_flags.extend(clock);
    Ok(accepted)
}

/// Where an interview's receipt comes from.
enum Slot {
    Decided(Receipt),
    Survey,
    Practice,
}

/// Checks, re-scores and stores a batch of interviews; one receipt per interview, in order.
/// Every interview is decided first (pure), then the accepted ones are stored in one
/// transaction: on error nothing of the batch is stored. Used by uploads and backup imports.
///
/// Practice interviews of surveyor training (`practice: true`, issue 24) are checked and
/// flagged the same way, then stored apart in their own table ([`crate::storage::PracticeStore`])
/// in a second transaction, never in the survey's: a failure there leaves the survey part
/// stored and the device sends the batch again, which the receipts make harmless.
pub fn ingest(
    state: &ServerState,
    interviews: Vec<CompletedInterview>,
    device: Option<&Device>,
) -> Result<Vec<Receipt>, StorageError> {
    let mut slots: Vec<Slot> = Vec::with_capacity(interviews.len());
    let mut accepted = Vec::new();
    let mut practice = Vec::new();
    let thresholds = match device {
        Some(d) => {
            state
                .storage
                .round_settings(&d.round)?
                .unwrap_or_default()
                .quality
        }
        None => zhisu_core::QcThresholds::default(),
    };
    let received_at = Utc::now();
    // erased at their respondent's request: acknowledged (the tablet stops sending), never
    // stored again
    let ids: Vec<uuid::Uuid> = interviews.iter().map(|i| i.id).collect();
    let erased = state.storage.erased(&ids)?;
    // a survey interview with the id of a stored practice interview is a conflict
    let survey_ids: Vec<uuid::Uuid> = interviews
        .iter()
        .filter(|i| !i.practice)
        .map(|i| i.id)
        .collect();
    let held_as_practice = state.storage.practice_ids(&survey_ids)?;
    for interview in interviews {
        if erased.contains(&interview.id) {
            slots.push(Slot::Decided(Receipt {
                interview_id: interview.id,
                status: ReceiptStatus::AlreadyStored,
                code: None,
                message: Some(
                    "erased at the respondent's request; it is not stored again".to_string(),
                ),
            }));
            continue;
        }
        if !interview.practice && held_as_practice.contains(&interview.id) {
            slots.push(Slot::Decided(Receipt {
                interview_id: interview.id,
                status: ReceiptStatus::Conflict,
                code: Some(codes::DIFFERENT_CONTENT.to_string()),
                message: Some(
                    "the server holds a practice interview with this id; the stored one is kept"
                        .to_string(),
                ),
            }));
            continue;
        }
        match accept(state, interview, &thresholds, received_at) {
            Ok(one) if one.interview.practice => {
                slots.push(Slot::Practice);
                practice.push(AcceptedPractice {
                    population: one.facts.population.clone(),
                    flags: one.facts.qc_flags,
                    interview: one.interview,
                    score: one.score,
                });
            }
            Ok(one) => {
                slots.push(Slot::Survey);
                accepted.push(one);
            }
            Err(receipt) => slots.push(Slot::Decided(receipt)),
        }
    }
    crate::plan::place_in_plan(state, device, &mut accepted)?;
    let stored = state.storage.ingest(&accepted, device, received_at)?;
    let practiced = state
        .storage
        .ingest_practice(&practice, device, received_at)?;
    let (mut stored, mut practiced) = (stored.into_iter(), practiced.into_iter());
    Ok(slots
        .into_iter()
        .map(|slot| match slot {
            Slot::Decided(receipt) => Some(receipt),
            Slot::Survey => stored.next(),
            Slot::Practice => practiced.next(),
        })
        .collect::<Option<Vec<_>>>()
        .expect("one stored receipt per accepted interview"))
}

/// Checks a contact (limits, the rules of its disposition, its content hash, its questionnaire
/// version) or says why it is rejected.
fn accept_contact(
    state: &ServerState,
    contact: ContactOutcome,
) -> Result<AcceptedContact, Receipt> {
    let refuse = |contact: &ContactOutcome, code: &str, message: String| Receipt {
        interview_id: contact.id,
        status: ReceiptStatus::Rejected,
        code: Some(code.to_string()),
        message: Some(message),
    };
    let problems = contact.field_problems();
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(refuse(&contact, codes::INVALID_INTERVIEW, list.join("; ")));
    }
    if !contact.hash_is_valid() {
        let expected = contact.compute_hash();
        return Err(refuse(
            &contact,
            codes::CONTENT_HASH_MISMATCH,
            format!(
                "the hash of the contact's canonical form differs: the server computed {expected} \
                 (RFC 8785 JSON of every field except content_hash, timestamps in UTC; \
                 docs/sync-protocol.md, \"Contact outcomes\")"
            ),
        ));
    }
    if state
        .questionnaires
        .get(&contact.questionnaire_id, &contact.questionnaire_version)
        .is_none()
    {
        let message = format!(
            "the server has no questionnaire {} version {}",
            contact.questionnaire_id, contact.questionnaire_version
        );
        return Err(refuse(
            &contact,
            codes::UNKNOWN_QUESTIONNAIRE_VERSION,
            message,
        ));
    }
    Ok(AcceptedContact {
        contact,
        site_district: None,
    })
}

/// Checks and stores the contacts of an upload (issue 15): one receipt per contact, in order;
/// the accepted ones are stored in one transaction, each counted in its site's district when
/// the sample plan has the site elsewhere (as interviews are), else the device's.
pub fn ingest_contacts(
    state: &ServerState,
    contacts: Vec<ContactOutcome>,
    device: Option<&Device>,
) -> Result<Vec<Receipt>, StorageError> {
    if contacts.is_empty() {
        return Ok(Vec::new());
    }
    let mut receipts: Vec<Option<Receipt>> = Vec::with_capacity(contacts.len());
    let mut accepted = Vec::new();
    for contact in contacts {
        match accept_contact(state, contact) {
            Ok(one) => {
                receipts.push(None);
                accepted.push(one);
            }
            Err(receipt) => receipts.push(Some(receipt)),
        }
    }
    if accepted.iter().any(|a| a.contact.site_id.is_some()) {
        let plan = state.storage.all_sites()?;
        for a in &mut accepted {
            let Some(site_id) = &a.contact.site_id else {
                continue;
            };
            let own = device.is_some_and(|d| {
                plan.iter()
                    .any(|s| &s.id == site_id && s.district == d.district)
            });
            if !own {
                if let Some(site) = plan.iter().find(|s| &s.id == site_id) {
                    a.site_district = Some(site.district.clone());
                }
            }
        }
    }
    let stored = state
        .storage
        .ingest_contacts(&accepted, device, Utc::now())?;
    let mut stored = stored.into_iter();
    Ok(receipts
        .into_iter()
        .map(|r| r.or_else(|| stored.next()))
        .collect::<Option<Vec<_>>>()
        .expect("one stored receipt per accepted contact"))
}
