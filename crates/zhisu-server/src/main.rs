use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Zhisu central server: receives interviews from the tablets and stores them.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "ZHISU_LISTEN", default_value = "127.0.0.1:8470")]
    listen: SocketAddr,
    /// Folder for the embedded SQLite database (created if missing).
    #[arg(long, env = "ZHISU_DATA_DIR", default_value = "data/server")]
    data_dir: PathBuf,
    /// Folder of questionnaire files the server accepts interviews for.
    #[arg(long, env = "ZHISU_QUESTIONNAIRES", default_value = "questionnaires")]
    questionnaires: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let database = args.data_dir.join("zhisu-server.sqlite3");
    let state = zhisu_server::ServerState::open(&database, &args.questionnaires)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(
        listen = %args.listen,
        database = %database.display(),
        questionnaires = state.questionnaires.len(),
        "zhisu-server ready"
    );
    zhisu_server::serve(listener, state).await?;
    Ok(())
}
