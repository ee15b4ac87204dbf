//! Vending machines (C5, claim 10): a `vending` terminal opens a menu
//! transaction, the payer picks one article on the phone and pays, and the
//! machine dispenses what the completion notice names, only once
//! `succeeded`.

use kessai_protocol::terminal::{OrderLine, ReceiptLine, TransactionStatus};

use super::record::{Purpose, Txn};
use crate::error::{Error, Result};

/// A machine drops one article per sale: one line of quantity one.
pub fn check_order(lines: &[OrderLine]) -> Result<()> {
    if lines.len() == 1 && lines[0].quantity == 1 {
        return Ok(());
    }
    Err(Error::field(
        "vending_one_article",
        "items",
        "A vending machine sells one article at a time: order one line of quantity 1.",
    ))
}

/// What the machine may dispense: the paid article, and nothing on any
/// other outcome.
pub fn dispense(t: &Txn) -> Option<ReceiptLine> {
    if t.purpose != Purpose::Vending || t.status != TransactionStatus::Succeeded {
        return None;
    }
    let receipt = t.receipt.as_ref()?;
    match receipt.items.as_slice() {
        [line] => Some(line.clone()),
        _ => None,
    }
}
