//! Every webview command through Tauri's IPC (the mock runtime), by its name in
//! `zhisu-app-api`, with its typed arguments and result, over a real SQLite file. The store's
//! debug assertions fail any command that would touch SQLite on the main thread or on the
//! async runtime.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::json;
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;
use tokio::sync::{watch, Notify};
use zhisu_app::{handlers, AppState, Config};
use zhisu_app_api::{self as api, Command, CommandError, ErrorCode, InterviewArgs, UiLanguage};
use zhisu_core::AnswerValue;

struct App {
    webview: WebviewWindow<MockRuntime>,
    _app: tauri::App<MockRuntime>,
    called: Mutex<BTreeSet<&'static str>>,
}

impl App {
    fn open(dir: &Path) -> App {
        let config = Config {
            data_dir: dir.join("data"),
            key_dir: dir.join("key"),
            extra_questionnaire: Some(audio_questionnaire(dir)),
            media_dir: None,
            // nothing listens here: enrolment fails as "unreachable"
            default_server_url: "http://127.0.0.1:9".into(),
            // as IT would set it to a USB stick's folder
            backup_dir: Some(dir.join("usb").join("备份")),
            documents_dir: None,
            update_keys: vec![],
        };
        let (_status_tx, status_rx) = watch::channel(Default::default());
        let (state, _store) = AppState::open(&config, Arc::new(Notify::new()), status_rx).unwrap();
        let app = mock_builder()
            .manage(state)
            .invoke_handler(handlers())
            .build(mock_context(noop_assets()))
            .unwrap();
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        App {
            webview,
            _app: app,
            called: Mutex::new(BTreeSet::new()),
        }
    }

    fn invoke(
        &self,
        name: &'static str,
        body: tauri::ipc::InvokeBody,
    ) -> Result<tauri::ipc::InvokeResponseBody, CommandError> {
        self.called.lock().unwrap().insert(name);
        let request = InvokeRequest {
            cmd: name.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body,
            headers: Default::default(),
            invoke_key: tauri::test::INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.webview, request).map_err(|error| {
            serde_json::from_value(error.clone())
                .unwrap_or_else(|_| panic!("{name} failed without {{code, message}}: {error}"))
        })
    }

    /// Command `C` with `args`, as the frontend sends it.
    fn call<C: Command>(&self, args: C::Args) -> Result<C::Output, CommandError> {
        let body = tauri::ipc::InvokeBody::Json(json!({ api::ARGS: args }));
        self.invoke(C::NAME, body)
            .map(|answer| answer.deserialize::<C::Output>().unwrap())
    }

    fn ok<C: Command>(&self, args: C::Args) -> C::Output {
        self.call::<C>(args)
            .unwrap_or_else(|e| panic!("{}: {e}", C::NAME))
    }

    fn code<C: Command>(&self, args: C::Args) -> ErrorCode {
        match self.call::<C>(args) {
            Ok(_) => panic!("{} should fail", C::NAME),
            Err(e) => e.code,
        }
    }
}

/// The pilot questionnaire under another id, with a recording for its first question.
fn audio_questionnaire(dir: &Path) -> std::path::PathBuf {
    let source = include_str!("../../questionnaires/pilot.toml")
        .replace("id = \"ohl_pilot\"", "id = \"audio_pilot\"")
        .replace(
            "label.\"zh-CN\" = \"您今年多少岁？\"",
            "audio = \"audio/age.wav\"\nlabel.\"zh-CN\" = \"您今年多少岁？\"",
        );
    std::fs::create_dir_all(dir.join("audio")).unwrap();
    std::fs::write(dir.join("audio/age.wav"), b"RIFF").unwrap();
    let path = dir.join("audio_pilot.toml");
    std::fs::write(&path, source).unwrap();
    path
}

fn pilot_args(language: Option<&str>) -> api::StartInterviewArgs {
    api::StartInterviewArgs {
        practice: false,
        id: "ohl_pilot".into(),
        version: "2026.1".into(),
        language: language.map(String::from),
    }
}

