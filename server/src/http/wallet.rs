//! The server wallet API (PROTOCOL 12): this institution as the wallet of
//! its users, for the web wallet's connectors. Any origin may call it (CORS
//! `*`, no cookies): it is authenticated by a bearer session token, which a
//! page of another origin cannot read from the wallet's storage.

use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use kessai_core::wallet::{accounts, sessions};
use kessai_core::Error;
use kessai_protocol::api::ErrorBody;
use kessai_protocol::wallet::{BrandInfo, CreateSession, History, Session, StartMessage, WalletPayment};
use serde::Deserialize;

use crate::http::error::ApiResult;
use crate::http::extract::{bearer, session_user, SourceAddress};
use crate::http::settlements::parse_body;
use crate::http::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/wallet/sessions", post(create_session))
        .route("/v1/wallet/sessions/current", delete(end_session))
        .route("/v1/wallet/brand-info", get(brand_info))
        .route("/v1/wallet/payments", post(pay))
        .route("/v1/wallet/history", get(history))
        .merge(crate::http::wallet_transactions::routes())
        .layer(axum::middleware::from_fn(cors))
}

/// CORS for every origin, without credentials: the token travels in the
/// `Authorization` header, which only the wallet's own script can set.
async fn cors(req: Request, next: Next) -> Response {
    let mut resp = if req.method() == Method::OPTIONS {
        let mut resp = StatusCode::NO_CONTENT.into_response();
        let h = resp.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, DELETE"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        resp
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("retry-after"),
    );
    // Answers carry balances and tokens: never kept by a shared cache.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Logs a wallet user in (A11). Failures are counted per user: past five in
/// fifteen minutes the user is refused (429) before the password is checked.
#[utoipa::path(post, path = "/v1/wallet/sessions", operation_id = "create_wallet_session", tag = "wallet",
    request_body = CreateSession,
    responses((status = 201, body = Session), (status = 401, description = "Wrong user id or password (`authentication_failed`)", body = ErrorBody),
        (status = 429, description = "Too many failed logins for this user, or from this address (`rate_limited`); see Retry-After", body = ErrorBody)))]
pub async fn create_session(State(state): State<AppState>, source: SourceAddress, body: Bytes) -> ApiResult<Response> {
    let req: CreateSession = parse_body(&body)?;
    let password = req.password.into_inner();
    if !kessai_protocol::ids::is_id(kessai_protocol::ids::USER, &req.user_id)
        || password.is_empty()
        || password.len() > kessai_core::instruments::PASSWORD_LEN_MAX
    {
        return Err(wrong_login().into());
    }
    let now = kessai_core::clock::now();
    source.check(&state.node, now)?;
    if let Some(until) = sessions::throttled_until(&state.node.reader, &req.user_id, now).await? {
        return Ok(rate_limited(until - now));
    }
    let verified =
        kessai_core::instruments::verify_password(&state.node.reader, &state.node.keyring, &req.user_id, password)
            .await?;
    let user_id = req.user_id.clone();
    if verified.is_none() {
        source.count_failure(&state.node, now);
        state
            .node
            .writer
            .run(move |conn| Box::pin(async move { sessions::record_failure(conn, &user_id, now).await }))
            .await?;
        return Err(wrong_login().into());
    }
    let user = sessions::user(&state.node.reader, &req.user_id)
        .await?
        .ok_or_else(wrong_login)?;
    let token = sessions::new_token();
    let expires_at = now + state.config.wallet_session_ttl_s;
    let t = token.clone();
    state
        .node
        .writer
        .run(move |conn| Box::pin(async move { sessions::start(conn, &user_id, &t, now, expires_at).await }))
        .await?;
    let session = Session {
        token: token.into(),
        user_id: user.id,
        name: user.name,
        expires_at,
    };
    Ok((StatusCode::CREATED, axum::Json(session)).into_response())
}

/// One answer for an unknown user and a wrong password: neither tells
/// which user ids exist.
fn wrong_login() -> Error {
    Error::unauthorized("authentication_failed", "The user id or password is wrong.")
}

