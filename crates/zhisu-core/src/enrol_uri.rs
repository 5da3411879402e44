//! The enrolment URI: what an enrolment QR code holds, so that one scan gives a tablet both
//! the server's address and its one-time code (docs/sync-protocol.md, "Enrolment URI"):
//!
//! ```text
//! zhisu://enrol?server=https%3A%2F%2Fzhisu.example-cdc.cn&code=K7XM-3QPA
//! ```
//!
//! Pure, here in the core because both halves read it: the server writes it, the webview reads it.
//!
//! `server` and `code` are percent-encoded (RFC 3986: every byte but `A–Z a–z 0–9 - . _ ~`);
//! the scheme and `enrol` are matched without regard to case; other parameters are ignored (a
//! later version may add some). A bare code (no `zhisu:` prefix) is still an enrolment code.

use std::fmt::Write;

/// What an enrolment QR code tells a tablet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolUri {
    /// The server's address, `http://` or `https://`.
    pub server_url: String,
    /// The one-time enrolment code.
    pub code: String,
}

pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

pub(crate) fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl EnrolUri {
    /// The URI, as the QR code holds it.
    pub fn to_uri(&self) -> String {
        format!(
            "zhisu://enrol?server={}&code={}",
            encode(&self.server_url),
            encode(&self.code)
        )
    }

    /// Reads an enrolment URI; `None` when `text` is not one (a bare code, another URI, a
    /// server that is not `http(s)://`, an empty code).
    pub fn parse(text: &str) -> Option<EnrolUri> {
        let text = text.trim();
        let (scheme, rest) = text.split_once("://")?;
        if !scheme.eq_ignore_ascii_case("zhisu") {
            return None;
        }
        let (what, query) = rest.split_once('?')?;
        if !what.trim_end_matches('/').eq_ignore_ascii_case("enrol") {
            return None;
        }
        let query = query.split('#').next().unwrap_or_default();
        let (mut server, mut code) = (None, None);
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("server", value)) => server = Some(decode(value)?),
                Some(("code", value)) => code = Some(decode(value)?),
                _ => {}
            }
        }
        let server_url = server?.trim().trim_end_matches('/').to_string();
        let code = code?.trim().to_string();
        let lower = server_url.to_ascii_lowercase();
        let host = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))?;
        if host.is_empty() || code.is_empty() || code.chars().any(char::is_control) {
            return None;
        }
        Some(EnrolUri { server_url, code })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enrolment_uri_reads_back_what_it_was_made_of() {
        let uri = EnrolUri {
            server_url: "https://zhisu.example-cdc.cn:8443/zhisu".to_string(),
            code: "K7XM-3QPA".to_string(),
        };
        let text = uri.to_uri();
        assert_eq!(
            text,
            "zhisu://enrol?server=https%3A%2F%2Fzhisu.example-cdc.cn%3A8443%2Fzhisu&code=K7XM-3QPA"
        );
        assert_eq!(EnrolUri::parse(&text), Some(uri.clone()));
        // case of the scheme, a trailing slash, unknown parameters, spaces around
        assert_eq!(
            EnrolUri::parse(
                " ZHISU://Enrol/?v=2&code=K7XM-3QPA&server=https://zhisu.example-cdc.cn:8443/zhisu/ "
            ),
            Some(uri)
        );
        let chinese = EnrolUri {
            server_url: "http://192.168.1.20:8470".to_string(),
            code: "码 1".to_string(),
        };
        assert_eq!(EnrolUri::parse(&chinese.to_uri()), Some(chinese));
    }

    #[test]
    fn what_is_not_an_enrolment_uri_is_none() {
        for text in [
            "K7XM-3QPA",
            "https://zhisu.example-cdc.cn/?code=K7XM-3QPA",
            "zhisu://enrol?server=https%3A%2F%2Fa",
            "zhisu://enrol?code=K7XM-3QPA",
            "zhisu://enrol?server=ftp%3A%2F%2Fa&code=K",
            "zhisu://enrol?server=https%3A%2F%2F&code=K",
            "zhisu://enrol?server=https%3A%2F%2Fa&code=",
            "zhisu://enrol?server=https%3A%2F%2Fa&code=%ZZ",
            "zhisu://enrol?server=https%3A%2F%2Fa&code=%FF",
            "zhisu://other?server=https%3A%2F%2Fa&code=K",
            "zhisu://enrol?server=https%3A%2F%2Fa&code=a%0Ab",
            "",
        ] {
            assert_eq!(EnrolUri::parse(text), None, "{text}");
        }
    }
}
