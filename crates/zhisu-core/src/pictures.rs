//! The pictures drawn for the bundled questionnaires (`questionnaires/images/`, CC0) and what
//! each shows in words: the text alternative a screen reader reads, and what a surveyor says for
//! a respondent who cannot see it. The app builds the files in; the words live here so the
//! loader's lint knows which pictures need no `image_alt` and every screen says the same.
//! A questionnaire's own `image_alt` always comes first (`Item::picture_alt`).

use crate::{Item, Text};

/// (path as a questionnaire names it, Chinese, English).
pub const BUILTIN_PICTURES: [(&str, &str, &str); 3] = [
    (
        "images/sign_warning_triangle.png",
        "警告标志：黄色三角形，黑色边框，中间一个黑色感叹号",
        "A warning sign: a yellow triangle with a black border and a black exclamation mark",
    ),
    (
        "images/sign_must_wear_dust_mask.png",
        "指令标志：蓝色圆形，里面画着一个戴防尘口罩的人",
        "A mandatory sign: a blue circle showing a person wearing a dust mask",
    ),
    (
        "images/chemical_safety_label.png",
        "化学品安全标签：有化学品名称、红框的危险图形、“危险”两个字、防护和急救的说明",
        "A chemical safety label: the chemical's name, hazard pictures in red frames, the word \"danger\", and what to wear and do in an emergency",
    ),
];

/// What a built-in picture shows, in Chinese and English (`None`: not one of them).
pub fn builtin_picture_alt(path: &str) -> Option<Text> {
    BUILTIN_PICTURES
        .iter()
        .find(|(p, ..)| *p == path)
        .map(|(_, zh, en)| {
            Text(
                [("zh-CN", *zh), ("en", *en)]
                    .into_iter()
                    .map(|(l, t)| (l.to_string(), t.to_string()))
                    .collect(),
            )
        })
}

impl Item {
    /// The text alternative of the item's picture: the questionnaire's `image_alt`, else the
    /// description of a built-in picture; `None` when the item has no picture or nobody said
    /// what it shows.
    pub fn picture_alt(&self) -> Option<Text> {
        let image = self.image.as_deref()?;
        self.image_alt
            .clone()
            .or_else(|| builtin_picture_alt(image))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_picture_is_described_in_both_languages() {
        for (path, ..) in BUILTIN_PICTURES {
            let alt = builtin_picture_alt(path).unwrap();
            assert!(alt.has("zh-CN") && alt.has("en"), "{path}");
        }
        assert_eq!(builtin_picture_alt("images/other.png"), None);
    }
}
