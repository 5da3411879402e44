//! Home: the device and sync badge, who is surveying where, unfinished interviews and the
//! questionnaires to start.

use std::rc::Rc;

use yew::prelude::*;
use zhisu_app_api::{
    self as api, CommandError, InterviewState, InterviewSummary, QuestionnaireSummary,
    SurveyorsView, SyncView, TodayView,
};

use super::interview;
use crate::backend::{call, mark_interactive_once};
use crate::context::{
    app_context, error_view, language_button, text_size_button, theme_button, AppContext, Route,
};
use crate::context::{Opened, QuizStart};
use crate::i18n::{error_text, local_time, name, Lang, Words};

pub enum Msg {
    Context(AppContext),
    Catalogue(Result<Vec<QuestionnaireSummary>, CommandError>),
    Interviews(Result<Vec<InterviewSummary>, CommandError>),
    Today(Result<TodayView, CommandError>),
    Surveyors(Result<SurveyorsView, CommandError>),
    /// Starts an interview (`practice`: a practice interview of surveyor training).
    Start {
        id: String,
        version: String,
        practice: bool,
    },
    Resume(InterviewSummary),
    Opened(Result<Opened, CommandError>),
}

pub struct Home {
    app: AppContext,
    _context: ContextHandle<AppContext>,
    catalogue: Vec<QuestionnaireSummary>,
    interviews: Vec<InterviewSummary>,
    today: Option<TodayView>,
    surveyors: Option<SurveyorsView>,
    busy: bool,
    error: Option<String>,
    /// How many of the four first reads (questionnaires, interviews, today's work, surveyors)
    /// have not answered yet. Until they all have, the screen shows only its title and badge,
    /// so that its buttons appear once, in their places, and do not move as data arrives.
    unread: u8,
}

impl Component for Home {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let link = ctx.link();
        link.send_future(async { Msg::Catalogue(call::<api::Questionnaires>(()).await) });
        link.send_future(async { Msg::Interviews(call::<api::Interviews>(()).await) });
        link.send_future(async { Msg::Today(call::<api::Today>(()).await) });
        link.send_future(async { Msg::Surveyors(call::<api::GetSurveyors>(()).await) });
        let (app, handle) = app_context(ctx, Msg::Context);
        Home {
            app,
            _context: handle,
            catalogue: Vec::new(),
            interviews: Vec::new(),
            today: None,
            surveyors: None,
            busy: false,
            error: None,
            unread: 4,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let ui = self.app.ui;
        if let Msg::Catalogue(_) | Msg::Interviews(_) | Msg::Today(_) | Msg::Surveyors(_) = msg {
            self.unread = self.unread.saturating_sub(1);
        }
        match msg {
            Msg::Context(app) => self.app = app,
            Msg::Catalogue(Ok(list)) => self.catalogue = list,
            Msg::Interviews(Ok(list)) => self.interviews = list,
            Msg::Today(Ok(today)) => self.today = Some(today),
            Msg::Surveyors(Ok(view)) => self.surveyors = Some(view),
            Msg::Start {
                id,
                version,
                practice,
            } => {
                self.busy = true;
                ctx.link().send_future(async move {
                    Msg::Opened(interview::start(id, version, ui, practice).await)
                });
            }
            Msg::Resume(listing) => {
                self.busy = true;
                ctx.link()
                    .send_future(async move { Msg::Opened(interview::resume(listing).await) });
            }
            Msg::Opened(Ok(opened)) => self.app.navigate.emit(Route::Interview(Rc::new(opened))),
            Msg::Opened(Err(e)) => {
                self.busy = false;
                self.error = Some(error_text(&e, ui));
            }
            Msg::Catalogue(Err(e))
            | Msg::Interviews(Err(e))
            | Msg::Today(Err(e))
            | Msg::Surveyors(Err(e)) => self.error = Some(error_text(&e, ui)),
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let ui = self.app.ui;
        html! {
            <>
                { language_button(&self.app) }
                { theme_button(&self.app) }
                { text_size_button(&self.app, ui) }
                <h1 id="title">{ ui.pick("职素 · 职业健康素养调查", "Zhisu · Occupational health literacy survey") }</h1>
                if let Some(device) = self.device_line() {
                    <p class="hint" id="device">{ device }</p>
                }
                { self.revoked_view() }
                { self.app.sync.as_deref().map_or_else(|| sync_badge_unread(ui), |view| sync_badge(&self.app, view)) }
                if self.unread == 0 {
                    { self.who_and_where() }
                    { self.interviews_view(ctx) }
                    { self.nav_view() }
                } else {
                    <p class="hint" id="home-reading">{ ui.pick("正在读取…", "Reading…") }</p>
                }
                { error_view(&self.error) }
            </>
        }
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        // the first screen a surveyor can use: home with its questionnaires
        let enrolled = self.app.identity.as_ref().is_some_and(|i| i.enrolled);
        if enrolled && !self.catalogue.is_empty() {
            mark_interactive_once();
        }
    }
}

/// The sync badge: connected or not, waiting and sent interviews, an upload in progress.
fn sync_badge(app: &AppContext, view: &SyncView) -> Html {
    let ui = app.ui;
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
    let sync_now = app.sync_now.reform(|_| ());
    html! {
        <div class="status" id="sync-status">
            <span class={class} id="sync-online">{ text }</span>
            <span>{ ui.pick("待上传 ", "Waiting ") }<b id="sync-waiting">{ view.counts.waiting }</b>{ ui.pick(" 份", "") }</span>
            <span>{ ui.pick("已上传 ", "Sent ") }<b id="sync-acknowledged">{ view.counts.acknowledged }</b>{ ui.pick(" 份", "") }</span>
            if view.counts.rejected > 0 {
                <span class="offline">{ ui.pick("被退回 ", "Returned ") }<b id="sync-rejected">{ view.counts.rejected }</b>{ ui.pick(" 份", "") }</span>
            }
            <button id="sync-now" onclick={sync_now}>{ ui.pick("立即上传", "Sync now") }</button>
            if view.status.waiting_for_wifi {
                <span class="offline">{ ui.pick("设置为只用Wi-Fi上传，正在等Wi-Fi", "Set to upload on Wi-Fi only: waiting for Wi-Fi") }</span>
            }
            // always in place, hidden when idle: an upload starting must not move the buttons
            // below under a finger about to tap one
            { progress_view(ui, view.status.progress.filter(|p| p.total > 0)) }
        </div>
    }
}

fn progress_view(ui: Lang, progress: Option<api::SyncProgress>) -> Html {
    let (done, total) = progress.map_or((0, 1), |p| (p.done, p.total));
    let style = if progress.is_some() {
        ""
    } else {
        "visibility:hidden"
    };
    html! {
        <>
            <div class="progress" id="sync-progress" role="progressbar" style={style}
                aria-label={ui.pick("上传进度", "Upload progress")} aria-valuemin="0"
                aria-valuenow={done.to_string()} aria-valuemax={total.to_string()}>
                <div style={format!("width:{}%", done * 100 / total)}></div>
            </div>
            <span style={style}>{ format!("{} {} / {}", ui.pick("正在上传", "Uploading"), done, total) }</span>
        </>
    }
}

/// The sync badge's place before its first news: the same line, so nothing below it moves
/// when the news arrives.
fn sync_badge_unread(ui: Lang) -> Html {
    html! {
        <div class="status" id="sync-status-unread">
            <span>{ ui.pick("正在查看上传情况…", "Checking uploads…") }</span>
            <span>{ ui.pick("待上传 ", "Waiting ") }<b>{ "…" }</b></span>
            <span>{ ui.pick("已上传 ", "Sent ") }<b>{ "…" }</b></span>
            <button disabled=true>{ ui.pick("立即上传", "Sync now") }</button>
            { progress_view(ui, None) }
        </div>
    }
}

impl Home {
    /// The tablet's name, district and round.
    fn device_line(&self) -> Option<String> {
        let i = self.app.identity.as_ref()?;
        // the district's name when known (today's work has it), else its code
        let district = self
            .today
            .as_ref()
            .and_then(|t| t.district.as_ref())
            .map(|d| name(d, self.app.ui))
            .or_else(|| i.district.clone())?;
        Some(format!(
            "{}　{}　{}",
            i.device_name.as_deref()?,
            district,
            i.round.as_deref()?
        ))
    }

