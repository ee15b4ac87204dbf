//! Helpers for the tests that drive the real `kessai` binary: a fresh
//! database directory per test, the admin commands, a server process that is
//! killed when its guard drops, and the two settlement requests over HTTP.
//!
//! Every wait is bounded: a hung server fails the test instead of hanging it.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

/// How long a process may take to start, or an admin command to finish.
pub const PROCESS_TIMEOUT: Duration = Duration::from_secs(30);
/// Per HTTP request; a settlement normally answers in milliseconds.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a test waits for a group of concurrent tasks.
pub const TASKS_TIMEOUT: Duration = Duration::from_secs(90);

/// The order the shop sends and the buyer is shown (PROTOCOL section 3).
pub const ORDER_TOTAL: i64 = 1155;

pub fn order(order_id: &str) -> Value {
    json!({
        "order_id": order_id, "currency": "JPY",
        "items": [
            {"code": "XXXX", "name": "Peanut butter", "unit_price": 500, "quantity": 1},
            {"code": "YYYY", "name": "Grape jelly", "unit_price": 600, "quantity": 1}
        ],
        "tax": 55, "total": ORDER_TOTAL
    })
}

fn kessai() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kessai"));
    // The tests pass everything on the command line; a developer's
    // environment must not point them at another database.
    cmd.env_remove("KESSAI_DATABASE_URL")
        .env_remove("KESSAI_LISTEN")
        .env_remove("KESSAI_KEY_FILE")
        .env_remove("KESSAI_WIDGET_DIR")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Runs `kessai ARGS` to completion (bounded by [`PROCESS_TIMEOUT`]).
pub async fn run_kessai(args: &[&str]) -> Output {
    let child = kessai()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output();
    tokio::time::timeout(PROCESS_TIMEOUT, child)
        .await
        .unwrap_or_else(|_| panic!("kessai {args:?} did not finish within {PROCESS_TIMEOUT:?}"))
        .expect("spawning kessai")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exactly one JSON object on one line, as PROTOCOL section 9 requires.
pub fn one_json_line(out: &Output) -> Value {
    let text = stdout(out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line on stdout, got {text:?} (stderr: {})",
        stderr(out)
    );
    let value: Value = serde_json::from_str(lines[0]).expect("stdout is JSON");
    assert!(value.is_object(), "stdout is not a JSON object: {value}");
    value
}

/// A command line written as one string (no argument here contains a space).
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

pub fn str_field<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing or not a string in {value}"))
}

#[derive(Debug, Clone)]
pub struct Merchant {
    pub id: String,
    pub secret_key: String,
}

impl Merchant {
    pub fn payee_account(&self) -> String {
        format!("acc_{}_jpy", self.id)
    }
}

#[derive(Debug, Clone)]
pub struct Card {
    pub number: String,
    pub exp_month: u64,
    pub exp_year: u64,
    pub cvc: String,
    pub account_id: String,
}

impl Card {
    pub fn payment_method(&self) -> Value {
        json!({"type": "card", "card": {
            "number": self.number, "exp_month": self.exp_month, "exp_year": self.exp_year, "cvc": self.cvc
        }})
    }
}

/// One test's world: a temporary directory holding the SQLite database, its
/// master key file and the server logs.
pub struct TestEnv {
    dir: tempfile::TempDir,
    pub db_url: String,
    pub db_path: PathBuf,
    /// Passed explicitly, so that a PostgreSQL run keeps its master key in
    /// the temporary directory rather than the working directory.
    pub key_file: String,
    servers_started: AtomicU32,
}

impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db_path = dir.path().join("k.db");
        let db_url = format!("sqlite://{}", db_path.display());
        let key_file = format!("{}.key", db_path.display());
        Self {
            dir,
            db_url,
            db_path,
            key_file,
            servers_started: AtomicU32::new(0),
        }
    }

    /// An environment on another database (PostgreSQL).
    pub fn with_database(db_url: String) -> Self {
        Self { db_url, ..Self::new() }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `kessai ARGS --database <this env's database>`, run to completion.
    pub async fn run(&self, args: &[&str]) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--database", &self.db_url, "--key-file", &self.key_file]);
        run_kessai(&all).await
    }

    /// An admin command that must succeed: its one JSON object.
    pub async fn admin(&self, args: &[&str]) -> Value {
        let out = self.run(args).await;
        assert!(
            out.status.success(),
            "kessai {args:?} failed: {:?}\nstderr: {}",
            out.status,
            stderr(&out)
        );
        one_json_line(&out)
    }

    pub async fn merchant(&self, name: &str) -> Merchant {
        let v = self
            .admin(&[
                "merchant",
                "create",
                "--name",
                name,
                "--origin",
                "http://127.0.0.1:3000",
            ])
            .await;
        Merchant {
            id: str_field(&v, "merchant_id").into(),
            secret_key: str_field(&v, "secret_key").into(),
        }
    }

    pub async fn card(&self, holder: &str, balance: i64) -> Card {
        let balance = balance.to_string();
        let v = self
            .admin(&[
                "card",
                "issue",
                "--brand",
                "kessai-card",
                "--holder",
                holder,
                "--balance",
                &balance,
                "--currency",
                "JPY",
            ])
            .await;
        Card {
            number: str_field(&v, "card_number").into(),
            exp_month: v["exp_month"].as_u64().expect("exp_month"),
            exp_year: v["exp_year"].as_u64().expect("exp_year"),
            cvc: str_field(&v, "cvc").into(),
            account_id: str_field(&v, "account_id").into(),
        }
    }

    /// Issues `count` cards at once: admin commands run side by side with
    /// each other and with the server (PROTOCOL section 9).
    pub async fn cards(&self, count: usize, balance: i64) -> Vec<Card> {
        let issues = (0..count).map(|i| {
            let holder = format!("Buyer {i}");
            async move { self.card(&holder, balance).await }
        });
        futures_util::future::join_all(issues).await
    }

    /// `kessai ledger check`: its exit code and report.
    pub async fn ledger_check(&self) -> (i32, Value) {
        let out = self.run(&["ledger", "check"]).await;
        let code = out.status.code().expect("ledger check exited by a signal");
        (code, one_json_line(&out))
    }

    pub async fn assert_ledger_ok(&self) {
        let (code, report) = self.ledger_check().await;
        assert_eq!(code, 0, "ledger check found violations: {report}");
        assert_eq!(report["ok"], true, "{report}");
    }

    /// A direct connection to the database file, for reading (and, in one
    /// test, tampering with) what the server wrote.
    pub async fn sqlite(&self) -> SqlitePool {
        let options = SqliteConnectOptions::new()
            .filename(&self.db_path)
            .busy_timeout(Duration::from_secs(10));
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .expect("opening the SQLite file")
    }

    /// Starts `kessai serve` on a free port and waits for its ready line.
    pub async fn start_server(&self) -> Server {
        self.start_server_with(&[]).await
    }

    /// [`Self::start_server`] with more options for `kessai serve`.
    pub async fn start_server_with(&self, options: &[&str]) -> Server {
        let n = self.servers_started.fetch_add(1, Ordering::Relaxed);
        let log_path = self.dir().join(format!("server-{n}.log"));
        let log = std::fs::File::create(&log_path).expect("creating the server log");
        let mut child = kessai()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database",
                &self.db_url,
                "--key-file",
                &self.key_file,
            ])
            .args(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawning kessai serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(PROCESS_TIMEOUT, lines.next_line()).await;
        let line = match ready {
            Ok(Ok(Some(line))) => line,
            other => {
                let _ = child.start_kill();
                panic!(
                    "no ready line from kessai serve ({other:?}); log:\n{}",
                    read_log(&log_path)
                );
            }
        };
        let ready: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("ready line {line:?} is not JSON: {e}"));
        let url = str_field(&ready, "url").to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{ready}");
        Server {
            child,
            _stdout: lines,
            url,
            log_path,
        }
    }
}

fn read_log(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(8_000);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].to_string()
}

/// A running `kessai serve`. Dropping the guard kills the process, so a
/// failing test never leaves a server behind; a panicking test also prints
/// the end of the server's log.
pub struct Server {
    child: Child,
    _stdout: tokio::io::Lines<BufReader<ChildStdout>>,
    pub url: String,
    log_path: PathBuf,
}

impl Server {
    pub fn api(&self) -> Api {
        Api::new(&self.url)
    }

    /// SIGKILL (on unix `Child::kill` sends SIGKILL): no graceful shutdown,
    /// as in a crash or power cut of the process.
    pub async fn kill(mut self) {
        tokio::time::timeout(PROCESS_TIMEOUT, self.child.kill())
            .await
            .expect("the killed server did not exit")
            .expect("killing the server");
    }
}