fn answer(app: &App, interview_id: uuid::Uuid, item: &str, value: AnswerValue) {
    app.ok::<api::SaveAnswer>(api::SaveAnswerArgs {
        interview_id,
        item_id: item.into(),
        value,
    });
}

#[test]
fn every_command_answers_through_the_ipc_with_its_api_types() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path());

    // questionnaires: the newest of each, and the one with a recording
    let list = app.ok::<api::Questionnaires>(());
    let ids: BTreeSet<&str> = list.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(
        ids,
        BTreeSet::from(["audio_pilot", "ohl_2026", "ohl_intercept", "ohl_pilot"])
    );
    let version = |id: &str| api::VersionArgs {
        id: id.into(),
        version: "2026.1".into(),
    };
    assert_eq!(
        app.ok::<api::GetQuestionnaire>(version("ohl_pilot"))
            .items
            .len(),
        4
    );
    assert_eq!(
        app.code::<api::GetQuestionnaire>(version("nothing")),
        ErrorCode::UnknownQuestionnaire
    );
    // the newest version of the national questionnaire is offered, and the one it replaced is
    // still there for interviews begun with it
    let national = |version: &str| api::VersionArgs {
        id: "ohl_2026".into(),
        version: version.into(),
    };
    assert_eq!(
        list.iter()
            .find(|q| q.id == "ohl_2026")
            .map(|q| q.version.as_str()),
        Some("2026.2")
    );
    let earlier = app.ok::<api::GetQuestionnaire>(national("2026.1"));
    assert!(earlier.item("law_leave_exam").is_some());
    let current = app.ok::<api::GetQuestionnaire>(national("2026.2"));
    assert!(current.item("law_leave_exam").is_none() && current.item("phq2_mood").is_some());
    let keys = app.ok::<api::GetSearchKeys>(national("2026.2"));
    assert!(keys["industry"]["construction"].starts_with("jzy "));
    let audio = |item: &str| api::ItemAudioArgs {
        id: "audio_pilot".into(),
        version: "2026.1".into(),
        item_id: item.into(),
        ..Default::default()
    };
    assert_eq!(
        app.ok::<api::ItemAudio>(audio("age")),
        "data:audio/wav;base64,UklGRg=="
    );
    assert_eq!(
        app.code::<api::ItemAudio>(audio("noise")),
        ErrorCode::NoAudio
    );
    // nothing delivered yet (delivered recordings: the test below)
    assert_eq!(app.ok::<api::RecordedPlaces>(version("ohl_pilot")), vec![]);
    // pictures: the app's own drawing of a picture a bundled questionnaire names
    let picture = app.ok::<api::ItemImage>(api::ItemAudioArgs {
        id: "ohl_2026".into(),
        version: "2026.2".into(),
        item_id: "skill_sign_warning".into(),
        ..Default::default()
    });
    assert!(picture.url.starts_with("data:image/png;base64,"));
    assert!(picture.alt.unwrap().0["en"].starts_with("A warning sign"));
    assert_eq!(
        app.code::<api::ItemImage>(audio("noise")),
        ErrorCode::NoPicture
    );

    // preferences
    assert_eq!(app.ok::<api::GetPreferences>(()).language, UiLanguage::Zh);
    app.ok::<api::SetLanguage>(api::SetLanguageArgs {
        language: UiLanguage::En,
    });
    assert_eq!(app.ok::<api::GetPreferences>(()).language, UiLanguage::En);
    assert_eq!(
        app.ok::<api::GetPreferences>(()).theme,
        api::Theme::Standard
    );
    app.ok::<api::SetTheme>(api::SetThemeArgs {
        theme: api::Theme::HighContrast,
    });
    assert_eq!(
        app.ok::<api::GetPreferences>(()).theme,
        api::Theme::HighContrast
    );
    assert_eq!(
        app.ok::<api::GetPreferences>(()).text_size,
        api::TextSize::Normal
    );
    app.ok::<api::SetTextSize>(api::SetTextSizeArgs {
        text_size: api::TextSize::Largest,
    });
    assert_eq!(
        app.ok::<api::GetPreferences>(()).text_size,
        api::TextSize::Largest
    );

    // an interview from start to completion, with paradata
    let started = app.ok::<api::StartInterview>(pilot_args(Some("en")));
    assert_eq!(started.language, "en");
    let id = started.id;
    let interview = InterviewArgs { interview_id: id };
    // updates (issue 22): this version, no release key configured, and never installed while
    // an interview is in progress
    let update = app.ok::<api::GetUpdateStatus>(());
    assert_eq!(update.current_version, zhisu_app::app_version());
    assert_eq!(update.current_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(update.open_interviews, 1);
    assert_eq!(update.offered, None);
    assert!(update.unavailable.is_some(), "{update:?}");
    assert_eq!(app.code::<api::InstallUpdate>(()), ErrorCode::InterviewOpen);
    app.ok::<api::ScreenShown>(api::ScreenShownArgs {
        interview_id: id,
        item_id: Some("age".into()),
    });
    let fix = api::Fix {
        latitude: 29.55,
        longitude: 106.57,
        accuracy_m: 12.0,
    };
    let location = |latitude| api::RecordLocationArgs {
        interview_id: id,
        moment: api::LocationMoment::Start,
        fix: api::Fix { latitude, ..fix },
    };
    app.ok::<api::RecordLocation>(location(29.55));
    assert_eq!(
        app.code::<api::RecordLocation>(location(99.0)),
        ErrorCode::BadLocation
    );
    answer(&app, id, "age", AnswerValue::Integer(33));
    let bad = api::SaveAnswerArgs {
        interview_id: id,
        item_id: "age".into(),
        value: AnswerValue::Integer(3),
    };
    assert_eq!(app.code::<api::SaveAnswer>(bad), ErrorCode::InvalidAnswer);
    assert_eq!(
        app.code::<api::CompleteInterview>(interview),
        ErrorCode::InterviewIncomplete
    );
    answer(&app, id, "employer_duty", AnswerValue::Bool(true));
    answer(&app, id, "noise", AnswerValue::Choice("earplugs".into()));
    let both = AnswerValue::Choices(vec!["ventilate".into(), "test_air".into()]);
    answer(&app, id, "confined_space", both);
    assert_eq!(app.ok::<api::InterviewAnswers>(interview).len(), 4);
    let _flags = app.ok::<api::QualityCheck>(interview);
    let completion = app.ok::<api::CompleteInterview>(interview);
    assert_eq!(completion.report.max, 4);
    assert!(
        completion.show_answer_key,
        "the default round shows the answer key"
    );
    // the feedback page again, as kept by the store: the same page
    let again = app.ok::<api::FeedbackAgain>(interview);
    assert_eq!(again.completion, completion);
    // the default round has no back-checks: the re-contact card is not asked (the test
    // below asks it)
    assert!(!completion.ask_recontact);
    assert_eq!(
        app.code::<api::AnswerRecontact>(api::RecontactArgs {
            interview_id: id,
            consent: true,
            phone: "13800001234".into(),
            call_name: String::new(),
        }),
        ErrorCode::RecontactNotAsked
    );
    assert_eq!(
        app.code::<api::FeedbackAgain>(InterviewArgs {
            interview_id: uuid::Uuid::from_u128(404)
        }),
        ErrorCode::UnknownInterview
    );
    assert_eq!(
        app.code::<api::SaveAnswer>(api::SaveAnswerArgs {
            interview_id: id,
            item_id: "age".into(),
            value: AnswerValue::Integer(34),
        }),
        ErrorCode::InterviewClosed
    );

    // another one, discarded
    let other = app.ok::<api::StartInterview>(pilot_args(Some("bo"))).id;
    // the same age (the pilot's one fingerprint item) as the one completed: a warning
    let repeat = InterviewArgs {
        interview_id: other,
    };
    assert_eq!(
        app.ok::<api::RepeatRespondent>(repeat),
        api::RepeatCheck::NotYetKnown
    );
    answer(&app, other, "age", AnswerValue::Integer(33));
    let check = app.ok::<api::RepeatRespondent>(repeat);
    assert_eq!(check.first_match().map(|m| m.interview_id), Some(id));
    assert_eq!(
        app.code::<api::RepeatRespondent>(interview),
        ErrorCode::InterviewClosed
    );
    let discard = |reason: &str| api::DiscardArgs {
        interview_id: other,
        reason: reason.into(),
    };
    assert_eq!(
        app.code::<api::DiscardInterview>(discard(" ")),
        ErrorCode::DiscardReasonMissing
    );
    app.ok::<api::DiscardInterview>(discard("受访者离开"));

    // another one, closed with its outcome: the rule decides only a screened-out contact, a
    // partial or "other" needs a reason
    let closed = app.ok::<api::StartInterview>(pilot_args(Some("bo"))).id;
    let close =
        |disposition: Option<zhisu_core::Disposition>, reason: &str| api::CloseContactArgs {
            interview_id: closed,
            disposition,
            reason: reason.into(),
        };
    assert_eq!(
        app.code::<api::CloseContact>(close(None, "")),
        ErrorCode::DispositionNotAllowed
    );
    assert_eq!(
        app.code::<api::CloseContact>(close(Some(zhisu_core::Disposition::Other), " ")),
        ErrorCode::DispositionReasonMissing
    );
    let summary = app.ok::<api::CloseContact>(close(
        Some(zhisu_core::Disposition::Other),
        "说的是方言，听不懂",
    ));
    assert_eq!(summary.disposition, Some(zhisu_core::Disposition::Other));
    assert_eq!(summary.state, api::InterviewState::Completed);
    let listed = app.ok::<api::Interviews>(());
    let states: BTreeSet<_> = listed
        .iter()
        .map(|i| (i.id, i.state, i.language.clone()))
        .collect();
    assert!(states.contains(&(id, api::InterviewState::Completed, Some("en".into()))));
    assert!(states.contains(&(other, api::InterviewState::Discarded, Some("zh-CN".into()))));

    // sync: a waiting interview, no attempts yet
    let sync = app.ok::<api::GetSyncStatus>(());
    assert_eq!((sync.counts.waiting, sync.counts.discarded), (2, 1));
    app.ok::<api::SyncNow>(());
    assert!(app.ok::<api::GetSyncLog>(()).is_empty());
    let backup = dir.path().join("backup.sqlite3");
    app.ok::<api::ExportBackup>(api::ExportBackupArgs {
        path: backup.display().to_string(),
    });
    assert_eq!(
        zhisu_store::read_backup(&backup, Some(&device_key(dir.path())))
            .unwrap()
            .len(),
        1
    );

    // the backup button: the app chooses the place, never over an earlier backup
    let first = app.ok::<api::BackupToDrive>(());
    let second = app.ok::<api::BackupToDrive>(());
    assert_ne!(first.path, second.path);
    for written in [&first, &second] {
        let path = PathBuf::from(&written.path);
        assert!(!written.removable, "{written:?}");
        assert!(
            path.starts_with(dir.path().join("usb").join("备份")),
            "{written:?}"
        );
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            name.starts_with("zhisu-backup-unenrolled-") && name.ends_with(".sqlite3"),
            "{name}"
        );
        assert_eq!(
            zhisu_store::read_backup(&path, Some(&device_key(dir.path())))
                .unwrap()
                .len(),
            1,
            "the same interviews as the backup written to a path"
        );
    }

    // startup time: not marked (no clock started in a test), asked without failing
    app.ok::<api::MarkInteractive>(());
    assert_eq!(app.ok::<api::StartupMs>(()), None);

    // enrolment: checked here, then refused by the network
    let identity = app.ok::<api::GetIdentity>(());
    assert!(!identity.enrolled);
    assert_eq!(identity.default_server_url, "http://127.0.0.1:9");
    let enrol = |url: &str, name: &str| api::EnrolArgs {
        server_url: url.into(),
        code: "K7XM-3QPA".into(),
        device_name: name.into(),
    };
    assert_eq!(
        app.code::<api::Enrol>(enrol("cdc.example", "渝中 1 号")),
        ErrorCode::BadServerUrl
    );
    assert_eq!(
        app.code::<api::Enrol>(enrol("http://127.0.0.1:9", " ")),
        ErrorCode::DeviceNameMissing
    );
    assert_eq!(
        app.code::<api::Enrol>(enrol("http://127.0.0.1:9/", "渝中 1 号")),
        ErrorCode::ServerUnreachable
    );

    // a QR code picture comes as raw bytes
    let blank: Vec<u8> = [20u32.to_le_bytes(), 20u32.to_le_bytes()]
        .concat()
        .into_iter()
        .chain(std::iter::repeat_n(255, 400))
        .collect();
    let read = app.invoke(api::ReadQrCode::NAME, tauri::ipc::InvokeBody::Raw(blank));
    assert_eq!(read.unwrap_err().code, ErrorCode::NoQrCode);
    let read = app.invoke(
        api::ReadQrCode::NAME,
        tauri::ipc::InvokeBody::Json(json!({})),
    );
    assert_eq!(read.unwrap_err().code, ErrorCode::BadPicture);

    // today's work: no sites before an assignment
    let today = app.ok::<api::Today>(());
    assert!(today.sites.is_empty() && today.current_site.is_none());
    let site = api::ChooseSiteArgs {
        site_id: "yz-001".into(),
    };
    assert_eq!(app.code::<api::ChooseSite>(site), ErrorCode::UnknownSite);

    quiz_is_kept_once_and_never_an_interview(&app);
    // back-checks (issue 15): none before an assignment brings one, and a back-check needs a
    // surveyor signed in and a task this tablet holds
    assert!(app.ok::<api::Backchecks>(()).is_empty());
    let unknown_task = || api::SaveBackcheckArgs {
        task_id: uuid::Uuid::from_u128(15),
        reached: true,
        answers: Default::default(),
    };
    assert_eq!(
        app.code::<api::SaveBackcheck>(unknown_task()),
        ErrorCode::SurveyorNeeded
    );
    surveyors_take_turns(&app);
    if app.ok::<api::GetSurveyors>(()).current.is_some() {
        assert!(app.ok::<api::Backchecks>(()).is_empty());
        assert_eq!(
            app.code::<api::SaveBackcheck>(unknown_task()),
            ErrorCode::UnknownBackcheck
        );
    }

    // with nothing in progress: nothing downloaded, so nothing to install
    if app.ok::<api::GetUpdateStatus>(()).open_interviews == 0 {
        let code = app.code::<api::InstallUpdate>(());
        assert!(
            matches!(code, ErrorCode::UpdateNotReady | ErrorCode::UpdateManaged),
            "{code:?}"
        );
    }

    let missing: Vec<&&str> = api::ALL
        .iter()
        .filter(|name| !app.called.lock().unwrap().contains(**name))
        .collect();
    assert!(missing.is_empty(), "commands not exercised: {missing:?}");
}

