//! Payer endpoints (user terminal → settling server, directly; the shop
//! never sees this traffic): the second settlement request (A3), payer-first
//! ordering (PROTOCOL section 5), and the payer's view of the outcome.
//! No merchant credential: the browser proves it was handed the settlement
//! by the client secret (or, payer-first, the payer secret). CORS admits
//! only the origins the settlement's merchant registered.

use kessai_core::{Error, Result};
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::stream::{self, Stream};
use kessai_protocol::api::Status;
use kessai_protocol::api::{ConfirmResult, ConfirmSettlement, ErrorBody, PaymentMethod};
use kessai_protocol::terminal::{RequestNumber, SettlementNumber};
use kessai_protocol::wallet::{StartMerchant, StartMessage};
use kessai_protocol::Order;
use serde::Deserialize;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::SourceAddress;
use crate::http::settlements::{parse_body, wait_for_change};
use crate::http::state::AppState;
use kessai_core::authorizations;
use kessai_core::instruments::{self, Funding, PeerFunding, Resolved, Subject};
use kessai_protocol::api::{CardDetails, DeclineCode, PaymentType};
use kessai_protocol::peer::{CardAuthorizationAnswer, PeerCard};

use crate::peering::CardPayment;
use kessai_core::keyring::Keyring;
use kessai_core::merchants::Merchant;
use kessai_core::settlements::{self, Record};

/// How long an unmatched payer-first request holds the buyer's funds.
const PAYER_FIRST_EXPIRES_S: i64 = 900;
const WAIT_MAX_S: u64 = 30;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/payer/settlements/{id}/confirm", post(confirm))
        .route("/v1/payer/orders/confirm", post(confirm_payer_first))
        .route("/v1/payer/settlements/{id}", get(status_of))
        .route("/v1/payer/settlements/{id}/events", get(events))
        .route("/v1/payer/settlements/{id}/start", get(start_message))
        .route("/v1/payer/settlements/{id}/number", post(request_number))
        .layer(axum::middleware::from_fn_with_state(state, cors))
}

/// A request with an `Origin` must come from one the merchant registered;
/// requests without one (servers, curl) are judged by their secrets alone.
fn check_origin(headers: &HeaderMap, merchant: &Merchant) -> Result<()> {
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        None => Ok(()),
        Some(origin) if merchant.origins.iter().any(|o| o == &origin.to_ascii_lowercase()) => Ok(()),
        Some(_) => Err(Error::forbidden(
            "origin_not_allowed",
            "This page's origin is not registered for the merchant.",
        )),
    }
}

async fn merchant_of(state: &AppState, merchant_id: &str) -> Result<std::sync::Arc<Merchant>> {
    state
        .node
        .merchants
        .by_id(&state.node.reader, &state.node.keyring, merchant_id)
        .await?
        .ok_or_else(|| Error::not_found("merchant_not_found", "No such merchant."))
}

async fn resolve(
    state: &AppState,
    method: PaymentMethod,
    order: &Order,
    subject: Subject<'_>,
    now: i64,
) -> Result<Resolved> {
    match method {
        PaymentMethod::Card { card } => {
            instruments::resolve_card(&state.node.reader, &state.node.keyring, &card, &order.currency, now).await
        }
        PaymentMethod::Account { user_id, authenticator } => {
            instruments::resolve_account(
                &state.node.reader,
                &state.node.keyring,
                &user_id,
                authenticator.expose(),
                order,
                subject,
                now,
            )
            .await
        }
        PaymentMethod::Password { user_id, password } => {
            instruments::resolve_password(&state.node.reader, &state.node.keyring, &user_id, password.into_inner())
                .await
        }
        // Only a settlement the issuer named can be paid this way: a
        // payer-first request has no settlement id to sign.
        PaymentMethod::Institution { .. } => Err(Error::field(
            "payment_method_unsupported",
            "payment_method.type",
            "An institution's payment authorization pays a settlement the shop created first \
             (/v1/payer/settlements/{id}/confirm).",
        )),
    }
}

