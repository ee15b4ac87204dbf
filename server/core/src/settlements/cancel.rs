//! Cancellation by the shop (A14): possible while nobody has paid, and
//! during a cooling-off period (C7), when the held funds go back.

use kessai_protocol::api::Status;

use super::record::{claim, get, Record};
use super::steps::finish;
use crate::error::{Error, Result};
use crate::ledger;
use crate::merchants::Merchant;
use crate::store::Conn;

pub async fn cancel(conn: &mut Conn, merchant: &Merchant, id: &str, now: i64) -> Result<Record> {
    let claimed = claim(conn, id, "status IN ('awaiting_payer', 'held')", now)
        .await?
        .filter(|r| r.merchant_id == merchant.id);
    let Some(mut rec) = claimed else {
        return not_cancelable(conn, merchant, id).await;
    };
    if let Some(h) = rec.hold_id.clone() {
        ledger::release_hold(conn, &h).await?;
    }
    finish(conn, &mut rec, merchant, Status::Canceled, now).await?;
    Ok(rec)
}

/// A repeated cancel gets the canceled settlement; anything else that
/// cannot be canceled is an error.
async fn not_cancelable(conn: &mut Conn, merchant: &Merchant, id: &str) -> Result<Record> {
    let rec = get(conn, id)
        .await?
        .filter(|r| r.merchant_id == merchant.id && r.merchant_request_at.is_some());
    match rec {
        None => Err(Error::not_found("settlement_not_found", "No such settlement.")),
        Some(r) if r.status == Status::Canceled => Ok(r),
        Some(r) => Err(Error::conflict(
            "settlement_not_cancelable",
            format!(
                "A settlement that is {} cannot be canceled; refund it instead if it succeeded.",
                r.status
            ),
        )),
    }
}
