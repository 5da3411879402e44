//! XLSForm interop through the real `zhisu` binary and real .xlsx files: every bundled
//! questionnaire survives export → import → check → export → import unchanged; workbooks written
//! here the way an author writes them in Excel/WPS (Chinese labels, groups, scoring columns)
//! import; unsupported features are all reported by sheet, row and column; a corrupt file, an
//! empty sheet and a huge sheet are reported, never a panic.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rust_xlsxwriter::Workbook;
use zhisu_core::{AnswerValue, ItemKind, Questionnaire};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn zhisu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zhisu"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn load(path: &Path) -> Questionnaire {
    let bytes = std::fs::read(path).unwrap();
    Questionnaire::from_bytes(&path.display().to_string(), &bytes)
        .unwrap_or_else(|d| panic!("{}", d.lines()))
}

fn export(toml: &Path, xlsx: &Path) {
    let out = zhisu(&[
        "questionnaire",
        "export",
        "--xlsform",
        toml.to_str().unwrap(),
        "-o",
        xlsx.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

fn import(xlsx: &Path, toml: &Path) -> Output {
    zhisu(&[
        "--lang",
        "en",
        "questionnaire",
        "import",
        xlsx.to_str().unwrap(),
        "-o",
        toml.to_str().unwrap(),
    ])
}

#[test]
fn every_bundled_questionnaire_round_trips_through_xlsform() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for sub in [
        "questionnaires",
        "questionnaires/examples",
        "questionnaires/earlier",
        "crates/zhisu-cli/tests/fixtures/xlsform",
    ] {
        for entry in std::fs::read_dir(root().join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 7, "{files:?}");
    for file in files {
        let name = file.file_stem().unwrap().to_str().unwrap().to_string();
        let original = load(&file);
        let (xlsx, toml) = (
            dir.path().join(format!("{name}.xlsx")),
            dir.path().join(format!("{name}.toml")),
        );
        export(&file, &xlsx);
        let out = import(&xlsx, &toml);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stdout(&out));
        assert!(stdout(&out).contains(": ok ("), "{}", stdout(&out));
        let imported = load(&toml);
        assert_eq!(imported, original, "{name}: export → import changed it");
        // and once more from the imported file: the same workbook gives the same TOML
        let (xlsx2, toml2) = (
            dir.path().join(format!("{name}.2.xlsx")),
            dir.path().join(format!("{name}.2.toml")),
        );
        export(&toml, &xlsx2);
        assert_eq!(import(&xlsx2, &toml2).status.code(), Some(0));
        assert_eq!(load(&toml2), original, "{name}: second round trip");
        assert_eq!(
            std::fs::read_to_string(&toml).unwrap(),
            std::fs::read_to_string(&toml2).unwrap()
        );
    }
}

/// Writes sheets of text cells (row 0 the header).
fn workbook(path: &Path, sheets: &[(&str, Vec<Vec<&str>>)]) {
    let mut wb = Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if !cell.is_empty() {
                    ws.write_string(r as u32, c as u16, *cell).unwrap();
                }
            }
        }
    }
    wb.save(path).unwrap();
}

fn settings() -> (&'static str, Vec<Vec<&'static str>>) {
    (
        "settings",
        vec![
            vec!["form_id", "version", "form_title", "default_language"],
            vec!["noise_check", "1", "噪声防护小测验", "Chinese (zh-CN)"],
        ],
    )
}