/// The card's keyed hash, the key of its limit; None for a number that
/// does not parse (refused with a 400 when resolved).
fn card_key(state: &AppState, card: &CardDetails) -> Option<String> {
    let number = kessai_protocol::card::normalize_number(card.number.expose(), "payment_method.card.number").ok()?;
    Some(state.node.keyring.pan_hash(&number))
}

/// The card-testing limit: declined attempts per card number, checked
/// before anything is looked up.
fn throttle_card(state: &AppState, pan_hash: Option<&str>, now: i64) -> Result<()> {
    match pan_hash {
        Some(h) => state.node.payer_throttles.card.check(h, now, "card"),
        None => Ok(()),
    }
}

/// Every declined attempt counts against its source address, whatever the
/// payment method: a card number, a CVC and a password are all guesses.
fn count_source_failure(state: &AppState, source: &SourceAddress, resolved: &Resolved, now: i64) {
    if matches!(resolved.funding, Funding::Declined(_)) {
        source.count_failure(&state.node, now);
    }
}

fn count_card_decline(state: &AppState, pan_hash: Option<&str>, resolved: &Resolved, now: i64) {
    if let (Some(h), Funding::Declined(_)) = (pan_hash, &resolved.funding) {
        state.node.payer_throttles.card.count(h, now);
    }
}

/// A card of this institution is resolved here; a card a peer issued (its
/// prefix says which) is authenticated by that peer, which guarantees the
/// payment with an authorization (PROTOCOL 11, C15).
async fn resolve_card_anywhere(state: &AppState, card: &CardDetails, rec: &Record, now: i64) -> Result<Resolved> {
    let param = "payment_method.card";
    let number = kessai_protocol::card::normalize_number(card.number.expose(), &format!("{param}.number"))?;
    let issuer = kessai_core::peers::by_card_number(&state.node.reader, &number).await?;
    let Some(issuer) = issuer else {
        return instruments::resolve_card(
            &state.node.reader,
            &state.node.keyring,
            card,
            rec.amount.currency(),
            now,
        )
        .await;
    };
    kessai_protocol::card::check_expiry_fields(card.exp_month, card.exp_year, param)?;
    kessai_protocol::card::check_cvc(card.cvc.expose(), param)?;
    let own = kessai_core::institution::current(&state.node.reader, &state.node.keyring).await?;
    let payment = CardPayment {
        settlement_id: &rec.id,
        order_digest: &rec.order_digest,
        total: rec.amount.minor(),
        currency: rec.amount.currency(),
        card: PeerCard {
            number: number.clone(),
            exp_month: card.exp_month,
            exp_year: card.exp_year,
            cvc: card.cvc.expose().clone(),
        },
    };
    let answer = state
        .peers
        .card_authorization(&own, &issuer, payment, now)
        .await
        .map_err(|e| {
            tracing::warn!(error = format!("{e:#}"), issuer = %issuer.id, "the card's issuer did not answer");
            Error::Unavailable {
                code: "issuer_unavailable",
                message: "The card's issuing institution cannot be reached; nothing was charged. Try again shortly."
                    .into(),
            }
        })?;
    Ok(peer_funding(&own.id, &issuer, answer, rec, &number, now))
}

/// What the issuer's answer means here: a verified authorization to settle
/// against, or a decline.
fn peer_funding(
    own_id: &str,
    issuer: &kessai_core::peers::Peer,
    answer: CardAuthorizationAnswer,
    rec: &Record,
    number: &str,
    now: i64,
) -> Resolved {
    let last4 = kessai_protocol::card::last4(number);
    let brand = answer.brand.clone().unwrap_or_default();
    let funding = match (&answer.authorization, answer.decline_code) {
        (_, Some(code)) => Funding::Declined(code),
        (None, None) => Funding::Declined(DeclineCode::CardDeclined),
        (Some(token), None) => verified_funding(own_id, issuer, token, rec, now).0,
    };
    Resolved {
        payment_type: PaymentType::Card,
        funding,
        card: Some((brand, last4)),
        user: None,
        jti: None,
        guess: None,
    }
}