/// Quiz mode: ten items drawn from the scored ones (all of them when asked), a quiz played to
/// the end kept once (the same quiz again changes nothing) and never an interview.
fn quiz_is_kept_once_and_never_an_interview(app: &App) {
    let national = api::VersionArgs {
        id: "ohl_2026".into(),
        version: app
            .ok::<api::Questionnaires>(())
            .into_iter()
            .find(|q| q.id == "ohl_2026")
            .unwrap()
            .version,
    };
    let q = app.ok::<api::GetQuestionnaire>(national.clone());
    let scored: Vec<String> = q.scored_items().map(|i| i.id.clone()).collect();
    let setup = app.ok::<api::QuizSetup>(national.clone());
    assert!(setup.events.is_empty() && !setup.has_weak_points);
    assert_eq!((setup.waiting, setup.acknowledged), (0, 0));
    let start = |whole: bool| api::StartQuizArgs {
        id: national.id.clone(),
        version: national.version.clone(),
        whole,
    };
    assert_eq!(app.ok::<api::StartQuiz>(start(true)).items, scored);
    let plan = app.ok::<api::StartQuiz>(start(false));
    assert_eq!(plan.items.len(), zhisu_core::quiz::SHORT_QUIZ_ITEMS);
    assert!(plan.items.iter().all(|i| scored.contains(i)));
    let interviews_before = app.ok::<api::Interviews>(()).len();
    let finish = api::FinishQuizArgs {
        quiz_id: plan.quiz_id,
        id: national.id.clone(),
        version: national.version.clone(),
        started_at: plan.started_at,
        event_id: None,
        items: plan
            .items
            .iter()
            .enumerate()
            .map(|(n, item)| api::QuizAnswer {
                item: item.clone(),
                right: n % 3 != 0,
            })
            .collect(),
    };
    let summary = app.ok::<api::FinishQuiz>(finish.clone());
    assert_eq!((summary.right, summary.asked), (6, 10));
    app.ok::<api::FinishQuiz>(finish.clone());
    let mut changed = finish;
    changed.items[0].right = !changed.items[0].right;
    assert_eq!(app.code::<api::FinishQuiz>(changed), ErrorCode::QuizChanged);
    assert_eq!(app.ok::<api::QuizSetup>(national).waiting, 1);
    assert_eq!(app.ok::<api::Interviews>(()).len(), interviews_before);
}

