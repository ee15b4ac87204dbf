//! `kessai bench`: the load generator behind `docs/BENCHMARKS.md`.
//!
//! One run measures three things on one machine so that they can be compared
//! honestly:
//!
//! - the disk's single-commit rate (one-row transactions, WAL,
//!   `synchronous=FULL`): a server that committed once per settlement could
//!   never go faster than this;
//! - a bare axum JSON echo at the same concurrency: the ceiling the HTTP stack
//!   and this client allow on this machine, with no work behind it;
//! - the real settlement flow, each task a shop and a buyer with its own card:
//!   the shop's first request, then the buyer's second request.
//!
//! By default the run is self-contained and reproducible: a scratch directory,
//! a fresh server child on port 0, a merchant and cards made through the admin
//! CLI. It only ever talks to loopback addresses, and every loop ends at its
//! deadline or its count bound.

use std::future::Future;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

/// Terminal and phone pairs (`--instore`).
mod instore;

/// The goal from the issue: batching must beat the disk's commit rate by this much.
const TARGET_RATIO_MIN: f64 = 5.0;
/// The goal from the issue: the buyer waits at most this long at p99.
const TARGET_SECOND_P99_MS_MAX: f64 = 20.0;

/// Large enough that no buyer runs out of money during any allowed run.
const BUYER_BALANCE: &str = "1000000000000";
/// Card issuing is an admin subprocess each (~50 ms); a few at a time keeps
/// setup short without crowding the server's single SQLite writer.
const CARD_ISSUE_PARALLEL: usize = 4;
/// A broken server would otherwise be hammered with failing requests for the
/// whole duration; past this many errors a task stops.
const ERRORS_PER_TASK_MAX: u64 = 100;
/// Enough failing responses to diagnose, few enough to read.
const ERROR_SAMPLES_MAX: usize = 5;
/// Response bodies in error samples are cut here.
const ERROR_BODY_CHARS_MAX: usize = 300;
/// The echo request body size; about the size of a settlement request.
const ECHO_BODY_BYTES: usize = 300;
/// A bound on the disk probe besides its deadline (a RAM disk commits fast).
const DISK_PROBE_COMMITS_MAX: u64 = 50_000_000;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const ADMIN_TIMEOUT: Duration = Duration::from_secs(60);
/// Migrations run before the server prints its listen line.
/// The credit each bench institution gives the other: more than any run
/// can spend (¥1,000,000,000,000).
const PEER_CREDIT_LIMIT: &str = "1000000000000";
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const HEALTH_POLL_INTERVAL: Duration = Duration::from_millis(50);
/// A child that prints this many lines without its listen line is not one of ours.
const READY_LINES_MAX: usize = 1_000;
const CHILD_EXIT_TIMEOUT: Duration = Duration::from_secs(5);
const LOG_TAIL_LINES: usize = 20;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Concurrent shop+buyer pairs (one task and one card each); also the
    /// concurrency of the echo baseline.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// Measured seconds of load, for the echo baseline and for settlements.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub duration_s: u64,
    /// Seconds of load before measuring starts, so that connection setup and
    /// cold caches are not measured; errors during warm-up still count.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=60))]
    pub warmup_s: u64,
    /// Seconds of one-row commits for the disk's single-commit rate, measured
    /// before and after the load.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub disk_probe_s: u64,
    /// Use this already-running server (a loopback URL) instead of starting one.
    #[arg(long, requires = "database", value_parser = loopback_url)]
    pub server: Option<reqwest::Url>,
    /// The database of `--server`, for the admin commands that create the
    /// merchant and the cards.
    #[arg(long, requires = "server")]
    pub database: Option<String>,
    /// More servers on the same database (loopback URLs, repeatable): buyer
    /// `i` sends its requests to server `i` modulo their number, as a load
    /// balancer would, to measure several servers on one PostgreSQL.
    #[arg(long, requires = "server", value_parser = loopback_url)]
    pub also_server: Vec<reqwest::Url>,
    /// Where to create the scratch directory (server database, disk probe).
    /// Put it on the disk you mean to measure. Default: beside the
    /// `--database` SQLite file if given, else the system temp directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Print only the one-line JSON report on stdout, and no progress on stderr.
    #[arg(long)]
    pub json: bool,
    /// Pay with cards of a second institution (PROTOCOL 11): start an issuer
    /// beside the server, pin each as the other's peer, and issue the cards
    /// there, so every settlement is authorized across institutions.
    #[arg(long, conflicts_with = "server")]
    pub across: bool,
    /// In-store sales instead of online settlements (PROTOCOL 13): each
    /// concurrent pair is a POS terminal and a phone; the first latency is
    /// the terminal opening a transaction, the second the time from the
    /// phone's confirmation to the terminal's completion notice.
    #[arg(long, conflicts_with = "across")]
    pub instore: bool,
}

/// Only loopback targets: a load generator pointed elsewhere by mistake is a
/// denial of service.
fn loopback_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text).map_err(|e| e.to_string())?;
    let host = url.host_str().unwrap_or_default();
    let loopback =
        host == "localhost" || host == "[::1]" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback || !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text} is not an http URL on a loopback address"));
    }
    Ok(url)
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let scratch = Scratch::create(&scratch_parent(&args))?;
    let result = run_in(&args, &scratch).await;
    if result.is_err() {
        scratch.print_log_tails();
    }
    result
}