/// Checks a peer's payment authorization for this settlement: the funding
/// it guarantees and the brand it names, or a decline. Any failed check is
/// a reason to decline (`authentication_failed`), never to move money.
fn verified_funding(
    own_id: &str,
    issuer: &kessai_core::peers::Peer,
    token: &str,
    rec: &Record,
    now: i64,
) -> (Funding, String) {
    match authorizations::verify(issuer, own_id, token, &rec.id, &rec.order_digest, &rec.amount, now) {
        Ok(claims) => {
            let credit_limit = rec
                .amount
                .with_minor(issuer.credit_limit(rec.amount.currency()))
                .unwrap_or_else(|| rec.amount.zero_like());
            let funding = Funding::Peer(PeerFunding {
                peer_id: issuer.id.clone(),
                jti: claims.jti,
                credit_limit,
            });
            (funding, claims.brand)
        }
        Err(what) => {
            tracing::warn!(issuer = %issuer.id, check = what, "a payment authorization failed its check");
            (Funding::Declined(DeclineCode::AuthenticationFailed), String::new())
        }
    }
}

/// `payment_method.type = "institution"` (PROTOCOL 11 step 2): the buyer's
/// institution already holds the funds and signed an authorization. Its
/// signer is found by the JWS `kid` among the pinned peers; an unknown or
/// unpinned signer is declined `authentication_failed`.
async fn resolve_institution(state: &AppState, token: &str, rec: &Record, now: i64) -> Result<Resolved> {
    let kid = kessai_protocol::peer::peek::<kessai_protocol::peer::PaymentAuthorization>(token).map(|(kid, _)| kid);
    let issuer = match kid {
        Ok(kid) => kessai_core::peers::by_thumbprint(&state.node.reader, &kid).await?,
        Err(_) => None,
    };
    let (funding, brand) = match issuer {
        Some(issuer) => {
            let own = kessai_core::institution::current(&state.node.reader, &state.node.keyring).await?;
            verified_funding(&own.id, &issuer, token, rec, now)
        }
        None => (Funding::Declined(DeclineCode::AuthenticationFailed), String::new()),
    };
    Ok(Resolved {
        payment_type: PaymentType::Institution,
        funding,
        // The brand is checked against the shop's; there is no card to show.
        card: Some((brand, String::new())),
        user: None,
        jti: None,
        guess: None,
    })
}

async fn answer(
    state: &AppState,
    rec: &Record,
    merchant: &Merchant,
    payer_key: Option<[u8; 32]>,
) -> Result<ConfirmResult> {
    let key = match (payer_key, &rec.user_id) {
        (Some(k), _) => Some(k),
        (None, Some(user)) => instruments::user_key(&state.node.reader, &state.node.keyring, user).await?,
        (None, None) => None,
    };
    Ok(settlements::confirm_result(rec, merchant, key.as_ref()))
}

/// The second request's body as `/v1/payer/settlements/{id}/confirm`
/// takes it. One wire type (`ConfirmSettlement`) serves both confirm
/// endpoints with both secrets optional; the document shows each endpoint
/// what it requires and refuses, so a client (or schemathesis) built from
/// it does not send a body the server answers 400 to.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only described, never built: the handlers parse ConfirmSettlement.
pub struct ConfirmWithClientSecret {
    /// The client secret the shop handed the page with the settlement id.
    #[schema(format = Password)]
    client_secret: String,
    order: Order,
    payment_method: PaymentMethod,
}

/// The payer-first request's body: the merchant id instead of a client secret.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only described, never built: the handler parses ConfirmSettlement.
pub struct ConfirmPayerFirst {
    /// The merchant whose order this is (its public id).
    merchant_id: String,
    order: Order,
    payment_method: PaymentMethod,
}

/// Second settlement request (A3 to A5, A10 to A12).
#[utoipa::path(post, path = "/v1/payer/settlements/{id}/confirm", operation_id = "confirm_settlement", tag = "payer",
    params(("id" = String, Path)), request_body = ConfirmWithClientSecret,
    responses(
        (status = 200, description = "The outcome: succeeded, declined or mismatched; a repeat gets the first outcome", body = ConfirmResult),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 429, description = "Too many declined attempts with this card or from this address, or wrong passwords for this user (`rate_limited`); see Retry-After", body = ErrorBody)))]
