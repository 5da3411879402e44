//! A newcomer's first look: `scripts/run.sh --demo`'s loading step (`scripts/load-demo.sh`, the
//! real server binary) gives a first sign-in printed once and a demonstration round, and every
//! dashboard page then shows figures to that sign-in.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use zhisu_server_storage::Scope;
use zhisu_server_tests::{dashboard_sign_in, questionnaires_dir, serve_on_loopback};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load_demo(data: &Path) -> Output {
    Command::new(root().join("scripts/load-demo.sh"))
        .arg(data)
        .env("ZHISU_SERVER_BIN", env!("CARGO_BIN_EXE_zhisu-server"))
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .unwrap()
}

/// The number in `<… id="{id}"…>…<strong>N</strong>` or the first number after `marker`.
fn number_after(html: &str, marker: &str) -> u64 {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in the page"));
    html[at + marker.len()..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("a number after {marker}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_round_gives_every_dashboard_page_figures() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let output = load_demo(&data);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("用户名 username: admin"), "{stdout}");
    assert!(stderr.contains("只显示这一次"), "{stderr}");
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("密码 password:"))
        .expect("the password line")
        .trim()
        .to_string();
    assert_eq!(password.len(), 19, "four groups of four: {password}");
    assert!(stdout.contains("演示数据 demonstration round"), "{stdout}");

    // never into a folder that holds something, never into a server with tablets
    let again = load_demo(&data);
    assert_eq!(again.status.code(), Some(1));
    let server = env!("CARGO_BIN_EXE_zhisu-server");
    let args = |command: &str| {
        Command::new(server)
            .args(["--data-dir"])
            .arg(&data)
            .arg("--questionnaires")
            .arg(questionnaires_dir())
            .arg(command)
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .output()
            .unwrap()
    };
    let demo_again = args("load-demo");
    assert!(!demo_again.status.success());
    assert!(String::from_utf8_lossy(&demo_again.stderr).contains("already has enrolled tablets"));
    // the password is shown once: a second first-sign-in prints nothing and adds nobody
    let first_again = args("first-sign-in");
    assert!(first_again.status.success());
    assert_eq!(String::from_utf8(first_again.stdout).unwrap(), "");

    let state =
        zhisu_server::open_sqlite(&data.join("zhisu-server.sqlite3"), &questionnaires_dir())
            .unwrap();
    assert_eq!(state.storage.people().unwrap().len(), 1);
    let interviews = state.storage.interviews(&Scope::All).unwrap();
    let total = interviews.len() as u64;
    assert!(total > 300, "{total} interviews");
    let rejected = interviews
        .iter()
        .filter(|i| i.qc_status.as_deref() == Some("rejected"))
        .count() as u64;
    assert!(rejected > 0, "some reviewed and rejected");
    let districts: std::collections::BTreeSet<_> = interviews
        .iter()
        .filter_map(|i| i.district.clone())
        .collect();
    assert_eq!(districts.len(), 3);
    let sites = state.storage.all_sites().unwrap();
    assert!(sites
        .iter()
        .all(|s| s.weight.is_some() && s.stratum.is_some()));

    let base = serve_on_loopback(state.clone()).await;
    let cookie = dashboard_sign_in(&base, "admin", &password).await;
    let http = reqwest::Client::new();
    let page = |path: &str| {
        let (http, cookie, url) = (http.clone(), cookie.clone(), format!("{base}{path}"));
        async move {
            let response = http
                .get(&url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{url}");
            response.text().await.unwrap()
        }
    };
    let counted = total - rejected;
    let progress = page("/dashboard/progress").await;
    assert_eq!(number_after(&progress, "id=\"total\""), counted, "progress");
    let literacy = page("/dashboard/literacy").await;
    assert_eq!(
        number_after(&literacy, "class=\"num n\""),
        counted,
        "literacy's n"
    );
    for district in &districts {
        assert!(
            literacy.contains(district.as_str()),
            "literacy by district: {district}"
        );
    }
    let items = page("/dashboard/items").await;
    assert!(items.matches("data-item=").count() > 30, "weakest items");
    let analysis = page("/dashboard/item-analysis").await;
    assert_eq!(
        number_after(&analysis, "class=\"respondents\""),
        counted,
        "item analysis"
    );
    assert!(
        analysis.contains("class=\"num alpha\">0."),
        "alphas computed"
    );
    let qc = page("/dashboard/qc?status=all").await;
    assert!(
        qc.contains("演示："),
        "the demo's review comments on the QC page"
    );
    let report = page("/dashboard/report").await;
    assert_eq!(
        number_after(&report, "id=\"summary\""),
        counted,
        "the report's sample"
    );
    let export = page("/dashboard/export.csv").await;
    assert_eq!(
        export.lines().count() as u64,
        total + 1,
        "every interview exported"
    );

    // contact outcomes: stored, and the progress page's rates count them
    let contacts = state.storage.contact_counts(&Scope::All).unwrap();
    let by: std::collections::BTreeSet<&str> =
        contacts.iter().map(|c| c.disposition.as_str()).collect();
    assert_eq!(
        by,
        ["not_eligible", "partial", "refused"].into_iter().collect(),
        "every kind of contact"
    );
    let refused: u64 = contacts
        .iter()
        .filter(|c| c.disposition == "refused")
        .map(|c| c.count)
        .sum();
    assert!(progress.contains("id=\"fieldwork\""), "the fieldwork table");
    let at = progress
        .find("<tr data-key=\"\">")
        .expect("the fieldwork table's all row");
    let row = &progress[at..at + progress[at..].find("</tr>").unwrap()];
    assert_eq!(
        number_after(row, "data-count=\"refused\""),
        refused,
        "refusals on the progress page: {row}"
    );
    assert!(row.contains("data-rate=\"rr1\""), "with the rates: {row}");
    // several surveyors per tablet, compared on the quality page
    let surveyors: std::collections::BTreeSet<String> = interviews
        .iter()
        .filter_map(|i| i.interview.surveyor_id.clone())
        .collect();
    assert!(surveyors.len() >= 6, "{surveyors:?}");
    let quality = page("/dashboard/quality").await;
    for surveyor in &surveyors {
        assert!(
            quality.contains(surveyor.as_str()),
            "{surveyor} on the quality page"
        );
    }
    // the modules, indicators and health items
    let measures = page("/dashboard/measures").await;
    assert!(!measures.contains("id=\"no-data\""), "measures shown");
    // the round before and a target: the rounds page, the references page and the report
    let previous = stdout
        .lines()
        .find_map(|l| l.strip_prefix("演示数据 the round before, "))
        .and_then(|l| l.split(':').next())
        .expect("the round before")
        .to_string();
    let current = (previous.parse::<u32>().unwrap() + 1).to_string();
    let rounds = page("/dashboard/rounds").await;
    assert!(
        rounds.contains("id=\"chart-rounds\"")
            && rounds.contains(&format!("合计（{previous} 轮）"))
            && rounds.contains(&format!("合计（{current} 轮）")),
        "both rounds compared"
    );
    let references = page("/dashboard/references").await;
    assert!(references.contains("演示目标"), "the demonstration target");
    let response = http
        .get(format!("{base}/dashboard/report.docx"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
        .unwrap();
    assert!(
        xml.contains(&format!("职业健康素养水平：{previous} 轮 ")),
        "the report compares the rounds"
    );
    assert!(
        xml.contains("演示目标（不是正式数据）"),
        "and reads the target"
    );
    assert!(xml.contains("拒绝"), "and counts the contacts");

    // outreach (issue 24): events, quizzes at them, the trainees' practice and the library
    assert!(stdout.contains("演示数据 outreach: 6 events"), "{stdout}");
    let quizzes = state.storage.quiz_sessions(&Scope::All).unwrap();
    assert!(
        quizzes.len() >= 3 * (8 + 8 + 3),
        "{} quiz sessions",
        quizzes.len()
    );
    assert!(quizzes.iter().any(|s| s.session.take_home_qr));
    let outreach = page("/dashboard/outreach").await;
    assert!(
        outreach.contains(&format!("知识问答 {} 人次", quizzes.len())),
        "the outreach page counts them"
    );
    assert!(outreach.contains("演示：yuzhong 汽车站候车厅"));
    let training = page("/dashboard/training").await;
    for surveyor in &surveyors {
        assert!(
            training.contains(&format!(
                "data-surveyor=\"{surveyor}\" data-status=\"practised_first\""
            )),
            "{surveyor} practised before fieldwork"
        );
    }
    let library = page("/dashboard/library").await;
    assert!(
        library.matches("data-piece=").count() > 40,
        "the starter library"
    );
    // and none of it is in a survey figure: the interviews are as counted above
    assert_eq!(state.storage.interview_count().unwrap(), total);
}