fn surveyors_take_turns(app: &App) {
    assert!(app.ok::<api::GetSurveyors>(()).surveyors.is_empty());
    let add = |id: &str, pin: &str| api::AddSurveyorArgs {
        id: id.into(),
        name: "张三".into(),
        pin: pin.into(),
    };
    assert_eq!(
        app.code::<api::AddSurveyor>(add("S01", "12")),
        ErrorCode::BadPin
    );
    let view = app.ok::<api::AddSurveyor>(add("S01", "1234"));
    assert_eq!(view.current.unwrap().id, "S01");
    app.ok::<api::SignOutSurveyor>(());
    assert_eq!(app.ok::<api::GetSurveyors>(()).current, None);
    // a tablet with surveyors needs one signed in to start an interview
    assert_eq!(
        app.code::<api::StartInterview>(pilot_args(None)),
        ErrorCode::SurveyorNeeded
    );
    let sign_in = |pin: &str| api::SignInArgs {
        id: "S01".into(),
        pin: pin.into(),
    };
    assert_eq!(
        app.code::<api::SignInSurveyor>(sign_in("0000")),
        ErrorCode::WrongPin
    );
    assert_eq!(
        app.ok::<api::SignInSurveyor>(sign_in("1234"))
            .current
            .unwrap()
            .id,
        "S01"
    );
    let started = app.ok::<api::StartInterview>(pilot_args(None));
    assert_eq!(started.language, "zh-CN");
    for _ in 0..zhisu_store::PIN_TRIES {
        assert_eq!(
            app.code::<api::SignInSurveyor>(sign_in("9999")),
            ErrorCode::WrongPin
        );
    }
    assert_eq!(
        app.code::<api::SignInSurveyor>(sign_in("1234")),
        ErrorCode::TooManyAttempts
    );
}

