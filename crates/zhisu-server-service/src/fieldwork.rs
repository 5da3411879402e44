//! Fieldwork accounting (issue 15): every contact by its final disposition, and the AAPOR
//! rates of `docs/statistics.md` §10, overall, per district and per site, in the viewer's
//! scope. Completed interviews are the ones progress counts (accepted, not rejected in review);
//! the other dispositions are the stored contacts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zhisu_core::Disposition;
use zhisu_stats::{DispositionCounts, OutcomeRates};

use crate::storage::{Scope, Storage};
use crate::wording::district_name;
use crate::{t, StorageError};

/// One row: a set of contacts, their counts and rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldworkRow {
    /// The district id, `district/site` for a site, or empty for the whole scope.
    pub key: String,
    pub district: Option<String>,
    pub site_id: Option<String>,
    pub counts: DispositionCounts,
    /// `None` in a population scope (refusals carry no population: the rates would leave
    /// them out).
    pub rates: Option<OutcomeRates>,
}

/// The fieldwork outcomes a scope may read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fieldwork {
    /// False for a population scope: counts only, no rates.
    pub with_rates: bool,
    pub overall: FieldworkRow,
    pub districts: Vec<FieldworkRow>,
    pub sites: Vec<FieldworkRow>,
}

fn add(counts: &mut DispositionCounts, disposition: Disposition, n: u64) {
    match disposition {
        Disposition::Completed => counts.completed += n,
        Disposition::Partial => counts.partial += n,
        Disposition::Refused => counts.refused += n,
        Disposition::NotEligible => counts.not_eligible += n,
        Disposition::Other => counts.other += n,
    }
}

/// Counts and rates of every contact `scope` may read.
pub fn fieldwork(storage: &dyn Storage, scope: &Scope) -> Result<Fieldwork, StorageError> {
    let with_rates = !matches!(scope, Scope::Populations(_));
    let mut by_site: BTreeMap<(Option<String>, Option<String>), DispositionCounts> =
        BTreeMap::new();
    for cell in storage.progress(scope)? {
        add(
            by_site.entry((cell.district, cell.site_id)).or_default(),
            Disposition::Completed,
            cell.count,
        );
    }
    for count in storage.contact_counts(scope)? {
        let disposition = Disposition::from_name(&count.disposition).ok_or_else(|| {
            StorageError::Corrupt(format!("unknown disposition '{}'", count.disposition))
        })?;
        add(
            by_site.entry((count.district, count.site_id)).or_default(),
            disposition,
            count.count,
        );
    }
    let row =
        |key: String, district: Option<String>, site_id, counts: DispositionCounts| FieldworkRow {
            key,
            district,
            site_id,
            rates: with_rates.then(|| counts.rates()),
            counts,
        };
    let mut overall = DispositionCounts::default();
    let mut districts: BTreeMap<Option<String>, DispositionCounts> = BTreeMap::new();
    let mut sites = Vec::new();
    for ((district, site), counts) in by_site {
        overall.add(&counts);
        districts.entry(district.clone()).or_default().add(&counts);
        let key = format!(
            "{}/{}",
            district.as_deref().unwrap_or(""),
            site.as_deref().unwrap_or("")
        );
        sites.push(row(key, district, site, counts));
    }
    Ok(Fieldwork {
        with_rates,
        overall: row(String::new(), None, None, overall),
        districts: districts
            .into_iter()
            .map(|(d, counts)| row(d.clone().unwrap_or_default(), d, None, counts))
            .collect(),
        sites,
    })
}

/// A share as the page and the export print it: `47.1` (per cent, one decimal), or empty.
pub fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.1}", r * 100.0))
        .unwrap_or_default()
}

