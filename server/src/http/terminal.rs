//! The billing terminal's API (PROTOCOL 13): a POS, a vending machine or a
//! gate, authenticated by its terminal key (`Bearer tk_…`). A terminal sees
//! only its own transactions; another merchant's, or another terminal's,
//! answer 404 like unknown ones.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::stream::{self, Stream};
use kessai_core::terminals::{gates, payers, record, registry, sale, tickets, Purpose, Terminal, Txn};
use kessai_core::{Error, Result};
use kessai_protocol::api::ErrorBody;
use kessai_protocol::terminal::{
    Authentication, CreateAuthentication, CreateChallenge, CreateGateTransaction, CreateTransaction, TerminalInfo,
    TerminalMerchant, TerminalTransaction, TicketAdmitted, TransactionCreated, TransactionStatus, VerifyTicket,
    TERMINAL_KEY_PREFIX,
};
use serde::Deserialize;

use crate::http::error::{ApiError, ApiResult};
use crate::http::settlements::{parse_body, wait_duration};
use crate::http::state::AppState;
use crate::instore;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/terminal", get(whoami))
        .route("/v1/terminal/transactions", post(create))
        .route("/v1/terminal/transactions/{id}", get(retrieve))
        .route("/v1/terminal/transactions/{id}/events", get(events))
        .route("/v1/terminal/transactions/{id}/challenges", post(challenge))
        .route("/v1/terminal/transactions/{id}/portrait", get(portrait))
        .route("/v1/terminal/transactions/{id}/cancel", post(cancel))
        .route("/v1/terminal/authentications", post(create_authentication))
        .route("/v1/terminal/authentications/{id}", get(retrieve_authentication))
        .route("/v1/terminal/gate/entries", post(gate_entry))
        .route("/v1/terminal/gate/exits", post(gate_exit))
        .route("/v1/terminal/tickets/verify", post(verify_ticket))
        .route("/v1/qr.svg", get(qr_svg))
}

/// The terminal whose key the request carries.
pub struct AuthedTerminal(pub Terminal);

impl FromRequestParts<AppState> for AuthedTerminal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> std::result::Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| k.starts_with(TERMINAL_KEY_PREFIX))
            .ok_or_else(|| {
                Error::unauthorized(
                    "terminal_key_missing",
                    "Send the terminal key as `Authorization: Bearer tk_…` (kessai terminal register gives one).",
                )
            })?;
        Ok(Self(registry::authenticate(&state.node.reader, key).await?))
    }
}

async fn merchant_of(state: &AppState, terminal: &Terminal) -> Result<TerminalMerchant> {
    let m = state
        .node
        .merchants
        .by_id(&state.node.reader, &state.node.keyring, &terminal.merchant_id)
        .await?
        .ok_or_else(|| Error::internal(format!("terminal {} of unknown merchant", terminal.id)))?;
    Ok(TerminalMerchant {
        id: m.id.clone(),
        name: m.name.clone(),
    })
}

/// This terminal: what the POS shows when signed in (D4).
#[utoipa::path(get, path = "/v1/terminal", operation_id = "terminal_whoami", tag = "terminal",
    security(("terminal_key" = [])), responses((status = 200, body = TerminalInfo), (status = 401, body = ErrorBody)))]
pub async fn whoami(
    State(state): State<AppState>,
    AuthedTerminal(t): AuthedTerminal,
) -> ApiResult<axum::Json<TerminalInfo>> {
    let merchant = merchant_of(&state, &t).await?;
    Ok(axum::Json(instore::info_of(&t, merchant)))
}

