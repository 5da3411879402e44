//! The education library (issue 24): pieces of plain Chinese per knowledge point, each edit a
//! new version with the old ones kept (`zhisu_protocol::library` has the delivered form and
//! what a piece must satisfy).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zhisu_protocol::library::LibraryPiece;

use crate::{AuditEntry, StorageError};

/// One version of a piece as kept: what it says, who wrote it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPiece {
    pub piece: LibraryPiece,
    pub written_by: String,
    pub written_at: DateTime<Utc>,
}

/// A piece's picture and recording as a backend keeps them: one JSON column, `NULL` when the
/// piece has neither (every piece written before they existed).
#[derive(Debug, Default, Serialize, Deserialize)]
struct MediaColumn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    picture: Option<zhisu_protocol::library::PiecePicture>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    audio: Option<zhisu_protocol::library::PieceAudio>,
}

/// The `media` column of `piece`: `None` when it has no picture and no recording.
pub fn media_column(piece: &LibraryPiece) -> Option<String> {
    (piece.picture.is_some() || piece.audio.is_some()).then(|| {
        serde_json::to_string(&MediaColumn {
            picture: piece.picture.clone(),
            audio: piece.audio.clone(),
        })
        .expect("a piece's media serialise")
    })
}

/// Puts a `media` column read back into `piece`.
pub fn set_media(piece: &mut LibraryPiece, column: Option<&str>) -> Result<(), StorageError> {
    let media: MediaColumn = match column {
        None => MediaColumn::default(),
        Some(text) => serde_json::from_str(text).map_err(|e| {
            StorageError::Corrupt(format!("library piece {}: media: {e}", piece.id))
        })?,
    };
    piece.picture = media.picture;
    piece.audio = media.audio;
    Ok(())
}

/// The library's pieces, every version kept.
pub trait LibraryStore {
    /// The newest version of every piece, by id.
    fn library(&self) -> Result<Vec<StoredPiece>, StorageError>;

    /// As [`Self::library`] without the pictures and recordings (never read): what the
    /// digest, the lists and the choice of pieces need, at the cost of a few text rows.
    fn library_outline(&self) -> Result<Vec<StoredPiece>, StorageError>;

    /// Every version of one piece, newest first (empty: no such piece).
    fn piece_history(&self, id: &str) -> Result<Vec<StoredPiece>, StorageError>;

    /// Keeps each of `pieces` as a new version of its id (one more than the newest kept, 1 for a
    /// new id; the `version` given is ignored) in one transaction with the audit entry, and
    /// returns the versions given. With `only_new`, ids already kept are left as they are (and
    /// get `None`): how the starter library is loaded without undoing the CDC's edits; the
    /// audit entry is written only when something was kept.
    fn put_pieces(
        &self,
        pieces: &[StoredPiece],
        only_new: bool,
        audit: &AuditEntry,
    ) -> Result<Vec<Option<u32>>, StorageError>;
}
