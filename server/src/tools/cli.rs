//! The `kessai` command line (PROTOCOL section 9). Admin commands print one
//! JSON object on stdout and exit 0; errors go to stderr with exit 1.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::config::Config;
use crate::startup::Application;
use kessai_core::db::DEFAULT_DATABASE_URL;
use kessai_core::keyring::{default_key_path, Keyring};

#[derive(Debug, Parser)]
#[command(
    name = "kessai",
    version,
    about = "Kessai settling server: dual-request payment settlement with a double-entry ledger"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// sqlite://FILE (embedded, the default) or postgres://…
    #[arg(long = "database", env = "KESSAI_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database: String,
    /// The master key file (default: FILE.key beside an SQLite database, else ./kessai.key).
    #[arg(long, env = "KESSAI_KEY_FILE")]
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the settling server.
    Serve {
        #[arg(long, env = "KESSAI_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        db: DbArgs,
        /// Divide the webhook retry schedule (tests only).
        #[arg(long, hide = true, default_value_t = 1)]
        webhook_retry_divisor: u64,
        /// Lifetime of the payment authorizations this institution issues (tests only).
        #[arg(long, hide = true, default_value_t = kessai_core::authorizations::AUTHORIZATION_TTL_S)]
        authorization_ttl_s: i64,
        /// Lifetime of wallet sessions (tests only).
        #[arg(long, hide = true, default_value_t = crate::config::WALLET_SESSION_TTL_S)]
        wallet_session_ttl_s: i64,
        /// The base URL wallets and peers reach this server at (default: http://LISTEN).
        #[arg(long, env = "KESSAI_PUBLIC_URL")]
        public_url: Option<String>,
        /// Serve the checkout widget at /widget/ from this folder (scripts/build-widget.sh writes target/widget) instead of the copy built into the binary.
        #[arg(long, env = "KESSAI_WIDGET_DIR")]
        widget_dir: Option<PathBuf>,
    },
    /// Manage merchants.
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// Issue test cards.
    #[command(subcommand)]
    Card(CardCommand),
    /// Manage wallet users (accounts held at the settling server).
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect the ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Name this institution (PROTOCOL 11).
    #[command(subcommand)]
    Institution(crate::tools::network::InstitutionCommand),
    /// Pin and list the institutions this one deals with.
    #[command(subcommand)]
    Peer(crate::tools::network::PeerCommand),
    /// Drive concurrent shop+buyer pairs against a server and report throughput and latency.
    Bench(crate::tools::bench::BenchArgs),
    /// Run the settling server and the demo shop (its own origin) with a demo merchant and a test card.
    Demo {
        #[arg(long, env = "KESSAI_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[arg(long, default_value = "127.0.0.1:3000")]
        shop_listen: SocketAddr,
        #[command(flatten)]
        db: DbArgs,
        /// Serve the checkout widget at /widget/ from this folder (scripts/build-widget.sh writes target/widget) instead of the copy built into the binary.
        #[arg(long, env = "KESSAI_WIDGET_DIR")]
        widget_dir: Option<PathBuf>,
    },
    /// A bare axum JSON echo server, the benchmark's baseline.
    #[command(hide = true)]
    EchoServer {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
}

