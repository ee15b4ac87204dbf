//! The one interface every write goes through, for both databases.
//!
//! SQLite is reached with rusqlite, synchronously, on the thread that owns
//! the connection: a statement costs about a microsecond, where sqlx's
//! SQLite driver spends ~60 µs handing each statement to its worker thread,
//! which capped the settlement rate near 1,000/s. PostgreSQL is reached with
//! sqlx. The SQL is the same portable text for both (`$n` parameters), and
//! rows come back as [`Row`] either way, so the domain code does not know
//! which database it talks to.

use std::sync::Arc;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Column, Executor, Row as _};

/// A bound parameter: an integer or text, either possibly NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_string()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(Some(v))
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Self::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Self::Text(v)
    }
}
impl From<&Option<String>> for Value {
    fn from(v: &Option<String>) -> Self {
        Self::Text(v.clone())
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Self::Text(v.map(String::from))
    }
}

/// `args![a, b, c]`: the parameters `$1`, `$2`, `$3` of a statement.
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => { vec![$($crate::store::Value::from($v)),*] };
}

/// One cell of a result row (the schema has only integers and text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
}

/// A result row, by column name.
#[derive(Debug, Clone)]
pub struct Row {
    names: Arc<[String]>,
    cells: Vec<Cell>,
}

/// Types a cell converts to.
pub trait FromCell: Sized {
    fn from_cell(cell: Option<&Cell>, column: &str) -> sqlx::Result<Self>;
}

fn decode_error(column: &str, want: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: format!("expected {want}").into(),
    }
}

impl FromCell for Option<i64> {
    fn from_cell(cell: Option<&Cell>, column: &str) -> sqlx::Result<Self> {
        match cell {
            Some(Cell::Int(v)) => Ok(Some(*v)),
            Some(Cell::Null) => Ok(None),
            _ => Err(decode_error(column, "an integer")),
        }
    }
}
impl FromCell for i64 {
    fn from_cell(cell: Option<&Cell>, column: &str) -> sqlx::Result<Self> {
        Option::<i64>::from_cell(cell, column)?.ok_or_else(|| decode_error(column, "a non-NULL integer"))
    }
}
impl FromCell for Option<String> {
    fn from_cell(cell: Option<&Cell>, column: &str) -> sqlx::Result<Self> {
        match cell {
            Some(Cell::Text(v)) => Ok(Some(v.clone())),
            Some(Cell::Null) => Ok(None),
            _ => Err(decode_error(column, "text")),
        }
    }
}
impl FromCell for String {
    fn from_cell(cell: Option<&Cell>, column: &str) -> sqlx::Result<Self> {
        Option::<String>::from_cell(cell, column)?.ok_or_else(|| decode_error(column, "non-NULL text"))
    }
}

impl Row {
    pub fn try_get<T: FromCell>(&self, column: &str) -> sqlx::Result<T> {
        let cell = self
            .names
            .iter()
            .position(|n| n == column)
            .and_then(|i| self.cells.get(i));
        if cell.is_none() {
            return Err(sqlx::Error::ColumnNotFound(column.to_string()));
        }
        T::from_cell(cell, column)
    }

    fn from_any(row: &AnyRow) -> sqlx::Result<Self> {
        let names: Arc<[String]> = row.columns().iter().map(|c| c.name().to_string()).collect();
        let mut cells = Vec::with_capacity(names.len());
        for i in 0..names.len() {
            // Any rows carry their type: an integer column decodes as i64,
            // a text column only as String.
            let cell = match row.try_get::<Option<i64>, _>(i) {
                Ok(Some(v)) => Cell::Int(v),
                Ok(None) => Cell::Null,
                Err(_) => match row.try_get::<Option<String>, _>(i)? {
                    Some(v) => Cell::Text(v),
                    None => Cell::Null,
                },
            };
            cells.push(cell);
        }
        Ok(Self { names, cells })
    }

