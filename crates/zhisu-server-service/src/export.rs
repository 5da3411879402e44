//! Exports of interviews for the viewer's scope and the dashboard's filter: CSV (UTF-8 with a
//! byte-order mark, so Excel opens Chinese text correctly) and XLSX with a data sheet and a
//! codebook sheet. Column headers are the Chinese item labels with the item id; values are the
//! choice labels, so a table opened in Excel reads without the codebook. Each interview carries
//! its sample design (stratum, weight and cluster from the sample plan, as the analysis uses
//! them), so an analyst can redo the estimates in R, Stata or SPSS.

use zhisu_core::age_band;
use zhisu_core::{AnswerValue, Item, Questionnaire};
use zhisu_server_storage::facts::background_answer;
use zhisu_server_storage::{for_each_interview_page, StorageError, StoredInterview};

use crate::analysis::{By, Filter};
use crate::{t, ServerState};

/// The table to export: headers, then rows of cells.
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// (variable, label, type, values) for the codebook
    pub codebook: Vec<[String; 4]>,
}

/// Whether an interview passes the filter, by the same rule as the analysis
/// ([`Filter::admits`]), reading its background answers through the roles of the
/// questionnaire version it was answered with.
pub(crate) fn matches(
    filter: &Filter,
    i: &StoredInterview,
    questionnaire: Option<&Questionnaire>,
) -> bool {
    let answer = |by: By| {
        let q = questionnaire?;
        background_answer(q, &i.interview, by.role()?)
    };
    if !filter.admits_round(i.round.as_deref()) {
        return false;
    }
    filter.admits(|by| match by {
        By::District => i.district.as_deref(),
        By::AgeBand => match answer(by) {
            Some(AnswerValue::Integer(n)) => age_band(*n),
            _ => None,
        },
        _ => match answer(by) {
            Some(AnswerValue::Choice(k)) => Some(k.as_str()),
            _ => None,
        },
    })
}

fn value_label(q: &Questionnaire, item: &Item, value: &AnswerValue, lang: &str) -> String {
    let label = |key: &str| {
        item.kind
            .choices()
            .iter()
            .find(|c| c.key == key)
            .map_or_else(
                || key.to_string(),
                |c| c.label.get(lang, &q.default_language).to_string(),
            )
    };
    match value {
        AnswerValue::Choice(k) => label(k),
        AnswerValue::Choices(ks) => ks.iter().map(|k| label(k)).collect::<Vec<_>>().join("；"),
        AnswerValue::Bool(b) => t(
            lang,
            if *b { "是" } else { "否" },
            if *b { "yes" } else { "no" },
        )
        .to_string(),
        AnswerValue::DontKnow => t(lang, "不知道", "don't know").to_string(),
        other => serde_json::to_value(other)
            .ok()
            .and_then(|v| v.get("value").cloned())
            .map(|v| match v {
                serde_json::Value::String(s) => s,
                v => v.to_string(),
            })
            .unwrap_or_default(),
    }
}

/// An interview's place in the sample design, as the analysis reads it: the stratum and
/// weight of its site in the sample plan (the site looked up in the district the interview
/// counts for), and the cluster, that site (`district/site`). `None` when the interview has no
/// site, or its site has no stratum or no usable weight: it is then counted unweighted.
pub struct Design {
    pub stratum: String,
    pub weight: f64,
    pub cluster: String,
}

/// The sample plan's sites by (district, site): each site's name, and its stratum and weight
/// when it has both (for [`Design`]s).
pub struct SamplePlan(std::collections::HashMap<(String, String), PlannedSite>);

struct PlannedSite {
    name: String,
    design: Option<(String, f64)>,
}

impl SamplePlan {
    pub fn read(storage: &dyn zhisu_server_storage::Storage) -> Result<Self, StorageError> {
        Ok(SamplePlan(
            storage
                .all_sites()?
                .into_iter()
                .map(|s| {
                    let design = match (s.stratum, s.weight) {
                        (Some(stratum), Some(weight)) if weight.is_finite() && weight >= 0.0 => {
                            Some((stratum, weight))
                        }
                        _ => None,
                    };
                    let site = PlannedSite {
                        name: s.name,
                        design,
                    };
                    ((s.district, s.id), site)
                })
                .collect(),
        ))
    }

