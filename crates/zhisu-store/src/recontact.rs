//! Re-contact details for back-checks (复核, issue 15) on the tablet: the respondent's answer
//! to the feedback page's card "may a colleague phone you once?", kept apart from the
//! interview's answers (never in its payload, its content hash or its seal), in the encrypted
//! device database like every table.
//!
//! ```text
//! answer_recontact ─ no ─► declined (never sent; nothing to send)
//!        │
//!        yes ─► waiting ─(the interview's own receipt first)─► uploaded ─receipt─► acknowledged
//!                  │                                                    └────────► rejected
//!                  └─ the interview rejected or discarded ─► rejected
//! ```
//!
//! The phone number and how to address the respondent are deleted in the transaction that
//! leaves `waiting`: after the receipt the tablet no longer holds them. The yes or no and the
//! version of the card's words stay (no one is named by them).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use uuid::Uuid;
use zhisu_protocol::recontact::RecontactConsent;
use zhisu_protocol::Receipt;

use crate::{parse_timestamp, timestamp, DeviceStore, StoreError};

/// The re-contact answer of one interview as the tablet holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptRecontact {
    pub consent: bool,
    pub consent_text_version: String,
    /// `None` for a no, and once the server's receipt came.
    pub phone: Option<String>,
    pub call_name: Option<String>,
    /// `declined`, `waiting`, `acknowledged` or `rejected`.
    pub state: String,
    pub sync_code: Option<String>,
}

