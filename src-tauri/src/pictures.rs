//! Pictures of items (a safety sign, a label): found by the path the questionnaire gives, in
//! the questionnaire's media folders as recordings are, else among the pictures drawn for the
//! bundled questionnaires (built into the app: `questionnaires/images/`, CC0), and handed to
//! the webview as a `data:` URL with the picture's alternative text when the app knows it.

use std::path::{Component, Path, PathBuf};

use base64::Engine;

use zhisu_app_api::{CommandError, ErrorCode, ItemPicture};

/// A picture for a screen, not a photo album.
const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// The pictures the bundled questionnaires name: (path, PNG). What each shows in words is the
/// core's (`zhisu_core::builtin_picture_alt`), which the loader's lint reads too.
const BUNDLED: [(&str, &[u8]); 3] = [
    (
        "images/sign_warning_triangle.png",
        include_bytes!("../../questionnaires/images/sign_warning_triangle.png"),
    ),
    (
        "images/sign_must_wear_dust_mask.png",
        include_bytes!("../../questionnaires/images/sign_must_wear_dust_mask.png"),
    ),
    (
        "images/chemical_safety_label.png",
        include_bytes!("../../questionnaires/images/chemical_safety_label.png"),
    ),
];

fn mime(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        _ => return None,
    })
}

fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The picture `file` (a relative path without `..`, from the questionnaire) from the first of
/// `dirs` that has it, else the bundled one of that path.
pub fn picture(dirs: &[PathBuf], file: &str) -> Result<ItemPicture, CommandError> {
    let relative = Path::new(file);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(CommandError::new(
            ErrorCode::BadPicturePath,
            format!("'{file}' is not a path inside the questionnaire's folder"),
        ));
    }
    let mime = mime(relative).ok_or_else(|| {
        CommandError::new(
            ErrorCode::BadPicturePath,
            format!("'{file}' is not a picture the app can show (png, jpg, webp, svg)"),
        )
    })?;
    let bundled = BUNDLED.iter().find(|(path, ..)| *path == file);
    let alt = bundled.and_then(|(path, _)| zhisu_core::builtin_picture_alt(path));
    if let Some(path) = dirs.iter().map(|d| d.join(relative)).find(|p| p.is_file()) {
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size > MAX_BYTES {
            return Err(CommandError::new(
                ErrorCode::PictureMissing,
                format!("the picture '{file}' is larger than 4 MiB"),
            ));
        }
        let bytes = std::fs::read(&path).map_err(|e| {
            CommandError::new(
                ErrorCode::PictureMissing,
                format!("cannot read '{file}': {e}"),
            )
        })?;
        return Ok(ItemPicture {
            url: data_url(mime, &bytes),
            alt,
        });
    }
    match bundled {
        Some((_, bytes)) => Ok(ItemPicture {
            url: data_url(mime, bytes),
            alt,
        }),
        None => Err(CommandError::new(
            ErrorCode::PictureMissing,
            format!("the picture '{file}' is not on this tablet"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_pictures_are_built_in_and_paths_stay_inside() {
        let picture = picture(&[], "images/sign_warning_triangle.png").unwrap();
        assert!(picture.url.starts_with("data:image/png;base64,iVBORw0KGgo"));
        assert!(picture.alt.unwrap().0["zh-CN"].contains("三角形"));
        for bad in ["../secret.png", "/etc/passwd.png", "images/a.exe"] {
            assert_eq!(
                super::picture(&[], bad).unwrap_err().code,
                ErrorCode::BadPicturePath
            );
        }
        assert_eq!(
            super::picture(&[], "images/none.png").unwrap_err().code,
            ErrorCode::PictureMissing
        );
    }

    #[test]
    fn a_picture_in_the_questionnaires_folder_comes_first() {
        let dir = std::env::temp_dir().join(format!("zhisu-pictures-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("images")).unwrap();
        std::fs::write(dir.join("images/own.svg"), "<svg/>").unwrap();
        let picture = picture(std::slice::from_ref(&dir), "images/own.svg").unwrap();
        assert_eq!(picture.url, "data:image/svg+xml;base64,PHN2Zy8+");
        assert_eq!(picture.alt, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_app_carries_exactly_the_pictures_the_core_describes() {
        let carried: Vec<&str> = BUNDLED.iter().map(|(path, _)| *path).collect();
        let described: Vec<&str> = zhisu_core::BUILTIN_PICTURES
            .iter()
            .map(|(path, ..)| *path)
            .collect();
        assert_eq!(carried, described);
    }

    #[test]
    fn every_picture_the_bundled_questionnaires_name_is_built_in() {
        for (name, source) in crate::questionnaires::BUNDLED {
            let q = zhisu_core::Questionnaire::from_toml(name, source).unwrap();
            for item in &q.items {
                if let Some(image) = &item.image {
                    assert!(
                        BUNDLED.iter().any(|(path, ..)| path == image),
                        "{name}: item {} names {image}, which the app does not carry",
                        item.id
                    );
                }
            }
        }
    }
}