    fn site(&self, district: Option<&str>, site: &str) -> Option<&PlannedSite> {
        self.0
            .get(&(district.unwrap_or("").to_string(), site.to_string()))
    }

    /// The stratum and weight of a site of the plan (`None` when the plan gives it neither).
    pub fn stratum_and_weight(&self, district: Option<&str>, site: &str) -> Option<(&str, f64)> {
        let (stratum, weight) = self.site(district, site)?.design.as_ref()?;
        Some((stratum.as_str(), *weight))
    }

    /// The name the plan gives a site.
    pub fn site_name(&self, district: Option<&str>, site: &str) -> Option<&str> {
        self.site(district, site).map(|s| s.name.as_str())
    }

    /// The design of `interview` (see [`Design`]).
    pub fn design(&self, interview: &StoredInterview) -> Option<Design> {
        let district = interview.district.as_deref();
        let site = interview.interview.site_id.as_deref()?;
        let (stratum, weight) = self.stratum_and_weight(district, site)?;
        Some(Design {
            stratum: stratum.to_string(),
            weight,
            cluster: format!("{}/{site}", district.unwrap_or("")),
        })
    }
}

/// Builds the export table of `questionnaire_id` (its newest version's items and labels),
/// every column included (see [`table_for`]).
pub fn table(
    state: &ServerState,
    interviews: &[StoredInterview],
    questionnaire_id: &str,
    filter: &Filter,
    lang: &str,
    fallback: chrono::FixedOffset,
) -> Result<Table, StorageError> {
    table_for(
        state,
        interviews,
        questionnaire_id,
        filter,
        lang,
        fallback,
        false,
    )
}

/// Builds the export table of `questionnaire_id` from `interviews` ([`Layout`]).
pub fn table_for(
    state: &ServerState,
    interviews: &[StoredInterview],
    questionnaire_id: &str,
    filter: &Filter,
    lang: &str,
    fallback: chrono::FixedOffset,
    minimised: bool,
) -> Result<Table, StorageError> {
    let layout = Layout::new(state, questionnaire_id, lang, fallback, minimised)?;
    let rows = interviews
        .iter()
        .filter_map(|i| layout.row(i, filter))
        .collect();
    Ok(Table {
        headers: layout.headers,
        rows,
        codebook: layout.codebook,
    })
}

/// [`table_for`] of every interview `scope` may read, read a page at a time ([`CSV_PAGE`], in
/// order of receipt): the table's rows are kept, the interviews (answers, paradata) are not.
pub fn table_of_store(
    state: &ServerState,
    scope: &zhisu_server_storage::Scope,
    questionnaire_id: &str,
    filter: &Filter,
    lang: &str,
    fallback: chrono::FixedOffset,
    minimised: bool,
) -> Result<Table, StorageError> {
    let layout = Layout::new(state, questionnaire_id, lang, fallback, minimised)?;
    let mut rows = Vec::new();
    for_each_interview_page(state.storage.as_ref(), scope, CSV_PAGE, &mut |page| {
        rows.extend(page.iter().filter_map(|i| layout.row(i, filter)));
        true
    })?;
    Ok(Table {
        headers: layout.headers,
        rows,
        codebook: layout.codebook,
    })
}

/// The columns of an export of `questionnaire_id` (its newest version's items and labels) and
/// how an interview becomes a row: what [`table_for`] and [`write_csv`] share.
///
/// Completion times are shown in the interview's own local time (the offset its device
/// recorded); `fallback` is used when that offset is not a real one. Each interview carries
/// the respondent's consent and the version of the consent text it was given to
/// ([`privacy::consent_text_version`]). `minimised` (a department viewer, see
/// [`privacy::reads_minimised`]): without the surveyor, the fingerprint items no analysis
/// uses ([`privacy::withheld_items`]), and with the age band in place of the age.
pub struct Layout {
    registry: std::sync::Arc<crate::QuestionnaireRegistry>,
    latest: Option<std::sync::Arc<crate::questionnaires::Published>>,
    plan: SamplePlan,
    items: Vec<Item>,
    dims: Vec<(String, String)>,
    keep: Vec<bool>,
    age_item: Option<String>,
    minimised: bool,
    questionnaire_id: String,
    lang: String,
    fallback: chrono::FixedOffset,
    pub headers: Vec<String>,
    /// (variable, label, type, values) for the codebook
    pub codebook: Vec<[String; 4]>,
}

