//! Quiz mode and outreach on the tablet (issue 24): quiz sessions played to the end, sealed
//! with their content hash and queued for the server in a queue of their own — never an
//! interview, so never in progress, quotas or the interview queue — and the district's events
//! and weak knowledge points as the assignment delivered them.
//!
//! ```text
//! keep_quiz_session ──► waiting ──receipt (stored, already_stored)──► acknowledged
//!                          │
//!                          └──receipt (conflict, rejected)──► rejected (code and message kept)
//! ```
//!
//! A quiz session leaves the queue only on a receipt committed here, so a lost answer or a
//! crash mid-upload sends it again, and the server's `already_stored` makes that harmless.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use uuid::Uuid;
use zhisu_core::Questionnaire;
use zhisu_protocol::{OutreachEvent, QuizItem, QuizSession, Receipt};

use crate::{from_json, timestamp, to_json, DeviceStore, StoreError};

/// A quiz played to the end, as the app hands it to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayedQuiz<'a> {
    pub id: Uuid,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub utc_offset_minutes: i32,
    /// The surveyor signed in, if any.
    pub signed_in: Option<&'a str>,
    pub event_id: Option<Uuid>,
    /// The items asked, in order, and whether each was answered right.
    pub items: Vec<zhisu_app_api::QuizAnswer>,
}

/// Quiz sessions on the tablet by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuizCounts {
    pub waiting: u32,
    pub acknowledged: u32,
    pub rejected: u32,
}

impl DeviceStore {
    /// Keeps a quiz played to the end with the site chosen and the surveyor signed in, sealed
    /// with its content hash, and queues it for the server, in one transaction. Every item must
    /// be a scored item of `questionnaire`, each once (the event is kept as given: one that
    /// left the assignment while the quiz ran is still the event it ran at). Keeping the same quiz again changes nothing; the same id with
    /// other content is refused ([`StoreError::QuizChanged`]).
    pub fn keep_quiz_session(
        &mut self,
        questionnaire: &Questionnaire,
        played: &PlayedQuiz<'_>,
    ) -> Result<QuizSession, StoreError> {
        for (n, item) in played.items.iter().enumerate() {
            let scored = questionnaire
                .item(&item.item)
                .is_some_and(|i| i.scoring.is_some());
            if !scored || played.items[..n].iter().any(|i| i.item == item.item) {
                return Err(StoreError::UnknownItem(item.item.clone()));
            }
        }
        if played.items.is_empty() {
            return Err(StoreError::UnknownItem(String::new()));
        }
        let missed: Vec<String> = played
            .items
            .iter()
            .filter(|a| !a.right)
            .map(|a| a.item.clone())
            .collect();
        let take_home_qr = self.offered_for_wrong(questionnaire, missed)?.take_home_qr;
        let session = QuizSession {
            id: played.id,
            questionnaire_id: questionnaire.id.clone(),
            questionnaire_version: questionnaire.version.clone(),
            started_at: played.started_at,
            ended_at: played.ended_at,
            utc_offset_minutes: played.utc_offset_minutes,
            site_id: self.current_site()?,
            event_id: played.event_id,
            surveyor_id: self.interview_surveyor(played.signed_in)?,
            items: played
                .items
                .iter()
                .map(|a| QuizItem {
                    item: a.item.clone(),
                    right: a.right,
                })
                .collect(),
            take_home_qr,
            content_hash: String::new(),
        }
        .sealed();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let kept: Option<String> = tx
            .query_row(
                "SELECT payload FROM quiz_session WHERE id = ?1",
                [session.id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(kept) = kept {
            // kept already (a second tap, a retry): the same quiz, whatever the clock says now
            let kept: QuizSession = from_json(&kept)?;
            let same = kept.questionnaire_id == session.questionnaire_id
                && kept.questionnaire_version == session.questionnaire_version
                && kept.started_at == session.started_at
                && kept.event_id == session.event_id
                && kept.items == session.items;
            return if same {
                Ok(kept)
            } else {
                Err(StoreError::QuizChanged(session.id))
            };
        }
        tx.execute(
            "INSERT INTO quiz_session (id, state, ended_at, payload, content_hash)
             VALUES (?1, 'waiting', ?2, ?3, ?4)",
            params![
                session.id.to_string(),
                timestamp(session.ended_at),
                to_json(&session),
                session.content_hash
            ],
        )?;
        tx.commit()?;
        Ok(session)
    }

    /// Up to `limit` quiz sessions waiting for the server, oldest first, exactly as sealed.
    pub fn waiting_quiz_sessions(&self, limit: usize) -> Result<Vec<QuizSession>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT payload FROM quiz_session WHERE state = 'waiting' ORDER BY ended_at, id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| r.get::<_, String>(0))?;
        rows.map(|row| from_json(&row?)).collect()
    }

