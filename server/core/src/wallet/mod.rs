//! The server wallet (PROTOCOL 12): this institution as the wallet of its
//! users. Sessions authenticate the web wallet's connectors; accounts and
//! history are what a connector shows; remote payments are the records of
//! payments to shops of other institutions (section 11 from the issuer's
//! side), one per settlement there, so that a start message pays once.
//!
//! Nothing here speaks HTTP: the server's wallet routes call these, and its
//! `wallet_payments` module makes the calls to the shop's institution.

pub mod accounts;
pub mod remote;
pub mod sessions;

pub use sessions::WalletUser;
