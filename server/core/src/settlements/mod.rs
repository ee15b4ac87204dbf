//! Settlements: the record of one order's dual-request settlement, and the
//! operations that move it between statuses (PROTOCOL sections 4 to 6), one
//! module each, read top-down: `create` (the shop's first request),
//! `confirm` (the buyer's second), `payer_first` (the buyer's came first),
//! `refund`, `cancel`, `expiry`. `merchant_request` is what the shop's
//! first request brings, `record` the row and its SQL, `views`
//! what the shop and the buyer are shown, `steps` the pieces they share.
//!
//! Every operation runs inside the writer's transaction: the status change,
//! the ledger postings and the outbox event commit together or not at all,
//! so a crash never leaves half a settlement. The first statement of each is
//! a conditional UPDATE on the settlement's status (`record::claim`): the
//! claim that makes a repeated or concurrent request move money at most
//! once, on SQLite and on PostgreSQL with several servers alike.

pub mod cancel;
pub mod confirm;
pub mod create;
pub mod expiry;
mod merchant_request;
pub mod payer_first;
pub mod record;
pub mod refund;
mod steps;
pub mod views;

pub use cancel::cancel;
pub use confirm::{closed_error, confirm};
pub use create::create;
pub use expiry::{capture_if_due, expire_if_due};
pub use merchant_request::NewSettlement;
pub use payer_first::payer_first;
pub use record::{get, get_pooled, merchant_order_exists, Record, COLUMNS};
pub use refund::refund;
pub use steps::refusal_code;
pub use views::{confirm_result, payer_token, result_token, view};