impl Layout {
    pub fn new(
        state: &ServerState,
        questionnaire_id: &str,
        lang: &str,
        fallback: chrono::FixedOffset,
        minimised: bool,
    ) -> Result<Layout, StorageError> {
        let latest = state.questionnaires.newest(questionnaire_id);
        let plan = SamplePlan::read(state.storage.as_ref())?;
        let fixed: Vec<(&str, &str, &str)> = vec![
            ("id", "问卷编号", "Interview id"),
            ("questionnaire_version", "问卷版本", "Questionnaire version"),
            ("district", "区县", "District"),
            ("district_name", "区县名称", "District name"),
            ("site_id", "调查点", "Site"),
            ("site_name", "调查点名称", "Site name"),
            ("stratum", "抽样层", "Stratum"),
            ("weight", "抽样权重", "Weight"),
            ("cluster", "整群（抽样单位）", "Cluster (sampling unit)"),
            ("surveyor_id", "调查员", "Surveyor"),
            ("completed_at", "完成时间", "Completed (local time)"),
            ("duration_min", "用时（分钟）", "Duration (minutes)"),
            ("score", "得分", "Score"),
            ("max_score", "满分", "Maximum score"),
            ("has_literacy", "具备职业健康素养", "Has literacy"),
            ("qc_status", "质控状态", "Quality review"),
            ("consent", "同意参加", "Consent"),
            (
                "consent_text_version",
                "知情同意文本版本",
                "Consent text version",
            ),
            (
                "material_points",
                "反馈页显示的答错知识点数",
                "Wrong knowledge points shown on the feedback page",
            ),
            (
                "material_take_home_qr",
                "出示了带回家的二维码",
                "Take-home QR code shown",
            ),
            ("material_pieces", "显示的学习材料", "Library pieces shown"),
        ];
        // the fixed columns a minimised reader gets
        let keep: Vec<bool> = fixed
            .iter()
            .map(|(var, _, _)| !(minimised && *var == "surveyor_id"))
            .collect();
        let fixed: Vec<(&str, &str, &str)> = fixed
            .into_iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(f, _)| f)
            .collect();
        let mut headers: Vec<String> = fixed
            .iter()
            .map(|(_, zh, en)| t(lang, zh, en).to_string())
            .collect();
        let mut codebook: Vec<[String; 4]> = fixed
            .iter()
            .map(|(var, zh, en)| {
                [
                    var.to_string(),
                    t(lang, zh, en).to_string(),
                    "meta".into(),
                    design_note(var, lang).to_string(),
                ]
            })
            .collect();
        let withheld = match (&latest, minimised) {
            (Some(p), true) => crate::privacy::withheld_items(&p.questionnaire),
            _ => Vec::new(),
        };
        let age_item = latest
            .as_ref()
            .and_then(|p| {
                p.questionnaire
                    .background_item(zhisu_core::BackgroundRole::Age)
            })
            .map(|item| item.id.clone());
        let (items, dims): (Vec<Item>, Vec<(String, String)>) = match &latest {
            Some(p) => {
                let q = &p.questionnaire;
                (
                    q.items
                        .iter()
                        .filter(|i| i.kind.takes_answer() && !withheld.contains(&i.id))
                        .cloned()
                        .collect(),
                    q.dimensions
                        .iter()
                        .map(|d| {
                            (
                                d.id.clone(),
                                d.label.get(lang, &q.default_language).to_string(),
                            )
                        })
                        .collect(),
                )
            }
            None => (Vec::new(), Vec::new()),
        };
        for (id, label) in &dims {
            let h = format!("{}{}", label, t(lang, "素养", " literacy"));
            codebook.push([
                format!("dimension_{id}"),
                h.clone(),
                "yes/no".into(),
                String::new(),
            ]);
            headers.push(h);
        }
        if let Some(p) = &latest {
            let q = &p.questionnaire;
            for item in &items {
                let label = item.label.get(lang, &q.default_language);
                headers.push(format!("{label}（{}）", item.id));
                let values = item
                    .kind
                    .choices()
                    .iter()
                    .map(|c| format!("{} = {}", c.key, c.label.get(lang, &q.default_language)))
                    .collect::<Vec<_>>()
                    .join("; ");
                codebook.push([
                    item.id.clone(),
                    label.to_string(),
                    item.kind.name().to_string(),
                    values,
                ]);
            }
        }
        codebook.push([
            "_note".into(),
            t(
                lang,
                "CSV 文件中以 =、+、-、@ 开头的文字前加了一个 '，以免 Excel 或 WPS 把它当作公式运行；超过 32767 个字的内容被截断并以“…[cut]”结尾。",
                "In the CSV file, text that begins with =, +, - or @ has a ' put in front, so that Excel or WPS does not run it as a formula; text longer than 32,767 characters is cut and ends with \"…[cut]\".",
            )
            .into(),
            "note".into(),
            String::new(),
        ]);
        Ok(Layout {
            registry: state.questionnaires.clone(),
            latest,
            plan,
            items,
            dims,
            keep,
            age_item,
            minimised,
            questionnaire_id: questionnaire_id.to_string(),
            lang: lang.to_string(),
            fallback,
            headers,
            codebook,
        })
    }

    /// The row of interview `i`, when it is of this questionnaire and passes `filter`.
    pub fn row(&self, i: &StoredInterview, filter: &Filter) -> Option<Vec<String>> {
        let (lang, fallback, plan) = (self.lang.as_str(), self.fallback, &self.plan);
        let yes_no = |b: bool| {
            t(
                lang,
                if b { "是" } else { "否" },
                if b { "yes" } else { "no" },
            )
            .to_string()
        };
        let iv = &i.interview;
        if iv.questionnaire_id != self.questionnaire_id {
            return None;
        }
        // the version it was answered with, when the server has it
        let own = self
            .registry
            .get(&iv.questionnaire_id, &iv.questionnaire_version);
        if !matches(filter, i, own.as_ref().map(|o| &o.questionnaire)) {
            return None;
        }
        let local = iv
            .utc_offset_minutes
            .checked_mul(60)
            .and_then(chrono::FixedOffset::east_opt)
            .unwrap_or(fallback);
        let design = plan.design(i);
        let mut row = vec![
            iv.id.to_string(),
            iv.questionnaire_version.clone(),
            i.district.clone().unwrap_or_default(),
            i.district
                .as_deref()
                .map(|d| crate::districts::district_name(d, lang))
                .unwrap_or_default(),
            iv.site_id.clone().unwrap_or_default(),
            iv.site_id
                .as_deref()
                .and_then(|s| plan.site_name(i.district.as_deref(), s))
                .unwrap_or_default()
                .to_string(),
            design
                .as_ref()
                .map(|d| d.stratum.clone())
                .unwrap_or_default(),
            design
                .as_ref()
                .map(|d| d.weight.to_string())
                .unwrap_or_default(),
            design.map(|d| d.cluster).unwrap_or_default(),
            iv.surveyor_id.clone().unwrap_or_default(),
            iv.completed_at
                .with_timezone(&local)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            format!(
                "{:.1}",
                (iv.completed_at - iv.started_at).num_seconds().max(0) as f64 / 60.0
            ),
            i.score.score.to_string(),
            i.score.max.to_string(),
            yes_no(i.score.has_literacy),
            i.qc_status.clone().unwrap_or_default(),
        ];
        // consent as the version answered recorded it (the newest version when the server
        // no longer has that one)
        let asked = own
            .as_ref()
            .map(|o| &o.questionnaire)
            .or(self.latest.as_ref().map(|p| &p.questionnaire));
        row.push(
            asked
                .and_then(|q| crate::privacy::consent_answer(q, iv))
                .map(yes_no)
                .unwrap_or_default(),
        );
        // as kept at ingest; computed from the questionnaire for interviews stored before
        row.push(
            i.consent_text_version
                .clone()
                .or_else(|| asked.and_then(crate::privacy::consent_text_version))
                .unwrap_or_default(),
        );
        // what the feedback page offered (issue 24); empty for tablets that did not say
        let material = iv.paradata.as_ref().and_then(|p| p.material.as_ref());
        row.push(material.map(|m| m.points.to_string()).unwrap_or_default());
        row.push(material.map(|m| yes_no(m.take_home_qr)).unwrap_or_default());
        row.push(material.map(|m| m.pieces.join(" ")).unwrap_or_default());
        let mut row: Vec<String> = row
            .into_iter()
            .zip(&self.keep)
            .filter(|(_, k)| **k)
            .map(|(cell, _)| cell)
            .collect();
        for (id, _) in &self.dims {
            row.push(
                i.score
                    .dimensions
                    .iter()
                    .find(|d| &d.dimension == id)
                    .map(|d| yes_no(d.has_literacy))
                    .unwrap_or_default(),
            );
        }
        if let Some(p) = &self.latest {
            // answers labelled with the version they were given in, when the server has it
            let q = own.as_ref().map_or(&p.questionnaire, |o| &o.questionnaire);
            for item in &self.items {
                let item = q.item(&item.id).unwrap_or(item);
                let value = iv.answers.get(&item.id);
                row.push(match value {
                    // a minimised reader gets the age band, not the age
                    Some(AnswerValue::Integer(age))
                        if self.minimised && self.age_item.as_deref() == Some(item.id.as_str()) =>
                    {
                        age_band(*age).unwrap_or_default().to_string()
                    }
                    Some(v) => value_label(q, item, v, lang),
                    None => String::new(),
                });
            }
        }
        Some(row)
    }
}

