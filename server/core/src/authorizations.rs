//! Payment authorizations between institutions (PROTOCOL 11): the issuer
//! (the buyer's institution) holds the buyer's funds and guarantees the
//! payment to the acquirer (the shop's); the acquirer settles against its
//! *due from* account for the issuer; the issuer, once it learns the
//! acquirer used the authorization for a settlement that succeeded, captures
//! the hold into its *due to* account for the acquirer, or releases it.
//!
//! Money moves exactly once across both ledgers because each side's step is
//! one transaction on its own ledger, and the issuer's record of every
//! authorization it has not resolved is durable: a worker asks the acquirer
//! until it knows (`POST /v1/peer/authorizations/status`). An authorization
//! the acquirer never used is released once it has expired: the acquirer
//! never accepts one after its `exp`.

use kessai_protocol::api::{DeclineCode, Status};
use kessai_protocol::money::Money;
use kessai_protocol::peer::{
    AuthorizationState, InstitutionKey, PaymentAuthorization, UseState, AUTHORIZATION_TTL_MAX_S,
};

use crate::args;
use crate::error::{Error, Result};
use crate::invariant;
use crate::ledger::{self, TransferKind};
use crate::peers::Peer;
use crate::store::{Conn, Reader};

/// How long the authorizations this institution issues live, unless told
/// otherwise: long enough for the acquirer to collate and settle; the
/// protocol's maximum.
pub const AUTHORIZATION_TTL_S: i64 = AUTHORIZATION_TTL_MAX_S;
/// Pending authorizations the worker resolves per round.
pub const PENDING_BATCH_LEN_MAX: i64 = 100;

/// An authorization to issue: for which settlement at which peer, from
/// which of this institution's accounts, under which brand.
#[derive(Debug, Clone)]
pub struct Grant {
    pub peer_id: String,
    pub settlement_id: String,
    pub order_digest: String,
    pub amount: Money,
    pub account_id: String,
    pub brand: String,
}

/// Signs the authorization for `grant` (outside the writer: signing is pure).
/// `ttl_s` is clamped to 1 ..= the protocol's maximum.
pub fn sign(
    key: &InstitutionKey,
    own_id: &str,
    grant: &Grant,
    now: i64,
    ttl_s: i64,
) -> Result<(String, PaymentAuthorization)> {
    let claims = PaymentAuthorization {
        iss: own_id.to_string(),
        aud: grant.peer_id.clone(),
        sub: grant.settlement_id.clone(),
        order_digest: grant.order_digest.clone(),
        total: grant.amount.minor(),
        currency: grant.amount.currency().to_string(),
        brand: grant.brand.clone(),
        iat: now,
        exp: now.saturating_add(ttl_s.clamp(1, AUTHORIZATION_TTL_MAX_S)),
        jti: crate::ids::new_ordered(kessai_protocol::ids::PAYMENT_AUTHORIZATION),
    };
    let token = key
        .sign(&claims)
        .map_err(|e| Error::internal(format!("signing a payment authorization: {e}")))?;
    Ok((token, claims))
}

/// Issuer, in a writer step: holds the buyer's funds and records the
/// authorization as pending, both or neither. A refusal is the decline the
/// acquirer passes on.
pub async fn hold_for(
    conn: &mut Conn,
    grant: &Grant,
    claims: &PaymentAuthorization,
    first_check_at: i64,
) -> Result<std::result::Result<(), DeclineCode>> {
    let now = claims.iat;
    let hold = ledger::hold(conn, &grant.account_id, &grant.amount, &claims.jti, now).await?;
    let hold_id = match hold {
        Ok(h) => h,
        Err(refusal) => return Ok(Err(crate::settlements::refusal_code(refusal))),
    };
    conn.execute(
        "INSERT INTO issued_authorizations (jti, peer_id, settlement_id, account_id, hold_id, amount, currency, brand,
             status, expires_at, next_check_at, checks, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, 0, $11)",
        args![
            &claims.jti,
            &grant.peer_id,
            &grant.settlement_id,
            &grant.account_id,
            &hold_id,
            grant.amount.minor_i64(),
            grant.amount.currency(),
            &grant.brand,
            claims.exp,
            first_check_at,
            now
        ],
    )
    .await?;
    Ok(Ok(()))
}