pub async fn confirm(
    State(state): State<AppState>,
    Path(id): Path<String>,
    source: SourceAddress,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<ConfirmResult>> {
    let req: ConfirmSettlement = parse_body(&body)?;
    if req.merchant_id.is_some() {
        return Err(Error::field(
            "parameter_unexpected",
            "merchant_id",
            "merchant_id is only for payer-first requests (/v1/payer/orders/confirm).",
        )
        .into());
    }
    let secret = req.client_secret.as_ref().ok_or_else(|| {
        Error::field(
            "parameter_missing",
            "client_secret",
            "client_secret is required: the shop hands it to the page with the settlement id.",
        )
    })?;
    // Derived from the id: checked before any lookup, so a wrong secret
    // learns nothing about which settlements exist.
    if !Keyring::secret_matches(&state.node.keyring.client_secret(&id), secret.expose()) {
        return Err(Error::unauthorized(
            "client_secret_invalid",
            "The client secret does not belong to this settlement.",
        )
        .into());
    }
    req.order.validate("order")?;
    let rec = settlements::get_pooled(&state.node.reader, &id)
        .await?
        .ok_or_else(|| Error::not_found("settlement_not_found", "No such settlement."))?;
    let merchant = merchant_of(&state, &rec.merchant_id).await?;
    check_origin(&headers, &merchant)?;
    if let Some(closed) = settlements::closed_error(&rec) {
        return Err(closed.into());
    }
    if rec.status.is_final() || rec.status == Status::Held {
        // A repeat: the first outcome, without touching payment data again.
        return Ok(axum::Json(answer(&state, &rec, &merchant, None).await?));
    }
    let now = kessai_core::clock::now();
    source.check(&state.node, now)?;
    let resolved = match req.payment_method {
        PaymentMethod::Card { card } => {
            let pan_hash = card_key(&state, &card);
            throttle_card(&state, pan_hash.as_deref(), now)?;
            let resolved = resolve_card_anywhere(&state, &card, &rec, now).await?;
            count_card_decline(&state, pan_hash.as_deref(), &resolved, now);
            resolved
        }
        PaymentMethod::Institution { authorization } => {
            resolve_institution(&state, authorization.expose(), &rec, now).await?
        }
        other => resolve(&state, other, &req.order, Subject::Settlement(&id), now).await?,
    };
    count_source_failure(&state, &source, &resolved, now);
    let payer_key = resolved.user.as_ref().map(|u| u.key);
    let rec = settle(&state, merchant.clone(), &id, req.order, resolved, now).await?;
    Ok(axum::Json(answer(&state, &rec, &merchant, payer_key).await?))
}

/// Collates and pays (or declines) a settlement with a resolved payment
/// method, in one writer step; then wakes whoever follows it. An expired or
/// canceled settlement is an error (409).
pub(crate) async fn settle(
    state: &AppState,
    merchant: std::sync::Arc<Merchant>,
    id: &str,
    order: Order,
    resolved: Resolved,
    now: i64,
) -> Result<Record> {
    let sid = id.to_string();
    let rec = state
        .node
        .writer
        .run(move |conn| {
            Box::pin(async move { settlements::confirm(conn, &merchant, &sid, &order, &resolved, now).await })
        })
        .await?;
    state.node.announce([id]);
    if rec.notify_url.is_some() {
        state.node.wake_webhooks();
    }
    if let Some(closed) = settlements::closed_error(&rec) {
        return Err(closed);
    }
    Ok(rec)
}

/// Payer-first second request: arrives before the shop's first request.
#[utoipa::path(post, path = "/v1/payer/orders/confirm", operation_id = "confirm_payer_first", tag = "payer", request_body = ConfirmPayerFirst,
    responses(
        (status = 202, description = "Funds held; waiting for the shop's first request", body = ConfirmResult),
        (status = 200, description = "Declined at once", body = ConfirmResult),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 429, description = "Too many declined payer-first requests for this merchant, attempts with this card or from this address, or wrong passwords (`rate_limited`); see Retry-After", body = ErrorBody)))]
