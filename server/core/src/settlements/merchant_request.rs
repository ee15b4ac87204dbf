//! What the shop's first request brings to a settlement, whether it opens
//! one (`create`) or claims a payer-first one (`payer_first::claim`).

use kessai_protocol::Order;

use super::record::Record;
use crate::error::Result;
use crate::merchants::Merchant;

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
    /// The payer must be at least this old (C8).
    pub min_age: Option<u32>,
}

/// What the shop's request says beyond the order's identity: its items, where
/// to notify and return, which brands it takes, its cooling-off period and
/// its age restriction.
pub(super) fn take_merchant_request(rec: &mut Record, merchant: &Merchant, new: NewSettlement, now: i64) -> Result<()> {
    rec.merchant_request_at = Some(now);
    rec.order_json = new.order.as_ref().map(serde_json::to_string).transpose()?;
    rec.notify_url = new.notify_url.or_else(|| merchant.notify_url.clone());
    rec.return_url = new.return_url;
    rec.brands = new.brands;
    rec.cooling_off_s = new.cooling_off_s;
    rec.min_age = new.min_age;
    Ok(())
}
