//! Building and running the settling server: `Application::build` binds the
//! listener (port 0 picks a free one, for tests) and starts the writer and
//! the background workers; `run` serves until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, Notify};

use crate::keyring::Keyring;
use crate::merchants::MerchantCache;
use crate::state::AppState;
use crate::writer::Writer;

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
    /// How often expired settlements are swept.
    pub sweep_interval: Duration,
    /// The built checkout widget (`scripts/build-widget.sh` writes
    /// `target/widget`), served at `/widget/`.
    pub widget_dir: Option<PathBuf>,
}

impl Config {
    pub fn new(listen: SocketAddr, database_url: String, key_file: Option<PathBuf>) -> Self {
        let key_file = key_file.unwrap_or_else(|| crate::keyring::default_key_path(&database_url));
        Self {
            listen,
            database_url,
            key_file,
            webhook_poll: Duration::from_secs(1),
            webhook_retry_divisor: 1,
            sweep_interval: Duration::from_secs(1),
            widget_dir: None,
        }
    }

    pub fn scale_retry(&self, wait_s: u64) -> i64 {
        let scaled = (wait_s / self.webhook_retry_divisor.max(1)).max(1);
        i64::try_from(scaled).unwrap_or(i64::MAX)
    }
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        crate::db::backend(&config.database_url)?;
        let keyring = Keyring::load_or_create(&config.key_file)?;
        let pool = crate::db::reader(&config.database_url).await?;
        crate::db::migrate(&mut crate::db::connection(&config.database_url).await?).await?;
        let writer = Writer::start(&config.database_url).await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let (changes, _) = broadcast::channel(4096);
        let state = AppState {
            pool,
            writer,
            keyring: Arc::new(keyring),
            merchants: MerchantCache::default(),
            changes,
            webhook_wake: Arc::new(Notify::new()),
            config: Arc::new(config),
        };
        tokio::spawn(crate::webhooks::run_worker(state.clone()));
        tokio::spawn(crate::sweeper::run(state.clone()));
        Ok(Self { listener, state })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn run(self) -> anyhow::Result<()> {
        let app = crate::routes::router(self.state.clone());
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        let serve = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            shutdown_signal().await;
            let _ = stopping.send(());
        });
        // A graceful shutdown waits for every connection, and an event
        // stream lasts until its settlement is final (up to an hour): bound
        // the wait. Steps the writer has not committed are rolled back, so
        // cutting them off is safe.
        let grace = async move {
            match stopped.await {
                Ok(()) => tokio::time::sleep(SHUTDOWN_GRACE).await,
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            served = async move { serve.await } => served?,
            () = grace => tracing::warn!(grace_s = SHUTDOWN_GRACE.as_secs(), "connections still open after the grace period; closing them"),
        }
        Ok(())
    }
}

/// How long a shutdown waits for open requests: longer than any settlement
/// step takes, shorter than a long poll (`?wait=30`) or an event stream.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
