//! The education library (issue 24): short pieces of plain Chinese per knowledge point, written
//! by the CDC on the server and delivered to tablets, which show them offline on the feedback
//! page beside each wrong answer (and the public take-home page shows them too).
//!
//! A knowledge point is named by the **id of the scored item** that tests it (`law_rights`,
//! `con_silica`): the bundled questionnaires use the same item id for the same knowledge point in
//! every questionnaire and version (`ohl_2026` and `ohl_intercept` share theirs), so a piece
//! written once follows the point wherever it is asked. A piece names the points it teaches
//! (`points`, one or more); a point is taught by the first piece (by id) that names it.
//!
//! A piece is versioned: an edit on the server makes a new version and keeps the old ones; a
//! tablet receives only the newest version of each piece. The assignment carries the digest of
//! what the server would deliver ([`library_digest`]); a tablet fetches [`LIBRARY_PATH`] when it
//! differs from the digest of what it holds (added within protocol v1: a device that does not
//! know it ignores it).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The newest version of every piece (GET, → [`Library`]), with the device token.
pub const LIBRARY_PATH: &str = "/api/v1/library";

/// Longest piece id (`a-z`, `0-9`, `_`).
pub const MAX_PIECE_ID_CHARS: usize = 64;
/// Longest title, in characters.
pub const MAX_PIECE_TITLE_CHARS: usize = 60;
/// Longest text, in characters (a phone screen or two of plain Chinese).
pub const MAX_PIECE_TEXT_CHARS: usize = 2000;
/// Longest source, in characters.
pub const MAX_PIECE_SOURCE_CHARS: usize = 300;
/// Most knowledge points one piece names.
pub const MAX_PIECE_POINTS: usize = 32;
/// Most pieces a library delivers.
pub const MAX_LIBRARY_PIECES: usize = 2000;

/// One piece of the library, as delivered: its newest version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryPiece {
    /// Stable name of the piece (`heat_stroke`), kept across its versions.
    pub id: String,
    /// 1 for the first version, one more for each edit.
    pub version: u32,
    /// The knowledge points it teaches: ids of scored items.
    pub points: Vec<String>,
    pub title: String,
    /// Plain text; paragraphs separated by a blank line.
    pub text: String,
    /// Where what it says comes from (a law, a standard, national material).
    pub source: String,
}

/// GET [`LIBRARY_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Library {
    /// [`library_digest`] of `pieces`.
    pub digest: String,
    /// Ordered by id.
    pub pieces: Vec<LibraryPiece>,
}

impl Library {
    pub fn new(mut pieces: Vec<LibraryPiece>) -> Library {
        pieces.sort_by(|a, b| a.id.cmp(&b.id));
        Library {
            digest: library_digest(&pieces),
            pieces,
        }
    }
}