#[derive(Debug, Subcommand)]
pub enum MerchantCommand {
    /// Register a merchant; prints its keys (shown only this once).
    Create {
        #[arg(long)]
        name: String,
        /// Web origin of the shop's pages (scheme://host[:port]); repeat for several.
        #[arg(long = "origin", required = true)]
        origins: Vec<String>,
        /// Default webhook URL for result events.
        #[arg(long)]
        notify_url: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum CardCommand {
    /// Issue a test card backed by a ledger account with this available balance.
    Issue {
        #[arg(long)]
        brand: String,
        #[arg(long)]
        holder: String,
        /// Opening balance in minor units of the currency.
        #[arg(long, allow_negative_numbers = true)]
        balance: i64,
        #[arg(long)]
        currency: String,
        /// Expiry month (default: December four years from now).
        #[arg(long, requires = "exp_year")]
        exp_month: Option<u32>,
        #[arg(long, requires = "exp_month")]
        exp_year: Option<u32>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a wallet user with a funded account; prints the user key.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        password: String,
        #[arg(long, allow_negative_numbers = true)]
        balance: i64,
        #[arg(long)]
        currency: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Verify every ledger invariant; exit 1 listing violations.
    Check {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Runs a command; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve {
            listen,
            db,
            webhook_retry_divisor,
            authorization_ttl_s,
            wallet_session_ttl_s,
            public_url,
            widget_dir,
        } => {
            let mut config = Config::new(listen, db.database.clone(), db.key_file.clone());
            config.webhook_retry_divisor = webhook_retry_divisor;
            config.authorization_ttl_s = authorization_ttl_s;
            config.wallet_session_ttl_s = wallet_session_ttl_s.max(1);
            if let Some(url) = public_url {
                config.public_url = url.trim_end_matches('/').to_string();
            }
            config.widget_dir = widget_dir;
            serve(config, &db).await
        }
        Command::Merchant(command) => merchant(command).await,
        Command::Card(command) => card(command).await,
        Command::User(command) => user(command).await,
        Command::Ledger(LedgerCommand::Check { db }) => {
            let (mut conn, _) = open(&db).await?;
            let report = kessai_core::ledger::check(&mut conn).await?;
            print_json(&report)?;
            Ok(if report.ok { 0 } else { 1 })
        }
        Command::Institution(command) => crate::tools::network::institution(command).await,
        Command::Peer(command) => crate::tools::network::peer(command).await,
        Command::Bench(args) => {
            crate::tools::bench::run(args).await?;
            Ok(0)
        }
        Command::Demo {
            listen,
            shop_listen,
            db,
            widget_dir,
        } => {
            let args = crate::tools::demo::DemoArgs {
                listen,
                shop_listen,
                database: db.database,
                key_file: db.key_file,
                widget_dir,
            };
            crate::tools::demo::run(args).await?;
            Ok(0)
        }
        Command::EchoServer { listen } => {
            crate::tools::bench::echo_server(listen).await?;
            Ok(0)
        }
    }
}

async fn serve(config: Config, db: &DbArgs) -> anyhow::Result<i32> {
    let app = Application::build(config).await?;
    let addr = app.local_addr()?;
    // One line for people and scripts: the address once ready.
    print_json(&serde_json::json!({
        "listen": addr.to_string(),
        "url": format!("http://{addr}"),
        "database": kessai_core::db::redact_url(&db.database),
        "openapi": format!("http://{addr}/openapi.json"),
    }))?;
    app.run().await?;
    Ok(0)
}

async fn merchant(command: MerchantCommand) -> anyhow::Result<i32> {
    let MerchantCommand::Create {
        name,
        origins,
        notify_url,
        db,
    } = command;
    kessai_core::merchants::check_new(&name, &origins, notify_url.as_deref())?;
    let (mut conn, keyring) = open(&db).await?;
    let created = kessai_core::merchants::create(&mut conn, &keyring, &name, &origins, notify_url.as_deref()).await?;
    print_json(&created)?;
    Ok(0)
}

async fn card(command: CardCommand) -> anyhow::Result<i32> {
    let CardCommand::Issue {
        brand,
        holder,
        balance,
        currency,
        exp_month,
        exp_year,
        db,
    } = command;
    let expiry = exp_month.zip(exp_year);
    kessai_core::instruments::check_card(&brand, balance, &currency, expiry)?;
    let (mut conn, keyring) = open(&db).await?;
    let issued =
        kessai_core::instruments::issue_card(&mut conn, &keyring, &brand, &holder, balance, &currency, expiry).await?;
    print_json(&issued)?;
    Ok(0)
}

async fn user(command: UserCommand) -> anyhow::Result<i32> {
    let UserCommand::Create {
        name,
        password,
        balance,
        currency,
        db,
    } = command;
    kessai_core::instruments::check_user(&name, &password, balance, &currency)?;
    let (mut conn, keyring) = open(&db).await?;
    let created =
        kessai_core::instruments::create_user(&mut conn, &keyring, &name, &password, balance, &currency).await?;
    print_json(&created)?;
    Ok(0)
}

/// Creates the key file and the database when they do not exist yet, so
/// every command checks its input before calling this: a refused command
/// leaves nothing behind.
pub(crate) async fn open(db: &DbArgs) -> anyhow::Result<(kessai_core::store::Conn, Keyring)> {
    // An unsupported URL is refused before the key file is made.
    kessai_core::db::backend(&db.database)?;
    let key_path = db.key_file.clone().unwrap_or_else(|| default_key_path(&db.database));
    let keyring = Keyring::load_or_create(&key_path)?;
    let mut conn = kessai_core::db::connection(&db.database).await?;
    kessai_core::db::migrate(&mut conn).await?;
    Ok((conn, keyring))
}

pub(crate) fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
