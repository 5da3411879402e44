//! ARCHITECTURE.md lists every dependency of a workspace crate on another; this test reads
//! `cargo metadata` and fails when a crate gains (or loses) one the document does not list, so
//! the map stays true.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

type Edges = BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>;

/// `crate → (normal and build dependencies, dev-dependencies only)`, from cargo.
fn actual() -> Edges {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(zhisu_e2e::workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let names: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    let mut edges = Edges::new();
    for p in packages {
        let mut normal = BTreeSet::new();
        let mut dev = BTreeSet::new();
        for d in p["dependencies"].as_array().unwrap() {
            let name = d["name"].as_str().unwrap().to_string();
            if !names.contains(&name) {
                continue;
            }
            if d["kind"].as_str() == Some("dev") {
                dev.insert(name);
            } else {
                normal.insert(name);
            }
        }
        let dev = dev.difference(&normal).cloned().collect();
        edges.insert(p["name"].as_str().unwrap().to_string(), (normal, dev));
    }
    edges
}

/// The lines of the "Crate dependencies" section: `` - `crate` → a, b; tests: c ``.
fn documented(doc: &str) -> Edges {
    let section = doc
        .split("## Crate dependencies")
        .nth(1)
        .expect("ARCHITECTURE.md has a \"## Crate dependencies\" section");
    let section = section.split("\n## ").next().unwrap();
    let list = |s: &str| -> BTreeSet<String> {
        s.split(',')
            .map(|x| x.trim().trim_matches('`').to_string())
            .filter(|x| !x.is_empty() && x != "(none)")
            .collect()
    };
    let mut edges = Edges::new();
    for line in section.lines().filter(|l| l.starts_with("- `")) {
        let (name, rest) = line[3..].split_once('`').expect("- `crate` → …");
        let rest = rest.trim().trim_start_matches('→').trim();
        let (normal, dev) = rest.split_once("; tests:").unwrap_or((rest, ""));
        edges.insert(name.to_string(), (list(normal), list(dev)));
    }
    edges
}

fn line(name: &str, (normal, dev): &(BTreeSet<String>, BTreeSet<String>)) -> String {
    let join = |s: &BTreeSet<String>| {
        s.iter()
            .map(|x| format!("`{x}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!(
        "- `{name}` → {}",
        if normal.is_empty() {
            "(none)".to_string()
        } else {
            join(normal)
        }
    );
    if !dev.is_empty() {
        out.push_str(&format!("; tests: {}", join(dev)));
    }
    out
}

#[test]
fn architecture_md_lists_every_dependency_between_workspace_crates() {
    let doc = std::fs::read_to_string(zhisu_e2e::workspace_root().join("ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md is readable");
    let (actual, documented) = (actual(), documented(&doc));
    let wrong: Vec<String> = actual
        .iter()
        .filter(|(name, edges)| documented.get(*name) != Some(edges))
        .map(|(name, edges)| line(name, edges))
        .chain(
            documented
                .keys()
                .filter(|name| !actual.contains_key(*name))
                .map(|name| format!("(no such crate: {name})")),
        )
        .collect();
    assert!(
        wrong.is_empty(),
        "ARCHITECTURE.md's crate dependencies disagree with Cargo.toml; the true lines are:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_section_parser_reads_both_kinds_of_edge() {
    let doc = "## Crate dependencies\n\n- `a` → `b`, `c`; tests: `d`\n- `b` → (none)\n\n## Next\n- `z` → `y`";
    let edges = documented(doc);
    assert_eq!(edges.len(), 2, "stops at the next section");
    assert_eq!(line("a", &edges["a"]), "- `a` → `b`, `c`; tests: `d`");
    assert_eq!(line("b", &edges["b"]), "- `b` → (none)");
}
