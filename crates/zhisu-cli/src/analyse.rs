//! `zhisu questionnaire analyse`: item analysis of an interview export (the dashboard's CSV,
//! Chinese or English) against the questionnaire it was answered with.
//!
//! The export names each item's column `label（item id）` and writes answers as their labels;
//! this reads them back into answers, scores every interview with the core's rules (so an item
//! not asked stays out of its figures) and hands the outcomes to `zhisu_stats::ItemAnalyser`.
//! Cells it cannot read back are counted and shown, never guessed.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use zhisu_core::{AnswerValue, Answers, Item, ItemKind, Lang, Questionnaire, DONT_KNOW_OPTION};
use zhisu_stats::{item_thresholds, ItemAnalyser, ItemAnalysis, ItemColumn, ItemFlag, Response};

/// A cell that did not read back as an answer of its item.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unread {
    /// 1-based line of the row in the file (the header is line 1).
    pub line: u64,
    pub item: String,
    pub cell: String,
}

/// The interviews of an export, as answers.
#[derive(Debug, Default)]
pub struct Export {
    pub interviews: Vec<Answers>,
    pub unread: Vec<Unread>,
    /// Items of the questionnaire with no column in the export.
    pub missing_columns: Vec<String>,
}

/// The item id at the end of an export header, `label（id）` (or `label (id)`).
fn header_item(header: &str) -> Option<&str> {
    let header = header.trim();
    let (open, close) = if header.ends_with('）') {
        ('（', '）')
    } else if header.ends_with(')') {
        ('(', ')')
    } else {
        return None;
    };
    let inner = &header[..header.len() - close.len_utf8()];
    let start = inner.rfind(open)? + open.len_utf8();
    Some(&inner[start..])
}

/// The cell without the `'` the export puts before text a spreadsheet would run as a formula.
fn unguarded(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t']) => rest,
        _ => cell,
    }
}

fn is_dont_know(cell: &str) -> bool {
    matches!(cell, "不知道" | "don't know" | "Don't know" | "dont_know")
}

/// The key of the choice `cell` names, by its label in any language or by its key.
fn choice_key(item: &Item, cell: &str) -> Option<String> {
    let choices = item.kind.choices();
    choices
        .iter()
        .find(|c| c.label.0.values().any(|l| l.trim() == cell))
        .or_else(|| choices.iter().find(|c| c.key == cell))
        .map(|c| c.key.clone())
}

/// The answer `cell` (already trimmed, not empty) gives `item`, when it reads back as one.
fn answer(item: &Item, cell: &str) -> Option<AnswerValue> {
    if item.dont_know && is_dont_know(cell) {
        return Some(AnswerValue::DontKnow);
    }
    Some(match &item.kind {
        ItemKind::SingleChoice { .. } | ItemKind::Likert { .. } => {
            AnswerValue::Choice(choice_key(item, cell)?)
        }
        ItemKind::MultipleChoice { .. } => AnswerValue::Choices(
            cell.split(['；', ';'])
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(|part| choice_key(item, part))
                .collect::<Option<Vec<_>>>()?,
        ),
        ItemKind::TrueFalse => match cell {
            "是" | "yes" | "Yes" | "true" | "对" => AnswerValue::Bool(true),
            "否" | "no" | "No" | "false" | "错" => AnswerValue::Bool(false),
            _ => return None,
        },
        ItemKind::Integer { .. } => AnswerValue::Integer(cell.parse().ok()?),
        ItemKind::Decimal { .. } => {
            AnswerValue::Decimal(cell.parse::<f64>().ok().filter(|x| x.is_finite())?)
        }
        ItemKind::Text { .. } => AnswerValue::Text(cell.to_string()),
        ItemKind::Date { .. } => AnswerValue::Date(cell.to_string()),
        _ => return None,
    })
}

/// Reads an export (CSV, UTF-8, with or without a byte-order mark) for `questionnaire`.
pub fn read_export(questionnaire: &Questionnaire, bytes: &[u8]) -> anyhow::Result<Export> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader
        .headers()
        .context("the first line of the export is not a row of column names")?
        .clone();
    let items: HashMap<&str, &Item> = questionnaire
        .items
        .iter()
        .filter(|i| i.kind.takes_answer())
        .map(|i| (i.id.as_str(), i))
        .collect();
    let columns: Vec<(usize, &Item)> = headers
        .iter()
        .enumerate()
        .filter_map(|(n, h)| Some((n, *items.get(header_item(h)?)?)))
        .collect();
    anyhow::ensure!(
        columns.iter().any(|(_, item)| item.scoring.is_some()),
        "no column of the export is a scored item of {} (columns are named 'label（item id）'): \
         was it exported for another questionnaire?",
        questionnaire.id
    );
    let mut export = Export {
        missing_columns: questionnaire
            .items
            .iter()
            .filter(|i| i.scoring.is_some() && !columns.iter().any(|(_, c)| c.id == i.id))
            .map(|i| i.id.clone())
            .collect(),
        ..Export::default()
    };
    for record in reader.records() {
        let record = record.context("the export is not a well-formed CSV file")?;
        let line = record.position().map_or(0, |p| p.line());
        let mut answers = Answers::new();
        for &(n, item) in &columns {
            let cell = unguarded(record.get(n).unwrap_or("").trim());
            if cell.is_empty() {
                continue;
            }
            match answer(item, cell) {
                Some(value) => {
                    answers.insert(item.id.clone(), value);
                }
                None => export.unread.push(Unread {
                    line,
                    item: item.id.clone(),
                    cell: zhisu_core::shown(cell),
                }),
            }
        }
        export.interviews.push(answers);
    }
    Ok(export)
}

