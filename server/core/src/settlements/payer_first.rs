//! Payer-first (PROTOCOL section 5): the buyer's second request arrives
//! before the shop's first. Its funds are held until the shop's request for
//! the same order id arrives (`claim`, called by `create`), or the
//! settlement expires.

use kessai_protocol::api::{DeclineCode, Status};
use kessai_protocol::money::Money;
use kessai_protocol::Order;

use super::merchant_request::{take_merchant_request, NewSettlement};
use super::record::{by_order, insert, save, Record};
use super::steps::{capture, consume_authenticator, decline, finish, record_payer, refusal_code};
use crate::collation::{self, MerchantSide};
use crate::error::{Error, Result};
use crate::instruments::{Funding, Resolved};
use crate::merchants::Merchant;
use crate::store::Conn;
use crate::{invariant, ledger, outbox};

/// Records the buyer's request and holds its funds, or declines it.
pub async fn payer_first(
    conn: &mut Conn,
    merchant: &Merchant,
    order: &Order,
    payer: &Resolved,
    expires_in_s: i64,
    now: i64,
) -> Result<Record> {
    if by_order(conn, &merchant.id, &order.order_id).await?.is_some() {
        return Err(Error::Conflict {
            code: "order_id_in_use",
            message: "A settlement for this order already exists; pay it with the settlement id and client secret the shop gave you.".into(),
            param: Some("order.order_id".into()),
        });
    }
    consume_authenticator(conn, payer).await?;
    let id = crate::ids::new_ordered(kessai_protocol::ids::SETTLEMENT);
    let amount = Money::new(order.total, &order.currency, "order.total")?;
    let status = Status::AwaitingMerchant;
    let mut rec = Record::new(
        id,
        &merchant.id,
        order.order_id.clone(),
        amount,
        order.digest(),
        status,
        now,
    );
    rec.expires_at = now.saturating_add(expires_in_s);
    rec.payer_order_json = Some(serde_json::to_string(order)?);
    record_payer(&mut rec, payer);
    insert(conn, &rec).await?;
    let account = match &payer.funding {
        Funding::Declined(code) => {
            decline(conn, &mut rec, merchant, *code, now).await?;
            return Ok(rec);
        }
        Funding::Account(account) => account,
        // A peer's authorization names a settlement, which a payer-first
        // request does not have yet: the caller resolves cards locally.
        Funding::Peer(_) => {
            return Err(Error::Unprocessable {
                code: "payer_first_needs_local_payment",
                message: "A payer-first request can be paid only with an account or card of this institution.".into(),
                param: Some("payment_method".into()),
            })
        }
    };
    rec.payer_account_id = Some(account.clone());
    match ledger::hold(conn, account, &rec.amount, &rec.id, now).await? {
        Ok(hold_id) => {
            rec.hold_id = Some(hold_id);
            save(conn, &rec).await?;
        }
        Err(refusal) => decline(conn, &mut rec, merchant, refusal_code(refusal), now).await?,
    }
    Ok(rec)
}

/// The shop's first request for an order the buyer already asked to pay:
/// collate the two and settle (or decline, or mismatch) at once.
pub(super) async fn claim(
    conn: &mut Conn,
    merchant: &Merchant,
    mut rec: Record,
    new: NewSettlement,
    now: i64,
) -> Result<Record> {
    let side_total = new.total;
    let (side_currency, side_digest, side_order) = (new.currency.clone(), new.order_digest.clone(), new.order.clone());
    take_merchant_request(&mut rec, merchant, new, now)?;
    rec.updated_at = now;
    if rec.status != Status::AwaitingMerchant {
        return tell_shop_of_the_end(conn, merchant, rec, now).await;
    }
    let payer_order = rec
        .payer_order()?
        .ok_or_else(|| Error::internal(format!("payer-first settlement {} without the payer's order", rec.id)))?;
    let side = MerchantSide {
        order_id: &rec.order_id,
        currency: &side_currency,
        total: side_total,
        order_digest: &side_digest,
        order: side_order.as_ref(),
        order_id_assigned: false,
    };
    let differ = collation::collate(&side, &payer_order);
    let hold = rec.hold_id.clone();
    // A payer-first settlement still awaiting the shop holds its funds: a
    // failed hold would have declined it.
    invariant!(
        hold.is_some(),
        "payer-first settlement {} awaits the shop without a hold",
        rec.id
    );
    if !differ.is_empty() || !rec.brand_accepted() {
        if let Some(h) = &hold {
            ledger::release_hold(conn, h).await?;
        }
        if differ.is_empty() {
            decline(conn, &mut rec, merchant, DeclineCode::CardDeclined, now).await?;
        } else {
            rec.mismatched_fields = differ.iter().map(|f| f.to_string()).collect();
            finish(conn, &mut rec, merchant, Status::Mismatched, now).await?;
        }
        return Ok(rec);
    }
    capture(conn, merchant, &rec, now).await?;
    finish(conn, &mut rec, merchant, Status::Succeeded, now).await?;
    Ok(rec)
}

/// The buyer's attempt already ended (declined or expired): the shop learns
/// it from its 201 and from the event, recorded now that it has asked.
async fn tell_shop_of_the_end(conn: &mut Conn, merchant: &Merchant, rec: Record, now: i64) -> Result<Record> {
    save(conn, &rec).await?;
    let event_id = rec
        .result_jti
        .clone()
        .unwrap_or_else(|| crate::ids::new_ordered(kessai_protocol::ids::EVENT));
    outbox::record(conn, &rec, merchant, &event_id, now).await?;
    Ok(rec)
}
