//! Writing a synthetic questionnaire file (the format of `questionnaires/README.md`) for tests
//! and benchmarks: the head, bilingual text fields and tables. Each benchmark decides what its
//! questionnaire holds; these are the pieces they all write it with.

use std::fmt::Write;

/// The head of a questionnaire file: a comment line, id, version, Chinese first and English,
/// the 80 % rule, then the title.
pub fn head(out: &mut String, comment: &str, id: &str, version: &str, title: (&str, &str)) {
    writeln!(
        out,
        "# {comment}\nid = \"{id}\"\nversion = \"{version}\"\ndefault_language = \"zh-CN\"\n\
         languages = [\"zh-CN\", \"en\"]\nliteracy_threshold_percent = 80"
    )
    .expect("writing to a String");
    text_field(out, "title", title.0, title.1);
}

/// `field."zh-CN" = "…"` and `field.en = "…"`.
pub fn text_field(out: &mut String, field: &str, zh: &str, en: &str) {
    writeln!(out, "{field}.\"zh-CN\" = \"{zh}\"\n{field}.en = \"{en}\"")
        .expect("writing to a String");
}

/// A new entry of the array of tables `name` (`[[name]]`) with `key = "value"` fields.
pub fn table(out: &mut String, name: &str, fields: &[(&str, &str)]) {
    writeln!(out, "\n[[{name}]]").expect("writing to a String");
    for (key, value) in fields {
        writeln!(out, "{key} = \"{value}\"").expect("writing to a String");
    }
}

/// The eligibility rule and the message for those screened out.
pub fn eligibility(out: &mut String, condition: &str, message: (&str, &str)) {
    writeln!(out, "\n[eligibility]\ncondition = \"{condition}\"").expect("writing to a String");
    text_field(out, "message", message.0, message.1);
}

/// One `[[dimensions]]` entry per `(id, Chinese, English)`.
pub fn dimensions(out: &mut String, dimensions: &[(&str, &str, &str)]) {
    for (id, zh, en) in dimensions {
        table(out, "dimensions", &[("id", id)]);
        text_field(out, "label", zh, en);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pieces_write_the_questionnaire_format() {
        let mut out = String::new();
        super::head(&mut out, "test", "t", "1", ("调查", "Survey"));
        super::eligibility(&mut out, "${age} >= 16", ("谢谢", "Thanks"));
        super::dimensions(&mut out, &[("law", "法律", "Law")]);
        super::table(&mut out, "items", &[("id", "age"), ("kind", "integer")]);
        super::text_field(&mut out, "label", "几岁？", "Age?");
        assert_eq!(
            out,
            "# test\nid = \"t\"\nversion = \"1\"\ndefault_language = \"zh-CN\"\n\
             languages = [\"zh-CN\", \"en\"]\nliteracy_threshold_percent = 80\n\
             title.\"zh-CN\" = \"调查\"\ntitle.en = \"Survey\"\n\
             \n[eligibility]\ncondition = \"${age} >= 16\"\n\
             message.\"zh-CN\" = \"谢谢\"\nmessage.en = \"Thanks\"\n\
             \n[[dimensions]]\nid = \"law\"\nlabel.\"zh-CN\" = \"法律\"\nlabel.en = \"Law\"\n\
             \n[[items]]\nid = \"age\"\nkind = \"integer\"\n\
             label.\"zh-CN\" = \"几岁？\"\nlabel.en = \"Age?\"\n"
        );
    }
}