    fn revoked_view(&self) -> Html {
        let ui = self.app.ui;
        let revoked = self.app.identity.as_ref().is_some_and(|i| i.revoked)
            || self.app.sync.as_ref().is_some_and(|v| v.status.revoked);
        if !revoked {
            return html! {};
        }
        let re_enrol = self.app.navigate.reform(|_| Route::Enrol);
        html! {
            <div class="status offline" id="revoked" role="alert">
                { ui.pick("这台平板已被管理员停用，答卷不会再上传。请联系管理员：可以导出备份交给管理员，或用新的登记码重新登记。",
                    "An administrator has stopped this tablet: interviews are no longer uploaded. Call the administrator: export a backup for them, or enrol again with a new code.") }
                <button id="revoked-backup" onclick={self.app.navigate.reform(|_| Route::SyncLog)}>{ ui.pick("导出备份", "Export a backup") }</button>
                <button id="re-enrol" onclick={re_enrol}>{ ui.pick("重新登记", "Enrol again") }</button>
            </div>
        }
    }

    /// Who is surveying, and at which site.
    fn who_and_where(&self) -> Html {
        let ui = self.app.ui;
        let surveyor = match self.surveyors.as_ref().and_then(|v| v.current.as_ref()) {
            Some(s) => format!(
                "{}{}（{}）",
                ui.pick("调查员：", "Surveyor: "),
                s.name,
                s.id
            ),
            None => ui.pick("还没有选调查员", "No surveyor chosen").to_string(),
        };
        let site = match self.today.as_ref().and_then(TodayView::chosen_site) {
            Some(site) => format!(
                "{}{}（{}）",
                ui.pick("调查点：", "Site: "),
                site.name,
                name(&site.site_type_label, ui)
            ),
            None => ui.pick("还没有选调查点", "No site chosen yet").to_string(),
        };
        let go = |route: Route| self.app.navigate.reform(move |_| route.clone());
        html! {
            <>
                <div class="status" id="surveyor-summary">
                    <span id="current-surveyor">{ surveyor }</span>
                    <button id="switch-surveyor" onclick={go(Route::Surveyors)}>{ ui.pick("换调查员", "Change surveyor") }</button>
                </div>
                <div class="status" id="today-summary">
                    <span id="current-site">{ site }</span>
                    <button id="today" onclick={go(Route::Today)}>{ ui.pick("今日工作", "Today's work") }</button>
                </div>
            </>
        }
    }

