//! Terminals and in-store payment (PROTOCOL 13, seed 004): the registry of
//! billing terminals (D4), the transactions a number synchronizes with a
//! payer's phone (D1 to D3, D8, D9), the payer's profile a terminal may see
//! or challenge (D6, D8), online purchases paid by number (D10),
//! authentication by number (D11), and the devices of seed 002: vending
//! machines (C5), gates (C6) and tickets (C9), with the passes the
//! institution signs for them.
//!
//! Nothing here speaks HTTP: the server's terminal and wallet routes call
//! these inside writer steps, so that a transaction's final status, its
//! receipt and the ledger posting are one commit.

pub mod gates;
pub mod numbers;
pub mod passes;
pub mod payers;
pub mod qr;
pub mod record;
pub mod registry;
pub mod sale;
pub mod tickets;
pub mod vending;

pub use record::{Purpose, Txn};
pub use registry::Terminal;
