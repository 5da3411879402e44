//! Recordings of questionnaires read aloud: made or uploaded in the dashboard for every item's
//! question and answers of a questionnaire version, kept once per SHA-256, listed for devices
//! with the versions they receive, and what is still missing.

use chrono::Utc;
use zhisu_core::RecordingSlot;
use zhisu_protocol::{media_hash, AudioKind, RecordingListing, RecordingRef, MAX_RECORDING_BYTES};
use zhisu_server_storage::StoredRecording;

use crate::{AuditEntry, ServerState, StorageError};

/// Why a recording was not kept.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("there is no questionnaire {0} {1}")]
    UnknownQuestionnaire(String, String),
    #[error(
        "questionnaire {questionnaire} has no item '{item_id}' with an answer '{option}' to record"
    )]
    UnknownItem {
        questionnaire: String,
        item_id: String,
        option: String,
    },
    #[error("the file is not a recording the tablets can play (wav, ogg, webm, mp3, m4a)")]
    NotAudio,
    #[error("the recording is larger than {} MiB", MAX_RECORDING_BYTES / 1024 / 1024)]
    TooLarge,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// One place of a questionnaire version and its recording, when it has one.
#[derive(Debug, Clone)]
pub struct SlotState {
    pub slot: RecordingSlot,
    pub recording: Option<StoredRecording>,
}

impl ServerState {
    /// Keeps `bytes` as the recording of `option` (empty: the question) of item `item_id` of
    /// questionnaire `id` `version`, replacing the one before, with its audit entry. The kind is
    /// told by the first bytes, never by a file name.
    pub fn save_recording(
        &self,
        id: &str,
        version: &str,
        item_id: &str,
        option: &str,
        bytes: &[u8],
        actor: &str,
    ) -> Result<RecordingRef, RecordingError> {
        let published = self
            .questionnaires
            .get(id, version)
            .ok_or_else(|| RecordingError::UnknownQuestionnaire(id.into(), version.into()))?;
        if !published.questionnaire.is_recording_slot(item_id, option) {
            return Err(RecordingError::UnknownItem {
                questionnaire: format!("{id} {version}"),
                item_id: item_id.into(),
                option: option.into(),
            });
        }
        if bytes.len() as u64 > MAX_RECORDING_BYTES {
            return Err(RecordingError::TooLarge);
        }
        let kind = AudioKind::sniff(bytes).ok_or(RecordingError::NotAudio)?;
        let recording = StoredRecording {
            questionnaire_id: id.into(),
            version: version.into(),
            item_id: item_id.into(),
            option: option.into(),
            sha256: media_hash(bytes),
            size: bytes.len() as u64,
            kind: kind.name().into(),
            recorded_at: Utc::now(),
            recorded_by: actor.into(),
        };
        let place = if option.is_empty() {
            format!("{id} {version} {item_id}")
        } else {
            format!("{id} {version} {item_id} option {option}")
        };
        let audit = AuditEntry::now(
            actor,
            "save_recording",
            format!("{place}: {} ({} bytes)", recording.sha256, recording.size),
        );
        self.storage.put_recording(&recording, bytes, &audit)?;
        Ok(reference(&recording).expect("the kind was just sniffed"))
    }

    /// The recordings of the questionnaire versions a device of `round` receives.
    pub fn recording_listing(&self, round: &str) -> Result<RecordingListing, StorageError> {
        let versions = self.questionnaires.refs_for(Some(round));
        let recordings = self
            .storage
            .recordings(None)?
            .iter()
            .filter(|r| {
                versions
                    .iter()
                    .any(|v| v.id == r.questionnaire_id && v.version == r.version)
            })
            .filter_map(reference)
            .collect();
        Ok(RecordingListing { recordings })
    }

    /// Every place of a questionnaire version, in its order, with its recording when it has
    /// one; `None` when there is no such version.
    pub fn recording_slots(
        &self,
        id: &str,
        version: &str,
    ) -> Result<Option<Vec<SlotState>>, StorageError> {
        let Some(published) = self.questionnaires.get(id, version) else {
            return Ok(None);
        };
        let mut kept = self.storage.recordings(Some((id, version)))?;
        Ok(Some(
            published
                .questionnaire
                .recording_slots()
                .into_iter()
                .map(|slot| {
                    let at = kept
                        .iter()
                        .position(|r| r.item_id == slot.item_id && r.option == slot.option);
                    SlotState {
                        recording: at.map(|i| kept.swap_remove(i)),
                        slot,
                    }
                })
                .collect(),
        ))
    }

    /// The bytes with this SHA-256 and their kind.
    pub fn media(&self, sha256: &str) -> Result<Option<(AudioKind, Vec<u8>)>, StorageError> {
        let valid = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !valid {
            return Ok(None);
        }
        Ok(self
            .storage
            .media(sha256)?
            .and_then(|(kind, bytes)| AudioKind::from_name(&kind).map(|kind| (kind, bytes))))
    }
}

fn reference(r: &StoredRecording) -> Option<RecordingRef> {
    Some(RecordingRef {
        questionnaire_id: r.questionnaire_id.clone(),
        version: r.version.clone(),
        item_id: r.item_id.clone(),
        option: r.option.clone(),
        sha256: r.sha256.clone(),
        size: r.size,
        kind: AudioKind::from_name(&r.kind)?,
    })
}