fn scratch_parent(args: &BenchArgs) -> PathBuf {
    if let Some(dir) = &args.dir {
        return dir.clone();
    }
    // The disk probe must run on the disk the server's database lives on.
    let beside_db = args
        .database
        .as_deref()
        .and_then(kessai_core::db::sqlite_path)
        .and_then(|file| Path::new(&file).parent().map(Path::to_path_buf))
        .filter(|dir| !dir.as_os_str().is_empty());
    beside_db.unwrap_or_else(std::env::temp_dir)
}

async fn run_in(args: &BenchArgs, scratch: &Scratch) -> anyhow::Result<()> {
    // Other work on the machine skews every number below; the report says so.
    let load_1m_at_start = load_average_1m();
    let exe = std::env::current_exe().context("locating the kessai executable")?;
    let concurrency = usize::from(args.concurrency);
    let client = http_client(concurrency)?;
    let plan = LoadPlan {
        concurrency,
        warmup: Duration::from_secs(args.warmup_s),
        duration: Duration::from_secs(args.duration_s),
    };

    let probe_span = Duration::from_secs(args.disk_probe_s);
    note(args, "measuring the disk's single-commit rate");
    let disk_before = disk_probe(&scratch.dir, "before", probe_span).await?;
    note(
        args,
        &format!("{:.0} commits/s; driving the bare axum echo", disk_before.per_s()),
    );
    let echo = echo_load(&exe, &client, &plan, scratch).await?;
    note(
        args,
        &format!("{:.0} echo requests/s; preparing the server", echo.per_s()),
    );

    let server = Server::start_or_attach(args, &exe, &client, scratch).await?;
    let issuer = match args.across {
        true => Some(Server::start_issuer(&exe, &client, scratch, &server).await?),
        false => None,
    };
    let cards_at = issuer.as_ref().unwrap_or(&server).database.clone();
    let settle = settlement_load(&exe, &client, &plan, &server, &cards_at, args).await?;
    let healthz = fetch_healthz(&client, &server.base).await;
    note(args, "checking the ledger");
    let mut ledger_check = ledger_check(&exe, &server.database).await;
    if let Some(issuer) = issuer {
        if ledger_check.is_ok() {
            ledger_check = ledger_check_of(&exe, &issuer.database).await;
        }
        issuer.stop().await;
    }
    server.stop().await;
    note(args, "measuring the disk's single-commit rate again");
    let disk_after = disk_probe(&scratch.dir, "after", probe_span).await?;

    let disk = [disk_before, disk_after];
    let report = Report {
        args,
        scratch_dir: &scratch.dir,
        load_1m_at_start,
        disk,
        echo,
        settle,
        healthz,
        ledger_check,
    };
    report.print(args.json)?;
    report.verdict()
}

fn note(args: &BenchArgs, message: &str) {
    if !args.json {
        eprintln!("bench: {message}");
    }
}

/// One client for the echo and the settlements, so both baselines pay the
/// same client costs. HTTP/1.1 keep-alive with a connection per task.
fn http_client(concurrency: usize) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(concurrency.saturating_mul(2))
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("building the HTTP client")
}

// ---------------------------------------------------------------------------
// Scratch directory and child processes

/// A directory of our own, removed at the end whatever happens.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn create(parent: &Path) -> anyhow::Result<Self> {
        let name = format!("kessai-bench-{}-{:016x}", std::process::id(), rand::random::<u64>());
        let dir = parent.join(name);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self { dir })
    }

    fn log_file(&self, name: &str) -> anyhow::Result<Stdio> {
        let path = self.dir.join(name);
        let file = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Stdio::from(file))
    }

    /// The children's stderr is the only trace of why they failed, and the
    /// directory holding it is about to go.
    fn print_log_tails(&self) {
        for name in ["server.log", "echo.log"] {
            let Ok(text) = std::fs::read_to_string(self.dir.join(name)) else {
                continue;
            };
            let lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                continue;
            }
            eprintln!("bench: last lines of {name}:");
            for line in &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..] {
                eprintln!("  {line}");
            }
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Nothing useful to do if removal fails; the name says what it was.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts `kessai <args>`, which prints `{"listen": "ADDR", …}` on stdout once
/// bound, and returns the child with that address. The child dies with us:
/// `kill_on_drop` on every early return, and its stdin closes when we exit.
async fn spawn_listening(exe: &Path, args: &[&str], stderr: Stdio) -> anyhow::Result<(Child, SocketAddr)> {
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting `kessai {}`", args.join(" ")))?;
    let stdout = child.stdout.take().context("the child's stdout was not captured")?;
    let mut lines = BufReader::new(stdout).lines();
    let listen = tokio::time::timeout(READY_TIMEOUT, read_listen_line(&mut lines))
        .await
        .with_context(|| format!("`kessai {}` did not print its listen line in time", args.join(" ")))?
        .with_context(|| format!("reading the listen line of `kessai {}`", args.join(" ")))?;
    // Keep reading so that a chatty child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, listen))
}

