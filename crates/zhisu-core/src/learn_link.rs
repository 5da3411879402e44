//! The take-home link (issue 24, "material that goes home"): what the QR code at the end of an
//! interview holds, so that a worker opens on their own phone the questions they got wrong with
//! the right answers and explanations, from a public page of the server:
//!
//! ```text
//! /learn/ohl_2026/2026.2?k=gIAB
//! ```
//!
//! The link names *knowledge points*, never the person: the questionnaire, its version and which
//! of that version's scored items to show. No answer, no interview id, no time, no device.
//!
//! `k` is a bit set over the version's scored items in file order ([`Questionnaire::scored_items`];
//! a published version never changes, so positions are stable): position `i` is bit `i % 6`
//! (value `1 << (i % 6)`) of character `i / 6`, each character one base64url digit
//! (`A–Z a–z 0–9 - _`, `A` = 0). Trailing `A`s are left out when writing and accepted when
//! reading. Forty items fit in 7 characters, so the QR code stays small and scans from a
//! tablet screen.
//!
//! Reading is total: any text gives a link or a [`LearnLinkError`], never a panic, in time
//! linear in at most [`MAX_LEARN_LINK_CHARS`]. A position past the version's scored items is
//! refused ([`LearnLinkError::UnknownPoint`]), not ignored: the page shows exactly what the
//! link says or nothing. When building a link, item ids that are not scored items of the
//! questionnaire are left out (there is nothing to teach about them).
//!
//! Other query parameters (`lang`) are ignored here; the page reads them.

use crate::enrol_uri::{decode, encode};
use crate::{Item, Questionnaire};

/// Where the take-home pages are served.
pub const LEARN_PATH: &str = "/learn/";

/// The longest link (path and query) read; longer is refused before anything else.
pub const MAX_LEARN_LINK_CHARS: usize = 1024;

/// The longest `k`: 64 characters, 384 scored items.
pub const MAX_LEARN_KEY_CHARS: usize = 64;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// What a take-home link names: a questionnaire version and positions among its scored items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnLink {
    pub questionnaire_id: String,
    pub version: String,
    /// Positions in the version's scored items, ascending, each once; never empty.
    pub points: Vec<usize>,
}

/// Why a text is not a take-home link the page can show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LearnLinkError {
    #[error("the link is longer than {MAX_LEARN_LINK_CHARS} characters")]
    TooLong,
    #[error("not a take-home link: it should read /learn/<questionnaire>/<version>?k=<points>")]
    NotALearnLink,
    #[error("the link names no knowledge point (k is missing or empty)")]
    NoPoints,
    #[error("k has more than {MAX_LEARN_KEY_CHARS} characters")]
    TooManyPoints,
    #[error("k has a character outside A-Z a-z 0-9 - _")]
    Malformed,
    #[error("point {position} is not a scored item of this questionnaire version")]
    UnknownPoint { position: usize },
    #[error("the link is for another questionnaire version")]
    OtherQuestionnaire,
}

impl Questionnaire {
    /// The scored items (the knowledge points), in the file's order: what a take-home link's
    /// positions count.
    pub fn scored_items(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.scoring.is_some())
    }
}

/// `k` for these positions (any order, repeats allowed).
pub fn encode_points(points: &[usize]) -> String {
    let Some(&last) = points.iter().max() else {
        return String::new();
    };
    let mut digits = vec![0u8; last / 6 + 1];
    for &p in points {
        digits[p / 6] |= 1 << (p % 6);
    }
    digits
        .iter()
        .map(|&d| ALPHABET[d as usize] as char)
        .collect()
}

/// The positions `k` names, ascending.
pub fn decode_points(k: &str) -> Result<Vec<usize>, LearnLinkError> {
    if k.len() > MAX_LEARN_KEY_CHARS {
        return Err(LearnLinkError::TooManyPoints);
    }
    let mut points = Vec::new();
    for (i, byte) in k.bytes().enumerate() {
        let digit = ALPHABET
            .iter()
            .position(|&a| a == byte)
            .ok_or(LearnLinkError::Malformed)?;
        points.extend(
            (0..6)
                .filter(|bit| digit & (1 << bit) != 0)
                .map(|bit| i * 6 + bit),
        );
    }
    if points.is_empty() {
        return Err(LearnLinkError::NoPoints);
    }
    Ok(points)
}

