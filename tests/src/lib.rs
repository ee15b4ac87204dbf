//! Harness of Kessai's end-to-end browser tests (the scenarios are in
//! `tests/e2e.rs`): one `kessai demo` process (settling server and demo shop
//! on two origins, SQLite in a temporary directory), one chromedriver and one
//! headless Chromium session shared by every scenario, and bounded polling
//! helpers. Nothing here sleeps for a fixed time to let something happen:
//! every wait polls a condition until a deadline.
//!
//! Running the binary, its admin commands and the settlement API come from
//! the shared test kit (`kessai-testkit`, in tests/kit/); what is here is
//! particular to these tests: the demo's ready line and the browser.
//!
//! Needs `target/debug/kessai` (`cargo build -p kessai-server`), the built
//! widget in `target/widget` (`./scripts/build-widget.sh`), chromedriver and
//! Chromium (`/usr/bin/chromedriver`, `/usr/bin/chromium`; override with
//! `KESSAI_CHROMEDRIVER` and `KESSAI_CHROMIUM`).

use std::future::Future;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use kessai_testkit as kit;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

/// The longest any single wait may take.
pub const WAIT: Duration = Duration::from_secs(15);
/// Between two polls of a condition.
const POLL: Duration = Duration::from_millis(50);

/// Whether the end-to-end tests are switched on (`KESSAI_E2E=1`).
pub fn enabled() -> bool {
    std::env::var("KESSAI_E2E").is_ok_and(|v| v == "1")
}

/// The Cargo workspace (the parent of this crate).
pub fn workspace() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` or `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace().join(dir),
        None => workspace().join("target"),
    }
}

/// `target/debug/kessai`, which the test script builds first.
pub fn kessai_bin() -> anyhow::Result<PathBuf> {
    let bin = target_dir().join("debug").join("kessai");
    ensure!(
        bin.is_file(),
        "{} is missing: build it first with `cargo build -p kessai-server`",
        bin.display()
    );
    Ok(bin)
}

/// `target/widget`, which `scripts/build-widget.sh` writes.
pub fn widget_dir() -> anyhow::Result<PathBuf> {
    let dir = target_dir().join("widget");
    ensure!(
        dir.join("kessai-checkout.js").is_file() && dir.join("kessai_checkout_bg.wasm").is_file(),
        "the checkout widget is not built ({} has no kessai-checkout.js): run ./scripts/build-widget.sh",
        dir.display()
    );
    Ok(dir)
}