    /// Applies the server's receipts for quiz sessions, in one transaction: `stored` and
    /// `already_stored` leave the queue acknowledged; `conflict` and `rejected` leave it
    /// rejected with the server's code and message. Receipts for sessions not waiting are
    /// ignored, so a replayed receipt is harmless. Returns how many left the queue.
    pub fn finish_quiz_upload(
        &mut self,
        receipts: &[Receipt],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        apply_receipts(&mut self.conn, "quiz_session", "id", receipts, now)
    }

    /// How many quiz sessions wait, were acknowledged and were rejected.
    pub fn quiz_counts(&self) -> Result<QuizCounts, StoreError> {
        let mut counts = QuizCounts::default();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT state, count(*) FROM quiz_session GROUP BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))?;
        for row in rows {
            match row? {
                (s, n) if s == "waiting" => counts.waiting = n,
                (s, n) if s == "acknowledged" => counts.acknowledged = n,
                (_, n) => counts.rejected += n,
            }
        }
        Ok(counts)
    }

    /// Keeps the district's events and the weak knowledge points the assignment delivered,
    /// replacing what was kept before.
    pub fn save_outreach(
        &mut self,
        events: &[OutreachEvent],
        weak_items: &BTreeMap<String, Vec<String>>,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM outreach_event", [])?;
        for event in events {
            tx.execute(
                "INSERT OR REPLACE INTO outreach_event (id, event) VALUES (?1, ?2)",
                params![event.id.to_string(), to_json(event)],
            )?;
        }
        tx.execute("DELETE FROM weak_item", [])?;
        for (questionnaire, items) in weak_items {
            for (position, item) in items.iter().enumerate() {
                tx.execute(
                    "INSERT OR REPLACE INTO weak_item (questionnaire_id, position, item_id) VALUES (?1, ?2, ?3)",
                    params![questionnaire, position as i64, item],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The district's events as delivered, newest first.
    pub fn outreach_events(&self) -> Result<Vec<OutreachEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT event FROM outreach_event")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut events: Vec<OutreachEvent> =
            rows.map(|row| from_json(&row?)).collect::<Result<_, _>>()?;
        events.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.place.cmp(&b.place)));
        Ok(events)
    }

    /// The weak knowledge points the server named for a questionnaire, weakest first.
    pub fn weak_items(&self, questionnaire_id: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT item_id FROM weak_item WHERE questionnaire_id = ?1 ORDER BY position",
        )?;
        let rows = stmt.query_map([questionnaire_id], |r| r.get::<_, String>(0))?;
        rows.map(|r| r.map_err(StoreError::from)).collect()
    }
}

/// Applies receipts to a queue of records uploaded once (quiz sessions, back-check results):
/// in `table`, the row whose `key` is the receipt's `interview_id` leaves `waiting` for
/// `acknowledged` (stored, already stored) or `rejected` with the server's code and message, in
/// one transaction; a receipt for a row not waiting changes nothing. How many left the queue.
pub(crate) fn apply_receipts(
    conn: &mut rusqlite::Connection,
    table: &str,
    key: &str,
    receipts: &[Receipt],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let changed = apply_receipts_in(&tx, table, key, receipts, now)?;
    tx.commit()?;
    Ok(changed)
}

