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

/// The library's pieces, every version kept.
pub trait LibraryStore {
    /// The newest version of every piece, by id.
    fn library(&self) -> Result<Vec<StoredPiece>, StorageError>;

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
