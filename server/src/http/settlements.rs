//! Merchant endpoints (shop server → settling server), authenticated by the
//! secret key: the first settlement request (A1, A13), polling with
//! long-poll (A8), cancellation and refunds (A14).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use kessai_core::idempotency::Claim;
use kessai_core::merchants::check_url;
use kessai_core::settlements::{self, NewSettlement, Record};
use kessai_core::webhook_targets::{check_notify_url, WebhookPolicy};
use kessai_core::{args, idempotency, Error, Result};
use kessai_protocol::api::{self, CreateRefund, CreateSettlement, ErrorBody, Restrictions, Status};
use kessai_protocol::{money, order, Order};
use serde::{Deserialize, Serialize};

use crate::http::error::ApiResult;
use crate::http::extract::AuthedMerchant;
use crate::http::state::AppState;

/// Bounds on a settlement's life before the buyer confirms it.
const EXPIRES_IN_DEFAULT_S: u64 = 900;
const EXPIRES_IN_MIN_S: u64 = 60;
const EXPIRES_IN_MAX_S: u64 = 7 * 24 * 3600;
const WAIT_MAX_S: u64 = 30;
/// A hold longer than a card authorization normally lives is refused.
const COOLING_OFF_MAX_S: u64 = 90 * 24 * 3600;
const LIST_LIMIT_MAX: i64 = 100;
/// No one is older; a larger age is a mistake, not a restriction.
const MIN_AGE_MAX: u32 = 150;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/settlements", post(create).get(list))
        .route("/v1/settlements/{id}", get(retrieve))
        .route("/v1/settlements/{id}/cancel", post(cancel))
        .route("/v1/settlements/{id}/refunds", post(refund))
}

/// Parses a JSON body with the protocol's error shape.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body)
        .map_err(|e| crate::http::error::json_error(&e.to_string(), e.is_syntax() || e.is_eof()))
}

/// The shop's first request, checked: every protocol rule, so the core
/// gets only requests it can record.
fn validate(req: CreateSettlement, webhook_policy: WebhookPolicy) -> Result<NewSettlement> {
    let expires_in_s = check_expires_in(req.expires_in)?;
    // The server will call notify_url itself (SSRF policy); return_url is
    // only handed to the buyer's browser.
    if let Some(u) = &req.notify_url {
        check_notify_url(u, "notify_url", webhook_policy)?;
    }
    if let Some(u) = &req.return_url {
        check_url(u, "return_url")?;
    }
    check_brands(req.brands.as_deref())?;
    let cooling_off_s = check_restrictions(req.restrictions.as_ref())?;
    let min_age = req.restrictions.as_ref().and_then(|r| r.min_age);
    let identity = order_identity(&req)?;
    Ok(NewSettlement {
        order_id: identity.order_id,
        currency: identity.currency,
        total: identity.total,
        order_digest: identity.order_digest,
        order: identity.order,
        brands: req.brands,
        notify_url: req.notify_url,
        return_url: req.return_url,
        expires_in_s,
        cooling_off_s,
        min_age,
    })
}

fn check_expires_in(expires_in: Option<u64>) -> Result<i64> {
    let expires_in = expires_in.unwrap_or(EXPIRES_IN_DEFAULT_S);
    if !(EXPIRES_IN_MIN_S..=EXPIRES_IN_MAX_S).contains(&expires_in) {
        return Err(Error::field(
            "expires_in_out_of_range",
            "expires_in",
            format!("expires_in must be {EXPIRES_IN_MIN_S} to {EXPIRES_IN_MAX_S} seconds."),
        ));
    }
    Ok(i64::try_from(expires_in).unwrap_or(i64::MAX))
}

fn check_brands(brands: Option<&[String]>) -> Result<()> {
    let Some(brands) = brands else { return Ok(()) };
    if brands.is_empty() || brands.len() > 20 || brands.iter().any(|b| b.is_empty() || b.len() > 64) {
        return Err(Error::field(
            "brands_invalid",
            "brands",
            "brands must list 1 to 20 brand names of 1 to 64 characters.",
        ));
    }
    Ok(())
}

