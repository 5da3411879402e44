//! Engine figures (BENCHMARKS.md, issue 3):
//!
//! - B1: load and validate a synthetic 500-item questionnaire with `Questionnaire::from_toml`
//!   (baseline: parsing the same text into a plain `toml::Table`).
//! - B2: score 10,000 interviews of that questionnaire, one `score` call each.
//! - B3: the same on the real `questionnaires/ohl_2026.toml`.
//!
//! For B2 and B3 two baselines run on the same answer maps: summing the maps' lengths, and
//! walking every entry (summing key lengths), so the engine's cost can be read against merely
//! touching the data. Everything is deterministic: a fixed-seed xorshift generates the answers.
//!
//! Run: `cargo bench -p zhisu-core --bench engine`
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;
use zhisu_testkit::toml::{dimensions, eligibility, head, table, text_field};
use zhisu_testkit::Rng;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use zhisu_core::{AnswerValue, Answers, ItemKind, Questionnaire};

const INTERVIEWS: usize = 10_000;
const ITEMS: usize = 500;

// ------------------------------------------------------------------ a seeded PRNG

// ------------------------------------------------------------------ the synthetic questionnaire

const DIMENSIONS: [(&str, &str, &str); 4] = [
    ("law", "法律知识", "Law: rights and duties"),
    ("knowledge", "防护知识", "Protection knowledge"),
    ("skills", "防护技能", "Protection skills"),
    (
        "behaviour",
        "健康工作方式和行为",
        "Healthy work style and behaviour",
    ),
];

fn choice_list(out: &mut String, list: &str, keys: &[&str]) {
    for key in keys {
        table(out, &format!("choices.{list}"), &[("key", key)]);
        text_field(
            out,
            "label",
            &format!("选项 {key}"),
            &format!("Option {key}"),
        );
    }
}

/// One `[[items]]` table. `extra` holds further `key = value` lines.
fn item(out: &mut String, id: &str, section: &str, kind: &str, extra: &[String]) {
    table(
        out,
        "items",
        &[("id", id), ("section", section), ("kind", kind)],
    );
    text_field(
        out,
        "label",
        &format!("第 {id} 题：在工作中，下面哪种做法是对的？"),
        &format!("Question {id}: which of these is right at work?"),
    );
    for line in extra {
        writeln!(out, "{line}").unwrap();
    }
}

fn scored(dimension: &str, points: u32, key: &str) -> [String; 3] {
    [
        format!("score = {{ dimension = \"{dimension}\", points = {points}, key = {key} }}"),
        "explanation.\"zh-CN\" = \"这是正确的做法，因为法律和防护知识都这样要求。\"".to_string(),
        "explanation.en = \"This is right: the law and good protection practice both say so.\""
            .to_string(),
    ]
}

