//! Database connections and migrations.
//!
//! One code path for SQLite and PostgreSQL through sqlx's `Any` driver: the
//! SQL is portable (TEXT/BIGINT, `$n` parameters, no engine functions).
//! SQLite runs in WAL mode with `synchronous=FULL`, so a commit that has
//! returned survives a power cut: settlements are acknowledged only then.

use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Executor, Row};

/// The schema, in order. Each entry is applied once, inside a transaction.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_core.sql")),
    (2, include_str!("../migrations/0002_assigned_order_id.sql")),
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

/// Per-connection settings. WAL lets readers run beside the one writer;
/// FULL makes every commit durable before it returns.
async fn configure(conn: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
    if backend == Backend::Sqlite {
        conn.execute("PRAGMA journal_mode = WAL").await?;
        conn.execute("PRAGMA synchronous = FULL").await?;
        conn.execute("PRAGMA busy_timeout = 10000").await?;
        conn.execute("PRAGMA foreign_keys = ON").await?;
    }
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
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(15))
        .after_connect(move |conn, _meta| Box::pin(async move { configure(conn, backend).await }))
        .connect_with(options)
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))?;
    Ok(pool)
}

/// One dedicated connection: the settlement writer's.
pub async fn connection(url: &str) -> anyhow::Result<AnyConnection> {
    let backend = backend(url)?;
    let options = connect_options(url)?;
    let mut conn = AnyConnection::connect_with(&options)
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))?;
    configure(&mut conn, backend).await?;
    Ok(conn)
}

/// Applies missing migrations. Safe to run from several processes at once
/// (the server and an admin command): a loser of the race retries.
pub async fn migrate(pool: &AnyPool) -> anyhow::Result<()> {
    let mut attempt = 0;
    loop {
        match try_migrate(pool).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 10 => {
                attempt += 1;
                tracing::debug!(error = %e, attempt, "migration raced, retrying");
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            Err(e) => return Err(e).context("applying migrations"),
        }
    }
}

async fn try_migrate(pool: &AnyPool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    conn.execute(
        "CREATE TABLE IF NOT EXISTS kessai_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await?;
    for (version, sql) in MIGRATIONS {
        let mut tx = conn.begin().await?;
        let applied = sqlx::query("SELECT version FROM kessai_migrations WHERE version = $1")
            .bind(*version)
            .fetch_optional(&mut *tx)
            .await?;
        if applied.is_some() {
            tx.rollback().await?;
            continue;
        }
        tx.execute(*sql).await?;
        sqlx::query("INSERT INTO kessai_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(crate::clock::now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, "applied migration");
    }
    let row = sqlx::query("SELECT COUNT(*) AS n FROM kessai_migrations")
        .fetch_one(&mut *conn)
        .await?;
    let n: i64 = row.try_get("n")?;
    anyhow::ensure!(n >= MIGRATIONS.len() as i64, "migrations incomplete");
    Ok(())
}

/// Connection strings can carry a password: never log one whole.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_string(),
    }
}