/// The cooling-off period asked for, if any; checks the age restriction.
fn check_restrictions(restrictions: Option<&Restrictions>) -> Result<Option<i64>> {
    let Some(r) = restrictions else { return Ok(None) };
    if r.min_age.is_some_and(|a| a > MIN_AGE_MAX) {
        return Err(Error::field(
            "min_age_out_of_range",
            "restrictions.min_age",
            format!("restrictions.min_age must be 0 to {MIN_AGE_MAX} years."),
        ));
    }
    let Some(c) = r.cooling_off_s else { return Ok(None) };
    if !(1..=COOLING_OFF_MAX_S).contains(&c) {
        return Err(Error::field(
            "cooling_off_out_of_range",
            "restrictions.cooling_off_s",
            format!("restrictions.cooling_off_s must be 1 to {COOLING_OFF_MAX_S} seconds (90 days)."),
        ));
    }
    Ok(i64::try_from(c).ok())
}

/// Which order the request is for, from either form of it.
struct OrderIdentity {
    order_id: Option<String>,
    currency: String,
    total: u64,
    order_digest: String,
    order: Option<Order>,
}

fn order_identity(req: &CreateSettlement) -> Result<OrderIdentity> {
    if let Some(o) = &req.order {
        if req.order_id.is_some() || req.currency.is_some() || req.total.is_some() || req.order_digest.is_some() {
            return Err(Error::field(
                "order_form_ambiguous",
                "order",
                "Send either order (full form) or order_id, currency, total and order_digest (digest-only form), not both.",
            ));
        }
        o.validate("order")?;
        return Ok(OrderIdentity {
            order_id: Some(o.order_id.clone()),
            currency: o.currency.clone(),
            total: o.total,
            order_digest: o.digest(),
            order: Some(o.clone()),
        });
    }
    let missing = |p: &str| {
        Error::field(
            "parameter_missing",
            p,
            format!("{p} is required (or send the full order)."),
        )
    };
    let currency = req.currency.clone().ok_or_else(|| missing("currency"))?;
    let total = req.total.ok_or_else(|| missing("total"))?;
    let order_digest = req.order_digest.clone().ok_or_else(|| missing("order_digest"))?;
    if let Some(id) = &req.order_id {
        order::check_order_id(id, "order_id")?;
    }
    money::check_currency(&currency, "currency")?;
    money::check_amount(total, "total")?;
    order::check_digest_format(&order_digest, "order_digest")?;
    Ok(OrderIdentity {
        order_id: req.order_id.clone(),
        currency,
        total,
        order_digest,
        order: None,
    })
}