    fn from_sqlite(row: &rusqlite::Row<'_>, names: &Arc<[String]>) -> rusqlite::Result<Self> {
        let mut cells = Vec::with_capacity(names.len());
        for i in 0..names.len() {
            cells.push(match row.get_ref(i)? {
                rusqlite::types::ValueRef::Null => Cell::Null,
                rusqlite::types::ValueRef::Integer(v) => Cell::Int(v),
                rusqlite::types::ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                // The schema has no REAL or BLOB columns.
                other => {
                    return Err(rusqlite::Error::InvalidColumnType(
                        i,
                        names[i].clone(),
                        other.data_type(),
                    ))
                }
            });
        }
        Ok(Self {
            names: names.clone(),
            cells,
        })
    }
}

/// A connection that writes: rusqlite for SQLite, sqlx for PostgreSQL.
pub enum Conn {
    Sqlite(Box<rusqlite::Connection>),
    Any(AnyConnection),
}

/// Whether a write failed on a unique index: PostgreSQL's 23505, or
/// SQLite's constraint error (rusqlite's errors arrive here as text).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.is_unique_violation(),
        sqlx::Error::Protocol(text) => {
            text.starts_with(SQLITE_ERROR_PREFIX) && text.contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

const SQLITE_ERROR_PREFIX: &str = "sqlite: ";

fn sqlite_error(e: rusqlite::Error) -> sqlx::Error {
    sqlx::Error::Protocol(format!("{SQLITE_ERROR_PREFIX}{e}"))
}

fn bind_any<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    args: Vec<Value>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for arg in args {
        query = match arg {
            Value::Int(v) => query.bind(v),
            Value::Text(v) => query.bind(v),
        };
    }
    query
}

/// Prepares (from the cache) and binds `$1…$n` by name, since SQLite numbers
/// parameters by first appearance and `$2` may come before `$1`.
fn sqlite_statement<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
    args: &[Value],
) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(sql)?;
    for (i, arg) in args.iter().enumerate() {
        let Some(index) = stmt.parameter_index(&format!("${}", i + 1))? else {
            continue;
        };
        match arg {
            Value::Int(v) => stmt.raw_bind_parameter(index, v)?,
            Value::Text(v) => stmt.raw_bind_parameter(index, v)?,
        }
    }
    Ok(stmt)
}

fn sqlite_rows(conn: &rusqlite::Connection, sql: &str, args: &[Value], limit: usize) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = sqlite_statement(conn, sql, args)?;
    let names: Arc<[String]> = stmt.column_names().into_iter().map(String::from).collect();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while out.len() < limit {
        match rows.next()? {
            Some(row) => out.push(Row::from_sqlite(row, &names)?),
            None => break,
        }
    }
    Ok(out)
}

impl Conn {
    /// What a `SELECT` ends with to lock its rows until the step commits:
    /// PostgreSQL's `FOR UPDATE`; nothing on SQLite, whose one writer
    /// already runs steps one at a time.
    pub fn for_update(&self) -> &'static str {
        match self {
            Conn::Sqlite(_) => "",
            Conn::Any(_) => " FOR UPDATE",
        }
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn execute(&mut self, sql: &str, args: Vec<Value>) -> sqlx::Result<u64> {
        match self {
            Self::Sqlite(c) => {
                let mut stmt = sqlite_statement(c, sql, &args).map_err(sqlite_error)?;
                let changed = stmt.raw_execute().map_err(sqlite_error)?;
                Ok(changed as u64)
            }
            Self::Any(c) => Ok(bind_any(sqlx::query(sql), args).execute(c).await?.rows_affected()),
        }
    }

    pub async fn fetch_optional(&mut self, sql: &str, args: Vec<Value>) -> sqlx::Result<Option<Row>> {
        match self {
            Self::Sqlite(c) => Ok(sqlite_rows(c, sql, &args, 1).map_err(sqlite_error)?.pop()),
            Self::Any(c) => bind_any(sqlx::query(sql), args)
                .fetch_optional(c)
                .await?
                .as_ref()
                .map(Row::from_any)
                .transpose(),
        }
    }

    pub async fn fetch_one(&mut self, sql: &str, args: Vec<Value>) -> sqlx::Result<Row> {
        self.fetch_optional(sql, args).await?.ok_or(sqlx::Error::RowNotFound)
    }

