//! An XLSForm workbook into the TOML questionnaire format. Every feature Zhisu does not
//! support is a [`Problem`] at its sheet, row and column, all found in one pass; nothing here
//! panics on any workbook (a corrupt file, an empty or huge sheet are problems too).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Cursor;

use calamine::{open_workbook_auto_from_rs, Data, Reader};
use zhisu_core::{escape_hidden, BackgroundRole, Expression, Lang};

use super::{column_letters, language_tag, DIMENSIONS_SHEET, TRUE_FALSE_LIST};

/// At most this many rows in a sheet.
pub const MAX_ROWS: usize = 60_000;
/// At most this many problems are listed, then a count of the rest.
pub const MAX_PROBLEMS: usize = 500;

/// Something in the workbook Zhisu cannot take as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub sheet: Option<String>,
    /// 1-based, as the spreadsheet shows it.
    pub row: Option<usize>,
    /// The column's letters and its header (`C (constraint)`).
    pub column: Option<String>,
    /// Whether it stops the import (else it is ignored with a note).
    pub blocking: bool,
    pub en: String,
    pub zh: String,
}

impl Problem {
    /// `file: sheet survey, row 12, column C (constraint): message`.
    pub fn line_in(&self, file: &str, lang: Lang) -> String {
        let mut place = String::new();
        let note = !self.blocking;
        match lang {
            Lang::En => {
                if let Some(s) = &self.sheet {
                    let _ = write!(place, " sheet {s}");
                }
                if let Some(r) = self.row {
                    let _ = write!(place, ", row {r}");
                }
                if let Some(c) = &self.column {
                    let _ = write!(place, ", column {c}");
                }
                let mark = if note { "note: " } else { "" };
                let sep = if place.is_empty() { "" } else { ":" };
                escape_hidden(format!("{file}{sep}{place}: {mark}{}", self.en))
            }
            Lang::ZhCn => {
                if let Some(s) = &self.sheet {
                    let _ = write!(place, "工作表 {s}");
                }
                if let Some(r) = self.row {
                    let _ = write!(place, " 第 {r} 行");
                }
                if let Some(c) = &self.column {
                    let _ = write!(place, " {c} 列");
                }
                let mark = if note { "提醒：" } else { "" };
                let place = if place.is_empty() {
                    place
                } else {
                    format!("{place}：")
                };
                escape_hidden(format!("{file}：{place}{mark}{}", self.zh))
            }
        }
    }
}

/// A sheet read into text cells: its header (column index → name) and its rows.
struct Sheet {
    name: String,
    /// Column index (0-based, absolute) → header text.
    header: Vec<(u32, String)>,
    /// (1-based row number, column index → cell text) for every non-empty row.
    rows: Vec<(usize, BTreeMap<u32, String>)>,
}

impl Sheet {
    fn column(&self, index: u32) -> String {
        let name = self
            .header
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, n)| n.as_str())
            .unwrap_or("");
        format!("{} ({name})", column_letters(index))
    }

    fn index_of(&self, name: &str) -> Option<u32> {
        self.header
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(i, _)| *i)
    }
}

/// What reading gives: the questionnaire as TOML text when nothing blocks, and every problem.
pub struct Imported {
    pub toml: Option<String>,
    pub problems: Vec<Problem>,
    /// Where each block of the TOML came from: (first line, sheet, row), in line order.
    origins: Vec<(usize, String, usize)>,
    /// Each sheet's header, to name the column a TOML key came from.
    headers: BTreeMap<String, Vec<(u32, String)>>,
    default_language: String,
}

/// The TOML written so far, with where each block came from.
struct Out {
    text: String,
    lines: usize,
    origins: Vec<(usize, String, usize)>,
}

impl Out {
    fn block(&mut self, text: &str, sheet: &str, row: usize) {
        self.origins.push((self.lines + 1, sheet.to_string(), row));
        self.text.push_str(text);
        self.lines += text.matches('\n').count();
    }
}

/// The XLSForm column a TOML key is written from, by sheet: (column, language of a text).
fn column_of(sheet: &str, line: &str, column: usize) -> Option<(&'static str, Option<String>)> {
    let (path, _) = line.split_once('=')?;
    let mut parts = path.trim().splitn(2, '.');
    let base = parts.next()?.trim();
    let lang = parts.next().map(|l| l.trim().trim_matches('"').to_string());
    let survey = sheet.eq_ignore_ascii_case("survey");
    let settings = sheet.eq_ignore_ascii_case("settings");
    let name = match base {
        "label" | "title" if survey => "label",
        "label" => "label",
        "hint" => "hint",
        "constraint_message" => "constraint_message",
        "explanation" => "zhisu::explanation",
        "relevant" => "relevant",
        "constraint" => "constraint",
        "choice_filter" => "choice_filter",
        "required" => "required",
        "id" if settings => "form_id",
        "id" | "key" => "name",
        "kind" | "choices" => "type",
        "min" => "zhisu::min",
        "max" => "zhisu::max",
        "max_length" => "zhisu::max_length",
        "dont_know" => "zhisu::dont_know",
        "search" => "appearance",
        "image" => "media::image",
        "image_alt" => "zhisu::image_alt",
        "audio" => "media::audio",
        "population" | "scored_separately" if survey => "zhisu::module",
        "score" => {
            // the inline table: the last of its keys before the reported column
            let before: String = line.chars().take(column).collect();
            match ["dimension", "points", "key"]
                .iter()
                .filter_map(|k| before.rfind(k).map(|at| (at, *k)))
                .max()
            {
                Some((_, "dimension")) => "zhisu::dimension",
                Some((_, "points")) => "zhisu::points",
                _ => "zhisu::key",
            }
        }
        "version" => "version",
        "title" => "form_title",
        "description" => "zhisu::description",
        "literacy_threshold_percent" => "zhisu::literacy_threshold_percent",
        "condition" => "zhisu::eligibility",
        "message" => "zhisu::eligibility_message",
        "fingerprint" => "zhisu::fingerprint",
        "default_language" => "default_language",
        _ => return None,
    };
    Some((name, lang))
}