/// The table as CSV (the dashboard's download): one row for the scope, then each district,
/// then each site, with the counts and the rates in per cent.
pub fn fieldwork_csv(
    fieldwork: &Fieldwork,
    site_names: &BTreeMap<String, String>,
    lang: &str,
) -> String {
    let headers: Vec<String> = [
        t(lang, "层级", "level"),
        t(lang, "区县", "district"),
        t(lang, "调查点", "site"),
        t(lang, "接触总数", "contacts"),
        t(lang, "完成", "completed"),
        t(lang, "中途停止", "partial"),
        t(lang, "拒绝", "refused"),
        t(lang, "不符合条件", "not_eligible"),
        t(lang, "未接触到/其他", "not_reached_other"),
        "RR1 %",
        "RR2 %",
        "COOP3 %",
        "REF1 %",
        "CON1 %",
        t(lang, "合格率 e %", "eligibility e %"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let line = |level: &str, r: &FieldworkRow| {
        let c = &r.counts;
        let rates = r.rates.unwrap_or_default();
        vec![
            level.to_string(),
            r.district
                .as_deref()
                .map(|d| district_name(d, lang))
                .unwrap_or_default(),
            r.site_id
                .as_deref()
                .map(|s| site_names.get(s).cloned().unwrap_or_else(|| s.to_string()))
                .unwrap_or_default(),
            c.total().to_string(),
            c.completed.to_string(),
            c.partial.to_string(),
            c.refused.to_string(),
            c.not_eligible.to_string(),
            c.other.to_string(),
            percent(rates.rr1),
            percent(rates.rr2),
            percent(rates.coop3),
            percent(rates.ref1),
            percent(rates.con1),
            percent(rates.eligibility),
        ]
    };
    let mut rows = vec![line(t(lang, "全部", "all"), &fieldwork.overall)];
    rows.extend(
        fieldwork
            .districts
            .iter()
            .map(|r| line(t(lang, "区县", "district"), r)),
    );
    rows.extend(
        fieldwork
            .sites
            .iter()
            .map(|r| line(t(lang, "调查点", "site"), r)),
    );
    crate::export::csv_text(&headers, &rows)
}

/// One sentence on the contacts and their rates, as both reports print it.
pub fn summary_sentence(fieldwork: &Fieldwork, lang: &str) -> String {
    let c = &fieldwork.overall.counts;
    let counts = if lang.starts_with("en") {
        format!(
            "Contacts recorded: {} (completed {}, partial {}, refused {}, not eligible {}, not reached/other {}).",
            c.total(), c.completed, c.partial, c.refused, c.not_eligible, c.other
        )
    } else {
        format!(
            "共接触 {} 人：完成 {}，中途停止 {}，拒绝 {}，不符合条件 {}，未接触到/其他 {}。",
            c.total(),
            c.completed,
            c.partial,
            c.refused,
            c.not_eligible,
            c.other
        )
    };
    let Some(r) = fieldwork.overall.rates.filter(|_| fieldwork.with_rates) else {
        return format!(
            "{counts}{}",
            t(lang,
              "按人群查看时不计算应答率（拒绝的人在回答所属人群之前就结束了）。",
              " No response rates in a population scope (refusals end before the population is asked).")
        );
    };
    let p = |x: Option<f64>| {
        x.map(|v| format!("{:.1}%", v * 100.0))
            .unwrap_or_else(|| "—".to_string())
    };
    if lang.starts_with("en") {
        format!(
            "{counts} Response rate RR1 {}, RR2 {}; cooperation rate COOP3 {}; refusal rate REF1 {}; contact rate CON1 {}; eligibility rate {} (AAPOR definitions, docs/statistics.md §10).",
            p(r.rr1), p(r.rr2), p(r.coop3), p(r.ref1), p(r.con1), p(r.eligibility)
        )
    } else {
        format!(
            "{counts}应答率 RR1 {}，RR2 {}；合作率 COOP3 {}；拒绝率 REF1 {}；接触率 CON1 {}；合格率 {}（按 AAPOR 标准定义计算）。",
            p(r.rr1), p(r.rr2), p(r.coop3), p(r.ref1), p(r.con1), p(r.eligibility)
        )
    }
}
