//! Refunds (A14): money back from the merchant's payee account to the
//! account that paid. Several partial refunds may follow one another; in
//! all they never exceed what was captured.

use kessai_protocol::api::{self, Status};
use kessai_protocol::money::Money;

use super::record::{claim, get, save, Record};
use crate::args;
use crate::error::{Error, Result};
use crate::ledger::{self, TransferKind};
use crate::merchants::Merchant;
use crate::store::Conn;
use crate::{invariant, outbox};

pub async fn refund(
    conn: &mut Conn,
    merchant: &Merchant,
    id: &str,
    requested: Option<u64>,
    reason: Option<String>,
    now: i64,
) -> Result<(Record, api::Refund)> {
    let claimed = claim(conn, id, "status IN ('succeeded', 'partially_refunded')", now)
        .await?
        .filter(|r| r.merchant_id == merchant.id);
    let Some(mut rec) = claimed else {
        return Err(not_refundable(conn, merchant, id).await?);
    };
    let amount = refund_amount(&rec, requested)?;
    let payer = rec
        .payer_account_id
        .clone()
        .ok_or_else(|| Error::internal(format!("succeeded settlement {id} without payer account")))?;
    if ledger::account_kind(conn, &payer).await?.as_deref() == Some(ledger::kind::DUE_FROM) {
        // The buyer's money is at another institution: a refund needs a
        // message to it that the protocol does not have yet.
        return Err(Error::conflict(
            "refund_not_supported",
            "This settlement was paid through another institution; refunds across institutions are not supported yet.",
        ));
    }
    let payee = ledger::payee_account_id(&merchant.id, amount.currency());
    let moved = ledger::transfer(conn, TransferKind::Refund, &payee, &payer, &amount, Some(&rec.id), now).await?;
    let Ok(transfer_id) = moved else {
        return Err(Error::Unprocessable {
            code: "refund_insufficient_funds",
            message: "The merchant's balance cannot cover this refund.".into(),
            param: Some("amount".into()),
        });
    };
    let refund = record_refund(conn, &rec, &amount, reason, &transfer_id, now).await?;
    rec.refunded = rec
        .refunded
        .checked_add(&amount)
        .ok_or_else(|| Error::internal(format!("settlement {id}: refunded overflows")))?;
    // Paired with the check in refund_amount, after the money moved.
    invariant!(
        rec.refunded.minor() <= rec.amount.minor(),
        "settlement {id}: refunded {} exceeds the captured {}",
        rec.refunded,
        rec.amount
    );
    rec.status = if rec.refunded == rec.amount {
        Status::Refunded
    } else {
        Status::PartiallyRefunded
    };
    rec.updated_at = now;
    save(conn, &rec).await?;
    let event_id = crate::ids::new_ordered(kessai_protocol::ids::EVENT);
    outbox::record(conn, &rec, merchant, &event_id, now).await?;
    Ok((rec, refund))
}

/// The amount to refund: all that is left, or the requested part of it.
fn refund_amount(rec: &Record, requested: Option<u64>) -> Result<Money> {
    let remaining = rec.amount.checked_sub(&rec.refunded);
    invariant!(
        remaining.is_some(),
        "settlement {}: refunded {} exceeds the captured {}",
        rec.id,
        rec.refunded,
        rec.amount
    );
    let remaining = remaining.unwrap_or_else(|| rec.amount.zero_like());
    if remaining.is_zero() {
        return Err(Error::conflict(
            "settlement_not_refundable",
            "Nothing of this settlement is left to refund.",
        ));
    }
    match requested {
        None => Ok(remaining),
        Some(a) if a == 0 || a > remaining.minor() => Err(Error::field(
            "refund_amount_invalid",
            "amount",
            format!(
                "amount must be 1 to {}, the part of the settlement not yet refunded.",
                remaining.minor()
            ),
        )),
        Some(a) => remaining
            .with_minor(a)
            .ok_or_else(|| Error::internal(format!("refund of {a} is out of range"))),
    }
}

async fn record_refund(
    conn: &mut Conn,
    rec: &Record,
    amount: &Money,
    reason: Option<String>,
    transfer_id: &str,
    now: i64,
) -> Result<api::Refund> {
    let refund_id = crate::ids::new_ordered(kessai_protocol::ids::REFUND);
    conn.execute(
        "INSERT INTO refunds (id, settlement_id, amount, currency, reason, status, transfer_id, created_at)
         VALUES ($1, $2, $3, $4, $5, 'succeeded', $6, $7)",
        args![
            &refund_id,
            &rec.id,
            amount.minor_i64(),
            amount.currency(),
            &reason,
            transfer_id,
            now
        ],
    )
    .await?;
    Ok(api::Refund {
        id: refund_id,
        object: "refund".into(),
        settlement_id: rec.id.clone(),
        amount: amount.minor(),
        currency: amount.currency().to_string(),
        status: "succeeded".into(),
        created_at: now,
    })
}

/// Why a settlement cannot be refunded: unknown to this merchant, or not
/// (or no longer) succeeded.
async fn not_refundable(conn: &mut Conn, merchant: &Merchant, id: &str) -> Result<Error> {
    let rec = get(conn, id)
        .await?
        .filter(|r| r.merchant_id == merchant.id && r.merchant_request_at.is_some());
    Ok(match rec {
        None => Error::not_found("settlement_not_found", "No such settlement."),
        Some(r) => Error::conflict(
            "settlement_not_refundable",
            format!("Only succeeded settlements can be refunded; this one is {}.", r.status),
        ),
    })
}
