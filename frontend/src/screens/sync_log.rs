//! The sync log: every upload attempt, what was sent and what the server answered.

use yew::prelude::*;
use zhisu_app_api::{self as api, BackupWritten, CommandError, SyncLogEntry, SyncOutcome};

use super::home_button;
use crate::backend::call;
use crate::context::{app_context, error_view, AppContext};
use crate::i18n::{error_text, local_time, Lang, Words};

pub enum Msg {
    Context(AppContext),
    Loaded(Result<Vec<SyncLogEntry>, CommandError>),
    Backup,
    BackedUp(Result<BackupWritten, CommandError>),
}

pub struct SyncLog {
    app: AppContext,
    _context: ContextHandle<AppContext>,
    log: Vec<SyncLogEntry>,
    error: Option<String>,
    /// Where the backup button wrote, once it did.
    backup: Option<BackupWritten>,
    backing_up: bool,
}

impl Component for SyncLog {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        ctx.link()
            .send_future(async { Msg::Loaded(call::<api::GetSyncLog>(()).await) });
        let (app, handle) = app_context(ctx, Msg::Context);
        SyncLog {
            app,
            _context: handle,
            log: Vec::new(),
            error: None,
            backup: None,
            backing_up: false,
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
                { home_button(&self.app) }
                { error_view(&self.error) }
            </>
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