/// An issued authorization whose outcome is not known yet.
#[derive(Debug, Clone)]
pub struct Pending {
    pub jti: String,
    pub peer_id: String,
    pub expires_at: i64,
    pub checks: i64,
}

/// Pending authorizations due for a check, oldest first.
pub async fn pending_due(pool: &Reader, now: i64) -> Result<Vec<Pending>> {
    let rows = crate::store::pool_all(
        pool,
        "SELECT jti, peer_id, expires_at, checks FROM issued_authorizations
         WHERE status = 'pending' AND next_check_at <= $1 ORDER BY next_check_at LIMIT $2",
        args![now, PENDING_BATCH_LEN_MAX],
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Pending {
                jti: r.try_get("jti")?,
                peer_id: r.try_get("peer_id")?,
                expires_at: r.try_get("expires_at")?,
                checks: r.try_get("checks")?,
            })
        })
        .collect()
}

/// What the issuer does with a pending authorization, given what the
/// acquirer said of it (None: no answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// The acquirer's settlement succeeded: the funds go to the acquirer.
    Capture,
    /// It did not, or never will: the funds go back to the buyer.
    Release,
    /// Not known yet: ask again at this time.
    AskAgainAt(i64),
}

/// The decision, from the acquirer's answer. Pure, so every case is tested.
pub fn resolution(pending: &Pending, answer: Option<&AuthorizationState>, now: i64) -> Resolution {
    // Backoff between checks: 1, 2, 4 … seconds, at most a minute.
    let wait_s = 1_i64 << pending.checks.clamp(0, 6);
    let later = Resolution::AskAgainAt(now.saturating_add(wait_s.min(60)));
    match answer {
        Some(AuthorizationState {
            state: UseState::Used,
            status: Some(status),
            ..
        }) => match status {
            Status::Succeeded | Status::Refunded | Status::PartiallyRefunded => Resolution::Capture,
            s if s.is_final() => Resolution::Release,
            _ => later,
        },
        // Unused past its expiry: the acquirer will never accept it now.
        Some(AuthorizationState {
            state: UseState::Unused,
            ..
        }) if now > pending.expires_at => Resolution::Release,
        _ => later,
    }
}

/// Issuer, in a writer step: applies `resolution` to the authorization
/// `jti` if it is still pending (a concurrent worker may have done it).
/// Returns whether money moved or was released.
pub async fn resolve(conn: &mut Conn, jti: &str, resolution: Resolution, now: i64) -> Result<bool> {
    if let Resolution::AskAgainAt(at) = resolution {
        conn.execute(
            "UPDATE issued_authorizations SET next_check_at = $2, checks = checks + 1
             WHERE jti = $1 AND status = 'pending'",
            args![jti, at],
        )
        .await?;
        return Ok(false);
    }
    let status = if resolution == Resolution::Capture {
        "captured"
    } else {
        "released"
    };
    let claimed = conn
        .fetch_optional(
            "UPDATE issued_authorizations SET status = $2, resolved_at = $3 WHERE jti = $1 AND status = 'pending'
             RETURNING peer_id, hold_id, amount, currency",
            args![jti, status, now],
        )
        .await?;
    let Some(row) = claimed else { return Ok(false) };
    let hold_id: String = row.try_get("hold_id")?;
    if resolution == Resolution::Release {
        ledger::release_hold(conn, &hold_id).await?;
        return Ok(true);
    }
    let (peer_id, currency): (String, String) = (row.try_get("peer_id")?, row.try_get("currency")?);
    let amount: i64 = row.try_get("amount")?;
    let due_to = ledger::ensure_due_to(conn, &peer_id, &currency, now).await?;
    let captured = ledger::capture_hold_as(conn, TransferKind::PeerSettlement, &hold_id, &due_to, jti, now)
        .await?
        .ok_or_else(|| Error::internal(format!("hold {hold_id} of authorization {jti} was not open")))?;
    invariant!(
        captured.amount.minor_i64() == amount,
        "authorization {jti}: captured {} but it guaranteed {amount}",
        captured.amount
    );
    Ok(true)
}

