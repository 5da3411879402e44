//! The app's own words in Chinese (the default) and English. The surveyor's screens follow the
//! surveyor's choice; the respondent's screens the interview's language. Texts written for
//! respondents are plain: short sentences, everyday words.

use zhisu_app_api::{CommandError, ErrorCode, InterviewState};
use zhisu_core::{Questionnaire, Text};

/// A language of the app's own words.
pub use zhisu_app_api::UiLanguage as Lang;

/// Picks the text in a language.
pub trait Words: Copy {
    fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str;
    /// The other language (the language button shows it).
    fn other(self) -> Self;
}

impl Words for Lang {
    fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

/// The app's words for a questionnaire language: English ones for `en…`, else Chinese.
pub fn lang_of(code: &str) -> Lang {
    if code.starts_with("en") {
        Lang::En
    } else {
        Lang::Zh
    }
}

/// A questionnaire text in `lang` (the interview's language), else the questionnaire's default.
pub fn t<'a>(q: &'a Questionnaire, lang: &str, text: &'a Text) -> &'a str {
    text.get(lang, &q.default_language)
}

/// A name from the native side (a district, a site type) in the surveyor's language.
pub fn name(text: &Text, ui: Lang) -> String {
    text.get(ui.code(), Lang::Zh.code()).to_string()
}

/// What the surveyor is told when a command failed.
pub fn error_text(e: &CommandError, lang: Lang) -> String {
    let text = match e.code {
        ErrorCode::InvalidEnrolmentCode => lang.pick(
            "这个登记码不对，或者已经用过、过期了。请向管理员要一个新的。",
            "This enrolment code is wrong, used or expired. Ask the administrator for a new one.",
        ),
        ErrorCode::InterviewOpen => lang.pick(
            "还有访谈没做完。请先做完或结束它，再更新软件。",
            "An interview is still open. Finish or close it first, then update the app.",
        ),
        ErrorCode::UpdateNotReady => lang.pick(
            "新版本还没有下载好。请先同步。",
            "The new version is not downloaded yet. Sync first.",
        ),
        ErrorCode::UpdateManaged => lang.pick(
            "这台平板的软件由信息科安装，请找信息科更新。",
            "IT installed the app on this tablet: ask IT to install the new version.",
        ),
        ErrorCode::ServerUnreachable => lang.pick(
            "连不上服务器。请检查服务器地址和网络，再试一次。",
            "Cannot reach the server. Check the address and the network, then try again.",
        ),
        ErrorCode::BadServerUrl => lang.pick(
            "服务器地址要以 http:// 或 https:// 开头。",
            "The server address starts with http:// or https://.",
        ),
        ErrorCode::DeviceNameMissing => {
            lang.pick("请给这台平板起个名字。", "Give this tablet a name.")
        }
        ErrorCode::NoQrCode => lang.pick(
            "这张图片里没找到二维码。请换一张清楚、正对着拍的照片，或者直接输入登记码。",
            "No QR code was found in this picture. Try a sharper, straight photo, or type the code.",
        ),
        ErrorCode::BadPicture => lang.pick(
            "这张图片打不开，请换一张。",
            "This picture cannot be opened. Choose another.",
        ),
        ErrorCode::WrongPin => lang.pick(
            "PIN 不对，请再试一次。",
            "That PIN is not right. Try again.",
        ),
        ErrorCode::BadPin => lang.pick("PIN 要 4 到 6 位数字。", "A PIN is 4 to 6 digits."),
        ErrorCode::TooManyAttempts => lang.pick(
            "PIN 错了太多次，请等半分钟再试。",
            "Too many wrong PINs: wait half a minute.",
        ),
        ErrorCode::SurveyorExists => lang.pick(
            "这个编号已经有调查员了，请换一个。",
            "A surveyor with this id is already here: use another id.",
        ),
        ErrorCode::SurveyorRetired => lang.pick(
            "这个名字不能再登录了。请选区里发来的调查员名字，用区里给你的 PIN 登录。",
            "This name can no longer sign in. Choose the name the district sent and use the PIN it gave you.",
        ),
        ErrorCode::SurveyorsFromServer => lang.pick(
            "调查员由区里在系统里添加，同步后会出现在这里，平板上不能自己添加。",
            "The district adds surveyors on the server; they appear here after a sync and cannot be added on the tablet.",
        ),
        ErrorCode::SurveyorIncomplete => lang.pick(
            "请填写调查员编号和姓名。",
            "Fill in the surveyor's id and name.",
        ),
        ErrorCode::SurveyorNeeded => lang.pick(
            "请先点“换调查员”，选好自己并输入 PIN。",
            "First tap \u{201c}Change surveyor\u{201d}, choose yourself and enter your PIN.",
        ),
        ErrorCode::InterviewIncomplete => lang.pick(
            "还有必答题没有回答，请返回补上。",
            "A required question has no answer yet: go back and answer it.",
        ),
        ErrorCode::DiscardReasonMissing => lang.pick(
            "请先在上面的框里写下作废的原因。",
            "Write down why in the box above first.",
        ),
        ErrorCode::CannotDiscard => lang.pick(
            "这份已经在上传或已经传到服务器了，不能再作废。",
            "This one is being sent or has reached the server: it can no longer be discarded.",
        ),
        ErrorCode::DispositionReasonMissing => lang.pick(
            "选“中途停止”或“未接触到/其他”时，要先在上面的框里写下原因。",
            "A partial or not-reached/other contact needs a reason: write it in the box above first.",
        ),
        ErrorCode::FeedbackGone => lang.pick(
            "这份的结果只在平板上留一天，已经看不到了。",
            "The result of this one is kept on the tablet for one day only: it is gone.",
        ),
        ErrorCode::DispositionNotAllowed => lang.pick(
            "这个结果和已经回答的内容对不上，请换一个：受访者同意以后才能选“中途停止”，还没同意才能选“拒绝”；筛查已经有结果的，选第一项“按筛查结果”。",
            "This outcome does not fit the answers so far: a partial needs a respondent who agreed, a refusal one who has not yet; when the screening has decided, choose the first entry.",
        ),
        ErrorCode::OwnBackcheck => lang.pick(
            "这份是你自己做的访谈，要由别的调查员复核。",
            "You did this interview yourself: another surveyor does its back-check.",
        ),
        ErrorCode::UnknownBackcheck => lang.pick(
            "这个复核已经有人做了，或者不用做了。",
            "Someone else did this back-check, or it is no longer needed.",
        ),
        ErrorCode::BackcheckChanged => lang.pick(
            "这个复核已经保存过了，不能再改。",
            "This back-check was saved already and cannot be changed.",
        ),
        ErrorCode::RecontactAnswered => lang.pick(
            "这个问题已经回答过了，按第一次的回答算。",
            "This was answered already: the first answer stands.",
        ),
        ErrorCode::StorageFailed | ErrorCode::StorageCorrupt => {
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

pub fn state_text(state: InterviewState, lang: Lang) -> &'static str {
    match state {
        InterviewState::InProgress => lang.pick("没做完", "Unfinished"),
        InterviewState::Completed => lang.pick("待上传", "Waiting to upload"),
        InterviewState::Queued => lang.pick("正在上传", "Uploading"),
        InterviewState::Sent => lang.pick("已发送，等服务器确认", "Sent, waiting for the server"),
        InterviewState::Acknowledged => lang.pick("服务器已收到", "Received by the server"),
        InterviewState::Rejected => lang.pick("被服务器退回", "Returned by the server"),
        InterviewState::Discarded => lang.pick("已作废", "Discarded"),
    }
}

/// How a contact ended, in the surveyor's words.
pub fn disposition_text(disposition: zhisu_core::Disposition, lang: Lang) -> &'static str {
    use zhisu_core::Disposition::*;
    match disposition {
        Completed => lang.pick("完成", "Completed"),
        Partial => lang.pick("中途停止", "Partial"),
        Refused => lang.pick("拒绝", "Refused"),
        NotEligible => lang.pick("不符合条件", "Not eligible"),
        Other => lang.pick("未接触到/其他", "Not reached/other"),
    }
}

/// `2026-11-29T08:05:00Z` as `11-29 16:05` in the device's time zone.
pub fn local_time(at: &chrono::DateTime<chrono::Utc>) -> String {
    let millis = at.timestamp_millis() as f64;
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis));
    format!(
        "{:02}-{:02} {:02}:{:02}",
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    )
}