impl Imported {
    /// A problem the checker found in the written TOML, placed where the author wrote it in
    /// the workbook: the sheet and row of its block, and the column of its key.
    pub fn problem_for(&self, d: &zhisu_core::Diagnostic, toml: &str) -> Problem {
        let origin = self
            .origins
            .iter()
            .rev()
            .find(|(line, _, _)| *line <= d.line);
        let line = toml.lines().nth(d.line.saturating_sub(1)).unwrap_or("");
        let (sheet, row, column) = match origin {
            Some((_, sheet, row)) => {
                let column = column_of(sheet, line, d.column).and_then(|(name, lang)| {
                    let header = self.headers.get(sheet)?;
                    let found = header.iter().find(|(_, h)| {
                        if h.eq_ignore_ascii_case(name)
                            && lang.as_deref().is_none_or(|l| l == self.default_language)
                        {
                            return true;
                        }
                        match (text_column(h, &self.default_language), &lang) {
                            (Some(Column::Text(base, l)), Some(lang)) => {
                                base.eq_ignore_ascii_case(name) && &l == lang
                            }
                            _ => false,
                        }
                    });
                    found.map(|(i, h)| format!("{} ({h})", column_letters(*i)))
                });
                (Some(sheet.clone()), Some(*row), column)
            }
            None => (None, None, None),
        };
        let warning = d.severity == zhisu_core::Severity::Warning;
        Problem {
            sheet,
            row,
            column,
            blocking: !warning,
            en: d.message.clone(),
            zh: d.message_zh.clone(),
        }
    }
}

struct Problems(Vec<Problem>);

impl Problems {
    fn at(
        &mut self,
        sheet: &Sheet,
        row: Option<usize>,
        column: Option<u32>,
        blocking: bool,
        en: String,
        zh: String,
    ) {
        self.0.push(Problem {
            sheet: Some(sheet.name.clone()),
            row,
            column: column.map(|c| sheet.column(c)),
            blocking,
            en,
            zh,
        });
    }
    fn file(&mut self, en: String, zh: String) {
        self.0.push(Problem {
            sheet: None,
            row: None,
            column: None,
            blocking: true,
            en,
            zh,
        });
    }
}

fn cell_text(data: &Data) -> Result<String, &'static str> {
    Ok(match data {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(n) => n.to_string(),
        Data::Float(x) => {
            if x.fract() == 0.0 && x.abs() < 1e15 {
                format!("{}", *x as i64)
            } else {
                format!("{x}")
            }
        }
        Data::Bool(b) => b.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::DateTime(_) => return Err("date"),
        Data::Error(_) => return Err("error"),
    })
}

fn read_sheet<R: std::io::Read + std::io::Seek>(
    workbook: &mut calamine::Sheets<R>,
    name: &str,
    p: &mut Problems,
) -> Option<Sheet> {
    let range = match workbook.worksheet_range(name) {
        Ok(range) => range,
        Err(e) => {
            p.file(
                format!("sheet '{name}' cannot be read ({e})"),
                format!("工作表“{name}”读不出来（{e}）"),
            );
            return None;
        }
    };
    let mut sheet = Sheet {
        name: name.to_string(),
        header: Vec::new(),
        rows: Vec::new(),
    };
    let Some((row0, col0)) = range.start() else {
        return Some(sheet); // empty
    };
    let height = range.height();
    if height > MAX_ROWS + 1 {
        p.at(
            &sheet,
            None,
            None,
            true,
            format!(
                "the sheet has {height} rows; at most {MAX_ROWS} are read: split the questionnaire"
            ),
            format!("这个工作表有 {height} 行，最多只能读 {MAX_ROWS} 行：请把问卷拆小"),
        );
        return None;
    }
    for (r, cells) in range.rows().enumerate() {
        let number = row0 as usize + r + 1;
        let mut row = BTreeMap::new();
        for (c, data) in cells.iter().enumerate() {
            let index = col0 + c as u32;
            match cell_text(data) {
                Ok(text) if text.is_empty() => {}
                Ok(text) => {
                    row.insert(index, text);
                }
                Err(what) => {
                    let (en, zh) = if what == "date" {
                        (
                            "a date cell: write dates as text, YYYY-MM-DD".to_string(),
                            "这是日期格式的单元格：请把日期写成文字，如 2026-03-01".to_string(),
                        )
                    } else {
                        (
                            "the cell holds a spreadsheet error (#N/A, #REF!, …)".to_string(),
                            "单元格里是表格错误（#N/A、#REF! 等）".to_string(),
                        )
                    };
                    p.0.push(Problem {
                        sheet: Some(name.to_string()),
                        row: Some(number),
                        column: Some(column_letters(index)),
                        blocking: true,
                        en,
                        zh,
                    });
                }
            }
        }
        if sheet.header.is_empty() && r == 0 {
            sheet.header = row.into_iter().collect();
        } else if !row.is_empty() {
            sheet.rows.push((number, row));
        }
    }
    Some(sheet)
}