/// Acquirer: checks an authorization from `issuer` for this settlement.
/// Any failure is a reason to decline (`authentication_failed`), never to
/// move money.
pub fn verify(
    issuer: &Peer,
    own_id: &str,
    token: &str,
    settlement_id: &str,
    order_digest: &str,
    amount: &Money,
    now: i64,
) -> std::result::Result<PaymentAuthorization, &'static str> {
    let claims: PaymentAuthorization = issuer.key.verify(token).map_err(|_| "signature")?;
    let checks = [
        (claims.iss == issuer.id, "issuer"),
        (claims.aud == own_id, "audience"),
        (
            claims.exp > now && claims.exp - claims.iat <= AUTHORIZATION_TTL_MAX_S,
            "expiry",
        ),
        (claims.sub == settlement_id, "settlement"),
        (claims.order_digest == order_digest, "order digest"),
        (
            claims.total == amount.minor() && claims.currency == amount.currency(),
            "amount",
        ),
        (
            kessai_protocol::ids::is_id(kessai_protocol::ids::PAYMENT_AUTHORIZATION, &claims.jti),
            "jti",
        ),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, what)) => Err(what),
        None => Ok(claims),
    }
}

/// Acquirer, in the settlement's writer step: accepts the authorization
/// once. False when it was accepted before (a replay).
pub async fn accept(conn: &mut Conn, jti: &str, issuer_id: &str, settlement_id: &str, now: i64) -> Result<bool> {
    let inserted = conn
        .execute(
            "INSERT INTO received_authorizations (jti, peer_id, settlement_id, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (jti) DO NOTHING",
            args![jti, issuer_id, settlement_id, now],
        )
        .await?;
    Ok(inserted == 1)
}

