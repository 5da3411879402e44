//! Loading a questionnaire file: any bytes give a [`Questionnaire`] or a list of diagnostics.
//!
//! The phases, each in its own module:
//! 1. bytes to text (`mod.rs`): size limit, UTF-8 (a bad byte is named by offset and line);
//! 2. text to spanned TOML values (`syntax.rs`): syntax errors in plain words, an unclosed
//!    string reported where it opens;
//! 3. reading the values (`read.rs`): unknown keys (with "did you mean"), wrong types and
//!    missing keys are reported and reading goes on, so every problem shows at once;
//! 4. validating by concern: the header and texts (`header.rs`), names (`names.rs`), choice
//!    lists, sections and items (`items.rs`), media paths (`media.rs`), expressions
//!    (`expressions.rs`, with the type checker in `crate::typecheck`), scoring
//!    (`scoring.rs`) and background roles (`background.rs`).
//!
//! Every look-up goes through a map and line/column are found in one sweep at the end, so
//! loading is linear in the size of the file; limits (`limits.rs`) bound everything else.

mod background;
mod expressions;
mod header;
mod items;
pub mod limits;
mod lint;
mod media;
mod names;
mod parts;
mod read;
mod scoring;
mod syntax;
mod validate;

use std::fmt;

use crate::{Lang, Questionnaire};

/// Whether a problem stops the file from loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The file does not load.
    Error,
    /// Legal but probably not what the author meant; the file loads.
    Warning,
}

/// One problem in a questionnaire file, at a 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    /// A stable name for the kind of problem (`unknown-key`, `bad-media-path`, …): branch on
    /// this, never on the message.
    pub code: &'static str,
    /// What is wrong and what to write instead, in English.
    pub message: String,
    /// The same in Chinese (the checker's default).
    pub message_zh: String,
}

impl Diagnostic {
    pub fn message_in(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.message,
            Lang::ZhCn => &self.message_zh,
        }
    }

    /// `file:line:col: message`, warnings marked as such.
    pub fn line_in(&self, lang: Lang) -> String {
        let mark = match (self.severity, lang) {
            (Severity::Error, _) => "",
            (Severity::Warning, Lang::En) => "warning: ",
            (Severity::Warning, Lang::ZhCn) => "提醒：",
        };
        format!(
            "{}:{}:{}: {mark}{}",
            crate::escape_hidden(self.file.clone()),
            self.line,
            self.column,
            self.message_in(lang)
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line_in(Lang::En))
    }
}

/// Every problem found in one file, in source order (errors and warnings).
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{} problem(s) in the questionnaire", .0.len())]
pub struct Diagnostics(pub Vec<Diagnostic>);

/// `file:line:col: message` lines, one per problem.
pub struct DiagnosticsList<'a>(&'a Diagnostics, Lang);

impl fmt::Display for DiagnosticsList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 .0 {
            writeln!(f, "{}", d.line_in(self.1))?;
        }
        Ok(())
    }
}

impl Diagnostics {
    /// The problems in English, one line each.
    pub fn lines(&self) -> DiagnosticsList<'_> {
        DiagnosticsList(self, Lang::En)
    }

    /// The problems in `lang`, one line each.
    pub fn lines_in(&self, lang: Lang) -> DiagnosticsList<'_> {
        DiagnosticsList(self, lang)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.severity == Severity::Warning)
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

/// What checking a file gives: the questionnaire when there is no error, and every problem
/// (warnings too) either way.
#[derive(Debug, Clone)]
pub struct Checked {
    pub questionnaire: Option<Questionnaire>,
    pub diagnostics: Diagnostics,
}

impl Questionnaire {
    /// Parses and validates a questionnaire file. `file` names the file in diagnostics. Never
    /// panics; reports every problem it can find. Warnings alone do not stop it: see
    /// [`Questionnaire::check_bytes`] to see them.
    pub fn from_toml(file: &str, source: &str) -> Result<Questionnaire, Diagnostics> {
        Self::check_bytes(file, source.as_bytes()).into_result()
    }