#[test]
fn an_authors_xlsform_with_chinese_labels_imports_and_scores() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("noise.xlsx");
    let h = vec![
        "type",
        "name",
        "label::Chinese (zh-CN)",
        "label::English (en)",
        "hint::Chinese (zh-CN)",
        "required",
        "relevant",
        "constraint",
        "constraint_message::Chinese (zh-CN)",
        "zhisu::dimension",
        "zhisu::points",
        "zhisu::key",
        "zhisu::explanation::Chinese (zh-CN)",
        "zhisu::module",
    ];
    let survey = vec![
        h,
        vec![
            "begin group",
            "basic",
            "基本情况",
            "Background",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        vec![
            "integer",
            "age",
            "您今年多少岁？",
            "How old are you?",
            "请填周岁",
            "yes",
            "",
            ". >= 16 and . <= 59",
            "年龄要在16到59岁之间",
            "",
            "",
            "",
            "",
            "",
        ],
        vec![
            "select_one work",
            "work",
            "您做什么工作？",
            "Your work?",
            "",
            "yes",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        vec![
            "end group",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        vec![
            "begin group",
            "test",
            "知识题",
            "Test",
            "",
            "",
            "${age} >= 16",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        vec![
            "select_one zhisu_true_false",
            "noise_harm",
            "噪声会伤害听力。",
            "Noise harms hearing.",
            "",
            "yes",
            "",
            "",
            "",
            "knowledge",
            "1",
            "true",
            "对。长期接触噪声会让听力下降。",
            "",
        ],
        vec![
            "select_multiple protect",
            "protect",
            "怎样保护耳朵？（可多选）",
            "How to protect ears?",
            "",
            "yes",
            "selected(${work}, 'factory')",
            "",
            "",
            "knowledge",
            "2",
            "earplugs earmuffs",
            "戴耳塞或耳罩都可以。",
            "",
        ],
        vec![
            "note",
            "thanks",
            "谢谢！",
            "Thanks!",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        vec![
            "end group",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ];
    let choices = vec![
        vec![
            "list_name",
            "name",
            "label::Chinese (zh-CN)",
            "label::English (en)",
        ],
        vec!["work", "factory", "工厂", "Factory"],
        vec!["work", "office", "办公室", "Office"],
        vec!["protect", "earplugs", "戴耳塞", "Earplugs"],
        vec!["protect", "earmuffs", "戴耳罩", "Earmuffs"],
        vec!["protect", "cotton", "塞棉花", "Cotton"],
    ];
    let dims = vec![
        vec!["name", "label::Chinese (zh-CN)", "label::English (en)"],
        vec!["knowledge", "防护知识", "Knowledge"],
    ];
    workbook(
        &xlsx,
        &[
            ("survey", survey),
            ("choices", choices),
            settings(),
            ("zhisu_dimensions", dims),
        ],
    );
    let toml = dir.path().join("noise.toml");
    let out = import(&xlsx, &toml);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let q = load(&toml);
    assert_eq!(q.id, "noise_check");
    assert_eq!(q.languages, ["zh-CN", "en"]);
    assert_eq!(q.sections.len(), 2);
    assert_eq!(q.items.len(), 5);
    let age = q.item("age").unwrap();
    assert_eq!(age.label.get("zh-CN", "zh-CN"), "您今年多少岁？");
    assert_eq!(age.section.as_deref(), Some("basic"));
    assert!(age.constraint.is_some());
    let harm = q.item("noise_harm").unwrap();
    assert_eq!(harm.kind, ItemKind::TrueFalse);
    assert_eq!(harm.scoring.as_ref().unwrap().key, AnswerValue::Bool(true));
    let protect = q.item("protect").unwrap();
    assert_eq!(protect.scoring.as_ref().unwrap().points, 2);
    assert_eq!(
        protect.scoring.as_ref().unwrap().key,
        AnswerValue::Choices(vec!["earmuffs".into(), "earplugs".into()])
    );
    assert_eq!(
        protect.kind.choices()[0].label.get("en", "zh-CN"),
        "Earplugs"
    );
    assert_eq!(
        q.section("test")
            .unwrap()
            .relevant
            .as_ref()
            .unwrap()
            .source(),
        "${age} >= 16"
    );
    // and the author's workbook round-trips: import → check → export → import
    let (xlsx2, toml2) = (
        dir.path().join("noise2.xlsx"),
        dir.path().join("noise2.toml"),
    );
    export(&toml, &xlsx2);
    assert_eq!(import(&xlsx2, &toml2).status.code(), Some(0));
    assert_eq!(load(&toml2), q);
}

#[test]
fn every_unsupported_feature_is_reported_by_sheet_row_and_column_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("odk.xlsx");
    let survey = vec![
        vec![
            "type",
            "name",
            "label",
            "calculation",
            "required",
            "appearance",
        ],
        vec!["start", "start", "", "", "", ""],
        vec!["geopoint", "where", "您在哪里？", "", "", ""],
        vec!["calculate", "bmi", "", "${w} div 2", "", ""],
        vec!["begin repeat", "kids", "孩子", "", "", ""],
        vec!["integer", "n", "几个？", "", "${x} > 1", ""],
        vec!["text", "bad", "坏表达式", "", "", ""],
        vec!["select_one nolist", "pick", "选一个", "", "", "likert"],
        vec!["begin group", "g", "组", "", "", "field-list"],
        vec!["begin group", "inner", "组", "", "", ""],
        vec!["end group", "", "", "", "", ""],
        vec!["select_one yn or_other", "other", "别的", "", "", ""],
        vec!["select_multiple", "nolist", "没有列表", "", "", ""],
    ];
    workbook(
        &xlsx,
        &[("survey", survey), settings(), ("notes", vec![vec!["x"]])],
    );
    let toml = dir.path().join("odk.toml");
    let out = import(&xlsx, &toml);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for expected in [
        "sheet survey, row 2, column A (type): note: 'start' is ignored",
        "sheet survey, row 3, column A (type): type 'geopoint' is not supported",
        "sheet survey, row 4, column A (type): calculated fields are not supported",
        "sheet survey, row 4, column D (calculation): calculations are not supported",
        "sheet survey, row 5, column A (type): repeats are not supported",
        "sheet survey, row 6, column E (required): required is yes or no",
        "sheet survey, row 8, column A (type): choice list 'nolist' is not in the choices sheet",
        "sheet survey, row 8, column F (appearance): note: appearance 'likert' is ignored",
        "sheet survey, row 9, column F (appearance): note: group appearance 'field-list' is ignored",
        "sheet survey, row 10, column A (type): a group inside a group",
        "sheet notes: note: a sheet Zhisu does not read",
        "sheet survey, row 12, column A (type): 'select_one yn or_other': 'or_other'",
        "sheet survey, row 13, column A (type): 'select_multiple' needs the name of a choice list",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(!toml.exists(), "nothing is written when something blocks");
    // the same in Chinese
    let zh = zhisu(&[
        "questionnaire",
        "import",
        xlsx.to_str().unwrap(),
        "-o",
        toml.to_str().unwrap(),
    ]);
    assert!(
        stdout(&zh).contains("工作表 survey 第 5 行 A (type) 列：不支持重复组"),
        "{}",
        stdout(&zh)
    );
}

#[test]
fn without_settings_the_survey_is_still_read_and_older_label_columns_are_understood() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("bare.xlsx");
    let survey = vec![
        vec!["type", "name", "label:English", "label:Chinese"],
        vec!["text", "name", "Your name?", "您的名字？"],
        vec!["time", "when", "When?", "什么时候？"],
    ];
    workbook(&xlsx, &[("survey", survey)]);
    let out = import(&xlsx, &dir.path().join("bare.toml"));
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("bare.xlsx: the workbook has no 'settings' sheet"),
        "{text}"
    );
    assert!(
        text.contains("sheet survey, row 3, column A (type): type 'time' is not supported"),
        "{text}"
    );
    // the label columns are not reported: label:English is the older spelling of label::English
    assert!(!text.contains("column C"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[test]
fn the_checkers_findings_on_an_import_are_placed_in_the_workbook() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("refs.xlsx");
    let survey = vec![
        vec![
            "type",
            "name",
            "label::Chinese (zh-CN)",
            "label::English (en)",
            "relevant",
            "zhisu::dimension",
            "zhisu::key",
        ],
        vec!["integer", "age", "年龄", "Age", "${agee} > 1", "", ""],
        vec![
            "select_one zhisu_true_false",
            "duty",
            "",
            "Employers must protect workers.",
            "",
            "law",
            "true",
        ],
    ];
    let dims = vec![
        vec!["name", "label::Chinese (zh-CN)"],
        vec!["knowledge", "知识"],
    ];
    workbook(
        &xlsx,
        &[("survey", survey), settings(), ("zhisu_dimensions", dims)],
    );
    let toml = dir.path().join("refs.toml");
    let out = import(&xlsx, &toml);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for expected in [
        "refs.xlsx: sheet survey, row 2, column E (relevant): item 'age': relevant refers to ${agee}",
        "refs.xlsx: sheet survey, row 3, column F (zhisu::dimension): item 'duty'",
        "refs.xlsx: sheet survey, row 3, column B (name): item 'duty': is scored but has no explanation",
        "item 'duty': label has no text in the default language 'zh-CN'",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // each says where it is in the written file too
    assert!(text.contains("refs.toml:"), "{text}");
}

/// A picture's words come in `zhisu::image_alt::<language>` columns, like the labels; words
/// without a picture are placed at their cell.
#[test]
fn a_pictures_words_are_read_per_language_and_misplaced_ones_reported_at_their_cell() {
    let dir = tempfile::tempdir().unwrap();
    let header = vec![
        "type",
        "name",
        "label::Chinese (zh-CN)",
        "label::English (en)",
        "media::image",
        "zhisu::image_alt::Chinese (zh-CN)",
        "zhisu::image_alt::English (en)",
    ];
    let good = dir.path().join("sign.xlsx");
    workbook(
        &good,
        &[
            (
                "survey",
                vec![
                    header.clone(),
                    vec![
                        "note",
                        "sign",
                        "请看这个标志。",
                        "Look at this sign.",
                        "images/helmet.png",
                        "蓝色圆形标志，里面画着一顶安全帽",
                        "A blue round sign showing a hard hat",
                    ],
                ],
            ),
            settings(),
        ],
    );
    let toml = dir.path().join("sign.toml");
    let out = import(&good, &toml);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let q = load(&toml);
    let alt = q.item("sign").unwrap().image_alt.clone().unwrap();
    assert_eq!(alt.0["zh-CN"], "蓝色圆形标志，里面画着一顶安全帽");
    assert_eq!(alt.0["en"], "A blue round sign showing a hard hat");

    let bad = dir.path().join("words.xlsx");
    workbook(
        &bad,
        &[
            (
                "survey",
                vec![
                    header,
                    vec!["note", "sign", "请看。", "Look.", "", "一顶安全帽", ""],
                ],
            ),
            settings(),
        ],
    );
    let out = import(&bad, &dir.path().join("words.toml"));
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("sheet survey, row 2, column F (zhisu::image_alt::Chinese (zh-CN)): item 'sign': has an image_alt but no image"),
        "{text}"
    );
}

#[test]
fn expressions_zhisu_cannot_evaluate_are_reported_where_written() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("expr.xlsx");
    let survey = vec![
        vec!["type", "name", "label", "relevant", "constraint"],
        vec!["integer", "age", "年龄", "", ". >= 16 and"],
        vec!["text", "why", "为什么", "pulldata('x', 'y')", ""],
    ];
    workbook(&xlsx, &[("survey", survey), settings()]);
    let out = import(&xlsx, &dir.path().join("expr.toml"));
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("sheet survey, row 2, column E (constraint): the expression cannot be used"),
        "{text}"
    );
    assert!(
        text.contains("sheet survey, row 3, column D (relevant): the expression cannot be used"),
        "{text}"
    );
}

#[test]
fn a_corrupt_file_an_empty_sheet_and_a_huge_sheet_are_reported_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let out_toml = dir.path().join("out.toml");

    let corrupt = dir.path().join("corrupt.xlsx");
    std::fs::write(&corrupt, b"PK\x03\x04 this is not really a zip file").unwrap();
    let out = import(&corrupt, &out_toml);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("not a spreadsheet Zhisu can read"));

    // a real xlsx cut in half
    let whole = dir.path().join("whole.xlsx");
    export(&root().join("questionnaires/pilot.toml"), &whole);
    let bytes = std::fs::read(&whole).unwrap();
    let half = dir.path().join("half.xlsx");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(import(&half, &out_toml).status.code(), Some(1));

    let empty = dir.path().join("empty.xlsx");
    workbook(&empty, &[("survey", vec![]), settings()]);
    let out = import(&empty, &out_toml);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("the survey sheet is empty"),
        "{}",
        stdout(&out)
    );

    let no_survey = dir.path().join("no_survey.xlsx");
    workbook(&no_survey, &[settings()]);
    let out = import(&no_survey, &out_toml);
    assert!(
        stdout(&out).contains("has no 'survey' sheet"),
        "{}",
        stdout(&out)
    );

    let huge = dir.path().join("huge.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("survey").unwrap();
    ws.write_string(0, 0, "type").unwrap();
    ws.write_string(0, 1, "name").unwrap();
    for r in 1..=70_000u32 {
        ws.write_string(r, 0, "text").unwrap();
        ws.write_string(r, 1, format!("q{r}")).unwrap();
    }
    let s = wb.add_worksheet();
    s.set_name("settings").unwrap();
    s.write_string(0, 0, "form_id").unwrap();
    wb.save(&huge).unwrap();
    let out = import(&huge, &out_toml);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("sheet survey: the sheet has 70001 rows; at most 60000"),
        "{}",
        stdout(&out)
    );
    assert!(!out_toml.exists());
}

#[test]
fn damaged_workbooks_are_reported_never_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.xlsx");
    export(
        &root().join("questionnaires/examples/all_features.toml"),
        &whole,
    );
    let bytes = std::fs::read(&whole).unwrap();
    let damaged = dir.path().join("damaged.xlsx");
    let out_toml = dir.path().join("damaged.toml");
    // a fixed pseudo-random walk: flipped bytes and cut lengths all over the file
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..60 {
        let mut copy = bytes.clone();
        if round % 3 == 0 {
            copy.truncate((next() as usize) % bytes.len());
        } else {
            for _ in 0..1 + round % 5 {
                let at = (next() as usize) % copy.len();
                copy[at] ^= (next() % 255 + 1) as u8;
            }
        }
        std::fs::write(&damaged, &copy).unwrap();
        let out = import(&damaged, &out_toml);
        // 0 when the damage missed everything that matters, 1 with problems; never a crash
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "round {round}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.code() == Some(1) {
            assert!(
                !stdout(&out).is_empty() || !out.stderr.is_empty(),
                "round {round}: a failure says why"
            );
        }
    }
}