/// `tests/artifacts/`: screenshots and the demo's log.
pub fn artifacts_dir() -> anyhow::Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Polls `check` until it yields `Some`, for at most `WAIT`. The last error
/// (if the check failed rather than said "not yet") is in the timeout error.
pub async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = Instant::now() + WAIT;
    let mut last_error = None;
    loop {
        match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(error) => last_error = Some(error),
        }
        if Instant::now() >= deadline {
            let cause = last_error.map(|e| format!(" (last error: {e:#})")).unwrap_or_default();
            bail!("timed out after {} s waiting for {what}{cause}", WAIT.as_secs());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A card as the buyer types it: the demo's own card (whose ledger account
/// `kessai demo` does not print) or one from `kessai card issue`.
#[derive(Debug, Clone)]
pub struct BuyerCard {
    pub number: String,
    pub exp_month: u64,
    pub exp_year: u64,
    pub cvc: String,
    /// The card's ledger account (only from `kessai card issue`).
    pub account_id: Option<String>,
}

impl BuyerCard {
    /// The `card` of `kessai demo`'s ready line.
    fn from_demo(value: &Value) -> anyhow::Result<BuyerCard> {
        let text = |key: &str| {
            value[key]
                .as_str()
                .map(str::to_string)
                .with_context(|| format!("demo card JSON without {key}: {value}"))
        };
        let number = |key: &str| {
            value[key]
                .as_u64()
                .with_context(|| format!("demo card JSON without {key}: {value}"))
        };
        Ok(BuyerCard {
            number: text("card_number")?,
            exp_month: number("exp_month")?,
            exp_year: number("exp_year")?,
            cvc: text("cvc")?,
            account_id: None,
        })
    }

    /// The expiry as the buyer types it: `MM/YY`.
    pub fn expiry(&self) -> String {
        format!("{:02}/{:02}", self.exp_month, self.exp_year % 100)
    }
}

impl From<kit::Card> for BuyerCard {
    fn from(card: kit::Card) -> Self {
        BuyerCard {
            number: card.number,
            exp_month: card.exp_month,
            exp_year: card.exp_year,
            cvc: card.cvc,
            account_id: Some(card.account_id),
        }
    }
}

/// How long `kessai demo` may take to print its ready line: it builds the
/// server and the shop and issues a card first.
const DEMO_START: Duration = Duration::from_secs(60);

/// One institution of the demo network, as the ready line lists it: its
/// server (also a server wallet) and its wallet user.
#[derive(Debug, Clone)]
pub struct Institution {
    pub name: String,
    pub url: String,
    pub brand: String,
    pub user_id: String,
    pub password: String,
}

impl Institution {
    fn from_demo(value: &Value) -> anyhow::Result<Institution> {
        let text = |path: &[&str]| {
            path.iter()
                .fold(value, |v, key| &v[*key])
                .as_str()
                .map(str::to_string)
                .with_context(|| format!("demo institution JSON without {}: {value}", path.join(".")))
        };
        Ok(Institution {
            name: text(&["name"])?,
            url: text(&["url"])?,
            brand: text(&["brand"])?,
            user_id: text(&["user", "user_id"])?,
            password: text(&["user", "password"])?,
        })
    }
}

/// A terminal `kessai demo` registered for the demo shop, and the page
/// that drives it (its key in the fragment).
#[derive(Debug, Clone)]
pub struct DemoTerminal {
    pub terminal_id: String,
    pub terminal_key: String,
    pub url: String,
}

impl DemoTerminal {
    fn from_demo(value: &Value) -> anyhow::Result<DemoTerminal> {
        let text = |key: &str| {
            value[key]
                .as_str()
                .map(str::to_string)
                .with_context(|| format!("demo terminal JSON without {key}: {value}"))
        };
        Ok(DemoTerminal {
            terminal_id: text("terminal_id")?,
            terminal_key: text("terminal_key")?,
            url: text("url")?,
        })
    }
}

/// The demo shop's machines (the ready line's `devices`).
#[derive(Debug, Clone)]
pub struct Devices {
    pub vending: DemoTerminal,
    pub gate_entry: DemoTerminal,
    pub gate_exit: DemoTerminal,
    pub ticket_sell: DemoTerminal,
    pub ticket_check: DemoTerminal,
}

impl Devices {
    fn from_demo(value: &Value) -> anyhow::Result<Devices> {
        let device = |name: &str| DemoTerminal::from_demo(&value[name]).with_context(|| format!("devices.{name}"));
        Ok(Devices {
            vending: device("vending")?,
            gate_entry: device("gate_entry")?,
            gate_exit: device("gate_exit")?,
            ticket_sell: device("ticket_sell")?,
            ticket_check: device("ticket_check")?,
        })
    }
}

/// A running `kessai demo`: the settling server and the demo shop.
pub struct Demo {
    // Dropped (killed) before the directory holding its database.
    process: kit::Running,
    pub server_url: String,
    pub shop_url: String,
    /// The demo's funded test card, from the shop's own institution.
    pub card: BuyerCard,
    /// A funded card from each of the demo's other institutions, by name.
    pub other_cards: Vec<(String, BuyerCard)>,
    /// The web wallet's page (`{server_url}/wallet/`).
    pub wallet_url: String,
    /// Every institution, the shop's own first.
    pub institutions: Vec<Institution>,
    /// The demo shop's vending machine, gates and ticket machines.
    pub devices: Devices,
    /// The demo's database, for the admin commands.
    pub env: kit::TestEnv,
}

impl Demo {
    /// Starts `kessai demo` on free ports with a fresh database and waits
    /// for its JSON line; its log goes to `tests/artifacts/demo.log`.
    pub async fn start() -> anyhow::Result<Demo> {
        Demo::start_logging_to("demo.log").await
    }

    /// [`Demo::start`] with the log in `tests/artifacts/{log_name}`.
    pub async fn start_logging_to(log_name: &str) -> anyhow::Result<Demo> {
        let env = kit::TestEnv::new(kit::Kessai::new(kessai_bin()?));
        let widget = widget_dir()?;
        let widget = widget.to_str().context("the widget directory's path is not UTF-8")?;
        let log = artifacts_dir()?.join(log_name);
        let args = [
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--shop-listen",
            "127.0.0.1:0",
            "--widget-dir",
            widget,
        ];
        let process = env.try_start(&args, Some(&log), DEMO_START).await?;
        let ready = process.ready();
        let url = |key: &str| {
            ready[key]
                .as_str()
                .map(str::to_string)
                .with_context(|| format!("no {key} in {ready}"))
        };
        let mut other_cards = Vec::new();
        for institution in ready["institutions"].as_array().into_iter().flatten().skip(1) {
            let name = institution["name"].as_str().unwrap_or_default().to_string();
            other_cards.push((name, BuyerCard::from_demo(&institution["card"])?));
        }
        anyhow::ensure!(
            other_cards.len() == 2,
            "the demo lists {} other institutions",
            other_cards.len()
        );
        let institutions = ready["institutions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(Institution::from_demo)
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Demo {
            server_url: url("server_url")?,
            shop_url: url("shop_url")?,
            wallet_url: url("wallet_url")?,
            card: BuyerCard::from_demo(&ready["card"])?,
            other_cards,
            institutions,
            devices: Devices::from_demo(&ready["devices"])?,
            process,
            env,
        })
    }

    /// `kessai card issue`: a new test card with this balance in yen.
    pub async fn issue_card(&self, holder: &str, balance_jpy: u64) -> anyhow::Result<BuyerCard> {
        let balance = i64::try_from(balance_jpy).context("balance out of range")?;
        Ok(self.env.try_card(holder, balance).await?.into())
    }

    /// `kessai ledger check`: Ok when every ledger invariant holds.
    pub async fn ledger_check(&self) -> anyhow::Result<()> {
        let (code, report) = self.env.try_ledger_check().await?;
        ensure!(code == 0, "kessai ledger check failed (exit code {code}):\n{report}");
        Ok(())
    }

    /// `kessai ledger check` on every institution's database (the demo
    /// keeps each beside the first: `k.db`, `k-sakura.db`, …); the files
    /// checked. Fails on the first ledger that does not check.
    pub async fn ledger_check_all(&self) -> anyhow::Result<Vec<String>> {
        let kessai = kit::Kessai::new(kessai_bin()?);
        let mut databases: Vec<PathBuf> = std::fs::read_dir(self.env.dir())?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "db"))
            .collect();
        databases.sort();
        let mut checked = Vec::new();
        for db in databases {
            let url = format!("sqlite://{}", db.display());
            let key = format!("{}.key", db.display());
            let out = kessai
                .try_run(&["ledger", "check", "--database", &url, "--key-file", &key])
                .await?;
            let name = db.file_name().unwrap_or_default().to_string_lossy().to_string();
            ensure!(
                out.status.success(),
                "kessai ledger check of {name} failed: {}{}",
                kit::stdout(&out),
                kit::stderr(&out)
            );
            checked.push(name);
        }
        Ok(checked)
    }

    /// The settling server's API.
    pub fn api(&self) -> kit::Api {
        kit::Api::new(&self.server_url)
    }

    /// A read-only connection to the demo's SQLite database.
    pub fn db(&self) -> anyhow::Result<rusqlite::Connection> {
        Ok(rusqlite::Connection::open_with_flags(
            &self.env.db_path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?)
    }

    /// Whether the demo process is still running.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn program(env: &str, default: &str, install: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from);
    ensure!(
        path.is_file(),
        "{} is missing ({install}; or set {env})",
        path.display()
    );
    Ok(path)
}