/// A traveller interviewed twice at one site on one day (issue #15): the second interview is
/// told of the first once the fingerprint items are answered, however far the first has gone
/// (here completed and sealed away), and an interview with other answers is not.
#[test]
fn a_second_interview_with_the_same_background_answers_today_is_told_of_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path());
    let first = app.ok::<api::StartInterview>(pilot_args(None)).id;
    answer(&app, first, "age", AnswerValue::Integer(45));
    answer(&app, first, "employer_duty", AnswerValue::Bool(true));
    answer(&app, first, "noise", AnswerValue::Choice("earplugs".into()));
    let both = AnswerValue::Choices(vec!["ventilate".into(), "test_air".into()]);
    answer(&app, first, "confined_space", both);
    app.ok::<api::CompleteInterview>(InterviewArgs {
        interview_id: first,
    });

    let check = |id| app.ok::<api::RepeatRespondent>(InterviewArgs { interview_id: id });
    let second = app.ok::<api::StartInterview>(pilot_args(None)).id;
    assert_eq!(check(second), api::RepeatCheck::NotYetKnown);
    answer(&app, second, "age", AnswerValue::Integer(45));
    let found = check(second);
    let first_match = found.first_match().expect("the first interview");
    assert_eq!(first_match.interview_id, first);
    assert_eq!(first_match.state, api::InterviewState::Completed);
    assert_eq!(first_match.local_time.len(), 5, "HH:MM");
    // a warning only: the second interview goes on
    answer(&app, second, "employer_duty", AnswerValue::Bool(false));

    let other = app.ok::<api::StartInterview>(pilot_args(None)).id;
    answer(&app, other, "age", AnswerValue::Integer(46));
    assert_eq!(check(other), api::RepeatCheck::NoMatch);
}

