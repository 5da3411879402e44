//! The device: enrolment, sync, backups, the surveyor's preferences, today's work.

use chrono::Utc;
use tauri::State;
use zhisu_app_api::{
    self as api, CommandError, ErrorCode, IdentityView, Preferences, QuotaView, SiteView,
    SyncProgress, SyncState, SyncView, TodayView,
};
use zhisu_core::{BackgroundRole, Text};
use zhisu_store::{check_device_name, check_server_url, SiteProgress};
use zhisu_sync::SyncClient;

use super::interview::blocking;
use super::{Args, Result};
use crate::error::{store_error, sync_error, Failure};
use crate::questionnaires::Catalogue;
use crate::{places, qr, AppState};

#[tauri::command]
pub async fn identity(state: State<'_, AppState>) -> Result<api::GetIdentity> {
    let identity = state.db.run(|store, _| Ok(store.identity()?)).await?;
    Ok(IdentityView {
        enrolled: identity.is_some(),
        default_server_url: state.default_server_url.clone(),
        revoked: identity.as_ref().is_some_and(|i| i.revoked_at.is_some()),
        server_url: identity.as_ref().map(|i| i.server_url.clone()),
        device_id: identity.as_ref().map(|i| i.device_id),
        device_name: identity.as_ref().map(|i| i.device_name.clone()),
        round: identity.as_ref().map(|i| i.round.clone()),
        district: identity.map(|i| i.district),
    })
}

/// Exchanges the one-time code for the device's identity, keeps it, and starts syncing.
/// Nothing is stored when the server refuses the code.
#[tauri::command]
pub async fn enrol(state: State<'_, AppState>, args: Args<api::Enrol>) -> Result<api::Enrol> {
    let server_url = check_server_url(&args.server_url).map_err(store_error)?;
    let device_name = check_device_name(&args.device_name).map_err(store_error)?;
    let enrolment = SyncClient::new(&server_url)
        .enrol(args.code.trim(), &device_name)
        .await
        .map_err(sync_error)?;
    state
        .db
        .run(move |store, _| {
            Ok(store.save_identity(&server_url, &device_name, &enrolment, Utc::now())?)
        })
        .await?;
    tracing::info!("device enrolled");
    state.sync_trigger.notify_one();
    identity(state).await
}

#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> Result<api::GetSyncStatus> {
    let (counts, identity) = state
        .db
        .run(|store, _| Ok((store.state_counts()?, store.identity()?)))
        .await?;
    let status = state.sync_status.borrow().clone();
    Ok(SyncView {
        counts,
        status: SyncState {
            online: status.online,
            last_error: status.last_error,
            progress: status.progress.map(|p| SyncProgress {
                done: p.done,
                total: p.total,
            }),
            waiting_for_wifi: status.waiting_for_wifi,
            revoked: status.revoked,
        },
        server_url: identity.map(|i| i.server_url),
    })
}

#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Result<api::SyncNow> {
    state.sync_trigger.notify_one();
    Ok(())
}

/// The newest sync attempts: what was sent and what the server answered.
#[tauri::command]
pub async fn sync_log(state: State<'_, AppState>) -> Result<api::GetSyncLog> {
    state.db.run(|store, _| Ok(store.sync_log(50)?)).await
}

/// Writes a backup of the whole device database to `path` (a USB stick) for hand-over.
#[tauri::command]
pub async fn export_backup(
    state: State<'_, AppState>,
    args: Args<api::ExportBackup>,
) -> Result<api::ExportBackup> {
    let path = std::path::PathBuf::from(args.path);
    state
        .db
        .run(move |store, _| Ok(store.export_backup(&path)?))
        .await
}

