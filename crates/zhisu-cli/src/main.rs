//! `zhisu`: what a questionnaire author at a CDC runs before publishing a new version.
//!
//! ```text
//! zhisu questionnaire check PATH...          every problem as file:line:col: message
//! zhisu questionnaire describe PATH [--json] ids, counts, scoring and modules
//! ```
//! Exit status: 0 all good, 1 problems found, 2 the command itself failed (unreadable path).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use zhisu_core::Questionnaire;

#[derive(Parser)]
#[command(
    name = "zhisu",
    version,
    about = "Zhisu tools for questionnaire authors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Questionnaire files.
    #[command(subcommand)]
    Questionnaire(QuestionnaireCommand),
}

#[derive(Subcommand)]
enum QuestionnaireCommand {
    /// Checks questionnaire files (or every *.toml in a folder) and prints every problem.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Describes a valid questionnaire: languages, item counts, scoring and modules.
    Describe {
        path: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn questionnaire_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read folder {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            found.sort();
            anyhow::ensure!(!found.is_empty(), "no *.toml files in {}", path.display());
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn load(path: &Path) -> anyhow::Result<Result<Questionnaire, zhisu_core::Diagnostics>> {
    let source =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Questionnaire::from_toml(
        &path.display().to_string(),
        &source,
    ))
}

fn check(paths: &[PathBuf]) -> anyhow::Result<bool> {
    let mut all_ok = true;
    for file in questionnaire_files(paths)? {
        match load(&file)? {
            Ok(q) => println!(
                "{}: ok ({} {}, {} items)",
                file.display(),
                q.id,
                q.version,
                q.items.len()
            ),
            Err(diagnostics) => {
                all_ok = false;
                print!("{}", diagnostics.lines());
                eprintln!("{}: {} problem(s)", file.display(), diagnostics.0.len());
            }
        }
    }
    Ok(all_ok)
}

fn describe(path: &Path, json: bool) -> anyhow::Result<bool> {
    let q = match load(path)? {
        Ok(q) => q,
        Err(diagnostics) => {
            print!("{}", diagnostics.lines());
            return Ok(false);
        }
    };
    let d = q.describe();
    if json {
        println!("{}", serde_json::to_string_pretty(&d)?);
        return Ok(true);
    }
    println!(
        "{} {} ({})",
        d.id,
        d.version,
        q.title.get(&q.default_language, &q.default_language)
    );
    println!(
        "languages: {} (default {})",
        d.languages.join(", "),
        d.default_language
    );
    println!("items: {}", d.items);
    for (kind, n) in &d.items_by_kind {
        println!("  {kind}: {n}");
    }
    println!(
        "national test: max {} points, literate at {} % = {} points",
        d.max_score, d.literacy_threshold_percent, d.literacy_cut_score
    );
    for (dimension, n) in &d.scored_items_by_dimension {
        println!(
            "  {dimension}: {n} items, {} points",
            d.max_score_by_dimension[dimension]
        );
    }
    if !d.modules.is_empty() {
        println!("population modules (scored separately):");
        for m in &d.modules {
            println!(
                "  {} ({}): {} items, {} points",
                m.section, m.population, m.scored_items, m.max_score
            );
        }
    }
    Ok(true)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Questionnaire(QuestionnaireCommand::Check { paths }) => check(paths),
        Command::Questionnaire(QuestionnaireCommand::Describe { path, json }) => {
            describe(path, *json)
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("zhisu: {error:#}");
            ExitCode::from(2)
        }
    }
}
