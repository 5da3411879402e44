//! The sentences both reports (the HTML quick view and the annual DOCX report) say the same way:
//! whose interviews a report covers, in display names ("渝中区", "全市", "教师"), never raw ids;
//! which dimensions are highest and lowest, naming ties as ties; percentages and small counts.
//! Plain text only: the dashboard and the document each set it in their own format.

use zhisu_server_storage::Role;

use crate::analysis::{By, Estimate, Filter, Labels};
pub use crate::districts::district_name;
use crate::t;

/// A level as the reports print it: one decimal, a percent sign.
pub fn percent(p: f64) -> String {
    format!("{:.1}%", p * 100.0)
}

/// What a report says under its sample figures when the filter holds parts they cannot be
/// narrowed by ([`crate::annual_report::sample_scope`]); `None` when every part applied.
pub fn not_narrowed(titles: &[&str], lang: &str) -> Option<String> {
    if titles.is_empty() {
        return None;
    }
    Some(if lang.starts_with("en") {
        format!(
            "The interviews done against the plan, the quality-control counts and the contact outcomes are kept by district and key population only: they are not narrowed by {}: they count the whole of the rest of the selection.",
            titles.join(", ")
        )
    } else {
        format!(
            "完成进度、质控和接触结果只按区县和重点人群统计，没有按{}筛选，是筛选前的数字。",
            titles.join("、")
        )
    })
}

/// A small count as the reports' sentences say it ("四", "four"); digits above ten.
pub fn count_in_words(n: usize, lang: &str) -> String {
    const ZH: [&str; 11] = [
        "零", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十",
    ];
    const EN: [&str; 11] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    let words = if lang.starts_with("en") { EN } else { ZH };
    words
        .get(n)
        .map_or_else(|| n.to_string(), |w| w.to_string())
}

/// Whose interviews a report covers: a short subject for its title and a sentence for its
/// first section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// "全市", "渝中区", "渝中区 教师", "教师、建筑工人": what comes before the report's name.
    pub subject: String,
    /// One sentence saying the same in full.
    pub sentence: String,
}

/// The coverage of a report read by `role` under `filter` (the filter as the viewer's role
/// narrows it). "全市" / "the whole city" only when the viewer sees every district and the
/// filter picks none; a department viewer's report is named by its populations.
pub fn coverage(role: &Role, filter: &Filter, labels: &Labels, lang: &str) -> Coverage {
    let population_names = |keys: &[String]| -> String {
        let names: Vec<String> = keys
            .iter()
            .map(|k| labels.label(By::Population, k))
            .collect();
        names.join(t(lang, "、", ", "))
    };
    let chosen_population = filter
        .population
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| labels.label(By::Population, p));
    let district = role
        .district()
        .map(str::to_string)
        .or_else(|| filter.district.clone().filter(|d| !d.is_empty()))
        .map(|d| district_name(&d, lang));
    let (subject, sentence) = match (role, district) {
        (Role::DepartmentViewer { populations }, district) => {
            let shown = match &chosen_population {
                Some(p) => p.clone(),
                None => population_names(populations),
            };
            let place = district
                .clone()
                .unwrap_or_else(|| t(lang, "各区县", "every district").to_string());
            let subject = match &district {
                Some(d) => format!("{d} {shown}"),
                None => shown.clone(),
            };
            let sentence = if lang.starts_with("en") {
                format!("This report covers the interviews of {shown} in {place} (the populations this department may read).")
            } else {
                format!("本报告只包括{place}{shown}的问卷（本部门可查看的重点人群）。")
            };
            (subject, sentence)
        }
        (_, Some(d)) => {
            let subject = match &chosen_population {
                Some(p) => format!("{d} {p}"),
                None => d.clone(),
            };
            let sentence = match (&chosen_population, lang.starts_with("en")) {
                (Some(p), true) => format!("This report covers the interviews of {p} in {d}."),
                (Some(p), false) => format!("本报告包括{d}{p}的问卷。"),
                (None, true) => format!("This report covers every interview of {d}."),
                (None, false) => format!("本报告包括{d}的全部问卷。"),
            };
            (subject, sentence)
        }
        (_, None) => {
            let city = t(lang, "全市", "City-wide").to_string();
            let subject = match &chosen_population {
                Some(p) => format!("{city} {p}"),
                None => city,
            };
            let sentence = match (&chosen_population, lang.starts_with("en")) {
                (Some(p), true) => {
                    format!(
                        "This report covers the interviews of {p} in every district of the city."
                    )
                }
                (Some(p), false) => format!("本报告包括全市各区县{p}的问卷。"),
                (None, true) => {
                    "This report covers every interview of every district of the city.".to_string()
                }
                (None, false) => "本报告包括全市各区县的全部问卷。".to_string(),
            };
            (subject, sentence)
        }
    };
    Coverage { subject, sentence }
}

/// Levels compared as the reports print them (to 0.1 %): two dimensions that print the same
/// are tied.
fn printed(p: f64) -> i64 {
    (p * 1000.0).round() as i64
}

fn names(list: &[&Estimate], lang: &str) -> String {
    let labels: Vec<&str> = list.iter().map(|e| e.label.as_str()).collect();
    match labels.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => {
            if lang.starts_with("en") {
                format!("{} and {last}", rest.join(", "))
            } else {
                format!("{}和{last}", rest.join("、"))
            }
        }
    }
}