pub async fn confirm_payer_first(
    State(state): State<AppState>,
    source: SourceAddress,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let req: ConfirmSettlement = parse_body(&body)?;
    if req.client_secret.is_some() {
        return Err(Error::field(
            "parameter_unexpected",
            "client_secret",
            "With a client secret, confirm at /v1/payer/settlements/{id}/confirm instead.",
        )
        .into());
    }
    let merchant_id = req.merchant_id.clone().ok_or_else(|| {
        Error::field(
            "parameter_missing",
            "merchant_id",
            "merchant_id is required for a payer-first request.",
        )
    })?;
    req.order.validate("order")?;
    let merchant = merchant_of(&state, &merchant_id).await?;
    check_origin(&headers, &merchant)?;
    let now = kessai_core::clock::now();
    let throttles = &state.node.payer_throttles;
    throttles
        .payer_first
        .check(&merchant.id, now, "merchant's payer-first requests")?;
    source.check(&state.node, now)?;
    let pan_hash = match &req.payment_method {
        PaymentMethod::Card { card } => card_key(&state, card),
        _ => None,
    };
    throttle_card(&state, pan_hash.as_deref(), now)?;
    let resolved = resolve(
        &state,
        req.payment_method,
        &req.order,
        Subject::PayerFirst {
            merchant_id: &merchant_id,
        },
        now,
    )
    .await?;
    count_card_decline(&state, pan_hash.as_deref(), &resolved, now);
    count_source_failure(&state, &source, &resolved, now);
    if matches!(resolved.funding, Funding::Declined(_)) {
        throttles.payer_first.count(&merchant.id, now);
    }
    let payer_key = resolved.user.as_ref().map(|u| u.key);
    let m = merchant.clone();
    let order = req.order;
    let rec = state
        .node
        .writer
        .run(move |conn| {
            Box::pin(
                async move { settlements::payer_first(conn, &m, &order, &resolved, PAYER_FIRST_EXPIRES_S, now).await },
            )
        })
        .await?;
    let mut result = answer(&state, &rec, &merchant, payer_key).await?;
    result.payer_secret = Some(state.node.keyring.payer_secret(&rec.id));
    let code = if rec.status == Status::AwaitingMerchant {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((code, axum::Json(result)).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PayerQuery {
    /// The payer secret from a payer-first answer.
    pub payer_secret: Option<String>,
    /// Or the client secret the shop handed the page.
    pub client_secret: Option<String>,
    /// Long-poll: hold the answer until the status changes, at most 30 s.
    #[param(minimum = 0, maximum = 30)]
    pub wait: Option<u64>,
}

/// What the start message is asked with, as the document shows it: the
/// client secret only (a payer-first attempt has no start message; `wait`
/// and `payer_secret` are read as for status and ignored).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StartQuery {
    /// The client secret the shop handed the page.
    pub client_secret: String,
}

/// Checks either secret and loads the settlement.
async fn authorized(state: &AppState, id: &str, q: &PayerQuery) -> Result<(Record, std::sync::Arc<Merchant>)> {
    let ok = match (&q.payer_secret, &q.client_secret) {
        (Some(p), _) => Keyring::secret_matches(&state.node.keyring.payer_secret(id), p),
        (None, Some(c)) => Keyring::secret_matches(&state.node.keyring.client_secret(id), c),
        // No credential at all is an authentication failure, as a missing
        // secret key or session token is; and the document cannot mark one
        // of two query parameters required.
        (None, None) => {
            return Err(Error::unauthorized(
                "payer_secret_missing",
                "Give payer_secret or client_secret.",
            ))
        }
    };
    if !ok {
        return Err(Error::unauthorized(
            "payer_secret_invalid",
            "The secret does not belong to this settlement.",
        ));
    }
    let rec = settlements::get_pooled(&state.node.reader, id)
        .await?
        .ok_or_else(|| Error::not_found("settlement_not_found", "No such settlement."))?;
    let merchant = merchant_of(state, &rec.merchant_id).await?;
    Ok((rec, merchant))
}

/// The outcome as the payer sees it (also after a page reload).
#[utoipa::path(get, path = "/v1/payer/settlements/{id}", operation_id = "payer_settlement_status", tag = "payer", params(("id" = String, Path), PayerQuery),
    responses((status = 200, body = ConfirmResult), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, description = "Too many long-polls waiting (`server_busy`); retry", body = ErrorBody)))]
