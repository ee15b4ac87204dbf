//! Building and running the settling server: `Application::build` binds the
//! listener (port 0 picks a free one, for tests) and starts the writer and
//! the background workers; `run` serves until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use kessai_core::Node;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::http::state::AppState;

pub struct Application {
    listener: TcpListener,
    state: AppState,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        // Bad TLS files stop the server before it opens anything.
        let tls = config.tls.as_ref().map(crate::tls::acceptor).transpose()?;
        let mut node = Node::open(&config.database_url, &config.key_file).await?;
        node.payer_throttles = Arc::new(kessai_core::throttle::PayerThrottles::new(
            config.limits.source_failures_per_minute,
        ));
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let mut config = config;
        // Port 0 (tests) binds a free port: the public URL names the real one.
        for scheme in ["http", "https"] {
            if config.public_url == format!("{scheme}://{}", config.listen) {
                config.public_url = format!("{scheme}://{}", listener.local_addr()?);
            }
        }
        let config = Arc::new(config);
        tokio::spawn(crate::workers::webhooks::run(node.clone(), config.clone()));
        tokio::spawn(kessai_core::sweeper::run(
            node.clone(),
            config.sweep_interval,
            config.ended_attempts_keep_s,
        ));
        let peers = crate::peering::PeerClient::new()?;
        tokio::spawn(crate::workers::authorizations::run(
            node.clone(),
            peers.clone(),
            config.clone(),
        ));
        let state = AppState::new(node, config, peers);
        Ok(Self { listener, state, tls })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn run(self) -> anyhow::Result<()> {
        let serving = crate::connections::Serving {
            app: crate::http::router(self.state.clone()),
            limits: self.state.config.limits.clone(),
            tls: self.tls,
        };
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        let serve = crate::connections::serve(self.listener, serving, async move {
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
            () = serve => {}
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