/// A column of the survey, choices or settings sheet, understood.
#[derive(Clone, Debug, PartialEq)]
enum Column {
    Plain(&'static str),
    /// A text column in a language: (`label`, `zh-CN`).
    Text(&'static str, String),
    Attribute(String),
    Role(BackgroundRole),
    Ignored(&'static str, &'static str),
    Unsupported(&'static str, &'static str),
}

const TEXT_COLUMNS: [&str; 9] = [
    "label",
    "hint",
    "constraint_message",
    "zhisu::explanation",
    "zhisu::image_alt",
    "zhisu::title",
    "zhisu::description",
    "zhisu::eligibility_message",
    "form_title",
];

fn text_column(name: &str, default_language: &str) -> Option<Column> {
    for base in TEXT_COLUMNS {
        if name.eq_ignore_ascii_case(base) {
            return Some(Column::Text(base, default_language.to_string()));
        }
        // `label::English (en)`, and the older `label:English`
        for sep in ["::", ":"] {
            if let Some(rest) = name
                .get(..base.len() + sep.len())
                .filter(|head| head.eq_ignore_ascii_case(&format!("{base}{sep}")))
                .map(|_| &name[base.len() + sep.len()..])
            {
                return Some(Column::Text(base, language_tag(rest)));
            }
        }
    }
    None
}

fn survey_column(name: &str, default_language: &str) -> Column {
    if let Some(c) = text_column(name, default_language) {
        return c;
    }
    match name.to_ascii_lowercase().as_str() {
        "type" => Column::Plain("type"),
        "name" => Column::Plain("name"),
        "required" => Column::Plain("required"),
        "relevant" | "relevance" => Column::Plain("relevant"),
        "constraint" => Column::Plain("constraint"),
        "choice_filter" => Column::Plain("choice_filter"),
        "appearance" => Column::Plain("appearance"),
        "media::image" | "image" => Column::Plain("image"),
        "media::audio" | "audio" => Column::Plain("audio"),
        "zhisu::kind" => Column::Plain("zhisu::kind"),
        "zhisu::dont_know" => Column::Plain("zhisu::dont_know"),
        "zhisu::min" => Column::Plain("zhisu::min"),
        "zhisu::max" => Column::Plain("zhisu::max"),
        "zhisu::max_length" => Column::Plain("zhisu::max_length"),
        "zhisu::module" => Column::Plain("zhisu::module"),
        "zhisu::dimension" => Column::Plain("zhisu::dimension"),
        "zhisu::points" => Column::Plain("zhisu::points"),
        "zhisu::key" => Column::Plain("zhisu::key"),
        "calculation" => Column::Unsupported(
            "calculations are not supported: Zhisu has no calculated fields; compute in the analysis",
            "不支持计算（calculation）：智素没有计算题，请在分析时计算",
        ),
        "default" => Column::Unsupported(
            "default answers are not supported: a respondent always answers",
            "不支持默认答案（default）：每题都由答题人回答",
        ),
        "read_only" | "readonly" => Column::Unsupported(
            "read-only fields are not supported: use a note",
            "不支持只读（read_only）：请用说明（note）",
        ),
        "repeat_count" => Column::Unsupported(
            "repeats are not supported",
            "不支持重复组（repeat_count）",
        ),
        "required_message" => Column::Unsupported(
            "required messages are not supported: the app says it in plain words itself",
            "不支持必答提示（required_message）：应用会自己用简单的话提示",
        ),
        "trigger" => Column::Unsupported(
            "triggers are not supported",
            "不支持触发（trigger）",
        ),
        "parameters" => Column::Unsupported(
            "parameters are not supported",
            "不支持参数（parameters）",
        ),
        "media::video" | "video" => Column::Unsupported(
            "videos are not supported: use media::image or media::audio",
            "不支持视频：请用 media::image 或 media::audio",
        ),
        "guidance_hint" => Column::Ignored(
            "guidance hints are not shown by Zhisu: ignored",
            "智素不显示 guidance_hint：已忽略",
        ),
        lower
            if ["media::", "image::", "audio::", "video::", "big-image"]
                .iter()
                .any(|p| lower.starts_with(p)) =>
        {
            Column::Unsupported(
            "media per language are not supported: one media::image and one media::audio for all languages",
            "不支持按语言分开的图片或录音：所有语言共用一个 media::image 和一个 media::audio",
            )
        }
        _ => Column::Unsupported(
            "this column is not an XLSForm column Zhisu supports",
            "智素不支持这一列",
        ),
    }
}

fn columns(sheet: &Sheet, understand: impl Fn(&str) -> Column) -> BTreeMap<u32, Column> {
    sheet
        .header
        .iter()
        .map(|(i, name)| (*i, understand(name)))
        .collect()
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it is letters, digits and `_` (`en`, `gender`), else quoted
/// (`"zh-CN"`, as the shipped files write it).
fn key(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        s.to_string()
    } else {
        quote(s)
    }
}

/// `key = "…"` lines of a text by language (`label."zh-CN" = "…"`), Chinese first.
fn write_texts(out: &mut String, name: &str, texts: &BTreeMap<String, String>) {
    let mut texts: Vec<(&String, &String)> = texts.iter().collect();
    texts.sort_by_key(|(lang, _)| (lang.as_str() != zhisu_core::DEFAULT_LANGUAGE, *lang));
    for (lang, text) in texts {
        let _ = writeln!(out, "{name}.{} = {}", key(lang), quote(text));
    }
}

fn yes(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" | "true()" | "1" | "y" | "是" => Some(true),
        "no" | "false" | "false()" | "0" | "n" | "否" | "" => Some(false),
        _ => None,
    }
}

/// One row of a sheet, its cells by understood column.
struct RowCells<'a> {
    number: usize,
    plain: BTreeMap<&'static str, (u32, &'a str)>,
    texts: BTreeMap<&'static str, BTreeMap<String, String>>,
    attributes: BTreeMap<String, String>,
    roles: BTreeMap<BackgroundRole, (u32, &'a str)>,
}

impl<'a> RowCells<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.plain.get(key).map(|(_, v)| *v)
    }
    fn col(&self, key: &str) -> Option<u32> {
        self.plain.get(key).map(|(c, _)| *c)
    }
    fn text(&self, key: &str) -> Option<&BTreeMap<String, String>> {
        self.texts.get(key).filter(|t| !t.is_empty())
    }
}

