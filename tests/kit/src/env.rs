//! One test's world: a fresh database in a temporary directory, the admin
//! commands on it, and `kessai serve` on it.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::Value;

use crate::process::{must, one_json_line, stderr, Kessai, Running};
use crate::{card_payment_method, str_field, Api, PROCESS_TIMEOUT};

/// The origin every merchant made by [`TestEnv::merchant`] registers.
const MERCHANT_ORIGIN: &str = "http://127.0.0.1:3000";

/// A temporary directory holding the SQLite database, its master key file
/// and the logs of the processes started on it.
pub struct TestEnv {
    kessai: Kessai,
    dir: tempfile::TempDir,
    pub db_url: String,
    pub db_path: PathBuf,
    /// Passed explicitly, so that a PostgreSQL run keeps its master key in
    /// the temporary directory rather than the working directory.
    pub key_file: String,
    processes_started: AtomicU32,
}

impl TestEnv {
    pub fn new(kessai: Kessai) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db_path = dir.path().join("k.db");
        let db_url = format!("sqlite://{}", db_path.display());
        let key_file = format!("{}.key", db_path.display());
        Self {
            kessai,
            dir,
            db_url,
            db_path,
            key_file,
            processes_started: AtomicU32::new(0),
        }
    }

    /// An environment on another database (PostgreSQL).
    pub fn with_database(kessai: Kessai, db_url: String) -> Self {
        Self {
            db_url,
            ..Self::new(kessai)
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `ARGS --database <this database> --key-file <its key>`.
    fn with_db<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = args.to_vec();
        all.extend(["--database", &self.db_url, "--key-file", &self.key_file]);
        all
    }

    /// `kessai ARGS` on this database, run to completion.
    pub async fn try_run(&self, args: &[&str]) -> anyhow::Result<Output> {
        self.kessai.try_run(&self.with_db(args)).await
    }

    pub async fn run(&self, args: &[&str]) -> Output {
        must(self.try_run(args).await)
    }

    /// An admin command that must succeed: its one JSON object.
    pub async fn try_admin(&self, args: &[&str]) -> anyhow::Result<Value> {
        let out = self.try_run(args).await?;
        if !out.status.success() {
            bail!("kessai {args:?} failed: {:?}\nstderr: {}", out.status, stderr(&out));
        }
        one_json_line(&out).with_context(|| format!("kessai {args:?}"))
    }

    pub async fn admin(&self, args: &[&str]) -> Value {
        must(self.try_admin(args).await)
    }

    /// `kessai merchant create` with the origin `http://127.0.0.1:3000`.
    pub async fn try_merchant(&self, name: &str) -> anyhow::Result<Merchant> {
        let args = ["merchant", "create", "--name", name, "--origin", MERCHANT_ORIGIN];
        Merchant::from_json(&self.try_admin(&args).await?)
    }

    /// `kessai terminal register` for `merchant_id`: the terminal's key.
    /// `extra` adds options such as `["--label", "TILL-1"]`.
    pub async fn try_terminal(
        &self,
        merchant_id: &str,
        kind: &str,
        name: &str,
        extra: &[&str],
    ) -> anyhow::Result<String> {
        let args = [
            "terminal",
            "register",
            "--merchant",
            merchant_id,
            "--kind",
            kind,
            "--name",
            name,
        ];
        let registered = self.try_admin(&[&args[..], extra].concat()).await?;
        registered["terminal_key"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("no terminal_key in {registered}"))
    }

    pub async fn merchant(&self, name: &str) -> Merchant {
        must(self.try_merchant(name).await)
    }

    /// `kessai card issue`: a kessai-card holding `balance` yen.
    pub async fn try_card(&self, holder: &str, balance: i64) -> anyhow::Result<Card> {
        let balance = balance.to_string();
        let args = [
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
        ];
        Card::from_json(&self.try_admin(&args).await?)
    }

    pub async fn card(&self, holder: &str, balance: i64) -> Card {
        must(self.try_card(holder, balance).await)
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

    /// `kessai user create`: a wallet user holding `balance` yen.
    pub async fn try_user(&self, name: &str, password: &str, balance: i64) -> anyhow::Result<User> {
        let balance = balance.to_string();
        let args = [
            "user",
            "create",
            "--name",
            name,
            "--password",
            password,
            "--balance",
            &balance,
            "--currency",
            "JPY",
        ];
        User::from_json(&self.try_admin(&args).await?)
    }

    pub async fn user(&self, name: &str, password: &str, balance: i64) -> User {
        must(self.try_user(name, password, balance).await)
    }

    /// `kessai ledger check`: its exit code (0 when every invariant holds,
    /// 1 when one does not) and its report.
    pub async fn try_ledger_check(&self) -> anyhow::Result<(i32, Value)> {
        let out = self.try_run(&["ledger", "check"]).await?;
        let code = out.status.code().context("ledger check exited by a signal")?;
        Ok((code, one_json_line(&out).context("kessai ledger check")?))
    }

    pub async fn ledger_check(&self) -> (i32, Value) {
        must(self.try_ledger_check().await)
    }

    pub async fn assert_ledger_ok(&self) {
        let (code, report) = self.ledger_check().await;
        assert_eq!(code, 0, "ledger check found violations: {report}");
        assert_eq!(report["ok"], true, "{report}");
    }

    /// Starts `kessai ARGS` on this database and waits at most `within` for
    /// its ready line. Its stderr goes to `log`, or to a file of its own in
    /// this environment's directory.
    pub async fn try_start(&self, args: &[&str], log: Option<&Path>, within: Duration) -> anyhow::Result<Running> {
        let own_log;
        let log = match log {
            Some(log) => log,
            None => {
                let n = self.processes_started.fetch_add(1, Ordering::Relaxed);
                own_log = self
                    .dir()
                    .join(format!("{}-{n}.log", args.first().unwrap_or(&"kessai")));
                &own_log
            }
        };
        self.kessai.try_start(&self.with_db(args), log, within).await
    }

    /// Starts `kessai serve` on a free port and waits for its ready line.
    pub async fn start_server(&self) -> Server {
        self.start_server_with(&[]).await
    }

    /// [`Self::start_server`] with more options for `kessai serve`.
    pub async fn start_server_with(&self, options: &[&str]) -> Server {
        self.start_server_at("127.0.0.1:0", options).await
    }

    /// `kessai serve` on `listen` (a restart keeps its address, which
    /// peers have registered).
    pub async fn start_server_at(&self, listen: &str, options: &[&str]) -> Server {
        let mut args = vec!["serve", "--listen", listen];
        args.extend_from_slice(options);
        let process = must(self.try_start(&args, None, PROCESS_TIMEOUT).await);
        let url = str_field(process.ready(), "url").to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{}", process.ready());
        Server { process, url }
    }
}

/// A running `kessai serve`, killed when dropped (see [`Running`]).
pub struct Server {
    process: Running,
    pub url: String,
}

impl Server {
    pub fn api(&self) -> Api {
        Api::new(&self.url)
    }

    /// SIGKILL: a crash of the server.
    pub async fn kill(self) {
        self.process.kill().await;
    }

    /// SIGTERM, then at most `within` for the server to stop; None if it did not.
    #[cfg(unix)]
    pub async fn terminate(self, within: Duration) -> Option<ExitStatus> {
        self.process.terminate(within).await
    }
}

fn text(value: &Value, key: &str) -> anyhow::Result<String> {
    value[key]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("{key} missing or not a string in {value}"))
}