/// Interviews read from storage at a time by [`write_csv`].
pub const CSV_PAGE: usize = 500;

/// The CSV export (as [`file`] makes it of [`table_for`]) of every interview `scope` may read,
/// written to `sink` a page of interviews at a time ([`CSV_PAGE`], in order of receipt), so
/// that memory stays flat however many there are. `sink` returns false when nobody reads any
/// more (the download was cut): the export stops there. Returns the rows written, and whether
/// it was written to the end.
#[allow(clippy::too_many_arguments)]
pub fn write_csv(
    state: &ServerState,
    scope: &zhisu_server_storage::Scope,
    questionnaire_id: &str,
    filter: &Filter,
    lang: &str,
    fallback: chrono::FixedOffset,
    minimised: bool,
    sink: &mut dyn FnMut(Vec<u8>) -> bool,
) -> Result<(usize, bool), StorageError> {
    let layout = Layout::new(state, questionnaire_id, lang, fallback, minimised)?;
    let mut chunk = String::from("\u{feff}");
    push_csv_line(&mut chunk, &layout.headers);
    let mut rows = 0;
    let finished = for_each_interview_page(state.storage.as_ref(), scope, CSV_PAGE, &mut |page| {
        for i in page {
            if let Some(row) = layout.row(i, filter) {
                push_csv_line(&mut chunk, &row);
                rows += 1;
            }
        }
        chunk.is_empty() || sink(std::mem::take(&mut chunk).into_bytes())
    })?;
    if !finished {
        return Ok((rows, false));
    }
    if !chunk.is_empty() && !sink(chunk.into_bytes()) {
        return Ok((rows, false));
    }
    Ok((rows, true))
}