impl DeviceStore {
    /// Whether the feedback page of interview `id` asks the re-contact card: the round has
    /// back-checks, the interview was completed here (a real one, not practice, whose contact
    /// ended completed) and its respondent has not answered the card yet.
    pub fn asks_recontact(&self, id: Uuid) -> Result<bool, StoreError> {
        if self.round_settings()?.backcheck.is_none() {
            return Ok(false);
        }
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM interview i
                 WHERE i.id = ?1 AND i.practice = 0 AND i.disposition = 'completed'
                   AND i.state IN ('completed', 'queued', 'sent', 'acknowledged')
                   AND NOT EXISTS (SELECT 1 FROM recontact r WHERE r.interview_id = i.id)",
                [id.to_string()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Keeps the respondent's answer to the re-contact card of interview `id`: a no as it is
    /// (never sent), a yes with the phone number (digits only, [`zhisu_core::normalize_phone`])
    /// and how to address them, queued for the server. Only when [`Self::asks_recontact`]
    /// would (or the same answer again: nothing changes); another answer after the first is
    /// refused, the first kept.
    pub fn answer_recontact(
        &mut self,
        id: Uuid,
        consent: bool,
        phone: &str,
        call_name: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (phone, call_name) = if consent {
            let phone = zhisu_core::normalize_phone(phone).map_err(StoreError::BadPhone)?;
            let name = zhisu_core::normalize_call_name(call_name).ok_or(StoreError::BadCallName)?;
            (Some(phone), Some(name).filter(|n| !n.is_empty()))
        } else {
            (None, None)
        };
        if let Some(kept) = self.kept_recontact(id)? {
            // the same tap again (a second click, a retried call) changes nothing
            let same = kept.consent == consent
                && (kept.phone.is_none() && kept.state != "waiting"
                    || (kept.phone == phone && kept.call_name == call_name));
            return if same {
                Ok(())
            } else {
                Err(StoreError::RecontactAnswered(id))
            };
        }
        let exists = self
            .conn
            .query_row(
                "SELECT 1 FROM interview WHERE id = ?1",
                [id.to_string()],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !exists {
            return Err(StoreError::UnknownInterview(id));
        }
        if !self.asks_recontact(id)? {
            return Err(StoreError::RecontactNotAsked(id));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO recontact (interview_id, consent, consent_text_version, phone, call_name, answered_at, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id.to_string(),
                consent,
                zhisu_core::RECONTACT_TEXT_VERSION,
                phone,
                call_name,
                timestamp(now),
                if consent { "waiting" } else { "declined" },
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// What the tablet holds of interview `id`'s re-contact answer.
    pub fn kept_recontact(&self, id: Uuid) -> Result<Option<KeptRecontact>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT consent, consent_text_version, phone, call_name, state, sync_code
                 FROM recontact WHERE interview_id = ?1",
                [id.to_string()],
                |r| {
                    Ok(KeptRecontact {
                        consent: r.get(0)?,
                        consent_text_version: r.get(1)?,
                        phone: r.get(2)?,
                        call_name: r.get(3)?,
                        state: r.get(4)?,
                        sync_code: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    /// Up to `limit` yeses waiting for the server whose interview the server has already
    /// acknowledged (so the server holds the interview they belong to). Before listing, a yes
    /// whose interview was rejected or discarded leaves the queue with its number deleted:
    /// it can never be sent.
    pub fn waiting_recontacts(&self, limit: usize) -> Result<Vec<RecontactConsent>, StoreError> {
        self.conn.execute(
            "UPDATE recontact SET state = 'rejected', phone = NULL, call_name = NULL,
                 sync_code = 'interview_not_stored',
                 sync_message = 'the interview did not reach the server'
             WHERE state = 'waiting' AND interview_id IN
                 (SELECT id FROM interview WHERE state IN ('rejected', 'discarded'))",
            [],
        )?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.interview_id, r.phone, r.call_name, r.consent_text_version, r.answered_at
             FROM recontact r JOIN interview i ON i.id = r.interview_id
             WHERE r.state = 'waiting' AND i.state = 'acknowledged' AND r.phone IS NOT NULL
             ORDER BY r.interview_id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, phone, call_name, version, answered_at) = row?;
            out.push(RecontactConsent {
                interview_id: Uuid::parse_str(&id)
                    .map_err(|e| StoreError::Corrupt(format!("recontact id {id}: {e}")))?,
                phone,
                call_name: call_name.unwrap_or_default(),
                consent_text_version: version,
                answered_at: parse_timestamp(&answered_at)?,
            });
        }
        Ok(out)
    }

    /// Applies the server's receipts for re-contact details (a receipt's `interview_id` is the
    /// interview's) in one transaction, as for quiz sessions, and in the same transaction
    /// deletes the phone number and the form of address of every one no longer waiting: after
    /// the receipt the tablet holds neither. A lost receipt leaves them waiting, to be sent
    /// again (the server keeps them once). How many left the queue.
    pub fn finish_recontact_upload(
        &mut self,
        receipts: &[Receipt],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed =
            crate::outreach::apply_receipts_in(&tx, "recontact", "interview_id", receipts, now)?;
        tx.execute(
            "UPDATE recontact SET phone = NULL, call_name = NULL
             WHERE state IN ('acknowledged', 'rejected') AND (phone IS NOT NULL OR call_name IS NOT NULL)",
            [],
        )?;
        tx.commit()?;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use zhisu_core::{AnswerValue, Questionnaire};
    use zhisu_protocol::{BackcheckSettings, ReceiptStatus, RoundSettings};

    use super::*;
    use crate::NewInterview;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 8, minute, 0).unwrap()
    }

    fn pilot() -> Questionnaire {
        Questionnaire::from_toml(
            "pilot.toml",
            include_str!("../../../questionnaires/pilot.toml"),
        )
        .unwrap()
    }

    fn with_backchecks(store: &mut DeviceStore) {
        store
            .save_round_settings(&RoundSettings {
                backcheck: Some(BackcheckSettings {
                    share_percent: 5.0,
                    min_per_surveyor_week: 1,
                    items: vec!["age".into()],
                    fail_below_percent: 80,
                    numeric_tolerance: 0.0,
                }),
                ..Default::default()
            })
            .unwrap();
    }

    fn completed(store: &mut DeviceStore, q: &Questionnaire, n: u128) -> Uuid {
        let id = store
            .start_interview(q, &NewInterview::new(Uuid::from_u128(n), at(0), 480))
            .unwrap();
        for (item, value) in [
            ("age", AnswerValue::Integer(41)),
            ("employer_duty", AnswerValue::Bool(true)),
            ("noise", AnswerValue::Choice("earplugs".into())),
            (
                "confined_space",
                AnswerValue::Choices(vec!["ventilate".into(), "test_air".into()]),
            ),
        ] {
            store.save_answer(q, id, item, &value, at(1)).unwrap();
        }
        store.complete_interview(q, id, at(2)).unwrap();
        id
    }

    fn receipt(id: Uuid, status: ReceiptStatus) -> Receipt {
        Receipt {
            interview_id: id,
            status,
            code: None,
            message: None,
        }
    }

    /// The interview's own upload and receipt.
    fn interview_acknowledged(store: &mut DeviceStore, id: Uuid) {
        let attempt = store.begin_upload(10, "http://s", at(3)).unwrap().unwrap();
        store
            .finish_upload(&attempt, 200, &[receipt(id, ReceiptStatus::Stored)], at(4))
            .unwrap();
    }

    fn raw_phones(store: &DeviceStore) -> Vec<Option<String>> {
        let mut stmt = store
            .conn
            .prepare("SELECT phone FROM recontact ORDER BY interview_id")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn a_yes_waits_for_its_interview_leaves_once_with_its_receipt_and_takes_the_number_with_it() {
        let mut store = DeviceStore::open_plain(std::path::Path::new(":memory:")).unwrap();
        let q = pilot();
        let id = completed(&mut store, &q, 1);
        // no back-checks this round: the card is not asked
        assert!(!store.asks_recontact(id).unwrap());
        assert!(matches!(
            store.answer_recontact(id, true, "13800001234", "", at(3)),
            Err(StoreError::RecontactNotAsked(_))
        ));
        with_backchecks(&mut store);
        assert!(store.asks_recontact(id).unwrap());
        for (phone, problem) in [
            ("1380000123", zhisu_core::PhoneProblem::WrongLength),
            ("", zhisu_core::PhoneProblem::Empty),
        ] {
            let e = store
                .answer_recontact(id, true, phone, "", at(3))
                .unwrap_err();
            assert!(matches!(e, StoreError::BadPhone(p) if p == problem), "{e}");
            assert_eq!(e.code(), "bad_phone");
        }
        assert!(matches!(
            store.answer_recontact(id, true, "13800001234", &"王".repeat(20), at(3)),
            Err(StoreError::BadCallName)
        ));
        assert!(store.kept_recontact(id).unwrap().is_none(), "nothing kept");
        assert!(matches!(
            store.answer_recontact(Uuid::from_u128(99), true, "13800001234", "", at(3)),
            Err(StoreError::UnknownInterview(_))
        ));
        store
            .answer_recontact(id, true, "138 0000 1234", "王师傅", at(3))
            .unwrap();
        store
            .answer_recontact(id, true, "13800001234", "王师傅", at(3))
            .unwrap();
        assert!(matches!(
            store.answer_recontact(id, false, "", "", at(3)),
            Err(StoreError::RecontactAnswered(_))
        ));
        assert!(
            !store.asks_recontact(id).unwrap(),
            "answered: not asked again"
        );
        // apart from the answers: the interview's upload holds no number
        let upload = store.waiting_uploads(10).unwrap();
        assert_eq!(upload.len(), 1);
        assert!(!serde_json::to_string(&upload[0])
            .unwrap()
            .contains("13800001234"));
        // the interview has no receipt yet: nothing to send
        assert!(store.waiting_recontacts(10).unwrap().is_empty());
        interview_acknowledged(&mut store, id);
        let waiting = store.waiting_recontacts(10).unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].phone, "13800001234");
        assert_eq!(waiting[0].call_name, "王师傅");
        assert_eq!(
            waiting[0].consent_text_version,
            zhisu_core::RECONTACT_TEXT_VERSION
        );
        assert!(waiting[0].field_problems().is_empty());
        // the receipt is lost: the same is sent again, nothing doubled
        assert_eq!(store.finish_recontact_upload(&[], at(5)).unwrap(), 0);
        assert_eq!(store.waiting_recontacts(10).unwrap(), waiting);
        let stored = receipt(id, ReceiptStatus::AlreadyStored);
        assert_eq!(
            store
                .finish_recontact_upload(std::slice::from_ref(&stored), at(6))
                .unwrap(),
            1
        );
        assert_eq!(store.finish_recontact_upload(&[stored], at(7)).unwrap(), 0);
        assert!(store.waiting_recontacts(10).unwrap().is_empty());
        let kept = store.kept_recontact(id).unwrap().unwrap();
        assert_eq!(
            (
                kept.consent,
                kept.phone,
                kept.call_name,
                kept.state.as_str()
            ),
            (true, None, None, "acknowledged")
        );
        assert_eq!(raw_phones(&store), vec![None], "the number is gone");
        // the same tap again after the receipt changes nothing
        store
            .answer_recontact(id, true, "13800001234", "王师傅", at(8))
            .unwrap();
        assert_eq!(raw_phones(&store), vec![None]);
    }

    #[test]
    fn a_no_is_kept_and_never_sent_and_practice_is_not_asked() {
        let mut store = DeviceStore::open_plain(std::path::Path::new(":memory:")).unwrap();
        let q = pilot();
        with_backchecks(&mut store);
        let id = completed(&mut store, &q, 2);
        store.answer_recontact(id, false, "", "", at(3)).unwrap();
        interview_acknowledged(&mut store, id);
        assert!(store.waiting_recontacts(10).unwrap().is_empty());
        let kept = store.kept_recontact(id).unwrap().unwrap();
        assert_eq!((kept.consent, kept.state.as_str()), (false, "declined"));
        assert_eq!(
            kept.consent_text_version,
            zhisu_core::RECONTACT_TEXT_VERSION
        );
        let mut practice = NewInterview::new(Uuid::from_u128(3), at(0), 480);
        practice.practice = true;
        let p = store.start_interview(&q, &practice).unwrap();
        assert!(!store.asks_recontact(p).unwrap());
        // a yes whose interview the server rejects is never sent, its number deleted
        let rejected = completed(&mut store, &q, 4);
        store
            .answer_recontact(rejected, true, "023-12345678", "", at(3))
            .unwrap();
        let attempt = store.begin_upload(10, "http://s", at(3)).unwrap().unwrap();
        store
            .finish_upload(
                &attempt,
                200,
                &[receipt(rejected, ReceiptStatus::Rejected)],
                at(4),
            )
            .unwrap();
        assert!(store.waiting_recontacts(10).unwrap().is_empty());
        let kept = store.kept_recontact(rejected).unwrap().unwrap();
        assert_eq!((kept.state.as_str(), kept.phone), ("rejected", None));
    }
}