/// Opens a transaction with a number for the payer to send (D1, D2, D9).
#[utoipa::path(post, path = "/v1/terminal/transactions", operation_id = "create_terminal_transaction", tag = "terminal",
    security(("terminal_key" = [])), request_body = CreateTransaction,
    responses((status = 201, body = TransactionCreated), (status = 401, body = ErrorBody),
        (status = 409, description = "The order id has a settlement already (`order_id_in_use`)", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    AuthedTerminal(t): AuthedTerminal,
    body: Bytes,
) -> ApiResult<Response> {
    let req: CreateTransaction = parse_body(&body)?;
    let sale = sale::prepare(req)?;
    let (terminal, now) = (t.clone(), kessai_core::clock::now());
    let txn = state
        .node
        .writer
        .run(move |conn| Box::pin(async move { sale::open(conn, &terminal, sale, now).await }))
        .await?;
    let created = instore::created(&state, &txn, &t).await?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

/// This terminal's transaction: an authentication by number (D11) when
/// `authentication`, else any other (sales, vending, gates).
async fn own(state: &AppState, terminal: &Terminal, id: &str, authentication: bool) -> Result<Txn> {
    record::get_pooled(&state.node.reader, id)
        .await?
        .filter(|t| {
            t.terminal_id.as_deref() == Some(terminal.id.as_str())
                && (t.purpose == Purpose::Authentication) == authentication
        })
        .ok_or_else(|| Error::not_found("transaction_not_found", "No such transaction."))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TransactionWaitQuery {
    /// Hold the answer until the transaction changes or this many seconds pass (at most 30).
    #[param(minimum = 0, maximum = 30)]
    pub wait: Option<u64>,
    /// The `version` last seen: answered at once if the transaction has moved on since.
    pub version: Option<u64>,
}

/// `?wait=N&version=V`, checked.
pub(crate) fn wait_of(
    query: std::result::Result<Query<TransactionWaitQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<(Duration, Option<u64>)> {
    let Query(q) = query.map_err(|e| Error::field("query_invalid", "query", e.body_text()))?;
    Ok((wait_duration(q.wait)?, q.version))
}

/// The transaction; `?wait=N` holds the answer until it changes (D3's
/// completion notice, D6's synchronization confirmation).
#[utoipa::path(get, path = "/v1/terminal/transactions/{id}", operation_id = "retrieve_terminal_transaction", tag = "terminal",
    security(("terminal_key" = [])), params(("id" = String, Path, description = "txn_…"), TransactionWaitQuery),
    responses((status = 200, body = TerminalTransaction), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, description = "Too many long-polls waiting (`server_busy`)", body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    AuthedTerminal(t): AuthedTerminal,
    Path(id): Path<String>,
    query: std::result::Result<Query<TransactionWaitQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<TerminalTransaction>> {
    let (wait, known) = wait_of(query)?;
    let mut txn = own(&state, &t, &id, false).await?;
    if !wait.is_zero() {
        let _slot = crate::http::state::slot(&state.long_polls, "long-polls")?;
        txn = instore::wait_for_change(&state, &id, txn, wait, known).await?;
    }
    Ok(axum::Json(instore::terminal_view(&state, txn, &t).await?))
}

/// Server-sent events: the transaction at once, then at each change, until final.
#[utoipa::path(get, path = "/v1/terminal/transactions/{id}/events", operation_id = "terminal_transaction_events", tag = "terminal",
    security(("terminal_key" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "text/event-stream of `transaction` events carrying a TerminalTransaction"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, description = "Too many event streams open (`server_busy`)", body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    AuthedTerminal(t): AuthedTerminal,
    Path(id): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    let txn = own(&state, &t, &id, false).await?;
    let slot = crate::http::state::slot(&state.event_streams, "event streams")?;
    // Bounded: a stream ends at a final status or after an hour.
    let rounds_max = 3600 / 25;
    let stream = stream::unfold((Some(txn), 0u32), move |(pending, round)| {
        let _slot = &slot;
        let (state, id, terminal) = (state.clone(), id.clone(), t.clone());
        async move {
            let mut txn = pending?;
            if round > 0 {
                txn = instore::wait_for_change(&state, &id, txn, Duration::from_secs(25), None)
                    .await
                    .ok()?;
            }
            let done = txn.effective_status(kessai_core::clock::now()).is_final() || round >= rounds_max;
            let event = match instore::terminal_view(&state, txn.clone(), &terminal).await {
                Ok(view) => Event::default()
                    .event("transaction")
                    .json_data(view)
                    .unwrap_or_default(),
                Err(_) => Event::default().event("error").data("lookup failed"),
            };
            Some((Ok(event), (if done { None } else { Some(txn) }, round + 1)))
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Asks the payer for their PIN (D8); the transaction cannot be confirmed
/// until it is answered right.
#[utoipa::path(post, path = "/v1/terminal/transactions/{id}/challenges", operation_id = "challenge_terminal_payer", tag = "terminal",
    security(("terminal_key" = [])), params(("id" = String, Path)), request_body = CreateChallenge,
    responses((status = 200, body = TerminalTransaction), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Not synchronized (`transaction_not_synchronized`) or closed (`transaction_closed`)", body = ErrorBody)))]
pub async fn challenge(
    State(state): State<AppState>,
    AuthedTerminal(t): AuthedTerminal,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<axum::Json<TerminalTransaction>> {
    let req: CreateChallenge = parse_body(&body)?;
    own(&state, &t, &id, false).await?;
    let (terminal, txn_id, now) = (t.clone(), id.clone(), kessai_core::clock::now());
    let txn = instore::step(&state, &id, move |conn| {
        Box::pin(async move { sale::ask(conn, &terminal, &txn_id, req.kind, now).await })
    })
    .await?;
    Ok(axum::Json(instore::terminal_view(&state, txn, &t).await?))
}

/// The payer's portrait, for the clerk to compare (D6): only to this
/// transaction's terminal, only while synchronized.
#[utoipa::path(get, path = "/v1/terminal/transactions/{id}/portrait", operation_id = "terminal_payer_portrait", tag = "terminal",
    security(("terminal_key" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "The image (PNG, JPEG or WebP)"), (status = 401, body = ErrorBody),
        (status = 404, description = "No such transaction, no payer synchronized, or no portrait (`portrait_not_available`)", body = ErrorBody)))]
pub async fn portrait(
    State(state): State<AppState>,
    AuthedTerminal(t): AuthedTerminal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let txn = own(&state, &t, &id, false).await?;
    let unavailable = || {
        Error::not_found(
            "portrait_not_available",
            "No portrait is available for this transaction.",
        )
    };
    let user_id = match (txn.effective_status(kessai_core::clock::now()), &txn.payer_user_id) {
        (TransactionStatus::Synchronized, Some(user_id)) => user_id.clone(),
        _ => return Err(unavailable().into()),
    };
    let (kind, bytes) = payers::portrait(&state.node.reader, &user_id)
        .await?
        .ok_or_else(unavailable)?;
    let headers = [
        (header::CONTENT_TYPE, kind),
        // A person's face: never kept by any cache.
        (header::CACHE_CONTROL, "no-store".to_string()),
    ];
    Ok((headers, bytes).into_response())
}

/// Cancels a transaction nobody has paid yet.
#[utoipa::path(post, path = "/v1/terminal/transactions/{id}/cancel", operation_id = "cancel_terminal_transaction", tag = "terminal",
    security(("terminal_key" = [])), params(("id" = String, Path)),
    responses((status = 200, body = TerminalTransaction), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Already paid, declined or expired (`transaction_closed`)", body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    AuthedTerminal(t): AuthedTerminal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<TerminalTransaction>> {
    own(&state, &t, &id, false).await?;
    let (terminal, txn_id, now) = (t.clone(), id.clone(), kessai_core::clock::now());
    let txn = instore::step(&state, &id, move |conn| {
        Box::pin(async move { sale::cancel(conn, &terminal, &txn_id, now).await })
    })
    .await?;
    Ok(axum::Json(instore::terminal_view(&state, txn, &t).await?))
}

/// Opens an authentication by number (D11): the user who sends the number
/// from their phone is asked for their PIN.
#[utoipa::path(post, path = "/v1/terminal/authentications", operation_id = "create_authentication", tag = "terminal",
    security(("terminal_key" = [])), request_body = CreateAuthentication,
    responses((status = 201, body = Authentication), (status = 401, body = ErrorBody)))]
pub async fn create_authentication(
    State(state): State<AppState>,
    AuthedTerminal(t): AuthedTerminal,
    body: Bytes,
) -> ApiResult<Response> {
    let req: CreateAuthentication = parse_body(&body)?;
    let (terminal, now) = (t.clone(), kessai_core::clock::now());
    let txn = state
        .node
        .writer
        .run(move |conn| Box::pin(async move { sale::open_authentication(conn, &terminal, req.kind, now).await }))
        .await?;
    let view = instore::authentication_view(&state, txn).await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

/// The authentication; `?wait=N` holds the answer until it changes.
#[utoipa::path(get, path = "/v1/terminal/authentications/{id}", operation_id = "retrieve_authentication", tag = "terminal",
    security(("terminal_key" = [])), params(("id" = String, Path, description = "aut_…"), TransactionWaitQuery),
    responses((status = 200, body = Authentication), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retrieve_authentication(
    State(state): State<AppState>,
    AuthedTerminal(t): AuthedTerminal,
    Path(id): Path<String>,
    query: std::result::Result<Query<TransactionWaitQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<Authentication>> {
    let (wait, _) = wait_of(query)?;
    let mut txn = own(&state, &t, &id, true).await?;
    if !wait.is_zero() {
        let _slot = crate::http::state::slot(&state.long_polls, "long-polls")?;
        txn = instore::wait_for_change(&state, &id, txn, wait, None).await?;
    }
    Ok(axum::Json(instore::authentication_view(&state, txn).await?))
}

/// A gate's body, which may be empty.
fn gate_body(body: &[u8]) -> Result<CreateGateTransaction> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(CreateGateTransaction::default());
    }
    parse_body(body)
}

/// Opens a gate transaction (C6): an entry, or an exit whose amount the
/// admission will make.
async fn open_gate(state: &AppState, t: &Terminal, body: &[u8], entry: bool) -> ApiResult<Response> {
    let req = gate_body(body)?;
    gates::require_gate(t)?;
    let ttl_s = sale::check_ttl(req.expires_in)?;
    let (gate, now) = (t.clone(), kessai_core::clock::now());
    let txn = state
        .node
        .writer
        .run(move |conn| {
            Box::pin(async move { gates::open(conn, &gate, entry, req.currency.as_deref(), ttl_s, now).await })
        })
        .await?;
    let created = instore::created(state, &txn, t).await?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

/// An entry gate's number (C6): the payer who sends it gets an admission
/// and the transaction becomes `succeeded`: open the gate.
#[utoipa::path(post, path = "/v1/terminal/gate/entries", operation_id = "create_gate_entry", tag = "terminal",
    security(("terminal_key" = [])), request_body(content = CreateGateTransaction, description = "May be empty"),
    responses((status = 201, body = TransactionCreated), (status = 401, body = ErrorBody),
        (status = 403, description = "Not a gate (`terminal_kind_not_allowed`)", body = ErrorBody)))]
pub async fn gate_entry(
    State(state): State<AppState>,
    AuthedTerminal(t): AuthedTerminal,
    body: Bytes,
) -> ApiResult<Response> {
    open_gate(&state, &t, &body, true).await
}

/// An exit gate's number (C6): the payer sends it with the admission, the
/// amount becomes the fee, the payer confirms; `succeeded`: open the gate.
#[utoipa::path(post, path = "/v1/terminal/gate/exits", operation_id = "create_gate_exit", tag = "terminal",
    security(("terminal_key" = [])), request_body(content = CreateGateTransaction, description = "May be empty"),
    responses((status = 201, body = TransactionCreated), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "Not a gate (`terminal_kind_not_allowed`)", body = ErrorBody),
        (status = 409, description = "No fee table in the currency (`gate_fees_missing`)", body = ErrorBody)))]
pub async fn gate_exit(
    State(state): State<AppState>,
    AuthedTerminal(t): AuthedTerminal,
    body: Bytes,
) -> ApiResult<Response> {
    open_gate(&state, &t, &body, false).await
}

/// Checks a ticket at an entrance of its merchant (C9): admitted once.
#[utoipa::path(post, path = "/v1/terminal/tickets/verify", operation_id = "verify_ticket", tag = "terminal",
    security(("terminal_key" = [])), request_body = VerifyTicket,
    responses((status = 200, body = TicketAdmitted), (status = 401, body = ErrorBody),
        (status = 409, description = "Let in already (`ticket_used`)", body = ErrorBody),
        (status = 422, description = "Forged, altered, another merchant's or not valid now (`invalid_ticket`)", body = ErrorBody)))]
pub async fn verify_ticket(
    State(state): State<AppState>,
    AuthedTerminal(t): AuthedTerminal,
    body: Bytes,
) -> ApiResult<axum::Json<TicketAdmitted>> {
    let req: VerifyTicket = parse_body(&body)?;
    let now = kessai_core::clock::now();
    let claims = instore::passes(&state)
        .await?
        .ticket(&req.ticket, &t.merchant_id, now)?;
    let (checked, entrance) = (claims.clone(), t.clone());
    state
        .node
        .writer
        .run(move |conn| Box::pin(async move { tickets::admit(conn, &checked, &entrance, now).await }))
        .await?;
    Ok(axum::Json(TicketAdmitted {
        admitted: true,
        event: claims.event,
        ticket_id: claims.jti,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QrQuery {
    /// An EMV merchant-presented payload (PROTOCOL 13), as a transaction's `qr`.
    pub payload: String,
}

/// The QR code of a payload, as SVG: for `<img src>` on a terminal's or a
/// checkout's page. Only payloads whose CRC checks are drawn, so this is
/// no general QR service.
#[utoipa::path(get, path = "/v1/qr.svg", operation_id = "qr_svg", tag = "terminal", params(QrQuery),
    responses((status = 200, description = "image/svg+xml"), (status = 400, body = ErrorBody)))]
pub async fn qr_svg(
    query: std::result::Result<Query<QrQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(|e| Error::field("query_invalid", "query", e.body_text()))?;
    let svg = kessai_protocol::emv::svg(&q.payload)?;
    let headers = [
        (header::CONTENT_TYPE, "image/svg+xml"),
        (header::CACHE_CONTROL, "public, max-age=3600"),
    ];
    Ok((headers, svg).into_response())
}
