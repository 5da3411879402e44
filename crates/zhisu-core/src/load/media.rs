//! Media references (`image`, `audio`): a relative path inside the questionnaire's folder,
//! with an extension of the right kind. No URL, no absolute path, no way out of the folder.

use super::limits::MAX_MEDIA_PATH_CHARS;
use super::read::{Place, Str};
use super::Reporter;
use crate::{is_hidden, shown};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Media {
    Image,
    Audio,
}

impl Media {
    pub(super) const IMAGE_EXTENSIONS: [&'static str; 6] =
        ["png", "jpg", "jpeg", "webp", "gif", "svg"];
    pub(super) const AUDIO_EXTENSIONS: [&'static str; 6] =
        ["mp3", "m4a", "aac", "ogg", "opus", "wav"];

    fn extensions(self) -> &'static [&'static str] {
        match self {
            Media::Image => &Self::IMAGE_EXTENSIONS,
            Media::Audio => &Self::AUDIO_EXTENSIONS,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Media::Image => "image",
            Media::Audio => "audio",
        }
    }
}

/// Why a media path is refused (`None`: it is fine).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum MediaProblem {
    Empty,
    TooLong,
    Hidden,
    Url,
    Absolute,
    Backslash,
    OutsideFolder,
    EmptyPart,
    Extension,
}

pub(super) fn media_problem(path: &str, media: Media) -> Option<MediaProblem> {
    use MediaProblem::*;
    if path.is_empty() {
        return Some(Empty);
    }
    if path.chars().count() > MAX_MEDIA_PATH_CHARS {
        return Some(TooLong);
    }
    if path.chars().any(is_hidden) {
        return Some(Hidden);
    }
    // a scheme (`http:`, `file:`, `data:`) or a Windows drive (`C:`): never a relative path
    if let Some(colon) = path.find(':') {
        let scheme = &path[..colon];
        return Some(if scheme.len() == 1 { Absolute } else { Url });
    }
    if path.starts_with('/') {
        return Some(Absolute);
    }
    if path.contains('\\') {
        return Some(Backslash);
    }
    for part in path.split('/') {
        match part {
            ".." => return Some(OutsideFolder),
            "" | "." => return Some(EmptyPart),
            _ => {}
        }
    }
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension {
        Some(e) if !e.contains('/') && media.extensions().contains(&e.as_str()) => None,
        _ => Some(Extension),
    }
}

pub(super) fn check(r: &mut Reporter, s: &Str<'_>, media: Media, place: &Place) {
    let Some(problem) = media_problem(s.text, media) else {
        return;
    };
    let key = media.key();
    let p = shown(s.text);
    let allowed = media.extensions().join(", ");
    let example = match media {
        Media::Image => "images/sign.png",
        Media::Audio => "audio/q1.mp3",
    };
    let (en, zh) = match problem {
        MediaProblem::Empty => (
            format!("is empty; write the file's path inside the questionnaire's folder, like \"{example}\", or remove {key}"),
            format!("是空的；请写文件在问卷文件夹里的路径，如 \"{example}\"，或删掉 {key}"),
        ),
        MediaProblem::TooLong => {
            let length = s.text.chars().count();
            (
                format!("has {length} characters; shorten it to at most {MAX_MEDIA_PATH_CHARS} (shorter folder or file names)"),
                format!("有 {length} 个字符；请缩短到不超过 {MAX_MEDIA_PATH_CHARS} 个（改短文件夹名或文件名）"),
            )
        }
        MediaProblem::Hidden => (
            "contains an invisible or control character (shown as \\u{…}); retype it".into(),
            "含有看不见的字符或控制字符（显示为 \\u{…}）；请重新输入".into(),
        ),
        MediaProblem::Url => (
            format!("is a web address or URL; put the file in the questionnaire's folder and write its path there, like \"{example}\""),
            format!("是网址或 URL；请把文件放进问卷所在的文件夹，写它在文件夹里的路径，如 \"{example}\""),
        ),
        MediaProblem::Absolute => (
            format!("is an absolute path; write the path inside the questionnaire's folder, like \"{example}\""),
            format!("是绝对路径；请写文件在问卷文件夹里的路径，如 \"{example}\""),
        ),
        MediaProblem::Backslash => (
            "uses '\\'; separate folders with '/'".into(),
            "用了“\\”；文件夹之间请用“/”分隔".into(),
        ),
        MediaProblem::OutsideFolder => (
            format!("uses '..' to leave the questionnaire's folder; media must be inside it: put the file there and write its path from the folder, like \"{example}\""),
            format!("用“..”离开了问卷所在的文件夹；媒体文件必须放在这个文件夹里：请把文件放进去，写它在文件夹里的路径，如 \"{example}\""),
        ),
        MediaProblem::EmptyPart => (
            format!("has an empty or '.' folder name (like '//' or './'); write it like \"{example}\""),
            format!("含有空的或“.”文件夹名（如“//”或“./”）；请写成 \"{example}\" 这样"),
        ),
        MediaProblem::Extension => (
            format!("must end in one of: {allowed}"),
            format!("的扩展名必须是以下之一：{allowed}"),
        ),
    };
    r.error(
        s.at,
        "bad-media-path",
        format!("{}: {key} \"{p}\" {en}", place.en),
        format!("{}：{key} \"{p}\" {zh}", place.zh),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_relative_paths_inside_the_folder_with_a_known_extension() {
        use MediaProblem::*;
        let cases = [
            ("images/sign.png", Media::Image, None),
            ("audio/q1.MP3", Media::Audio, None),
            ("sign.webp", Media::Image, None),
            ("../../../../etc/passwd", Media::Image, Some(OutsideFolder)),
            ("images/../../x.png", Media::Image, Some(OutsideFolder)),
            ("/etc/shadow", Media::Image, Some(Absolute)),
            ("C:\\x.png", Media::Image, Some(Absolute)),
            ("http://example.org/a.png", Media::Image, Some(Url)),
            ("file:///etc/passwd", Media::Image, Some(Url)),
            ("data:image/png;base64,xx", Media::Image, Some(Url)),
            ("audio/read.exe", Media::Audio, Some(Extension)),
            ("images/sign.png", Media::Audio, Some(Extension)),
            ("images\\sign.png", Media::Image, Some(Backslash)),
            ("images//sign.png", Media::Image, Some(EmptyPart)),
            ("./sign.png", Media::Image, Some(EmptyPart)),
            ("", Media::Image, Some(Empty)),
            ("a\u{202e}gnp.exe", Media::Image, Some(Hidden)),
            ("noextension", Media::Image, Some(Extension)),
        ];
        for (path, media, expect) in cases {
            assert_eq!(media_problem(path, media), expect, "{path}");
        }
    }
}
