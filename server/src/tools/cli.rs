//! The `kessai` command line (PROTOCOL section 9). Admin commands print one
//! JSON object on stdout and exit 0; errors go to stderr with exit 1.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;
use crate::startup::Application;
use crate::tools::admin::{open, print_json, DbArgs};

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the settling server.
    Serve(ServeArgs),
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
    /// Register and revoke billing terminals (POS, vending machines, gates).
    #[command(subcommand)]
    Terminal(crate::tools::terminals::TerminalCommand),
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
        /// Serve the web wallet at /wallet/ from this folder (scripts/build-wallet.sh writes target/wallet) instead of the copy built into the binary.
        #[arg(long, env = "KESSAI_WALLET_DIR")]
        wallet_dir: Option<PathBuf>,
    },
    /// A bare axum JSON echo server, the benchmark's baseline.
    #[command(hide = true)]
    EchoServer {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, env = "KESSAI_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub db: DbArgs,
    /// Divide the webhook retry schedule (tests only).
    #[arg(long, hide = true, default_value_t = 1)]
    pub webhook_retry_divisor: u64,
    /// Lifetime of the payment authorizations this institution issues (tests only).
    #[arg(long, hide = true, default_value_t = kessai_core::authorizations::AUTHORIZATION_TTL_S)]
    pub authorization_ttl_s: i64,
    /// Lifetime of wallet sessions (tests only).
    #[arg(long, hide = true, default_value_t = crate::config::WALLET_SESSION_TTL_S)]
    pub wallet_session_ttl_s: i64,
    /// Seconds a payer-first attempt that ended without the shop (declined, mismatched, expired) is kept before it is deleted.
    #[arg(long, default_value_t = kessai_core::sweeper::ENDED_ATTEMPTS_KEEP_S)]
    pub payer_first_retention_s: i64,
    /// The base URL wallets and peers reach this server at (default: http://LISTEN, or https:// with --tls-cert).
    #[arg(long, env = "KESSAI_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Serve the checkout widget at /widget/ from this folder (scripts/build-widget.sh writes target/widget) instead of the copy built into the binary.
    #[arg(long, env = "KESSAI_WIDGET_DIR")]
    pub widget_dir: Option<PathBuf>,
    /// Serve the web wallet at /wallet/ from this folder (scripts/build-wallet.sh writes target/wallet) instead of the copy built into the binary.
    #[arg(long, env = "KESSAI_WALLET_DIR")]
    pub wallet_dir: Option<PathBuf>,
    /// Serve the POS terminal at /pos/ from this folder (scripts/build-pos.sh writes target/pos) instead of the copy built into the binary.
    #[arg(long, env = "KESSAI_POS_DIR")]
    pub pos_dir: Option<PathBuf>,
    /// Serve the device pages at /devices/ from this folder (static/devices) instead of the copy built into the binary.
    #[arg(long, env = "KESSAI_DEVICES_DIR")]
    pub devices_dir: Option<PathBuf>,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// Which webhook targets the operator allows beyond public https hosts.
#[derive(Debug, Clone, Args)]
pub struct WebhookArgs {
    /// Accept and call notify URLs over plain http:// (default: https only).
    #[arg(long, env = "KESSAI_ALLOW_HTTP_WEBHOOKS")]
    pub allow_http_webhooks: bool,
    /// Accept and call notify URLs on loopback, private (RFC 1918, fc00::/7), link-local, carrier-grade NAT and other non-public addresses (default: refused, against SSRF). For a shop on this machine or LAN.
    #[arg(long, env = "KESSAI_ALLOW_PRIVATE_WEBHOOKS")]
    pub allow_private_webhooks: bool,
}

impl WebhookArgs {
    pub fn policy(&self) -> kessai_core::webhook_targets::WebhookPolicy {
        kessai_core::webhook_targets::WebhookPolicy {
            allow_http: self.allow_http_webhooks,
            allow_private: self.allow_private_webhooks,
        }
    }
}

/// TLS and the bounds on clients.
#[derive(Debug, Clone, Args)]
pub struct NetworkArgs {
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "KESSAI_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM, PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, env = "KESSAI_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require a client certificate signed by this CA (PEM) on merchant (/v1/settlements, /v1/events) and peer (/v1/peer/) endpoints; browser endpoints stay open. Needs --tls-cert.
    #[arg(long, env = "KESSAI_CLIENT_CA", requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
    /// Open connections at most; beyond, 503 server_busy.
    #[arg(long, env = "KESSAI_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Long-polls (?wait=) waiting at once at most; beyond, 503 server_busy.
    #[arg(long, default_value_t = 1024)]
    pub max_long_polls: usize,
    /// Event streams open at once at most; beyond, 503 server_busy.
    #[arg(long, default_value_t = 1024)]
    pub max_event_streams: usize,
    /// Seconds a client has to send a request's headers, and then its body.
    #[arg(long, default_value_t = 10)]
    pub request_read_timeout_s: u64,
    /// Declined payments and failed wallet logins one source address (IPv6: one /64) may make per minute; beyond, 429 rate_limited. 0 turns the limit off (behind a reverse proxy every client has the proxy's address).
    #[arg(long, env = "KESSAI_SOURCE_FAILURES_PER_MINUTE", default_value_t = kessai_core::throttle::SOURCE_FAILURES_PER_MINUTE)]
    pub source_failures_per_minute: u32,
}

impl ServeArgs {
    /// The server's configuration from its flags.
    pub fn config(&self) -> Config {
        let mut config = Config::new(self.listen, self.db.database.clone(), self.db.key_file.clone());
        config.webhook_retry_divisor = self.webhook_retry_divisor;
        config.authorization_ttl_s = self.authorization_ttl_s;
        config.wallet_session_ttl_s = self.wallet_session_ttl_s.max(1);
        config.ended_attempts_keep_s = self.payer_first_retention_s.max(0);
        config.widget_dir = self.widget_dir.clone();
        config.wallet_dir = self.wallet_dir.clone();
        config.pos_dir = self.pos_dir.clone();
        config.devices_dir = self.devices_dir.clone();
        config.webhook_policy = self.webhooks.policy();
        let net = &self.network;
        let read_timeout = std::time::Duration::from_secs(net.request_read_timeout_s.max(1));
        config.limits = crate::config::Limits {
            connections_max: net.max_connections.max(1),
            long_polls_max: net.max_long_polls,
            event_streams_max: net.max_event_streams,
            header_read_timeout: read_timeout,
            body_read_timeout: read_timeout,
            source_failures_per_minute: net.source_failures_per_minute,
            ..Default::default()
        };
        if let (Some(cert), Some(key)) = (&net.tls_cert, &net.tls_key) {
            config.tls = Some(crate::config::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: net.client_ca.clone(),
            });
            if config.public_url == format!("http://{}", self.listen) {
                config.public_url = format!("https://{}", self.listen);
            }
        }
        if let Some(url) = &self.public_url {
            config.public_url = url.trim_end_matches('/').to_string();
        }
        config
    }
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
        /// Default webhook URL for result events: https, on a public address, unless allowed below.
        #[arg(long)]
        notify_url: Option<String>,
        /// Bind the merchant to its TLS client certificate: the SHA-256 of its DER encoding, hex (colons allowed). With `serve --client-ca`, its secret key is then refused (401) with any other certificate or none.
        #[arg(long)]
        client_cert_sha256: Option<String>,
        /// The name the QR code of its terminals shows (1 to 25 printable ASCII; default: the name if it fits, else "Kessai merchant").
        #[arg(long)]
        qr_name: Option<String>,
        /// City for the QR code (default Tokyo).
        #[arg(long)]
        city: Option<String>,
        /// ISO 3166 country code for the QR code (default JP).
        #[arg(long)]
        country: Option<String>,
        /// Merchant category code for the QR code (default 5999).
        #[arg(long)]
        mcc: Option<String>,
        #[command(flatten)]
        webhooks: WebhookArgs,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set the merchant's gate fee table in one currency (C6): an exit costs
    /// base + per-minute for every started minute (at least one), at most max.
    Fees {
        /// The merchant (mch_…).
        #[arg(long)]
        merchant: String,
        #[arg(long)]
        currency: String,
        /// Minor units charged on every exit.
        #[arg(long, allow_negative_numbers = true)]
        base: i64,
        /// Minor units per started minute since entry.
        #[arg(long, allow_negative_numbers = true)]
        per_minute: i64,
        /// The most an exit costs, in minor units.
        #[arg(long, allow_negative_numbers = true)]
        max: i64,
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
        /// The holder's birth date YYYY-MM-DD, for age-restricted purchases; never leaves the institution.
        #[arg(long)]
        birth_date: Option<String>,
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
        /// A PIN of 4 to 8 digits a billing terminal may ask for (stored hashed).
        #[arg(long)]
        pin: Option<String>,
        /// A PNG, JPEG or WebP portrait (at most 256 KB) the clerk sees while this user pays.
        #[arg(long)]
        portrait: Option<PathBuf>,
        /// Birth date YYYY-MM-DD, for age-restricted articles; never leaves the institution.
        #[arg(long)]
        birth_date: Option<String>,
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
        Command::Serve(args) => serve(args.config(), &args.db).await,
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
        Command::Terminal(command) => crate::tools::terminals::run(command).await,
        Command::Bench(args) => {
            crate::tools::bench::run(args).await?;
            Ok(0)
        }
        Command::Demo {
            listen,
            shop_listen,
            db,
            widget_dir,
            wallet_dir,
        } => {
            let args = crate::tools::demo::DemoArgs {
                listen,
                shop_listen,
                database: db.database,
                key_file: db.key_file,
                widget_dir,
                wallet_dir,
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
    let scheme = if app.state().config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    print_json(&serde_json::json!({
        "listen": addr.to_string(),
        "url": format!("{scheme}://{addr}"),
        "database": kessai_core::db::redact_url(&db.database),
        "openapi": format!("{scheme}://{addr}/openapi.json"),
    }))?;
    app.run().await?;
    Ok(0)
}

async fn merchant(command: MerchantCommand) -> anyhow::Result<i32> {
    match command {
        MerchantCommand::Fees {
            merchant,
            currency,
            base,
            per_minute,
            max,
            db,
        } => gate_fees(&merchant, &currency, (base, per_minute, max), &db).await,
        create => create_merchant(create).await,
    }
}

async fn create_merchant(command: MerchantCommand) -> anyhow::Result<i32> {
    let MerchantCommand::Create {
        name,
        origins,
        notify_url,
        client_cert_sha256,
        qr_name,
        city,
        country,
        mcc,
        webhooks,
        db,
    } = command
    else {
        anyhow::bail!("not a merchant to create");
    };
    let qr = kessai_core::terminals::qr::QrSettings {
        name: qr_name,
        city,
        country,
        mcc,
    };
    qr.check().map_err(anyhow::Error::msg)?;
    let new = kessai_core::merchants::NewMerchant {
        name: &name,
        origins: &origins,
        notify_url: notify_url.as_deref(),
        client_cert_sha256: client_cert_sha256.as_deref(),
        webhook_policy: webhooks.policy(),
    };
    kessai_core::merchants::check_new(&new)?;
    let (mut conn, keyring) = open(&db).await?;
    let created = kessai_core::merchants::create(&mut conn, &keyring, &new).await?;
    kessai_core::terminals::qr::set_profile(&mut conn, &created.merchant_id, &qr).await?;
    print_json(&created)?;
    Ok(0)
}

/// `kessai merchant fees`: checked before the database is opened.
async fn gate_fees(
    merchant: &str,
    currency: &str,
    (base, per_minute, max): (i64, i64, i64),
    db: &DbArgs,
) -> anyhow::Result<i32> {
    use kessai_core::terminals::gates;
    anyhow::ensure!(
        kessai_protocol::ids::is_id(kessai_protocol::ids::MERCHANT, merchant),
        "--merchant must be a merchant id (mch_…)"
    );
    let fees = gates::check_fees(merchant, currency, base, per_minute, max).map_err(anyhow::Error::msg)?;
    let (mut conn, _) = open(db).await?;
    gates::set_fees(&mut conn, &fees, kessai_core::clock::now()).await?;
    print_json(&fees)?;
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
        birth_date,
        db,
    } = command;
    let expiry = exp_month.zip(exp_year);
    kessai_core::instruments::check_card(&brand, balance, &currency, expiry)?;
    if let Some(date) = &birth_date {
        kessai_core::terminals::payers::check_birth_date(date).map_err(anyhow::Error::msg)?;
    }
    let (mut conn, keyring) = open(&db).await?;
    let issued =
        kessai_core::instruments::issue_card(&mut conn, &keyring, &brand, &holder, balance, &currency, expiry).await?;
    if let Some(date) = &birth_date {
        kessai_core::terminals::payers::set_card_birth_date(&mut conn, &issued.account_id, date).await?;
    }
    print_json(&issued)?;
    Ok(0)
}

async fn user(command: UserCommand) -> anyhow::Result<i32> {
    let UserCommand::Create {
        name,
        password,
        balance,
        currency,
        pin,
        portrait,
        birth_date,
        db,
    } = command;
    kessai_core::instruments::check_user(&name, &password, balance, &currency)?;
    let portrait = portrait
        .map(|path| std::fs::read(&path).map_err(|e| anyhow::anyhow!("--portrait {}: {e}", path.display())))
        .transpose()?;
    let profile = kessai_core::terminals::payers::Profile {
        pin,
        portrait,
        birth_date,
    };
    kessai_core::terminals::payers::check_profile(&profile).map_err(anyhow::Error::msg)?;
    let (mut conn, keyring) = open(&db).await?;
    let created =
        kessai_core::instruments::create_user(&mut conn, &keyring, &name, &password, balance, &currency).await?;
    kessai_core::terminals::payers::set_profile(&mut conn, &created.user_id, &profile).await?;
    print_json(&created)?;
    Ok(0)
}