/// Acquirer: what became of the authorizations `jtis` that `issuer_id`
/// issued to it.
pub async fn states(pool: &Reader, issuer_id: &str, jtis: &[String]) -> Result<Vec<AuthorizationState>> {
    let mut states = Vec::with_capacity(jtis.len());
    for jti in jtis {
        let row = crate::store::pool_optional(
            pool,
            "SELECT r.settlement_id, s.status FROM received_authorizations r
             JOIN settlements s ON s.id = r.settlement_id WHERE r.jti = $1 AND r.peer_id = $2",
            args![jti, issuer_id],
        )
        .await?;
        let state = match row {
            Some(row) => {
                let status: String = row.try_get("status")?;
                AuthorizationState {
                    jti: jti.clone(),
                    state: UseState::Used,
                    settlement_id: Some(row.try_get("settlement_id")?),
                    status: Some(Status::parse(&status).ok_or_else(|| Error::internal(format!("status {status:?}")))?),
                }
            }
            None => AuthorizationState {
                jti: jti.clone(),
                state: UseState::Unused,
                settlement_id: None,
                status: None,
            },
        };
        states.push(state);
    }
    Ok(states)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(expires_at: i64) -> Pending {
        Pending {
            jti: "pau_x".into(),
            peer_id: "ins_y".into(),
            expires_at,
            checks: 0,
        }
    }

    fn used(status: Status) -> AuthorizationState {
        AuthorizationState {
            jti: "pau_x".into(),
            state: UseState::Used,
            settlement_id: Some("stl_y".into()),
            status: Some(status),
        }
    }

    #[test]
    fn the_issuer_captures_only_what_the_acquirer_settled() {
        let p = pending(1_000);
        assert_eq!(resolution(&p, Some(&used(Status::Succeeded)), 10), Resolution::Capture);
        assert_eq!(
            resolution(&p, Some(&used(Status::PartiallyRefunded)), 10),
            Resolution::Capture
        );
        for status in [Status::Declined, Status::Mismatched, Status::Expired, Status::Canceled] {
            assert_eq!(resolution(&p, Some(&used(status)), 10), Resolution::Release, "{status}");
        }
        // Held (cooling-off) or still open: not yet.
        assert!(matches!(
            resolution(&p, Some(&used(Status::Held)), 10),
            Resolution::AskAgainAt(_)
        ));
    }

    #[test]
    fn unused_is_final_only_after_expiry_and_silence_is_never_final() {
        let unused = AuthorizationState {
            jti: "pau_x".into(),
            state: UseState::Unused,
            settlement_id: None,
            status: None,
        };
        assert_eq!(resolution(&pending(100), Some(&unused), 50), Resolution::AskAgainAt(51));
        assert_eq!(resolution(&pending(100), Some(&unused), 101), Resolution::Release);
        assert!(matches!(
            resolution(&pending(100), None, 10_000),
            Resolution::AskAgainAt(_)
        ));
        let mut often = pending(100);
        often.checks = 50;
        assert_eq!(resolution(&often, None, 0), Resolution::AskAgainAt(60));
    }

    fn issuer(key: &InstitutionKey) -> Peer {
        Peer {
            id: "ins_issuer".into(),
            name: "Sakura Bank".into(),
            url: "http://127.0.0.1:9".into(),
            brands: vec!["sakura-debit".into()],
            currencies: vec!["JPY".into()],
            card_prefix: "412345".into(),
            key: key.public(),
            credit_limits: Vec::new(),
        }
    }

    fn grant() -> Grant {
        Grant {
            peer_id: "ins_acquirer".into(),
            settlement_id: "stl_y".into(),
            order_digest: "sha256:d".into(),
            amount: Money::new(1155, "JPY", "total").unwrap(),
            account_id: "acc_buyer".into(),
            brand: "sakura-debit".into(),
        }
    }

    #[test]
    fn the_acquirer_believes_an_authorization_only_for_itself_this_order_and_in_time() {
        let key = InstitutionKey::from_seed(&[1; 32]);
        let peer = issuer(&key);
        let g = grant();
        let (token, claims) = sign(&key, "ins_issuer", &g, 1_000, AUTHORIZATION_TTL_S).unwrap();
        let check = |own: &str, sub: &str, digest: &str, amount: &Money, now: i64| {
            verify(&peer, own, &token, sub, digest, amount, now)
        };
        assert_eq!(
            check("ins_acquirer", "stl_y", "sha256:d", &g.amount, 1_010).unwrap(),
            claims
        );
        let other = g.amount.with_minor(1156).unwrap();
        let yen = Money::new(1155, "USD", "total").unwrap();
        let cases = [
            (check("ins_other", "stl_y", "sha256:d", &g.amount, 1_010), "audience"),
            (
                check(
                    "ins_acquirer",
                    "stl_y",
                    "sha256:d",
                    &g.amount,
                    1_000 + AUTHORIZATION_TTL_S,
                ),
                "expiry",
            ),
            (
                check("ins_acquirer", "stl_z", "sha256:d", &g.amount, 1_010),
                "settlement",
            ),
            (
                check("ins_acquirer", "stl_y", "sha256:e", &g.amount, 1_010),
                "order digest",
            ),
            (check("ins_acquirer", "stl_y", "sha256:d", &other, 1_010), "amount"),
            (check("ins_acquirer", "stl_y", "sha256:d", &yen, 1_010), "amount"),
        ];
        for (result, what) in cases {
            assert_eq!(result.unwrap_err(), what);
        }
        // Signed by a key other than the pinned one: not believed at all.
        let stranger = InstitutionKey::from_seed(&[2; 32]);
        let (forged, _) = sign(&stranger, "ins_issuer", &g, 1_000, AUTHORIZATION_TTL_S).unwrap();
        assert!(verify(&peer, "ins_acquirer", &forged, "stl_y", "sha256:d", &g.amount, 1_010).is_err());
    }
}