/// Writes a backup where a surveyor can hand it over, choosing the place so that nobody types
/// a path on a tablet: the folder IT set, else the first USB stick that takes it, else the
/// documents folder. The file is encrypted with the tablet's key (`docs/backup-format.md`).
#[tauri::command]
pub async fn backup_to_drive(state: State<'_, AppState>) -> Result<api::BackupToDrive> {
    let places = backup_places(state.backup_dir.as_deref(), state.documents_dir.as_deref());
    state
        .db
        .run(move |store, _| {
            let device = store
                .identity()?
                .map(|i| i.device_id.simple().to_string()[..8].to_string())
                .unwrap_or_else(|| "unenrolled".into());
            let stamp = Utc::now().format("%Y%m%d-%H%M%S");
            let mut last = None;
            for (folder, removable) in places {
                if std::fs::create_dir_all(&folder).is_err() {
                    continue;
                }
                // never over a file already there (VACUUM INTO refuses one anyway)
                let path = (0..100)
                    .map(|n| match n {
                        0 => folder.join(format!("zhisu-backup-{device}-{stamp}.sqlite3")),
                        n => folder.join(format!("zhisu-backup-{device}-{stamp}-{n}.sqlite3")),
                    })
                    .find(|p| !p.exists());
                let Some(path) = path else { continue };
                match store.export_backup(&path) {
                    Ok(()) => {
                        return Ok(api::BackupWritten {
                            path: path.display().to_string(),
                            removable,
                        })
                    }
                    Err(e) => {
                        let _ = std::fs::remove_file(&path);
                        last = Some(e);
                    }
                }
            }
            Err(match last {
                Some(e) => Failure::from(e),
                None => Failure::from(CommandError::new(
                    ErrorCode::BackupFailed,
                    "no folder to write a backup to: plug in a USB stick",
                )),
            })
        })
        .await
}

/// Where a backup may go, in order, each with whether it is a removable drive: the folder IT
/// set; USB sticks as Linux desktops mount them (`/media/<user>/<label>`,
/// `/run/media/<user>/<label>`); the documents folder.
fn backup_places(
    chosen: Option<&std::path::Path>,
    documents: Option<&std::path::Path>,
) -> Vec<(std::path::PathBuf, bool)> {
    if let Some(dir) = chosen {
        return vec![(dir.to_path_buf(), false)];
    }
    let mut places = Vec::new();
    if cfg!(target_os = "linux") {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_default();
        if !user.is_empty() {
            for base in ["/media", "/run/media"] {
                let Ok(entries) = std::fs::read_dir(std::path::Path::new(base).join(&user)) else {
                    continue;
                };
                let mut drives: Vec<_> = entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect();
                drives.sort();
                places.extend(drives.into_iter().map(|p| (p, true)));
            }
        }
    }
    if let Some(documents) = documents {
        places.push((documents.join("zhisu-backups"), false));
    }
    places
}

/// Reads the text of a QR code (the enrolment code) from a picture. The body is raw bytes:
/// width and height (u32, little-endian) and one grey byte per pixel, as the webview drew it.
#[tauri::command]
pub async fn read_qr_code(request: tauri::ipc::Request<'_>) -> Result<api::ReadQrCode> {
    let tauri::ipc::InvokeBody::Raw(message) = request.body() else {
        return Err(CommandError::new(
            ErrorCode::BadPicture,
            "send the picture's grey pixels",
        ));
    };
    let message = message.clone();
    blocking(move || {
        qr::decode(&message).map_err(|code| {
            let message = match code {
                ErrorCode::NoQrCode => "no QR code was found in the picture",
                _ => "the picture could not be read",
            };
            CommandError::new(code, message)
        })
    })
    .await
}

/// The webview shows its first interactive screen: logged once, with the time since start.
#[tauri::command]
pub async fn mark_interactive() -> Result<api::MarkInteractive> {
    crate::mark_interactive();
    Ok(())
}

/// Milliseconds from the app's start to its first interactive screen (for the P5 benchmark).
#[tauri::command]
pub async fn startup_ms() -> Result<api::StartupMs> {
    Ok(crate::startup_ms())
}

#[tauri::command]
pub async fn preferences(state: State<'_, AppState>) -> Result<api::GetPreferences> {
    let (language, theme, text_size) = state
        .db
        .run(|store, _| {
            Ok((
                store.screen_language()?,
                store.screen_theme()?,
                store.screen_text_size()?,
            ))
        })
        .await?;
    Ok(Preferences {
        language,
        theme,
        text_size,
    })
}

#[tauri::command]
pub async fn set_text_size(
    state: State<'_, AppState>,
    args: Args<api::SetTextSize>,
) -> Result<api::SetTextSize> {
    state
        .db
        .run(move |store, _| Ok(store.set_screen_text_size(args.text_size)?))
        .await
}