/// [`apply_receipts`] within a transaction the caller commits (with its own further changes).
pub(crate) fn apply_receipts_in(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    key: &str,
    receipts: &[Receipt],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut changed = 0;
    for r in receipts {
        changed += if r.status.is_acknowledged() {
            tx.execute(
                &format!(
                    "UPDATE {table} SET state = 'acknowledged', acknowledged_at = ?2
                     WHERE {key} = ?1 AND state = 'waiting'"
                ),
                params![r.interview_id.to_string(), timestamp(now)],
            )?
        } else {
            tx.execute(
                &format!(
                    "UPDATE {table} SET state = 'rejected', sync_code = ?2, sync_message = ?3
                     WHERE {key} = ?1 AND state = 'waiting'"
                ),
                params![r.interview_id.to_string(), r.code, r.message],
            )?
        };
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use zhisu_protocol::{ReceiptStatus, Site};

    use super::*;

    fn pilot() -> Questionnaire {
        Questionnaire::from_toml(
            "pilot.toml",
            include_str!("../../../questionnaires/pilot.toml"),
        )
        .unwrap()
    }

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 8, minute, 0).unwrap()
    }

    fn played(n: u128, items: &[(&str, bool)]) -> PlayedQuiz<'static> {
        PlayedQuiz {
            id: Uuid::from_u128(n),
            started_at: at(0),
            ended_at: at(n as u32),
            utc_offset_minutes: 480,
            signed_in: Some("S01"),
            event_id: Some(Uuid::from_u128(900)),
            items: items
                .iter()
                .map(|(item, right)| zhisu_app_api::QuizAnswer {
                    item: item.to_string(),
                    right: *right,
                })
                .collect(),
        }
    }

    fn receipt(n: u128, status: ReceiptStatus) -> Receipt {
        Receipt {
            interview_id: Uuid::from_u128(n),
            status,
            code: (!status.is_acknowledged()).then(|| "different_content".to_string()),
            message: None,
        }
    }

    /// A quiz session is kept sealed, with the site and surveyor, in a queue of its own that
    /// leaves only on a committed receipt; it survives reopening the file; it is never an
    /// interview (not in the interview queue, the state counts or the site's progress).
    #[test]
    fn a_quiz_session_is_kept_queued_once_and_leaves_the_queue_on_its_receipt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.sqlite3");
        let q = pilot();
        let scored: Vec<&str> = q.scored_items().map(|i| i.id.as_str()).collect();
        {
            let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
            store
                .save_sites(&[Site {
                    id: "yz-001".into(),
                    district: "yuzhong".into(),
                    name: "菜园坝车站".into(),
                    site_type: "station".into(),
                    ..Default::default()
                }])
                .unwrap();
            store.choose_site("yz-001").unwrap();
            store.add_surveyor("S01", "张三", "1234", at(0)).unwrap();
            let first = played(1, &[(scored[0], true), (scored[1], false)]);
            let kept = store.keep_quiz_session(&q, &first).unwrap();
            assert!(kept.hash_is_valid());
            assert_eq!(
                (kept.site_id.as_deref(), kept.surveyor_id.as_deref()),
                (Some("yz-001"), Some("S01"))
            );
            assert_eq!(
                (kept.questionnaire_id.as_str(), kept.right()),
                (q.id.as_str(), 1)
            );
            // the same quiz again changes nothing, even ended later; other answers under its id
            // are refused
            assert_eq!(store.keep_quiz_session(&q, &first).unwrap(), kept);
            let later = PlayedQuiz {
                ended_at: at(30),
                ..first.clone()
            };
            assert_eq!(store.keep_quiz_session(&q, &later).unwrap(), kept);
            let changed = played(1, &[(scored[0], false), (scored[1], false)]);
            assert_eq!(
                store.keep_quiz_session(&q, &changed).unwrap_err().code(),
                "quiz_changed"
            );
            // only scored items, each once
            for bad in [
                played(2, &[("age", true)]),
                played(2, &[(scored[0], true), (scored[0], false)]),
                played(2, &[]),
            ] {
                assert_eq!(
                    store.keep_quiz_session(&q, &bad).unwrap_err().code(),
                    "unknown_item"
                );
            }
            store
                .keep_quiz_session(&q, &played(2, &[(scored[2], true)]))
                .unwrap();
        }
        let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
        let waiting = store.waiting_quiz_sessions(10).unwrap();
        assert_eq!(
            waiting.iter().map(|s| s.id).collect::<Vec<_>>(),
            [Uuid::from_u128(1), Uuid::from_u128(2)]
        );
        assert_eq!(store.waiting_quiz_sessions(1).unwrap().len(), 1);
        // not an interview
        assert!(store.waiting_uploads(10).unwrap().is_empty());
        assert_eq!(store.state_counts().unwrap().waiting, 0);
        assert!(store.interviews().unwrap().is_empty());
        assert_eq!(
            store.quiz_counts().unwrap(),
            QuizCounts {
                waiting: 2,
                acknowledged: 0,
                rejected: 0
            }
        );
        // receipts: acknowledged leaves, rejected leaves with its code, a stray one is ignored
        let receipts = [
            receipt(1, ReceiptStatus::AlreadyStored),
            receipt(2, ReceiptStatus::Conflict),
            receipt(3, ReceiptStatus::Stored),
        ];
        assert_eq!(store.finish_quiz_upload(&receipts, at(9)).unwrap(), 2);
        assert_eq!(store.finish_quiz_upload(&receipts, at(9)).unwrap(), 0);
        assert!(store.waiting_quiz_sessions(10).unwrap().is_empty());
        assert_eq!(
            store.quiz_counts().unwrap(),
            QuizCounts {
                waiting: 0,
                acknowledged: 1,
                rejected: 1
            }
        );
    }

    /// The take-home code is offered by the feedback page's rule (an item missed, the tablet
    /// enrolled with a server address) and sealed into the session; a quiz's questions come with
    /// the library's pieces held for them.
    #[test]
    fn a_quiz_seals_whether_its_take_home_code_was_offered_and_finds_its_pieces() {
        use zhisu_protocol::library::{Library, LibraryPiece};
        let mut store = DeviceStore::open_plain(std::path::Path::new(":memory:")).unwrap();
        let q = pilot();
        let scored: Vec<String> = q.scored_items().map(|i| i.id.clone()).collect();
        let missed = |n: u128| played(n, &[(&scored[0], true), (&scored[1], false)]);
        store.add_surveyor("S01", "张三", "1234", at(0)).unwrap();
        let kept = store.keep_quiz_session(&q, &missed(1)).unwrap();
        assert!(
            !kept.take_home_qr,
            "not enrolled: no server to take home from"
        );
        let enrolment = zhisu_protocol::Enrolment {
            device_id: Uuid::from_u128(5),
            token: "secret-token".into(),
            round: "2026".into(),
            district: "yuzhong".into(),
        };
        store
            .save_identity("http://server:8470/", "渝中 1 号", &enrolment, at(0))
            .unwrap();
        let kept = store.keep_quiz_session(&q, &missed(2)).unwrap();
        assert!(kept.take_home_qr && kept.hash_is_valid());
        assert_eq!(
            store.waiting_quiz_sessions(10).unwrap()[1],
            kept,
            "sealed as offered"
        );
        let all_right = played(3, &[(&scored[0], true), (&scored[1], true)]);
        assert!(
            !store
                .keep_quiz_session(&q, &all_right)
                .unwrap()
                .take_home_qr,
            "nothing missed, nothing to take home"
        );

        let piece = |id: &str, points: &[&str]| LibraryPiece {
            id: id.into(),
            version: 1,
            points: points.iter().map(|p| p.to_string()).collect(),
            title: format!("{id} 的道理"),
            text: "一段话。".into(),
            source: "《职业病防治法》".into(),
            picture: None,
            audio: None,
        };
        store
            .replace_library(&Library::new(vec![
                piece("b_second", &[&scored[0]]),
                piece("a_first", &[&scored[0], &scored[1]]),
                piece("c_other", &["not_asked"]),
            ]))
            .unwrap();
        let found = store.pieces_for_items(&scored[..2]).unwrap();
        assert_eq!(
            found.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["a_first"],
            "the first by id that names an item, once"
        );
        assert!(store.pieces_for_items(&[]).unwrap().is_empty());
    }

    #[test]
    fn events_and_weak_points_from_the_assignment_replace_the_earlier_ones() {
        let mut store = DeviceStore::open_plain(std::path::Path::new(":memory:")).unwrap();
        let event = |n: u128, day: u32| OutreachEvent {
            id: Uuid::from_u128(n),
            district: "yuzhong".into(),
            kind: "station".into(),
            place: format!("车站 {n}"),
            date: chrono::NaiveDate::from_ymd_opt(2026, 12, day).unwrap(),
            population: None,
            people_reached: 0,
            material: String::new(),
            items: Vec::new(),
        };
        let weak = BTreeMap::from([("ohl_pilot".to_string(), vec!["b".into(), "a".into()])]);
        store
            .save_outreach(&[event(1, 1), event(2, 3)], &weak)
            .unwrap();
        assert_eq!(
            store
                .outreach_events()
                .unwrap()
                .iter()
                .map(|e| e.id)
                .collect::<Vec<_>>(),
            [Uuid::from_u128(2), Uuid::from_u128(1)],
            "newest first"
        );
        assert_eq!(store.weak_items("ohl_pilot").unwrap(), ["b", "a"]);
        store
            .save_outreach(&[event(3, 2)], &BTreeMap::new())
            .unwrap();
        assert_eq!(store.outreach_events().unwrap().len(), 1);
        assert!(store.weak_items("ohl_pilot").unwrap().is_empty());
    }
}
