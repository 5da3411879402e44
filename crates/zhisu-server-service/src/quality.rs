//! Quality per surveyor and per site (issue 15): interviews, dispositions and their rates,
//! median duration, share flagged and rejection rate, with the outliers marked by the rules
//! of `docs/statistics.md` §12, in the viewer's scope; sortable; as CSV.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zhisu_core::Disposition;
use zhisu_stats::DispositionCounts;

use crate::fieldwork::percent;
use crate::storage::{Scope, Storage};
use crate::wording::district_name;
use crate::{t, StorageError};

/// What the rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityBy {
    Surveyor,
    Site,
}

impl QualityBy {
    pub fn parse(s: Option<&str>) -> QualityBy {
        match s {
            Some("site") => QualityBy::Site,
            _ => QualityBy::Surveyor,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QualityBy::Surveyor => "surveyor",
            QualityBy::Site => "site",
        }
    }
}

/// Why a row is marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outlier {
    /// Median duration under half the overall median.
    Fast,
    /// Share flagged above twice the overall share and 10 points above it.
    Flagged,
    /// Rejection rate above twice the overall rate and 10 points above it.
    Rejected,
    /// RR1 20 points or more below the overall RR1.
    LowResponse,
}

impl Outlier {
    pub fn as_str(self) -> &'static str {
        match self {
            Outlier::Fast => "fast",
            Outlier::Flagged => "flagged",
            Outlier::Rejected => "rejected",
            Outlier::LowResponse => "low_response",
        }
    }

    pub fn label(self, lang: &str) -> &'static str {
        match self {
            Outlier::Fast => t(lang, "用时偏短", "fast"),
            Outlier::Flagged => t(lang, "标记偏多", "often flagged"),
            Outlier::Rejected => t(lang, "退回偏多", "often rejected"),
            Outlier::LowResponse => t(lang, "应答率偏低", "low response"),
        }
    }
}

/// One surveyor (in a district) or one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityLine {
    pub district: Option<String>,
    /// The surveyor or the site.
    pub id: Option<String>,
    /// Interviews stored (rejected ones included).
    pub interviews: u64,
    /// Dispositions: completed are the interviews not rejected in review.
    pub counts: DispositionCounts,
    pub rr1: Option<f64>,
    pub coop3: Option<f64>,
    pub median_duration_min: Option<f64>,
    pub share_flagged: Option<f64>,
    pub rejection_rate: Option<f64>,
    /// Back-checks done with the respondent reached, of this surveyor's interviews (issue 15;
    /// none by site: a back-check is judged by the surveyor checked).
    #[serde(default)]
    pub backchecks: u64,
    /// Their agreement, pooled (`docs/statistics.md` §13).
    #[serde(default)]
    pub backcheck_agreement: Option<f64>,
    /// Those that failed (agreement below the round's threshold).
    #[serde(default)]
    pub backchecks_failed: u64,
    pub outliers: Vec<Outlier>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityTable {
    pub by: QualityBy,
    /// Rates are left out in a population scope (refusals carry no population).
    pub with_rates: bool,
    pub overall: QualityLine,
    pub lines: Vec<QualityLine>,
}

/// The columns the table sorts by.
pub const SORT_COLUMNS: [&str; 8] = [
    "name",
    "interviews",
    "rr1",
    "coop3",
    "duration",
    "flagged",
    "rejected",
    "agreement",
];

/// The median of `values` (sorted here), `None` when empty.
pub fn median(mut values: Vec<i64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2] as f64
    } else {
        (values[n / 2 - 1] + values[n / 2]) as f64 / 2.0
    })
}

#[derive(Default)]
struct Tally {
    interviews: u64,
    rejected: u64,
    flagged: u64,
    durations: Vec<i64>,
    counts: DispositionCounts,
    backchecks: u64,
    backchecks_failed: u64,
    agreement: zhisu_core::Agreement,
}

impl Tally {
    fn line(&self, district: Option<String>, id: Option<String>, with_rates: bool) -> QualityLine {
        let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        let rates = self.counts.rates();
        QualityLine {
            district,
            id,
            interviews: self.interviews,
            counts: self.counts,
            rr1: rates.rr1.filter(|_| with_rates),
            coop3: rates.coop3.filter(|_| with_rates),
            median_duration_min: median(self.durations.clone()).map(|s| s / 60.0),
            share_flagged: ratio(self.flagged, self.interviews),
            rejection_rate: ratio(self.rejected, self.interviews),
            backchecks: self.backchecks,
            backcheck_agreement: self.agreement.share(),
            backchecks_failed: self.backchecks_failed,
            outliers: Vec::new(),
        }
    }
}

/// The smallest number of interviews (for the rates: contacts) a row needs to be marked.
pub const MIN_FOR_OUTLIER: u64 = 3;

