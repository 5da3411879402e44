//! The sync log: every upload attempt, what was sent and what the server answered; the backup
//! button; and the app's version with a newer one from the server to install (issue 22).

use yew::prelude::*;
use zhisu_app_api::{
    self as api, BackupWritten, CommandError, SyncLogEntry, SyncOutcome, UpdateUnavailable,
    UpdateView,
};

use super::home_button;
use crate::backend::call;
use crate::context::{app_context, error_view, AppContext};
use crate::i18n::{error_text, local_time, Lang, Words};

pub enum Msg {
    Context(AppContext),
    Loaded(Result<Vec<SyncLogEntry>, CommandError>),
    Backup,
    BackedUp(Result<BackupWritten, CommandError>),
    Update(Result<UpdateView, CommandError>),
    Install,
    Installed(Result<String, CommandError>),
}

pub struct SyncLog {
    app: AppContext,
    _context: ContextHandle<AppContext>,
    log: Vec<SyncLogEntry>,
    error: Option<String>,
    /// Where the backup button wrote, once it did.
    backup: Option<BackupWritten>,
    backing_up: bool,
    update: Option<UpdateView>,
    installing: bool,
    /// The version installed: the app restarts into it.
    installed: Option<String>,
}

impl Component for SyncLog {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        ctx.link()
            .send_future(async { Msg::Loaded(call::<api::GetSyncLog>(()).await) });
        ctx.link()
            .send_future(async { Msg::Update(call::<api::GetUpdateStatus>(()).await) });
        let (app, handle) = app_context(ctx, Msg::Context);
        SyncLog {
            app,
            _context: handle,
            log: Vec::new(),
            error: None,
            backup: None,
            backing_up: false,
            update: None,
            installing: false,
            installed: None,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Context(app) => self.app = app,
            Msg::Loaded(Ok(log)) => self.log = log,
            Msg::Loaded(Err(e)) => self.error = Some(error_text(&e, self.app.ui)),
            Msg::Backup => {
                if self.backing_up {
                    return false;
                }
                self.backing_up = true;
                self.error = None;
                ctx.link()
                    .send_future(async { Msg::BackedUp(call::<api::BackupToDrive>(()).await) });
            }
            Msg::Update(Ok(view)) => self.update = Some(view),
            Msg::Update(Err(e)) => self.error = Some(error_text(&e, self.app.ui)),
            Msg::Install => {
                if self.installing {
                    return false;
                }
                self.installing = true;
                self.error = None;
                ctx.link()
                    .send_future(async { Msg::Installed(call::<api::InstallUpdate>(()).await) });
            }
            Msg::Installed(result) => {
                self.installing = false;
                match result {
                    Ok(version) => self.installed = Some(version),
                    Err(e) => {
                        self.error = Some(error_text(&e, self.app.ui));
                        ctx.link().send_future(async {
                            Msg::Update(call::<api::GetUpdateStatus>(()).await)
                        });
                    }
                }
            }
            Msg::BackedUp(result) => {
                self.backing_up = false;
                match result {
                    Ok(written) => self.backup = Some(written),
                    Err(e) => self.error = Some(error_text(&e, self.app.ui)),
                }
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let ui = self.app.ui;
        html! {
            <>
                <h1>{ ui.pick("上传记录", "Sync log") }</h1>
                if self.log.is_empty() {
                    <p>{ ui.pick("还没有上传过。", "Nothing uploaded yet.") }</p>
                }
                <ul class="review" id="sync-log">
                    { for self.log.iter().map(|e| entry(e, ui)) }
                </ul>
                <h2>{ ui.pick("备份", "Backup") }</h2>
                <p class="hint">{ ui.pick(
                    "平板很久连不上网、或者被停用时，插上U盘，点下面的按钮，把备份交给管理员。备份是加密的，别人打不开。",
                    "When the tablet cannot sync for a long time, or has been stopped: plug in a USB stick, tap the button, and give the backup to the administrator. It is encrypted: nobody else can open it.") }</p>
                <button id="backup-to-drive" disabled={self.backing_up}
                    onclick={ctx.link().callback(|_| Msg::Backup)}>
                    { ui.pick("导出备份", "Export a backup") }
                </button>
                if let Some(written) = &self.backup {
                    <p class="result-good" id="backup-written" role="status" data-path={written.path.clone()}>
                        { if written.removable {
                            ui.pick("备份已存到U盘：", "Backup written to the USB stick: ")
                        } else {
                            ui.pick("备份已存到：", "Backup written to: ")
                        } }
                        <b>{ &written.path }</b>
                        { ui.pick("。请把这个文件交给管理员。", ". Give this file to the administrator.") }
                    </p>
                }
                { self.update_view(ctx) }
                { home_button(&self.app) }
                { error_view(&self.error) }
            </>
        }
    }
}

impl SyncLog {
    /// The app's version, and a newer one to install when the server offered it.
    fn update_view(&self, ctx: &Context<Self>) -> Html {
        let ui = self.app.ui;
        let Some(view) = &self.update else {
            return html! {};
        };
        let unavailable = view.unavailable.map(|why| match why {
            UpdateUnavailable::NoKey => ui.pick(
                "这台平板没有设置发布密钥，不会自动安装新版本。请找信息科。",
                "No release key is set on this tablet: it never installs new versions itself. Ask IT.",
            ),
            UpdateUnavailable::ManagedInstall => ui.pick(
                "这台平板的软件由信息科安装，新版本请找信息科安装。",
                "IT installed the app on this tablet: ask IT to install new versions.",
            ),
            UpdateUnavailable::Unsupported => ui.pick(
                "这种设备不能自己更新软件，请找信息科。",
                "This kind of device does not update itself: ask IT.",
            ),
        });
        let blocked = view.open_interviews > 0;
        html! {
            <section id="app-update">
                <h2>{ ui.pick("软件版本", "App version") }</h2>
                <p id="app-version" data-version={view.current_version.clone()}>
                    { ui.pick("现在的版本：", "This version: ") }<b>{ &view.current_version }</b>
                </p>
                if let Some(why) = unavailable {
                    <p class="hint" id="update-unavailable">{ why }</p>
                }
                if let Some(offer) = &view.offered {
                    if let Some(reason) = &offer.refused {
                        <p class="result-bad" id="update-refused" data-version={offer.version.clone()}>
                            { match ui {
                                Lang::Zh => format!("服务器上的新版本 {} 没有通过检查，不会安装：{reason}", offer.version),
                                Lang::En => format!("The new version {} on the server failed its checks and will not be installed: {reason}", offer.version),
                            } }
                        </p>
                    } else {
                        <p class="result-good" id="update-ready" data-version={offer.version.clone()}>
                            { match ui {
                                Lang::Zh => format!("新版本 {} 已下载好。", offer.version),
                                Lang::En => format!("New version {} is ready.", offer.version),
                            } }
                        </p>
                        <p id="update-notes">{ match ui {
                            Lang::Zh => &offer.notes_zh,
                            Lang::En => if offer.notes_en.is_empty() { &offer.notes_zh } else { &offer.notes_en },
                        } }</p>
                        if blocked {
                            <p class="hint" id="update-blocked">{ match ui {
                                Lang::Zh => format!("还有 {} 份访谈没做完。做完或结束后才能安装。", view.open_interviews),
                                Lang::En => format!("{} interview(s) still open. Finish or close them to install.", view.open_interviews),
                            } }</p>
                        }
                        if let Some(version) = &self.installed {
                            <p class="result-good" id="update-installed" role="status">{ match ui {
                                Lang::Zh => format!("已安装 {version}，软件正在重新启动……"),
                                Lang::En => format!("Version {version} installed; the app is restarting…"),
                            } }</p>
                        } else {
                            <button id="install-update" class="primary"
                                disabled={blocked || self.installing || view.unavailable.is_some()}
                                onclick={ctx.link().callback(|_| Msg::Install)}>
                                { ui.pick("安装新版本", "Install the new version") }
                            </button>
                        }
                    }
                } else if view.unavailable.is_none() {
                    <p id="update-none">{ ui.pick("没有更新的版本。", "No newer version.") }</p>
                }
            </section>
        }
    }
}

fn entry(e: &SyncLogEntry, ui: Lang) -> Html {
    let when = local_time(&e.started_at);
    let sent = e.interviews.len();
    let outcome = match e.outcome {
        SyncOutcome::Answered => html! {
            <div class="result-good">{ match ui {
                Lang::Zh => format!("服务器已收到：新存 {}，原已存 {}，冲突 {}，退回 {}", e.stored, e.already_stored, e.conflicts, e.rejected),
                Lang::En => format!("Server answered: stored {}, already stored {}, conflicts {}, returned {}", e.stored, e.already_stored, e.conflicts, e.rejected),
            } }</div>
        },
        SyncOutcome::Sending => html! { <div>{ ui.pick("正在发送……", "Sending…") }</div> },
        SyncOutcome::Failed => html! {
            <div class="result-bad">{ format!("{}{}（{}）", ui.pick("没有成功：", "Failed: "),
                e.error_message.as_deref().unwrap_or(""), e.error_code.as_deref().unwrap_or("")) }</div>
        },
    };
    html! {
        <li data-outcome={e.outcome.as_str()}>
            <div>{ match ui {
                Lang::Zh => format!("{when}　发送 {sent} 份　→ {}", e.server_url),
                Lang::En => format!("{when}  sent {sent}  → {}", e.server_url),
            } }</div>
            { outcome }
        </li>
    }
}