/// One chromedriver and one headless Chromium session.
pub struct Browser {
    pub client: Client,
    driver: Child,
    /// chromedriver's process group (Chromium runs in it too).
    driver_group: Option<u32>,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> anyhow::Result<Browser> {
        Browser::start_with_args(Vec::new()).await
    }

    /// A browser with the unpacked extension in `dir` loaded, and no other,
    /// started with `extra_args` too.
    pub async fn start_with_extension(dir: &Path, extra_args: &[&str]) -> anyhow::Result<Browser> {
        let dir = dir.display();
        let mut args = vec![
            format!("--disable-extensions-except={dir}"),
            format!("--load-extension={dir}"),
        ];
        args.extend(extra_args.iter().map(|arg| arg.to_string()));
        Browser::start_with_args(args).await
    }

    /// A browser started with `extra_args` besides the usual headless ones.
    pub async fn start_with_args(extra_args: Vec<String>) -> anyhow::Result<Browser> {
        let driver_bin = program(
            "KESSAI_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            "apt-get install chromium-driver",
        )?;
        let chromium = program("KESSAI_CHROMIUM", "/usr/bin/chromium", "apt-get install chromium")?;
        let profile = tempfile::tempdir()?;
        let port = free_port()?;
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", driver_bin.display()))?;
        let driver_group = driver.id();
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        wait_for("chromedriver to listen", || async move {
            Ok(TcpStream::connect_timeout(&address, Duration::from_millis(200))
                .ok()
                .map(drop))
        })
        .await?;
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1000,1000",
            "--lang=en-US",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.extend(extra_args);
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), json!({ "binary": chromium, "args": args }));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://{address}"))
            .await
            .context("starting a Chromium session through chromedriver")?;
        Ok(Browser {
            client,
            driver,
            driver_group,
            _profile: profile,
        })
    }

    /// Ends the session (Chromium quits) and chromedriver.
    pub async fn close(mut self) {
        if let Err(error) = self.client.clone().close().await {
            eprintln!("closing the browser session: {error}");
        }
        let _ = self.driver.kill().await;
        self.driver_group = None;
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.client.goto(url).await.with_context(|| format!("opening {url}"))
    }

    pub async fn url(&self) -> anyhow::Result<String> {
        Ok(self.client.current_url().await?.to_string())
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        self.client
            .execute(script, args)
            .await
            .context("running a script in the page")
    }

    /// Polls `script` until it returns something other than null, undefined,
    /// false or "" (scripts failing while a page loads count as "not yet").
    pub async fn wait_js(&self, what: &str, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        wait_for(what, || {
            let args = args.clone();
            async move {
                let value = self.js(script, args).await?;
                let truthy =
                    !matches!(&value, Value::Null | Value::Bool(false)) && value.as_str().is_none_or(|s| !s.is_empty());
                Ok(truthy.then_some(value))
            }
        })
        .await
    }

    /// Waits until the page's text contains `text`.
    pub async fn wait_text(&self, text: &str) -> anyhow::Result<()> {
        self.wait_js(
            &format!("{text:?} in the page"),
            "return document.body && document.body.innerText.includes(arguments[0]);",
            vec![serde_json::json!(text)],
        )
        .await?;
        Ok(())
    }

    /// Waits for an enabled button whose text is exactly `name`, and clicks it.
    pub async fn click_button(&self, name: &str) -> anyhow::Result<()> {
        let script = "return [...document.querySelectorAll('button')].some(b => \
                      b.textContent.trim() === arguments[0] && !b.disabled && (b.click(), true))";
        self.wait_js(&format!("a button {name:?}"), script, vec![serde_json::json!(name)])
            .await?;
        Ok(())
    }

    pub async fn find(&self, css: &str) -> anyhow::Result<Element> {
        self.client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("no element {css:?} in the page"))
    }

    /// An element inside the shadow root of the page's `<kessai-checkout>`.
    pub async fn widget(&self, css: &str) -> anyhow::Result<Element> {
        let host = self.find("kessai-checkout").await?;
        let root = host
            .shadow_root()
            .await
            .context("<kessai-checkout> has no shadow root")?;
        root.find(Locator::Css(css))
            .await
            .with_context(|| format!("no {css:?} in the widget"))
    }

    /// Waits until the widget shows its card form; returns the widget's text.
    pub async fn wait_for_card_form(&self) -> anyhow::Result<String> {
        let text = self
            .wait_js(
                "the widget's card form",
                "const root = document.querySelector('kessai-checkout')?.shadowRoot;\
                 return root?.querySelector('#kc-number') && root.querySelector('button[type=submit]')\
                   ? root.querySelector('.k').innerText : null;",
                vec![],
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().to_string())
    }

    /// Waits until the widget shows a result heading; returns its text.
    pub async fn wait_for_result_heading(&self) -> anyhow::Result<String> {
        let text = self
            .wait_js(
                "a result heading in the widget",
                "return document.querySelector('kessai-checkout')?.shadowRoot\
                   ?.querySelector('[part=result] h2')?.textContent;",
                vec![],
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().to_string())
    }

    /// The widget's visible text.
    pub async fn widget_text(&self) -> anyhow::Result<String> {
        let text = self
            .js(
                "return document.querySelector('kessai-checkout')?.shadowRoot?.querySelector('.k')?.innerText ?? '';",
                vec![],
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().to_string())
    }

    /// Types the card into the widget's form (WebDriver element send keys,
    /// so that input events fire as when a person types).
    pub async fn type_card(&self, card: &BuyerCard) -> anyhow::Result<()> {
        self.widget("#kc-number").await?.send_keys(&card.number).await?;
        self.widget("#kc-expiry").await?.send_keys(&card.expiry()).await?;
        self.widget("#kc-cvc").await?.send_keys(&card.cvc).await?;
        Ok(())
    }

    /// The focused element, looking into shadow roots: its id, or its tag
    /// and text when it has no id.
    pub async fn focused(&self) -> anyhow::Result<String> {
        let value = self
            .js(
                "let a = document.activeElement;\
                 while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;\
                 if (!a || a === document.body) return 'body';\
                 return a.id ? '#' + a.id : a.tagName.toLowerCase() + ':' + a.textContent.trim();",
                vec![],
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// Waits until the focus is on an element whose description
    /// ([`Browser::focused`]) starts with `expected`.
    pub async fn expect_focus(&self, expected: &str) -> anyhow::Result<()> {
        let seen = std::cell::RefCell::new(String::new());
        let waited = wait_for(&format!("the focus on {expected}"), || async {
            let focused = self.focused().await?;
            let found = focused.starts_with(expected);
            *seen.borrow_mut() = focused;
            Ok(found.then_some(()))
        })
        .await;
        waited.with_context(|| format!("the focus is on {}", seen.borrow()))
    }

    /// Presses keys on the keyboard (WebDriver actions: the keys go to
    /// whatever has the focus, as when a person types). `Shift` is held
    /// for the key after it.
    pub async fn keys(&self, keys: &[char]) -> anyhow::Result<()> {
        let shift: char = fantoccini::key::Key::Shift.into();
        let mut actions = KeyActions::new("keyboard".into());
        let mut shifted = false;
        for &key in keys {
            if key == shift {
                actions = actions.then(KeyAction::Down { value: shift });
                shifted = true;
                continue;
            }
            actions = actions
                .then(KeyAction::Down { value: key })
                .then(KeyAction::Up { value: key });
            if shifted {
                actions = actions.then(KeyAction::Up { value: shift });
                shifted = false;
            }
        }
        self.client.perform_actions(actions).await?;
        self.client.release_actions().await?;
        Ok(())
    }

    /// Types text on the keyboard into whatever has the focus.
    pub async fn type_text(&self, text: &str) -> anyhow::Result<()> {
        self.keys(&text.chars().collect::<Vec<_>>()).await
    }

    /// `chrome-extension://{id}/` of the loaded extension, read from its
    /// service worker's DevTools target (an unpacked extension's id derives
    /// from its path).
    pub async fn extension_base_url(&self) -> anyhow::Result<String> {
        wait_for("the extension's service worker", || async {
            let targets = self.cdp("Target.getTargets", serde_json::json!({})).await?;
            let worker = targets["targetInfos"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|target| target["url"].as_str())
                .find(|url| url.starts_with("chrome-extension://") && url.ends_with("/service-worker.js"));
            Ok(worker.map(|url| url.trim_end_matches("service-worker.js").to_string()))
        })
        .await
    }

    /// Runs `script` (an async function body) in the current window; its
    /// value, or the error it threw.
    pub async fn run_async(&self, script: &str) -> anyhow::Result<Value> {
        let wrapped = format!(
            "const done = arguments[arguments.length - 1];\
             (async () => {{ {script} }})().then((value) => done({{ value }}), (e) => done({{ error: String(e) }}));"
        );
        let answer = self.client.execute_async(&wrapped, vec![]).await?;
        match answer.get("error") {
            Some(error) => bail!("the script failed: {error}"),
            None => Ok(answer["value"].clone()),
        }
    }

    /// Runs a Chrome DevTools Protocol command through chromedriver's
    /// `goog/cdp/execute`, for what WebDriver does not show: chromedriver
    /// lists no window an extension opens with `chrome.windows.create`.
    pub async fn cdp(&self, cmd: &str, params: Value) -> anyhow::Result<Value> {
        let command = CdpCommand {
            cmd: cmd.to_string(),
            params,
        };
        self.client
            .issue_cmd(command)
            .await
            .with_context(|| format!("the DevTools command {cmd}"))
    }

    /// Saves a screenshot of the viewport as `tests/artifacts/{name}.png`.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let path = artifacts_dir()?.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Reads the one QR code `img_css` shows, as a phone's camera would:
    /// off a screenshot (saved as `{name}.png`), by a real decoder. Fails
    /// unless exactly one code is on screen and it says what the image's
    /// `payload` parameter says (the server drew that payload).
    pub async fn read_qr_on_screen(&self, name: &str, img_css: &str) -> anyhow::Result<String> {
        let shown = self
            .js(
                "return new URL(document.querySelector(arguments[0]).src).searchParams.get('payload')",
                vec![Value::String(img_css.to_string())],
            )
            .await?;
        let png = std::fs::read(self.screenshot(name).await?)?;
        let codes = kessai_testkit::decode_qr_png(&png)?;
        anyhow::ensure!(
            codes.len() == 1 && shown == codes[0].as_str(),
            "QR codes read: {codes:?}, shown: {shown}"
        );
        Ok(codes[0].clone())
    }
}

/// chromedriver's `POST /session/{id}/goog/cdp/execute`.
#[derive(Debug)]
struct CdpCommand {
    cmd: String,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for CdpCommand {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

impl Drop for Browser {
    /// After a failure without [`Browser::close`]: ends chromedriver's whole
    /// process group, so that no Chromium outlives the test.
    fn drop(&mut self) {
        if let Some(group) = self.driver_group.take() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{group}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}
