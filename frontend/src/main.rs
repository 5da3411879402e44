//! The surveyor's interview screens. Every answer goes to the Rust side (`save_answer`), which
//! commits it to SQLite; only when that returns does the next screen appear. Which screen comes
//! next (skip logic, eligibility) is decided by `zhisu-core`, the same code the server runs.

mod backend;

use std::rc::Rc;

use yew::prelude::*;
use zhisu_core::{
    AnswerValue, Answers, EligibilityStatus, Item, ItemKind, QcFlag, Questionnaire, ScoreReport,
};

use backend::{
    CommandError, Completion, IdentityView, InterviewListing, Preferences, QuestionnaireSummary,
    SearchKeys, SiteView, SurveyorsView, SyncLogEntry, SyncView, TodayView,
};

/// A language of the app's own words: the surveyor's screens follow the surveyor's choice,
/// the respondent's screens the interview's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Zh,
    En,
}

impl Lang {
    fn from_code(code: &str) -> Lang {
        if code.starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

enum Screen {
    /// First run (or after revocation): enrol the tablet with the server.
    Enrol,
    Home,
    /// Today's work: the round, the site and its quotas.
    Today,
    /// Who is using the tablet: choose a surveyor with their PIN, or add one.
    Surveyors,
    MyInterviews,
    SyncLog,
    Question {
        interview_id: String,
        index: usize,
    },
    Review {
        interview_id: String,
    },
    Ineligible,
    /// Before completing a flagged interview: what quality control noticed.
    QualityWarning {
        interview_id: String,
        flags: Vec<QcFlag>,
    },
    Done {
        report: ScoreReport,
        /// The round lets the respondent see the right answers and explanations.
        show_answer_key: bool,
    },
}

#[derive(Clone, Copy)]
enum EnrolField {
    ServerUrl,
    Code,
    DeviceName,
}

/// An interview to show: its id, questionnaire, saved answers and language.
type Opened = Result<(String, Questionnaire, Answers, String), CommandError>;

enum Msg {
    IdentityLoaded(Result<IdentityView, CommandError>),
    EnrolField(EnrolField, String),
    Enrol,
    Enrolled(Result<IdentityView, CommandError>),
    /// A picture of the enrolment code's QR code was chosen.
    QrPicture(web_sys::HtmlInputElement),
    QrRead(Result<Option<String>, CommandError>),
    ReEnrol,
    CatalogueLoaded(Result<Vec<QuestionnaireSummary>, CommandError>),
    InterviewsLoaded(Result<Vec<InterviewListing>, CommandError>),
    LogLoaded(Result<Vec<SyncLogEntry>, CommandError>),
    Status(Result<SyncView, CommandError>),
    PollStatus,
    Start {
        id: String,
        version: String,
    },
    Resume(InterviewListing),
    /// An interview to show: its id, questionnaire and saved answers.
    Opened(Opened),
    ShowInterviews,
    ShowLog,
    ShowToday,
    TodayLoaded(Result<TodayView, CommandError>),
    ChooseSite(String),
    ShowSurveyors,
    SurveyorsLoaded(Result<SurveyorsView, CommandError>),
    /// The answer to signing in or adding a surveyor: on success, back to the home screen.
    SignedIn(Result<SurveyorsView, CommandError>),
    PickSurveyor(String),
    Pin(String),
    SignIn,
    SignOut,
    /// The add-a-surveyor form: id, name, PIN.
    NewSurveyor(usize, String),
    AddSurveyor,
    DiscardReason(String),
    Discard(String),
    Discarded(Result<(), CommandError>),
    /// Save this answer to the current item, then move on.
    Answer(AnswerValue),
    ToggleChoice(String),
    Draft(String),
    Search(String),
    Next,
    Back,
    Saved {
        item_id: String,
        value: AnswerValue,
        result: Result<(), CommandError>,
    },
    /// "Complete" on the review: check the quality flags first.
    Complete,
    Checked(Result<Vec<QcFlag>, CommandError>),
    /// Complete without (or despite) the quality warning.
    CompleteAnyway,
    /// From the quality warning back to the review.
    BackToReview,
    Completed(Result<Completion, CommandError>),
    Home,
    SyncNow,
    ToggleTextSize,
    /// The surveyor's screens in the other language (kept on the device).
    ToggleLanguage,
    PreferencesLoaded(Result<Preferences, CommandError>),
    SearchKeysLoaded(Result<SearchKeys, CommandError>),
    /// The speaker button: fetch the item's recording and play it.
    PlayAudio,
    AudioLoaded {
        item_id: String,
        result: Result<String, CommandError>,
    },
    Noop,
}

struct App {
    /// Larger text for a respondent who reads with difficulty.
    large_text: bool,
    /// The language of the surveyor's screens.
    ui: Lang,
    /// The language of the interview on screen (a questionnaire language code): the
    /// respondent's screens follow it.
    ilang: String,
    identity: Option<IdentityView>,
    /// The enrolment form: server address, code, tablet name.
    enrol_form: [String; 3],
    /// The code in the form was read from a QR code picture.
    qr_read: bool,
    catalogue: Vec<QuestionnaireSummary>,
    interviews: Vec<InterviewListing>,
    log: Vec<SyncLogEntry>,
    today: Option<TodayView>,
    surveyors: Option<SurveyorsView>,
    /// The surveyor whose PIN is being typed, and the PIN.
    pin_for: Option<String>,
    pin: String,
    /// The add-a-surveyor form: id, name, PIN.
    new_surveyor: [String; 3],
    discard_reason: String,
    /// The questionnaire of the interview on screen.
    questionnaire: Option<Rc<Questionnaire>>,
    screen: Screen,
    answers: Answers,
    /// Multiple-choice keys being picked before "next".
    draft_choices: Vec<String>,
    /// A number, text or date being typed before "next".
    draft_text: String,
    /// What is typed in a long list's search box.
    search: String,
    /// Pinyin search keys of the long lists of the questionnaire on screen.
    search_keys: SearchKeys,
    /// The recording of the item on screen (item id, `data:` URL), once asked for.
    audio: Option<(String, String)>,
    /// Play the recording after the next render.
    play_audio: bool,
    /// The first interactive screen was reported (startup time).
    interactive_marked: bool,
    busy: bool,
    error: Option<String>,
    sync: Option<SyncView>,
    /// The interview screen last reported for paradata: (interview, item; `None` for the
    /// review or another screen that is not a question).
    visit: Option<(String, Option<String>)>,
}

impl App {
    /// The language of the respondent's screens.
    fn rl(&self) -> Lang {
        Lang::from_code(&self.ilang)
    }

    fn current_item(&self) -> Option<&Item> {
        match (&self.screen, &self.questionnaire) {
            (Screen::Question { index, .. }, Some(q)) => q.items.get(*index),
            _ => None,
        }
    }

    /// Loads the saved answer of the current item into the drafts.
    fn load_drafts(&mut self) {
        let saved = self
            .current_item()
            .and_then(|item| self.answers.get(&item.id))
            .cloned();
        self.draft_choices = match &saved {
            Some(AnswerValue::Choices(keys)) => keys.clone(),
            _ => Vec::new(),
        };
        self.draft_text = match &saved {
            Some(AnswerValue::Integer(n)) => n.to_string(),
            Some(AnswerValue::Decimal(x)) => x.to_string(),
            Some(AnswerValue::Text(t)) | Some(AnswerValue::Date(t)) => t.clone(),
            _ => String::new(),
        };
        self.search.clear();
    }

    /// Shows the item after `after` (`None`: the first), the review, or the polite ending.
    fn advance(&mut self, interview_id: String, after: Option<usize>) {
        let Some(q) = self.questionnaire.clone() else {
            return;
        };
        self.error = None;
        self.screen = match q.next_item(&self.answers, after) {
            Some(index) => Screen::Question {
                interview_id,
                index,
            },
            None if q.eligibility_status(&self.answers) == EligibilityStatus::Ineligible => {
                Screen::Ineligible
            }
            None => Screen::Review { interview_id },
        };
        self.load_drafts();
    }

    fn save(&mut self, ctx: &Context<Self>, value: AnswerValue) {
        let (Screen::Question { interview_id, .. }, Some(item), Some(q)) =
            (&self.screen, self.current_item(), &self.questionnaire)
        else {
            return;
        };
        // The same checks the store makes, for an instant message; the store checks again.
        if let Err(e) = q.check_answer(&item.id, &value, &self.answers) {
            self.error = Some(e.message(&self.ilang));
            return;
        }
        let interview_id = interview_id.clone();
        let item_id = item.id.clone();
        self.busy = true;
        ctx.link().send_future(async move {
            let result = backend::save_answer(&interview_id, &item_id, &value).await;
            Msg::Saved {
                item_id,
                value,
                result,
            }
        });
    }

    /// The answer typed or picked on the current screen, for items answered with "next".
    fn drafted_answer(&self, item: &Item) -> Result<Option<AnswerValue>, String> {
        let text = self.draft_text.trim();
        Ok(Some(match &item.kind {
            ItemKind::MultipleChoice { .. } => {
                if self.draft_choices.is_empty() {
                    return Ok(None);
                }
                AnswerValue::Choices(self.draft_choices.clone())
            }
            _ if text.is_empty() => return Ok(None),
            ItemKind::Integer { .. } => AnswerValue::Integer(text.parse().map_err(|_| {
                self.rl()
                    .pick(
                        "请填一个整数，不要带小数点。",
                        "Please enter a whole number.",
                    )
                    .to_string()
            })?),
            ItemKind::Decimal { .. } => AnswerValue::Decimal(text.parse().map_err(|_| {
                self.rl()
                    .pick("请填一个数字。", "Please enter a number.")
                    .to_string()
            })?),
            ItemKind::Text { .. } => AnswerValue::Text(text.to_string()),
            ItemKind::Date { .. } => AnswerValue::Date(text.to_string()),
            _ => return Ok(None),
        }))
    }
}

fn error_text(e: &CommandError, lang: Lang) -> String {
    let text = match e.code.as_str() {
        "invalid_enrolment_code" => lang.pick(
            "这个登记码不对，或者已经用过、过期了。请向管理员要一个新的。",
            "This enrolment code is wrong, used or expired. Ask the administrator for a new one.",
        ),
        "server_unreachable" => lang.pick(
            "连不上服务器。请检查服务器地址和网络，再试一次。",
            "Cannot reach the server. Check the address and the network, then try again.",
        ),
        "bad_server_url" => lang.pick(
            "服务器地址要以 http:// 或 https:// 开头。",
            "The server address starts with http:// or https://.",
        ),
        "device_name_missing" => lang.pick("请给这台平板起个名字。", "Give this tablet a name."),
        "no_qr_code" => lang.pick(
            "这张图片里没找到二维码。请换一张清楚、正对着拍的照片，或者直接输入登记码。",
            "No QR code was found in this picture. Try a sharper, straight photo, or type the code.",
        ),
        "bad_picture" => lang.pick(
            "这张图片打不开，请换一张。",
            "This picture cannot be opened. Choose another.",
        ),
        "wrong_pin" => lang.pick(
            "PIN 不对，请再试一次。",
            "That PIN is not right. Try again.",
        ),
        "bad_pin" => lang.pick("PIN 要 4 到 6 位数字。", "A PIN is 4 to 6 digits."),
        "too_many_attempts" => lang.pick(
            "PIN 错了太多次，请等半分钟再试。",
            "Too many wrong PINs: wait half a minute.",
        ),
        "surveyor_exists" => lang.pick(
            "这个编号已经有调查员了，请换一个。",
            "A surveyor with this id is already here: use another id.",
        ),
        "surveyor_incomplete" => lang.pick(
            "请填写调查员编号和姓名。",
            "Fill in the surveyor's id and name.",
        ),
        "surveyor_needed" => lang.pick(
            "请先点“换调查员”，选好自己并输入 PIN。",
            "First tap \u{201c}Change surveyor\u{201d}, choose yourself and enter your PIN.",
        ),
        "interview_incomplete" => lang.pick(
            "还有必答题没有回答，请返回补上。",
            "A required question has no answer yet: go back and answer it.",
        ),
        "storage_failed" | "storage_corrupt" => {
            return format!(
                "{}（{}）",
                lang.pick(
                    "答案没有保存成功，请再点一次。如果一直不行，请联系管理员。",
                    "The answer was not saved. Tap again; if it keeps failing, call the administrator."
                ),
                e.code
            );
        }
        _ => {
            return format!(
                "{}{}（{}）",
                lang.pick("出错了：", "Something went wrong: "),
                e.message,
                e.code
            )
        }
    };
    text.to_string()
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        ctx.link()
            .send_future(async { Msg::IdentityLoaded(backend::identity().await) });
        ctx.link()
            .send_future(async { Msg::CatalogueLoaded(backend::questionnaires().await) });
        ctx.link()
            .send_future(async { Msg::InterviewsLoaded(backend::interviews().await) });
        ctx.link().send_message(Msg::PollStatus);
        ctx.link()
            .send_future(async { Msg::PreferencesLoaded(backend::preferences().await) });
        ctx.link()
            .send_future(async { Msg::TodayLoaded(backend::today().await) });
        ctx.link()
            .send_future(async { Msg::SurveyorsLoaded(backend::surveyors().await) });
        App {
            large_text: false,
            ui: Lang::Zh,
            ilang: "zh-CN".to_string(),
            identity: None,
            enrol_form: Default::default(),
            qr_read: false,
            catalogue: Vec::new(),
            interviews: Vec::new(),
            log: Vec::new(),
            today: None,
            surveyors: None,
            pin_for: None,
            pin: String::new(),
            new_surveyor: Default::default(),
            discard_reason: String::new(),
            questionnaire: None,
            screen: Screen::Home,
            answers: Answers::new(),
            draft_choices: Vec::new(),
            draft_text: String::new(),
            search: String::new(),
            search_keys: SearchKeys::new(),
            audio: None,
            play_audio: false,
            interactive_marked: false,
            busy: false,
            error: None,
            sync: None,
            visit: None,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let render = self.handle(ctx, msg);
        self.report_screen(ctx);
        render
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        self.page(ctx)
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        if std::mem::take(&mut self.play_audio) {
            play_item_audio();
        }
        // the first screen a surveyor can use: home with its questionnaires, or enrolment
        let interactive = match self.screen {
            Screen::Home => self.identity.is_some() && !self.catalogue.is_empty(),
            Screen::Enrol => true,
            _ => false,
        };
        if interactive && !self.interactive_marked {
            self.interactive_marked = true;
            wasm_bindgen_futures::spawn_local(async {
                let _ = backend::mark_interactive().await;
            });
        }
    }
}

impl App {
    fn handle(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::IdentityLoaded(Ok(identity)) | Msg::Enrolled(Ok(identity)) => {
                if self.enrol_form[0].is_empty() {
                    self.enrol_form[0] = identity.default_server_url.clone();
                }
                let enrolled = identity.enrolled;
                self.identity = Some(identity);
                self.busy = false;
                if !enrolled {
                    self.screen = Screen::Enrol;
                } else if matches!(self.screen, Screen::Enrol) {
                    self.screen = Screen::Home;
                    self.error = None;
                }
            }
            Msg::IdentityLoaded(Err(e)) => self.error = Some(error_text(&e, self.ui)),
            Msg::Enrolled(Err(e)) => {
                self.busy = false;
                self.error = Some(error_text(&e, self.ui));
            }
            Msg::EnrolField(field, value) => {
                if matches!(field, EnrolField::Code) {
                    self.qr_read = false;
                }
                self.enrol_form[field as usize] = value;
                self.error = None;
            }
            Msg::Enrol => {
                let [url, code, name] = self.enrol_form.clone();
                if code.trim().is_empty() || name.trim().is_empty() {
                    self.error = Some(
                        self.ui
                            .pick(
                                "请填写登记码和平板名称。",
                                "Fill in the enrolment code and the tablet's name.",
                            )
                            .to_string(),
                    );
                    return true;
                }
                self.busy = true;
                ctx.link().send_future(async move {
                    Msg::Enrolled(backend::enrol(&url, &code, &name).await)
                });
            }
            Msg::QrPicture(input) => {
                self.busy = true;
                self.error = None;
                ctx.link().send_future(async move {
                    let result = backend::read_qr_code(&input).await;
                    input.set_value(""); // the same picture can be chosen again
                    Msg::QrRead(result)
                });
            }
            Msg::QrRead(result) => {
                self.busy = false;
                match result {
                    Ok(Some(code)) => {
                        self.enrol_form[EnrolField::Code as usize] = code;
                        self.qr_read = true;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        self.qr_read = false;
                        self.error = Some(error_text(&e, self.ui));
                    }
                }
            }
            Msg::ReEnrol => {
                self.screen = Screen::Enrol;
                self.error = None;
            }
            Msg::CatalogueLoaded(Ok(list)) => self.catalogue = list,
            Msg::InterviewsLoaded(Ok(list)) => self.interviews = list,
            Msg::LogLoaded(Ok(log)) => self.log = log,
            Msg::CatalogueLoaded(Err(e))
            | Msg::InterviewsLoaded(Err(e))
            | Msg::LogLoaded(Err(e)) => self.error = Some(error_text(&e, self.ui)),
            Msg::PollStatus => {
                ctx.link()
                    .send_future(async { Msg::Status(backend::sync_status().await) });
                return false;
            }
            Msg::Status(result) => {
                match result {
                    Ok(view) => self.sync = Some(view),
                    Err(e) => self.error = Some(error_text(&e, self.ui)),
                }
                ctx.link().send_future(async {
                    yew::platform::time::sleep(std::time::Duration::from_millis(1500)).await;
                    Msg::PollStatus
                });
            }
            Msg::Start { id, version } => {
                self.busy = true;
                let ui = self.ui.code();
                ctx.link().send_future(async move {
                    let opened = async {
                        let q = backend::questionnaire(&id, &version).await?;
                        // the interview is done in the surveyor's language when the
                        // questionnaire has it, else in the questionnaire's own
                        let language = if q.languages.iter().any(|l| l == ui) {
                            ui.to_string()
                        } else {
                            q.default_language.clone()
                        };
                        let interview = backend::start_interview(&id, &version, &language).await?;
                        // where it starts, when the platform can tell (without holding up the
                        // consent screen)
                        let started = interview.clone();
                        wasm_bindgen_futures::spawn_local(async move {
                            if let Some(fix) = backend::current_fix(10_000).await {
                                let _ = backend::record_location(&started, "start", fix).await;
                            }
                        });
                        Ok((interview, q, Answers::new(), language))
                    };
                    Msg::Opened(opened.await)
                });
            }
            Msg::Resume(listing) => {
                self.busy = true;
                ctx.link().send_future(async move {
                    let opened = async {
                        let q = backend::questionnaire(
                            &listing.questionnaire_id,
                            &listing.questionnaire_version,
                        )
                        .await?;
                        let answers = backend::interview_answers(&listing.id).await?;
                        let language = listing
                            .language
                            .unwrap_or_else(|| q.default_language.clone());
                        Ok((listing.id, q, answers, language))
                    };
                    Msg::Opened(opened.await)
                });
            }
            Msg::Opened(result) => {
                self.busy = false;
                match result {
                    Ok((interview_id, q, answers, language)) => {
                        self.ilang = language;
                        self.search_keys.clear();
                        let (id, version) = (q.id.clone(), q.version.clone());
                        ctx.link().send_future(async move {
                            Msg::SearchKeysLoaded(backend::search_keys(&id, &version).await)
                        });
                        // a new interview starts at its first screen (the consent note); a
                        // resumed one at the first unanswered question
                        let resume = if answers.is_empty() {
                            q.next_item(&answers, None)
                        } else {
                            q.resume_point(&answers)
                        };
                        self.questionnaire = Some(Rc::new(q));
                        self.answers = answers;
                        match resume {
                            Some(index) => {
                                self.screen = Screen::Question {
                                    interview_id,
                                    index,
                                };
                                self.error = None;
                                self.load_drafts();
                            }
                            // everything answered (or ineligible): review or the polite end
                            None => {
                                let past_the_end =
                                    self.questionnaire.as_ref().map(|q| q.items.len());
                                self.advance(interview_id, past_the_end)
                            }
                        }
                    }
                    Err(e) => self.error = Some(error_text(&e, self.ui)),
                }
            }
            Msg::ShowInterviews => {
                self.screen = Screen::MyInterviews;
                self.error = None;
                ctx.link()
                    .send_future(async { Msg::InterviewsLoaded(backend::interviews().await) });
            }
            Msg::ShowLog => {
                self.screen = Screen::SyncLog;
                self.error = None;
                ctx.link()
                    .send_future(async { Msg::LogLoaded(backend::sync_log().await) });
            }
            Msg::ShowToday => {
                self.screen = Screen::Today;
                self.error = None;
                ctx.link()
                    .send_future(async { Msg::TodayLoaded(backend::today().await) });
            }
            Msg::TodayLoaded(Ok(today)) => self.today = Some(today),
            Msg::TodayLoaded(Err(e)) => self.error = Some(error_text(&e, self.ui)),
            Msg::ChooseSite(site_id) => {
                ctx.link().send_future(async move {
                    match backend::choose_site(&site_id).await {
                        Ok(()) => Msg::TodayLoaded(backend::today().await),
                        Err(e) => Msg::TodayLoaded(Err(e)),
                    }
                });
                return false;
            }
            Msg::ShowSurveyors => {
                self.screen = Screen::Surveyors;
                self.error = None;
                self.pin_for = None;
                self.pin.clear();
                ctx.link()
                    .send_future(async { Msg::SurveyorsLoaded(backend::surveyors().await) });
            }
            Msg::SurveyorsLoaded(result) => match result {
                Ok(view) => self.surveyors = Some(view),
                Err(e) => self.error = Some(error_text(&e, self.ui)),
            },
            Msg::SignedIn(result) => {
                self.busy = false;
                self.pin.clear();
                match result {
                    Ok(view) => {
                        self.surveyors = Some(view);
                        self.screen = Screen::Home;
                        self.error = None;
                        self.pin_for = None;
                        self.new_surveyor = Default::default();
                    }
                    Err(e) => self.error = Some(error_text(&e, self.ui)),
                }
            }
            Msg::PickSurveyor(id) => {
                self.pin_for = Some(id);
                self.pin.clear();
                self.error = None;
            }
            Msg::Pin(pin) => {
                self.pin = pin;
                self.error = None;
            }
            Msg::SignIn => {
                let Some(id) = self.pin_for.clone() else {
                    return false;
                };
                let pin = self.pin.clone();
                self.busy = true;
                ctx.link().send_future(async move {
                    Msg::SignedIn(backend::sign_in_surveyor(&id, &pin).await)
                });
            }
            Msg::SignOut => {
                ctx.link().send_future(async {
                    match backend::sign_out_surveyor().await {
                        Ok(()) => Msg::SurveyorsLoaded(backend::surveyors().await),
                        Err(e) => Msg::SurveyorsLoaded(Err(e)),
                    }
                });
                return false;
            }
            Msg::NewSurveyor(field, value) => {
                self.new_surveyor[field] = value;
                self.error = None;
            }
            Msg::AddSurveyor => {
                let [id, name, pin] = self.new_surveyor.clone();
                self.busy = true;
                ctx.link().send_future(async move {
                    Msg::SignedIn(backend::add_surveyor(&id, &name, &pin).await)
                });
            }
            Msg::DiscardReason(text) => self.discard_reason = text,
            Msg::Discard(interview_id) => {
                let reason = self.discard_reason.trim().to_string();
                if reason.is_empty() {
                    self.error = Some(
                        self.ui
                            .pick(
                                "请先写下作废的原因。",
                                "Write down why the interview is discarded first.",
                            )
                            .to_string(),
                    );
                    return true;
                }
                ctx.link().send_future(async move {
                    Msg::Discarded(backend::discard_interview(&interview_id, &reason).await)
                });
            }
            Msg::Discarded(result) => {
                match result {
                    Ok(()) => {
                        self.discard_reason.clear();
                        self.error = None;
                    }
                    Err(e) => self.error = Some(error_text(&e, self.ui)),
                }
                ctx.link()
                    .send_future(async { Msg::InterviewsLoaded(backend::interviews().await) });
            }
            Msg::Answer(value) => self.save(ctx, value),
            Msg::ToggleChoice(key) => {
                if let Some(pos) = self.draft_choices.iter().position(|k| k == &key) {
                    self.draft_choices.remove(pos);
                } else {
                    self.draft_choices.push(key);
                }
                self.error = None;
            }
            Msg::Draft(text) => {
                self.draft_text = text;
                self.error = None;
            }
            Msg::Search(text) => self.search = text,
            Msg::Next => {
                let Some(item) = self.current_item().cloned() else {
                    return false;
                };
                let Screen::Question {
                    interview_id,
                    index,
                } = &self.screen
                else {
                    return false;
                };
                let (id, index) = (interview_id.clone(), *index);
                match self.drafted_answer(&item) {
                    Err(message) => self.error = Some(message),
                    Ok(Some(value)) => self.save(ctx, value),
                    Ok(None) if item.required && !self.answers.contains_key(&item.id) => {
                        self.error = Some(
                            if matches!(item.kind, ItemKind::MultipleChoice { .. }) {
                                self.rl()
                                    .pick("请至少选择一项。", "Please choose at least one.")
                            } else {
                                self.rl()
                                    .pick("这道题必须回答。", "This question needs an answer.")
                            }
                            .to_string(),
                        );
                    }
                    Ok(None) => self.advance(id, Some(index)),
                }
            }
            Msg::Back => {
                let Some(q) = self.questionnaire.clone() else {
                    return false;
                };
                let (id, before) = match &self.screen {
                    Screen::Question {
                        interview_id,
                        index,
                    } => (interview_id.clone(), *index),
                    Screen::Review { interview_id } => (interview_id.clone(), q.items.len()),
                    _ => return false,
                };
                if let Some(index) = q.previous_item(&self.answers, before) {
                    self.screen = Screen::Question {
                        interview_id: id,
                        index,
                    };
                    self.error = None;
                    self.load_drafts();
                }
            }
            Msg::Saved {
                item_id,
                value,
                result,
            } => {
                self.busy = false;
                match result {
                    Ok(()) => {
                        self.answers.insert(item_id, value);
                        if let Screen::Question {
                            interview_id,
                            index,
                        } = &self.screen
                        {
                            let (id, index) = (interview_id.clone(), *index);
                            self.advance(id, Some(index));
                        }
                    }
                    Err(e) => self.error = Some(error_text(&e, self.ui)),
                }
            }
            Msg::Complete => {
                let Screen::Review { interview_id } = &self.screen else {
                    return false;
                };
                let id = interview_id.clone();
                self.busy = true;
                ctx.link()
                    .send_future(async move { Msg::Checked(backend::quality_check(&id).await) });
            }
            Msg::Checked(result) => {
                self.busy = false;
                let Screen::Review { interview_id } = &self.screen else {
                    return false;
                };
                match result {
                    Ok(flags) if flags.is_empty() => {
                        ctx.link().send_message(Msg::CompleteAnyway);
                    }
                    Ok(flags) => {
                        self.screen = Screen::QualityWarning {
                            interview_id: interview_id.clone(),
                            flags,
                        };
                        self.error = None;
                    }
                    Err(e) => self.error = Some(error_text(&e, self.ui)),
                }
            }
            Msg::BackToReview => {
                if let Screen::QualityWarning { interview_id, .. } = &self.screen {
                    self.screen = Screen::Review {
                        interview_id: interview_id.clone(),
                    };
                    self.error = None;
                }
            }
            Msg::CompleteAnyway => {
                let (Screen::Review { interview_id } | Screen::QualityWarning { interview_id, .. }) =
                    &self.screen
                else {
                    return false;
                };
                let id = interview_id.clone();
                self.busy = true;
                ctx.link().send_future(async move {
                    Msg::Completed(backend::complete_interview(&id).await)
                });
            }
            Msg::Completed(result) => {
                self.busy = false;
                match result {
                    Ok(Completion {
                        report,
                        show_answer_key,
                    }) => {
                        self.screen = Screen::Done {
                            report,
                            show_answer_key,
                        };
                        self.error = None;
                        ctx.link().send_message(Msg::PollStatus);
                    }
                    Err(e) => self.error = Some(error_text(&e, self.ui)),
                }
            }
            Msg::Home => {
                ctx.link()
                    .send_future(async { Msg::TodayLoaded(backend::today().await) });
                self.screen = Screen::Home;
                self.answers.clear();
                self.error = None;
                ctx.link()
                    .send_future(async { Msg::InterviewsLoaded(backend::interviews().await) });
                ctx.link()
                    .send_future(async { Msg::CatalogueLoaded(backend::questionnaires().await) });
            }
            Msg::ToggleTextSize => self.large_text = !self.large_text,
            Msg::Noop => return false,
            Msg::ToggleLanguage => {
                self.ui = match self.ui {
                    Lang::Zh => Lang::En,
                    Lang::En => Lang::Zh,
                };
                let code = self.ui.code();
                ctx.link().send_future(async move {
                    match backend::set_language(code).await {
                        Ok(()) => Msg::Noop,
                        Err(e) => Msg::PreferencesLoaded(Err(e)),
                    }
                });
            }
            // without them, lists are still searched by characters
            Msg::SearchKeysLoaded(result) => {
                self.search_keys = result.unwrap_or_default();
                return false;
            }
            Msg::PlayAudio => {
                let (Some(item), Some(q)) = (self.current_item(), &self.questionnaire) else {
                    return false;
                };
                if self.audio.as_ref().is_some_and(|(id, _)| id == &item.id) {
                    self.play_audio = true;
                    return true;
                }
                let (id, version, item_id) = (q.id.clone(), q.version.clone(), item.id.clone());
                ctx.link().send_future(async move {
                    let result = backend::item_audio(&id, &version, &item_id).await;
                    Msg::AudioLoaded { item_id, result }
                });
                return false;
            }
            Msg::AudioLoaded { item_id, result } => match result {
                Ok(url) => {
                    self.audio = Some((item_id, url));
                    self.play_audio = true;
                }
                Err(e) => {
                    self.error = Some(match e.code.as_str() {
                        "audio_missing" => self
                            .rl()
                            .pick(
                                "这台平板上没有这道题的录音。",
                                "This tablet does not have the recording of this question.",
                            )
                            .to_string(),
                        _ => error_text(&e, self.ui),
                    })
                }
            },
            Msg::PreferencesLoaded(Ok(preferences)) => {
                self.ui = Lang::from_code(&preferences.language);
            }
            Msg::PreferencesLoaded(Err(e)) => self.error = Some(error_text(&e, self.ui)),
            Msg::SyncNow => {
                ctx.link().send_future(async {
                    let _ = backend::sync_now().await;
                    Msg::PollStatus
                });
                return false;
            }
        }
        true
    }

    fn page(&self, ctx: &Context<Self>) -> Html {
        let body = match (&self.screen, &self.questionnaire) {
            (Screen::Enrol, _) => self.enrol_view(ctx),
            (Screen::Home, _) => self.home_view(ctx),
            (Screen::Today, _) => self.today_view(ctx),
            (Screen::Surveyors, _) => self.surveyors_view(ctx),
            (Screen::MyInterviews, _) => self.interviews_view(ctx),
            (Screen::SyncLog, _) => self.log_view(ctx),
            (Screen::Question { index, .. }, Some(q)) => self.question_view(ctx, q, *index),
            (Screen::Review { .. }, Some(q)) => self.review_view(ctx, q),
            (Screen::Ineligible, Some(q)) => ineligible_view(ctx, q, &self.ilang),
            (Screen::QualityWarning { flags, .. }, _) => self.quality_view(ctx, flags),
            (
                Screen::Done {
                    report,
                    show_answer_key,
                },
                Some(q),
            ) => done_view(ctx, q, report, &self.answers, *show_answer_key, &self.ilang),
            _ => html! { <p>{ self.ui.pick("正在加载……", "Loading…") }</p> },
        };
        let text_size = html! {
            <button id="text-size" class="text-size" onclick={ctx.link().callback(|_| Msg::ToggleTextSize)}>
                { match (self.large_text, self.rl()) {
                    (true, lang) => lang.pick("字小一点", "Smaller text"),
                    (false, lang) => lang.pick("字大一点", "Larger text"),
                } }
            </button>
        };
        html! {
            <main class={if self.large_text { "large" } else { "" }}>
                if matches!(self.screen, Screen::Question { .. } | Screen::Review { .. } | Screen::Done { .. }) {
                    { text_size }
                }
                { body }
                if !matches!(self.screen, Screen::Surveyors) {
                    { self.error_view() }
                }
            </main>
        }
    }
}

/// A questionnaire text in `lang` (the interview's language), else the questionnaire's default.
fn t<'a>(q: &'a Questionnaire, lang: &str, text: &'a zhisu_core::Text) -> &'a str {
    text.get(lang, &q.default_language)
}

impl App {
    /// Tells the store which interview screen is shown, when it changed (paradata). Errors
    /// are not shown: a lost visit costs a little paradata, never an answer.
    fn report_screen(&mut self, ctx: &Context<Self>) {
        let now = match &self.screen {
            Screen::Question { interview_id, .. } => Some((
                interview_id.clone(),
                self.current_item().map(|item| item.id.clone()),
            )),
            Screen::Review { interview_id } | Screen::QualityWarning { interview_id, .. } => {
                Some((interview_id.clone(), None))
            }
            // completing closes the last visit itself
            Screen::Done { .. } => {
                self.visit = None;
                return;
            }
            _ => self
                .visit
                .as_ref()
                .map(|(interview_id, _)| (interview_id.clone(), None)),
        };
        if now == self.visit {
            return;
        }
        self.visit = now.clone().filter(|(_, item)| item.is_some());
        if let (Some((interview_id, None)), Screen::Review { .. }) = (&now, &self.screen) {
            // the review: where the interview ends, when the platform can tell (in the
            // background: completing does not wait for a fix; one that comes too late is lost)
            let id = interview_id.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(fix) = backend::current_fix(10_000).await {
                    let _ = backend::record_location(&id, "end", fix).await;
                }
            });
        }
        if let Some((interview_id, item_id)) = now {
            ctx.link().send_future(async move {
                let _ = backend::screen_shown(&interview_id, item_id.as_deref()).await;
                Msg::Noop
            });
        }
    }

    fn quality_view(&self, ctx: &Context<Self>, flags: &[QcFlag]) -> Html {
        let link = ctx.link();
        html! {
            <>
                <h1 id="qc-title">{ self.ui.pick("完成前请再看一下", "Please check before completing") }</h1>
                <p>{ self.ui.pick("这份答卷有下面的情况，可能需要重新核对：", "Quality control noticed this; the answers may need checking:") }</p>
                <ul class="review" id="qc-flags">
                    { for flags.iter().map(|f| html! {
                        <li data-flag={f.code()}>{ f.describe(self.ui.code()) }</li>
                    }) }
                </ul>
                <p class="hint">{ self.ui.pick("如果确实是这样答的，可以直接完成。", "If this is really how it was answered, complete anyway.") }</p>
                <div class="nav">
                    <button id="qc-back" disabled={self.busy} onclick={link.callback(|_| Msg::BackToReview)}>{ self.ui.pick("返回检查", "Go back and check") }</button>
                    <button id="qc-complete" class="primary" disabled={self.busy} onclick={link.callback(|_| Msg::CompleteAnyway)}>{ self.ui.pick("仍然完成", "Complete anyway") }</button>
                </div>
            </>
        }
    }

    fn surveyors_view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let ui = self.ui;
        let view = self.surveyors.as_ref();
        let current = view.and_then(|v| v.current.as_ref());
        let field = |id: &'static str, label: &str, which: usize, secret: bool| {
            html! {
                <label class="field">
                    <span>{ label.to_string() }</span>
                    <input id={id} type={if secret { "password" } else { "text" }}
                        inputmode={if secret { "numeric" } else { "text" }} autocomplete="off"
                        value={self.new_surveyor[which].clone()}
                        oninput={link.callback(move |e: InputEvent| {
                            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
                            Msg::NewSurveyor(which, input.value())
                        })} />
                </label>
            }
        };
        html! {
            <>
                <h1>{ ui.pick("调查员", "Surveyors") }</h1>
                if let Some(s) = current {
                    <div class="status">
                        <span id="signed-in">{ format!("{}{}（{}）", ui.pick("现在是：", "Signed in: "), s.name, s.id) }</span>
                        <button id="sign-out" onclick={link.callback(|_| Msg::SignOut)}>{ ui.pick("退出，交给别人", "Sign out and hand over") }</button>
                    </div>
                }
                if view.is_some_and(|v| !v.surveyors.is_empty()) {
                    <h2>{ ui.pick("选择调查员", "Choose the surveyor") }</h2>
                    <div class="choices" role="radiogroup">
                        { for view.into_iter().flat_map(|v| v.surveyors.iter()).map(|s| {
                            let id = s.id.clone();
                            let pressed = self.pin_for.as_deref() == Some(s.id.as_str());
                            html! {
                                <button class="choice" id={format!("surveyor-{}", s.id)} aria-pressed={pressed.to_string()}
                                    onclick={link.callback(move |_| Msg::PickSurveyor(id.clone()))}>
                                    { format!("{}（{}）", s.name, s.id) }
                                </button>
                            }
                        }) }
                    </div>
                    if self.pin_for.is_some() {
                        <label class="field">
                            <span>{ ui.pick("请输入 PIN（4 到 6 位数字）", "PIN (4 to 6 digits)") }</span>
                            <input id="pin" type="password" inputmode="numeric" autocomplete="off" maxlength="6"
                                value={self.pin.clone()}
                                oninput={link.callback(|e: InputEvent| {
                                    let input: web_sys::HtmlInputElement = e.target_unchecked_into();
                                    Msg::Pin(input.value())
                                })} />
                        </label>
                        <button id="sign-in" class="primary" disabled={self.busy} onclick={link.callback(|_| Msg::SignIn)}>{ ui.pick("确定", "Sign in") }</button>
                        // the message right under the PIN, where a phone shows it
                        { self.error_view() }
                    }
                }
                <h2>{ ui.pick("添加调查员", "Add a surveyor") }</h2>
                { field("new-surveyor-id", ui.pick("调查员编号", "Surveyor id"), 0, false) }
                { field("new-surveyor-name", ui.pick("姓名", "Name"), 1, false) }
                { field("new-surveyor-pin", ui.pick("设一个 PIN（4 到 6 位数字）", "Choose a PIN (4 to 6 digits)"), 2, true) }
                <button id="add-surveyor" disabled={self.busy} onclick={link.callback(|_| Msg::AddSurveyor)}>{ ui.pick("添加", "Add") }</button>
                if self.pin_for.is_none() {
                    { self.error_view() }
                }
                <div class="nav">
                    <button id="home" class="primary" onclick={link.callback(|_| Msg::Home)}>{ ui.pick("返回首页", "Home") }</button>
                </div>
            </>
        }
    }

    /// The site chosen for new interviews.
    fn current_site(&self) -> Option<&SiteView> {
        let today = self.today.as_ref()?;
        let id = today.current_site.as_ref()?;
        today.sites.iter().find(|s| &s.id == id)
    }

    fn today_view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let ui = self.ui;
        let name = |text: &zhisu_core::Text| text.get(ui.code(), "zh-CN").to_string();
        let Some(today) = &self.today else {
            return html! { <p>{ ui.pick("正在加载……", "Loading…") }</p> };
        };
        let chosen = self.current_site();
        let fact = |id: &'static str, label: &str, value: String| {
            html! {
                <>
                    <dt>{ label.to_string() }</dt>
                    <dd id={id}>{ value }</dd>
                </>
            }
        };
        html! {
            <>
                <h1>{ ui.pick("今日工作", "Today's work") }</h1>
                <dl class="facts" id="today-round">
                    { fact("round", ui.pick("监测轮次", "Monitoring round"), today.round.clone().unwrap_or_default()) }
                    { fact("district", ui.pick("区县", "District"), today.district.as_ref().map(name).unwrap_or_default()) }
                </dl>
                if today.sites.is_empty() {
                    <p id="no-sites">{ ui.pick("还没有分配调查点。请连上网络同步一下，或者联系管理员。",
                        "No sites assigned yet. Sync with the server, or call the administrator.") }</p>
                } else {
                    <h2>{ ui.pick("选择调查点", "Choose the site") }</h2>
                    <div class="choices" role="radiogroup">
                        { for today.sites.iter().map(|site| {
                            let id = site.id.clone();
                            let pressed = today.current_site.as_deref() == Some(site.id.as_str());
                            html! {
                                <button class="choice" id={format!("site-{}", site.id)} aria-pressed={pressed.to_string()}
                                    onclick={link.callback(move |_| Msg::ChooseSite(id.clone()))}>
                                    { format!("{}（{}）", site.name, name(&site.site_type_label)) }
                                </button>
                            }
                        }) }
                    </div>
                }
                if let Some(site) = chosen {
                    <section id="site-details">
                        <h2>{ site.name.clone() }</h2>
                        <dl class="facts">
                            { fact("site-district", ui.pick("区县", "District"), name(&site.district)) }
                            { fact("site-type", ui.pick("类型", "Type"), name(&site.site_type_label)) }
                            if site.site_type == "enterprise" {
                                { fact("site-name", ui.pick("单位名称", "Enterprise"), site.name.clone()) }
                                { fact("site-industry", ui.pick("行业", "Industry"), site.industry.as_ref().map(name).unwrap_or_default()) }
                                { fact("site-ownership", ui.pick("单位性质", "Ownership"), site.ownership.as_ref().map(name).unwrap_or_default()) }
                                { fact("site-size", ui.pick("单位规模", "Size"), site.size.as_ref().map(name).unwrap_or_default()) }
                            }
                        </dl>
                        <h2>{ ui.pick("各类人群的任务", "Quota per population") }</h2>
                        <table class="quotas" id="quotas">
                            <thead><tr>
                                <th>{ ui.pick("人群", "Population") }</th>
                                <th>{ ui.pick("本机已完成 / 任务数", "Done here / quota") }</th>
                            </tr></thead>
                            <tbody>
                                { for site.quotas.iter().map(|q| html! {
                                    <tr id={format!("quota-{}", q.population)} class={if q.done >= q.quota { "result-good" } else { "" }}>
                                        <td>{ name(&q.label) }</td>
                                        <td class="count">{ format!("{} / {}", q.done, q.quota) }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                        <p id="site-done">{ match ui {
                            Lang::Zh => format!("这台平板在这里一共完成了 {} 份。", site.done),
                            Lang::En => format!("{} interviews completed here on this tablet.", site.done),
                        } }</p>
                    </section>
                } else if !today.sites.is_empty() {
                    <p class="hint">{ ui.pick("选好调查点，新的访谈就记在这个调查点下。", "Choose a site: new interviews are recorded at it.") }</p>
                }
                <button id="home" class="primary" onclick={link.callback(|_| Msg::Home)}>{ ui.pick("返回首页", "Home") }</button>
            </>
        }
    }

    /// Switches the surveyor's screens between Chinese and English (shows the other one).
    fn language_button(&self, ctx: &Context<Self>) -> Html {
        html! {
            <button id="language" class="text-size" lang={self.ui.pick("en", "zh-CN")}
                onclick={ctx.link().callback(|_| Msg::ToggleLanguage)}>
                { self.ui.pick("English", "中文") }
            </button>
        }
    }

    fn error_view(&self) -> Html {
        match &self.error {
            Some(e) => html! { <p class="error" id="error" role="alert">{ e }</p> },
            None => html! {},
        }
    }

    fn home_view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let ui = self.ui;
        let status = match &self.sync {
            Some(view) => {
                let (class, text) = match view.status.online {
                    Some(true) => ("online", ui.pick("已连接服务器", "Connected to the server")),
                    Some(false) => (
                        "offline",
                        ui.pick(
                            "连不上服务器，答卷先存在本机",
                            "Offline: interviews are kept on this tablet",
                        ),
                    ),
                    None => ("", ui.pick("尚未同步", "Not synced yet")),
                };
                html! {
                    <div class="status" id="sync-status">
                        <span class={class} id="sync-online">{ text }</span>
                        <span>{ ui.pick("待上传 ", "Waiting ") }<b id="sync-waiting">{ view.counts.waiting }</b>{ ui.pick(" 份", "") }</span>
                        <span>{ ui.pick("已上传 ", "Sent ") }<b id="sync-acknowledged">{ view.counts.acknowledged }</b>{ ui.pick(" 份", "") }</span>
                        if view.counts.rejected > 0 {
                            <span class="offline">{ ui.pick("被退回 ", "Returned ") }<b id="sync-rejected">{ view.counts.rejected }</b>{ ui.pick(" 份", "") }</span>
                        }
                        <button id="sync-now" onclick={link.callback(|_| Msg::SyncNow)}>{ ui.pick("立即上传", "Sync now") }</button>
                        if view.status.waiting_for_wifi {
                            <span class="offline">{ ui.pick("设置为只用Wi-Fi上传，正在等Wi-Fi", "Set to upload on Wi-Fi only: waiting for Wi-Fi") }</span>
                        }
                        if let Some(p) = view.status.progress.filter(|p| p.total > 0) {
                            <div class="progress" id="sync-progress" role="progressbar"
                                aria-valuenow={p.done.to_string()} aria-valuemax={p.total.to_string()}>
                                <div style={format!("width:{}%", p.done * 100 / p.total)}></div>
                            </div>
                            <span>{ format!("{} {} / {}", ui.pick("正在上传", "Uploading"), p.done, p.total) }</span>
                        }
                    </div>
                }
            }
            None => html! {},
        };
        let in_progress: Vec<&InterviewListing> = self
            .interviews
            .iter()
            .filter(|i| i.state == "in_progress")
            .collect();
        let revoked = self.identity.as_ref().is_some_and(|i| i.revoked)
            || self.sync.as_ref().is_some_and(|v| v.status.revoked);
        let device = self.identity.as_ref().and_then(|i| {
            // the district's name when known (today's work has it), else its code
            let district = self
                .today
                .as_ref()
                .and_then(|t| t.district.as_ref())
                .map(|d| d.get(ui.code(), "zh-CN").to_string())
                .or_else(|| i.district.clone())?;
            Some(format!(
                "{}　{}　{}",
                i.device_name.as_deref()?,
                district,
                i.round.as_deref()?
            ))
        });
        html! {
            <>
                { self.language_button(ctx) }
                <h1 id="title">{ ui.pick("职素 · 职业健康素养调查", "Zhisu · Occupational health literacy survey") }</h1>
                if let Some(device) = device {
                    <p class="hint" id="device">{ device }</p>
                }
                if revoked {
                    <div class="status offline" id="revoked" role="alert">
                        { ui.pick("这台平板已被管理员停用，答卷不会再上传。请联系管理员：可以导出备份交给管理员，或用新的登记码重新登记。",
                            "An administrator has stopped this tablet: interviews are no longer uploaded. Call the administrator: export a backup for them, or enrol again with a new code.") }
                        <button id="re-enrol" onclick={link.callback(|_| Msg::ReEnrol)}>{ ui.pick("重新登记", "Enrol again") }</button>
                    </div>
                }
                { status }
                <div class="status" id="surveyor-summary">
                    <span id="current-surveyor">{ match self.surveyors.as_ref().and_then(|v| v.current.as_ref()) {
                        Some(s) => format!("{}{}（{}）", ui.pick("调查员：", "Surveyor: "), s.name, s.id),
                        None => ui.pick("还没有选调查员", "No surveyor chosen").to_string(),
                    } }</span>
                    <button id="switch-surveyor" onclick={link.callback(|_| Msg::ShowSurveyors)}>{ ui.pick("换调查员", "Change surveyor") }</button>
                </div>
                <div class="status" id="today-summary">
                    <span id="current-site">{ match self.current_site() {
                        Some(site) => format!("{}{}（{}）", ui.pick("调查点：", "Site: "), site.name, site.site_type_label.get(ui.code(), "zh-CN")),
                        None => ui.pick("还没有选调查点", "No site chosen yet").to_string(),
                    } }</span>
                    <button id="today" onclick={link.callback(|_| Msg::ShowToday)}>{ ui.pick("今日工作", "Today's work") }</button>
                </div>
                if !in_progress.is_empty() {
                    <h2>{ ui.pick("没做完的访谈", "Unfinished interviews") }</h2>
                    <div class="choices">
                        { for in_progress.into_iter().map(|i| {
                            let listing = i.clone();
                            let title = self.catalogue.iter().find(|c| c.id == i.questionnaire_id)
                                .map_or(i.questionnaire_id.as_str(), |c| c.title.get(ui.code(), "zh-CN"));
                            html! {
                                <button class="choice resume" id={format!("resume-{}", i.id)} disabled={self.busy}
                                    onclick={link.callback(move |_| Msg::Resume(listing.clone()))}>
                                    { match ui {
                                        Lang::Zh => format!("继续：{title}（{} 开始）", local_time(&i.started_at)),
                                        Lang::En => format!("Resume: {title} (started {})", local_time(&i.started_at)),
                                    } }
                                </button>
                            }
                        }) }
                    </div>
                }
                <h2>{ ui.pick("开始新访谈", "Start a new interview") }</h2>
                <div class="choices">
                    { for self.catalogue.iter().map(|c| {
                        let (id, version) = (c.id.clone(), c.version.clone());
                        html! {
                            <button class="choice primary" id={format!("start-{}", c.id)} disabled={self.busy}
                                onclick={link.callback(move |_| Msg::Start { id: id.clone(), version: version.clone() })}>
                                { c.title.get(ui.code(), "zh-CN") }
                            </button>
                        }
                    }) }
                </div>
                <div class="nav">
                    <button id="my-interviews" onclick={link.callback(|_| Msg::ShowInterviews)}>{ ui.pick("我的访谈", "My interviews") }</button>
                    <button id="show-log" onclick={link.callback(|_| Msg::ShowLog)}>{ ui.pick("上传记录", "Sync log") }</button>
                </div>
            </>
        }
    }

    fn enrol_view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let ui = self.ui;
        let field = |id: &'static str, label: &str, which: EnrolField, placeholder: &str| {
            html! {
                <label class="field">
                    <span>{ label }</span>
                    <input id={id} type="text" placeholder={placeholder.to_string()}
                        value={self.enrol_form[which as usize].clone()}
                        oninput={link.callback(move |e: InputEvent| {
                            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
                            Msg::EnrolField(which, input.value())
                        })} />
                </label>
            }
        };
        html! {
            <>
                { self.language_button(ctx) }
                <h1>{ ui.pick("登记这台平板", "Enrol this tablet") }</h1>
                <p class="hint">{ ui.pick("第一次使用，请填写管理员给您的登记码。登记后，完成的答卷会自动上传到这个服务器。",
                    "First use: enter the code the administrator gave you. Once enrolled, completed interviews are uploaded to this server.") }</p>
                { field("server-url", ui.pick("服务器地址", "Server address"), EnrolField::ServerUrl, "http://…") }
                { field("enrol-code", ui.pick("登记码", "Enrolment code"), EnrolField::Code, ui.pick("例如 K7XM-3QPA", "e.g. K7XM-3QPA")) }
                <label class="field file-button" for="qr-file">
                    <span>{ ui.pick("或者：选一张登记码二维码的图片", "Or: choose a picture of the code's QR code") }</span>
                    <input id="qr-file" type="file" accept="image/*" disabled={self.busy}
                        onchange={link.callback(|e: Event| Msg::QrPicture(e.target_unchecked_into()))} />
                </label>
                if self.qr_read {
                    <p class="result-good" id="qr-result">{ ui.pick("已从二维码读出登记码。", "The code was read from the QR code.") }</p>
                }
                { field("device-name", ui.pick("平板名称", "Tablet name"), EnrolField::DeviceName, ui.pick("例如 渝中区 3 号平板", "e.g. Yuzhong tablet 3")) }
                <button id="enrol" class="primary" disabled={self.busy} onclick={link.callback(|_| Msg::Enrol)}>
                    { if self.busy { ui.pick("正在登记……", "Enrolling…") } else { ui.pick("登记", "Enrol") } }
                </button>
            </>
        }
    }

    fn interviews_view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let ui = self.ui;
        html! {
            <>
                <h1>{ ui.pick("我的访谈", "My interviews") }</h1>
                <p class="hint">{ ui.pick("作废一份没做完的访谈，要先写下原因。", "To discard an interview, first write down why.") }</p>
                <input id="discard-reason" type="text" placeholder={ui.pick("作废原因，比如：受访者中途离开", "Reason, e.g. the respondent left")}
                    value={self.discard_reason.clone()}
                    oninput={link.callback(|e: InputEvent| {
                        let input: web_sys::HtmlInputElement = e.target_unchecked_into();
                        Msg::DiscardReason(input.value())
                    })} />
                <ul class="review" id="interview-list">
                    { for self.interviews.iter().map(|i| {
                        let id = i.id.clone();
                        let listing = i.clone();
                        let can_discard = matches!(i.state.as_str(), "in_progress" | "completed");
                        html! {
                            <li data-state={i.state.clone()}>
                                <div>{ format!("{}　{}", local_time(&i.started_at), i.questionnaire_id) }</div>
                                <b class="state">{ state_text(&i.state, ui) }</b>
                                if let Some(message) = i.sync_message.as_ref().or(i.discard_reason.as_ref()) {
                                    <div class="hint">{ message }</div>
                                }
                                <div class="nav">
                                    if i.state == "in_progress" {
                                        <button class="resume" onclick={link.callback(move |_| Msg::Resume(listing.clone()))}>{ ui.pick("继续", "Resume") }</button>
                                    }
                                    if can_discard {
                                        <button class="discard" onclick={link.callback(move |_| Msg::Discard(id.clone()))}>{ ui.pick("作废", "Discard") }</button>
                                    }
                                </div>
                            </li>
                        }
                    }) }
                </ul>
                <button id="home" class="primary" onclick={link.callback(|_| Msg::Home)}>{ ui.pick("返回首页", "Home") }</button>
            </>
        }
    }

    fn log_view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let ui = self.ui;
        html! {
            <>
                <h1>{ ui.pick("上传记录", "Sync log") }</h1>
                if self.log.is_empty() {
                    <p>{ ui.pick("还没有上传过。", "Nothing uploaded yet.") }</p>
                }
                <ul class="review" id="sync-log">
                    { for self.log.iter().map(|e| html! {
                        <li data-outcome={e.outcome.clone()}>
                            <div>{ match ui {
                                Lang::Zh => format!("{}　发送 {} 份　→ {}", local_time(&e.started_at), e.interviews.len(), e.server_url),
                                Lang::En => format!("{}  sent {}  → {}", local_time(&e.started_at), e.interviews.len(), e.server_url),
                            } }</div>
                            if e.outcome == "answered" {
                                <div class="result-good">{ match ui {
                                    Lang::Zh => format!("服务器已收到：新存 {}，原已存 {}，冲突 {}，退回 {}", e.stored, e.already_stored, e.conflicts, e.rejected),
                                    Lang::En => format!("Server answered: stored {}, already stored {}, conflicts {}, returned {}", e.stored, e.already_stored, e.conflicts, e.rejected),
                                } }</div>
                            } else if e.outcome == "sending" {
                                <div>{ ui.pick("正在发送……", "Sending…") }</div>
                            } else {
                                <div class="result-bad">{ format!("{}{}（{}）", ui.pick("没有成功：", "Failed: "),
                                    e.error_message.as_deref().unwrap_or(""), e.error_code.as_deref().unwrap_or("")) }</div>
                            }
                        </li>
                    }) }
                </ul>
                <button id="home" class="primary" onclick={link.callback(|_| Msg::Home)}>{ ui.pick("返回首页", "Home") }</button>
            </>
        }
    }

    fn choice_buttons(
        &self,
        ctx: &Context<Self>,
        q: &Questionnaire,
        item: &Item,
        saved: Option<&AnswerValue>,
    ) -> Html {
        let link = ctx.link();
        let needle = self.search.trim().to_lowercase();
        // pinyin initials or pinyin ("jz", "jian zhu") are looked up without spaces
        let letters: String = needle.chars().filter(|c| !c.is_whitespace()).collect();
        let pinyin = self.search_keys.get(&item.id);
        let search = matches!(item.kind, ItemKind::SingleChoice { search: true, .. });
        // How well a choice matches what is typed, best first: 0 when its label or its usual
        // pinyin initials start with it, 1 when another reading's initials or the pinyin do,
        // 2 when it is found further in; None when it does not match.
        let rank = |c: &zhisu_core::Choice| -> Option<u8> {
            if needle.is_empty() {
                return Some(0);
            }
            let labels = || c.label.0.values().map(|l| l.to_lowercase());
            let key = pinyin
                .and_then(|keys| keys.get(&c.key))
                .filter(|_| !letters.is_empty());
            let mut tokens = key.into_iter().flat_map(|k| k.split(' '));
            if labels().any(|l| l.starts_with(&needle))
                || tokens
                    .next()
                    .is_some_and(|first| first.starts_with(&letters))
            {
                Some(0)
            } else if tokens.any(|t| t.starts_with(&letters)) {
                Some(1)
            } else if c.key.contains(&needle)
                || labels().any(|l| l.contains(&needle))
                || key.is_some_and(|k| k.contains(&letters))
            {
                Some(2)
            } else {
                None
            }
        };
        let mut ranked: Vec<_> = q
            .visible_choices(item, &self.answers)
            .into_iter()
            .filter_map(|c| Some((rank(c)?, c)))
            .collect();
        // stable: within a rank, the questionnaire's order
        ranked.sort_by_key(|(rank, _)| *rank);
        let visible: Vec<_> = ranked.into_iter().map(|(_, c)| c).collect();
        let multiple = matches!(item.kind, ItemKind::MultipleChoice { .. });
        html! {
            <>
                if search {
                    <input id="choice-search" type="search" placeholder={self.rl().pick("输入文字或拼音首字母查找", "Type words or pinyin initials to search")} value={self.search.clone()}
                        oninput={link.callback(|e: InputEvent| {
                            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
                            Msg::Search(input.value())
                        })} />
                }
                <div class="choices" role={if multiple { "group" } else { "radiogroup" }}>
                    { for visible.into_iter().map(|c| {
                        let key = c.key.clone();
                        let label = t(q, &self.ilang, &c.label);
                        if multiple {
                            let pressed = self.draft_choices.contains(&c.key);
                            html! {
                                <button class="choice" id={format!("choice-{key}")} aria-pressed={pressed.to_string()}
                                    onclick={link.callback(move |_| Msg::ToggleChoice(key.clone()))}>
                                    { if pressed { "☑ " } else { "☐ " } }{ label }
                                </button>
                            }
                        } else {
                            let value = AnswerValue::Choice(key.clone());
                            let pressed = saved == Some(&value);
                            html! {
                                <button class="choice" id={format!("choice-{key}")} aria-pressed={pressed.to_string()}
                                    disabled={self.busy} onclick={link.callback(move |_| Msg::Answer(value.clone()))}>
                                    { label }
                                </button>
                            }
                        }
                    }) }
                </div>
            </>
        }
    }

    fn question_view(&self, ctx: &Context<Self>, q: &Questionnaire, index: usize) -> Html {
        let link = ctx.link();
        let item = &q.items[index];
        let saved = self.answers.get(&item.id);
        let (position, total) = q.progress(&self.answers, index);
        let percent = position.saturating_sub(1) * 100 / total.max(1);
        let text_input = |input_type: &'static str, mode: &'static str| {
            html! {
                <div class="choices">
                    <input id="text-input" type={input_type} inputmode={mode} value={self.draft_text.clone()}
                        oninput={link.callback(|e: InputEvent| {
                            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
                            Msg::Draft(input.value())
                        })} />
                </div>
            }
        };
        let answer = match &item.kind {
            ItemKind::SingleChoice { .. }
            | ItemKind::Likert { .. }
            | ItemKind::MultipleChoice { .. } => self.choice_buttons(ctx, q, item, saved),
            ItemKind::TrueFalse => html! {
                <div class="choices" role="radiogroup">
                    { for [true, false].into_iter().map(|b| {
                        let text = yes_no(item, b, self.rl());
                        let pressed = saved == Some(&AnswerValue::Bool(b));
                        html! {
                            <button class="choice" id={format!("choice-{b}")} aria-pressed={pressed.to_string()}
                                disabled={self.busy} onclick={link.callback(move |_| Msg::Answer(AnswerValue::Bool(b)))}>
                                { text }
                            </button>
                        }
                    }) }
                </div>
            },
            ItemKind::Integer { .. } => text_input("number", "numeric"),
            ItemKind::Decimal { .. } => text_input("number", "decimal"),
            ItemKind::Text { .. } => text_input("text", "text"),
            ItemKind::Date { .. } => text_input("date", "numeric"),
            ItemKind::Note => html! {},
        };
        // Single choice, Likert and true/false move on when tapped; the rest need "next".
        let taps_advance = matches!(
            item.kind,
            ItemKind::SingleChoice { .. } | ItemKind::Likert { .. } | ItemKind::TrueFalse
        );
        let show_next = !taps_advance || saved.is_some() || !item.required;
        html! {
            <>
                <div class="progress" aria-hidden="true"><div style={format!("width:{percent}%")}></div></div>
                <p class="counter" id="counter">{ match self.rl() {
                    Lang::Zh => format!("第 {position} 题，共 {total} 题"),
                    Lang::En => format!("Question {position} of {total}"),
                } }</p>
                <h2 id="question" data-item={item.id.clone()}>{ t(q, &self.ilang, &item.label) }</h2>
                if item.audio.is_some() {
                    <button id="play-audio" class="speaker" onclick={link.callback(|_| Msg::PlayAudio)}
                        aria-label={self.rl().pick("听题目", "Listen to the question")}>
                        { self.rl().pick("🔊 听一听", "🔊 Listen") }
                    </button>
                    if let Some((_, url)) = self.audio.as_ref().filter(|(id, _)| id == &item.id) {
                        <audio id="item-audio" src={url.clone()} preload="auto"></audio>
                    }
                }
                if let Some(hint) = &item.hint {
                    <p class="hint">{ t(q, &self.ilang, hint) }</p>
                }
                { answer }
                if item.dont_know {
                    <button class="choice" id="dont-know" aria-pressed={(saved == Some(&AnswerValue::DontKnow)).to_string()}
                        disabled={self.busy} onclick={link.callback(|_| Msg::Answer(AnswerValue::DontKnow))}>
                        { self.rl().pick("不知道", "Don't know") }
                    </button>
                }
                <div class="nav">
                    <button id="back" disabled={q.previous_item(&self.answers, index).is_none() || self.busy}
                        onclick={link.callback(|_| Msg::Back)}>{ self.rl().pick("上一题", "Back") }</button>
                    if show_next {
                        <button id="next" class="primary" disabled={self.busy} onclick={link.callback(|_| Msg::Next)}>{ self.rl().pick("下一题", "Next") }</button>
                    }
                </div>
            </>
        }
    }

    fn review_view(&self, ctx: &Context<Self>, q: &Questionnaire) -> Html {
        let link = ctx.link();
        let relevance = q.relevance(&self.answers);
        html! {
            <>
                <h1>{ self.rl().pick("请检查答案", "Please check the answers") }</h1>
                <ul class="review" id="review">
                    { for q.items.iter().zip(relevance).filter(|(item, r)| *r && item.kind.takes_answer()).map(|(item, _)| html! {
                        <li>
                            <div>{ t(q, &self.ilang, &item.label) }</div>
                            <b>{ answer_text(q, &self.ilang, item, self.answers.get(&item.id)) }</b>
                        </li>
                    }) }
                </ul>
                <div class="nav">
                    <button id="back" disabled={self.busy} onclick={link.callback(|_| Msg::Back)}>{ self.rl().pick("返回修改", "Go back and change") }</button>
                    <button id="complete" class="primary" disabled={self.busy} onclick={link.callback(|_| Msg::Complete)}>{ self.rl().pick("完成访谈", "Complete the interview") }</button>
                </div>
            </>
        }
    }
}

