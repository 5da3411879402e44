//! `zhisu`: what a questionnaire author at a CDC runs before publishing a new version.
//!
//! ```text
//! zhisu questionnaire check PATH...          every problem as file:line:col: message
//! zhisu questionnaire describe PATH [--json] ids, counts, scoring and modules
//! zhisu questionnaire analyse --questionnaire PATH EXPORT.csv [--json]
//!                                            item analysis of an interview export
//! zhisu questionnaire import FORM.xlsx [-o OUT.toml]
//!                                            an XLSForm into the TOML format, then checked
//! zhisu questionnaire export --xlsform PATH [-o OUT.xlsx]
//!                                            a questionnaire as an XLSForm workbook
//! zhisu update-key new --out FILE            a release key for app updates (secret to FILE,
//!                                            0600; the public key printed for the tablets)
//! zhisu update sign --key FILE --platform P --version V PACKAGE [--out SIG]
//!                                            the release signature of an app package
//! ```
//! Problems are in Chinese unless `--lang en` is given. Warnings (legal but odd) are printed and
//! do not fail the check.
//! Exit status: 0 all good, 1 problems found, 2 the command itself failed (unreadable path).
#![forbid(unsafe_code)]

mod analyse;
mod xlsform;

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
    /// The release key app updates are signed with (keep it offline, never on the server).
    #[command(subcommand, name = "update-key")]
    UpdateKey(UpdateKeyCommand),
    /// App packages for tablets' updates.
    #[command(subcommand)]
    Update(UpdateCommand),
}