fn row_cells<'a>(
    sheet: &Sheet,
    cols: &BTreeMap<u32, Column>,
    number: usize,
    row: &'a BTreeMap<u32, String>,
    reported: &mut BTreeSet<u32>,
    p: &mut Problems,
) -> RowCells<'a> {
    let mut out = RowCells {
        number,
        plain: BTreeMap::new(),
        texts: BTreeMap::new(),
        attributes: BTreeMap::new(),
        roles: BTreeMap::new(),
    };
    for (index, value) in row {
        match cols.get(index) {
            Some(Column::Plain(key)) => {
                out.plain.insert(key, (*index, value.as_str()));
            }
            Some(Column::Text(key, lang)) => {
                out.texts
                    .entry(key)
                    .or_default()
                    .insert(lang.clone(), value.clone());
            }
            Some(Column::Attribute(name)) => {
                out.attributes.insert(name.clone(), value.clone());
            }
            Some(Column::Role(role)) => {
                out.roles.insert(*role, (*index, value.as_str()));
            }
            Some(Column::Ignored(en, zh)) => {
                if reported.insert(*index) {
                    p.at(
                        sheet,
                        Some(number),
                        Some(*index),
                        false,
                        en.to_string(),
                        zh.to_string(),
                    );
                }
            }
            Some(Column::Unsupported(en, zh)) => {
                p.at(
                    sheet,
                    Some(number),
                    Some(*index),
                    true,
                    en.to_string(),
                    zh.to_string(),
                );
            }
            None => p.at(
                sheet,
                Some(number),
                Some(*index),
                true,
                "a value in a column without a header: give the column a name or clear it".into(),
                "这一列没有列名却有内容：请加上列名或删掉内容".into(),
            ),
        }
    }
    out
}

fn check_expression(
    sheet: &Sheet,
    row: &RowCells<'_>,
    key: &str,
    p: &mut Problems,
) -> Option<String> {
    let source = row.get(key)?;
    match Expression::parse(source) {
        Ok(_) => Some(source.to_string()),
        Err(e) => {
            p.at(
                sheet,
                Some(row.number),
                row.col(key),
                true,
                format!(
                    "the expression cannot be used: {} (Zhisu takes ${{name}}, ., and/or/not(), comparisons, + - * div mod, selected(), count-selected(), …)",
                    e.kind.message(Lang::En)
                ),
                format!(
                    "这个表达式用不了：{}（智素支持 ${{name}}、.、and/or/not()、比较、+ - * div mod、selected()、count-selected() 等）",
                    e.kind.message(Lang::ZhCn)
                ),
            );
            None
        }
    }
}

const UNSUPPORTED_TYPES: [(&str, &str, &str); 6] = [
    (
        "begin repeat",
        "repeats are not supported: ask a fixed number of items",
        "不支持重复组（repeat）：请改成固定数量的题目",
    ),
    (
        "end repeat",
        "repeats are not supported: ask a fixed number of items",
        "不支持重复组（repeat）：请改成固定数量的题目",
    ),
    (
        "calculate",
        "calculated fields are not supported: compute in the analysis",
        "不支持计算题（calculate）：请在分析时计算",
    ),
    (
        "select_one_from_file",
        "choices from a file are not supported: put the choices in the choices sheet",
        "不支持从文件读选项：请把选项写进 choices 工作表",
    ),
    (
        "select_multiple_from_file",
        "choices from a file are not supported: put the choices in the choices sheet",
        "不支持从文件读选项：请把选项写进 choices 工作表",
    ),
    (
        "rank",
        "ranking is not supported: use select_multiple or several select_one",
        "不支持排序题（rank）：请用多选题或几道单选题",
    ),
];

const METADATA_TYPES: [&str; 12] = [
    "start",
    "end",
    "today",
    "deviceid",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
    "audit",
    "start-geopoint",
    "background-audio",
];

/// Reads an XLSForm workbook (xlsx, also xls or ods) from its bytes.
pub fn import(bytes: &[u8]) -> Imported {
    let mut p = Problems(Vec::new());
    let toml = read(bytes, &mut p);
    let mut problems = p.0;
    if problems.len() > MAX_PROBLEMS {
        let rest = problems.len() - MAX_PROBLEMS;
        problems.truncate(MAX_PROBLEMS);
        problems.push(Problem {
            sheet: None,
            row: None,
            column: None,
            blocking: true,
            en: format!("{rest} more problem(s) not shown: fix these first"),
            zh: format!("还有 {rest} 个问题没有列出：请先改正上面的"),
        });
    }
    let blocked = problems.iter().any(|p| p.blocking);
    let (toml, origins, headers, default_language) = match toml {
        Some(r) if !blocked => (
            Some(r.out.text),
            r.out.origins,
            r.headers,
            r.default_language,
        ),
        _ => (None, Vec::new(), BTreeMap::new(), String::new()),
    };
    Imported {
        toml,
        problems,
        origins,
        headers,
        default_language,
    }
}

struct SurveyItem {
    toml: String,
    row: usize,
}

struct Read {
    out: Out,
    headers: BTreeMap<String, Vec<(u32, String)>>,
    default_language: String,
}