/// First settlement request.
#[utoipa::path(post, path = "/v1/settlements", operation_id = "create_settlement", tag = "merchant",
    request_body = CreateSettlement,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "Replays the first answer for the same key and body")),
    responses(
        (status = 201, description = "Created; when the buyer's agreeing request came first, already succeeded", body = api::Settlement),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, description = "`order_id_in_use`, `idempotency_key_reused` or `idempotency_key_in_use`", body = ErrorBody)),
    security(("secret_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    AuthedMerchant(merchant): AuthedMerchant,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let idem = crate::http::extract::idempotency_key(&headers, &merchant.id, "POST /v1/settlements", &body)?;
    let new = validate(parse_body(&body)?, state.config.webhook_policy)?;
    let now = kessai_core::clock::now();
    let keyring = state.node.keyring.clone();
    let m = merchant.clone();
    let (status_code, json, id, notify) = state
        .node
        .writer
        .run(move |conn| {
            Box::pin(async move {
                if let Some(key) = &idem {
                    if let Claim::Replay(replay) = idempotency::claim(conn, key, now).await? {
                        return Ok((replay.status, with_client_secret(&replay.body, &keyring), None, false));
                    }
                }
                let (rec, ended) = settlements::create(conn, &m, new, now).await?;
                let body = serde_json::to_string(&settlements::view(&rec, &m, Some(&keyring)))
                    .map_err(|e| Error::Internal(e.into()))?;
                if let Some(key) = &idem {
                    // Stored without the client secret; a replay derives it again.
                    let stored = serde_json::to_string(&settlements::view(&rec, &m, None))
                        .map_err(|e| Error::Internal(e.into()))?;
                    idempotency::complete(conn, key, StatusCode::CREATED.as_u16(), &stored).await?;
                }
                let notify = rec.notify_url.is_some() && rec.status.is_final();
                Ok((StatusCode::CREATED.as_u16(), body, Some((rec.id, ended)), notify))
            })
        })
        .await?;
    if let Some((id, ended)) = &id {
        state
            .node
            .announce([Some(id.as_str()), ended.as_deref()].into_iter().flatten());
    }
    if notify {
        state.node.wake_webhooks();
    }
    Ok(json_response(status_code, json))
}

/// A JSON body already serialized (or replayed from an idempotency row).
fn json_response(status: u16, json: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (status, [(axum::http::header::CONTENT_TYPE, "application/json")], json).into_response()
}

/// Puts the client secret back into a replayed 201: idempotency rows keep
/// none, and the secret is derived from the id, so the replay is identical.
fn with_client_secret(stored: &str, keyring: &kessai_core::keyring::Keyring) -> String {
    let Ok(mut settlement) = serde_json::from_str::<api::Settlement>(stored) else {
        return stored.to_string();
    };
    if settlement.status == Status::AwaitingPayer {
        settlement.client_secret = Some(keyring.client_secret(&settlement.id));
    }
    serde_json::to_string(&settlement).unwrap_or_else(|_| stored.to_string())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WaitQuery {
    /// Hold the answer until the status changes or this many seconds pass (at most 30).
    #[param(minimum = 0, maximum = 30)]
    pub wait: Option<u64>,
}

async fn load_own(state: &AppState, merchant_id: &str, id: &str) -> Result<Record> {
    settlements::get_pooled(&state.node.reader, id)
        .await?
        .filter(|r| r.merchant_id == merchant_id && r.merchant_request_at.is_some())
        .ok_or_else(|| Error::not_found("settlement_not_found", "No such settlement."))
}

/// Waits until settlement `id` leaves `status`, at most `wait`.
pub async fn wait_for_change(state: &AppState, id: &str, first: Record, wait: Duration) -> Result<Record> {
    let mut changes = state.node.changes.subscribe();
    // Re-read after subscribing so that a change in between is not missed:
    // the status to leave is the caller's, not the re-read one.
    let initial = first.status;
    if initial.is_final() {
        // The collation is over; holding a shop's poll open would only
        // cost it time. (A refund is the shop's own doing.)
        return Ok(first);
    }
    let mut current = settlements::get_pooled(&state.node.reader, id).await?.unwrap_or(first);
    let deadline = tokio::time::Instant::now() + wait;
    while current.status == initial {
        match tokio::time::timeout_at(deadline, changes.recv()).await {
            Err(_) => break,
            Ok(Ok(changed)) if changed != id => continue,
            // Ours changed, or we lagged behind and must look.
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => break,
        }
        if let Some(r) = settlements::get_pooled(&state.node.reader, id).await? {
            current = r;
        }
    }
    Ok(current)
}

/// `?wait=N` as a duration: 0 to 30 s, else 400 `wait_out_of_range`.
pub(crate) fn wait_duration(wait: Option<u64>) -> Result<Duration> {
    match wait {
        None => Ok(Duration::ZERO),
        Some(w) if w <= WAIT_MAX_S => Ok(Duration::from_secs(w)),
        Some(_) => Err(Error::field(
            "wait_out_of_range",
            "wait",
            format!("wait must be 0 to {WAIT_MAX_S} seconds."),
        )),
    }
}

/// Retrieve a settlement (A8); `?wait=N` long-polls for a status change.
#[utoipa::path(get, path = "/v1/settlements/{id}", operation_id = "retrieve_settlement", tag = "merchant",
    params(("id" = String, Path, description = "Settlement id (stl_…)"), WaitQuery),
    responses((status = 200, body = api::Settlement), (status = 404, body = ErrorBody),
        (status = 503, description = "Too many long-polls waiting (`server_busy`); retry", body = ErrorBody)),
    security(("secret_key" = [])))]
