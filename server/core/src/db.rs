//! Database connections and migrations.
//!
//! One code path for SQLite and PostgreSQL through sqlx's `Any` driver: the
//! SQL is portable (TEXT/BIGINT, `$n` parameters, no engine functions).
//! SQLite runs in WAL mode with `synchronous=FULL`, so a commit that has
//! returned survives a power cut: settlements are acknowledged only then.

use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Executor};

use crate::args;
use std::sync::Arc;

use crate::store::{Conn, Reader, SqliteReaders};

/// The schema, in order. Each entry is applied once, inside a transaction.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_core.sql")),
    (2, include_str!("../migrations/0002_assigned_order_id.sql")),
    (3, include_str!("../migrations/0003_institutions.sql")),
    (4, include_str!("../migrations/0004_wallet.sql")),
    (5, include_str!("../migrations/0005_merchant_client_cert.sql")),
    (6, include_str!("../migrations/0006_payer_first_order_ids.sql")),
    (7, include_str!("../migrations/0007_card_guessing.sql")),
    (8, include_str!("../migrations/0008_terminals.sql")),
    (9, include_str!("../migrations/0009_ended_payer_first_attempts.sql")),
    (10, include_str!("../migrations/0010_devices.sql")),
    (11, include_str!("../migrations/0011_spent_passes.sql")),
];

pub const DEFAULT_DATABASE_URL: &str = "sqlite://kessai.db";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The file behind an SQLite URL (`sqlite://kessai.db?mode=rwc` → `kessai.db`).
pub fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(path.to_string())
}

pub fn backend(url: &str) -> anyhow::Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        anyhow::bail!("unsupported database URL {url:?}: use sqlite://FILE or postgres://…")
    }
}

/// SQLite opens read-write-create so that a fresh directory just works.
fn normalize(url: &str) -> String {
    if url.starts_with("sqlite:") && !url.contains("mode=") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}mode=rwc")
    } else {
        url.to_string()
    }
}

/// Creates the SQLite database file, readable and writable by its owner
/// only (0600), before SQLite would create it with the umask's mode (0644
/// usually): it holds card hashes and sealed keys. SQLite gives the `-wal`
/// and `-shm` files it creates beside it the database file's mode, each time
/// it creates them, so they are 0600 too. An existing file is left as it is:
/// its mode is the operator's. Called before every SQLite open, since any of
/// them may be the first.
fn create_private_sqlite_file(path: &str) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
        match created {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("creating SQLite database {path}")),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Per-connection settings. WAL lets readers run beside the one writer;
/// FULL makes every commit durable before it returns.
async fn configure(conn: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
    if backend == Backend::Sqlite {
        conn.execute("PRAGMA journal_mode = WAL").await?;
        conn.execute("PRAGMA synchronous = FULL").await?;
        conn.execute("PRAGMA busy_timeout = 10000").await?;
        conn.execute("PRAGMA foreign_keys = ON").await?;
        conn.execute("PRAGMA temp_store = MEMORY").await?;
    }
    Ok(())
}

/// The connections handlers read through.
pub async fn reader(url: &str) -> anyhow::Result<Reader> {
    match backend(url)? {
        Backend::Sqlite => {
            let path = sqlite_path(url).with_context(|| format!("{url:?} names no SQLite file"))?;
            create_private_sqlite_file(&path)?;
            let mut conns = Vec::with_capacity(READERS);
            for _ in 0..READERS {
                let conn =
                    rusqlite::Connection::open(&path).with_context(|| format!("opening SQLite database {path}"))?;
                conn.busy_timeout(Duration::from_secs(10))?;
                conn.set_prepared_statement_cache_capacity(128);
                conn.execute_batch(
                    "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384;",
                )?;
                conns.push(conn);
            }
            Ok(Reader::Sqlite(Arc::new(SqliteReaders::new(conns))))
        }
        Backend::Postgres => Ok(Reader::Any(pool(url, 8).await?)),
    }
}

/// SQLite reader connections: as many as a 2-core machine can keep busy,
/// and then some for requests that hold one while another waits.
const READERS: usize = 4;