fn read(bytes: &[u8], p: &mut Problems) -> Option<Read> {
    let mut workbook = match open_workbook_auto_from_rs(Cursor::new(bytes)) {
        Ok(w) => w,
        Err(e) => {
            p.file(
                format!("not a spreadsheet Zhisu can read (xlsx, xls or ods): {e}"),
                format!("这不是能读的表格文件（xlsx、xls 或 ods）：{e}"),
            );
            return None;
        }
    };
    let names = workbook.sheet_names();
    let find = |wanted: &str| {
        names
            .iter()
            .find(|n| n.trim().eq_ignore_ascii_case(wanted))
            .cloned()
    };
    let Some(survey_name) = find("survey") else {
        p.file(
            "the workbook has no 'survey' sheet: an XLSForm needs survey, choices and settings sheets".into(),
            "表格里没有“survey”工作表：XLSForm 需要 survey、choices 和 settings 三个工作表".into(),
        );
        return None;
    };
    let survey = read_sheet(&mut workbook, &survey_name, p)?;
    let choices = match find("choices") {
        Some(n) => read_sheet(&mut workbook, &n, p),
        None => None,
    };
    let settings = match find("settings") {
        Some(n) => read_sheet(&mut workbook, &n, p),
        None => None,
    };
    let dimensions = match find(DIMENSIONS_SHEET) {
        Some(n) => read_sheet(&mut workbook, &n, p),
        None => None,
    };
    for name in &names {
        let known = ["survey", "choices", "settings", DIMENSIONS_SHEET]
            .iter()
            .any(|k| name.trim().eq_ignore_ascii_case(k));
        if !known && name.trim() != "external_choices" {
            p.0.push(Problem {
                sheet: Some(name.clone()),
                row: None,
                column: None,
                blocking: false,
                en: "a sheet Zhisu does not read: ignored".into(),
                zh: "智素不读这个工作表：已忽略".into(),
            });
        } else if name.trim() == "external_choices" {
            p.0.push(Problem {
                sheet: Some(name.clone()),
                row: None,
                column: None,
                blocking: true,
                en: "external choices are not supported: put the choices in the choices sheet"
                    .into(),
                zh: "不支持外部选项（external_choices）：请把选项写进 choices 工作表".into(),
            });
        }
    }

    // settings first: the default language names the plain label columns
    let mut header = String::new();
    let mut default_language = "zh-CN".to_string();
    let mut languages: Vec<String> = Vec::new();
    let add_language = |languages: &mut Vec<String>, lang: &str| {
        if !languages.iter().any(|l| l == lang) {
            languages.push(lang.to_string());
        }
    };
    // without settings the survey is still read, so that every problem shows at once
    let had_settings = settings.is_some();
    let settings_sheet = match settings {
        Some(sheet) => sheet,
        None => {
            p.file(
                "the workbook has no 'settings' sheet: Zhisu needs form_id (the questionnaire id) and version there".into(),
                "表格里没有“settings”工作表：智素需要在那里写 form_id（问卷 id）和 version（版本）".into(),
            );
            Sheet {
                name: "settings".into(),
                header: Vec::new(),
                rows: Vec::new(),
            }
        }
    };
    let settings_sheet = &settings_sheet;
    let mut settings_row = None;
    {
        let settings = settings_sheet;
        if let Some(index) = settings.index_of("default_language") {
            if let Some((_, row)) = settings.rows.first() {
                if let Some(v) = row.get(&index) {
                    default_language = language_tag(v);
                }
            }
        }
        let dl = default_language.clone();
        let cols = columns(settings, |name| {
            if let Some(c) = text_column(name, &dl) {
                return c;
            }
            let lower = name.to_ascii_lowercase();
            if let Some(role) = lower.strip_prefix("zhisu::background::") {
                if let Some(r) = BackgroundRole::ALL.into_iter().find(|r| r.name() == role) {
                    return Column::Role(r);
                }
            }
            match lower.as_str() {
                "form_id" | "id_string" => Column::Plain("form_id"),
                "version" => Column::Plain("version"),
                "default_language" => Column::Plain("default_language"),
                "zhisu::literacy_threshold_percent" => Column::Plain("threshold"),
                "zhisu::eligibility" => Column::Plain("eligibility"),
                "zhisu::fingerprint" => Column::Plain("fingerprint"),
                "instance_name"
                | "style"
                | "public_key"
                | "submission_url"
                | "auto_send"
                | "auto_delete"
                | "allow_choice_duplicates"
                | "namespaces"
                | "clean_text_values"
                | "name" => Column::Ignored(
                    "an ODK setting Zhisu does not need: ignored",
                    "智素用不到的 ODK 设置：已忽略",
                ),
                _ => Column::Unsupported(
                    "this setting is not one Zhisu supports",
                    "智素不支持这个设置",
                ),
            }
        });
        let mut reported = BTreeSet::new();
        for (i, (number, row)) in settings.rows.iter().enumerate() {
            if i > 0 {
                p.at(
                    settings,
                    Some(*number),
                    None,
                    true,
                    "the settings sheet has one row under its header".into(),
                    "settings 工作表在列名下只能有一行".into(),
                );
                continue;
            }
            settings_row = Some(row_cells(settings, &cols, *number, row, &mut reported, p));
        }
    }
    let s = settings_row.unwrap_or(RowCells {
        number: 2,
        plain: BTreeMap::new(),
        texts: BTreeMap::new(),
        attributes: BTreeMap::new(),
        roles: BTreeMap::new(),
    });

    // the survey's columns decide the languages, in their order
    let survey_cols = columns(&survey, |n| survey_column(n, &default_language));
    if survey.header.is_empty() {
        p.at(
            &survey,
            Some(1),
            None,
            true,
            "the survey sheet is empty: it needs a header row (type, name, label) and items".into(),
            "survey 工作表是空的：需要列名（type、name、label）和题目".into(),
        );
        return None;
    }
    for required in ["type", "name"] {
        if !survey_cols.values().any(|c| *c == Column::Plain(required)) {
            p.at(
                &survey,
                Some(1),
                None,
                true,
                format!("the survey sheet has no '{required}' column"),
                format!("survey 工作表没有“{required}”列"),
            );
            return None;
        }
    }
    add_language(&mut languages, &default_language);
    let mut column_languages: Vec<String> = Vec::new();
    for c in survey_cols.values() {
        if let Column::Text(_, lang) = c {
            add_language(&mut column_languages, lang);
        }
    }
    if !column_languages.is_empty() {
        languages = column_languages;
        if !languages.contains(&default_language) {
            languages.insert(0, default_language.clone());
        }
    }

    let _ = writeln!(
        header,
        "# Imported from an XLSForm by `zhisu questionnaire import`."
    );
    let id = s.get("form_id");
    let version = s.get("version");
    if (id.is_none() || version.is_none()) && had_settings {
        p.at(
            settings_sheet,
            Some(s.number),
            None,
            true,
            "settings need form_id (the questionnaire id) and version".into(),
            "settings 需要 form_id（问卷 id）和 version（版本）".into(),
        );
    }
    let _ = writeln!(header, "id = {}", quote(id.unwrap_or("")));
    let _ = writeln!(header, "version = {}", quote(version.unwrap_or("")));
    let _ = writeln!(header, "default_language = {}", quote(&default_language));
    let _ = writeln!(
        header,
        "languages = [{}]",
        languages
            .iter()
            .map(|l| quote(l))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut title = s.text("zhisu::title").cloned().unwrap_or_default();
    if let Some(t) = s.text("form_title") {
        for (lang, text) in t {
            title.insert(lang.clone(), text.clone());
        }
    }
    write_texts(&mut header, "title", &title);
    if let Some(d) = s.text("zhisu::description") {
        write_texts(&mut header, "description", d);
    }
    if let Some(t) = s.get("threshold") {
        match t.parse::<u32>() {
            Ok(n) => {
                let _ = writeln!(header, "literacy_threshold_percent = {n}");
            }
            Err(_) => p.at(
                settings_sheet,
                Some(s.number),
                s.col("threshold"),
                true,
                "the literacy threshold is a whole number of percent (80)".into(),
                "素养判定线是一个整数百分比（如 80）".into(),
            ),
        }
    }
    if let Some(condition) = check_expression(settings_sheet, &s, "eligibility", p) {
        let _ = writeln!(header, "\n[eligibility]\ncondition = {}", quote(&condition));
        if let Some(m) = s.text("zhisu::eligibility_message") {
            write_texts(&mut header, "message", m);
        }
    }
    if !s.roles.is_empty() || s.get("fingerprint").is_some() {
        let _ = writeln!(header, "\n[background]");
        for (role, (_, id)) in &s.roles {
            let _ = writeln!(header, "{} = {}", role.name(), quote(id));
        }
        if let Some(f) = s.get("fingerprint") {
            let ids: Vec<String> = f.split_whitespace().map(quote).collect();
            let _ = writeln!(header, "fingerprint = [{}]", ids.join(", "));
        }
    }

    let mut out = Out {
        lines: 0,
        text: String::new(),
        origins: Vec::new(),
    };
    out.block(&header, &settings_sheet.name, s.number);

    // dimensions
    if let Some(dims) = &dimensions {
        let dl = default_language.clone();
        let cols = columns(dims, |name| match text_column(name, &dl) {
            Some(Column::Text("label", lang)) => Column::Text("label", lang),
            _ if name.eq_ignore_ascii_case("name") || name.eq_ignore_ascii_case("id") => {
                Column::Plain("name")
            }
            _ => Column::Unsupported(
                "a dimension has a name and labels only",
                "维度只有 name 和 label 两类列",
            ),
        });
        let mut reported = BTreeSet::new();
        for (number, row) in &dims.rows {
            let cells = row_cells(dims, &cols, *number, row, &mut reported, p);
            let mut block = format!(
                "\n[[dimensions]]\nid = {}\n",
                quote(cells.get("name").unwrap_or(""))
            );
            if let Some(l) = cells.text("label") {
                write_texts(&mut block, "label", l);
            }
            out.block(&block, &dims.name, *number);
        }
    }

    // choices: lists by name, attributes from the extra columns
    let mut lists: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    let mut list_order: Vec<String> = Vec::new();
    if let Some(choices) = &choices {
        let dl = default_language.clone();
        let cols = columns(choices, |name| {
            if let Some(Column::Text("label", lang)) = text_column(name, &dl) {
                return Column::Text("label", lang);
            }
            let lower = name.to_ascii_lowercase();
            match lower.as_str() {
                "list_name" | "list name" => Column::Plain("list_name"),
                "name" => Column::Plain("name"),
                _ if lower.starts_with("media::")
                    || ["image", "audio", "video", "big-image"].contains(&lower.as_str()) =>
                {
                    Column::Unsupported(
                        "pictures or recordings for choices are not supported: put them on the item",
                        "不支持给选项配图或录音：请放在题目上",
                    )
                }
                _ if lower.starts_with("hint") || lower.contains("::") => Column::Unsupported(
                    "this choices column is not one Zhisu supports",
                    "智素不支持选项表里的这一列",
                ),
                _ => Column::Attribute(name.to_string()),
            }
        });
        let mut reported = BTreeSet::new();
        for (number, row) in &choices.rows {
            let cells = row_cells(choices, &cols, *number, row, &mut reported, p);
            let (Some(list), Some(name)) = (cells.get("list_name"), cells.get("name")) else {
                p.at(
                    choices,
                    Some(*number),
                    None,
                    true,
                    "a choice needs list_name and name".into(),
                    "每个选项都要有 list_name 和 name".into(),
                );
                continue;
            };
            if list == TRUE_FALSE_LIST {
                continue;
            }
            let mut block = format!("\n[[choices.{}]]\nkey = {}\n", key(list), quote(name));
            if let Some(l) = cells.text("label") {
                write_texts(&mut block, "label", l);
            }
            if !cells.attributes.is_empty() {
                let attributes: Vec<String> = cells
                    .attributes
                    .iter()
                    .map(|(k, v)| format!("{} = {}", key(k), quote(v)))
                    .collect();
                let _ = writeln!(block, "attributes = {{ {} }}", attributes.join(", "));
            }
            if !lists.contains_key(list) {
                list_order.push(list.to_string());
            }
            lists
                .entry(list.to_string())
                .or_default()
                .push((block, *number));
        }
        for list in &list_order {
            for (block, number) in &lists[list] {
                out.block(block, &choices.name, *number);
            }
        }
    }

    // survey: groups are sections, the rest items
    let mut sections: Vec<(String, usize)> = Vec::new();
    let mut items: Vec<SurveyItem> = Vec::new();
    let mut current: Option<String> = None;
    let mut declared: BTreeSet<String> = BTreeSet::new();
    let mut reported = BTreeSet::new();
    for (number, row) in &survey.rows {
        let cells = row_cells(&survey, &survey_cols, *number, row, &mut reported, p);
        let Some(kind) = cells.get("type") else {
            p.at(
                &survey,
                Some(*number),
                None,
                true,
                "the row has no type: write one (text, integer, select_one LIST, …) or clear the row".into(),
                "这一行没有 type：请写上题型（text、integer、select_one 列表名……）或清空这一行".into(),
            );
            continue;
        };
        let kind_col = cells.col("type");
        let words: Vec<&str> = kind.split_whitespace().collect();
        let lower = kind.to_ascii_lowercase().replace('_', " ");
        let name = cells.get("name").unwrap_or("");
        if lower == "end group" {
            if current.take().is_none() {
                p.at(
                    &survey,
                    Some(*number),
                    kind_col,
                    true,
                    "'end group' without a 'begin group'".into(),
                    "有“end group”却没有对应的“begin group”".into(),
                );
            }
            continue;
        }
        if lower == "begin group" {
            if current.is_some() {
                p.at(
                    &survey,
                    Some(*number),
                    kind_col,
                    true,
                    "a group inside a group: Zhisu's sections are not nested; close the outer group first".into(),
                    "组里又套了组：智素的章节不能嵌套，请先结束外面的组".into(),
                );
                continue;
            }
            current = Some(name.to_string());
            if declared.insert(name.to_string()) {
                let mut block = format!("\n[[sections]]\nid = {}\n", quote(name));
                if let Some(l) = cells.text("label") {
                    write_texts(&mut block, "title", l);
                }
                if let Some(r) = check_expression(&survey, &cells, "relevant", p) {
                    let _ = writeln!(block, "relevant = {}", quote(&r));
                }
                if let Some(m) = cells.get("zhisu::module") {
                    let _ = writeln!(block, "scored_separately = true\npopulation = {}", quote(m));
                }
                sections.push((block, *number));
            }
            if let Some(a) = cells.get("appearance") {
                p.at(
                    &survey,
                    Some(*number),
                    cells.col("appearance"),
                    false,
                    format!("group appearance '{a}' is ignored: the app shows one item at a time"),
                    format!("组的显示方式“{a}”已忽略：应用一次显示一道题"),
                );
            }
            continue;
        }
        if let Some((_, en, zh)) = UNSUPPORTED_TYPES
            .iter()
            .find(|(t, _, _)| lower == t.replace('_', " ") || words.first() == Some(t))
        {
            p.at(
                &survey,
                Some(*number),
                kind_col,
                true,
                en.to_string(),
                zh.to_string(),
            );
            continue;
        }
        if METADATA_TYPES.contains(&lower.as_str()) {
            p.at(
                &survey,
                Some(*number),
                kind_col,
                false,
                format!(
                    "'{kind}' is ignored: Zhisu records the interview's times and device itself"
                ),
                format!("“{kind}”已忽略：智素自己会记录访谈时间和设备"),
            );
            continue;
        }
        let zhisu_kind = cells.get("zhisu::kind");
        if words.len() > 2 && words.last() == Some(&"or_other") {
            p.at(
                &survey,
                Some(*number),
                kind_col,
                true,
                format!("'{kind}': 'or_other' and other extras after the list name are not supported: add an 'other' choice and a text item with relevant"),
                format!("“{kind}”：不支持列表名后面的 or_other 等写法：请加一个“其他”选项和一道带 relevant 的文字题"),
            );
            continue;
        }
        let (toml_kind, list) = match (words.first().copied(), words.get(1).copied()) {
            (Some("select_one"), Some(TRUE_FALSE_LIST)) => ("true_false", None),
            (Some("select_one"), Some(list)) if zhisu_kind == Some("likert") => {
                ("likert", Some(list))
            }
            (Some("select_one"), Some(list)) => ("single_choice", Some(list)),
            (Some("select_multiple"), Some(list)) => ("multiple_choice", Some(list)),
            (Some("integer"), None) => ("integer", None),
            (Some("decimal"), None) => ("decimal", None),
            (Some("text"), None) => ("text", None),
            (Some("date"), None) => ("date", None),
            (Some("note"), None) => ("note", None),
            _ if words.len() > 2 => {
                p.at(
                    &survey,
                    Some(*number),
                    kind_col,
                    true,
                    format!("type '{kind}' is not supported: use select_one, select_multiple, integer, decimal, text, date or note"),
                    format!("不支持题型“{kind}”：请用 select_one、select_multiple、integer、decimal、text、date 或 note"),
                );
                continue;
            }
            (Some("select_one" | "select_multiple"), None) => {
                p.at(
                    &survey,
                    Some(*number),
                    kind_col,
                    true,
                    format!("'{kind}' needs the name of a choice list: {kind} LIST"),
                    format!("“{kind}”后面要写选项列表的名字：{kind} 列表名"),
                );
                continue;
            }
            _ => {
                p.at(
                    &survey,
                    Some(*number),
                    kind_col,
                    true,
                    format!("type '{kind}' is not supported: use select_one, select_multiple, integer, decimal, text, date or note"),
                    format!("不支持题型“{kind}”：请用 select_one、select_multiple、integer、decimal、text、date 或 note"),
                );
                continue;
            }
        };
        if let Some(list) = list {
            if !lists.contains_key(list) {
                p.at(
                    &survey,
                    Some(*number),
                    kind_col,
                    true,
                    format!("choice list '{list}' is not in the choices sheet"),
                    format!("choices 工作表里没有选项列表“{list}”"),
                );
            }
        }
        let mut t = format!("\n[[items]]\nid = {}\n", quote(name));
        if let Some(section) = &current {
            let _ = writeln!(t, "section = {}", quote(section));
        }
        let _ = writeln!(t, "kind = {}", quote(toml_kind));
        if let Some(list) = list {
            let _ = writeln!(t, "choices = {}", quote(list));
        }
        match cells.get("appearance") {
            Some(a)
                if toml_kind == "single_choice"
                    && a.split_whitespace()
                        .any(|w| w == "autocomplete" || w == "search") =>
            {
                let _ = writeln!(t, "search = true");
            }
            Some(a) => p.at(
                &survey,
                Some(*number),
                cells.col("appearance"),
                false,
                format!("appearance '{a}' is ignored (Zhisu takes 'autocomplete' on select_one)"),
                format!("显示方式“{a}”已忽略（智素只认单选题的 autocomplete）"),
            ),
            None => {}
        }
        if toml_kind != "note" {
            match yes(cells.get("required").unwrap_or("")) {
                Some(b) => {
                    let _ = writeln!(t, "required = {b}");
                }
                None => p.at(
                    &survey,
                    Some(*number),
                    cells.col("required"),
                    true,
                    "required is yes or no; an expression is not supported".into(),
                    "required 只能写 yes 或 no，不支持表达式".into(),
                ),
            }
        }
        if cells.get("zhisu::dont_know").and_then(yes) == Some(true) {
            let _ = writeln!(t, "dont_know = true");
        }
        for bound in ["min", "max"] {
            let Some(v) = cells.get(&format!("zhisu::{bound}")) else {
                continue;
            };
            let value = match toml_kind {
                "integer" => v.parse::<i64>().ok().map(|n| n.to_string()),
                "decimal" => v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .map(|x| format!("{x:?}")),
                "date" => Some(quote(v)),
                _ => None,
            };
            match value {
                Some(value) => {
                    let _ = writeln!(t, "{bound} = {value}");
                }
                None => p.at(
                    &survey,
                    Some(*number),
                    cells.col(&format!("zhisu::{bound}")),
                    true,
                    format!("zhisu::{bound} is a number for integer and decimal items, a date (YYYY-MM-DD) for dates"),
                    format!("zhisu::{bound} 对整数和小数题是数字，对日期题是日期（YYYY-MM-DD）"),
                ),
            }
        }
        if let Some(v) = cells.get("zhisu::max_length") {
            match v.parse::<u32>() {
                Ok(n) => {
                    let _ = writeln!(t, "max_length = {n}");
                }
                Err(_) => p.at(
                    &survey,
                    Some(*number),
                    cells.col("zhisu::max_length"),
                    true,
                    "zhisu::max_length is a whole number of characters".into(),
                    "zhisu::max_length 是一个整数（字数）".into(),
                ),
            }
        }
        if let Some(k) = zhisu_kind.filter(|k| *k != "likert") {
            p.at(
                &survey,
                Some(*number),
                cells.col("zhisu::kind"),
                true,
                format!("zhisu::kind '{k}' is not known: only 'likert' (on select_one) is"),
                format!("不认识 zhisu::kind“{k}”：只能写 likert（用在 select_one 上）"),
            );
        }
        if let Some(l) = cells.text("label") {
            write_texts(&mut t, "label", l);
        }
        if let Some(h) = cells.text("hint") {
            write_texts(&mut t, "hint", h);
        }
        if let Some(r) = check_expression(&survey, &cells, "relevant", p) {
            let _ = writeln!(t, "relevant = {}", quote(&r));
        }
        if let Some(c) = check_expression(&survey, &cells, "constraint", p) {
            let _ = writeln!(t, "constraint = {}", quote(&c));
        }
        if let Some(m) = cells.text("constraint_message") {
            write_texts(&mut t, "constraint_message", m);
        }
        if let Some(c) = check_expression(&survey, &cells, "choice_filter", p) {
            let _ = writeln!(t, "choice_filter = {}", quote(&c));
        }
        for media in ["image", "audio"] {
            if let Some(m) = cells.get(media) {
                let _ = writeln!(t, "{media} = {}", quote(m));
            }
        }
        if let Some(a) = cells.text("zhisu::image_alt") {
            write_texts(&mut t, "image_alt", a);
        }
        if let Some(m) = cells.get("zhisu::module") {
            p.at(
                &survey,
                Some(*number),
                cells.col("zhisu::module"),
                true,
                format!(
                    "zhisu::module '{m}' belongs on a 'begin group' row (the module's section)"
                ),
                format!("zhisu::module“{m}”要写在“begin group”那一行（专题所在的章节）"),
            );
        }
        let dimension = cells.get("zhisu::dimension");
        let key = cells.get("zhisu::key");
        if dimension.is_some() || key.is_some() || cells.get("zhisu::points").is_some() {
            let points = cells.get("zhisu::points").unwrap_or("1");
            let points_ok = points.parse::<u32>().is_ok();
            if !points_ok {
                p.at(
                    &survey,
                    Some(*number),
                    cells.col("zhisu::points"),
                    true,
                    "zhisu::points is a whole number".into(),
                    "zhisu::points 是一个整数".into(),
                );
            }
            let key = key.unwrap_or("");
            let key_toml = match toml_kind {
                "true_false" => match yes(key) {
                    Some(b) if !key.is_empty() => Some(b.to_string()),
                    _ => match key {
                        "对" | "正确" => Some("true".into()),
                        "错" | "错误" => Some("false".into()),
                        _ => None,
                    },
                },
                "multiple_choice" => Some(format!(
                    "[{}]",
                    key.split_whitespace()
                        .map(quote)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                "integer" => key.parse::<i64>().ok().map(|n| n.to_string()),
                _ => Some(quote(key)),
            };
            match key_toml {
                Some(k) if points_ok => {
                    let _ = writeln!(
                        t,
                        "score = {{ dimension = {}, points = {points}, key = {k} }}",
                        quote(dimension.unwrap_or(""))
                    );
                }
                Some(_) => {}
                None => p.at(
                    &survey,
                    Some(*number),
                    cells.col("zhisu::key"),
                    true,
                    "zhisu::key is true or false for a true/false item, a whole number for an integer item".into(),
                    "zhisu::key 对判断题是 true 或 false，对整数题是一个整数".into(),
                ),
            }
        }
        if let Some(e) = cells.text("zhisu::explanation") {
            write_texts(&mut t, "explanation", e);
        }
        items.push(SurveyItem {
            toml: t,
            row: *number,
        });
    }
    if current.is_some() {
        p.at(
            &survey,
            None,
            None,
            true,
            "a 'begin group' is never closed with 'end group'".into(),
            "有“begin group”没有用“end group”结束".into(),
        );
    }
    for (block, number) in &sections {
        out.block(block, &survey.name, *number);
    }
    for item in items {
        out.block(&item.toml, &survey.name, item.row);
    }
    let mut headers = BTreeMap::new();
    for sheet in [
        Some(&survey),
        choices.as_ref(),
        Some(settings_sheet),
        dimensions.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        headers.insert(sheet.name.clone(), sheet.header.clone());
    }
    Some(Read {
        out,
        headers,
        default_language,
    })
}
