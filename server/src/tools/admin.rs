//! What every admin command shares: where the database and key file are,
//! opening them (only after the command has checked its input), and
//! printing the one JSON object a command answers with (PROTOCOL 9).

use std::path::PathBuf;

use clap::Args;
use kessai_core::db::DEFAULT_DATABASE_URL;
use kessai_core::keyring::{default_key_path, Keyring};
use serde::Serialize;

#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// sqlite://FILE (embedded, the default) or postgres://…
    #[arg(long = "database", env = "KESSAI_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database: String,
    /// The master key file (default: FILE.key beside an SQLite database, else ./kessai.key).
    #[arg(long, env = "KESSAI_KEY_FILE")]
    pub key_file: Option<PathBuf>,
}

/// Creates the key file and the database when they do not exist yet, so
/// every command checks its input before calling this: a refused command
/// leaves nothing behind.
pub async fn open(db: &DbArgs) -> anyhow::Result<(kessai_core::store::Conn, Keyring)> {
    // An unsupported URL is refused before the key file is made.
    kessai_core::db::backend(&db.database)?;
    let key_path = db.key_file.clone().unwrap_or_else(|| default_key_path(&db.database));
    let keyring = Keyring::load_or_create(&key_path)?;
    let mut conn = kessai_core::db::connection(&db.database).await?;
    kessai_core::db::migrate(&mut conn).await?;
    Ok((conn, keyring))
}

/// Prints `value` as one line of JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