#[test]
fn the_pin_lockout_outlives_a_restart_of_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let sign_in = |pin: &str| api::SignInArgs {
        id: "S01".into(),
        pin: pin.into(),
    };
    {
        let app = App::open(dir.path());
        app.ok::<api::AddSurveyor>(api::AddSurveyorArgs {
            id: "S01".into(),
            name: "张三".into(),
            pin: "1234".into(),
        });
        for _ in 0..zhisu_store::PIN_TRIES {
            app.code::<api::SignInSurveyor>(sign_in("0000"));
        }
    }
    let app = App::open(dir.path());
    assert_eq!(
        app.ok::<api::GetSurveyors>(()).current,
        None,
        "nobody signed in after a restart"
    );
    assert_eq!(
        app.code::<api::SignInSurveyor>(sign_in("1234")),
        ErrorCode::TooManyAttempts
    );
}

/// Recordings delivered with a questionnaire version (as sync keeps them) play for the question
/// and for each answer; the file the questionnaire names stays the question's fallback, and an
/// answer without a recording has none.
#[test]
fn delivered_recordings_play_for_the_question_and_each_answer() {
    use base64::Engine;
    use zhisu_protocol::{media_hash, AudioKind, RecordingRef};
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let question = b"RIFF\x10\0\0\0WAVEfmt the question".to_vec();
    let answer = b"OggS\0\x02 the answer earplugs".to_vec();
    {
        let mut store = zhisu_store::DeviceStore::open(
            &dir.path().join("data/zhisu.sqlite3"),
            &device_key(dir.path()),
        )
        .unwrap();
        let place = |item: &str, option: &str, bytes: &[u8], kind| RecordingRef {
            questionnaire_id: "ohl_pilot".into(),
            version: "2026.1".into(),
            item_id: item.into(),
            option: option.into(),
            sha256: media_hash(bytes),
            size: bytes.len() as u64,
            kind,
        };
        store
            .replace_recordings(&[
                place("noise", "", &question, AudioKind::Wav),
                place("noise", "earplugs", &answer, AudioKind::Ogg),
                place("noise", "cotton", b"never arrives", AudioKind::Wav),
            ])
            .unwrap();
        for bytes in [&question, &answer] {
            store.append_media(&media_hash(bytes), 0, bytes).unwrap();
            assert!(store.finish_media(&media_hash(bytes)).unwrap());
        }
    }
    let app = App::open(dir.path());
    let places = app.ok::<api::RecordedPlaces>(api::VersionArgs {
        id: "ohl_pilot".into(),
        version: "2026.1".into(),
    });
    let places: Vec<(&str, &str)> = places
        .iter()
        .map(|p| (p.item_id.as_str(), p.option.as_str()))
        .collect();
    assert_eq!(places, vec![("noise", ""), ("noise", "earplugs")]);
    let url = |q: &str, item: &str, option: &str| api::ItemAudioArgs {
        id: q.into(),
        version: "2026.1".into(),
        item_id: item.into(),
        option: option.into(),
    };
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    assert_eq!(
        app.ok::<api::ItemAudio>(url("ohl_pilot", "noise", "")),
        format!("data:audio/wav;base64,{}", b64(&question))
    );
    assert_eq!(
        app.ok::<api::ItemAudio>(url("ohl_pilot", "noise", "earplugs")),
        format!("data:audio/ogg;base64,{}", b64(&answer))
    );
    // not all here yet, or never recorded: no recording
    for option in ["cotton", "get_used"] {
        assert_eq!(
            app.code::<api::ItemAudio>(url("ohl_pilot", "noise", option)),
            ErrorCode::NoAudio,
            "{option}"
        );
    }
    // the questionnaire's own file is the question's, never an answer's
    assert_eq!(
        app.ok::<api::ItemAudio>(url("audio_pilot", "age", "")),
        "data:audio/wav;base64,UklGRg=="
    );
    assert_eq!(
        app.code::<api::ItemAudio>(url("audio_pilot", "age", "x")),
        ErrorCode::NoAudio
    );
}

