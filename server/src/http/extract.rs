//! Extractors: what a handler needs from a request before it runs, with
//! rejections in the protocol's error shape.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use kessai_core::idempotency::Key;
use kessai_core::merchants::Merchant;
use kessai_core::{throttle, Error, Node};
use kessai_protocol::keys;

use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::tls::ClientCert;

/// The idempotency header (PROTOCOL section 2).
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The request's idempotency key; None when the header is absent.
pub fn idempotency_key(
    headers: &HeaderMap,
    merchant_id: &str,
    method_path: &str,
    body: &[u8],
) -> Result<Option<Key>, Error> {
    headers
        .get(IDEMPOTENCY_HEADER)
        .map(|value| Key::new(value.as_bytes(), merchant_id, method_path, body))
        .transpose()
}

/// The merchant whose secret key authenticated this request.
pub struct AuthedMerchant(pub Arc<Merchant>);

impl FromRequestParts<AppState> for AuthedMerchant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(AuthedMerchant(authenticate(parts, state).await?))
    }
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Arc<Merchant>, Error> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            Error::unauthorized(
                "secret_key_missing",
                "Send your secret key as Authorization: Bearer sk_….",
            )
        })?;
    let key = header.strip_prefix("Bearer ").unwrap_or("").trim();
    if keys::parse_key(keys::SECRET_KEY_PREFIX, key).is_none() {
        return Err(Error::unauthorized(
            "secret_key_invalid",
            "The Authorization header does not hold a Kessai secret key (Bearer sk_…).",
        ));
    }
    let merchant = state
        .node
        .merchants
        .by_secret_key(&state.node.reader, &state.node.keyring, key)
        .await?
        .ok_or_else(|| Error::unauthorized("secret_key_invalid", "No merchant has this secret key."))?;
    check_bound_certificate(&merchant, parts.extensions.get::<ClientCert>())?;
    Ok(merchant)
}

/// A merchant bound to a certificate (`--client-cert-sha256`) is only
/// itself with that certificate: a stolen secret key alone is not enough.
fn check_bound_certificate(merchant: &Merchant, presented: Option<&ClientCert>) -> Result<(), Error> {
    match (&merchant.client_cert_sha256, presented) {
        (None, _) => Ok(()),
        (Some(bound), Some(cert)) if *bound == cert.sha256 => Ok(()),
        (Some(_), _) => Err(Error::unauthorized(
            "client_certificate_mismatch",
            "This merchant's secret key must be sent over a connection with its own TLS client certificate.",
        )),
    }
}

/// The client's source address, as the per-address limits key it (IPv6 by
/// its /64, [`kessai_core::throttle::source_key`]). From the connection
/// itself, never from a header a client could write (`X-Forwarded-For`);
/// None when the request did not come through our accept loop (a router
/// driven in-process), which is then not limited by address.
///
/// A guessable endpoint checks it before doing any work and counts only its
/// failures: `source.check(&state.node, now)?` first, then
/// `source.count_failure(&state.node, now)` on a decline or wrong secret.
pub struct SourceAddress(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for SourceAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(SourceAddress(
            peer.map(|ConnectInfo(addr)| throttle::source_key(addr.ip())),
        ))
    }
}

impl SourceAddress {
    /// 429 `rate_limited` (with Retry-After) when this address has used up
    /// its failures for the minute; counts nothing.
    pub fn check(&self, node: &Node, now: i64) -> Result<(), Error> {
        match &self.0 {
            Some(key) => node.payer_throttles.source.check(key, now, "address"),
            None => Ok(()),
        }
    }

    /// Counts one failed attempt (a decline, a wrong password) from here.
    pub fn count_failure(&self, node: &Node, now: i64) {
        if let Some(key) = &self.0 {
            node.payer_throttles.source.count(key, now);
        }
    }
}

/// The session's bearer token, from `Authorization: Bearer wt_…`.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<&str, Error> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| t.starts_with(kessai_protocol::wallet::SESSION_TOKEN_PREFIX))
        .ok_or_else(|| {
            Error::unauthorized(
                "session_missing",
                "Send the wallet session token as `Authorization: Bearer wt_…` (POST /v1/wallet/sessions gives one).",
            )
        })
}

/// The wallet user whose live session token the request carries (401 otherwise).
pub(crate) async fn session_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<kessai_core::wallet::WalletUser, Error> {
    kessai_core::wallet::sessions::authenticate(&state.node.reader, bearer(headers)?, kessai_core::clock::now()).await
}
