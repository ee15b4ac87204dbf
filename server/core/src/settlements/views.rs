//! What a settlement looks like to the shop (`view`, the result token) and
//! to the buyer (`confirm_result`, the payer token).

use kessai_protocol::api::{self, CardSummary, ConfirmResult, Status};
use kessai_protocol::jws::{self, ResultClaims};

use super::record::Record;
use crate::keyring::Keyring;
use crate::merchants::Merchant;

/// The collation outcome a result token reports: refunds later change the
/// status, not what was settled.
fn outcome(rec: &Record) -> Option<Status> {
    match rec.status {
        Status::Refunded | Status::PartiallyRefunded => Some(Status::Succeeded),
        // Paid, funds reserved for the cooling-off period: the shop may
        // ship; a cancellation within the period gives the money back.
        Status::Held => Some(Status::Held),
        s if s.is_final() => Some(s),
        _ => None,
    }
}

fn result_claims(rec: &Record, audience: &str, outcome: Status) -> ResultClaims {
    ResultClaims {
        iss: "kessai".into(),
        aud: audience.to_string(),
        sub: rec.id.clone(),
        order_id: rec.order_id.clone(),
        status: outcome.as_str().to_string(),
        total: rec.amount.minor(),
        currency: rec.amount.currency().to_string(),
        order_digest: rec.order_digest.clone(),
        iat: rec.settled_at.unwrap_or(rec.updated_at),
        jti: rec.result_jti.clone().unwrap_or_else(|| rec.id.clone()),
    }
}

/// The result token for the shop (A6): reproducible from the record, so a
/// repeated request gets the very same token. `try_sign`, not `sign`: this
/// runs on the writer thread, where even an impossible panic must not be.
pub fn result_token(rec: &Record, merchant: &Merchant) -> Option<String> {
    let outcome = outcome(rec)?;
    jws::try_sign(&merchant.result_key, &result_claims(rec, &merchant.id, outcome)).ok()
}

/// The payer token for the user (A10, claims 11): same claims, `aud` = user.
pub fn payer_token(rec: &Record, user_key: Option<&[u8; 32]>) -> Option<String> {
    let outcome = outcome(rec)?;
    let (user_id, key) = (rec.user_id.as_ref()?, user_key?);
    jws::try_sign(key, &result_claims(rec, user_id, outcome)).ok()
}

fn card_summary(rec: &Record) -> Option<CardSummary> {
    match (&rec.card_brand, &rec.card_last4) {
        (Some(brand), Some(last4)) => Some(CardSummary {
            brand: brand.clone(),
            last4: last4.clone(),
        }),
        _ => None,
    }
}

fn mismatched(rec: &Record) -> Option<Vec<String>> {
    (!rec.mismatched_fields.is_empty()).then(|| rec.mismatched_fields.clone())
}

/// The settlement as the merchant sees it. `keyring` is given when the
/// answer may carry the client secret (the merchant's own requests);
/// webhook payloads never do.
pub fn view(rec: &Record, merchant: &Merchant, keyring: Option<&Keyring>) -> api::Settlement {
    api::Settlement {
        id: rec.id.clone(),
        object: "settlement".into(),
        status: rec.status,
        order_id: rec.order_id.clone(),
        order_digest: rec.order_digest.clone(),
        currency: rec.amount.currency().to_string(),
        total: rec.amount.minor(),
        client_secret: keyring
            .filter(|_| rec.status == Status::AwaitingPayer)
            .map(|k| k.client_secret(&rec.id)),
        decline_code: rec.decline_code,
        mismatched_fields: mismatched(rec),
        card: card_summary(rec),
        result_token: result_token(rec, merchant),
        refunded: rec.refunded.minor(),
        created_at: rec.created_at,
        expires_at: rec.expires_at,
        settled_at: rec.settled_at,
    }
}

/// The answer to the buyer's second request and to the payer's polling.
pub fn confirm_result(rec: &Record, merchant: &Merchant, user_key: Option<&[u8; 32]>) -> ConfirmResult {
    ConfirmResult {
        id: rec.id.clone(),
        status: rec.status,
        order_id: rec.order_id.clone(),
        currency: rec.amount.currency().to_string(),
        total: rec.amount.minor(),
        result_token: result_token(rec, merchant),
        payer_token: payer_token(rec, user_key),
        card: card_summary(rec),
        decline_code: rec.decline_code,
        mismatched_fields: mismatched(rec),
        payer_secret: None,
        expires_at: Some(rec.expires_at),
    }
}