    pub async fn fetch_all(&mut self, sql: &str, args: Vec<Value>) -> sqlx::Result<Vec<Row>> {
        match self {
            Self::Sqlite(c) => sqlite_rows(c, sql, &args, usize::MAX).map_err(sqlite_error),
            Self::Any(c) => bind_any(sqlx::query(sql), args)
                .fetch_all(c)
                .await?
                .iter()
                .map(Row::from_any)
                .collect(),
        }
    }

    /// Statements without parameters, possibly several (DDL, transaction control).
    pub async fn batch(&mut self, sql: &str) -> sqlx::Result<()> {
        match self {
            Self::Sqlite(c) => c.execute_batch(sql).map_err(sqlite_error),
            Self::Any(c) => c.execute(sql).await.map(|_| ()),
        }
    }

    /// Starts a transaction that already holds the write lock on SQLite, so
    /// a concurrent writer makes it wait (busy_timeout) instead of failing
    /// when it first writes.
    pub async fn begin(&mut self) -> sqlx::Result<()> {
        match self {
            Self::Sqlite(_) => self.batch("BEGIN IMMEDIATE").await,
            Self::Any(_) => self.batch("BEGIN").await,
        }
    }

    pub async fn commit(&mut self) -> sqlx::Result<()> {
        self.batch("COMMIT").await
    }

    pub async fn rollback(&mut self) -> sqlx::Result<()> {
        self.batch("ROLLBACK").await
    }

    /// Ends the transaction begun with [`Conn::begin`]: commits when the
    /// work succeeded, rolls back (and passes the error on) when it failed.
    pub async fn finish<T>(&mut self, work: anyhow::Result<T>) -> anyhow::Result<T> {
        match work {
            Ok(v) => {
                self.commit().await?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.rollback().await;
                Err(e)
            }
        }
    }

    /// Whether the connection still answers.
    pub async fn ping(&mut self) -> bool {
        self.fetch_optional("SELECT 1 AS one", vec![]).await.is_ok()
    }
}

/// Where handlers read: a few rusqlite connections used inline for SQLite
/// (a read is microseconds, less than a hop to another thread), the sqlx
/// pool for PostgreSQL. In WAL mode readers never wait for the writer.
#[derive(Clone)]
pub enum Reader {
    Sqlite(Arc<SqliteReaders>),
    Any(AnyPool),
}

pub struct SqliteReaders {
    conns: Vec<std::sync::Mutex<rusqlite::Connection>>,
    next: std::sync::atomic::AtomicUsize,
}

impl SqliteReaders {
    pub fn new(conns: Vec<rusqlite::Connection>) -> Self {
        Self {
            conns: conns.into_iter().map(std::sync::Mutex::new).collect(),
            next: Default::default(),
        }
    }

    /// Runs `f` on a free connection, or waits for the next one in turn.
    fn with<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>) -> sqlx::Result<T> {
        let len = self.conns.len().max(1);
        let start = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for i in 0..len {
            if let Some(Ok(conn)) = self.conns.get((start + i) % len).map(|m| m.try_lock()) {
                return f(&conn).map_err(sqlite_error);
            }
        }
        let slot = self.conns.get(start % len).ok_or_else(|| sqlx::Error::PoolClosed)?;
        let conn = slot
            .lock()
            .map_err(|_| sqlx::Error::Protocol("reader lock poisoned".into()))?;
        f(&conn).map_err(sqlite_error)
    }
}

pub async fn pool_optional(reader: &Reader, sql: &str, args: Vec<Value>) -> sqlx::Result<Option<Row>> {
    match reader {
        Reader::Sqlite(r) => Ok(r.with(|c| sqlite_rows(c, sql, &args, 1))?.pop()),
        Reader::Any(pool) => bind_any(sqlx::query(sql), args)
            .fetch_optional(pool)
            .await?
            .as_ref()
            .map(Row::from_any)
            .transpose(),
    }
}

pub async fn pool_all(reader: &Reader, sql: &str, args: Vec<Value>) -> sqlx::Result<Vec<Row>> {
    match reader {
        Reader::Sqlite(r) => r.with(|c| sqlite_rows(c, sql, &args, usize::MAX)),
        Reader::Any(pool) => bind_any(sqlx::query(sql), args)
            .fetch_all(pool)
            .await?
            .iter()
            .map(Row::from_any)
            .collect(),
    }
}
