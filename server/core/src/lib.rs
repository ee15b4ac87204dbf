//! Kessai's domain core: everything a settling server knows about money,
//! with no HTTP in it. The HTTP API, the background workers and the command
//! line (crate `kessai-server`) are front ends over it; so will the wallet
//! and terminal APIs be.
//!
//! Bottom to top: `clock`, `ids` and `keyring` are leaves; `store` and `db`
//! reach SQLite or PostgreSQL with one SQL text; `writer` runs every
//! money-moving step in batched, durable transactions; `ledger` is the
//! double-entry book; `collation` compares the two requests; `instruments`
//! and `merchants` are who pays and who is paid; `settlements` are the
//! operations, one module each; `outbox` records events and queues their
//! webhooks; `sweeper` runs what the clock makes due; `node` holds the
//! running parts together.

/// Payment authorizations between institutions: issued, accepted, resolved.
pub mod authorizations;
/// Unix-seconds clock.
pub mod clock;
/// Pure collation of the first and second requests (A3, A4).
pub mod collation;
/// Connections, pragmas and migrations.
pub mod db;
/// The one error type and its protocol error shape.
pub mod error;
/// Changes announced to the other servers on one PostgreSQL database.
pub mod fanout;
/// Idempotency keys for merchant POSTs: claimed first, inside the step.
pub mod idempotency;
/// Fresh prefixed ids.
pub mod ids;
/// This server as an institution: id, name, brands, card prefix, key.
pub mod institution;
/// Test cards, wallet users, and resolving payment methods.
pub mod instruments;
/// Master key, derived keys, sealing.
pub mod keyring;
/// The double-entry ledger.
pub mod ledger;
/// Merchants, their keys and origins.
pub mod merchants;
/// The running parts shared by every front end.
pub mod node;
/// Events and the webhook outbox (A7).
pub mod outbox;
/// Who sent a request from a peer, and whether to believe it.
pub mod peer_requests;
/// The other institutions, their keys pinned.
pub mod peers;
/// Settlement records and the operations that move them.
pub mod settlements;
/// The write interface over rusqlite (SQLite) and sqlx (PostgreSQL).
pub mod store;
/// Expiry, cooling-off capture and cleanup on a timer.
pub mod sweeper;
/// Billing terminals, transaction numbers, in-store payment (PROTOCOL 13).
pub mod terminals;
/// Attempts per key in fixed windows: the payer endpoints' rate limits.
pub mod throttle;
/// The server wallet: sessions, accounts, history, remote wallet payments.
pub mod wallet;
/// Where webhooks may go: the notify URL and address policy (SSRF).
pub mod webhook_targets;
/// The batching settlement writer.
pub mod writer;

pub use error::{Error, Result};
pub use node::Node;
