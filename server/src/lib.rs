//! The Kessai settling server (seed 003's 決済サーバ) as a program: the HTTP
//! API, the background workers and the command line over the domain core
//! (crate `kessai-core`), which knows nothing of HTTP.
//!
//! Layout: `config` is what a server is started with; `startup` builds and
//! runs it; `http` is the API, one module per resource; `workers` are the
//! tasks that run beside it; `tools` are the command line, `kessai bench`
//! and `kessai demo` with its shop.

/// What a server is started with.
pub mod config;
/// Accepting connections: TLS, the connection cap, the header read timeout.
pub mod connections;
/// The HTTP API: state, extractors, error mapping, one module per resource.
pub mod http;
/// In-store payment and payment by number: views, waits, confirmation.
pub mod instore;
/// Calls to peer institutions.
pub mod peering;
/// Building and running the server.
pub mod startup;
/// HTTPS with rustls, and the client certificates of mutual TLS.
pub mod tls;
/// The command line, the load generator and the demo.
pub mod tools;
/// Paying a start message from a wallet user's account, here or at a peer.
pub mod wallet_payments;
/// Background tasks beside the HTTP API: webhook delivery.
pub mod workers;