pub async fn status_of(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<PayerQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<ConfirmResult>> {
    let Query(q) = query.map_err(|e| Error::field("query_invalid", "query", e.body_text()))?;
    let (mut rec, merchant) = authorized(&state, &id, &q).await?;
    match q.wait {
        Some(w) if w > WAIT_MAX_S => {
            return Err(Error::field("wait_out_of_range", "wait", "wait must be 0 to 30 seconds.").into())
        }
        Some(w) if w > 0 => {
            let _slot = crate::http::state::slot(&state.long_polls, "long-polls")?;
            rec = wait_for_change(&state, &id, rec, Duration::from_secs(w)).await?;
        }
        _ => {}
    }
    Ok(axum::Json(answer(&state, &rec, &merchant, None).await?))
}

/// The start message (PROTOCOL 12, B13): what the page hands a wallet so
/// that it can pay this settlement. Only for a settlement still waiting for
/// its payer; the order is the shop's, as it created it.
#[utoipa::path(get, path = "/v1/payer/settlements/{id}/start", operation_id = "payer_start_message", tag = "payer", params(("id" = String, Path), StartQuery),
    responses((status = 200, body = StartMessage), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The settlement is no longer waiting for its payer, or was created digest-only", body = ErrorBody)))]
pub async fn start_message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<PayerQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<StartMessage>> {
    let Query(q) = query.map_err(|e| Error::field("query_invalid", "query", e.body_text()))?;
    let client_secret = q
        .client_secret
        .clone()
        .ok_or_else(|| Error::field("parameter_missing", "client_secret", "client_secret is required."))?;
    let (rec, merchant) = authorized(
        &state,
        &id,
        &PayerQuery {
            payer_secret: None,
            ..q
        },
    )
    .await?;
    if rec.status != Status::AwaitingPayer {
        return Err(Error::conflict(
            "settlement_not_awaiting_payer",
            "This settlement is no longer waiting for its payer; its outcome is at /v1/payer/settlements/{id}.",
        )
        .into());
    }
    // A wallet shows the buyer what it pays for: only a full order can be.
    let order = rec.order()?.ok_or_else(|| {
        Error::conflict(
            "order_not_available",
            "The shop created this settlement with a digest only; a wallet needs the full order.",
        )
    })?;
    let own = kessai_core::institution::current(&state.node.reader, &state.node.keyring).await?;
    Ok(axum::Json(StartMessage {
        kind: kessai_protocol::wallet::START_TYPE.to_string(),
        version: kessai_protocol::wallet::START_VERSION,
        server: state.config.public_url.clone(),
        institution_id: own.id,
        settlement_id: rec.id.clone(),
        client_secret: client_secret.into(),
        order,
        brands: rec.brands.clone().unwrap_or_default(),
        merchant: StartMerchant {
            id: merchant.id.clone(),
            name: merchant.name.clone(),
            origin: merchant.origins.first().cloned().unwrap_or_default(),
        },
    }))
}

/// A transaction number for this settlement (PROTOCOL 13, D10): the
/// checkout's "Pay with your phone" shows it and its QR code; the buyer's
/// wallet sends it and confirms, and the settlement gets the result. Asking
/// again while the number is valid gives the same one.
#[utoipa::path(post, path = "/v1/payer/settlements/{id}/number", operation_id = "payer_settlement_number", tag = "payer",
    params(("id" = String, Path)), request_body = RequestNumber,
    responses((status = 200, body = SettlementNumber), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "No longer waiting for its payer, or created digest-only (`order_not_available`)", body = ErrorBody)))]