#[derive(Subcommand)]
enum UpdateKeyCommand {
    /// Makes a new release key: writes the secret key (PKCS#8) to `--out`, readable by you
    /// only, and prints the public key to give the tablets (`update_public_key` in app.toml).
    New {
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum UpdateCommand {
    /// Signs an app package for one platform and version; prints the signature (base64) to
    /// paste in the dashboard's upload form, and writes it to `--out` when given.
    Sign {
        /// The secret key file `update-key new` wrote.
        #[arg(long)]
        key: PathBuf,
        /// linux-x86_64-bin, linux-aarch64-bin, linux-x86_64-deb, linux-aarch64-deb or
        /// windows-x86_64.
        #[arg(long)]
        platform: String,
        /// The version the package is (such as 1.4.2): the one the tablets will report after.
        #[arg(long)]
        version: String,
        package: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
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
    /// Converts an XLSForm workbook (survey, choices, settings and zhisu_dimensions sheets)
    /// into the TOML format and checks it; every feature Zhisu does not support is reported by
    /// sheet, row and column, and then nothing is written.
    Import {
        /// The workbook (.xlsx; .xls and .ods are read too).
        form: PathBuf,
        /// Where to write the questionnaire (default: beside the workbook, as .toml).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Writes a questionnaire in another format.
    Export {
        /// As an XLSForm workbook (the only format for now).
        #[arg(long, required = true)]
        xlsform: bool,
        path: PathBuf,
        /// Where to write the workbook (default: beside the file, as .xlsx).
        #[arg(short, long)]
        output: Option<PathBuf>,
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
    Ok(load_with(path, lang, false)?.0)
}

/// Like [`load`], with the lint for item writing when `lint`; also says whether there were
/// warnings.
fn load_with(path: &Path, lang: Lang, lint: bool) -> anyhow::Result<(Option<Questionnaire>, bool)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path.display().to_string();
    let checked = if lint {
        Questionnaire::lint_bytes(&name, &bytes)
    } else {
        Questionnaire::check_bytes(&name, &bytes)
    };
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
        match load_with(&file, lang, true)? {
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

fn import(form: &Path, output: Option<&Path>, lang: Lang) -> anyhow::Result<bool> {
    let bytes = std::fs::read(form).with_context(|| format!("cannot read {}", form.display()))?;
    let imported = xlsform::import::import(&bytes);
    let name = form.display().to_string();
    for problem in &imported.problems {
        println!("{}", problem.line_in(&name, lang));
    }
    let Some(toml) = imported.toml.clone() else {
        let count = imported.problems.iter().filter(|p| p.blocking).count();
        let name = zhisu_core::escape_hidden(name);
        match lang {
            Lang::En => eprintln!("{name}: {count} problem(s); nothing written"),
            Lang::ZhCn => eprintln!("{name}：{count} 个问题，没有写出文件"),
        }
        return Ok(false);
    };
    let output = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| form.with_extension("toml"));
    std::fs::write(&output, &toml).with_context(|| format!("cannot write {}", output.display()))?;
    // the checker's findings, placed where the author wrote them in the workbook
    let written = output.display().to_string();
    let checked = Questionnaire::lint_bytes(&written, toml.as_bytes());
    let written = zhisu_core::escape_hidden(written);
    for d in &checked.diagnostics.0 {
        let problem = imported.problem_for(d, &toml);
        println!(
            "{} ({written}:{}:{})",
            problem.line_in(&name, lang),
            d.line,
            d.column
        );
    }
    match checked.questionnaire {
        Some(q) => {
            println!(
                "{written}: ok ({} {}, {} items)",
                q.id,
                q.version,
                q.items.len()
            );
            Ok(true)
        }
        None => {
            let count = checked.diagnostics.errors().count();
            match lang {
                Lang::En => eprintln!("{written}: {count} problem(s)"),
                Lang::ZhCn => eprintln!("{written}：{count} 个问题"),
            }
            Ok(false)
        }
    }
}

fn export(path: &Path, output: Option<&Path>, lang: Lang) -> anyhow::Result<bool> {
    let Some(q) = load(path, lang)? else {
        return Ok(false);
    };
    let output = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| path.with_extension("xlsx"));
    xlsform::export::write(&q, &output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    println!(
        "{}",
        zhisu_core::escape_hidden(output.display().to_string())
    );
    Ok(true)
}

/// Writes a new release secret key to `out` (never over an existing file; mode 0600 on Unix)
/// and prints its public key.
fn new_release_key(out: &Path) -> anyhow::Result<bool> {
    use std::io::Write as _;
    let (secret, public) = zhisu_protocol::update::new_release_key()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(out).with_context(|| {
        format!(
            "cannot create {} (an existing key is never overwritten)",
            out.display()
        )
    })?;
    file.write_all(&secret)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!("{public}");
    eprintln!(
        "secret key written to {}: keep it offline; give the tablets the public key above (update_public_key in app.toml)",
        out.display()
    );
    Ok(true)
}

/// Prints (and writes to `out`) the release signature of `package` as `platform` `version`.
fn sign_package(
    key: &Path,
    platform: &str,
    version: &str,
    package: &Path,
    out: Option<&Path>,
) -> anyhow::Result<bool> {
    let secret = std::fs::read(key).with_context(|| format!("cannot read {}", key.display()))?;
    let bytes =
        std::fs::read(package).with_context(|| format!("cannot read {}", package.display()))?;
    anyhow::ensure!(!bytes.is_empty(), "{} is empty", package.display());
    let signature = zhisu_protocol::update::sign(
        &secret,
        platform,
        version,
        bytes.len() as u64,
        &zhisu_protocol::media_hash(&bytes),
    )?;
    if let Some(out) = out {
        std::fs::write(out, format!("{signature}\n"))
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    println!("{signature}");
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
        Command::Questionnaire(QuestionnaireCommand::Import { form, output }) => {
            import(form, output.as_deref(), cli.lang)
        }
        Command::Questionnaire(QuestionnaireCommand::Export {
            xlsform: _,
            path,
            output,
        }) => export(path, output.as_deref(), cli.lang),
        Command::UpdateKey(UpdateKeyCommand::New { out }) => new_release_key(out),
        Command::Update(UpdateCommand::Sign {
            key,
            platform,
            version,
            package,
            out,
        }) => sign_package(key, platform, version, package, out.as_deref()),
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