/// A 500-item questionnaire in the shape of the real one: consent and eligibility, a background
/// section (search list, choice filter, integer, decimal, date, text, multiple choice with an
/// exclusive "none"), four scored core sections (one per dimension) and two population modules
/// scored separately. Relevance and constraints refer to earlier items only.
fn synthetic_toml() -> String {
    let mut out = String::with_capacity(256 * 1024);
    head(
        &mut out,
        "Synthetic benchmark questionnaire: 500 items.",
        "bench_500",
        "bench.1",
        ("职业健康素养调查（基准测试）", "Benchmark survey"),
    );
    eligibility(
        &mut out,
        "${consent} = true() and ${age} >= 16 and ${age} <= 59 and ${frontline} = true()",
        ("谢谢您！", "Thank you!"),
    );
    dimensions(&mut out, &DIMENSIONS);

    choice_list(&mut out, "abcd", &["a", "b", "c", "d"]);
    choice_list(&mut out, "sex", &["male", "female"]);
    choice_list(
        &mut out,
        "population",
        &["teacher", "medical", "industrial", "construction"],
    );
    let industries: Vec<String> = (1..=19)
        .map(|i| format!("industry_{i:02}"))
        .chain(["other".to_string()])
        .collect();
    let industries: Vec<&str> = industries.iter().map(String::as_str).collect();
    choice_list(&mut out, "industry", &industries);
    choice_list(&mut out, "district", &["d1", "d2", "d3"]);
    for (street, district) in [("s1", "d1"), ("s2", "d1"), ("s3", "d2"), ("s4", "d3")] {
        writeln!(
            out,
            "\n[[choices.street]]\nkey = \"{street}\"\nattributes = {{ district = \"{district}\" }}"
        )
        .unwrap();
        text_field(&mut out, "label", &format!("街道 {street}"), street);
    }
    choice_list(
        &mut out,
        "hazards",
        &["dust", "noise", "chemicals", "heat", "radiation", "none"],
    );
    choice_list(
        &mut out,
        "ppe",
        &["helmet", "gloves", "mask", "earplugs", "goggles"],
    );
    choice_list(
        &mut out,
        "how_often",
        &["never", "sometimes", "often", "always"],
    );

    let sections: [(&str, Option<&str>); 9] = [
        ("intro", None),
        ("background", None),
        ("law", None),
        ("knowledge", None),
        ("skills", None),
        ("behaviour", None),
        ("module_teacher", Some("teacher")),
        ("module_construction", Some("construction")),
        ("health", None),
    ];
    for (id, population) in sections {
        writeln!(out, "\n[[sections]]\nid = \"{id}\"").unwrap();
        text_field(&mut out, "title", &format!("部分 {id}"), id);
        if let Some(p) = population {
            writeln!(
                out,
                "relevant = \"${{population}} = '{p}'\"\nscored_separately = true\npopulation = \"{p}\""
            )
            .unwrap();
        }
    }

    let s = |x: &str| x.to_string();
    let consent = s("relevant = \"${consent} = true()\"");
    item(&mut out, "intro", "intro", "note", &[]);
    item(
        &mut out,
        "consent",
        "intro",
        "true_false",
        &[s("required = true")],
    );
    item(
        &mut out,
        "age",
        "intro",
        "integer",
        &[
            s("required = true"),
            s("min = 10"),
            s("max = 80"),
            consent.clone(),
        ],
    );
    item(
        &mut out,
        "frontline",
        "intro",
        "true_false",
        &[s("required = true"), consent],
    );
    let bg = "background";
    item(
        &mut out,
        "sex",
        bg,
        "single_choice",
        &[s("choices = \"sex\"")],
    );
    item(
        &mut out,
        "population",
        bg,
        "single_choice",
        &[s("choices = \"population\""), s("required = true")],
    );
    item(
        &mut out,
        "industry",
        bg,
        "single_choice",
        &[s("choices = \"industry\""), s("search = true")],
    );
    item(
        &mut out,
        "industry_other",
        bg,
        "text",
        &[
            s("max_length = 40"),
            s("relevant = \"${industry} = 'other'\""),
        ],
    );
    item(
        &mut out,
        "district",
        bg,
        "single_choice",
        &[s("choices = \"district\"")],
    );
    item(
        &mut out,
        "street",
        bg,
        "single_choice",
        &[
            s("choices = \"street\""),
            s("choice_filter = \"district = ${district}\""),
        ],
    );
    item(
        &mut out,
        "years_service",
        bg,
        "integer",
        &[
            s("min = 0"),
            s("max = 60"),
            s("constraint = \". <= ${age} - 10\""),
        ],
    );
    item(
        &mut out,
        "hours_week",
        bg,
        "decimal",
        &[s("min = 0"), s("max = 112.0")],
    );
    item(
        &mut out,
        "start_date",
        bg,
        "date",
        &[s("min = \"1970-01-01\""), s("max = \"2026-12-31\"")],
    );
    item(
        &mut out,
        "hazards",
        bg,
        "multiple_choice",
        &[
            s("choices = \"hazards\""),
            s("constraint = \"not(selected(., 'none') and count-selected(.) > 1)\""),
            s("constraint_message.\"zh-CN\" = \"选了“以上都没有”，就不能再选别的。\""),
        ],
    );
    item(
        &mut out,
        "ppe_provided",
        bg,
        "true_false",
        &[s("relevant = \"not(selected(${hazards}, 'none'))\"")],
    );
    let mut count = 15;

    // More background: yes/no questions, how-often scales and counts, some conditional.
    while count < 40 {
        let id = format!("q{count:03}");
        match (count - 15) % 4 {
            0 => item(&mut out, &id, bg, "true_false", &[]),
            1 => item(
                &mut out,
                &id,
                bg,
                "likert",
                &[
                    s("choices = \"how_often\""),
                    s("relevant = \"${ppe_provided} = true()\""),
                ],
            ),
            2 => item(
                &mut out,
                &id,
                bg,
                "integer",
                &[
                    s("min = 0"),
                    s("max = 50"),
                    s("constraint = \". <= ${years_service}\""),
                ],
            ),
            _ => item(
                &mut out,
                &id,
                bg,
                "single_choice",
                &[
                    s("choices = \"abcd\""),
                    // the yes/no question three items back
                    format!("relevant = \"${{q{:03}}} = true()\"", count - 3),
                ],
            ),
        }
        count += 1;
    }

    // Core sections, 95 items each, then two 35-item modules and a 10-item health section.
    let blocks: [(&str, &str, usize); 7] = [
        ("law", "law", 95),
        ("knowledge", "knowledge", 95),
        ("skills", "skills", 95),
        ("behaviour", "behaviour", 95),
        ("module_teacher", "knowledge", 35),
        ("module_construction", "skills", 35),
        ("health", "", 10),
    ];
    let relevances = [
        "relevant = \"${ppe_provided} = true()\"",
        "relevant = \"selected(${hazards}, 'dust') or selected(${hazards}, 'noise')\"",
        "relevant = \"${age} >= 30\"",
        "relevant = \"${industry} != 'other' and ${years_service} >= 2\"",
    ];
    for (section, dimension, n) in blocks {
        item(&mut out, &format!("q{count:03}"), section, "note", &[]);
        count += 1;
        let mut last_single_choice: Option<usize> = None;
        for j in 1..n {
            let id = format!("q{count:03}");
            let mut extra: Vec<String> = Vec::new();
            if j % 13 == 0 {
                extra.push(s(relevances[j / 13 % relevances.len()]));
            } else if let (0, Some(earlier)) = (j % 17, last_single_choice) {
                // depends on an earlier single choice in this section
                extra.push(format!("relevant = \"${{q{earlier:03}}} != 'b'\""));
            }
            if dimension.is_empty() {
                extra.push(s("choices = \"how_often\""));
                item(&mut out, &id, section, "likert", &extra);
                count += 1;
                continue;
            }
            let (kind, points, key) = match j % 10 {
                0..=3 => (
                    "true_false",
                    1,
                    s(if count % 3 == 0 { "false" } else { "true" }),
                ),
                4..=6 | 9 => {
                    extra.push(s("choices = \"abcd\""));
                    last_single_choice = Some(count);
                    (
                        "single_choice",
                        1,
                        format!("\"{}\"", ["a", "b", "c", "d"][count % 4]),
                    )
                }
                7 => {
                    extra.push(s("choices = \"ppe\""));
                    let keys = ["helmet", "gloves", "mask", "earplugs", "goggles"];
                    let key: Vec<String> = (0..3)
                        .map(|k| format!("\"{}\"", keys[(count + k) % keys.len()]))
                        .collect();
                    ("multiple_choice", 2, format!("[{}]", key.join(", ")))
                }
                _ => {
                    extra.extend([s("min = 0"), s("max = 200")]);
                    ("integer", 1, (count % 120).to_string())
                }
            };
            if count % 5 == 0 {
                extra.push(s("dont_know = true"));
            }
            extra.extend(scored(dimension, points, &key));
            item(&mut out, &id, section, kind, &extra);
            count += 1;
        }
    }
    assert_eq!(count, ITEMS, "the generator lays out exactly {ITEMS} items");
    out
}

