//! The education library (issue 24): short pieces of plain Chinese per knowledge point, written
//! by the CDC in the dashboard, versioned (an edit adds a version; old ones are kept; every
//! change audited), delivered to tablets with the sync and shown on the public take-home page
//! and on printable handouts.
//!
//! A knowledge point is named by the id of the scored item that tests it
//! (`zhisu_protocol::library`). Who writes: city administrators ([`Role::may_write_library`]):
//! one library serves every district's tablets and the public page. Everyone signed in reads
//! it and prints handouts.
//!
//! The starter library (`library/starter.toml`, built into the binary) covers every scored item
//! of the bundled questionnaires; at every start the server adds its pieces whose id it does
//! not hold yet, so an edit made in the dashboard is never replaced.

use std::collections::BTreeSet;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use zhisu_core::Questionnaire;
use zhisu_protocol::library::{pieces_for, Library, LibraryPiece};
use zhisu_server_storage::{for_each_interview_page, Role, Scope, StoredPiece};

use crate::{AuditEntry, QuestionnaireRegistry, Refusal, ServerState, StorageError};

/// The starter library's file, as shipped.
pub const STARTER_LIBRARY: &str = include_str!("../../../library/starter.toml");

/// Who the starter library's pieces are written by.
pub const STARTER_AUTHOR: &str = "starter-library";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StarterFile {
    pieces: Vec<StarterPiece>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StarterPiece {
    id: String,
    points: Vec<String>,
    title: String,
    text: String,
    source: String,
}

/// The starter library's pieces (version 1 each), or what is wrong with the file.
pub fn starter_pieces() -> anyhow::Result<Vec<LibraryPiece>> {
    let file: StarterFile = toml::from_str(STARTER_LIBRARY)
        .map_err(|e| anyhow::anyhow!("library/starter.toml: {e}"))?;
    let mut ids = BTreeSet::new();
    let mut pieces = Vec::with_capacity(file.pieces.len());
    for p in file.pieces {
        let piece = LibraryPiece {
            id: p.id,
            version: 1,
            points: p.points,
            title: p.title.trim().to_string(),
            text: p.text.trim().to_string(),
            source: p.source.trim().to_string(),
            picture: None,
            audio: None,
        };
        let problems = piece.problems();
        if !problems.is_empty() {
            anyhow::bail!(
                "library/starter.toml: piece {}: {}",
                piece.id,
                problems.join("; ")
            );
        }
        if !ids.insert(piece.id.clone()) {
            anyhow::bail!("library/starter.toml: piece {} twice", piece.id);
        }
        pieces.push(piece);
    }
    Ok(pieces)
}

/// The scored items of `q` (its knowledge points) that no piece of `pieces` teaches.
pub fn points_without_piece(q: &Questionnaire, pieces: &[LibraryPiece]) -> Vec<String> {
    q.scored_items()
        .filter(|item| !pieces.iter().any(|p| p.points.contains(&item.id)))
        .map(|item| item.id.clone())
        .collect()
}

/// Every knowledge point the server's questionnaires ask: the scored items of every version.
pub fn knowledge_points(registry: &QuestionnaireRegistry) -> BTreeSet<String> {
    registry
        .refs()
        .iter()
        .filter_map(|r| registry.get(&r.id, &r.version))
        .flat_map(|p| {
            p.questionnaire
                .scored_items()
                .map(|i| i.id.clone())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A piece as a person writes it in the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PieceInput {
    pub id: String,
    /// Knowledge points (item ids), separated by commas, spaces or line breaks.
    pub points: String,
    pub title: String,
    pub text: String,
    pub source: String,
    /// A picture uploaded with this version (PNG, JPEG or WebP); without one, the previous
    /// version's picture is kept unless `remove_picture`.
    #[serde(default)]
    pub picture: Option<Vec<u8>>,
    /// What the picture shows, in plain words (a new description for a kept picture too).
    #[serde(default)]
    pub picture_alt: String,
    #[serde(default)]
    pub remove_picture: bool,
    /// The piece read aloud, uploaded with this version; kept from the previous version as the
    /// picture is.
    #[serde(default)]
    pub audio: Option<Vec<u8>>,
    #[serde(default)]
    pub remove_audio: bool,
}

impl PieceInput {
    /// The piece it describes (version 0 until kept), text with Windows line breaks made plain.
    pub fn piece(&self) -> LibraryPiece {
        let mut points: Vec<String> = Vec::new();
        for point in self
            .points
            .split(|c: char| c == ',' || c == '，' || c == '、' || c.is_whitespace())
            .filter(|p| !p.is_empty())
        {
            if !points.iter().any(|p| p == point) {
                points.push(point.to_string());
            }
        }
        LibraryPiece {
            id: self.id.trim().to_string(),
            version: 1,
            points,
            title: self.title.trim().to_string(),
            text: self.text.replace("\r\n", "\n").trim().to_string(),
            source: self.source.trim().to_string(),
            picture: None,
            audio: None,
        }
    }

    /// The picture and recording of the version `previous` is followed by (none for a new
    /// piece): what was uploaded, else the previous ones unless removed (a kept picture takes a
    /// new description when one is given). A file that is no picture or recording this knows is
    /// a problem in plain words.
    pub fn media(
        &self,
        previous: Option<&LibraryPiece>,
        problems: &mut Vec<String>,
    ) -> (
        Option<zhisu_protocol::library::PiecePicture>,
        Option<zhisu_protocol::library::PieceAudio>,
    ) {
        use zhisu_protocol::library::{PieceAudio, PiecePicture};
        let alt = self.picture_alt.trim();
        let picture = match (&self.picture, self.remove_picture) {
            (Some(bytes), _) => PiecePicture::new(bytes, alt).or_else(|| {
                problems.push("图片须是 PNG、JPEG 或 WebP 文件 (the picture must be a PNG, JPEG or WebP file)".into());
                None
            }),
            (None, true) => None,
            (None, false) => previous.and_then(|p| p.picture.clone()).map(|mut kept| {
                if !alt.is_empty() {
                    kept.alt = alt.to_string();
                }
                kept
            }),
        };
        let audio = match (&self.audio, self.remove_audio) {
            (Some(bytes), _) => PieceAudio::new(bytes).or_else(|| {
                problems.push("录音须是 MP3、M4A、Ogg、WebM 或 WAV 文件 (the recording must be an MP3, M4A, Ogg, WebM or WAV file)".into());
                None
            }),
            (None, true) => None,
            (None, false) => previous.and_then(|p| p.audio.clone()),
        };
        (picture, audio)
    }
}

/// What the interviews in a scope say the feedback page offered (`Paradata::material`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialCounts {
    /// Interviews in the scope.
    pub interviews: u64,
    /// Interviews whose feedback page showed wrong answers with their right answers.
    pub offered: u64,
    /// …of which the take-home QR code was shown.
    pub take_home_qr: u64,
    /// …of which at least one library piece was shown.
    pub with_pieces: u64,
}

/// The pieces a handout shows: for each point in order, its piece, once.
pub fn handout_pieces<'a>(
    pieces: &'a [LibraryPiece],
    points: &'a [String],
) -> Vec<&'a LibraryPiece> {
    pieces_for(pieces, points.iter().map(String::as_str))
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

impl ServerState {
    /// Adds the starter library's pieces whose id the server does not hold yet; how many.
    pub fn load_starter_library(&self) -> anyhow::Result<usize> {
        let now = Utc::now();
        let pieces: Vec<StoredPiece> = starter_pieces()?
            .into_iter()
            .map(|piece| StoredPiece {
                piece,
                written_by: STARTER_AUTHOR.into(),
                written_at: now,
            })
            .collect();
        let audit = AuditEntry::now(
            STARTER_AUTHOR,
            "load_library",
            "the starter library's pieces the server did not hold",
        );
        let kept = self.storage.put_pieces(&pieces, true, &audit)?;
        Ok(kept.iter().filter(|v| v.is_some()).count())
    }

    /// The newest version of every piece, by id.
    pub fn library(&self) -> Result<Vec<LibraryPiece>, StorageError> {
        Ok(self
            .storage
            .library()?
            .into_iter()
            .map(|s| s.piece)
            .collect())
    }

    /// What a tablet receives: the newest version of every piece and their digest.
    pub fn device_library(&self) -> Result<Library, StorageError> {
        Ok(Library::new(self.library()?))
    }

    /// The digest of what a tablet would receive (what every assignment carries), from the
    /// pieces' ids and versions only: no picture or recording is read.
    pub fn library_digest(&self) -> Result<String, StorageError> {
        let outline: Vec<LibraryPiece> = self
            .storage
            .library_outline()?
            .into_iter()
            .map(|s| s.piece)
            .collect();
        Ok(zhisu_protocol::library::library_digest(&outline))
    }

    /// The newest version of each piece that teaches one of `points` (the first, by id, that
    /// names it: [`pieces_for`]), whole: chosen from the outline, then only those read with
    /// their pictures and recordings.
    pub fn pieces_teaching(&self, points: &[String]) -> Result<Vec<LibraryPiece>, StorageError> {
        let outline: Vec<LibraryPiece> = self
            .storage
            .library_outline()?
            .into_iter()
            .map(|s| s.piece)
            .collect();
        let mut pieces = Vec::new();
        for (_, piece) in pieces_for(&outline, points.iter().map(String::as_str)) {
            if let Some(newest) = self.storage.piece_history(&piece.id)?.into_iter().next() {
                pieces.push(newest.piece);
            }
        }
        Ok(pieces)
    }

    /// What is wrong with `piece` (empty: it can be kept): the protocol's rules, and every
    /// point a scored item of a questionnaire the server holds.
    pub fn piece_problems(&self, piece: &LibraryPiece) -> Vec<String> {
        let mut problems = piece.problems();
        let known = knowledge_points(&self.questionnaires);
        let unknown: Vec<&str> = piece
            .points
            .iter()
            .filter(|p| !known.contains(*p))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            problems.push(format!(
                "points: {} is not a scored item of any questionnaire this server holds",
                unknown.join(", ")
            ));
        }
        problems
    }

    /// Keeps `input` as a new version of its piece (a new piece at version 1), audited;
    /// returns the version kept.
    pub fn save_piece(&self, role: &Role, input: &PieceInput, actor: &str) -> Result<u32, Refusal> {
        if !role.may_write_library() {
            return Err(Refusal::NotNow(
                "only a city administrator may write the education library".into(),
            ));
        }
        let mut piece = input.piece();
        let previous = self.storage.piece_history(&piece.id)?.into_iter().next();
        let mut problems = Vec::new();
        (piece.picture, piece.audio) =
            input.media(previous.as_ref().map(|p| &p.piece), &mut problems);
        problems.extend(self.piece_problems(&piece));
        if !problems.is_empty() {
            return Err(Refusal::Invalid(problems.join("; ")));
        }
        // the audit says what changed in words, not the picture's or recording's bytes
        let mut audited = piece.clone();
        for media in [
            audited.picture.as_mut().map(|p| &mut p.data),
            audited.audio.as_mut().map(|a| &mut a.data),
        ]
        .into_iter()
        .flatten()
        {
            *media = format!("{} bytes of base64", media.len());
        }
        let detail = format!(
            "{}: {}",
            piece.id,
            serde_json::to_string(&audited).unwrap_or_default()
        );
        let stored = StoredPiece {
            piece,
            written_by: actor.to_string(),
            written_at: Utc::now(),
        };
        let audit = AuditEntry::now(actor, "put_library_piece", detail);
        let versions = self
            .storage
            .put_pieces(std::slice::from_ref(&stored), false, &audit)?;
        versions
            .first()
            .copied()
            .flatten()
            .ok_or_else(|| Refusal::Storage(StorageError::Corrupt("no version kept".into())))
    }

    /// Counts what the feedback pages of the interviews in `scope` offered, read from each
    /// interview's paradata as uploaded.
    pub fn material_counts(&self, scope: &Scope) -> Result<MaterialCounts, StorageError> {
        let mut counts = MaterialCounts::default();
        for_each_interview_page(self.storage.as_ref(), scope, 500, &mut |page| {
            for stored in page {
                counts.interviews += 1;
                let material = stored
                    .interview
                    .paradata
                    .as_ref()
                    .and_then(|p| p.material.as_ref());
                if let Some(m) = material.filter(|m| m.points > 0) {
                    counts.offered += 1;
                    counts.take_home_qr += u64::from(m.take_home_qr);
                    counts.with_pieces += u64::from(!m.pieces.is_empty());
                }
            }
            true
        })?;
        Ok(counts)
    }
}
