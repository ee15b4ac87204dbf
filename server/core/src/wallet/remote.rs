//! Wallet payments to shops of other institutions, on the issuer's side
//! (PROTOCOL 11 and 12): one row per settlement at the acquirer, written in
//! the same step as the hold and the issued authorization, so that a start
//! message sent twice never holds or pays twice. What became of the
//! authorization is `issued_authorizations.status`; the settlement's
//! outcome at the acquirer is kept here once known, for repeats and history.

use kessai_protocol::api::{DeclineCode, Status};
use kessai_protocol::peer::PaymentAuthorization;

use crate::args;
use crate::authorizations::{self, Grant, Resolution};
use crate::error::{Error, Result};
use crate::store::{Conn, Reader};

/// A wallet payment in flight or done.
#[derive(Debug, Clone)]
pub struct RemotePayment {
    pub peer_id: String,
    pub settlement_id: String,
    pub user_id: String,
    pub jti: String,
    /// The signed authorization, sent again as it is when a start message is
    /// repeated before it expires.
    pub authorization: String,
    pub expires_at: i64,
    /// `pending`, `captured` or `released` (the issued authorization's state).
    pub state: String,
    /// The settlement's status at the acquirer, once known.
    pub outcome: Option<Status>,
    pub result_token: Option<String>,
}

/// What the shop and order were, for the history.
#[derive(Debug, Clone)]
pub struct Shop {
    pub merchant_name: String,
    pub order_id: String,
}

/// The wallet payment of a settlement at `peer_id`, if any.
pub async fn get(pool: &Reader, peer_id: &str, settlement_id: &str) -> Result<Option<RemotePayment>> {
    let row = crate::store::pool_optional(
        pool,
        "SELECT w.peer_id, w.settlement_id, w.user_id, w.jti, w.\"authorization\", w.outcome, w.result_token,
                a.status, a.expires_at
         FROM wallet_payments w JOIN issued_authorizations a ON a.jti = w.jti
         WHERE w.peer_id = $1 AND w.settlement_id = $2",
        args![peer_id, settlement_id],
    )
    .await?;
    let Some(r) = row else { return Ok(None) };
    let outcome: Option<String> = r.try_get("outcome")?;
    Ok(Some(RemotePayment {
        peer_id: r.try_get("peer_id")?,
        settlement_id: r.try_get("settlement_id")?,
        user_id: r.try_get("user_id")?,
        jti: r.try_get("jti")?,
        authorization: r.try_get("authorization")?,
        expires_at: r.try_get("expires_at")?,
        state: r.try_get("status")?,
        outcome: outcome.as_deref().and_then(Status::parse),
        result_token: r.try_get("result_token")?,
    }))
}

/// How starting a wallet payment went.
#[derive(Debug)]
pub enum Begun {
    /// Held and recorded: send the authorization.
    Started,
    /// This settlement already has a wallet payment (a repeat, or a race).
    Exists,
    /// The buyer's account cannot pay it; nothing was held or recorded.
    Declined(DeclineCode),
}

/// In one writer step: records the wallet payment, holds the buyer's funds
/// and records the authorization as pending (all or nothing).
pub async fn begin(
    conn: &mut Conn,
    user_id: &str,
    shop: &Shop,
    grant: &Grant,
    token: &str,
    claims: &PaymentAuthorization,
    first_check_at: i64,
) -> Result<Begun> {
    let inserted = conn
        .execute(
            "INSERT INTO wallet_payments (peer_id, settlement_id, user_id, jti, \"authorization\", merchant_name,
                 order_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (peer_id, settlement_id) DO NOTHING",
            args![
                &grant.peer_id,
                &grant.settlement_id,
                user_id,
                &claims.jti,
                token,
                &shop.merchant_name,
                &shop.order_id,
                claims.iat
            ],
        )
        .await?;
    if inserted == 0 {
        return Ok(Begun::Exists);
    }
    match authorizations::hold_for(conn, grant, claims, first_check_at).await? {
        Ok(()) => Ok(Begun::Started),
        // Undo the row: a declined attempt leaves nothing behind, so the
        // user can pay the same settlement from another account.
        Err(code) => Err(Error::Declined(code)),
    }
}

/// In a writer step: the acquirer refused the authorization outright (an
/// error answer, so it never accepted it) or its settlement can no longer
/// use it: the hold is released and the record dropped, so that the same
/// settlement can be tried again.
pub async fn abandon(conn: &mut Conn, payment: &RemotePayment, now: i64) -> Result<()> {
    authorizations::resolve(conn, &payment.jti, Resolution::Release, now).await?;
    conn.execute("DELETE FROM wallet_payments WHERE jti = $1", args![&payment.jti])
        .await?;
    Ok(())
}

/// In a writer step: what the acquirer said the settlement became.
pub async fn record_outcome(conn: &mut Conn, jti: &str, outcome: Status, result_token: Option<&str>) -> Result<()> {
    conn.execute(
        "UPDATE wallet_payments SET outcome = $2, result_token = $3 WHERE jti = $1",
        args![jti, outcome.as_str(), result_token],
    )
    .await?;
    Ok(())
}
