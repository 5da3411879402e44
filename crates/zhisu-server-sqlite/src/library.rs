//! The education library: every version of every piece, the newest delivered.

use zhisu_server_storage::library::{LibraryStore, StoredPiece};
use zhisu_server_storage::zhisu_protocol::library::LibraryPiece;

use super::*;

const COLUMNS: &str = "id, version, points, title, body, source, written_by, written_at, media";
/// The columns but the pictures and recordings.
const OUTLINE: &str = "id, version, points, title, body, source, written_by, written_at, NULL";

type Row = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

fn piece_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn stored(
    (id, version, points, title, text, source, by, at, media): Row,
) -> Result<StoredPiece, StorageError> {
    let version = u32::try_from(version)
        .map_err(|_| StorageError::Corrupt(format!("library piece {id}: version {version}")))?;
    let points: Vec<String> = serde_json::from_str(&points)
        .map_err(|e| StorageError::Corrupt(format!("library piece {id}: points: {e}")))?;
    let mut piece = LibraryPiece {
        id,
        version,
        points,
        title,
        text,
        source,
        picture: None,
        audio: None,
    };
    zhisu_server_storage::library::set_media(&mut piece, media.as_deref())?;
    Ok(StoredPiece {
        piece,
        written_by: by,
        written_at: parse_time(&at)?,
    })
}

impl SqliteStorage {
    fn newest_pieces(&self, columns: &str) -> Result<Vec<StoredPiece>, StorageError> {
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {columns} FROM library_piece p
                 WHERE version = (SELECT max(version) FROM library_piece WHERE id = p.id)
                 ORDER BY id"
            ))
            .map_err(db)?;
        let rows = stmt.query_map([], piece_of).map_err(db)?;
        rows.map(|row| stored(row.map_err(db)?)).collect()
    }
}

impl LibraryStore for SqliteStorage {
    fn library(&self) -> Result<Vec<StoredPiece>, StorageError> {
        self.newest_pieces(COLUMNS)
    }

    fn library_outline(&self) -> Result<Vec<StoredPiece>, StorageError> {
        self.newest_pieces(OUTLINE)
    }

    fn piece_history(&self, id: &str) -> Result<Vec<StoredPiece>, StorageError> {
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM library_piece WHERE id = ?1 ORDER BY version DESC"
            ))
            .map_err(db)?;
        let rows = stmt.query_map([id], piece_of).map_err(db)?;
        rows.map(|row| stored(row.map_err(db)?)).collect()
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
            |conn| {
                let mut versions = Vec::with_capacity(pieces.len());
                for stored in pieces {
                    let p = &stored.piece;
                    let newest: Option<i64> = conn
                        .query_row(
                            "SELECT max(version) FROM library_piece WHERE id = ?1",
                            [&p.id],
                            |r| r.get(0),
                        )
                        .map_err(db)?;
                    if only_new && newest.is_some() {
                        versions.push(None);
                        continue;
                    }
                    let version = newest.unwrap_or(0) + 1;
                    let points = serde_json::to_string(&p.points).map_err(corrupt)?;
                    conn.execute(
                        &format!(
                            "INSERT INTO library_piece ({COLUMNS})
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                        ),
                        params![
                            p.id,
                            version,
                            points,
                            p.title,
                            p.text,
                            p.source,
                            stored.written_by,
                            timestamp(stored.written_at),
                            zhisu_server_storage::library::media_column(p),
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