async fn read_listen_line(lines: &mut tokio::io::Lines<BufReader<ChildStdout>>) -> anyhow::Result<SocketAddr> {
    for _ in 0..READY_LINES_MAX {
        let Some(line) = lines.next_line().await? else {
            bail!("the child exited before printing its listen line");
        };
        let Ok(value) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let Some(listen) = value.get("listen").and_then(Value::as_str) else {
            continue;
        };
        let addr: SocketAddr = listen
            .parse()
            .with_context(|| format!("parsing listen address {listen:?}"))?;
        if !addr.ip().is_loopback() {
            bail!("the child listens on {addr}, not on loopback");
        }
        return Ok(addr);
    }
    bail!("no listen line in the child's first {READY_LINES_MAX} lines")
}

async fn stop_child(mut child: Child) {
    // Killing is the point; a child that already exited is fine too.
    let _ = child.start_kill();
    let _ = tokio::time::timeout(CHILD_EXIT_TIMEOUT, child.wait()).await;
}

/// Runs one admin command (section 9 of the protocol) and returns the JSON
/// object it prints.
async fn admin(exe: &Path, database: &str, args: &[&str]) -> anyhow::Result<Value> {
    let stdout = admin_stdout(exe, database, args).await?;
    serde_json::from_str(stdout.trim())
        .with_context(|| format!("`kessai {}` printed no JSON object: {stdout:?}", args.join(" ")))
}

/// An admin command's stdout, or an error with everything it said when it
/// did not exit 0.
async fn admin_stdout(exe: &Path, database: &str, args: &[&str]) -> anyhow::Result<String> {
    let label = args.iter().take(2).copied().collect::<Vec<_>>().join(" ");
    let output = Command::new(exe)
        .args(args)
        .args(["--database", database])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(ADMIN_TIMEOUT, output)
        .await
        .with_context(|| format!("`kessai {label}` timed out"))?
        .with_context(|| format!("running `kessai {label}`"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "`kessai {label}` failed ({}): {} {}",
            output.status,
            stdout.trim(),
            stderr.trim()
        );
    }
    Ok(stdout)
}

fn str_field<'a>(value: &'a Value, name: &str) -> anyhow::Result<&'a str> {
    value
        .get(name)
        .and_then(Value::as_str)
        .with_context(|| format!("no string {name:?} in {value}"))
}

fn present_field(value: &Value, name: &str) -> anyhow::Result<Value> {
    value
        .get(name)
        .filter(|v| !v.is_null())
        .cloned()
        .with_context(|| format!("no {name:?} in {value}"))
}

// ---------------------------------------------------------------------------
// The server under test

struct Server {
    base: String,
    database: String,
    /// `None` when attached to a server someone else runs.
    child: Option<Child>,
}

impl Server {
    async fn start_or_attach(
        args: &BenchArgs,
        exe: &Path,
        client: &reqwest::Client,
        scratch: &Scratch,
    ) -> anyhow::Result<Self> {
        let server = match (&args.server, &args.database) {
            (Some(url), Some(database)) => Self {
                base: url.as_str().trim_end_matches('/').to_string(),
                database: database.clone(),
                child: None,
            },
            _ => Self::start(exe, scratch).await?,
        };
        wait_healthy(client, &server.base).await?;
        Ok(server)
    }

    async fn start(exe: &Path, scratch: &Scratch) -> anyhow::Result<Self> {
        Self::start_named(exe, scratch, "bench").await
    }

    async fn start_named(exe: &Path, scratch: &Scratch, name: &str) -> anyhow::Result<Self> {
        let db_path = scratch.dir.join(format!("{name}.db"));
        let db_path = db_path.to_str().context("the scratch path is not UTF-8")?;
        let database = format!("sqlite://{db_path}");
        let args = ["serve", "--listen", "127.0.0.1:0", "--database", &database];
        let (child, listen) = spawn_listening(exe, &args, scratch.log_file(&format!("{name}.log"))?).await?;
        Ok(Self {
            base: format!("http://{listen}"),
            database,
            child: Some(child),
        })
    }

    /// A second institution that issues the buyers' cards, peered with
    /// `acquirer` both ways with credit enough for any run.
    async fn start_issuer(
        exe: &Path,
        client: &reqwest::Client,
        scratch: &Scratch,
        acquirer: &Server,
    ) -> anyhow::Result<Self> {
        let issuer = Self::start_named(exe, scratch, "issuer").await?;
        wait_healthy(client, &issuer.base).await?;
        let sides = [(acquirer, "411111"), (&issuer, "422222")];
        let mut thumbprints = Vec::with_capacity(2);
        for (side, prefix) in sides {
            let set = ["institution", "set", "--card-prefix", prefix];
            thumbprints.push(str_field(&admin(exe, &side.database, &set).await?, "thumbprint")?.to_string());
        }
        for (i, (side, _)) in sides.iter().enumerate() {
            let other = sides[1 - i].0;
            let add = [
                "peer",
                "add",
                "--url",
                &other.base,
                "--thumbprint",
                &thumbprints[1 - i],
                "--credit-limit",
                PEER_CREDIT_LIMIT,
                "--currency",
                "JPY",
            ];
            admin(exe, &side.database, &add).await?;
        }
        Ok(issuer)
    }

    async fn stop(self) {
        if let Some(child) = self.child {
            stop_child(child).await;
        }
    }
}

