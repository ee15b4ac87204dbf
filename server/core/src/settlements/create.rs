//! The shop's first settlement request (A1, A13): records the settlement,
//! or, when the buyer's request came first (payer-first), collates and
//! settles at once.

use kessai_protocol::api::Status;
use kessai_protocol::money::Money;

use super::merchant_request::{take_merchant_request, NewSettlement};
use super::payer_first;
use super::record::{by_order, insert, order_id_in_use, Record};
use crate::error::Result;
use crate::merchants::Merchant;
use crate::store::Conn;

pub async fn create(conn: &mut Conn, merchant: &Merchant, new: NewSettlement, now: i64) -> Result<Record> {
    if let Some(order_id) = &new.order_id {
        if let Some(existing) = by_order(conn, &merchant.id, order_id).await? {
            if existing.merchant_request_at.is_some() {
                return Err(order_id_in_use(order_id));
            }
            return payer_first::claim(conn, merchant, existing, new, now).await;
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
    Ok(rec)
}

/// Order ids the settling server assigns (paragraph 0027): derived from the
/// settlement id, so they are unique and fit the order_id alphabet.
fn server_order_id(settlement_id: &str) -> String {
    format!(
        "kessai-{}",
        settlement_id.trim_start_matches(kessai_protocol::ids::SETTLEMENT)
    )
}
