//! RFC 8785 (JSON Canonicalization Scheme) of any `Serialize` value, written in one pass into
//! one buffer: the canonical forms behind every content hash (interviews, contacts, quiz
//! sessions).
//!
//! serde_json writes the JSON; [`JcsFormatter`] changes only what RFC 8785 needs changed:
//! numbers are written as ECMAScript writes a double (`ryu_js`, as
//! `serde_json_canonicalizer` does), and each object's members are put in the order of
//! their keys' UTF-16 code units once the object is complete. Strings need nothing: serde_json
//! already escapes exactly what RFC 8785 escapes (`"`, `\`, and the controls below U+0020, with
//! the short forms and otherwise `\u00xx` in lower case) and writes every other character as
//! itself.
//!
//! `serde_json_canonicalizer` makes the same text (a test below compares the two over every
//! protocol vector and thousands of generated interviews), but re-parses every key and boxes
//! every write: under R6's uploads it was a third of the server's CPU (issue 19).

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};

/// The canonical form of `value`. Fails only for a value that has no JSON form (a map with
/// keys that are not strings or numbers, two members with one key). A NaN or infinite float
/// is `null`, as serde_json writes it.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(1024);
    let formatter = JcsFormatter {
        out: &mut out,
        objects: Vec::new(),
        in_key: false,
    };
    // everything goes to the formatter's buffer; serde_json's own writer is never written
    let mut serializer = serde_json::Serializer::with_formatter(io::sink(), formatter);
    value.serialize(&mut serializer)?;
    // only UTF-8 was written: serde_json's fragments are `str`, the rest is ASCII
    Ok(String::from_utf8(out).expect("the canonical form is UTF-8"))
}

/// One member of an object being written: its key (unescaped, for sorting) and where the
/// member (`"key":value`, without a comma) lies in the buffer.
struct Member {
    key: String,
    start: usize,
    end: usize,
}

/// An object being written: where its members begin in the buffer (just after `{`), and the
/// members so far.
struct Object {
    start: usize,
    members: Vec<Member>,
}

struct JcsFormatter<'a> {
    out: &'a mut Vec<u8>,
    /// The objects open now, innermost last.
    objects: Vec<Object>,
    /// Between `begin_object_key` and `end_object_key`: what is written is also the key of
    /// the innermost object's last member.
    in_key: bool,
}

impl JcsFormatter<'_> {
    /// The text of the key being written, unescaped, if one is.
    fn key(&mut self) -> Option<&mut String> {
        if !self.in_key {
            return None;
        }
        let member = self.objects.last_mut()?.members.last_mut()?;
        Some(&mut member.key)
    }

    /// Writes literal text (a number, `true`): in a key it is also the key's text.
    fn literal(&mut self, text: &str) {
        if let Some(key) = self.key() {
            key.push_str(text);
        }
        self.out.extend_from_slice(text.as_bytes());
    }

    fn number(&mut self, value: f64) -> io::Result<()> {
        if !value.is_finite() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "NaN and infinities have no JSON form",
            ));
        }
        let mut buffer = ryu_js::Buffer::new();
        let text = buffer.format_finite(value);
        self.literal(text);
        Ok(())
    }
}

/// The `Formatter` methods for numbers, each writing its value as a double.
macro_rules! write_numbers {
    ($($method:ident: $type:ty),*) => {
        $(
            fn $method<W: ?Sized + io::Write>(&mut self, _: &mut W, value: $type) -> io::Result<()> {
                self.number(value as f64)
            }
        )*
    };
}

/// The `Formatter` methods that write one fixed byte.
macro_rules! write_bytes {
    ($($method:ident: $byte:expr),*) => {
        $(
            fn $method<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
                self.out.push($byte);
                Ok(())
            }
        )*
    };
}

/// The order RFC 8785 sorts keys in: by their UTF-16 code units.
fn utf16_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