/// What names a library's content: `sha256:` and the hex SHA-256 over each piece's id and
/// version (`id`, a tab, the version in decimal, a line feed), in id order. A new version of any
/// piece, or a piece added, changes it.
pub fn library_digest(pieces: &[LibraryPiece]) -> String {
    let mut ids: Vec<(&str, u32)> = pieces.iter().map(|p| (p.id.as_str(), p.version)).collect();
    ids.sort_unstable();
    let mut hasher = Sha256::new();
    for (id, version) in ids {
        hasher.update(format!("{id}\t{version}\n").as_bytes());
    }
    let mut hex = String::from("sha256:");
    for byte in hasher.finalize() {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Whether `id` may name a piece: 1 to [`MAX_PIECE_ID_CHARS`] of `a-z`, `0-9`, `_`.
pub fn valid_piece_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_PIECE_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether `point` may name a knowledge point (an item id): 1 to 64 of `A-Z a-z 0-9 _`.
pub fn valid_point(point: &str) -> bool {
    !point.is_empty()
        && point.len() <= 64
        && point
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn has_control(text: &str, allow_newlines: bool) -> bool {
    text.chars()
        .any(|c| crate::limits::is_hidden(c, allow_newlines))
}

impl LibraryPiece {
    /// Every way this piece breaks the rules above, in English (empty: fine). What the server
    /// checks before keeping an edit, and what a tablet checks before keeping a delivery.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !valid_piece_id(&self.id) {
            problems.push(format!("id: 1 to {MAX_PIECE_ID_CHARS} of a-z, 0-9 and _"));
        }
        if self.version == 0 {
            problems.push("version: from 1".into());
        }
        if self.points.is_empty() || self.points.len() > MAX_PIECE_POINTS {
            problems.push(format!(
                "points: 1 to {MAX_PIECE_POINTS} knowledge points (item ids)"
            ));
        }
        for point in &self.points {
            if !valid_point(point) {
                problems.push(format!(
                    "points: {point:?} is not an item id (A-Z, a-z, 0-9 and _)"
                ));
            }
        }
        let mut fields = [
            ("title", &self.title, MAX_PIECE_TITLE_CHARS, false),
            ("text", &self.text, MAX_PIECE_TEXT_CHARS, true),
            ("source", &self.source, MAX_PIECE_SOURCE_CHARS, false),
        ];
        for (name, value, max, newlines) in &mut fields {
            let n = value.chars().count();
            if value.trim().is_empty() || n > *max {
                problems.push(format!("{name}: 1 to {max} characters"));
            }
            if has_control(value, *newlines) {
                problems.push(format!(
                    "{name}: no control or invisible formatting characters"
                ));
            }
        }
        problems
    }

    /// The text's paragraphs (split at blank lines, each trimmed, empty ones left out).
    pub fn paragraphs(&self) -> impl Iterator<Item = &str> {
        self.text
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
    }
}

/// For each knowledge point of `points` (in their order), the piece that teaches it: the first
/// piece by id that names it. Points no piece names are left out; a piece teaching two of the
/// points is given once, at the first.
pub fn pieces_for<'a>(
    pieces: &'a [LibraryPiece],
    points: impl IntoIterator<Item = &'a str>,
) -> Vec<(&'a str, &'a LibraryPiece)> {
    let mut by_id: Vec<&LibraryPiece> = pieces.iter().collect();
    by_id.sort_by(|a, b| a.id.cmp(&b.id));
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for point in points {
        if let Some(piece) = by_id.iter().find(|p| p.points.iter().any(|q| q == point)) {
            if !seen.contains(&piece.id.as_str()) {
                seen.push(piece.id.as_str());
                out.push((point, *piece));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(id: &str, version: u32, points: &[&str]) -> LibraryPiece {
        LibraryPiece {
            id: id.into(),
            version,
            points: points.iter().map(|p| p.to_string()).collect(),
            title: "中暑".into(),
            text: "第一段。\n\n第二段。".into(),
            source: "GBZ 41".into(),
        }
    }

    #[test]
    fn a_good_piece_has_no_problem_and_a_bad_one_every_problem() {
        assert_eq!(
            piece("heat", 1, &["know_heat_stroke"]).problems(),
            Vec::<String>::new()
        );
        let bad = LibraryPiece {
            id: "Heat!".into(),
            version: 0,
            points: vec!["a b".into()],
            title: " ".into(),
            text: "x".repeat(MAX_PIECE_TEXT_CHARS + 1),
            source: "a\u{200b}".into(),
        };
        let problems = bad.problems();
        assert_eq!(problems.len(), 6, "{problems:?}");
        assert_eq!(
            piece("h", 1, &[]).problems(),
            vec![format!(
                "points: 1 to {MAX_PIECE_POINTS} knowledge points (item ids)"
            )]
        );
    }

    #[test]
    fn the_digest_follows_ids_and_versions_in_any_order() {
        let a = piece("a", 1, &["x"]);
        let b = piece("b", 2, &["y"]);
        let digest = library_digest(&[a.clone(), b.clone()]);
        assert_eq!(digest, library_digest(&[b.clone(), a.clone()]));
        assert_ne!(digest, library_digest(&[a.clone(), piece("b", 3, &["y"])]));
        assert_ne!(digest, library_digest(std::slice::from_ref(&a)));
        assert!(digest.starts_with("sha256:") && digest.len() == 71);
        assert_eq!(Library::new(vec![b, a]).pieces[0].id, "a");
    }

    #[test]
    fn each_point_finds_the_first_piece_naming_it_once() {
        let pieces = [
            piece("b_heat", 1, &["heat", "heat_aid"]),
            piece("a_heat", 1, &["heat"]),
            piece("c", 1, &["dust"]),
        ];
        let found: Vec<(&str, &str)> = pieces_for(&pieces, ["heat_aid", "heat", "noise", "dust"])
            .into_iter()
            .map(|(point, p)| (point, p.id.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![("heat_aid", "b_heat"), ("heat", "a_heat"), ("dust", "c")]
        );
        assert_eq!(
            pieces[0].paragraphs().collect::<Vec<_>>(),
            ["第一段。", "第二段。"]
        );
    }
}
