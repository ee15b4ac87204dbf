//! The shop's first settlement request (A1, A13): records the settlement,
//! or, when the buyer's request came first (payer-first) and agrees with
//! it, settles at once. A payer-first attempt that does not agree ends on
//! its own and the shop's settlement starts `awaiting_payer`.

use kessai_protocol::api::Status;
use kessai_protocol::money::Money;

use super::merchant_request::{take_merchant_request, NewSettlement};
use super::payer_first;
use super::record::{insert, live_payer_first, merchant_order, order_id_in_use, Record};
use crate::error::Result;
use crate::merchants::Merchant;
use crate::store::Conn;

/// The shop's settlement, and the id of a payer-first attempt this request
/// ended (its buyer's page is waiting to hear of it).
pub async fn create(
    conn: &mut Conn,
    merchant: &Merchant,
    new: NewSettlement,
    now: i64,
) -> Result<(Record, Option<String>)> {
    let mut ended = None;
    if let Some(order_id) = &new.order_id {
        if merchant_order(conn, &merchant.id, order_id).await?.is_some() {
            return Err(order_id_in_use(order_id));
        }
        if let Some(attempt) = live_payer_first(conn, &merchant.id, order_id).await? {
            if let Some(settled) = payer_first::claim(conn, merchant, &attempt.id, &new, now).await? {
                return Ok((settled, None));
            }
            ended = Some(attempt.id);
        }
    }
    let id = crate::ids::new_ordered(kessai_protocol::ids::SETTLEMENT);
    let amount = Money::new(new.total, &new.currency, "order.total")?;
    let order_id = new.order_id.clone().unwrap_or_else(|| server_order_id(&id));
    let mut rec = Record::new(
        id,
        &merchant.id,
        order_id,
        amount,
        new.order_digest.clone(),
        Status::AwaitingPayer,
        now,
    );
    rec.order_id_assigned = new.order_id.is_none();
    rec.expires_at = now.saturating_add(new.expires_in_s);
    take_merchant_request(&mut rec, merchant, new, now)?;
    insert(conn, &rec).await?;
    Ok((rec, ended))
}

/// Order ids the settling server assigns (paragraph 0027): derived from the
/// settlement id, so they are unique and fit the order_id alphabet.
fn server_order_id(settlement_id: &str) -> String {
    format!(
        "kessai-{}",
        settlement_id.trim_start_matches(kessai_protocol::ids::SETTLEMENT)
    )
}