/// Marks each line by the rules of `docs/statistics.md` §12 against the overall line.
pub fn mark_outliers(overall: &QualityLine, lines: &mut [QualityLine]) {
    for line in lines {
        let mut marks = Vec::new();
        if line.interviews >= MIN_FOR_OUTLIER {
            if let (Some(d), Some(all)) = (line.median_duration_min, overall.median_duration_min) {
                if d < 0.5 * all {
                    marks.push(Outlier::Fast);
                }
            }
            let above = |x: Option<f64>, all: Option<f64>| match (x, all) {
                (Some(x), Some(all)) => x > (2.0 * all).max(all + 0.10),
                _ => false,
            };
            if above(line.share_flagged, overall.share_flagged) {
                marks.push(Outlier::Flagged);
            }
            if above(line.rejection_rate, overall.rejection_rate) {
                marks.push(Outlier::Rejected);
            }
        }
        if line.counts.total() >= MIN_FOR_OUTLIER {
            if let (Some(r), Some(all)) = (line.rr1, overall.rr1) {
                // 20 points or more below, without floating-point noise deciding the edge
                if r <= all - 0.20 + 1e-9 {
                    marks.push(Outlier::LowResponse);
                }
            }
        }
        line.outliers = marks;
    }
}

/// Sorts by one of [`SORT_COLUMNS`] (unknown: by name), lines without a value last.
pub fn sort_lines(lines: &mut [QualityLine], column: &str, descending: bool) {
    let key = |l: &QualityLine| -> Option<f64> {
        match column {
            "interviews" => Some(l.interviews as f64),
            "rr1" => l.rr1,
            "coop3" => l.coop3,
            "duration" => l.median_duration_min,
            "flagged" => l.share_flagged,
            "rejected" => l.rejection_rate,
            "agreement" => l.backcheck_agreement,
            _ => None,
        }
    };
    if !SORT_COLUMNS[1..].contains(&column) {
        lines.sort_by(|a, b| (&a.district, &a.id).cmp(&(&b.district, &b.id)));
        if descending {
            lines.reverse();
        }
        return;
    }
    lines.sort_by(|a, b| match (key(a), key(b)) {
        (Some(x), Some(y)) => {
            let order = x.total_cmp(&y);
            if descending {
                order.reverse()
            } else {
                order
            }
        }
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
}

/// The quality table of `scope`, one line per surveyor (in a district) or per site.
pub fn quality(
    storage: &dyn Storage,
    scope: &Scope,
    by: QualityBy,
) -> Result<QualityTable, StorageError> {
    let with_rates = !matches!(scope, Scope::Populations(_));
    let key = |district: &Option<String>, site: &Option<String>, surveyor: &Option<String>| {
        (
            district.clone(),
            match by {
                QualityBy::Surveyor => surveyor.clone(),
                QualityBy::Site => site.clone(),
            },
        )
    };
    let mut tallies: BTreeMap<(Option<String>, Option<String>), Tally> = BTreeMap::new();
    let mut overall = Tally::default();
    for row in storage.quality_rows(scope)? {
        for tally in [
            tallies
                .entry(key(&row.district, &row.site_id, &row.surveyor_id))
                .or_default(),
            &mut overall,
        ] {
            tally.interviews += 1;
            if row.qc_status == "rejected" {
                tally.rejected += 1;
            } else {
                tally.counts.completed += 1;
            }
            if row.flagged {
                tally.flagged += 1;
            }
            if let Some(d) = row.duration_s {
                tally.durations.push(d);
            }
        }
    }
    for count in storage.contact_counts(scope)? {
        let disposition = Disposition::from_name(&count.disposition).ok_or_else(|| {
            StorageError::Corrupt(format!("unknown disposition '{}'", count.disposition))
        })?;
        let k = key(&count.district, &count.site_id, &count.surveyor_id);
        for tally in [tallies.entry(k).or_default(), &mut overall] {
            let c = &mut tally.counts;
            match disposition {
                Disposition::Completed => c.completed += count.count,
                Disposition::Partial => c.partial += count.count,
                Disposition::Refused => c.refused += count.count,
                Disposition::NotEligible => c.not_eligible += count.count,
                Disposition::Other => c.other += count.count,
            }
        }
    }
    for task in storage.backcheck_tasks(scope)? {
        let Some(result) = task.result.as_ref().filter(|r| r.reached) else {
            continue;
        };
        let mut tallies_for: Vec<&mut Tally> = Vec::new();
        if by == QualityBy::Surveyor {
            tallies_for.push(
                tallies
                    .entry((task.district.clone(), task.original_surveyor.clone()))
                    .or_default(),
            );
        }
        tallies_for.push(&mut overall);
        for tally in tallies_for {
            tally.backchecks += 1;
            tally.backchecks_failed += u64::from(result.failed);
            tally.agreement = tally.agreement
                + zhisu_core::Agreement {
                    agreed: result.agreed,
                    compared: result.compared,
                };
        }
    }
    let overall = overall.line(None, None, with_rates);
    let mut lines: Vec<QualityLine> = tallies
        .into_iter()
        .map(|((district, id), tally)| tally.line(district, id, with_rates))
        .collect();
    mark_outliers(&overall, &mut lines);
    Ok(QualityTable {
        by,
        with_rates,
        overall,
        lines,
    })
}

fn minutes(x: Option<f64>) -> String {
    x.map(|m| format!("{m:.1}")).unwrap_or_default()
}

/// The table as CSV (the page's download), in the page's order.
pub fn quality_csv(
    table: &QualityTable,
    site_names: &BTreeMap<String, String>,
    lang: &str,
) -> String {
    let (headers, rows) = quality_rows(table, site_names, lang);
    crate::export::csv_text(&headers, &rows)
}

/// The table as an XLSX workbook (the page's other download): the CSV's headers and rows, the
/// counts, rates and minutes as numbers (so a spreadsheet sorts and sums them), and a second sheet
/// saying how each figure is made (`docs/statistics.md` §10, §12, §13).
pub fn quality_xlsx(
    table: &QualityTable,
    site_names: &BTreeMap<String, String>,
    lang: &str,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::export::{add_sheet, Cell};
    let (headers, rows) = quality_rows(table, site_names, lang);
    // the district, the surveyor or site and the outliers are words; every other column a number
    let words = [0, 1, 13];
    let cells = rows.into_iter().map(|row| {
        row.into_iter()
            .enumerate()
            .map(|(c, text)| match text.parse::<f64>() {
                _ if text.is_empty() => Cell::Empty,
                Ok(x) if !words.contains(&c) => Cell::Number(x),
                _ => Cell::Text(text),
            })
            .collect::<Vec<_>>()
    });
    let mut book = rust_xlsxwriter::Workbook::new();
    add_sheet(&mut book, t(lang, "质量", "Quality"), &headers, cells)?;
    let method = [
        (t(lang, "应答率 RR1、合作率 COOP3", "RR1, COOP3"), t(lang, "按 AAPOR 标准定义计算，见 docs/statistics.md 第 10 节；按人群查看时不计算。", "After AAPOR's Standard Definitions, docs/statistics.md §10; not computed in a population scope.")),
        (t(lang, "异常", "Outliers"), t(lang, "与同一表中其他行相比明显偏离的行（规则见 docs/statistics.md 第 12 节）。", "Rows far from the others of the same table (rules in docs/statistics.md §12).")),
        (t(lang, "复核一致 %", "Back-check agreement %"), t(lang, "复核时重问的题中，两次回答一致的比例（docs/statistics.md 第 13 节）。", "The share of re-asked items answered alike at the back-check (docs/statistics.md §13).")),
    ];
    add_sheet(
        &mut book,
        t(lang, "说明", "Method"),
        &[
            t(lang, "数字", "Figure").to_string(),
            t(lang, "怎么算", "How it is made").to_string(),
        ],
        method
            .iter()
            .map(|(a, b)| vec![Cell::Text(a.to_string()), Cell::Text(b.to_string())]),
    )?;
    book.save_to_buffer()
}

/// The table's headers and rows as text, in the page's order.
fn quality_rows(
    table: &QualityTable,
    site_names: &BTreeMap<String, String>,
    lang: &str,
) -> (Vec<String>, Vec<Vec<String>>) {
    let headers: Vec<String> = [
        t(lang, "区县", "district"),
        match table.by {
            QualityBy::Surveyor => t(lang, "调查员", "surveyor"),
            QualityBy::Site => t(lang, "调查点", "site"),
        },
        t(lang, "调查数", "interviews"),
        t(lang, "完成", "completed"),
        t(lang, "中途停止", "partial"),
        t(lang, "拒绝", "refused"),
        t(lang, "不符合条件", "not_eligible"),
        t(lang, "未接触到/其他", "not_reached_other"),
        "RR1 %",
        "COOP3 %",
        t(lang, "用时中位数（分钟）", "median duration (min)"),
        t(lang, "被标记 %", "flagged %"),
        t(lang, "被退回 %", "rejected %"),
        t(lang, "异常", "outliers"),
        t(lang, "复核数", "back-checks"),
        t(lang, "复核一致 %", "back-check agreement %"),
        t(lang, "复核未通过", "back-checks failed"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let line = |l: &QualityLine| {
        let c = &l.counts;
        let name = match (table.by, &l.id) {
            (_, None) => String::new(),
            (QualityBy::Site, Some(id)) => {
                site_names.get(id).cloned().unwrap_or_else(|| id.clone())
            }
            (QualityBy::Surveyor, Some(id)) => id.clone(),
        };
        vec![
            l.district
                .as_deref()
                .map(|d| district_name(d, lang))
                .unwrap_or_default(),
            name,
            l.interviews.to_string(),
            c.completed.to_string(),
            c.partial.to_string(),
            c.refused.to_string(),
            c.not_eligible.to_string(),
            c.other.to_string(),
            percent(l.rr1),
            percent(l.coop3),
            minutes(l.median_duration_min),
            percent(l.share_flagged),
            percent(l.rejection_rate),
            l.outliers
                .iter()
                .map(|o| o.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            l.backchecks.to_string(),
            percent(l.backcheck_agreement),
            l.backchecks_failed.to_string(),
        ]
    };
    let rows: Vec<Vec<String>> = table.lines.iter().map(line).collect();
    (headers, rows)
}