async fn wait_healthy(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let url = format!("{base}/healthz");
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(response) = client.get(&url).send().await {
            if response.status() == reqwest::StatusCode::OK {
                return Ok(());
            }
        }
        tokio::time::sleep(HEALTH_POLL_INTERVAL).await;
    }
    bail!("GET {url} did not answer 200 within {READY_TIMEOUT:?}")
}

/// The server's own view (it may report writer batch statistics); optional.
async fn fetch_healthz(client: &reqwest::Client, base: &str) -> Option<Value> {
    let response = client.get(format!("{base}/healthz")).send().await.ok()?;
    response.json::<Value>().await.ok()
}

/// `Ok(())` when every ledger invariant holds after the load: speed that
/// loses money would be no result.
async fn ledger_check_of(exe: &Path, database: &str) -> anyhow::Result<()> {
    ledger_check(exe, database)
        .await
        .with_context(|| format!("the issuer's ledger ({database})"))
}

async fn ledger_check(exe: &Path, database: &str) -> anyhow::Result<()> {
    admin_stdout(exe, database, &["ledger", "check"]).await.map(drop)
}

// ---------------------------------------------------------------------------
// Disk single-commit rate

struct DiskProbe {
    commits: u64,
    elapsed: Duration,
}

impl DiskProbe {
    fn per_s(&self) -> f64 {
        rate(self.commits, self.elapsed)
    }
}