/// What the codebook says of the design columns (nothing for the other meta columns).
fn design_note(variable: &str, lang: &str) -> &'static str {
    match variable {
        "stratum" => t(
            lang,
            "调查点在抽样方案中的层；为空表示该问卷没有抽样设计（无调查点，或调查点没有层和权重），按未加权计算。",
            "The stratum of the interview's site in the sample plan; empty when the interview has no design (no site, or a site without stratum and weight): it is counted unweighted.",
        ),
        "weight" => t(
            lang,
            "抽样权重：该调查点每名受访者代表的劳动者人数（抽样方案中调查点的权重）。",
            "Sampling weight: how many workers each respondent of the site stands for (the site's weight in the sample plan).",
        ),
        "cluster" => t(
            lang,
            "整群（初级抽样单位）：调查点，写作“区县/调查点”；群嵌套在层内。设计加权估计：加权比率、Taylor 线性化、层内群间有放回方差（R: svydesign(ids = ~cluster, strata = ~stratum, weights = ~weight, nest = TRUE)）。被质控退回的问卷不计入估计。",
            "Cluster (primary sampling unit): the site, written district/site; clusters are nested in strata. Design-based estimates: weighted ratio, Taylor linearisation, with-replacement variance between clusters within strata (R: svydesign(ids = ~cluster, strata = ~stratum, weights = ~weight, nest = TRUE)). Interviews rejected in quality review are not counted in estimates.",
        ),
        "consent_text_version" => t(
            lang,
            "受访者听到并回答的知情同意文字（调查说明和“是否愿意参加”问题，各语言）的版本：其 SHA-256 的前 16 位。文字相同，版本相同；改动一个字，版本就变。",
            "The version of the consent text the respondent heard and answered (the introduction and the question whether they agree to take part, in every language): the first 16 hex digits of its SHA-256. The same wording gives the same version; any change of a word, a new one.",
        ),
        "material_points" => t(
            lang,
            "问卷完成后的反馈页上，和正确答案一起显示的答错计分题数（受访者看到了哪些要多学的知识）；为空表示平板没有记录（旧版平板），0 表示没有显示。",
            "How many scored items answered wrong the feedback page after the interview showed with their right answers; empty when the tablet did not record it (older tablets), 0 when none was shown.",
        ),
        "material_pieces" => t(
            lang,
            "反馈页上显示的学习材料（学习材料库中的编号，以空格分隔）。",
            "The education library pieces the feedback page showed (their ids, separated by spaces).",
        ),
        _ => "",
    }
}

