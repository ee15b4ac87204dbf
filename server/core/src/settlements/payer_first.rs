//! Payer-first (PROTOCOL section 5): the buyer's second request arrives
//! before the shop's first. Its funds are held until the shop's request for
//! the same order id arrives (`claim`, called by `create`), or the
//! attempt expires.
//!
//! Anyone who knows a merchant id can send one, with any order id, so an
//! attempt never decides the shop's settlement: one that is declined, or
//! that the shop's order does not agree with, ends on its own (its hold
//! released) and the shop's settlement starts `awaiting_payer` as usual.
//! Only an attempt that agrees with the shop's order becomes its settlement.

use kessai_protocol::api::{DeclineCode, Status};
use kessai_protocol::money::Money;
use kessai_protocol::Order;

use super::merchant_request::{take_merchant_request, NewSettlement};
use super::record::{claim as claim_row, insert, live_payer_first, merchant_order, save, Record};
use super::steps::{capture, consume_authenticator, decline, finish, record_payer, refusal_code};
use crate::collation::{self, MerchantSide};
use crate::error::{Error, Result};
use crate::instruments::{Funding, Resolved};
use crate::merchants::Merchant;
use crate::store::Conn;
use crate::terminals::payers;
use crate::{invariant, ledger};

/// Records the buyer's request and holds its funds, or declines it.
pub async fn payer_first(
    conn: &mut Conn,
    merchant: &Merchant,
    order: &Order,
    payer: &Resolved,
    expires_in_s: i64,
    now: i64,
) -> Result<Record> {
    let order_id = &order.order_id;
    if merchant_order(conn, &merchant.id, order_id).await?.is_some()
        || live_payer_first(conn, &merchant.id, order_id).await?.is_some()
    {
        return Err(Error::Conflict {
            code: "order_id_in_use",
            message: "A settlement for this order already exists; pay it with the settlement id and client secret the shop gave you.".into(),
            param: Some("order.order_id".into()),
        });
    }
    crate::instruments::record_guess(conn, payer.guess.as_ref(), now).await?;
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

/// The shop's first request for an order whose payer-first attempt is still
/// waiting: when the two agree, the attempt becomes the shop's settlement,
/// paid at once. Otherwise the attempt ends on its own (mismatched, or
/// declined for a brand the shop does not take or a payer younger than
/// the shop's age restriction), its hold released, and
/// `None` tells the caller to open the shop's settlement as usual. `None`
/// too when another step claimed or ended the attempt first.
pub(super) async fn claim(
    conn: &mut Conn,
    merchant: &Merchant,
    attempt_id: &str,
    new: &NewSettlement,
    now: i64,
) -> Result<Option<Record>> {
    let claimed = claim_row(
        conn,
        attempt_id,
        "status = 'awaiting_merchant' AND expires_at > $2",
        now,
    )
    .await?;
    let Some(mut rec) = claimed else { return Ok(None) };
    let payer_order = rec
        .payer_order()?
        .ok_or_else(|| Error::internal(format!("payer-first settlement {} without the payer's order", rec.id)))?;
    let side = MerchantSide {
        order_id: &rec.order_id,
        currency: &new.currency,
        total: new.total,
        order_digest: &new.order_digest,
        order: new.order.as_ref(),
        order_id_assigned: false,
    };
    let differ = collation::collate(&side, &payer_order);
    // A payer-first attempt still awaiting the shop holds its funds: a
    // failed hold would have declined it.
    let hold = rec.hold_id.clone();
    invariant!(
        hold.is_some(),
        "payer-first settlement {} awaits the shop without a hold",
        rec.id
    );
    let brands_ok = new
        .brands
        .as_ref()
        .is_none_or(|b| rec.card_brand.as_ref().is_none_or(|c| b.contains(c)));
    let restricted = payers::restricted(conn, new.min_age, rec.payer_account_id.as_deref(), now).await?;
    if !differ.is_empty() || !brands_ok || restricted {
        if let Some(h) = &hold {
            ledger::release_hold(conn, h).await?;
        }
        let code = if restricted {
            DeclineCode::Restricted
        } else {
            DeclineCode::CardDeclined
        };
        end_attempt(conn, merchant, &mut rec, differ, code, now).await?;
        return Ok(None);
    }
    take_merchant_request(&mut rec, merchant, new.clone(), now)?;
    capture(conn, merchant, &rec, now).await?;
    finish(conn, &mut rec, merchant, Status::Succeeded, now).await?;
    Ok(Some(rec))
}

/// Ends an attempt the shop's order does not agree with, without the shop:
/// no event for it, and its order id is free again.
async fn end_attempt(
    conn: &mut Conn,
    merchant: &Merchant,
    rec: &mut Record,
    differ: Vec<&str>,
    code: DeclineCode,
    now: i64,
) -> Result<()> {
    invariant!(
        rec.merchant_request_at.is_none(),
        "ending payer-first attempt {} that the shop already claimed",
        rec.id
    );
    if differ.is_empty() {
        return decline(conn, rec, merchant, code, now).await;
    }
    rec.mismatched_fields = differ.iter().map(|f| f.to_string()).collect();
    finish(conn, rec, merchant, Status::Mismatched, now).await
}

/// Deletes up to `len_max` payer-first attempts that ended without the shop
/// (declined, mismatched, expired) before `ended_before`; returns how many.
///
/// Nothing else goes with them, because nothing else is theirs: an attempt
/// the shop never claimed recorded no event (`finish` records one only
/// after the shop's request), and money never moved for it (a transfer
/// needs the shop's agreement). The conditions say so again, so that a row
/// money did move for is never deleted: no transfer names it and its hold,
/// if it had one, is no longer open. A released hold keeps its row, as the
/// account's own record that funds were held and given back.
pub async fn delete_ended(conn: &mut Conn, ended_before: i64, len_max: i64) -> Result<u64> {
    let deleted = conn
        .execute(
            "DELETE FROM settlements WHERE id IN (
                 SELECT s.id FROM settlements s
                 WHERE s.merchant_request_at IS NULL
                   AND s.status IN ('declined', 'mismatched', 'expired')
                   AND s.updated_at < $1
                   AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.settlement_id = s.id)
                   AND NOT EXISTS (SELECT 1 FROM events e WHERE e.settlement_id = s.id)
                   AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.id = s.hold_id AND h.status = 'open')
                 LIMIT $2)",
            crate::args![ended_before, len_max],
        )
        .await?;
    Ok(deleted)
}
