//! Builds the shipped questionnaires (`questionnaires/*.toml` and `questionnaires/earlier/*.toml`
//! of the workspace) into the binary, so that an installed server finds them wherever it is
//! started from (docs/deployment.md, "Questionnaires").

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let dir = manifest.join("../../questionnaires");
    let earlier = dir.join("earlier");
    println!("cargo:rerun-if-changed={}", dir.display());
    println!("cargo:rerun-if-changed={}", earlier.display());
    let mut files = toml_files(&dir);
    if earlier.is_dir() {
        files.extend(toml_files(&earlier));
    }
    let mut out = String::from("/// The shipped questionnaire files: (name, text).\npub const FILES: &[(&str, &str)] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let name = file
            .strip_prefix(&dir)
            .expect("inside the folder")
            .display()
            .to_string();
        let path = file.canonicalize().expect("a questionnaire file");
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let target =
        PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("questionnaires.rs");
    std::fs::write(target, out).expect("write questionnaires.rs");
}
