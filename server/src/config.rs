//! What a server is started with: where it listens, its database and key
//! file, where the browser apps come from, and the workers' timings.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use kessai_core::webhook_targets::WebhookPolicy;

/// A wallet session lasts a day: long enough not to log in at every
/// purchase, short enough that a forgotten browser does not pay for weeks.
pub const WALLET_SESSION_TTL_S: i64 = 24 * 3600;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub key_file: PathBuf,
    /// How often the webhook worker looks for due deliveries when not woken.
    pub webhook_poll: Duration,
    /// Divides the published retry schedule: 1 in production; tests shorten
    /// the waits to exercise retries in seconds instead of minutes.
    pub webhook_retry_divisor: u64,
    /// How often expired settlements are swept; old rows are cleaned up
    /// every 60 sweeps.
    pub sweep_interval: Duration,
    /// How long a payer-first attempt that ended without the shop
    /// (declined, mismatched, expired) is kept before it is deleted.
    pub ended_attempts_keep_s: i64,
    /// How long after issuing a payment authorization the issuer first asks
    /// the acquirer what became of it, and how often the worker looks.
    pub authorization_first_check_s: i64,
    /// How long the payment authorizations this institution issues live.
    pub authorization_ttl_s: i64,
    pub authorization_poll: Duration,
    /// The base URL wallets and peers reach this server at, as it appears in
    /// start messages (`server`); `http://{listen}` unless told otherwise.
    pub public_url: String,
    /// How long a wallet session lasts.
    pub wallet_session_ttl_s: i64,
    /// How often wallets should ask for brand info again (B5).
    pub wallet_refresh_after_s: u64,
    /// Serve the checkout widget from this folder instead of the copy
    /// embedded in the binary (`--widget-dir`).
    pub widget_dir: Option<PathBuf>,
    /// Serve the web wallet from this folder instead of the embedded copy
    /// (`--wallet-dir`).
    pub wallet_dir: Option<PathBuf>,
    /// Serve the POS terminal from this folder instead of the embedded copy
    /// (`--pos-dir`).
    pub pos_dir: Option<PathBuf>,
    /// Serve the device pages from this folder instead of the embedded
    /// copy (`--devices-dir`), to try a change without rebuilding.
    pub devices_dir: Option<PathBuf>,
    /// Which notify URLs are accepted and which addresses webhooks may be
    /// delivered to (`--allow-http-webhooks`, `--allow-private-webhooks`).
    pub webhook_policy: WebhookPolicy,
    /// Bounds on slow and numerous clients.
    pub limits: Limits,
    /// Serve HTTPS with these files instead of plain HTTP.
    pub tls: Option<TlsFiles>,
}

/// How many clients, and how slow, the server tolerates (issue 7): each
/// open connection, long-poll and event stream holds a socket and memory,
/// so each has a bound, and beyond it the client hears 503 `server_busy`.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections at once; the next is answered 503 and closed.
    pub connections_max: usize,
    /// Long-polls (`?wait=`) waiting at once.
    pub long_polls_max: usize,
    /// Event streams (SSE) open at once.
    pub event_streams_max: usize,
    /// Time a client has to send a request's headers.
    pub header_read_timeout: Duration,
    /// Time a client has to send a request's body once its headers are in.
    pub body_read_timeout: Duration,
    /// Time a TLS handshake may take.
    pub tls_handshake_timeout: Duration,
    /// Failed payer attempts and wallet logins per source address (IPv6:
    /// per /64) per minute; beyond, 429 `rate_limited`. 0: no such limit.
    pub source_failures_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connections_max: 4096,
            long_polls_max: 1024,
            event_streams_max: 1024,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            source_failures_per_minute: kessai_core::throttle::SOURCE_FAILURES_PER_MINUTE,
        }
    }
}

/// PEM files for HTTPS (`--tls-cert`, `--tls-key`) and, for mutual TLS, the
/// CA whose client certificates merchant and peer calls must present
/// (`--client-ca`).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

impl Config {
    pub fn new(listen: SocketAddr, database_url: String, key_file: Option<PathBuf>) -> Self {
        let key_file = key_file.unwrap_or_else(|| kessai_core::keyring::default_key_path(&database_url));
        Self {
            listen,
            database_url,
            key_file,
            webhook_poll: Duration::from_secs(1),
            webhook_retry_divisor: 1,
            sweep_interval: Duration::from_secs(1),
            ended_attempts_keep_s: kessai_core::sweeper::ENDED_ATTEMPTS_KEEP_S,
            authorization_first_check_s: 2,
            authorization_ttl_s: kessai_core::authorizations::AUTHORIZATION_TTL_S,
            authorization_poll: Duration::from_secs(1),
            public_url: format!("http://{listen}"),
            wallet_session_ttl_s: WALLET_SESSION_TTL_S,
            wallet_refresh_after_s: 60,
            widget_dir: None,
            wallet_dir: None,
            pos_dir: None,
            devices_dir: None,
            webhook_policy: WebhookPolicy::default(),
            limits: Limits::default(),
            tls: None,
        }
    }
}
