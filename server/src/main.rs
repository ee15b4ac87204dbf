//! `kessai`: see `kessai --help` and the README.

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = kessai_server::tools::cli::Cli::parse();
    let default_level = if matches!(cli.command, kessai_server::tools::cli::Command::Serve { .. }) {
        "info"
    } else {
        "warn"
    };
    // Logs go to stderr so that stdout carries only the commands' JSON.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)))
        .with_writer(std::io::stderr)
        .init();
    match kessai_server::tools::cli::run(cli).await {
        Ok(code) => std::process::ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("kessai: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
