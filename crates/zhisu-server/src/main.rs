use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use zhisu_protocol::ReceiptStatus;

/// Zhisu central server: receives interviews from the tablets and stores them.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    common: Common,
    /// Address to listen on.
    #[arg(long, env = "ZHISU_LISTEN", default_value = "127.0.0.1:8470")]
    listen: SocketAddr,
}

#[derive(Args, Debug)]
struct Common {
    /// Folder for the embedded SQLite database (created if missing).
    #[arg(long, env = "ZHISU_DATA_DIR", default_value = "data/server", global = true)]
    data_dir: PathBuf,
    /// Folder of questionnaire files the server accepts interviews for.
    #[arg(long, env = "ZHISU_QUESTIONNAIRES", default_value = "questionnaires", global = true)]
    questionnaires: PathBuf,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Import device backup files (handed over on a USB stick) as if the tablet had synced:
    /// checked, re-scored and stored exactly once.
    ImportBackup {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn open_state(common: &Common) -> anyhow::Result<zhisu_server::ServerState> {
    std::fs::create_dir_all(&common.data_dir)
        .with_context(|| format!("cannot create {}", common.data_dir.display()))?;
    let database = common.data_dir.join("zhisu-server.sqlite3");
    zhisu_server::ServerState::open(&database, &common.questionnaires)
}

fn import_backups(common: &Common, files: &[PathBuf]) -> anyhow::Result<()> {
    let state = open_state(common)?;
    for file in files {
        let interviews = zhisu_store::read_backup(file)
            .with_context(|| format!("cannot read the backup {}", file.display()))?;
        let total = interviews.len();
        let mut counts = [0usize; 4];
        for chunk in interviews.chunks(zhisu_protocol::MAX_BATCH_INTERVIEWS) {
            for receipt in zhisu_server::api::ingest(&state, chunk.to_vec())? {
                counts[match receipt.status {
                    ReceiptStatus::Stored => 0,
                    ReceiptStatus::AlreadyStored => 1,
                    ReceiptStatus::Conflict => 2,
                    ReceiptStatus::Rejected => 3,
                }] += 1;
                if let (Some(code), Some(message)) = (&receipt.code, &receipt.message) {
                    eprintln!("{}: {}: {code}: {message}", file.display(), receipt.interview_id);
                }
            }
        }
        println!(
            "{}: {total} interviews: {} stored, {} already stored, {} conflicts, {} rejected",
            file.display(),
            counts[0],
            counts[1],
            counts[2],
            counts[3]
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::ImportBackup { files }) => return import_backups(&cli.common, files),
        Some(Command::Serve) | None => {}
    }
    let state = open_state(&cli.common)?;
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cli.listen))?;
    tracing::info!(
        listen = %cli.listen,
        data_dir = %cli.common.data_dir.display(),
        questionnaires = state.questionnaires.len(),
        "zhisu-server ready"
    );
    zhisu_server::serve(listener, state).await?;
    Ok(())
}