    /// Like [`Questionnaire::from_toml`], for a file's bytes as read (not yet known to be text).
    pub fn from_bytes(file: &str, bytes: &[u8]) -> Result<Questionnaire, Diagnostics> {
        Self::check_bytes(file, bytes).into_result()
    }

    /// Checks any bytes as a questionnaire file: the questionnaire when it has no error, and
    /// every problem found (at most [`limits::MAX_DIAGNOSTICS`], then a count of the rest).
    /// Linear in the size of the file.
    pub fn check_bytes(file: &str, bytes: &[u8]) -> Checked {
        Self::check_bytes_with(file, bytes, false)
    }

    /// Like [`Questionnaire::check_bytes`], with the lint for item writing (`lint-…` warnings:
    /// the key as longest option, "all/none of the above", negative stems, …) when the file
    /// has no error. What `zhisu questionnaire check` runs.
    pub fn lint_bytes(file: &str, bytes: &[u8]) -> Checked {
        Self::check_bytes_with(file, bytes, true)
    }

    fn check_bytes_with(file: &str, bytes: &[u8], with_lint: bool) -> Checked {
        let mut reporter = Reporter::default();
        let questionnaire = load(bytes, &mut reporter, with_lint);
        let diagnostics = reporter.finish(file, bytes);
        let questionnaire = questionnaire.filter(|_| !diagnostics.has_errors());
        Checked {
            questionnaire,
            diagnostics,
        }
    }
}

impl Checked {
    fn into_result(self) -> Result<Questionnaire, Diagnostics> {
        match self.questionnaire {
            Some(q) => Ok(q),
            None => Err(self.diagnostics),
        }
    }
}

fn load(bytes: &[u8], r: &mut Reporter, with_lint: bool) -> Option<Questionnaire> {
    if bytes.len() > limits::MAX_FILE_BYTES {
        r.error(
            0,
            "file-too-large",
            format!(
                "the file is {} bytes; a questionnaire file may have at most {} bytes (16 MiB): split it into several questionnaires",
                bytes.len(),
                limits::MAX_FILE_BYTES
            ),
            format!(
                "文件有 {} 字节，问卷文件最多 {} 字节（16 MiB）：请拆成几份问卷",
                bytes.len(),
                limits::MAX_FILE_BYTES
            ),
        );
        return None;
    }
    let source = syntax::text(bytes, r)?;
    let document = syntax::parse(source, r)?;
    let (questionnaire, item_at) = validate::questionnaire(&document, r);
    if with_lint && !r.found.iter().any(|f| f.severity == Severity::Error) {
        lint::lint(&questionnaire, &item_at, r);
    }
    Some(questionnaire)
}

/// A problem found, at a byte offset; line and column are worked out once, at the end.
struct Found {
    offset: usize,
    severity: Severity,
    code: &'static str,
    en: String,
    zh: String,
}

/// Collects problems while a file is read.
#[derive(Default)]
pub(crate) struct Reporter {
    found: Vec<Found>,
    /// Searches for "did you mean" among names from the file so far.
    suggestions: usize,
}

impl Reporter {
    pub(crate) fn error(&mut self, offset: usize, code: &'static str, en: String, zh: String) {
        self.push(offset, Severity::Error, code, en, zh);
    }

    /// Whether a search for "did you mean" among names from the file may be made: at most
    /// [`limits::MAX_SUGGESTIONS`] per file, so a file of misspellings stays linear.
    pub(crate) fn may_suggest(&mut self) -> bool {
        self.suggestions += 1;
        self.suggestions <= limits::MAX_SUGGESTIONS
    }

    pub(crate) fn warn(&mut self, offset: usize, code: &'static str, en: String, zh: String) {
        self.push(offset, Severity::Warning, code, en, zh);
    }