/// One-row INSERTs, each its own transaction, with the durability settings the
/// server uses: the rate a commit-per-settlement design could reach at best.
/// It runs before and after the load because a shared disk's rate wanders
/// from one second to the next; the report compares against the faster run,
/// which is the stricter reading of the target.
async fn disk_probe(dir: &Path, name: &str, span: Duration) -> anyhow::Result<DiskProbe> {
    let path = dir.join(format!("disk-probe-{name}.db"));
    let mut conn = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    sqlx::query("CREATE TABLE probe (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .execute(&mut conn)
        .await
        .context("creating the probe table")?;
    let body = "x".repeat(200);
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed() < span && commits < DISK_PROBE_COMMITS_MAX {
        sqlx::query("INSERT INTO probe (body) VALUES (?)")
            .bind(&body)
            .execute(&mut conn)
            .await
            .context("inserting into the probe table")?;
        commits += 1;
    }
    let elapsed = started.elapsed();
    conn.close().await.context("closing the probe database")?;
    Ok(DiskProbe { commits, elapsed })
}

// ---------------------------------------------------------------------------
// The load driver, shared by the echo baseline and the settlements

#[derive(Clone, Copy)]
struct LoadPlan {
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
}

/// What one iteration of a task does.
#[derive(Clone)]
enum Work {
    Echo { url: Arc<str>, body: Arc<Value> },
    Settle(Arc<Buyer>),
    Sell(Arc<instore::Pair>),
}

/// A shop and its buyer: the merchant's key and the buyer's own card.
struct Buyer {
    base: String,
    secret_key: String,
    card: Value,
    /// Makes order ids unique across runs on the same database.
    run_tag: String,
}

enum Outcome {
    Succeeded,
    NotSucceeded(String),
    Failed(String),
}

struct Iteration {
    first_us: Option<u64>,
    second_us: Option<u64>,
    outcome: Outcome,
}

impl Iteration {
    fn failed(first_us: Option<u64>, message: String) -> Self {
        Self {
            first_us,
            second_us: None,
            outcome: Outcome::Failed(message),
        }
    }
}

#[derive(Default)]
struct Tally {
    first_us: Vec<u64>,
    second_us: Vec<u64>,
    succeeded: u64,
    not_succeeded: u64,
    errors: u64,
    samples: Vec<String>,
    /// From the end of warm-up until the last task stopped.
    measured: Duration,
}

impl Tally {
    fn record(&mut self, iteration: Iteration, measured: bool) {
        let sample = match iteration.outcome {
            Outcome::Succeeded if measured => {
                self.succeeded += 1;
                None
            }
            Outcome::Succeeded => None,
            Outcome::NotSucceeded(status) => {
                self.not_succeeded += 1;
                Some(status)
            }
            Outcome::Failed(message) => {
                self.errors += 1;
                Some(message)
            }
        };
        if let Some(sample) = sample {
            self.add_sample(sample);
        }
        if measured {
            self.first_us.extend(iteration.first_us);
            self.second_us.extend(iteration.second_us);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.first_us.extend(other.first_us);
        self.second_us.extend(other.second_us);
        self.succeeded += other.succeeded;
        self.not_succeeded += other.not_succeeded;
        self.errors += other.errors;
        for sample in other.samples {
            self.add_sample(sample);
        }
    }

    /// Keeps the first few distinct failures: one broken endpoint repeats itself.
    fn add_sample(&mut self, sample: String) {
        if self.samples.len() < ERROR_SAMPLES_MAX && !self.samples.contains(&sample) {
            self.samples.push(sample);
        }
    }

    fn per_s(&self) -> f64 {
        rate(self.succeeded, self.measured)
    }
}

/// Runs one task per `Work` until warm-up plus duration have passed. Only
/// iterations that start after the warm-up count; the rate divides by the time
/// until the last task stopped, so in-flight work at the end is not free.
async fn drive(client: &reqwest::Client, works: Vec<Work>, plan: &LoadPlan) -> anyhow::Result<Tally> {
    let measure_from = Instant::now() + plan.warmup;
    let end = measure_from + plan.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for (task, work) in works.into_iter().enumerate() {
        let client = client.clone();
        tasks.spawn(async move {
            let mut tally = Tally::default();
            let mut n = 0u64;
            while Instant::now() < end && tally.errors < ERRORS_PER_TASK_MAX {
                let began = Instant::now();
                let iteration = work.once(&client, task, n).await;
                tally.record(iteration, began >= measure_from);
                n += 1;
            }
            tally
        });
    }
    let mut total = Tally::default();
    while let Some(joined) = tasks.join_next().await {
        total.merge(joined.context("a load task panicked")?);
    }
    total.measured = Instant::now().saturating_duration_since(measure_from);
    Ok(total)
}

impl Work {
    async fn once(&self, client: &reqwest::Client, task: usize, n: u64) -> Iteration {
        match self {
            Work::Echo { url, body } => echo_once(client, url, body).await,
            Work::Settle(buyer) => settle_once(client, buyer, task, n).await,
            Work::Sell(pair) => instore::sell_once(client, pair).await,
        }
    }
}

async fn timed<T>(request: impl Future<Output = T>) -> (T, u64) {
    let started = Instant::now();
    let result = request.await;
    (result, micros(started.elapsed()))
}

/// Reads a JSON body, turning an unexpected status into a diagnosable message.
async fn expect_json(response: reqwest::Result<reqwest::Response>, status: u16) -> Result<Value, String> {
    let response = response.map_err(|e| format!("transport: {e}"))?;
    let got = response.status().as_u16();
    let text = response.text().await.map_err(|e| format!("reading the body: {e}"))?;
    if got != status {
        let cut: String = text.chars().take(ERROR_BODY_CHARS_MAX).collect();
        return Err(format!("HTTP {got} (expected {status}): {cut}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("HTTP {got} with a body that is not JSON ({e})"))
}

// ---------------------------------------------------------------------------
// Echo baseline

async fn echo_load(exe: &Path, client: &reqwest::Client, plan: &LoadPlan, scratch: &Scratch) -> anyhow::Result<Tally> {
    let args = ["echo-server", "--listen", "127.0.0.1:0"];
    let (child, listen) = spawn_listening(exe, &args, scratch.log_file("echo.log")?).await?;
    let work = Work::Echo {
        url: format!("http://{listen}/echo").into(),
        body: Arc::new(echo_body()),
    };
    let tally = drive(client, vec![work; plan.concurrency], plan).await;
    stop_child(child).await;
    tally
}

/// An order padded to about the size of a real second request.
fn echo_body() -> Value {
    let mut body = json!({"order": order_json("echo-0"), "pad": ""});
    let len = body.to_string().len();
    body["pad"] = Value::String(".".repeat(ECHO_BODY_BYTES.saturating_sub(len)));
    body
}

async fn echo_once(client: &reqwest::Client, url: &str, body: &Value) -> Iteration {
    let (answer, first_us) = timed(async { expect_json(client.post(url).json(body).send().await, 200).await }).await;
    match answer {
        Ok(echoed) if echoed == *body => Iteration {
            first_us: Some(first_us),
            second_us: None,
            outcome: Outcome::Succeeded,
        },
        Ok(_) => Iteration::failed(None, "echo: the body came back different".to_string()),
        Err(message) => Iteration::failed(None, format!("echo: {message}")),
    }
}

// ---------------------------------------------------------------------------
// Settlements

async fn settlement_load(
    exe: &Path,
    client: &reqwest::Client,
    plan: &LoadPlan,
    server: &Server,
    cards_at: &str,
    args: &BenchArgs,
) -> anyhow::Result<Tally> {
    note(args, &format!("creating a merchant and {} cards", plan.concurrency));
    let mut bases = vec![server.base.clone()];
    bases.extend(
        args.also_server
            .iter()
            .map(|u| u.as_str().trim_end_matches('/').to_string()),
    );
    if args.instore {
        note(args, &format!("registering {} terminals and phones", plan.concurrency));
        let pairs = instore::make_pairs(exe, &server.database, &server.base, plan.concurrency).await?;
        note(args, &format!("driving in-store sales against {}", server.base));
        return drive(client, pairs.into_iter().map(Work::Sell).collect(), plan).await;
    }
    let buyers = make_buyers(exe, server, &bases, cards_at, plan.concurrency).await?;
    note(args, &format!("driving settlements against {}", server.base));
    drive(client, buyers.into_iter().map(Work::Settle).collect(), plan).await
}

/// A merchant at `server` and `count` buyers with cards issued by the
/// institution whose database is `cards_at` (the server's own, or a peer's).
async fn make_buyers(
    exe: &Path,
    server: &Server,
    bases: &[String],
    cards_at: &str,
    count: usize,
) -> anyhow::Result<Vec<Arc<Buyer>>> {
    let db = server.database.as_str();
    let merchant_args = ["merchant", "create", "--name", "bench", "--origin", "http://127.0.0.1"];
    let merchant = admin(exe, db, &merchant_args).await?;
    let secret_key = str_field(&merchant, "secret_key")?.to_string();
    let run_tag = format!("{:08x}", rand::random::<u32>());
    let cards: Vec<Value> = futures_util::stream::iter(0..count)
        .map(|i| issue_card(exe, cards_at, i))
        .buffered(CARD_ISSUE_PARALLEL)
        .try_collect()
        .await?;
    let buyers = cards.into_iter().enumerate().map(|(i, card)| {
        let base = bases
            .get(i % bases.len().max(1))
            .cloned()
            .unwrap_or_else(|| server.base.clone());
        let (secret_key, run_tag) = (secret_key.clone(), run_tag.clone());
        Arc::new(Buyer {
            base,
            secret_key,
            card,
            run_tag,
        })
    });
    Ok(buyers.collect())
}

/// Issues buyer `i`'s card and returns it as the `card` of a payment method.
async fn issue_card(exe: &Path, database: &str, i: usize) -> anyhow::Result<Value> {
    let holder = format!("buyer-{i}");
    let args = ["card", "issue", "--brand", "kessai-card", "--holder", &holder];
    let money = ["--balance", BUYER_BALANCE, "--currency", "JPY"];
    let issued = admin(exe, database, &[&args[..], &money[..]].concat()).await?;
    Ok(json!({
        "number": str_field(&issued, "card_number")?,
        "exp_month": present_field(&issued, "exp_month")?,
        "exp_year": present_field(&issued, "exp_year")?,
        "cvc": str_field(&issued, "cvc")?,
    }))
}

fn order_json(order_id: &str) -> Value {
    json!({
        "order_id": order_id,
        "currency": "JPY",
        "items": [
            {"code": "X1", "name": "Peanut butter", "unit_price": 500, "quantity": 1},
            {"code": "Y2", "name": "Grape jelly", "unit_price": 600, "quantity": 1}
        ],
        "tax": 55,
        "total": 1155
    })
}

/// The shop's first request, then the buyer's second request (protocol
/// sections 4 and 5), each timed until its body has been read.
async fn settle_once(client: &reqwest::Client, buyer: &Buyer, task: usize, n: u64) -> Iteration {
    let order = order_json(&format!("b-{task}-{n}-{}", buyer.run_tag));
    let first = client
        .post(format!("{}/v1/settlements", buyer.base))
        .bearer_auth(&buyer.secret_key)
        .json(&json!({"order": order}));
    let (created, first_us) = timed(async { expect_json(first.send().await, 201).await }).await;
    let created = match created {
        Ok(created) => created,
        Err(message) => return Iteration::failed(None, format!("POST /v1/settlements: {message}")),
    };
    let (Some(id), Some(client_secret)) = (
        created.get("id").and_then(Value::as_str),
        created.get("client_secret").and_then(Value::as_str),
    ) else {
        return Iteration::failed(
            Some(first_us),
            format!("POST /v1/settlements: no id or client_secret in {created}"),
        );
    };
    let second = client
        .post(format!("{}/v1/payer/settlements/{id}/confirm", buyer.base))
        .json(&json!({
            "client_secret": client_secret,
            "order": order,
            "payment_method": {"type": "card", "card": buyer.card},
        }));
    let (confirmed, second_us) = timed(async { expect_json(second.send().await, 200).await }).await;
    let outcome = match confirmed {
        Ok(body) if body.get("status").and_then(Value::as_str) == Some("succeeded") => Outcome::Succeeded,
        Ok(body) => Outcome::NotSucceeded(format!(
            "confirm {id}: status {} decline_code {}",
            body["status"], body["decline_code"]
        )),
        Err(message) => Outcome::Failed(format!("POST /v1/payer/settlements/{id}/confirm: {message}")),
    };
    // A failed answer's latency is not a latency of the flow being measured.
    let second_us = (!matches!(outcome, Outcome::Failed(_))).then_some(second_us);
    Iteration {
        first_us: Some(first_us),
        second_us,
        outcome,
    }
}

// ---------------------------------------------------------------------------
// Report

struct Report<'a> {
    args: &'a BenchArgs,
    scratch_dir: &'a Path,
    load_1m_at_start: Option<f64>,
    /// Before and after the load.
    disk: [DiskProbe; 2],
    echo: Tally,
    settle: Tally,
    healthz: Option<Value>,
    ledger_check: anyhow::Result<()>,
}

impl Report<'_> {
    fn disk_per_s(&self) -> f64 {
        self.disk.iter().map(DiskProbe::per_s).fold(0.0, f64::max)
    }

    fn ratio(&self) -> f64 {
        let disk = self.disk_per_s();
        if disk > 0.0 {
            self.settle.per_s() / disk
        } else {
            0.0
        }
    }

    fn target_met(&self) -> (bool, bool) {
        let ratio_met = self.ratio() >= TARGET_RATIO_MIN;
        let p99_met = percentile_ms(&self.settle.second_us, 99).is_some_and(|p99| p99 <= TARGET_SECOND_P99_MS_MAX);
        (ratio_met, p99_met)
    }

    fn to_json(&self) -> Value {
        let (s, e) = (&self.settle, &self.echo);
        let (ratio_met, p99_met) = self.target_met();
        json!({
            "machine": machine(self.scratch_dir, self.load_1m_at_start),
            "concurrency": self.args.concurrency,
            "duration_s": self.args.duration_s,
            "warmup_s": self.args.warmup_s,
            "measured_s": round(s.measured.as_secs_f64(), 3),
            "settlements": s.succeeded,
            "settlements_per_s": round(s.per_s(), 1),
            "first_request_p50_ms": percentile_ms(&s.first_us, 50),
            "first_request_p99_ms": percentile_ms(&s.first_us, 99),
            "second_request_p50_ms": percentile_ms(&s.second_us, 50),
            "second_request_p99_ms": percentile_ms(&s.second_us, 99),
            "errors": s.errors,
            "not_succeeded": s.not_succeeded,
            "error_samples": s.samples,
            "disk_single_commit_per_s": round(self.disk_per_s(), 1),
            "disk_single_commit_per_s_before": round(self.disk[0].per_s(), 1),
            "disk_single_commit_per_s_after": round(self.disk[1].per_s(), 1),
            "ratio_settlements_to_disk_commits": round(self.ratio(), 2),
            "echo_requests_per_s": round(e.per_s(), 1),
            "echo_p50_ms": percentile_ms(&e.first_us, 50),
            "echo_p99_ms": percentile_ms(&e.first_us, 99),
            "echo_errors": e.errors,
            "echo_error_samples": e.samples,
            "target": {
                "ratio_min": TARGET_RATIO_MIN, "second_request_p99_ms_max": TARGET_SECOND_P99_MS_MAX,
                "ratio_met": ratio_met, "second_request_p99_met": p99_met, "met": ratio_met && p99_met,
            },
            "server": self.args.server.as_ref().map_or("self-started".to_string(), |u| u.to_string()),
            "across_institutions": self.args.across,
            "flow": if self.args.instore { "instore" } else { "online" },
            "server_healthz": self.healthz,
            "ledger_check": self.ledger_check.as_ref().map_or_else(|e| format!("{e:#}"), |()| "ok".to_string()),
        })
    }

    fn print(&self, json_only: bool) -> anyhow::Result<()> {
        let report = self.to_json();
        if !json_only {
            print_human(&report);
        }
        println!("{}", serde_json::to_string(&report).context("serializing the report")?);
        Ok(())
    }

    /// The run fails when anything failed: a benchmark over errors is no benchmark.
    fn verdict(&self) -> anyhow::Result<()> {
        let (s, e) = (&self.settle, &self.echo);
        if s.errors > 0 || s.not_succeeded > 0 || e.errors > 0 {
            bail!(
                "{} settlement errors, {} not succeeded, {} echo errors; first: {}",
                s.errors,
                s.not_succeeded,
                e.errors,
                s.samples.iter().chain(&e.samples).next().map_or("-", String::as_str)
            );
        }
        if s.succeeded == 0 {
            bail!("no settlement completed in the measured window");
        }
        if let Err(e) = &self.ledger_check {
            bail!("ledger invariants after the load: {e:#}");
        }
        Ok(())
    }
}

fn print_human(r: &Value) {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let ms = |key: &str| r[key].as_f64().map_or("-".to_string(), |v| format!("{v:.2} ms"));
    let met = |key: &str| {
        if r["target"][key].as_bool() == Some(true) {
            "met"
        } else {
            "NOT met"
        }
    };
    let m = &r["machine"];
    println!(
        "Kessai bench: {} concurrent buyers, {} s measured after {} s warm-up",
        r["concurrency"], r["duration_s"], r["warmup_s"]
    );
    println!(
        "  machine       {} x {}, Linux {}, scratch on {}, load {} at start",
        m["nproc"],
        text(&m["cpu_model"]),
        text(&m["kernel"]),
        text(&m["scratch_fs"]),
        m["load_1m_at_start"]
    );
    println!(
        "  disk          {} single commits/s (WAL, synchronous=FULL; best of {} before and {} after the load)",
        r["disk_single_commit_per_s"], r["disk_single_commit_per_s_before"], r["disk_single_commit_per_s_after"]
    );
    println!(
        "  axum echo     {} requests/s, p50 {}, p99 {}, errors {}",
        r["echo_requests_per_s"],
        ms("echo_p50_ms"),
        ms("echo_p99_ms"),
        r["echo_errors"]
    );
    let instore = r["flow"] == "instore";
    let (what, first, second) = match instore {
        true => ("in-store sales", "terminal opens a sale", "confirm → completion notice"),
        false => ("settlements", "first  request (shop) ", "second request (buyer)"),
    };
    println!(
        "  {what:<13} {} in {} s = {}/s; errors {}, not succeeded {}",
        r["settlements"], r["measured_s"], r["settlements_per_s"], r["errors"], r["not_succeeded"]
    );
    println!(
        "    {first}  p50 {}, p99 {}",
        ms("first_request_p50_ms"),
        ms("first_request_p99_ms")
    );
    println!(
        "    {second}  p50 {}, p99 {}",
        ms("second_request_p50_ms"),
        ms("second_request_p99_ms")
    );
    println!(
        "  target        settlements/s / disk commits/s = {} (>= {}: {})",
        r["ratio_settlements_to_disk_commits"],
        TARGET_RATIO_MIN,
        met("ratio_met")
    );
    println!(
        "                second request p99 {} (<= {TARGET_SECOND_P99_MS_MAX} ms: {})",
        ms("second_request_p99_ms"),
        met("second_request_p99_met")
    );
    println!("  ledger check  {}", text(&r["ledger_check"]));
    println!(
        "  server        {}, healthz {}",
        text(&r["server"]),
        r["server_healthz"]
    );
    for sample in r["error_samples"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(r["echo_error_samples"].as_array().into_iter().flatten())
    {
        println!("  error         {}", text(sample));
    }
}

// ---------------------------------------------------------------------------
// Numbers and the machine

/// `v[len * p / 100]` of the sorted samples, in milliseconds.
fn percentile_ms(samples_us: &[u64], p: usize) -> Option<f64> {
    let mut sorted = samples_us.to_vec();
    sorted.sort_unstable();
    let us = *sorted.get(sorted.len() * p / 100)?;
    Some(round(us as f64 / 1000.0, 3))
}

fn rate(count: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

fn micros(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

fn machine(scratch_dir: &Path, load_1m_at_start: Option<f64>) -> Value {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let cpu_model = read("/proc/cpuinfo").and_then(|text| {
        let line = text.lines().find(|l| l.starts_with("model name"))?;
        Some(line.split_once(':')?.1.trim().to_string())
    });
    json!({
        "nproc": std::thread::available_parallelism().map(|n| n.get()).ok(),
        "kernel": read("/proc/sys/kernel/osrelease").map(|k| k.trim().to_string()),
        "cpu_model": cpu_model,
        "scratch_fs": fs_type(scratch_dir),
        "load_1m_at_start": load_1m_at_start,
    })
}

fn load_average_1m() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// The file system type under `dir`: a tmpfs commit costs no fsync, which
/// would make the disk ratio meaningless, so it must show in the report.
fn fs_type(dir: &Path) -> Option<String> {
    let dir = dir.canonicalize().ok()?;
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    let best = mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_, mount_point, fs_type) = (fields.next()?, fields.next()?, fields.next()?);
            dir.starts_with(mount_point)
                .then(|| (mount_point.len(), fs_type.to_string()))
        })
        .max_by_key(|(len, _)| *len)?;
    Some(best.1)
}

// ---------------------------------------------------------------------------
// The echo server

/// Hidden subcommand `kessai echo-server --listen ADDR`: a bare axum server
/// answering POST /echo with the JSON body it got; prints one line
/// `{"listen":"127.0.0.1:PORT"}` on stdout when bound (so a parent can read
/// the port when given port 0). It exits when its stdin closes, so that it
/// never outlives the bench that started it.
pub async fn echo_server(listen: SocketAddr) -> anyhow::Result<()> {
    if !listen.ip().is_loopback() {
        bail!("the echo server is a benchmark baseline and listens on loopback only, not {listen}");
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let bound = listener.local_addr().context("reading the bound address")?;
    println!("{}", json!({"listen": bound.to_string()}));
    let app = axum::Router::new().route("/echo", axum::routing::post(echo));
    axum::serve(listener, app)
        .with_graceful_shutdown(stdin_closed())
        .await
        .context("serving /echo")
}

async fn echo(axum::Json(body): axum::Json<Value>) -> axum::Json<Value> {
    axum::Json(body)
}

/// Resolves once stdin reaches end of file (the parent is gone).
fn stdin_closed() -> impl Future<Output = ()> {
    let (closed, on_closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 256];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut buffer), Ok(n) if n > 0) {}
        // The receiver is gone only if the server already stopped.
        let _ = closed.send(());
    });
    async move {
        let _ = on_closed.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_index_the_sorted_samples_and_skip_empty_ones() {
        let samples: Vec<u64> = (1..=100).rev().map(|ms| ms * 1000).collect();
        assert_eq!(percentile_ms(&samples, 50), Some(51.0));
        assert_eq!(percentile_ms(&samples, 99), Some(100.0));
        assert_eq!(percentile_ms(&[7_000], 99), Some(7.0));
        assert_eq!(percentile_ms(&[], 50), None);
    }

    #[test]
    fn only_loopback_servers_are_accepted() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1/",
            "http://[::1]:8080",
            "http://127.1.2.3",
        ] {
            assert!(loopback_url(ok).is_ok(), "{ok}");
        }
        for refused in [
            "http://10.0.0.1:8080",
            "http://example.com",
            "ftp://127.0.0.1",
            "http://127.0.0.1.nip.io",
        ] {
            assert!(loopback_url(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn echo_body_is_about_the_size_of_a_settlement_request() {
        assert_eq!(echo_body().to_string().len(), ECHO_BODY_BYTES);
    }

    #[test]
    fn error_samples_are_distinct_and_bounded() {
        let mut tally = Tally::default();
        for i in 0..20 {
            tally.record(Iteration::failed(None, format!("error {}", i % 7)), true);
        }
        assert_eq!(tally.errors, 20);
        assert_eq!(tally.samples.len(), ERROR_SAMPLES_MAX);
        assert_eq!(tally.samples[1], "error 1");
    }

    #[test]
    fn warm_up_successes_are_not_counted_but_its_errors_are() {
        let mut tally = Tally::default();
        let ok = || Iteration {
            first_us: Some(5),
            second_us: Some(6),
            outcome: Outcome::Succeeded,
        };
        tally.record(ok(), false);
        tally.record(Iteration::failed(None, "boom".to_string()), false);
        tally.record(ok(), true);
        assert_eq!((tally.succeeded, tally.errors), (1, 1));
        assert_eq!((tally.first_us.len(), tally.second_us.len()), (1, 1));
    }
}
