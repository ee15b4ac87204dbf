//! Institution to institution (PROTOCOL 11). Every request is signed by a
//! pinned peer (`kessai_core::peer_requests`); anything else is refused with
//! the error shape and changes nothing.
//! - `POST /v1/peer/card-authorizations`: as the card's issuer, authenticate
//!   the card, hold the funds and guarantee the payment (C15).
//! - `POST /v1/peer/authorizations/status`: as acquirer, say what became of
//!   the authorizations the asking peer issued.
//! - `POST /v1/peer/positions`: what this institution and the peer owe each
//!   other, for `kessai peer reconcile`.

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use kessai_core::authorizations::{self, Grant};
use kessai_core::institution::{self, Institution};
use kessai_core::instruments::{self, Funding};
use kessai_core::peer_requests::authenticate;
use kessai_core::peers::{self, Peer};
use kessai_core::{Error, Result};
use kessai_protocol::api::{CardDetails, ErrorBody};
use kessai_protocol::money::Money;
use kessai_protocol::peer::{
    CardAuthorizationAnswer, CardAuthorizationRequest, PeerRequest, PositionsAnswer, PositionsRequest, StatusAnswer,
    StatusRequest, STATUS_JTIS_MAX,
};
use kessai_protocol::Secret;

use crate::http::error::ApiResult;
use crate::http::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/peer/card-authorizations", post(card_authorization))
        .route("/v1/peer/authorizations/status", post(status))
        .route("/v1/peer/positions", post(positions))
}

async fn own(state: &AppState) -> Result<Institution> {
    institution::current(&state.node.reader, &state.node.keyring).await
}

/// The issuer's side of a card payment at a peer.
#[utoipa::path(post, path = "/v1/peer/card-authorizations", operation_id = "peer_card_authorization",
    tag = "institution", request_body = PeerRequest,
    responses((status = 200, body = CardAuthorizationAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn card_authorization(
    State(state): State<AppState>,
    body: Bytes,
) -> ApiResult<axum::Json<CardAuthorizationAnswer>> {
    let now = kessai_core::clock::now();
    let own = own(&state).await?;
    let (acquirer, req): (Peer, CardAuthorizationRequest) =
        authenticate(&state.node.reader, &own.id, &body, now).await?;
    let amount = Money::new(req.total, &req.currency, "total")?;
    let card = CardDetails {
        number: Secret::new(req.card.number.clone()),
        exp_month: req.card.exp_month,
        exp_year: req.card.exp_year,
        cvc: Secret::new(req.card.cvc.clone()),
    };
    let resolved =
        instruments::resolve_card(&state.node.reader, &state.node.keyring, &card, &req.currency, now).await?;
    if let Some(guess) = resolved.guess.clone() {
        // Wrong CVCs sent through a peer count towards the card's lock too.
        state
            .node
            .writer
            .run(move |conn| Box::pin(async move { instruments::record_guess(conn, Some(&guess), now).await }))
            .await?;
    }
    let (brand, last4) = resolved.card.clone().unwrap_or_default();
    let declined = |code| CardAuthorizationAnswer {
        authorization: None,
        decline_code: Some(code),
        brand: Some(brand.clone()).filter(|b| !b.is_empty()),
        last4: Some(last4.clone()),
    };
    let account = match resolved.funding {
        Funding::Account(account) => account,
        Funding::Declined(code) => return Ok(axum::Json(declined(code))),
        Funding::Peer(_) => return Err(Error::internal("a local card resolved to a peer").into()),
    };
    let grant = Grant {
        peer_id: acquirer.id.clone(),
        settlement_id: req.sub.clone(),
        order_digest: req.order_digest.clone(),
        amount,
        account_id: account,
        brand: brand.clone(),
    };
    let (token, claims) = authorizations::sign(&own.key, &own.id, &grant, now, state.config.authorization_ttl_s)?;
    let first_check_at = now + state.config.authorization_first_check_s;
    let held = state
        .node
        .writer
        .run(move |conn| Box::pin(async move { authorizations::hold_for(conn, &grant, &claims, first_check_at).await }))
        .await?;
    Ok(axum::Json(match held {
        Ok(()) => CardAuthorizationAnswer {
            authorization: Some(token),
            decline_code: None,
            brand: Some(brand),
            last4: Some(last4),
        },
        Err(code) => declined(code),
    }))
}

/// The acquirer's side of an issuer's question.
#[utoipa::path(post, path = "/v1/peer/authorizations/status", operation_id = "peer_authorization_status",
    tag = "institution", request_body = PeerRequest,
    responses((status = 200, body = StatusAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn status(State(state): State<AppState>, body: Bytes) -> ApiResult<axum::Json<StatusAnswer>> {
    let now = kessai_core::clock::now();
    let own = own(&state).await?;
    let (issuer, req): (Peer, StatusRequest) = authenticate(&state.node.reader, &own.id, &body, now).await?;
    if req.jtis.is_empty() || req.jtis.len() > STATUS_JTIS_MAX {
        return Err(Error::field(
            "jtis_invalid",
            "jtis",
            format!("jtis must list 1 to {STATUS_JTIS_MAX} authorization ids."),
        )
        .into());
    }
    let authorizations = authorizations::states(&state.node.reader, &issuer.id, &req.jtis).await?;
    Ok(axum::Json(StatusAnswer { authorizations }))
}

/// This institution's view of what it and the asking peer owe each other.
#[utoipa::path(post, path = "/v1/peer/positions", operation_id = "peer_positions",
    tag = "institution", request_body = PeerRequest,
    responses((status = 200, body = PositionsAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn positions(State(state): State<AppState>, body: Bytes) -> ApiResult<axum::Json<PositionsAnswer>> {
    let now = kessai_core::clock::now();
    let own = own(&state).await?;
    let (peer, _): (Peer, PositionsRequest) = authenticate(&state.node.reader, &own.id, &body, now).await?;
    let positions = peers::positions(&state.node.reader, &peer.id).await?;
    Ok(axum::Json(PositionsAnswer {
        institution_id: own.id,
        positions,
    }))
}
