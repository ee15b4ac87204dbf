//! Requests from peers (PROTOCOL 11): who sent it, and whether to believe
//! it. A request is `{"request": "<compact JWS>"}`; everything it asks is
//! inside the signed claims, so no part of it can disagree with the
//! signature. It is believed only when signed by a pinned peer's key, sent
//! by that peer, to this institution, and fresh.

use kessai_protocol::peer::{self, PeerClaims, PeerJwsError, PeerRequest};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::peers::{self, Peer};
use crate::store::Reader;

/// How far ahead of this clock a peer's may run.
const CLOCK_SKEW_S: i64 = 60;

fn refused(code: &'static str, message: &str) -> Error {
    Error::unauthorized(code, message)
}

/// The peer that sent `body`, and what it asks, once every check passed.
pub async fn authenticate<C: DeserializeOwned + PeerClaims>(
    pool: &Reader,
    own_id: &str,
    body: &[u8],
    now: i64,
) -> Result<(Peer, C)> {
    let malformed = |what: &str| Error::BadJson {
        code: "peer_request_malformed",
        message: format!("A peer request is {{\"request\": \"<compact JWS>\"}}; {what}."),
        param: Some("request".into()),
    };
    let PeerRequest { request } = serde_json::from_slice(body).map_err(|_| malformed("this body is not that"))?;
    // The token is the request's credential: one that cannot even name its
    // signer fails authentication (401), as a malformed bearer token does
    // (RFC 6750), rather than being a malformed request.
    let (kid, _) = peer::peek::<serde_json::Value>(&request).map_err(|_| {
        refused(
            "peer_token_malformed",
            "The request is not a compact EdDSA JWS with a kid, so it cannot be authenticated.",
        )
    })?;
    let Some(sender) = peers::by_thumbprint(pool, &kid).await? else {
        return Err(refused(
            "peer_unknown",
            "No peer of this institution has the key that signed this request.",
        ));
    };
    let claims: C = sender.key.verify(&request).map_err(|e| match e {
        PeerJwsError::Claims => malformed("its claims are not those of this request"),
        _ => refused(
            "peer_signature_invalid",
            "The request's signature does not verify with the peer's pinned key.",
        ),
    })?;
    if claims.iss() != sender.id {
        return Err(refused(
            "peer_unknown",
            "The request names a sender other than the peer whose key signed it.",
        ));
    }
    if claims.aud() != own_id {
        return Err(refused(
            "peer_audience_invalid",
            "The request is addressed to another institution.",
        ));
    }
    let fresh = claims.exp() > now
        && claims.iat() <= now + CLOCK_SKEW_S
        && claims.exp() - claims.iat() <= peer::REQUEST_TTL_MAX_S;
    if !fresh {
        return Err(refused(
            "peer_request_expired",
            "The request has expired or its times are out of range; sign a new one.",
        ));
    }
    Ok((sender, claims))
}