fn answer_text(q: &Questionnaire, lang: &str, item: &Item, value: Option<&AnswerValue>) -> String {
    let l = Lang::from_code(lang);
    let choice = |key: &str| {
        item.kind
            .choices()
            .iter()
            .find(|c| c.key == key)
            .map_or(key.to_string(), |c| t(q, lang, &c.label).to_string())
    };
    match value {
        None => l.pick("（未回答）", "(no answer)").to_string(),
        Some(AnswerValue::DontKnow) => l.pick("不知道", "Don't know").to_string(),
        Some(AnswerValue::Bool(b)) => yes_no(item, *b, l).to_string(),
        Some(AnswerValue::Integer(n)) => n.to_string(),
        Some(AnswerValue::Decimal(x)) => x.to_string(),
        Some(AnswerValue::Text(s)) | Some(AnswerValue::Date(s)) => s.clone(),
        Some(AnswerValue::Choice(key)) => choice(key),
        Some(AnswerValue::Choices(keys)) => keys
            .iter()
            .map(|k| choice(k))
            .collect::<Vec<_>>()
            .join("、"),
    }
}

fn ineligible_view(ctx: &Context<App>, q: &Questionnaire, lang: &str) -> Html {
    let l = Lang::from_code(lang);
    let message = q.eligibility.as_ref().map_or(
        l.pick(
            "谢谢您！这次调查不需要您再回答了。",
            "Thank you! There are no more questions for you.",
        ),
        |e| t(q, lang, &e.message),
    );
    html! {
        <>
            <h1>{ l.pick("谢谢您！", "Thank you!") }</h1>
            <p id="ineligible">{ message }</p>
            <button id="home" class="primary" onclick={ctx.link().callback(|_| Msg::Home)}>{ l.pick("返回首页", "Home") }</button>
        </>
    }
}

