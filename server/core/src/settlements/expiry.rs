//! What the clock makes due: settlements nobody completed in time expire
//! (releasing any hold), and cooling-off periods (C7) end with the held
//! funds moving to the merchant. Run by the sweeper, and by a late request
//! that finds its settlement past its time.

use kessai_protocol::api::Status;

use super::record::{claim, Record};
use super::steps::{capture, finish};
use crate::error::Result;
use crate::ledger;
use crate::merchants::Merchant;
use crate::store::Conn;

pub(super) async fn expire(conn: &mut Conn, merchant: &Merchant, rec: &mut Record, now: i64) -> Result<()> {
    if let Some(h) = rec.hold_id.clone() {
        ledger::release_hold(conn, &h).await?;
    }
    finish(conn, rec, merchant, Status::Expired, now).await
}

/// Expires one settlement if it is still waiting and past its time; a no-op
/// if something else moved it first.
pub async fn expire_if_due(conn: &mut Conn, merchant: &Merchant, id: &str, now: i64) -> Result<Option<Record>> {
    let condition = "status IN ('awaiting_payer', 'awaiting_merchant') AND expires_at <= $2";
    let Some(mut rec) = claim(conn, id, condition, now).await? else {
        return Ok(None);
    };
    expire(conn, merchant, &mut rec, now).await?;
    Ok(Some(rec))
}

/// Ends a cooling-off period: the held funds move to the merchant. A no-op
/// if the settlement was canceled first.
pub async fn capture_if_due(conn: &mut Conn, merchant: &Merchant, id: &str, now: i64) -> Result<Option<Record>> {
    let Some(mut rec) = claim(conn, id, "status = 'held' AND capture_at <= $2", now).await? else {
        return Ok(None);
    };
    capture(conn, merchant, &rec, now).await?;
    finish(conn, &mut rec, merchant, Status::Succeeded, now).await?;
    Ok(Some(rec))
}