/// The most characters a spreadsheet cell holds (Excel's and WPS's limit).
pub const MAX_CELL_CHARS: usize = 32_767;
const CUT_MARK: &str = "…[cut]";

/// Text fit for any cell of an export, whatever is stored: control and invisible characters
/// (line breaks and tabs kept) become U+FFFD, and text longer than a cell holds is cut, with
/// `…[cut]` at the end.
pub fn cell_text(s: &str) -> String {
    let keep = MAX_CELL_CHARS - CUT_MARK.chars().count();
    let mut out = String::with_capacity(s.len().min(4 * MAX_CELL_CHARS));
    for (n, c) in s.chars().enumerate() {
        if n == keep && s.chars().nth(MAX_CELL_CHARS).is_some() {
            out.push_str(CUT_MARK);
            break;
        }
        let hidden = zhisu_protocol::limits::is_hidden(c, true) || c == '\r';
        out.push(if hidden { '\u{FFFD}' } else { c });
    }
    out
}

/// Whether a spreadsheet would read `s` as a formula (or as a command in older versions):
/// it begins with `=`, `+`, `-`, `@`, a tab or a carriage return and is not a plain number.
fn reads_as_formula(s: &str) -> bool {
    let plain_number = s.parse::<f64>().is_ok_and(f64::is_finite)
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'.');
    s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !plain_number
}

/// One CSV cell: fit for a cell, quoted when needed, and a text that a spreadsheet would run as
/// a formula gets a `'` in front (formula injection: said in the codebook).
fn csv_cell(s: &str) -> String {
    let mut s = cell_text(s);
    if reads_as_formula(&s) {
        s.insert(0, '\'');
    }
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub fn csv_text(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::from("\u{feff}");
    for row in std::iter::once(headers).chain(rows.iter().map(Vec::as_slice)) {
        push_csv_line(&mut out, row);
    }
    out
}

/// One CSV line (cells as [`csv_cell`] writes them) and its CRLF.
fn push_csv_line(out: &mut String, row: &[String]) {
    for (i, c) in row.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_cell(c));
    }
    out.push_str("\r\n");
}

/// One cell of a sheet in a workbook.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl Cell {
    /// The cell as CSV text (numbers as Rust prints them: shortest exact form).
    pub fn csv(self) -> String {
        match self {
            Cell::Text(s) => s,
            Cell::Number(x) => x.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// The XLSX media type.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Adds a sheet to `book`: the headers in bold on the first row (frozen, with the first
/// column), then the rows; text fit for a cell ([`cell_text`]), numbers as numbers.
pub fn add_sheet(
    book: &mut rust_xlsxwriter::Workbook,
    name: &str,
    headers: &[String],
    rows: impl IntoIterator<Item = Vec<Cell>>,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let sheet = book.add_worksheet().set_name(name)?;
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, h, &bold)?;
    }
    for (r, row) in rows.into_iter().enumerate() {
        for (c, cell) in row.into_iter().enumerate() {
            let (r, c) = ((r + 1) as u32, c as u16);
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, c, cell_text(&s))?;
                }
                Cell::Number(x) if x.is_finite() => {
                    sheet.write_number(r, c, x)?;
                }
                Cell::Number(_) | Cell::Empty => {}
            }
        }
    }
    sheet.set_freeze_panes(1, 1)?;
    Ok(())
}