/// The sentence on the dimensions' highest and lowest levels, aware of ties: every dimension
/// at the top (or bottom) is named, "tied" when there are several, and when all dimensions
/// print the same level none is called highest or lowest. `None` for fewer than two dimensions.
pub fn dimension_extremes(dimensions: &[Estimate], lang: &str) -> Option<String> {
    if dimensions.len() < 2 {
        return None;
    }
    let en = lang.starts_with("en");
    let count = count_in_words(dimensions.len(), lang);
    let top = dimensions.iter().map(|e| printed(e.proportion)).max()?;
    let bottom = dimensions.iter().map(|e| printed(e.proportion)).min()?;
    let level = |v: i64| format!("{:.1}%", v as f64 / 10.0);
    if top == bottom {
        return Some(if en {
            format!(
                "All {count} dimensions are at the same level ({}).",
                level(top)
            )
        } else {
            format!("{count}个维度的素养水平相同，均为 {}。", level(top))
        });
    }
    let at = |v: i64| -> Vec<&Estimate> {
        dimensions
            .iter()
            .filter(|e| printed(e.proportion) == v)
            .collect()
    };
    let (high, low) = (at(top), at(bottom));
    let part = |list: &[&Estimate], v: i64, which_zh: &str, which_en: &str| -> String {
        match (list.len(), en) {
            (1, true) => format!("the {which_en} is {} ({})", names(list, lang), level(v)),
            (_, true) => format!(
                "{} are tied {which_en} ({} each)",
                names(list, lang),
                level(v)
            ),
            (1, false) => format!("{which_zh}的是{}（{}）", names(list, lang), level(v)),
            (_, false) => format!("{}并列{which_zh}（均为 {}）", names(list, lang), level(v)),
        }
    };
    Some(if en {
        let sentence = format!(
            "Of the {count} dimensions, {}; {}.",
            part(&high, top, "最高", "highest"),
            part(&low, bottom, "最低", "lowest")
        );
        sentence
    } else {
        format!(
            "{count}个维度中，{}，{}。",
            part(&high, top, "最高", "highest"),
            part(&low, bottom, "最低", "lowest")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use zhisu_stats::{Interval, Method};

    fn dim(label: &str, p: f64) -> Estimate {
        Estimate {
            key: label.into(),
            label: label.into(),
            n: 100,
            successes: (p * 100.0) as u64,
            proportion: p,
            interval: Interval {
                low: p - 0.05,
                high: p + 0.05,
            },
            method: Method::UnweightedWilson,
            se: 0.05,
            df: None,
            deff: None,
            small: false,
        }
    }

    #[test]
    fn extremes_name_ties_as_ties() {
        let one_each = [dim("法律", 0.4), dim("知识", 0.8), dim("技能", 0.3)];
        assert_eq!(
            dimension_extremes(&one_each, "zh-CN").unwrap(),
            "三个维度中，最高的是知识（80.0%），最低的是技能（30.0%）。"
        );
        let tied_low = [dim("法律", 0.3), dim("知识", 0.8), dim("技能", 0.3)];
        assert_eq!(
            dimension_extremes(&tied_low, "zh-CN").unwrap(),
            "三个维度中，最高的是知识（80.0%），法律和技能并列最低（均为 30.0%）。"
        );
        assert_eq!(
            dimension_extremes(&tied_low, "en").unwrap(),
            "Of the three dimensions, the highest is 知识 (80.0%); 法律 and 技能 are tied lowest (30.0% each)."
        );
        // printed the same (to 0.1 %): tied
        let all_same = [dim("法律", 0.5), dim("知识", 0.50004)];
        assert_eq!(
            dimension_extremes(&all_same, "zh-CN").unwrap(),
            "两个维度的素养水平相同，均为 50.0%。"
        );
        assert_eq!(dimension_extremes(&[dim("法律", 0.5)], "zh-CN"), None);
    }

    /// The coverage of each role's report: "全市" only for a city-wide viewer, names not ids.
    #[test]
    fn coverage_is_in_the_viewers_scope_with_display_names() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
        let registry = crate::QuestionnaireRegistry::load_dir(&dir).unwrap();
        let labels = Labels::new(&registry, "ohl_2026", "zh-CN");
        let none = Filter::default();
        let yuzhong = Filter {
            district: Some("yuzhong".into()),
            ..Filter::default()
        };
        let teachers = Filter {
            population: Some("teacher".into()),
            ..Filter::default()
        };
        let city = Role::CityAdmin;
        let district = Role::Supervisor {
            district: "yuzhong".into(),
        };
        let department = Role::DepartmentViewer {
            populations: vec!["teacher".into(), "construction".into()],
        };
        let subject =
            |role: &Role, filter: &Filter| coverage(role, filter, &labels, "zh-CN").subject;
        assert_eq!(subject(&city, &none), "全市");
        assert_eq!(subject(&city, &yuzhong), "渝中区");
        assert_eq!(subject(&city, &teachers), "全市 学校老师");
        assert_eq!(subject(&district, &yuzhong), "渝中区");
        assert_eq!(subject(&department, &none), "学校老师、建筑工人");
        assert_eq!(subject(&department, &teachers), "学校老师");
        assert_eq!(subject(&department, &yuzhong), "渝中区 学校老师、建筑工人");
        let sentence = coverage(&department, &none, &labels, "zh-CN").sentence;
        assert!(!sentence.contains("全市"), "{sentence}");
        assert_eq!(
            coverage(
                &district,
                &yuzhong,
                &Labels::new(&registry, "ohl_2026", "en"),
                "en"
            )
            .subject,
            "Yuzhong District"
        );
    }

    #[test]
    fn district_names_and_unknown_ids() {
        assert_eq!(district_name("yuzhong", "zh-CN"), "渝中区");
        assert_eq!(district_name("jiangbei", "en"), "Jiangbei District");
        assert_eq!(district_name("test-district", "zh-CN"), "test-district");
    }
}