pub async fn retrieve(
    State(state): State<AppState>,
    AuthedMerchant(merchant): AuthedMerchant,
    Path(id): Path<String>,
    query: Result<Query<WaitQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<api::Settlement>> {
    let Query(query) = query.map_err(|e| Error::field("query_invalid", "query", e.body_text()))?;
    let wait = wait_duration(query.wait)?;
    let mut rec = load_own(&state, &merchant.id, &id).await?;
    if !wait.is_zero() {
        let _slot = crate::http::state::slot(&state.long_polls, "long-polls")?;
        rec = wait_for_change(&state, &id, rec, wait).await?;
    }
    Ok(axum::Json(settlements::view(
        &rec,
        &merchant,
        Some(&state.node.keyring),
    )))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// The shop's order id.
    pub order_id: Option<String>,
    /// At most this many, newest first (1 to 100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettlementList {
    pub object: String,
    pub data: Vec<api::Settlement>,
}

/// Settlements of this merchant, newest first; `?order_id=` finds one order's (A8: history).
#[utoipa::path(get, path = "/v1/settlements", operation_id = "list_settlements", tag = "merchant", params(ListQuery),
    responses((status = 200, body = SettlementList)), security(("secret_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    AuthedMerchant(merchant): AuthedMerchant,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<SettlementList>> {
    let Query(query) = query.map_err(|e| Error::field("query_invalid", "query", e.body_text()))?;
    let limit = query.limit.unwrap_or(20);
    if !(1..=LIST_LIMIT_MAX).contains(&limit) {
        return Err(Error::field("limit_out_of_range", "limit", "limit must be 1 to 100.").into());
    }
    let rows = kessai_core::store::pool_all(
        &state.node.reader,
        &format!(
            "SELECT {} FROM settlements WHERE merchant_id = $1 AND merchant_request_at IS NOT NULL
         AND (CAST($2 AS TEXT) IS NULL OR order_id = $2) ORDER BY created_at DESC, id DESC LIMIT $3",
            settlements::COLUMNS
        ),
        args![&merchant.id, &query.order_id, limit],
    )
    .await?;
    let data = rows
        .iter()
        .map(|r| Record::from_row(r).map(|rec| settlements::view(&rec, &merchant, Some(&state.node.keyring))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(axum::Json(SettlementList {
        object: "list".into(),
        data,
    }))
}

/// Cancel a settlement nobody has paid yet (A14).
#[utoipa::path(post, path = "/v1/settlements/{id}/cancel", operation_id = "cancel_settlement", tag = "merchant",
    params(("id" = String, Path)),
    responses((status = 200, body = api::Settlement), (status = 409, body = ErrorBody)),
    security(("secret_key" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    AuthedMerchant(merchant): AuthedMerchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<api::Settlement>> {
    let now = kessai_core::clock::now();
    let m = merchant.clone();
    let sid = id.clone();
    let rec = state
        .node
        .writer
        .run(move |conn| Box::pin(async move { settlements::cancel(conn, &m, &sid, now).await }))
        .await?;
    state.node.announce([id.as_str()]);
    state.node.wake_webhooks();
    Ok(axum::Json(settlements::view(
        &rec,
        &merchant,
        Some(&state.node.keyring),
    )))
}

/// Refund all or part of a succeeded settlement (A14).
#[utoipa::path(post, path = "/v1/settlements/{id}/refunds", operation_id = "refund_settlement", tag = "merchant",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    request_body = CreateRefund,
    responses((status = 201, body = api::Refund), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("secret_key" = [])))]
pub async fn refund(
    State(state): State<AppState>,
    AuthedMerchant(merchant): AuthedMerchant,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let idem = crate::http::extract::idempotency_key(
        &headers,
        &merchant.id,
        &format!("POST /v1/settlements/{id}/refunds"),
        &body,
    )?;
    let req: CreateRefund = parse_body(&body)?;
    if let Some(a) = req.amount {
        money::check_amount(a, "amount")?;
    }
    if req.reason.as_ref().is_some_and(|r| r.len() > 500) {
        return Err(Error::field("reason_too_long", "reason", "reason must be at most 500 characters.").into());
    }
    let now = kessai_core::clock::now();
    let m = merchant.clone();
    let sid = id.clone();
    let (code, json) = state
        .node
        .writer
        .run(move |conn| {
            Box::pin(async move {
                if let Some(key) = &idem {
                    if let Claim::Replay(replay) = idempotency::claim(conn, key, now).await? {
                        return Ok((replay.status, replay.body));
                    }
                }
                let (_, refund) = settlements::refund(conn, &m, &sid, req.amount, req.reason, now).await?;
                let body = serde_json::to_string(&refund).map_err(|e| Error::Internal(e.into()))?;
                if let Some(key) = &idem {
                    idempotency::complete(conn, key, StatusCode::CREATED.as_u16(), &body).await?;
                }
                Ok((StatusCode::CREATED.as_u16(), body))
            })
        })
        .await?;
    state.node.announce([id.as_str()]);
    state.node.wake_webhooks();
    Ok(json_response(code, json))
}
