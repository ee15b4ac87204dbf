//! The Kessai settling server (seed 003's 決済サーバ): receives the shop's
//! first settlement request and the buyer's second, collates them, and
//! settles with the double-entry ledger inside it only when they agree.
//!
//! Layout: `startup` builds the app; `routes` are the HTTP endpoints;
//! `settlements`, `collation`, `ledger`, `instruments` and `webhooks` are
//! the domain; `writer` groups every money-moving step into batched,
//! durable transactions; `db` is the portable SQLite/PostgreSQL layer.

/// The load generator behind `kessai bench`.
pub mod bench;
/// The command line: `serve` and the admin commands of PROTOCOL section 9.
pub mod cli;
/// Unix-seconds clock.
pub mod clock;
/// Pure collation of the first and second requests.
pub mod collation;
/// Connections, pragmas and migrations.
pub mod db;
/// `kessai demo`: the server and the demo shop together.
pub mod demo;
/// The one error type and its protocol error shape.
pub mod error;
/// Idempotency keys for merchant POSTs.
pub mod idempotency;
/// Fresh prefixed ids.
pub mod ids;
/// Test cards, wallet users, and resolving payment methods.
pub mod instruments;
/// Master key, derived keys, sealing.
pub mod keyring;
/// The double-entry ledger.
pub mod ledger;
/// Merchants, their keys and origins; secret-key authentication.
pub mod merchants;
/// HTTP routes and the OpenAPI document.
pub mod routes;
/// Settlement records and the writer steps that change them.
pub mod settlements;
/// The demo shop: a merchant backend as a merchant would write it.
pub mod shop;
/// Building and running the server.
pub mod startup;
/// Shared handler state.
pub mod state;
/// The write interface over rusqlite (SQLite) and sqlx (PostgreSQL).
pub mod store;
/// Expiry and cleanup on a timer.
pub mod sweeper;
/// Webhook events and the delivery worker.
pub mod webhooks;
/// The batching settlement writer.
pub mod writer;
