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

// ---------------------------------------------------------------- module cycles

/// A crate's modules and, for each, the modules it uses (`use`, `crate::`/`super::` paths and
/// paths through its own child modules), with re-exports followed to where an item is defined.
/// A module using its own descendants is the module tree, not an import, and is left out.
mod modules {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    pub type Graph = BTreeMap<String, BTreeSet<String>>;

    fn name_of(src: &Path, file: &Path) -> String {
        let rel = file.strip_prefix(src).unwrap().with_extension("");
        let mut parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if matches!(
            parts.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            parts.pop();
        }
        parts.join("::")
    }

    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "bin") {
                    files(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The code without comments, string literals and `#[cfg(test)] mod tests`.
    fn code(text: &str) -> String {
        let text = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or_default();
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '/' if chars.peek() == Some(&'/') => {
                    for c in chars.by_ref() {
                        if c == '\n' {
                            out.push('\n');
                            break;
                        }
                    }
                }
                '"' => {
                    let mut escaped = false;
                    for c in chars.by_ref() {
                        if escaped {
                            escaped = false;
                        } else if c == '\\' {
                            escaped = true;
                        } else if c == '"' {
                            break;
                        }
                    }
                    out.push_str("\"\"");
                }
                c => out.push(c),
            }
        }
        out
    }

    /// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
    pub fn expand(tree: &str) -> Vec<String> {
        let tree = tree.trim();
        let Some(open) = tree.find('{') else {
            return vec![tree.split(" as ").next().unwrap().trim().to_string()];
        };
        let prefix = tree[..open].trim_end_matches("::");
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let (mut parts, mut depth, mut current) = (Vec::new(), 0, String::new());
        for c in inner.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(std::mem::take(&mut current));
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        parts.push(current);
        parts
            .iter()
            .filter(|p| !p.trim().is_empty())
            .flat_map(|p| expand(p))
            .map(|p| {
                if prefix.is_empty() {
                    p
                } else {
                    format!("{prefix}::{p}")
                }
            })
            .collect()
    }

    fn words(s: &str) -> Vec<String> {
        s.split("::").map(|w| w.trim().to_string()).collect()
    }

    pub fn graph(src: &Path) -> Graph {
        let mut paths = Vec::new();
        files(src, &mut paths);
        let texts: BTreeMap<String, String> = paths
            .iter()
            .map(|f| (name_of(src, f), code(&std::fs::read_to_string(f).unwrap())))
            .collect();
        let is_module = |m: &[String]| texts.contains_key(&m.join("::"));
        let absolute = |here: &str, path: &str| -> Option<Vec<String>> {
            let mut segs = words(path);
            let mut base: Vec<String> = if here.is_empty() {
                Vec::new()
            } else {
                words(here)
            };
            match segs[0].as_str() {
                "crate" => base.clear(),
                "self" => {}
                "super" => {
                    while segs.first().is_some_and(|s| s == "super") {
                        base.pop();
                        segs.remove(0);
                    }
                    base.extend(segs);
                    return Some(base);
                }
                _ => {
                    let mut child = base.clone();
                    child.push(segs[0].clone());
                    if !is_module(&child) {
                        return None;
                    }
                    base.extend(segs);
                    return Some(base);
                }
            }
            base.extend(segs.into_iter().skip(1));
            Some(base)
        };
        let mut uses: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
        let mut reexports: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for (module, text) in &texts {
            let found = uses.entry(module.clone()).or_default();
            for statement in text.split(';') {
                let statement = statement.trim();
                let Some(at) = statement.find("use ") else {
                    continue;
                };
                let head = &statement[..at];
                if !(head.trim().is_empty() || head.trim().starts_with("pub")) {
                    continue;
                }
                for path in expand(&statement[at + 4..]) {
                    if let Some(abs) = absolute(module, &path) {
                        if head.trim().starts_with("pub") {
                            if let Some(last) = abs.last() {
                                reexports.insert((module.clone(), last.clone()), abs.clone());
                            }
                        }
                        found.push(abs);
                    }
                }
            }
            let bytes: Vec<char> = text.chars().collect();
            let mut i = 0;
            while i < bytes.len() {
                let start = i;
                while i < bytes.len() && (bytes[i].is_alphanumeric() || bytes[i] == '_') {
                    i += 1;
                }
                if i > start {
                    let before = start.checked_sub(1).map(|j| bytes[j]);
                    let word: String = bytes[start..i].iter().collect();
                    let mut j = i;
                    let mut path = word.clone();
                    while j + 2 < bytes.len() && bytes[j] == ':' && bytes[j + 1] == ':' {
                        let s = j + 2;
                        let mut e = s;
                        while e < bytes.len() && (bytes[e].is_alphanumeric() || bytes[e] == '_') {
                            e += 1;
                        }
                        if e == s {
                            break;
                        }
                        path.push_str("::");
                        path.extend(&bytes[s..e]);
                        j = e;
                    }
                    let free = !matches!(before, Some(':') | Some('_'))
                        && before.is_none_or(|c| !c.is_alphanumeric());
                    if free && path.contains("::") {
                        if let Some(abs) = absolute(module, &path) {
                            found.push(abs);
                        }
                    }
                    i = j.max(i);
                } else {
                    i += 1;
                }
            }
        }
        let resolve = |path: &[String]| -> Option<String> {
            let mut path = path.to_vec();
            for _ in 0..5 {
                let k = (0..=path.len()).rev().find(|k| is_module(&path[..*k]))?;
                let module = path[..k].join("::");
                match path
                    .get(k)
                    .and_then(|item| reexports.get(&(module.clone(), item.clone())))
                {
                    Some(source) if source.as_slice() != &path[..=k] => {
                        let mut next = source.clone();
                        next.extend(path[k + 1..].iter().cloned());
                        path = next;
                    }
                    _ => return Some(module),
                }
            }
            None
        };
        let mut graph = Graph::new();
        for (module, found) in &uses {
            let edges = graph.entry(module.clone()).or_default();
            for path in found {
                let Some(target) = resolve(path) else {
                    continue;
                };
                let descendant = module.is_empty() || target.starts_with(&format!("{module}::"));
                if target != *module && !descendant {
                    edges.insert(target);
                }
            }
        }
        graph
    }

    /// Groups of two or more modules that reach each other (Tarjan's strongly connected
    /// components).
    pub fn cycles(graph: &Graph) -> Vec<Vec<String>> {
        struct Walk<'g> {
            graph: &'g Graph,
            index: BTreeMap<&'g str, usize>,
            low: BTreeMap<&'g str, usize>,
            stack: Vec<&'g str>,
            on_stack: BTreeSet<&'g str>,
            found: Vec<Vec<String>>,
        }
        impl<'g> Walk<'g> {
            fn visit(&mut self, v: &'g str) {
                let n = self.index.len();
                self.index.insert(v, n);
                self.low.insert(v, n);
                self.stack.push(v);
                self.on_stack.insert(v);
                for w in self.graph.get(v).into_iter().flatten() {
                    let w = w.as_str();
                    if !self.index.contains_key(w) {
                        self.visit(w);
                        let low = self.low[v].min(self.low[w]);
                        self.low.insert(v, low);
                    } else if self.on_stack.contains(w) {
                        let low = self.low[v].min(self.index[w]);
                        self.low.insert(v, low);
                    }
                }
                if self.low[v] == self.index[v] {
                    let mut group = Vec::new();
                    while let Some(w) = self.stack.pop() {
                        self.on_stack.remove(w);
                        group.push(w.to_string());
                        if w == v {
                            break;
                        }
                    }
                    if group.len() > 1 {
                        group.sort();
                        self.found.push(group);
                    }
                }
            }
        }
        let mut walk = Walk {
            graph,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            found: Vec::new(),
        };
        for v in graph.keys() {
            if !walk.index.contains_key(v.as_str()) {
                walk.visit(v);
            }
        }
        walk.found
    }
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let root = zhisu_e2e::workspace_root();
    let mut sources = vec![
        root.join("src-tauri/src"),
        root.join("frontend/src"),
        root.join("tests/support"),
    ];
    for entry in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        sources.push(entry.path().join("src"));
    }
    let mut found = Vec::new();
    for src in sources.iter().filter(|s| s.is_dir()) {
        for group in modules::cycles(&modules::graph(src)) {
            found.push(format!(
                "{}: {}",
                src.strip_prefix(&root).unwrap().display(),
                group.join(" ⇄ ")
            ));
        }
    }
    assert!(
        found.is_empty(),
        "modules that import each other:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_cycle_finder_sees_a_cycle_between_siblings_and_not_parent_to_child() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::write(
        src.join("lib.rs"),
        "mod a;\nmod b;\nmod c;\npub use a::A;\nfn f() { c::g() }",
    )
    .unwrap();
    std::fs::write(src.join("a.rs"), "use crate::b::B;\npub struct A;").unwrap();
    std::fs::write(src.join("b.rs"), "use crate::{A, c};\npub struct B;").unwrap();
    std::fs::write(
        src.join("c.rs"),
        "// crate::a::A in a comment\npub fn g() { let _ = \"crate::b\"; }",
    )
    .unwrap();
    let graph = modules::graph(src);
    assert_eq!(
        modules::cycles(&graph),
        vec![vec!["a".to_string(), "b".to_string()]]
    );
    assert!(
        graph[""].is_empty(),
        "the root declaring and using its children is no import"
    );
    assert!(graph["c"].is_empty(), "comments and strings are not code");
    assert_eq!(
        modules::expand("x::{y, z::{p, q as r}}"),
        ["x::y", "x::z::p", "x::z::q"]
    );
}
