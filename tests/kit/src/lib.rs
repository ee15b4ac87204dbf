//! The one test kit of Kessai: what the tests of the real `kessai` binary
//! (`server/tests/binary.rs`) and the end-to-end browser tests (`kessai-e2e`
//! in `tests/`) share, so that each admin command, the start of a server and
//! each settlement request is wrapped once.
//!
//! - [`Kessai`]: the binary under test, whose path the caller passes in
//!   (`env!("CARGO_BIN_EXE_kessai")` in the server's integration tests,
//!   `target/debug/kessai` in the end-to-end crate). Commands run with the
//!   developer's `KESSAI_*` variables removed, and are killed if dropped.
//! - [`TestEnv`]: a fresh temporary directory holding one test's database,
//!   master key and logs, and the admin commands on it (PROTOCOL section 9)
//!   returning typed results: [`Merchant`], [`Card`], [`User`], and
//!   `ledger check`.
//! - [`Running`] and [`Server`]: a started process that is killed when its
//!   guard drops and, if the test is panicking, prints the end of its log.
//! - [`Api`]: the settlement requests over HTTP (PROTOCOL sections 4, 5, 8),
//!   with [`order`] (the order of PROTOCOL section 3) and
//!   [`card_payment_method`].
//!
//! - [`decode_qr_png`]: the QR codes in a screenshot, read as a phone would.
//!
//! Every wait is bounded ([`PROCESS_TIMEOUT`], [`REQUEST_TIMEOUT`],
//! [`TASKS_TIMEOUT`]): a hung server fails the test instead of hanging it.
//!
//! Two styles of call, because the suites fail in two ways: the server's
//! tests panic with a message (plain names, e.g. [`TestEnv::card`]); the
//! end-to-end scenarios return errors so that a failure can still take a
//! screenshot (`try_` names, e.g. [`TestEnv::try_card`], returning
//! `anyhow::Result`). Each plain call is its `try_` call plus the panic.

use std::time::Duration;

use serde_json::Value;

mod api;
mod env;
mod process;
mod qr_reader;

pub use api::{card_payment_method, order, Api, Created, ORDER_TOTAL};
pub use env::{Card, Merchant, Server, TestEnv, User};
pub use process::{stderr, stdout, Kessai, Running};
pub use qr_reader::decode_qr_png;

/// How long a process may take to start, or an admin command to finish.
pub const PROCESS_TIMEOUT: Duration = Duration::from_secs(30);
/// Per HTTP request; a settlement normally answers in milliseconds.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a test waits for a group of concurrent tasks.
pub const TASKS_TIMEOUT: Duration = Duration::from_secs(90);

/// A command line written as one string (no argument here contains a space).
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// `value[key]` as a string, or a panic naming the key and the value.
pub fn str_field<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing or not a string in {value}"))
}

/// Waits for every task, bounded by [`TASKS_TIMEOUT`]; a panic in a task
/// fails the test with that task's message.
pub async fn join_all<T: Send + 'static>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let joined = tokio::time::timeout(TASKS_TIMEOUT, futures_util::future::join_all(tasks))
        .await
        .unwrap_or_else(|_| panic!("tasks did not finish within {TASKS_TIMEOUT:?}"));
    joined
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())))
        .collect()
}

/// The Luhn check, written out here rather than borrowed from the crates
/// under test, so the two cannot share a mistake.
pub fn luhn_valid(number: &str) -> bool {
    let digits: Option<Vec<u32>> = number.chars().map(|c| c.to_digit(10)).collect();
    let Some(digits) = digits else { return false };
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::luhn_valid;

    #[test]
    fn luhn_accepts_valid_numbers_and_refuses_the_rest() {
        assert!(luhn_valid("4242424242424242"));
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("4242424242424241"));
        assert!(!luhn_valid("79927398710"));
        assert!(!luhn_valid(""));
        assert!(!luhn_valid("4242 4242 4242 4242"));
    }
}