    /// Unfinished interviews to resume, and the questionnaires to start.
    fn interviews_view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let ui = self.app.ui;
        let in_progress: Vec<&InterviewSummary> = self
            .interviews
            .iter()
            .filter(|i| i.state == InterviewState::InProgress)
            .collect();
        html! {
            <>
                if !in_progress.is_empty() {
                    <h2>{ ui.pick("没做完的访谈", "Unfinished interviews") }</h2>
                    <div class="choices">
                        { for in_progress.into_iter().map(|i| {
                            let listing = i.clone();
                            html! {
                                <button class="choice resume" id={format!("resume-{}", i.id)} disabled={self.busy}
                                    onclick={link.callback(move |_| Msg::Resume(listing.clone()))}>
                                    if i.practice {
                                        <b class="practice-mark">{ ui.pick("【练习】", "[Practice] ") }</b>
                                    }
                                    { resume_text(ui, self.title_of(&i.questionnaire_id), i) }
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
                                onclick={link.callback(move |_| Msg::Start { id: id.clone(), version: version.clone(), practice: false })}>
                                { c.title.get(ui.code(), "zh-CN") }
                            </button>
                        }
                    }) }
                </div>
                <h2>{ ui.pick("知识问答（宣传活动用，不算调查）", "Knowledge quiz (for outreach events, not the survey)") }</h2>
                <div class="choices">
                    { for self.catalogue.iter().map(|c| {
                        let start = Rc::new(QuizStart {
                            id: c.id.clone(),
                            version: c.version.clone(),
                            title: c.title.get(ui.code(), "zh-CN").to_string(),
                        });
                        let go = self.app.navigate.reform(move |_| Route::Quiz(Rc::clone(&start)));
                        html! {
                            <button class="choice" id={format!("quiz-{}", c.id)} disabled={self.busy} onclick={go}>
                                { ui.pick("问答：", "Quiz: ") }{ c.title.get(ui.code(), "zh-CN") }
                            </button>
                        }
                    }) }
                </div>
                { self.practice_view(ctx) }
            </>
        }
    }

    /// Practice for surveyor training: the same questionnaires, run exactly like real
    /// interviews, marked as practice and never counted.
    fn practice_view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let ui = self.app.ui;
        html! {
            <>
                <h2 id="practice-title">{ ui.pick("练习（培训用，不计入调查）", "Practice (training; never counted)") }</h2>
                <p class="hint">{ ui.pick(
                    "和正式访谈一模一样，但标着“练习”，不算进任何结果和配额。做完会告诉您督导质控会看到什么。",
                    "Runs exactly like a real interview but marked as practice, never in any result or quota. Afterwards it shows what quality control would see.") }</p>
                <div class="choices">
                    { for self.catalogue.iter().map(|c| {
                        let (id, version) = (c.id.clone(), c.version.clone());
                        html! {
                            <button class="choice practice" id={format!("practice-{}", c.id)} disabled={self.busy}
                                onclick={link.callback(move |_| Msg::Start { id: id.clone(), version: version.clone(), practice: true })}>
                                { ui.pick("练习：", "Practise: ") }{ c.title.get(ui.code(), "zh-CN") }
                            </button>
                        }
                    }) }
                </div>
            </>
        }
    }

    fn title_of<'a>(&'a self, questionnaire_id: &'a str) -> &'a str {
        self.catalogue
            .iter()
            .find(|c| c.id == questionnaire_id)
            .map_or(questionnaire_id, |c| {
                c.title.get(self.app.ui.code(), "zh-CN")
            })
    }

    fn nav_view(&self) -> Html {
        let ui = self.app.ui;
        let go = |route: Route| self.app.navigate.reform(move |_| route.clone());
        html! {
            <div class="nav">
                <button id="my-interviews" onclick={go(Route::MyInterviews)}>{ ui.pick("我的访谈", "My interviews") }</button>
                <button id="show-log" onclick={go(Route::SyncLog)}>{ ui.pick("上传记录", "Sync log") }</button>
                <button id="backchecks" onclick={go(Route::Backchecks)}>{ ui.pick("复核", "Back-checks") }</button>
            </div>
        }
    }
}

fn resume_text(ui: Lang, title: &str, i: &InterviewSummary) -> String {
    match ui {
        Lang::Zh => format!("继续：{title}（{} 开始）", local_time(&i.started_at)),
        Lang::En => format!("Resume: {title} (started {})", local_time(&i.started_at)),
    }
}
