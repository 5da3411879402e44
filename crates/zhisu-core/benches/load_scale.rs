//! Loading at scale: a questionnaire of 5,000 / 20,000 items, valid and with every item bad,
//! and one choice list of 40,000 choices. Loading must stay linear: the 20,000-item figures are
//! about 4× the 5,000-item ones (the baseline measured in the same run).
//!
//! `cargo bench -p zhisu-core --bench load_scale`
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use zhisu_core::Questionnaire;

const HEAD: &str = "id = \"scale\"\nversion = \"1\"\nlanguages = [\"zh-CN\", \"en\"]\ntitle.\"zh-CN\" = \"规模\"\n\n[[dimensions]]\nid = \"law\"\nlabel.\"zh-CN\" = \"法律\"\n\n[[choices.yn]]\nkey = \"yes\"\nlabel.\"zh-CN\" = \"是\"\n\n[[choices.yn]]\nkey = \"no\"\nlabel.\"zh-CN\" = \"否\"\n";

fn items(n: usize, bad: bool) -> String {
    let mut out = String::from(HEAD);
    for i in 0..n {
        if bad {
            // unknown key, unknown list, unknown kind, reference to a later item, bad media
            out.push_str(&format!(
                "\n[[items]]\nid = \"q{i}\"\nkind = \"singel_choice\"\nlable.\"zh-CN\" = \"问题\"\nchoices = \"nope\"\nrelevant = \"${{q{}}} = 'x'\"\nimage = \"../x{i}.exe\"\n",
                i + 1
            ));
        } else {
            let relevant = if i > 0 {
                format!("relevant = \"${{q{}}} = 'yes'\"\n", i - 1)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "\n[[items]]\nid = \"q{i}\"\nkind = \"single_choice\"\nlabel.\"zh-CN\" = \"问题 {i}\"\nchoices = \"yn\"\n{relevant}explanation.\"zh-CN\" = \"解释\"\nscore = {{ dimension = \"law\", key = \"yes\" }}\n"
            ));
        }
    }
    out
}

fn choices(n: usize) -> String {
    let mut out = String::from(HEAD);
    for i in 0..n {
        out.push_str(&format!(
            "\n[[choices.street]]\nkey = \"s{i}\"\nlabel.\"zh-CN\" = \"街道 {i}\"\n"
        ));
    }
    out.push_str("\n[[items]]\nid = \"street\"\nkind = \"single_choice\"\nsearch = true\nlabel.\"zh-CN\" = \"街道\"\nchoices = \"street\"\n\n[[items]]\nid = \"q\"\nkind = \"true_false\"\nlabel.\"zh-CN\" = \"问题\"\nexplanation.\"zh-CN\" = \"解释\"\nscore = { dimension = \"law\", key = true }\n");
    out
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("load_scale");
    group.sample_size(10);
    for (name, text, valid) in [
        ("valid_5k", items(5_000, false), true),
        ("valid_20k", items(20_000, false), true),
        ("all_bad_5k", items(5_000, true), false),
        ("all_bad_20k", items(20_000, true), false),
        ("choices_40k", choices(40_000), true),
    ] {
        let checked = Questionnaire::check_bytes("scale.toml", text.as_bytes());
        assert_eq!(
            checked.questionnaire.is_some(),
            valid,
            "{name}: {}",
            checked.diagnostics.lines()
        );
        group.bench_function(name, |b| {
            b.iter(|| Questionnaire::check_bytes("scale.toml", black_box(text.as_bytes())))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
