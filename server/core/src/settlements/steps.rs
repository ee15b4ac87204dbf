//! The pieces the operations share: recording who paid, consuming a payer
//! authenticator, paying, declining, and ending collation with its event.

use kessai_protocol::api::{DeclineCode, Status};

use super::record::{save, Record};
use crate::error::{Error, Result};
use crate::instruments::{self, Resolved};
use crate::ledger::{self, Refusal, TransferKind};
use crate::merchants::Merchant;
use crate::store::Conn;
use crate::{invariant, outbox};

/// What the ledger's refusal means for the buyer.
pub fn refusal_code(refusal: Refusal) -> DeclineCode {
    match refusal {
        Refusal::InsufficientFunds => DeclineCode::InsufficientFunds,
        Refusal::NoSuchAccount => DeclineCode::CardDeclined,
    }
}

/// Notes on the record how the buyer is paying (never the card number).
pub(super) fn record_payer(rec: &mut Record, payer: &Resolved) {
    rec.payment_type = Some(payer.payment_type);
    if let Some((brand, last4)) = &payer.card {
        rec.card_brand = Some(brand.clone()).filter(|b| !b.is_empty());
        rec.card_last4 = Some(last4.clone()).filter(|l| !l.is_empty());
    }
    rec.user_id = payer.user.as_ref().map(|u| u.id.clone());
}

/// Spends the payer authenticator's `jti` inside the step, so that a
/// replayed authenticator fails even when two requests race.
pub(super) async fn consume_authenticator(conn: &mut Conn, payer: &Resolved) -> Result<()> {
    let Some((jti, expires_at)) = &payer.jti else {
        return Ok(());
    };
    let user = payer.user.as_ref().map(|u| u.id.as_str()).unwrap_or_default();
    if instruments::consume_jti(conn, user, jti, *expires_at).await? {
        return Ok(());
    }
    Err(Error::unauthorized(
        "authenticator_reused",
        "This payer authenticator was already used; make a new one.",
    ))
}

/// Ends collation: sets the final (or held) status, and records the event
/// with its webhook, unless the shop has not asked yet (payer-first): then
/// the event is recorded when its first request claims this settlement.
pub(super) async fn finish(
    conn: &mut Conn,
    rec: &mut Record,
    merchant: &Merchant,
    status: Status,
    now: i64,
) -> Result<()> {
    rec.status = status;
    rec.settled_at = Some(now);
    rec.updated_at = now;
    let event_id = crate::ids::new_ordered(kessai_protocol::ids::EVENT);
    rec.result_jti = Some(event_id.clone());
    save(conn, rec).await?;
    if rec.merchant_request_at.is_some() {
        outbox::record(conn, rec, merchant, &event_id, now).await?;
    }
    Ok(())
}

/// Declines the settlement with `code`.
pub(super) async fn decline(
    conn: &mut Conn,
    rec: &mut Record,
    merchant: &Merchant,
    code: DeclineCode,
    now: i64,
) -> Result<()> {
    rec.decline_code = Some(code);
    finish(conn, rec, merchant, Status::Declined, now).await
}

/// Pays the merchant the settlement's amount from `account`, or, with a
/// cooling-off period (C7), only reserves it: it moves when the period
/// ends. A free order (total 0) moves nothing.
pub(super) async fn pay(
    conn: &mut Conn,
    merchant: &Merchant,
    rec: &mut Record,
    account: &str,
    now: i64,
) -> Result<Result<(), Refusal>> {
    rec.payer_account_id = Some(account.to_string());
    if rec.cooling_off_s.is_some() {
        let held = ledger::hold(conn, account, &rec.amount, &rec.id, now).await?;
        return Ok(held.map(|h| rec.hold_id = Some(h)));
    }
    if rec.amount.is_zero() {
        return Ok(Ok(()));
    }
    let payee = ledger::ensure_payee(conn, &merchant.id, rec.amount.currency(), now).await?;
    let moved = ledger::transfer(
        conn,
        TransferKind::Settlement,
        account,
        &payee,
        &rec.amount,
        Some(&rec.id),
        now,
    )
    .await?;
    Ok(moved.map(|_| ()))
}

/// Moves a settlement's held funds to the merchant: the end of a payer-first
/// wait or of a cooling-off period.
pub(super) async fn capture(conn: &mut Conn, merchant: &Merchant, rec: &Record, now: i64) -> Result<()> {
    let hold = rec
        .hold_id
        .as_deref()
        .ok_or_else(|| Error::internal(format!("settlement {} to capture has no hold", rec.id)))?;
    let payee = ledger::ensure_payee(conn, &merchant.id, rec.amount.currency(), now).await?;
    let captured = ledger::capture_hold(conn, hold, &payee, &rec.id, now)
        .await?
        .ok_or_else(|| Error::internal(format!("hold {hold} of {} was not open", rec.id)))?;
    // What moves is what the shop and the buyer agreed on: not a unit more.
    invariant!(
        captured.amount == rec.amount,
        "settlement {}: captured {} but the total is {}",
        rec.id,
        captured.amount,
        rec.amount
    );
    Ok(())
}