fn rate_limited(retry_after_s: i64) -> Response {
    let error = Error::Unprocessable {
        code: "rate_limited",
        message: "Too many failed logins for this user; try again later.".into(),
        param: None,
    };
    let mut resp = (StatusCode::TOO_MANY_REQUESTS, axum::Json(rate_limited_body(&error))).into_response();
    if let Ok(v) = HeaderValue::from_str(&retry_after_s.max(1).to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// The protocol's error body with the rate-limit type.
fn rate_limited_body(error: &Error) -> ErrorBody {
    let mut body = error.body();
    body.error.kind = "rate_limit_error".into();
    body
}

/// Ends the session whose token is sent. Ending an ended one is fine.
#[utoipa::path(delete, path = "/v1/wallet/sessions/current", operation_id = "end_wallet_session", tag = "wallet",
    security(("wallet_session" = [])),
    responses((status = 204, description = "Ended"), (status = 401, body = ErrorBody)))]
pub async fn end_session(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<StatusCode> {
    let token = bearer(&headers)?.to_string();
    let now = kessai_core::clock::now();
    state
        .node
        .writer
        .run(move |conn| Box::pin(async move { sessions::end(conn, &token, now).await }))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What this server wallet can pay with, for this user (B5, B6).
#[utoipa::path(get, path = "/v1/wallet/brand-info", operation_id = "wallet_brand_info", tag = "wallet",
    security(("wallet_session" = [])),
    responses((status = 200, body = BrandInfo), (status = 401, body = ErrorBody)))]
pub async fn brand_info(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<axum::Json<BrandInfo>> {
    let user = session_user(&state, &headers).await?;
    let own = kessai_core::institution::current(&state.node.reader, &state.node.keyring).await?;
    let brand = own.brands.first().cloned().unwrap_or_default();
    let accounts = accounts::list(&state.node.reader, &user, &brand).await?;
    let peers = kessai_core::peers::ids_pooled(&state.node.reader).await?;
    Ok(axum::Json(BrandInfo {
        institution_id: own.id,
        name: own.name,
        brands: own.brands,
        currencies: own.currencies,
        accounts,
        refresh_after_s: state.config.wallet_refresh_after_s,
        peers,
    }))
}

/// Pays a start message from the user's account: here, or through the
/// shop's institution when it is a peer (PROTOCOL 11). The same start
/// message twice pays once.
#[utoipa::path(post, path = "/v1/wallet/payments", operation_id = "wallet_pay", tag = "wallet",
    security(("wallet_session" = [])), request_body = StartMessage,
    responses((status = 200, description = "The settlement's outcome", body = WalletPayment),
        (status = 401, body = ErrorBody),
        (status = 409, description = "The settlement was already paid or closed (`settlement_closed`)", body = ErrorBody),
        (status = 422, description = "Not payable from this account: `unknown_institution`, `insufficient_funds`, `brand_not_accepted`, `currency_not_held`, `server_mismatch`", body = ErrorBody),
        (status = 503, description = "The shop's institution did not answer; send the same start message again", body = ErrorBody)))]
pub async fn pay(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<WalletPayment>> {
    let user = session_user(&state, &headers).await?;
    let message: StartMessage = parse_body(&body)?;
    Ok(axum::Json(crate::wallet_payments::pay(&state, &user, message).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Lines per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The id of the last line of the previous page.
    pub starting_after: Option<String>,
}

/// The user's payments, refunds and other transfers, newest first (C2).
#[utoipa::path(get, path = "/v1/wallet/history", operation_id = "wallet_history", tag = "wallet",
    security(("wallet_session" = [])), params(HistoryQuery),
    responses((status = 200, body = History), (status = 401, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: std::result::Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<History>> {
    let user = session_user(&state, &headers).await?;
    let Query(q) = query.map_err(|e| Error::field("query_invalid", "query", e.body_text()))?;
    let (data, has_more) = accounts::history(
        &state.node.reader,
        &user,
        q.limit.unwrap_or(20),
        q.starting_after.as_deref(),
    )
    .await?;
    Ok(axum::Json(History { data, has_more }))
}