/// The re-contact card (issue 15): asked after an interview of a round with back-checks;
/// a number a back-check cannot call and an over-long form of address are refused in plain
/// words; a yes is kept apart from the interview (not asked again, another answer refused)
/// and waits for the interview's receipt before it is sent.
#[test]
fn the_recontact_card_is_asked_when_the_round_has_backchecks_and_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let open_store = || {
        zhisu_store::DeviceStore::open(
            &dir.path().join("data/zhisu.sqlite3"),
            &device_key(dir.path()),
        )
        .unwrap()
    };
    open_store()
        .save_round_settings(&zhisu_protocol::RoundSettings {
            backcheck: Some(zhisu_protocol::BackcheckSettings {
                share_percent: 5.0,
                min_per_surveyor_week: 1,
                items: vec!["age".into()],
                fail_below_percent: 80,
                numeric_tolerance: 0.0,
            }),
            ..Default::default()
        })
        .unwrap();
    let app = App::open(dir.path());
    let id = app.ok::<api::StartInterview>(pilot_args(None)).id;
    answer(&app, id, "age", AnswerValue::Integer(35));
    answer(&app, id, "employer_duty", AnswerValue::Bool(true));
    answer(&app, id, "noise", AnswerValue::Choice("earplugs".into()));
    let both = AnswerValue::Choices(vec!["ventilate".into(), "test_air".into()]);
    answer(&app, id, "confined_space", both);
    let interview = InterviewArgs { interview_id: id };
    assert!(app.ok::<api::CompleteInterview>(interview).ask_recontact);
    let card = |consent: bool, phone: &str, call_name: &str| api::RecontactArgs {
        interview_id: id,
        consent,
        phone: phone.into(),
        call_name: call_name.into(),
    };
    assert_eq!(
        app.code::<api::AnswerRecontact>(card(true, "1380000123", "")),
        ErrorCode::BadPhone
    );
    assert_eq!(
        app.code::<api::AnswerRecontact>(card(true, "13800001234", &"王".repeat(13))),
        ErrorCode::BadCallName
    );
    assert!(
        app.ok::<api::FeedbackAgain>(interview)
            .completion
            .ask_recontact
    );
    app.ok::<api::AnswerRecontact>(card(true, "138-0000-1234", "王师傅"));
    app.ok::<api::AnswerRecontact>(card(true, "13800001234", "王师傅"));
    assert_eq!(
        app.code::<api::AnswerRecontact>(card(false, "", "")),
        ErrorCode::RecontactAnswered
    );
    assert!(
        !app.ok::<api::FeedbackAgain>(interview)
            .completion
            .ask_recontact
    );
    drop(app);
    let store = open_store();
    let kept = store.kept_recontact(id).unwrap().unwrap();
    assert_eq!(kept.phone.as_deref(), Some("13800001234"));
    assert_eq!(kept.state, "waiting");
    assert!(
        store.waiting_recontacts(10).unwrap().is_empty(),
        "not before the interview's receipt"
    );
}

/// The key the app drew for its database in the test's folder.
fn device_key(dir: &std::path::Path) -> zhisu_store::DatabaseKey {
    zhisu_store::load_or_create_key_file(&dir.join("key")).unwrap()
}