// ------------------------------------------------------------------ answers

/// A valid answer for the item's kind (not considering other answers).
fn any_answer(kind: &ItemKind, rng: &mut Rng) -> Option<AnswerValue> {
    Some(match kind {
        ItemKind::SingleChoice { choices, .. } | ItemKind::Likert { choices } => {
            AnswerValue::Choice(
                choices[rng.below(choices.len() as u64) as usize]
                    .key
                    .clone(),
            )
        }
        ItemKind::MultipleChoice { choices } => {
            let mut keys: Vec<String> = choices
                .iter()
                .filter(|_| rng.chance(30))
                .map(|c| c.key.clone())
                .collect();
            if keys.is_empty() {
                keys.push(
                    choices[rng.below(choices.len() as u64) as usize]
                        .key
                        .clone(),
                );
            }
            AnswerValue::Choices(keys)
        }
        ItemKind::TrueFalse => AnswerValue::Bool(rng.chance(50)),
        ItemKind::Integer { min, max } => {
            let lo = min.unwrap_or(0);
            AnswerValue::Integer(rng.between(lo, max.unwrap_or(lo + 100)))
        }
        ItemKind::Decimal { min, max } => {
            let lo = min.unwrap_or(0.0);
            let hi = max.unwrap_or(lo + 100.0);
            AnswerValue::Decimal(lo + (hi - lo) * (rng.below(1000) as f64 / 1000.0))
        }
        ItemKind::Text { .. } => AnswerValue::Text("在车间干活".to_string()),
        ItemKind::Date { .. } => AnswerValue::Date(format!(
            "{}-{:02}-{:02}",
            rng.between(1990, 2025),
            rng.between(1, 12),
            rng.between(1, 28)
        )),
        ItemKind::Note => return None,
    })
}