fn number(value: &Value, key: &str) -> anyhow::Result<u64> {
    value[key]
        .as_u64()
        .with_context(|| format!("{key} missing or not a number in {value}"))
}

/// What `kessai merchant create` prints.
#[derive(Debug, Clone)]
pub struct Merchant {
    pub id: String,
    pub secret_key: String,
    pub result_key: String,
    pub webhook_secret: String,
}

impl Merchant {
    pub fn from_json(value: &Value) -> anyhow::Result<Self> {
        Ok(Self {
            id: text(value, "merchant_id")?,
            secret_key: text(value, "secret_key")?,
            result_key: text(value, "result_key")?,
            webhook_secret: text(value, "webhook_secret")?,
        })
    }

    /// The ledger account the shop's JPY settlements are paid into.
    pub fn payee_account(&self) -> String {
        format!("acc_{}_jpy", self.id)
    }
}

/// What `kessai card issue` prints: a test card and its ledger account.
#[derive(Debug, Clone)]
pub struct Card {
    pub number: String,
    pub exp_month: u64,
    pub exp_year: u64,
    pub cvc: String,
    pub account_id: String,
}

impl Card {
    pub fn from_json(value: &Value) -> anyhow::Result<Self> {
        Ok(Self {
            number: text(value, "card_number")?,
            exp_month: number(value, "exp_month")?,
            exp_year: number(value, "exp_year")?,
            cvc: text(value, "cvc")?,
            account_id: text(value, "account_id")?,
        })
    }

    /// The card as the second request's `payment_method`.
    pub fn payment_method(&self) -> Value {
        card_payment_method(&self.number, self.exp_month, self.exp_year, &self.cvc)
    }
}

/// What `kessai user create` prints: a wallet user of the settling server.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub key: String,
    pub account_id: String,
}

impl User {
    pub fn from_json(value: &Value) -> anyhow::Result<Self> {
        Ok(Self {
            id: text(value, "user_id")?,
            key: text(value, "user_key")?,
            account_id: text(value, "account_id")?,
        })
    }
}
