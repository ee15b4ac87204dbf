//! Accepting and serving connections (issue 7): HTTP/1.1 over TCP or TLS,
//! with a bound on open connections and on how long a client may take to
//! send its request headers. axum's own `serve` has neither, so a client
//! that trickles headers, or twenty thousand of them, held a socket each
//! until the process ran out of descriptors.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::Limits;
use crate::tls::ClientCert;

/// Connections being turned away at once (answering 503 takes a moment,
/// a TLS handshake first); beyond this they are closed unanswered.
const REFUSALS_MAX: usize = 64;
/// How long a refused client has to read its 503 before the socket closes.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// How much of a refused client's request is read before answering.
const REFUSAL_HEAD_LEN_MAX: usize = 16 * 1024;

/// What every connection is served with.
#[derive(Clone)]
pub struct Serving {
    pub app: Router,
    pub limits: Limits,
    pub tls: Option<TlsAcceptor>,
}

/// Serves `listener` until `shutdown` completes, then stops accepting and
/// waits for the open connections to finish their requests (the caller
/// bounds that wait).
pub async fn serve(listener: TcpListener, serving: Serving, shutdown: impl Future<Output = ()>) {
    let slots = Arc::new(Semaphore::new(serving.limits.connections_max));
    let refusals = Arc::new(Semaphore::new(REFUSALS_MAX));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                tokio::spawn(connection(stream, peer, slot, serving.clone(), graceful.watcher()));
            }
            Err(_) => match refusals.clone().try_acquire_owned() {
                Ok(refusal) => {
                    tokio::spawn(refuse_busy(stream, serving.clone(), refusal));
                }
                Err(_) => drop(stream),
            },
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

/// One connection: the TLS handshake (bounded), then HTTP/1.1 requests.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    _slot: OwnedSemaphorePermit,
    serving: Serving,
    graceful: Watcher,
) {
    let Some(tls) = serving.tls.clone() else {
        return http(stream, peer, None, serving, graceful).await;
    };
    let handshake = tokio::time::timeout(serving.limits.tls_handshake_timeout, tls.accept(stream)).await;
    match handshake {
        Ok(Ok(stream)) => {
            let cert = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|der| ClientCert::of(der));
            http(stream, peer, cert, serving, graceful).await;
        }
        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!("TLS handshake timed out"),
    }
}

async fn http<S>(stream: S, peer: SocketAddr, cert: Option<ClientCert>, serving: Serving, graceful: Watcher)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let app = serving.app;
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        // The client's address, as axum's `ConnectInfo` extractor reads it:
        // the per-address limits key on it (`http::extract::Source`).
        request.extensions_mut().insert(ConnectInfo(peer));
        if let Some(cert) = &cert {
            request.extensions_mut().insert(cert.clone());
        }
        app.clone().oneshot(request)
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(serving.limits.header_read_timeout)
        .serve_connection(TokioIo::new(stream), service);
    if let Err(e) = graceful.watch(connection).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Over the connection cap: a 503 in the protocol's shape, then close.
async fn refuse_busy(stream: TcpStream, serving: Serving, _refusal: OwnedSemaphorePermit) {
    match serving.tls {
        None => answer_busy(stream).await,
        Some(tls) => {
            if let Ok(Ok(stream)) = tokio::time::timeout(REFUSAL_LINGER, tls.accept(stream)).await {
                answer_busy(stream).await;
            }
        }
    }
}

async fn answer_busy<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    // Wait for the request's head first (briefly, and bounded in size): an
    // HTTP client discards an answer that comes before its request.
    let mut head = Vec::new();
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        let mut buf = [0u8; 1024];
        while head.len() < REFUSAL_HEAD_LEN_MAX && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(n) if n > 0 => head.extend_from_slice(&buf[..n]),
                _ => break,
            }
        }
    })
    .await;
    let body = kessai_core::Error::Unavailable {
        code: "server_busy",
        message: "The server has too many open connections; retry shortly.".into(),
    }
    .body();
    let body = serde_json::to_string(&body).unwrap_or_default();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(response.as_bytes()).await.is_err() || stream.flush().await.is_err() {
        return;
    }
    let _ = stream.shutdown().await;
    // Read what else the client sent before closing: closing a socket with
    // unread data resets it, and the client may lose the answer.
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}