pub async fn request_number(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<SettlementNumber>> {
    let req: RequestNumber = crate::http::settlements::parse_body(&body)?;
    let query = PayerQuery {
        payer_secret: None,
        client_secret: Some(req.client_secret.into_inner()),
        wait: None,
    };
    let (rec, merchant) = authorized(&state, &id, &query).await?;
    check_origin(&headers, &merchant)?;
    if rec.status != Status::AwaitingPayer {
        return Err(settlements::closed_error(&rec)
            .unwrap_or_else(|| {
                Error::conflict(
                    "settlement_not_awaiting_payer",
                    "This settlement is no longer waiting for its payer.",
                )
            })
            .into());
    }
    // The phone confirms the shop's own order: a digest-only settlement has
    // none to show, as for the start message.
    let order = rec.order()?.ok_or_else(|| {
        Error::conflict(
            "order_not_available",
            "The shop sent only the order's digest; a phone cannot be shown what it pays.",
        )
    })?;
    let now = kessai_core::clock::now();
    let txn = state
        .node
        .writer
        .run(move |conn| {
            Box::pin(async move { kessai_core::terminals::sale::open_for_settlement(conn, &rec, order, now).await })
        })
        .await?;
    Ok(axum::Json(SettlementNumber {
        qr: crate::instore::qr_of(&state, &txn, "WEB").await?,
        number: txn.number,
        expires_at: txn.expires_at,
    }))
}

/// Server-sent events: the current status at once, then each change, until final.
#[utoipa::path(get, path = "/v1/payer/settlements/{id}/events", operation_id = "payer_settlement_events", tag = "payer", params(("id" = String, Path), PayerQuery),
    responses((status = 200, description = "text/event-stream of `status` events carrying a ConfirmResult"),
        (status = 503, description = "Too many event streams open (`server_busy`); retry", body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<PayerQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let Query(q) = query.map_err(|e| Error::field("query_invalid", "query", e.body_text()))?;
    let (rec, merchant) = authorized(&state, &id, &q).await?;
    // Held as long as the stream lives: the closure below owns it.
    let slot = crate::http::state::slot(&state.event_streams, "event streams")?;
    // Bounded: a stream ends at a final status or after an hour.
    let rounds_max = 3600 / 25;
    let stream = stream::unfold((Some(rec), 0u32), move |(pending, round)| {
        let _slot = &slot;
        let (state, id, merchant) = (state.clone(), id.clone(), merchant.clone());
        async move {
            let mut rec = pending?;
            // The first event is the current status, sent at once; each later
            // one waits for a change (or 25 s) after the previous was sent.
            if round > 0 {
                rec = wait_for_change(&state, &id, rec, Duration::from_secs(25)).await.ok()?;
            }
            let done = rec.status.is_final() || round >= rounds_max;
            let event = match answer(&state, &rec, &merchant, None).await {
                Ok(result) => Event::default().event("status").json_data(result).unwrap_or_default(),
                Err(_) => Event::default().event("error").data("lookup failed"),
            };
            let next = if done { None } else { Some(rec) };
            Some((Ok(event), (next, round + 1)))
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// CORS for the payer endpoints: only the origins the merchant registered.
async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_ascii_lowercase)
    else {
        return next.run(req).await;
    };
    let allowed = match origin_allowed(&state, req.uri().path(), &origin).await {
        Ok(a) => a,
        Err(e) => return ApiError(e).into_response(),
    };
    if req.method() == Method::OPTIONS {
        if !allowed {
            return ApiError(Error::forbidden(
                "origin_not_allowed",
                "This page's origin is not registered for the merchant.",
            ))
            .into_response();
        }
        let mut resp = StatusCode::NO_CONTENT.into_response();
        add_cors_headers(resp.headers_mut(), &origin);
        let h = resp.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        return resp;
    }
    let mut resp = next.run(req).await;
    if allowed {
        add_cors_headers(resp.headers_mut(), &origin);
    }
    resp
}

fn add_cors_headers(headers: &mut HeaderMap, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// For a settlement path, the settlement's merchant decides; for payer-first
/// (merchant named only in the body) any registered origin passes the
/// preflight and the handler checks the named merchant.
async fn origin_allowed(state: &AppState, path: &str, origin: &str) -> Result<bool> {
    let settlement_id = path
        .strip_prefix("/v1/payer/settlements/")
        .and_then(|rest| rest.split('/').next());
    match settlement_id {
        Some(id) => {
            let Some(rec) = settlements::get_pooled(&state.node.reader, id).await? else {
                return Ok(false);
            };
            let merchant = merchant_of(state, &rec.merchant_id).await?;
            Ok(merchant.origins.iter().any(|o| o == origin))
        }
        None => state.node.merchants.origin_known(&state.node.reader, origin).await,
    }
}