impl LearnLink {
    /// The link to the scored items among `wrong_item_ids` in `q`; `None` when none of them is
    /// a scored item of `q` (nothing to take home).
    pub fn for_items<'a>(
        q: &Questionnaire,
        wrong_item_ids: impl IntoIterator<Item = &'a str>,
    ) -> Option<LearnLink> {
        let wrong: std::collections::BTreeSet<&str> = wrong_item_ids.into_iter().collect();
        let points: Vec<usize> = q
            .scored_items()
            .enumerate()
            .filter(|(_, item)| wrong.contains(item.id.as_str()))
            .map(|(position, _)| position)
            .collect();
        (!points.is_empty()).then(|| LearnLink {
            questionnaire_id: q.id.clone(),
            version: q.version.clone(),
            points,
        })
    }

    /// The path and query, as the server serves it (prefix the server's address for a QR code).
    pub fn to_path(&self) -> String {
        format!(
            "{LEARN_PATH}{}/{}?k={}",
            encode(&self.questionnaire_id),
            encode(&self.version),
            encode_points(&self.points)
        )
    }

    /// Reads a link: a path and query (`/learn/…?k=…`) or a whole URL (`https://host/learn/…`).
    pub fn parse(text: &str) -> Result<LearnLink, LearnLinkError> {
        if text.len() > MAX_LEARN_LINK_CHARS {
            return Err(LearnLinkError::TooLong);
        }
        let text = text.split('#').next().unwrap_or_default();
        // a whole URL: drop the scheme and the host
        let text = match text.split_once("://") {
            Some((_, rest)) if !text.starts_with('/') => rest.find('/').map_or("", |i| &rest[i..]),
            _ => text,
        };
        let (path, query) = text.split_once('?').unwrap_or((text, ""));
        let rest = path
            .strip_prefix(LEARN_PATH)
            .ok_or(LearnLinkError::NotALearnLink)?;
        let (id, version) = rest
            .split_once('/')
            .filter(|(_, version)| !version.contains('/'))
            .ok_or(LearnLinkError::NotALearnLink)?;
        let segment = |s: &str| decode(s).filter(|s| !s.is_empty());
        let (Some(questionnaire_id), Some(version)) = (segment(id), segment(version)) else {
            return Err(LearnLinkError::NotALearnLink);
        };
        let mut k = None;
        for pair in query.split('&') {
            if let Some(value) = pair.strip_prefix("k=") {
                if k.is_some() {
                    // two sets of points: which one is meant?
                    return Err(LearnLinkError::Malformed);
                }
                k = Some(value);
            }
        }
        let points = decode_points(k.ok_or(LearnLinkError::NoPoints)?)?;
        Ok(LearnLink {
            questionnaire_id,
            version,
            points,
        })
    }

    /// The items the link names in `q` (which must be the link's questionnaire version), in
    /// order; a position past `q`'s scored items refuses the whole link.
    pub fn items<'q>(&self, q: &'q Questionnaire) -> Result<Vec<&'q Item>, LearnLinkError> {
        if q.id != self.questionnaire_id || q.version != self.version {
            return Err(LearnLinkError::OtherQuestionnaire);
        }
        let scored: Vec<&Item> = q.scored_items().collect();
        self.points
            .iter()
            .map(|&position| {
                scored
                    .get(position)
                    .copied()
                    .ok_or(LearnLinkError::UnknownPoint { position })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_encode_as_a_bit_set_in_base64url_digits() {
        assert_eq!(encode_points(&[]), "");
        assert_eq!(encode_points(&[0]), "B");
        assert_eq!(encode_points(&[5]), "g");
        assert_eq!(encode_points(&[0, 1, 2, 3, 4, 5]), "_");
        assert_eq!(encode_points(&[6]), "AB");
        assert_eq!(encode_points(&[7, 7, 0]), "BC");
        assert_eq!(decode_points("BC").unwrap(), vec![0, 7]);
        // trailing zero digits are accepted
        assert_eq!(decode_points("BAAA").unwrap(), vec![0]);
        assert_eq!(decode_points("AAA"), Err(LearnLinkError::NoPoints));
        assert_eq!(decode_points(""), Err(LearnLinkError::NoPoints));
        assert_eq!(decode_points("B="), Err(LearnLinkError::Malformed));
        assert_eq!(decode_points("é"), Err(LearnLinkError::Malformed));
        assert_eq!(
            decode_points(&"_".repeat(MAX_LEARN_KEY_CHARS))
                .unwrap()
                .len(),
            MAX_LEARN_KEY_CHARS * 6
        );
        assert_eq!(
            decode_points(&"_".repeat(MAX_LEARN_KEY_CHARS + 1)),
            Err(LearnLinkError::TooManyPoints)
        );
    }

    #[test]
    fn links_read_back_from_a_path_or_a_whole_url() {
        let link = LearnLink {
            questionnaire_id: "ohl_2026".into(),
            version: "2026.2".into(),
            points: vec![0, 7, 39],
        };
        let path = link.to_path();
        assert_eq!(path, "/learn/ohl_2026/2026.2?k=BCAAAAI");
        assert_eq!(LearnLink::parse(&path), Ok(link.clone()));
        let url = format!("https://zhisu.example-cdc.cn:8470{path}&lang=en#top");
        assert_eq!(LearnLink::parse(&url), Ok(link));
        // odd ids are percent-encoded and read back
        let odd = LearnLink {
            questionnaire_id: "问卷 a/b".into(),
            version: "1?&".into(),
            points: vec![3],
        };
        assert_eq!(LearnLink::parse(&odd.to_path()), Ok(odd));
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        use LearnLinkError::*;
        for (text, error) in [
            ("", NotALearnLink),
            ("/dashboard/login", NotALearnLink),
            ("/learn/ohl_2026?k=B", NotALearnLink),
            ("/learn//2026.2?k=B", NotALearnLink),
            ("/learn/ohl_2026/2026.2/x?k=B", NotALearnLink),
            ("/learn/ohl_2026/%FF?k=B", NotALearnLink),
            ("/learn/ohl_2026/%2?k=B", NotALearnLink),
            ("/learn/ohl_2026/2026.2", NoPoints),
            ("/learn/ohl_2026/2026.2?lang=en", NoPoints),
            ("/learn/ohl_2026/2026.2?k=", NoPoints),
            ("/learn/ohl_2026/2026.2?k=B&k=C", Malformed),
            ("/learn/ohl_2026/2026.2?k=%42", Malformed),
            ("https://host", NotALearnLink),
        ] {
            assert_eq!(LearnLink::parse(text), Err(error), "{text}");
        }
        let long = format!("/learn/a/b?k=B&x={}", "y".repeat(MAX_LEARN_LINK_CHARS));
        assert_eq!(LearnLink::parse(&long), Err(TooLong));
        let many = format!("/learn/a/b?k={}", "B".repeat(MAX_LEARN_KEY_CHARS + 1));
        assert_eq!(LearnLink::parse(&many), Err(TooManyPoints));
    }
}