/// One interview: mostly eligible respondents who know most keys, some "don't know" and skipped
/// items; answers to items that end up not asked are dropped, as on a tablet that completed it.
fn interview(q: &Questionnaire, rng: &mut Rng) -> Answers {
    let mut answers = Answers::new();
    for item in &q.items {
        if rng.chance(3) {
            continue;
        }
        let value = if item.dont_know && rng.chance(4) {
            Some(AnswerValue::DontKnow)
        } else {
            match &item.scoring {
                Some(rule) if rng.chance(80) => Some(rule.key.clone()),
                _ => any_answer(&item.kind, rng),
            }
        };
        if let Some(value) = value {
            answers.insert(item.id.clone(), value);
        }
    }
    if rng.chance(95) {
        // an eligible respondent: consent, working age, frontline
        for (id, value) in [
            ("consent", AnswerValue::Bool(true)),
            ("frontline", AnswerValue::Bool(true)),
            ("age", AnswerValue::Integer(rng.between(16, 59))),
        ] {
            if q.item(id).is_some() {
                answers.insert(id.to_string(), value);
            }
        }
    }
    q.effective_answers(&answers)
}

fn interviews(q: &Questionnaire, seed: u64) -> Vec<Answers> {
    let mut rng = Rng::new(seed);
    (0..INTERVIEWS).map(|_| interview(q, &mut rng)).collect()
}

/// What the generated data look like, so the figures can be read against it.
fn describe(name: &str, q: &Questionnaire, all: &[Answers]) {
    let answers: usize = all.iter().map(Answers::len).sum();
    let literate = all.iter().filter(|a| q.score(a).has_literacy).count();
    eprintln!(
        "{name}: {} items ({} scored); {INTERVIEWS} interviews, {:.1} answers each on average, \
         {:.1} % literate",
        q.items.len(),
        q.items.iter().filter(|i| i.scoring.is_some()).count(),
        answers as f64 / all.len() as f64,
        literate as f64 * 100.0 / all.len() as f64,
    );
}

// ------------------------------------------------------------------ benchmarks

fn b1_load(c: &mut Criterion) {
    let text = synthetic_toml();
    let q = Questionnaire::from_toml("bench_500.toml", &text)
        .unwrap_or_else(|d| panic!("the synthetic questionnaire has problems:\n{}", d.lines()));
    assert_eq!(q.items.len(), ITEMS);
    eprintln!(
        "B1: synthetic questionnaire: {} items, {} bytes, {} lines of TOML",
        q.items.len(),
        text.len(),
        text.lines().count()
    );

    let mut group = c.benchmark_group("B1_load_500_items");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("from_toml", |b| {
        b.iter(|| Questionnaire::from_toml("bench_500.toml", black_box(&text)))
    });
    group.bench_function("baseline_toml_parse_only", |b| {
        b.iter(|| toml::from_str::<toml::Table>(black_box(&text)).expect("valid TOML"))
    });
    group.finish();
}

/// Times scoring every interview in `all` once (one iteration = all of them), then the two
/// baselines on the same data. `score_time`: the measurement time for the scoring, long enough
/// for 10 flat samples.
fn score_group(
    c: &mut Criterion,
    group_name: &str,
    q: &Questionnaire,
    all: &[Answers],
    score_time: Duration,
) {
    let mut group = c.benchmark_group(group_name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(score_time)
        .throughput(Throughput::Elements(all.len() as u64));
    group.bench_function("score", |b| {
        b.iter(|| {
            let mut total = 0u64;
            for answers in all {
                total += u64::from(q.score(black_box(answers)).score);
            }
            total
        })
    });
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("baseline_sum_len", |b| {
        b.iter(|| black_box(all).iter().map(Answers::len).sum::<usize>())
    });
    group.bench_function("baseline_walk_entries", |b| {
        b.iter(|| {
            black_box(all)
                .iter()
                .flat_map(|a| a.keys())
                .map(String::len)
                .sum::<usize>()
        })
    });
    group.finish();
}

fn b2_score_synthetic(c: &mut Criterion) {
    let q = Questionnaire::from_toml("bench_500.toml", &synthetic_toml())
        .unwrap_or_else(|d| panic!("{}", d.lines()));
    let all = interviews(&q, 0x5eed_0002);
    describe("B2", &q, &all);
    score_group(
        c,
        "B2_score_10k_synthetic_500",
        &q,
        &all,
        Duration::from_secs(30),
    );
}

fn b3_score_ohl_2026(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../questionnaires/ohl_2026.toml"
    );
    let source = std::fs::read_to_string(path).expect("questionnaires/ohl_2026.toml");
    let q = Questionnaire::from_toml("ohl_2026.toml", &source)
        .unwrap_or_else(|d| panic!("{}", d.lines()));
    let all = interviews(&q, 0x5eed_0003);
    describe("B3", &q, &all);
    score_group(c, "B3_score_10k_ohl_2026", &q, &all, Duration::from_secs(5));
}

criterion_group! {
    name = engine;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = b1_load, b2_score_synthetic, b3_score_ohl_2026
}
criterion_main!(engine);