impl Server {
    /// Sends SIGTERM (through `kill(1)`: the tests forbid unsafe code) and
    /// waits at most `within` for the process to exit; None if it did not.
    #[cfg(unix)]
    pub async fn terminate(mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().expect("the server is running").to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("running kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(status) => Some(status.expect("waiting for the server")),
            Err(_) => None,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            eprintln!(
                "--- end of kessai serve log ({}) ---\n{}",
                self.log_path.display(),
                read_log(&self.log_path)
            );
        }
    }
}

/// The settling server's HTTP API, as the shop and the buyer's browser call it.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    url: String,
}

/// A created settlement: what the shop hands the buyer's browser.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: String,
    pub client_secret: String,
    pub order: Value,
}

impl Api {
    pub fn new(url: &str) -> Self {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("HTTP client");
        Self {
            client,
            url: url.trim_end_matches('/').to_string(),
        }
    }

    /// The first settlement request (PROTOCOL section 4): status and body.
    pub async fn try_create(&self, merchant: &Merchant, order: &Value) -> reqwest::Result<(u16, Value)> {
        let response = self
            .client
            .post(format!("{}/v1/settlements", self.url))
            .bearer_auth(&merchant.secret_key)
            .json(&json!({"order": order}))
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    /// The first settlement request, which must be answered 201.
    pub async fn create(&self, merchant: &Merchant, order: &Value) -> Created {
        let (status, body) = self.try_create(merchant, order).await.expect("first request");
        assert_eq!(status, 201, "first request: {body}");
        assert_eq!(body["status"], "awaiting_payer", "{body}");
        Created {
            id: str_field(&body, "id").into(),
            client_secret: str_field(&body, "client_secret").into(),
            order: order.clone(),
        }
    }

    /// The second settlement request (PROTOCOL section 5): status and body.
    pub async fn try_confirm(&self, created: &Created, card: &Card) -> reqwest::Result<(u16, Value)> {
        let response = self
            .client
            .post(format!("{}/v1/payer/settlements/{}/confirm", self.url, created.id))
            .json(&json!({
                "client_secret": created.client_secret,
                "order": created.order,
                "payment_method": card.payment_method(),
            }))
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    /// The second settlement request, which must be answered 200.
    pub async fn confirm(&self, created: &Created, card: &Card) -> Value {
        let (status, body) = self.try_confirm(created, card).await.expect("second request");
        assert_eq!(status, 200, "second request: {body}");
        body
    }

    /// `GET /v1/settlements/{id}` with the merchant's key (PROTOCOL section 8).
    pub async fn retrieve(&self, merchant: &Merchant, id: &str) -> Value {
        let response = self
            .client
            .get(format!("{}/v1/settlements/{id}", self.url))
            .bearer_auth(&merchant.secret_key)
            .send()
            .await
            .expect("retrieving a settlement");
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(status, 200, "GET /v1/settlements/{id}: {body}");
        body
    }

    /// How many steps the settlement writer has run (`GET /healthz`).
    pub async fn writer_steps(&self) -> u64 {
        let response = self
            .client
            .get(format!("{}/healthz", self.url))
            .send()
            .await
            .expect("GET /healthz");
        assert_eq!(response.status().as_u16(), 200);
        let health: Value = response.json().await.expect("JSON body");
        health["writer_steps"]
            .as_u64()
            .unwrap_or_else(|| panic!("no writer_steps in {health}"))
    }
}

/// Waits for every task, bounded by [`TASKS_TIMEOUT`]; a panic in a task
/// fails the test with that task's message.
pub async fn join_all<T: Send + 'static>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let joined = tokio::time::timeout(TASKS_TIMEOUT, futures_util::future::join_all(tasks))
        .await
        .unwrap_or_else(|_| panic!("tasks did not finish within {TASKS_TIMEOUT:?}"));
    joined
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())))
        .collect()
}

pub async fn balance(db: &SqlitePool, account_id: &str) -> i64 {
    sqlx::query_scalar("SELECT balance FROM accounts WHERE id = ?")
        .bind(account_id)
        .fetch_one(db)
        .await
        .unwrap_or_else(|e| panic!("balance of {account_id}: {e}"))
}

pub async fn count(db: &SqlitePool, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The Luhn check, written out here rather than borrowed from the crate
/// under test, so the two cannot share a mistake.
pub fn luhn_valid(number: &str) -> bool {
    let digits: Option<Vec<u32>> = number.chars().map(|c| c.to_digit(10)).collect();
    let Some(digits) = digits else { return false };
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && sum % 10 == 0
}
