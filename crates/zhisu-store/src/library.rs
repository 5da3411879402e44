//! The education library delivered by the server (issue 24): the newest version of each piece,
//! replaced whole when the assignment's digest says the server holds another, and read by the
//! feedback page offline. What the feedback page offers is decided here too, once, so that the
//! page and the paradata sealed into the interview cannot disagree.

use rusqlite::params;
use zhisu_core::Questionnaire;
use zhisu_protocol::library::{library_digest, pieces_for, Library, LibraryPiece};

use crate::{from_json, to_json, DeviceStore, StoreError};

/// What the feedback page offers after an interview: the wrong scored items (in the
/// questionnaire's order), the take-home QR code, and the library pieces for those items.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Offered {
    pub wrong: Vec<String>,
    pub take_home_qr: bool,
    pub pieces: Vec<LibraryPiece>,
}

impl Offered {
    /// As the interview's paradata records it; `None` when nothing was offered.
    pub fn material(&self) -> Option<zhisu_core::MaterialOffered> {
        (!self.wrong.is_empty()).then(|| zhisu_core::MaterialOffered {
            points: u32::try_from(self.wrong.len()).unwrap_or(u32::MAX),
            take_home_qr: self.take_home_qr,
            pieces: self.pieces.iter().map(|p| p.id.clone()).collect(),
        })
    }

    /// The pieces as the webview shows them.
    pub fn view(&self) -> Vec<zhisu_app_api::LibraryPiece> {
        self.pieces.iter().map(piece_view).collect()
    }
}

/// A piece as the webview shows it.
pub fn piece_view(p: &LibraryPiece) -> zhisu_app_api::LibraryPiece {
    zhisu_app_api::LibraryPiece {
        id: p.id.clone(),
        version: p.version,
        points: p.points.clone(),
        title: p.title.clone(),
        text: p.text.clone(),
        source: p.source.clone(),
        picture: p
            .picture
            .as_ref()
            .map(|picture| zhisu_app_api::PictureView {
                url: picture.data_url(),
                alt: picture.alt.clone(),
            }),
        audio_url: p.audio.as_ref().map(|a| a.data_url()),
    }
}

/// What the `media` column holds: the piece's picture and recording, `NULL` for neither.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct MediaColumn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    picture: Option<zhisu_protocol::library::PiecePicture>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    audio: Option<zhisu_protocol::library::PieceAudio>,
}

impl DeviceStore {
    /// The pieces held for `items` (a quiz's questions, so each wrong answer can open its piece
    /// offline): the first, by id, that names each, once each.
    pub fn pieces_for_items(&self, items: &[String]) -> Result<Vec<LibraryPiece>, StoreError> {
        let library = self.library()?;
        Ok(pieces_for(&library, items.iter().map(String::as_str))
            .into_iter()
            .map(|(_, p)| p.clone())
            .collect())
    }

    /// The pieces held, by id.
    pub fn library(&self) -> Result<Vec<LibraryPiece>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, version, points, title, body, source, media FROM library_piece ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        rows.map(|row| {
            let (id, version, points, title, text, source, media) = row?;
            let media: MediaColumn = match media {
                Some(media) => from_json(&media)?,
                None => MediaColumn::default(),
            };
            Ok(LibraryPiece {
                version: u32::try_from(version)
                    .map_err(|_| StoreError::Corrupt(format!("library piece {id}: version")))?,
                points: from_json(&points)?,
                id,
                title,
                text,
                source,
                picture: media.picture,
                audio: media.audio,
            })
        })
        .collect()
    }

    /// The digest of the pieces held (`zhisu_protocol::library::library_digest`), what the
    /// assignment's `library` is compared with.
    pub fn library_digest(&self) -> Result<String, StoreError> {
        Ok(library_digest(&self.library()?))
    }

    /// Replaces the library with the server's, in one transaction; a piece that breaks the
    /// protocol's rules is left out. Returns how many pieces are kept.
    pub fn replace_library(&mut self, library: &Library) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM library_piece", [])?;
        let mut kept = 0;
        for piece in &library.pieces {
            if !piece.problems().is_empty() {
                continue;
            }
            let media = (piece.picture.is_some() || piece.audio.is_some()).then(|| {
                to_json(&MediaColumn {
                    picture: piece.picture.clone(),
                    audio: piece.audio.clone(),
                })
            });
            tx.execute(
                "INSERT INTO library_piece (id, version, points, title, body, source, media)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (id) DO NOTHING",
                params![
                    piece.id,
                    piece.version,
                    to_json(&piece.points),
                    piece.title,
                    piece.text,
                    piece.source,
                    media
                ],
            )?;
            kept += 1;
        }
        tx.commit()?;
        Ok(kept)
    }

    /// What the feedback page offers for `answers` (the answers that count) of `questionnaire`:
    /// nothing unless the round shows the answer key and a scored item is wrong; the QR code
    /// when the tablet is enrolled (not revoked) with a server address; the pieces of the
    /// library held for the wrong items.
    pub fn offered(
        &self,
        questionnaire: &Questionnaire,
        answers: &zhisu_core::Answers,
    ) -> Result<Offered, StoreError> {
        if !self.round_settings()?.show_answer_key {
            return Ok(Offered::default());
        }
        let report = questionnaire.score(answers);
        let wrong: Vec<String> = report
            .items
            .iter()
            .filter(|r| !r.correct)
            .map(|r| r.item_id.clone())
            .collect();
        self.offered_for_wrong(questionnaire, wrong)
    }

    /// What is offered for the scored items `wrong` (a feedback page's wrong answers, or a
    /// quiz's missed items: the quiz shows every right answer as it goes): nothing when none;
    /// the QR code when the tablet is enrolled (not revoked) with a server address; the pieces
    /// of the library held for those items.
    pub fn offered_for_wrong(
        &self,
        questionnaire: &Questionnaire,
        wrong: Vec<String>,
    ) -> Result<Offered, StoreError> {
        if wrong.is_empty() {
            return Ok(Offered::default());
        }
        let enrolled = self
            .identity()?
            .is_some_and(|i| i.revoked_at.is_none() && !i.server_url.trim().is_empty());
        let take_home_qr = enrolled
            && zhisu_core::learn_link::LearnLink::for_items(
                questionnaire,
                wrong.iter().map(String::as_str),
            )
            .is_some();
        let library = self.library()?;
        let pieces = pieces_for(&library, wrong.iter().map(String::as_str))
            .into_iter()
            .map(|(_, p)| p.clone())
            .collect();
        Ok(Offered {
            wrong,
            take_home_qr,
            pieces,
        })
    }
}