/// A scored true/false item is a statement: right or wrong. Any other is a question: yes or no.
fn yes_no(item: &Item, value: bool, lang: Lang) -> &'static str {
    match (item.scoring.is_some(), value) {
        (true, true) => lang.pick("对", "True"),
        (true, false) => lang.pick("错", "False"),
        (false, true) => lang.pick("是", "Yes"),
        (false, false) => lang.pick("否", "No"),
    }
}

fn bar(label: &str, score: u32, max: u32, good: bool) -> Html {
    let percent = (score * 100).checked_div(max).unwrap_or(0);
    html! {
        <div class="bar-row">
            <span class="bar-label">{ label }</span>
            <span class="bar-track">
                <span class={if good { "bar-fill good" } else { "bar-fill weak" }} style={format!("width:{percent}%")}></span>
            </span>
            <span class="bar-value">{ format!("{score} / {max}") }</span>
        </div>
    }
}

fn done_view(
    ctx: &Context<App>,
    q: &Questionnaire,
    report: &ScoreReport,
    answers: &Answers,
    show_answer_key: bool,
    lang: &str,
) -> Html {
    let link = ctx.link();
    let l = Lang::from_code(lang);
    let wrong: Vec<&zhisu_core::ItemResult> = report.items.iter().filter(|r| !r.correct).collect();
    html! {
        <>
            <h1>{ l.pick("访谈完成，谢谢您！", "All done. Thank you!") }</h1>
            <p id="score">{ format!("{}{} / {}", l.pick("得分：", "Score: "), report.score, report.max) }</p>
            if report.has_literacy {
                <p class="result-good" id="literacy">{ l.pick("您具备职业健康素养，请继续保持！", "You have occupational health literacy. Keep it up!") }</p>
            } else if show_answer_key && !wrong.is_empty() {
                <p class="result-bad" id="literacy">{ l.pick("您还没有达到职业健康素养的要求。看看下面的正确答案吧。", "You do not have occupational health literacy yet. Look at the right answers below.") }</p>
            } else {
                <p class="result-bad" id="literacy">{ l.pick("您还没有达到职业健康素养的要求。", "You do not have occupational health literacy yet.") }</p>
            }
            // the four dimensions as bars: long and green when well known, short and red when not
            <div class="bars" id="dimension-bars" role="img" aria-label={l.pick("各方面得分", "Score in each part")}>
                { for report.dimensions.iter().map(|d| {
                    let label = q.dimensions.iter().find(|x| x.id == d.dimension)
                        .map_or(d.dimension.as_str(), |x| t(q, lang, &x.label));
                    bar(label, d.score, d.max, d.has_literacy)
                }) }
                { for report.modules.iter().map(|m| {
                    let label = q.section(&m.section).map_or(m.section.as_str(), |s| t(q, lang, &s.title));
                    bar(label, m.score, m.max, m.has_literacy)
                }) }
            </div>
            // a round can keep the answer key from respondents (e.g. while colleagues wait to be
            // interviewed at the same site)
            if show_answer_key && !wrong.is_empty() {
                <h2>{ l.pick("答错的题", "Wrong answers") }</h2>
                <ul class="review" id="wrong-answers">
                    { for wrong.iter().filter_map(|r| q.item(&r.item_id)).map(|item| {
                        let key = item.scoring.as_ref().map(|s| s.key.clone());
                        html! {
                            <li>
                                <div>{ t(q, lang, &item.label) }</div>
                                <div>{ l.pick("您的回答：", "Your answer: ") }{ answer_text(q, lang, item, answers.get(&item.id)) }</div>
                                <div class="result-good">{ l.pick("正确答案：", "Right answer: ") }{ answer_text(q, lang, item, key.as_ref()) }</div>
                                if let Some(explanation) = &item.explanation {
                                    <div class="hint">{ t(q, lang, explanation) }</div>
                                }
                            </li>
                        }
                    }) }
                </ul>
            }
            <button id="home" class="primary" onclick={link.callback(|_| Msg::Home)}>{ l.pick("返回首页", "Home") }</button>
        </>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}

/// Plays the `<audio id="item-audio">` of the question on screen from the start.
fn play_item_audio() {
    use wasm_bindgen::JsCast;
    let audio = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("item-audio"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlMediaElement>().ok());
    if let Some(audio) = audio {
        audio.set_current_time(0.0);
        // a webview without sound output refuses; the button stays for another try
        let _ = audio.play();
    }
}

/// `2026-11-29T08:05:00.000Z` as `11-29 16:05` in the device's time zone.
fn local_time(rfc3339: &str) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return rfc3339.to_string();
    }
    format!(
        "{:02}-{:02} {:02}:{:02}",
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    )
}

fn state_text(state: &str, lang: Lang) -> &'static str {
    match state {
        "in_progress" => lang.pick("没做完", "Unfinished"),
        "completed" => lang.pick("待上传", "Waiting to upload"),
        "queued" => lang.pick("正在上传", "Uploading"),
        "sent" => lang.pick("已发送，等服务器确认", "Sent, waiting for the server"),
        "acknowledged" => lang.pick("服务器已收到", "Received by the server"),
        "rejected" => lang.pick("被服务器退回", "Returned by the server"),
        "discarded" => lang.pick("已作废", "Discarded"),
        _ => lang.pick("未知", "Unknown"),
    }
}