#[tauri::command]
pub async fn set_theme(
    state: State<'_, AppState>,
    args: Args<api::SetTheme>,
) -> Result<api::SetTheme> {
    state
        .db
        .run(move |store, _| Ok(store.set_screen_theme(args.theme)?))
        .await
}

#[tauri::command]
pub async fn set_language(
    state: State<'_, AppState>,
    args: Args<api::SetLanguage>,
) -> Result<api::SetLanguage> {
    state
        .db
        .run(move |store, _| Ok(store.set_screen_language(args.language)?))
        .await
}

/// Today's work: the round, the assigned sites with their quotas and what this device has
/// done, and the site chosen for new interviews.
#[tauri::command]
pub async fn today(state: State<'_, AppState>) -> Result<api::Today> {
    state
        .db
        .run(|store, catalogue| {
            catalogue.refresh(store)?;
            let population = |id: &str, version: &str| {
                catalogue.background_item(id, version, BackgroundRole::Population)
            };
            let progress = store.site_progress(&population)?;
            // the slot running now, by the tablet's clock and zone (issue #15)
            let now = chrono::Local::now();
            let mut slots =
                store.current_slots(now.to_utc(), now.offset().local_minus_utc() / 60)?;
            let identity = store.identity()?;
            Ok(TodayView {
                round: identity.as_ref().map(|i| i.round.clone()),
                district: identity.as_ref().map(|i| places::district(&i.district)),
                current_site: store.current_site()?,
                sites: progress
                    .into_iter()
                    .map(|p| {
                        let slot = slots.remove(&p.site.id);
                        site_view(catalogue, p, slot)
                    })
                    .collect(),
            })
        })
        .await
}

/// A site with names for its codes, from the questionnaires' background items.
fn site_view(
    catalogue: &Catalogue,
    progress: SiteProgress,
    slot: Option<zhisu_store::SlotDone>,
) -> SiteView {
    let label = |role: BackgroundRole, key: &str| {
        catalogue
            .choice_label(role, key)
            .unwrap_or_else(|| Text([("zh-CN".to_string(), key.to_string())].into()))
    };
    let site = progress.site;
    let code = |key: &Option<String>, role| key.as_deref().map(|k| label(role, k));
    SiteView {
        quotas: progress
            .quotas
            .into_iter()
            .map(|q| QuotaView {
                label: label(BackgroundRole::Population, &q.population),
                population: q.population,
                quota: q.quota,
                done: q.done,
            })
            .collect(),
        done: progress.done,
        current_slot: slot.map(|s| api::SlotNowView {
            label: s.slot.label,
            from: s.slot.from,
            to: s.slot.to,
            target: s.slot.target,
            done: s.done,
        }),
        district: places::district(&site.district),
        site_type_label: places::site_type(&site.site_type),
        industry: code(&site.industry, BackgroundRole::Industry),
        ownership: code(&site.ownership, BackgroundRole::Ownership),
        size: code(&site.size, BackgroundRole::EmployerSize),
        site_type: site.site_type,
        name: site.name,
        id: site.id,
    }
}

/// Chooses the site new interviews are done at (one of the assigned sites).
#[tauri::command]
pub async fn choose_site(
    state: State<'_, AppState>,
    args: Args<api::ChooseSite>,
) -> Result<api::ChooseSite> {
    state
        .db
        .run(move |store, _| Ok(store.choose_site(&args.site_id)?))
        .await
}

#[cfg(test)]
mod tests {
    use super::backup_places;
    use std::path::Path;

    #[test]
    fn backups_go_to_the_folder_it_set_else_a_usb_stick_else_documents() {
        assert_eq!(
            backup_places(
                Some(Path::new("/srv/backups")),
                Some(Path::new("/home/a/Documents"))
            ),
            [(Path::new("/srv/backups").to_path_buf(), false)]
        );
        let places = backup_places(None, Some(Path::new("/home/a/Documents")));
        assert_eq!(
            places.last(),
            Some(&(
                Path::new("/home/a/Documents/zhisu-backups").to_path_buf(),
                false
            ))
        );
        // whatever sticks this machine has are removable drives, tried before documents
        assert!(places[..places.len() - 1]
            .iter()
            .all(|(_, removable)| *removable));
        assert!(backup_places(None, None)
            .iter()
            .all(|(_, removable)| *removable));
    }
}
