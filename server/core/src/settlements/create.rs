//! The shop's first settlement request (A1, A13): records the settlement,
//! or, when the buyer's request came first (payer-first), collates and
//! settles at once.

use kessai_protocol::api::Status;
use kessai_protocol::money::Money;
use kessai_protocol::Order;

use super::payer_first;
use super::record::{by_order, insert, order_id_in_use, Record};
use crate::error::Result;
use crate::merchants::Merchant;
use crate::store::Conn;

/// The shop's first request, validated by the caller.
#[derive(Debug, Clone)]
pub struct NewSettlement {
    /// None: the settling server assigns one (A13).
    pub order_id: Option<String>,
    pub currency: String,
    pub total: u64,
    pub order_digest: String,
    pub order: Option<Order>,
    pub brands: Option<Vec<String>>,
    pub notify_url: Option<String>,
    pub return_url: Option<String>,
    pub expires_in_s: i64,
    pub cooling_off_s: Option<i64>,
}

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

/// What the shop's request says beyond the order's identity: its items, where
/// to notify and return, which brands it takes, and its cooling-off period.
pub(super) fn take_merchant_request(rec: &mut Record, merchant: &Merchant, new: NewSettlement, now: i64) -> Result<()> {
    rec.merchant_request_at = Some(now);
    rec.order_json = new.order.as_ref().map(serde_json::to_string).transpose()?;
    rec.notify_url = new.notify_url.or_else(|| merchant.notify_url.clone());
    rec.return_url = new.return_url;
    rec.brands = new.brands;
    rec.cooling_off_s = new.cooling_off_s;
    Ok(())
}

/// Order ids the settling server assigns (paragraph 0027): derived from the
/// settlement id, so they are unique and fit the order_id alphabet.
fn server_order_id(settlement_id: &str) -> String {
    format!(
        "kessai-{}",
        settlement_id.trim_start_matches(kessai_protocol::ids::SETTLEMENT)
    )
}