impl Formatter for JcsFormatter<'_> {
    fn write_null<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.literal("null");
        Ok(())
    }

    fn write_bool<W: ?Sized + io::Write>(&mut self, _: &mut W, value: bool) -> io::Result<()> {
        self.literal(if value { "true" } else { "false" });
        Ok(())
    }

    // every number is a double in JSON as RFC 8785 reads it
    write_numbers!(
        write_i8: i8,
        write_i16: i16,
        write_i32: i32,
        write_i64: i64,
        write_i128: i128,
        write_u8: u8,
        write_u16: u16,
        write_u32: u32,
        write_u64: u64,
        write_u128: u128,
        write_f32: f32,
        write_f64: f64
    );

    write_bytes!(
        begin_string: b'"',
        end_string: b'"',
        begin_array: b'[',
        end_array: b']',
        begin_object_value: b':'
    );

    fn write_number_str<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        value: &str,
    ) -> io::Result<()> {
        let number: f64 = value
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "not a number"))?;
        self.number(number)
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        self.literal(fragment);
        Ok(())
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        // what is written (`\u00xx` for the other controls), and the character it stands for
        let (written, meant): (&[u8], char) = match escape {
            CharEscape::Quote => (b"\\\"", '"'),
            CharEscape::ReverseSolidus => (b"\\\\", '\\'),
            // RFC 8785 writes '/' as itself (serde_json never asks for this escape)
            CharEscape::Solidus => (b"/", '/'),
            CharEscape::Backspace => (b"\\b", '\u{8}'),
            CharEscape::FormFeed => (b"\\f", '\u{c}'),
            CharEscape::LineFeed => (b"\\n", '\n'),
            CharEscape::CarriageReturn => (b"\\r", '\r'),
            CharEscape::Tab => (b"\\t", '\t'),
            CharEscape::AsciiControl(byte) => (b"", char::from(byte)),
        };
        if written.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let byte = meant as usize;
            self.out
                .extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[byte >> 4], HEX[byte & 0xf]]);
        } else {
            self.out.extend_from_slice(written);
        }
        if let Some(key) = self.key() {
            key.push(meant);
        }
        Ok(())
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if !first {
            self.out.push(b',');
        }
        Ok(())
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.out.push(b'{');
        self.objects.push(Object {
            start: self.out.len(),
            members: Vec::new(),
        });
        Ok(())
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        let object = self
            .objects
            .pop()
            .ok_or_else(|| io::Error::other("an object ended that did not begin"))?;
        let sorted = object
            .members
            .windows(2)
            .all(|pair| utf16_order(&pair[0].key, &pair[1].key).is_lt());
        if !sorted {
            let mut members = object.members;
            members.sort_by(|a, b| utf16_order(&a.key, &b.key));
            if members.windows(2).any(|pair| pair[0].key == pair[1].key) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "an object has two members with one key",
                ));
            }
            let mut body = Vec::with_capacity(self.out.len() - object.start);
            for (n, member) in members.iter().enumerate() {
                if n > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(&self.out[member.start..member.end]);
            }
            self.out.truncate(object.start);
            self.out.extend_from_slice(&body);
        }
        self.out.push(b'}');
        Ok(())
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if !first {
            self.out.push(b',');
        }
        let start = self.out.len();
        let object = self
            .objects
            .last_mut()
            .ok_or_else(|| io::Error::other("a key outside an object"))?;
        object.members.push(Member {
            key: String::new(),
            start,
            end: start,
        });
        self.in_key = true;
        Ok(())
    }

    fn end_object_key<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.in_key = false;
        Ok(())
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        let end = self.out.len();
        if let Some(member) = self.objects.last_mut().and_then(|o| o.members.last_mut()) {
            member.end = end;
        }
        Ok(())
    }

    fn write_raw_fragment<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        _fragment: &str,
    ) -> io::Result<()> {
        // a RawValue would be written as sent, not in canonical form: no content holds one
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "raw JSON has no canonical form here",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn both(value: &serde_json::Value) -> (String, String) {
        (
            to_string(value).unwrap(),
            serde_json_canonicalizer::to_string(value).unwrap(),
        )
    }

    #[test]
    fn writes_what_serde_json_canonicalizer_writes() {
        let cases = [
            json!(null),
            json!({}),
            json!([]),
            json!({"b": 1, "a": [1.0, 2.5, -0.0, 1e21, 1e-7, 123456789012345680000.0], "c": {"z": null, "y": true}}),
            json!({"\u{e000}": 1, "\u{10000}": 2, "a": 3, "": 4, "A": 5, "é": 6}),
            json!({"quote\"": "a\"b\\c/d\u{1}\u{8}\u{c}\n\r\t\u{1f}\u{7f}", "\u{1}": 0}),
            json!({"nested": [{"b": {"d": 1, "c": 2}, "a": [{"y": 1, "x": 2}]}], "数字": 9007199254740993_u64}),
            json!([i64::MIN, i64::MAX, u64::MAX, 0.1, 100, 1e300, 5e-324]),
            json!({"emoji😀": "😀", "emoji": "中文", "€": "", "\u{ffff}": 1, "\u{d7ff}": 2}),
        ];
        for case in &cases {
            let (ours, theirs) = both(case);
            assert_eq!(ours, theirs, "for {case}");
        }
    }

    /// xorshift64: values the same on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        /// Text from pieces that RFC 8785 treats specially: escapes, every Unicode plane.
        fn text(&mut self) -> String {
            const PIECES: [&str; 12] = [
                "a",
                "B",
                "\"",
                "\\",
                "\u{1}",
                "\n",
                "中",
                "\u{e000}",
                "\u{10000}",
                "😀",
                "\u{ffff}",
                "/",
            ];
            (0..self.below(4))
                .map(|_| PIECES[self.below(PIECES.len() as u64) as usize])
                .collect()
        }
    }

    /// A value: objects with keys from every Unicode plane, arrays, numbers of every size.
    fn generated(rng: &mut Rng, depth: u32) -> serde_json::Value {
        match rng.below(if depth == 0 { 4 } else { 6 }) {
            0 => serde_json::Value::Null,
            1 => json!(rng.below(2) == 0),
            2 => {
                let bits = rng.next();
                match bits % 3 {
                    0 => json!((bits >> 2) as i64 >> (bits % 60)),
                    1 => json!(f64::from_bits(bits >> 2).clamp(-1e300, 1e300)),
                    _ => json!((bits % 1000) as f64 / 8.0),
                }
            }
            3 => json!(rng.text()),
            4 => serde_json::Value::Array(
                (0..rng.below(4))
                    .map(|_| generated(rng, depth - 1))
                    .collect(),
            ),
            _ => {
                let mut object = serde_json::Map::new();
                for _ in 0..rng.below(6) {
                    let key = rng.text();
                    object.insert(key, generated(rng, depth - 1));
                }
                serde_json::Value::Object(object)
            }
        }
    }

    #[test]
    fn writes_what_serde_json_canonicalizer_writes_for_generated_values() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..5_000 {
            let value = generated(&mut rng, 4);
            let (ours, theirs) = match (
                to_string(&value),
                serde_json_canonicalizer::to_string(&value),
            ) {
                (Ok(ours), Ok(theirs)) => (ours, theirs),
                // NaN never comes out of serde_json::Value; nothing else fails
                (ours, theirs) => panic!("{value}: {ours:?} / {theirs:?}"),
            };
            assert_eq!(ours, theirs, "for {value}");
        }
    }

    #[test]
    fn keys_sort_by_utf16_code_units_not_by_code_points() {
        // U+10000 is D800 DC00 in UTF-16: before U+E000, though after it as a code point
        let text = to_string(&json!({"\u{e000}": 1, "\u{10000}": 2})).unwrap();
        assert_eq!(text, "{\"\u{10000}\":2,\"\u{e000}\":1}");
    }

    #[test]
    fn a_float_json_cannot_hold_is_null_as_serde_json_writes_it() {
        // NaN and the infinities never come from parsed JSON; serde_json writes them as null
        // (so does the payload sent), where serde_json_canonicalizer would fail
        assert_eq!(
            to_string(&[f64::NAN, f64::INFINITY]).unwrap(),
            "[null,null]"
        );
        assert_eq!(serde_json::to_string(&[f64::NAN]).unwrap(), "[null]");
    }
}