/// The workbook: sheet 1 the data, sheet 2 the codebook.
pub fn xlsx_bytes(table: &Table, lang: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let text_rows = |rows: &[Vec<String>]| -> Vec<Vec<Cell>> {
        rows.iter()
            .map(|row| row.iter().map(|c| Cell::Text(c.clone())).collect())
            .collect()
    };
    add_sheet(
        &mut book,
        t(lang, "数据", "Data"),
        &table.headers,
        text_rows(&table.rows),
    )?;
    let codebook_headers = [
        t(lang, "变量", "Variable"),
        t(lang, "标签", "Label"),
        t(lang, "类型", "Type"),
        t(lang, "取值", "Values"),
    ]
    .map(str::to_string);
    let codebook_rows: Vec<Vec<String>> = table.codebook.iter().map(|r| r.to_vec()).collect();
    add_sheet(
        &mut book,
        t(lang, "编码本", "Codebook"),
        &codebook_headers,
        text_rows(&codebook_rows),
    )?;
    book.save_to_buffer()
}

/// What the dashboard hands out of a [`Table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The interviews, one row each (UTF-8 with a byte-order mark, so Excel reads Chinese).
    Csv,
    /// The codebook: variable, label, type, values.
    CodebookCsv,
    /// The workbook: sheet 1 the data, sheet 2 the codebook.
    Xlsx,
}

/// A file to download.
#[derive(Debug)]
pub struct File {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    /// A safe file name (letters, digits, `-`, `_`, `.` only).
    pub name: String,
    /// Rows of data in it.
    pub rows: usize,
}

/// A questionnaire id fit for a file name: letters, digits, `-`, `_` and `.` only, at most 64.
pub fn file_stem(questionnaire_id: &str) -> String {
    questionnaire_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

/// The file of `table` in `format`, named after the questionnaire.
pub fn file(
    table: &Table,
    format: Format,
    questionnaire_id: &str,
    lang: &str,
) -> Result<File, rust_xlsxwriter::XlsxError> {
    let stem = file_stem(questionnaire_id);
    Ok(match format {
        Format::Csv => File {
            bytes: csv_text(&table.headers, &table.rows).into_bytes(),
            content_type: "text/csv; charset=utf-8",
            name: format!("zhisu-{stem}.csv"),
            rows: table.rows.len(),
        },
        Format::CodebookCsv => {
            let headers =
                ["变量 variable", "标签 label", "类型 type", "取值 values"].map(String::from);
            let rows: Vec<Vec<String>> = table.codebook.iter().map(|r| r.to_vec()).collect();
            File {
                bytes: csv_text(&headers, &rows).into_bytes(),
                content_type: "text/csv; charset=utf-8",
                name: format!("zhisu-{stem}-codebook.csv"),
                rows: rows.len(),
            }
        }
        Format::Xlsx => File {
            bytes: xlsx_bytes(table, lang)?,
            content_type: XLSX,
            name: format!("zhisu-{stem}.xlsx"),
            rows: table.rows.len(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_ends_with_the_only_cr_of_its_line() {
        let rows = vec![
            vec!["a\r\nb".to_string(), "c\rd\ne".into()],
            vec!["plain".into(), "=1+1".into()],
        ];
        let text = csv_text(&["x".into(), "y".into()], &rows);
        // a cell keeps LF but no CR (cell_text), so a reader counts rows by CRs as they stream
        assert_eq!(text.matches('\r').count(), 3, "{text:?}");
    }

    #[test]
    fn file_names_carry_no_header_or_path_characters() {
        let table = Table {
            headers: vec!["a".into()],
            rows: vec![vec!["1".into()]],
            codebook: vec![],
        };
        let f = file(&table, Format::Csv, "q\"\r\n/../x", "zh-CN").unwrap();
        assert_eq!(f.name, "zhisu-q____.._x.csv");
        assert_eq!(f.rows, 1);
        assert!(f.bytes.starts_with("\u{feff}".as_bytes()));
        let book = file(&table, Format::Xlsx, "ohl_2026", "en").unwrap();
        assert!(book.bytes.starts_with(b"PK"), "a zip container");
        assert_eq!(
            file(&table, Format::CodebookCsv, "q", "en").unwrap().rows,
            0
        );
    }
}