/// The item analysis of `interviews` answered with `questionnaire`.
pub fn analyse(questionnaire: &Questionnaire, interviews: &[Answers]) -> ItemAnalysis {
    let columns = questionnaire
        .scored_item_options()
        .into_iter()
        .map(|s| ItemColumn {
            id: s.id,
            group: s.group,
            options: s.options,
            keyed: s.keyed,
        })
        .collect();
    let mut analyser = ItemAnalyser::new(columns);
    for answers in interviews {
        let (scores, chosen) = questionnaire.item_outcomes(answers).into_iter().unzip();
        analyser.add(&Response { scores, chosen });
    }
    analyser.finish()
}

fn zh(lang: Lang) -> bool {
    matches!(lang, Lang::ZhCn)
}

fn flag_words(flag: &ItemFlag, lang: Lang) -> String {
    let zh = zh(lang);
    match flag {
        ItemFlag::TooEasy => if zh {
            "太容易（答对率 > 95%）"
        } else {
            "too easy (> 95 % right)"
        }
        .into(),
        ItemFlag::TooHard => if zh {
            "太难（答对率 < 20%）"
        } else {
            "too hard (< 20 % right)"
        }
        .into(),
        ItemFlag::NotDiscriminating => if zh {
            "区分度低（与其他题得分的相关 < 0.20）"
        } else {
            "does not discriminate (correlation with the rest < 0.20)"
        }
        .into(),
        ItemFlag::UnusedDistractors { options } => {
            let list = options.join(", ");
            if zh {
                format!("几乎没人选的错误选项：{list}")
            } else {
                format!("wrong options (almost) nobody chose: {list}")
            }
        }
    }
}

fn share(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |x| format!("{:.1}%", x * 100.0))
}

fn coefficient(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |x| format!("{x:.3}"))
}

/// The analysis as text for a terminal.
pub fn render(analysis: &ItemAnalysis, export: &Export, lang: Lang) -> String {
    use std::fmt::Write;
    let zh = zh(lang);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}",
        if zh { "受访者：" } else { "respondents:" },
        analysis.respondents
    );
    if !export.missing_columns.is_empty() {
        let _ = writeln!(
            out,
            "{} {}",
            if zh {
                "导出文件里没有这些计分题："
            } else {
                "scored items not in the export:"
            },
            export.missing_columns.join(", ")
        );
    }
    if !export.unread.is_empty() {
        let _ = writeln!(
            out,
            "{} {}",
            if zh {
                "读不懂的答案（不计入）："
            } else {
                "answers that did not read back (left out):"
            },
            export.unread.len()
        );
        for u in export.unread.iter().take(10) {
            let _ = writeln!(out, "  line {}, {}: '{}'", u.line, u.item, u.cell);
        }
    }
    let _ = writeln!(
        out,
        "\n{}",
        if zh {
            "各维度的一致性（克朗巴赫 α）"
        } else {
            "Consistency per dimension (Cronbach's alpha)"
        }
    );
    for g in &analysis.groups {
        let _ = writeln!(
            out,
            "  {}: α = {} ({} {}, n = {})",
            g.group,
            coefficient(g.alpha),
            g.items,
            if zh { "题" } else { "items" },
            g.n
        );
    }
    let _ = writeln!(
        out,
        "\n{}",
        if zh {
            "题目：作答人数、答对率、区分度（校正的题总相关）、删除该题后的 α、各选项选择比例"
        } else {
            "Items: asked, share right, discrimination (corrected item–total r), alpha if deleted, share choosing each option"
        }
    );
    for item in &analysis.items {
        let options = item
            .options
            .iter()
            .map(|(o, s)| {
                let o = if o == DONT_KNOW_OPTION && zh {
                    "不知道"
                } else {
                    o
                };
                format!("{o} {:.0}%", s * 100.0)
            })
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "  {} [{}] n = {}, p = {}, r = {}, α−i = {}; {}{}",
            item.id,
            item.group,
            item.n,
            share(item.difficulty),
            coefficient(item.discrimination),
            coefficient(item.alpha_if_deleted),
            options,
            if item.small {
                if zh {
                    format!("（不足 {} 人，不作判断）", item_thresholds::MIN_N)
                } else {
                    format!(" (fewer than {} asked: no flags)", item_thresholds::MIN_N)
                }
            } else {
                String::new()
            }
        );
        for flag in &item.flags {
            let _ = writeln!(out, "      ! {}", flag_words(flag, lang));
        }
    }
    out
}

/// `zhisu questionnaire analyse`: returns whether the export could be analysed.
pub fn run(
    questionnaire: &Questionnaire,
    export_path: &Path,
    json: bool,
    lang: Lang,
) -> anyhow::Result<bool> {
    let bytes = std::fs::read(export_path)
        .with_context(|| format!("cannot read {}", export_path.display()))?;
    let export =
        read_export(questionnaire, &bytes).with_context(|| format!("{}", export_path.display()))?;
    let analysis = analyse(questionnaire, &export.interviews);
    if json {
        let value = serde_json::json!({
            "questionnaire": { "id": questionnaire.id, "version": questionnaire.version },
            "analysis": analysis,
            "unread": export.unread,
            "missing_columns": export.missing_columns,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", render(&analysis, &export, lang));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_name_their_item_at_the_end() {
        assert_eq!(header_item("年龄（age）"), Some("age"));
        assert_eq!(header_item("Age (years) (age)"), Some("age"));
        assert_eq!(header_item("说明（一）（know_1）"), Some("know_1"));
        assert_eq!(header_item("问卷编号"), None);
    }

    #[test]
    fn the_formula_guard_comes_off() {
        assert_eq!(unguarded("'=1+1"), "=1+1");
        assert_eq!(unguarded("'plain"), "'plain");
    }
}
