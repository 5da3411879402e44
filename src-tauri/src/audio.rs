//! Recordings of items read aloud: found by the path the questionnaire gives, in the
//! questionnaire's media folders, and handed to the webview as a `data:` URL.

use std::path::{Component, Path, PathBuf};

use base64::Engine;

use zhisu_app_api::{CommandError, ErrorCode};

/// Longer recordings belong in a streaming player, not in one message to the webview.
const MAX_BYTES: u64 = 8 * 1024 * 1024;

fn mime(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "webm" => "audio/webm",
        "m4a" | "aac" => "audio/mp4",
        _ => return None,
    })
}

/// A recording delivered with the questionnaire version (its kind as the store keeps it:
/// `wav`, `ogg`, `webm`, `mp3`, `m4a`), as `data:audio/…;base64,…`.
pub fn delivered_data_url(kind: &str, bytes: &[u8]) -> String {
    let mime = mime(Path::new(&format!("recording.{kind}"))).unwrap_or("application/octet-stream");
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The recording `file` (a relative path without `..`, from the questionnaire) from the first
/// of `dirs` that has it, as `data:audio/…;base64,…`.
pub fn data_url(dirs: &[PathBuf], file: &str) -> Result<String, CommandError> {
    let relative = Path::new(file);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(CommandError::new(
            ErrorCode::BadAudioPath,
            format!("'{file}' is not a path inside the questionnaire's folder"),
        ));
    }
    let mime = mime(relative).ok_or_else(|| {
        CommandError::new(
            ErrorCode::BadAudioPath,
            format!("'{file}' is not a recording the app can play (wav, mp3, ogg, webm, m4a)"),
        )
    })?;
    let Some(path) = dirs.iter().map(|d| d.join(relative)).find(|p| p.is_file()) else {
        return Err(CommandError::new(
            ErrorCode::AudioMissing,
            format!("the recording '{file}' is not on this tablet"),
        ));
    };
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    if size > MAX_BYTES {
        return Err(CommandError::new(
            ErrorCode::AudioTooLarge,
            format!("the recording '{file}' is larger than 8 MiB"),
        ));
    }
    let bytes = std::fs::read(&path).map_err(|e| {
        CommandError::new(
            ErrorCode::AudioMissing,
            format!("cannot read '{file}': {e}"),
        )
    })?;
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_found_in_the_media_folders_and_paths_stay_inside() {
        let first = tempfile_dir("first");
        let second = tempfile_dir("second");
        std::fs::create_dir_all(second.join("audio")).unwrap();
        std::fs::write(second.join("audio/q1.wav"), b"RIFF").unwrap();
        let dirs = [first.clone(), second.clone()];
        assert_eq!(
            data_url(&dirs, "audio/q1.wav").unwrap(),
            "data:audio/wav;base64,UklGRg=="
        );
        assert_eq!(
            data_url(&dirs, "audio/q2.wav").unwrap_err().code,
            ErrorCode::AudioMissing
        );
        for bad in ["../secret.wav", "/etc/passwd.wav", "audio/q1.exe"] {
            assert_eq!(
                data_url(&dirs, bad).unwrap_err().code,
                ErrorCode::BadAudioPath,
                "{bad}"
            );
        }
        std::fs::remove_dir_all(first).unwrap();
        std::fs::remove_dir_all(second).unwrap();
    }

    fn tempfile_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("zhisu-audio-test-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
