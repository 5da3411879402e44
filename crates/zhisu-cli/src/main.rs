//! `zhisu`: what a questionnaire author at a CDC runs before publishing a new version.
//!
//! ```text
//! zhisu questionnaire check PATH...          every problem as file:line:col: message
//! zhisu questionnaire describe PATH [--json] ids, counts, scoring and modules
//! zhisu questionnaire analyse --questionnaire PATH EXPORT.csv [--json]
//!                                            item analysis of an interview export
//! ```
//! Problems are in Chinese unless `--lang en` is given. Warnings (legal but odd) are printed and
//! do not fail the check.
//! Exit status: 0 all good, 1 problems found, 2 the command itself failed (unreadable path).
#![forbid(unsafe_code)]

mod analyse;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use zhisu_core::{Lang, Questionnaire};

#[derive(Parser)]
#[command(
    name = "zhisu",
    version,
    about = "Zhisu tools for questionnaire authors"
)]
struct Cli {
    /// The language of problems: zh-CN (default) or en.
    #[arg(long, global = true, default_value = "zh-CN", value_parser = parse_lang)]
    lang: Lang,
    #[command(subcommand)]
    command: Command,
}

fn parse_lang(tag: &str) -> Result<Lang, String> {
    Lang::from_tag(tag)
        .ok_or_else(|| format!("'{tag}' is not a language the checker speaks: use zh-CN or en"))
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
        /// Fail on warnings too (the lint for item writing included), not only on errors.
        #[arg(long)]
        strict: bool,
    },
    /// Describes a valid questionnaire: languages, item counts, scoring and modules.
    Describe {
        path: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Item analysis of an interview export (the dashboard's CSV): per scored item the share
    /// right, discrimination, the share choosing each option, Cronbach's alpha per dimension and
    /// alpha if the item is deleted, with flags for items to revise.
    Analyse {
        /// The questionnaire file the interviews were answered with.
        #[arg(long)]
        questionnaire: PathBuf,
        /// The export (CSV, Chinese or English column names).
        export: PathBuf,
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

/// Reads a file as bytes (the loader itself reports a file that is not UTF-8, by offset) and
/// checks it; prints warnings always and errors when there are some.
fn load(path: &Path, lang: Lang) -> anyhow::Result<Option<Questionnaire>> {
    Ok(load_linted(path, lang)?.0)
}

/// Like [`load`] with the lint for item writing; also says whether there were warnings.
fn load_linted(path: &Path, lang: Lang) -> anyhow::Result<(Option<Questionnaire>, bool)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let checked = Questionnaire::lint_bytes(&path.display().to_string(), &bytes);
    let warned = checked.diagnostics.warnings().next().is_some();
    print!("{}", checked.diagnostics.lines_in(lang));
    if checked.questionnaire.is_none() {
        let count = checked.diagnostics.0.len();
        let name = zhisu_core::escape_hidden(path.display().to_string());
        match lang {
            Lang::En => eprintln!("{name}: {count} problem(s)"),
            Lang::ZhCn => eprintln!("{name}：{count} 个问题"),
        }
    }
    Ok((checked.questionnaire, warned))
}

/// Checks every file; with `strict`, a file with warnings fails too.
fn check(paths: &[PathBuf], strict: bool, lang: Lang) -> anyhow::Result<bool> {
    let mut all_ok = true;
    for file in questionnaire_files(paths)? {
        match load_linted(&file, lang)? {
            (Some(_), true) if strict => {
                let name = zhisu_core::escape_hidden(file.display().to_string());
                match lang {
                    Lang::En => eprintln!("{name}: warnings fail the check with --strict"),
                    Lang::ZhCn => eprintln!("{name}：有提醒，--strict 下不通过"),
                }
                all_ok = false;
            }
            (Some(q), _) => println!(
                "{}: ok ({} {}, {} items)",
                zhisu_core::escape_hidden(file.display().to_string()),
                q.id,
                q.version,
                q.items.len()
            ),
            (None, _) => all_ok = false,
        }
    }
    Ok(all_ok)
}

fn describe(path: &Path, json: bool, lang: Lang) -> anyhow::Result<bool> {
    let Some(q) = load(path, lang)? else {
        return Ok(false);
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
        Command::Questionnaire(QuestionnaireCommand::Check { paths, strict }) => {
            check(paths, *strict, cli.lang)
        }
        Command::Questionnaire(QuestionnaireCommand::Describe { path, json }) => {
            describe(path, *json, cli.lang)
        }
        Command::Questionnaire(QuestionnaireCommand::Analyse {
            questionnaire,
            export,
            json,
        }) => match load(questionnaire, cli.lang) {
            Ok(Some(q)) => analyse::run(&q, export, *json, cli.lang),
            Ok(None) => Ok(false),
            Err(e) => Err(e),
        },
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