    fn push(
        &mut self,
        offset: usize,
        severity: Severity,
        code: &'static str,
        en: String,
        zh: String,
    ) {
        // text quoted from the file is escaped where it is quoted; this is the safety net
        let (en, zh) = (
            crate::text::escape_hidden(en),
            crate::text::escape_hidden(zh),
        );
        self.found.push(Found {
            offset,
            severity,
            code,
            en,
            zh,
        });
    }

    /// Sorts by position (ties in the order found), keeps the first [`limits::MAX_DIAGNOSTICS`]
    /// and finds every line and column in one sweep over the text.
    fn finish(mut self, file: &str, bytes: &[u8]) -> Diagnostics {
        self.found.sort_by_key(|f| f.offset);
        let total = self.found.len();
        if total > limits::MAX_DIAGNOSTICS {
            let last = self.found[limits::MAX_DIAGNOSTICS - 1].offset;
            self.found.truncate(limits::MAX_DIAGNOSTICS);
            let rest = total - limits::MAX_DIAGNOSTICS;
            self.found.push(Found {
                offset: last,
                severity: Severity::Error,
                code: "too-many-problems",
                en: format!("{rest} more problem(s) not shown: fix these first"),
                zh: format!("还有 {rest} 个问题没有列出：请先改正上面的"),
            });
        }
        let mut sweep = LineSweep::new(bytes);
        let file = file.to_string();
        Diagnostics(
            self.found
                .into_iter()
                .map(|f| {
                    let (line, column) = sweep.position(f.offset);
                    Diagnostic {
                        file: file.clone(),
                        line,
                        column,
                        severity: f.severity,
                        code: f.code,
                        message: f.en,
                        message_zh: f.zh,
                    }
                })
                .collect(),
        )
    }
}

/// Line and column of increasing byte offsets, found by one pass over the bytes. Columns count
/// characters (a byte that is not UTF-8 counts as one); an offset inside a character is that
/// character's position.
struct LineSweep<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
    column: usize,
}

impl<'a> LineSweep<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineSweep {
            bytes,
            at: 0,
            line: 1,
            column: 1,
        }
    }

    fn position(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.bytes.len());
        while self.at < offset {
            let b = self.bytes[self.at];
            if b == b'\n' {
                self.line += 1;
                self.column = 1;
            } else if b & 0xC0 != 0x80 {
                // the first byte of a character (continuation bytes are not counted)
                self.column += 1;
            }
            self.at += 1;
        }
        // inside a character: step back to its first byte's column
        let mut column = self.column;
        if offset < self.bytes.len() && self.bytes[offset] & 0xC0 == 0x80 && column > 1 {
            column -= 1;
        }
        (self.line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(source: &str, offset: usize) -> (usize, usize) {
        LineSweep::new(source.as_bytes()).position(offset)
    }

    #[test]
    fn line_column_counts_characters() {
        let src = "a = 1\n标题 = \"x\"\n";
        assert_eq!(position(src, 0), (1, 1));
        assert_eq!(position(src, 6), (2, 1));
        // "标题 " is 3 characters but 7 bytes
        assert_eq!(position(src, 6 + 7), (2, 4));
        assert_eq!(position(src, 10_000), (3, 1));
        // inside a multi-byte character: the character's own position
        assert_eq!(position(src, 6 + 1), (2, 1));
        assert_eq!(position(src, 6 + 4), (2, 2));
    }

    #[test]
    fn problems_are_capped_and_counted() {
        let mut r = Reporter::default();
        for i in 0..limits::MAX_DIAGNOSTICS + 5 {
            r.error(i, "x", "e".into(), "z".into());
        }
        let d = r.finish("f.toml", &[b' '; 2_000]);
        assert_eq!(d.0.len(), limits::MAX_DIAGNOSTICS + 1);
        assert_eq!(
            d.0.last().unwrap().message,
            "5 more problem(s) not shown: fix these first"
        );
    }
}
