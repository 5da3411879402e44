//! The education library: every version of every piece, the newest delivered.

use zhisu_server_storage::library::{LibraryStore, StoredPiece};
use zhisu_server_storage::zhisu_protocol::library::LibraryPiece;

use super::*;

const COLUMNS: &str =
    "id, version, points::text, title, body, source, written_by, written_at, media";
/// The columns but the pictures and recordings.
const OUTLINE: &str =
    "id, version, points::text, title, body, source, written_by, written_at, NULL::text";

fn stored(r: &postgres::Row) -> Result<StoredPiece, StorageError> {
    let id: String = r.get(0);
    let version: i32 = r.get(1);
    let version = u32::try_from(version)
        .map_err(|_| StorageError::Corrupt(format!("library piece {id}: version {version}")))?;
    let points: String = r.get(2);
    let points: Vec<String> = serde_json::from_str(&points)
        .map_err(|e| StorageError::Corrupt(format!("library piece {id}: points: {e}")))?;
    let mut piece = LibraryPiece {
        id,
        version,
        points,
        title: r.get(3),
        text: r.get(4),
        source: r.get(5),
        picture: None,
        audio: None,
    };
    zhisu_server_storage::library::set_media(&mut piece, r.get::<_, Option<&str>>(8))?;
    Ok(StoredPiece {
        piece,
        written_by: r.get(6),
        written_at: r.get(7),
    })
}

impl PostgresStorage {
    fn newest_pieces(&self, columns: &str) -> Result<Vec<StoredPiece>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                &format!(
                    "SELECT DISTINCT ON (id) {columns} FROM library_piece
                     ORDER BY id, version DESC"
                ),
                &[],
            )
            .map_err(db)?;
        rows.iter().map(stored).collect()
    }
}

impl LibraryStore for PostgresStorage {
    fn library(&self) -> Result<Vec<StoredPiece>, StorageError> {
        self.newest_pieces(COLUMNS)
    }

    fn library_outline(&self) -> Result<Vec<StoredPiece>, StorageError> {
        self.newest_pieces(OUTLINE)
    }

    fn piece_history(&self, id: &str) -> Result<Vec<StoredPiece>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                &format!("SELECT {COLUMNS} FROM library_piece WHERE id = $1 ORDER BY version DESC"),
                &[&id],
            )
            .map_err(db)?;
        rows.iter().map(stored).collect()
    }

    fn put_pieces(
        &self,
        pieces: &[StoredPiece],
        only_new: bool,
        audit: &AuditEntry,
    ) -> Result<Vec<Option<u32>>, StorageError> {
        self.audited(
            audit,
            |versions: &Vec<Option<u32>>| versions.iter().any(Option::is_some),
            |tx| {
                // one writer of the library at a time, so two edits cannot take one version
                tx.batch_execute("LOCK TABLE library_piece IN SHARE ROW EXCLUSIVE MODE")
                    .map_err(db)?;
                let mut versions = Vec::with_capacity(pieces.len());
                for stored in pieces {
                    let p = &stored.piece;
                    let newest: Option<i32> = tx
                        .query_one(
                            "SELECT max(version) FROM library_piece WHERE id = $1",
                            &[&p.id],
                        )
                        .map_err(db)?
                        .get(0);
                    if only_new && newest.is_some() {
                        versions.push(None);
                        continue;
                    }
                    let version = newest.unwrap_or(0) + 1;
                    let points = serde_json::to_string(&p.points).map_err(corrupt)?;
                    tx.execute(
                        "INSERT INTO library_piece (id, version, points, title, body, source,
                             written_by, written_at, media)
                         VALUES ($1, $2, $3::text::jsonb, $4, $5, $6, $7, $8, $9)",
                        &[
                            &p.id,
                            &version,
                            &points,
                            &p.title,
                            &p.text,
                            &p.source,
                            &stored.written_by,
                            &stored.written_at,
                            &zhisu_server_storage::library::media_column(p),
                        ],
                    )
                    .map_err(db)?;
                    versions.push(Some(u32::try_from(version).map_err(|_| {
                        StorageError::Corrupt(format!("library piece {}: version", p.id))
                    })?));
                }
                Ok(versions)
            },
        )
    }
}
