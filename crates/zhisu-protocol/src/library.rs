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
/// Largest picture of a piece, in bytes (a phone photo made small: a picture to look at, not to
/// print).
pub const MAX_PIECE_PICTURE_BYTES: usize = 300 * 1024;
/// Largest recording of a piece read aloud, in bytes (a minute or two of speech in Opus or MP3).
pub const MAX_PIECE_AUDIO_BYTES: usize = 1024 * 1024;
/// Longest description of a piece's picture, in characters.
pub const MAX_PIECE_ALT_CHARS: usize = 200;

/// A picture of a piece, carried in the piece (a tablet shows it offline with the text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PiecePicture {
    /// `png`, `jpeg` or `webp`, as its first bytes say ([`picture_kind`]).
    pub kind: String,
    /// The bytes in standard base64, at most [`MAX_PIECE_PICTURE_BYTES`] of them.
    pub data: String,
    /// What it shows, in plain words, for whoever cannot see it (read out by a screen reader).
    pub alt: String,
}

/// The piece read aloud, carried in the piece, for a worker who reads with difficulty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PieceAudio {
    /// An [`AudioKind`](crate::AudioKind) name (`ogg`, `mp3`, …), as its first bytes say.
    pub kind: String,
    /// The bytes in standard base64, at most [`MAX_PIECE_AUDIO_BYTES`] of them.
    pub data: String,
}

/// The kind of picture `bytes` are, from their first bytes: `png`, `jpeg` or `webp`.
pub fn picture_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpeg")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("webp")
    } else {
        None
    }
}

fn base64_bytes(data: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(data).ok()
}

impl PiecePicture {
    /// A picture of `bytes` described by `alt`; `None` when they are no picture this knows.
    pub fn new(bytes: &[u8], alt: &str) -> Option<PiecePicture> {
        use base64::Engine as _;
        Some(PiecePicture {
            kind: picture_kind(bytes)?.to_string(),
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
            alt: alt.trim().to_string(),
        })
    }

    /// `data:image/…;base64,…`, what an `<img>` shows without asking anyone for it.
    pub fn data_url(&self) -> String {
        format!("data:image/{};base64,{}", self.kind, self.data)
    }

    fn problems(&self, problems: &mut Vec<String>) {
        match base64_bytes(&self.data) {
            None => problems.push("picture: not base64".into()),
            Some(bytes) if bytes.len() > MAX_PIECE_PICTURE_BYTES => problems.push(format!(
                "picture: at most {} KiB",
                MAX_PIECE_PICTURE_BYTES / 1024
            )),
            Some(bytes) if picture_kind(&bytes) != Some(self.kind.as_str()) => {
                problems.push("picture: not a PNG, JPEG or WebP picture of its kind".into())
            }
            Some(_) => {}
        }
        let n = self.alt.chars().count();
        if self.alt.trim().is_empty() || n > MAX_PIECE_ALT_CHARS {
            problems.push(format!(
                "picture: a description of 1 to {MAX_PIECE_ALT_CHARS} characters"
            ));
        }
        if has_control(&self.alt, false) {
            problems.push("picture: no control or invisible formatting characters".into());
        }
    }
}

impl PieceAudio {
    /// A recording of `bytes`; `None` when they are no recording this knows.
    pub fn new(bytes: &[u8]) -> Option<PieceAudio> {
        use base64::Engine as _;
        Some(PieceAudio {
            kind: crate::AudioKind::sniff(bytes)?.name().to_string(),
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
        })
    }

    /// `data:audio/…;base64,…`, what an `<audio>` plays without asking anyone for it.
    pub fn data_url(&self) -> String {
        let mime = crate::AudioKind::from_name(&self.kind).map_or("audio/mpeg", |k| k.mime());
        format!("data:{mime};base64,{}", self.data)
    }

    fn problems(&self, problems: &mut Vec<String>) {
        match base64_bytes(&self.data) {
            None => problems.push("audio: not base64".into()),
            Some(bytes) if bytes.len() > MAX_PIECE_AUDIO_BYTES => problems.push(format!(
                "audio: at most {} KiB",
                MAX_PIECE_AUDIO_BYTES / 1024
            )),
            Some(bytes)
                if crate::AudioKind::sniff(&bytes).map(crate::AudioKind::name)
                    != Some(self.kind.as_str()) =>
            {
                problems.push("audio: not a recording of its kind".into())
            }
            Some(_) => {}
        }
    }
}

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
    /// A picture that shows the point (added later within v1: absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<PiecePicture>,
    /// The piece read aloud (added later within v1: absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<PieceAudio>,
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
        if let Some(picture) = &self.picture {
            picture.problems(&mut problems);
        }
        if let Some(audio) = &self.audio {
            audio.problems(&mut problems);
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
            picture: None,
            audio: None,
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
            picture: None,
            audio: None,
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

    /// The smallest PNG (1×1), an Ogg page and a WebP header: what the kinds are told by.
    pub(crate) const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0,
        0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89,
    ];

    #[test]
    fn a_picture_and_a_recording_are_told_by_their_bytes_and_checked() {
        assert_eq!(picture_kind(PNG), Some("png"));
        assert_eq!(picture_kind(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("jpeg"));
        assert_eq!(picture_kind(b"RIFF\0\0\0\0WEBPVP8 "), Some("webp"));
        assert_eq!(picture_kind(b"GIF89a"), None);
        assert_eq!(picture_kind(b""), None);
        let mut with = piece("heat", 2, &["know_heat_stroke"]);
        with.picture = Some(PiecePicture::new(PNG, "一个人在树荫下喝水").unwrap());
        with.audio = Some(PieceAudio::new(b"OggS\0\x02 a page of speech").unwrap());
        assert_eq!(with.problems(), Vec::<String>::new());
        assert!(with
            .picture
            .as_ref()
            .unwrap()
            .data_url()
            .starts_with("data:image/png;base64,iVBORw0KGgo"));
        assert!(with
            .audio
            .as_ref()
            .unwrap()
            .data_url()
            .starts_with("data:audio/ogg;base64,T2dnUw"));
        assert!(PiecePicture::new(b"<svg onload=alert(1)>", "x").is_none());
        assert!(PieceAudio::new(b"not sound").is_none());
        // a kind that lies, bytes that are not base64, too large, no description
        let mut bad = with.clone();
        bad.picture.as_mut().unwrap().kind = "jpeg".into();
        bad.audio.as_mut().unwrap().data = "***".into();
        assert_eq!(bad.problems().len(), 2, "{:?}", bad.problems());
        let mut big = with.clone();
        let mut huge = PNG.to_vec();
        huge.resize(MAX_PIECE_PICTURE_BYTES + 1, 0);
        big.picture = Some(PiecePicture::new(&huge, " ").unwrap());
        assert_eq!(big.problems().len(), 2, "{:?}", big.problems());
        // survives the wire; a piece without them is written as before
        let back: LibraryPiece =
            serde_json::from_str(&serde_json::to_string(&with).unwrap()).unwrap();
        assert_eq!(back, with);
        let plain = serde_json::to_string(&piece("heat", 1, &["x"])).unwrap();
        assert!(
            !plain.contains("picture") && !plain.contains("audio"),
            "{plain}"
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
