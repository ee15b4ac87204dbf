//! The buyer's second settlement request (A3 to A5, A10 to A12): claim the
//! settlement, collate the two orders, then pay, hold or decline.

use kessai_protocol::api::{DeclineCode, Status};
use kessai_protocol::Order;

use super::expiry::expire;
use super::record::{claim, get, Record};
use super::steps::{consume_authenticator, decline, finish, pay, record_payer, refusal_code};
use crate::collation::{self, MerchantSide};
use crate::error::{Error, Result};
use crate::instruments::{self, Funding, PeerFunding, Resolved};
use crate::merchants::Merchant;
use crate::store::Conn;
use crate::terminals::payers;
use crate::{authorizations, ledger};

/// Returns the record after the step. A repeated or late request gets the
/// first outcome unchanged: only the claim's winner moves money.
pub async fn confirm(
    conn: &mut Conn,
    merchant: &Merchant,
    settlement_id: &str,
    payer_order: &Order,
    payer: &Resolved,
    now: i64,
) -> Result<Record> {
    // The claim: only one request can move a settlement out of awaiting_payer.
    let claimed = claim(
        conn,
        settlement_id,
        "status = 'awaiting_payer' AND expires_at > $2",
        now,
    )
    .await?;
    let Some(mut rec) = claimed else {
        return not_claimable(conn, merchant, settlement_id, now).await;
    };
    // Counted with the attempt it came with: a wrong CVC locks the card
    // after a few, on every server at once.
    instruments::record_guess(conn, payer.guess.as_ref(), now).await?;
    if let Funding::Peer(peer) = &payer.funding {
        // Accepted before collation, so that the issuer learns this
        // settlement's outcome (a mismatch too) and releases its hold.
        accept_authorization(conn, peer, &rec.id, now).await?;
    }
    let differ = collate(&rec, payer_order)?;
    record_payer(&mut rec, payer);
    if !differ.is_empty() {
        // A4: any disagreement means no settlement; no money moves.
        rec.mismatched_fields = differ;
        finish(conn, &mut rec, merchant, Status::Mismatched, now).await?;
        return Ok(rec);
    }
    consume_authenticator(conn, payer).await?;
    if !matches!(payer.funding, Funding::Declined(_)) && restricted(conn, &rec, &payer.funding, now).await? {
        decline(conn, &mut rec, merchant, DeclineCode::Restricted, now).await?;
        return Ok(rec);
    }
    let account = match &payer.funding {
        Funding::Declined(code) => {
            decline(conn, &mut rec, merchant, *code, now).await?;
            return Ok(rec);
        }
        Funding::Account(account) => account.clone(),
        Funding::Peer(peer) => ledger::ensure_due_from(conn, &peer.peer_id, &peer.credit_limit, now).await?,
    };
    if !rec.brand_accepted() {
        decline(conn, &mut rec, merchant, DeclineCode::CardDeclined, now).await?;
        return Ok(rec);
    }
    match pay(conn, merchant, &mut rec, &account, now).await? {
        Err(refusal) => decline(conn, &mut rec, merchant, refusal_code(refusal), now).await?,
        Ok(()) if rec.hold_id.is_some() => {
            rec.capture_at = rec.cooling_off_s.map(|c| now.saturating_add(c));
            finish(conn, &mut rec, merchant, Status::Held, now).await?;
        }
        Ok(()) => finish(conn, &mut rec, merchant, Status::Succeeded, now).await?,
    }
    Ok(rec)
}

/// Whether the shop's age restriction (C8) refuses this payer: judged by
/// the birth date held for the paying account (the wallet user's or the
/// card's); none on file is refused. A peer's payer is always refused: the
/// peer protocol (section 11) carries no age, and the issuer's birth dates
/// stay with the issuer.
async fn restricted(conn: &mut Conn, rec: &Record, funding: &Funding, now: i64) -> Result<bool> {
    let account = match funding {
        Funding::Account(account) => Some(account.as_str()),
        Funding::Peer(_) | Funding::Declined(_) => None,
    };
    payers::restricted(conn, rec.min_age, account, now).await
}

/// Takes a peer's payment authorization for this settlement, once.
async fn accept_authorization(conn: &mut Conn, peer: &PeerFunding, settlement_id: &str, now: i64) -> Result<()> {
    if authorizations::accept(conn, &peer.jti, &peer.peer_id, settlement_id, now).await? {
        return Ok(());
    }
    Err(Error::unauthorized(
        "authorization_reused",
        "This payment authorization was already used; the issuer must make a new one.",
    ))
}

/// The names of the fields in which the shop's and the buyer's orders differ.
fn collate(rec: &Record, payer_order: &Order) -> Result<Vec<String>> {
    let merchant_order = rec.order()?;
    let side = MerchantSide {
        order_id: &rec.order_id,
        currency: rec.amount.currency(),
        total: rec.amount.minor(),
        order_digest: &rec.order_digest,
        order: merchant_order.as_ref(),
        order_id_assigned: rec.order_id_assigned,
    };
    Ok(collation::collate(&side, payer_order)
        .into_iter()
        .map(String::from)
        .collect())
}

/// Why a settlement could not be claimed: a repeat gets the first outcome;
/// a settlement past its time is expired here and then; others are errors.
async fn not_claimable(conn: &mut Conn, merchant: &Merchant, settlement_id: &str, now: i64) -> Result<Record> {
    let mut rec = get(conn, settlement_id)
        .await?
        .ok_or_else(|| Error::not_found("settlement_not_found", "No such settlement."))?;
    if rec.status == Status::AwaitingPayer && rec.expires_at <= now {
        expire(conn, merchant, &mut rec, now).await?;
    }
    // Expired and canceled are returned, not raised: an error would roll
    // back the expiry just recorded. The caller turns them into 409s.
    match rec.status {
        Status::AwaitingMerchant => Err(Error::conflict(
            "settlement_awaiting_merchant",
            "This settlement is waiting for the shop's request.",
        )),
        _ => Ok(rec),
    }
}

/// The error a payer gets for a settlement that can no longer be paid.
pub fn closed_error(rec: &Record) -> Option<Error> {
    match rec.status {
        Status::Expired => Some(Error::conflict(
            "settlement_expired",
            "This settlement expired before it was paid; ask the shop for a new one.",
        )),
        Status::Canceled => Some(Error::conflict(
            "settlement_canceled",
            "The shop canceled this settlement.",
        )),
        _ => None,
    }
}