/// Copies committed WAL pages into the database file without blocking the
/// writer (PASSIVE), so the WAL stays small. The writer itself checkpoints
/// only when the WAL passes 20,000 pages (`wal_autocheckpoint`), so the
/// commit path, on which every settlement waits, rarely pays for it.
pub async fn checkpoint(reader: &Reader) -> Result<(), sqlx::Error> {
    crate::store::pool_all(reader, "PRAGMA wal_checkpoint(PASSIVE)", vec![]).await?;
    Ok(())
}

fn connect_options(url: &str) -> anyhow::Result<AnyConnectOptions> {
    sqlx::any::install_default_drivers();
    let options: AnyConnectOptions = normalize(url)
        .parse()
        .with_context(|| format!("parsing database URL {url:?}"))?;
    // Statement logging would be noise at thousands of statements a second.
    Ok(options.disable_statement_logging())
}

/// A pool for reads (and for the admin commands' short writes).
pub async fn pool(url: &str, max_connections: u32) -> anyhow::Result<AnyPool> {
    let backend = backend(url)?;
    let options = connect_options(url)?;
    if let Some(path) = sqlite_path(url).filter(|_| normalize(url).contains("mode=rwc")) {
        create_private_sqlite_file(&path)?;
    }
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(15))
        .after_connect(move |conn, _meta| Box::pin(async move { configure(conn, backend).await }))
        .connect_with(options)
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))?;
    Ok(pool)
}

/// A connection for writing: the settlement writer's, or an admin
/// command's. SQLite gets rusqlite with the same settings as the pool plus a
/// statement cache; PostgreSQL gets an sqlx connection.
pub async fn connection(url: &str) -> anyhow::Result<Conn> {
    match backend(url)? {
        Backend::Sqlite => {
            let path = sqlite_path(url).with_context(|| format!("{url:?} names no SQLite file"))?;
            create_private_sqlite_file(&path)?;
            let conn = rusqlite::Connection::open(&path).with_context(|| format!("opening SQLite database {path}"))?;
            conn.busy_timeout(Duration::from_secs(10))?;
            conn.set_prepared_statement_cache_capacity(256);
            // journal_mode answers with a row, so it is queried, not executed.
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            anyhow::ensure!(mode.eq_ignore_ascii_case("wal"), "SQLite refused WAL mode (got {mode})");
            conn.execute_batch(
                "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;
                 PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 20000;",
            )?;
            Ok(Conn::Sqlite(Box::new(conn)))
        }
        Backend::Postgres => {
            let options = connect_options(url)?;
            let conn = AnyConnection::connect_with(&options)
                .await
                .with_context(|| format!("connecting to {}", redact_url(url)))?;
            Ok(Conn::Any(conn))
        }
    }
}

/// Applies missing migrations. Safe to run from several processes at once
/// (the server and an admin command): the write lock serializes them.
pub async fn migrate(conn: &mut Conn) -> anyhow::Result<()> {
    let mut attempt = 0;
    loop {
        match try_migrate(conn).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 10 => {
                attempt += 1;
                let _ = conn.rollback().await;
                tracing::debug!(error = %e, attempt, "migration raced, retrying");
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            Err(e) => return Err(e).context("applying migrations"),
        }
    }
}

async fn try_migrate(conn: &mut Conn) -> anyhow::Result<()> {
    conn.batch("CREATE TABLE IF NOT EXISTS kessai_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .await?;
    for (version, sql) in MIGRATIONS {
        conn.begin().await?;
        let applied = conn
            .fetch_optional(
                "SELECT version FROM kessai_migrations WHERE version = $1",
                args![*version],
            )
            .await?;
        if applied.is_some() {
            conn.rollback().await?;
            continue;
        }
        conn.batch(sql).await?;
        conn.execute(
            "INSERT INTO kessai_migrations (version, applied_at) VALUES ($1, $2)",
            args![*version, crate::clock::now()],
        )
        .await?;
        conn.commit().await?;
        tracing::info!(version, "applied migration");
    }
    Ok(())
}

/// Connection strings can carry a password: never log one whole.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_string(),
    }
}
