//! The paying terminal's API (PROTOCOL 13): the web wallet's "Pay in
//! store" sends the number a terminal shows, sees who bills and how much,
//! orders from a menu, answers a PIN challenge, and confirms. Authenticated
//! by the wallet session token, under the wallet API's CORS.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use kessai_core::terminals::{numbers, record, sale};
use kessai_core::wallet::WalletUser;
use kessai_core::Result;
use kessai_protocol::api::ErrorBody;
use kessai_protocol::terminal::{
    AnswerChallenge, ConfirmTransaction, ConfirmedTransaction, PayerTransaction, PlaceOrder, SyncTransaction,
};

use crate::http::error::ApiResult;
use crate::http::extract::session_user;
use crate::http::extract::SourceAddress;
use crate::http::settlements::parse_body;
use crate::http::state::AppState;
use crate::http::terminal::{wait_of, TransactionWaitQuery};
use crate::instore;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/wallet/transactions/sync", post(sync))
        .route("/v1/wallet/transactions/{id}", get(retrieve))
        .route("/v1/wallet/transactions/{id}/order", post(order))
        .route("/v1/wallet/transactions/{id}/challenge", post(challenge))
        .route("/v1/wallet/transactions/{id}/confirm", post(confirm))
}

/// Sends the number the terminal shows (D1): the transaction is this
/// payer's from now on (one payer per transaction). At an entry gate the
/// answer carries the admission; at an exit gate send it (C6).
#[utoipa::path(post, path = "/v1/wallet/transactions/sync", operation_id = "wallet_sync_transaction", tag = "wallet",
    security(("wallet_session" = [])), request_body = SyncTransaction,
    responses((status = 200, body = PayerTransaction), (status = 401, body = ErrorBody),
        (status = 400, description = "An exit gate's number without its admission (`admission_missing`)", body = ErrorBody),
        (status = 404, description = "Unknown, expired or taken number (`no_such_transaction`)", body = ErrorBody),
        (status = 409, description = "The admission exited already or is at another exit (`admission_used`)", body = ErrorBody),
        (status = 422, description = "A forged, altered or other merchant's admission (`invalid_admission`)", body = ErrorBody),
        (status = 429, description = "Too many wrong numbers for this user or from this address (`rate_limited`); see Retry-After", body = ErrorBody)))]
pub async fn sync(
    State(state): State<AppState>,
    source: SourceAddress,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<PayerTransaction>> {
    let now = kessai_core::clock::now();
    // Per address too: one guesser with many users is still one guesser.
    source.check(&state.node, now)?;
    let user = session_user(&state, &headers).await?;
    let req: SyncTransaction = parse_body(&body)?;
    numbers::check_throttle(&state.node.reader, &user.id, now).await?;
    let Some(txn) = instore::sync(&state, &user, req, now).await? else {
        source.count_failure(&state.node, now);
        return Err(sale::no_such_transaction().into());
    };
    Ok(axum::Json(instore::payer_view(&state, txn).await?))
}

async fn own(state: &AppState, user: &WalletUser, id: &str) -> Result<kessai_core::terminals::Txn> {
    record::get_pooled(&state.node.reader, id)
        .await?
        .filter(|t| t.payer_user_id.as_deref() == Some(user.id.as_str()))
        .ok_or_else(sale::no_such_transaction)
}

/// The transaction as the phone sees it; `?wait=N` holds the answer until
/// it changes (a PIN challenge, the menu order's amount, the outcome).
#[utoipa::path(get, path = "/v1/wallet/transactions/{id}", operation_id = "wallet_retrieve_transaction", tag = "wallet",
    security(("wallet_session" = [])), params(("id" = String, Path), TransactionWaitQuery),
    responses((status = 200, body = PayerTransaction), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: std::result::Result<Query<TransactionWaitQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<PayerTransaction>> {
    let user = session_user(&state, &headers).await?;
    let (wait, known) = wait_of(query)?;
    let mut txn = own(&state, &user, &id).await?;
    if !wait.is_zero() {
        let _slot = crate::http::state::slot(&state.long_polls, "long-polls")?;
        txn = instore::wait_for_change(&state, &id, txn, wait, known).await?;
    }
    Ok(axum::Json(instore::payer_view(&state, txn).await?))
}

/// Orders from the transaction's menu (D9); the terminal sees the order.
#[utoipa::path(post, path = "/v1/wallet/transactions/{id}/order", operation_id = "wallet_order_from_menu", tag = "wallet",
    security(("wallet_session" = [])), params(("id" = String, Path)), request_body = PlaceOrder,
    responses((status = 200, body = PayerTransaction), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "No menu (`transaction_has_no_menu`), or closed (`transaction_closed`)", body = ErrorBody)))]
pub async fn order(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<axum::Json<PayerTransaction>> {
    let user = session_user(&state, &headers).await?;
    let req: PlaceOrder = parse_body(&body)?;
    let (user_id, txn_id, now) = (user.id.clone(), id.clone(), kessai_core::clock::now());
    let txn = instore::step(&state, &id, move |conn| {
        Box::pin(async move { sale::place_order(conn, &user_id, &txn_id, &req.items, now).await })
    })
    .await?;
    Ok(axum::Json(instore::payer_view(&state, txn).await?))
}

/// Answers the terminal's PIN challenge (D8).
#[utoipa::path(post, path = "/v1/wallet/transactions/{id}/challenge", operation_id = "wallet_answer_challenge", tag = "wallet",
    security(("wallet_session" = [])), params(("id" = String, Path)), request_body = AnswerChallenge,
    responses((status = 200, body = PayerTransaction), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Nothing asked (`no_challenge_pending`), or closed", body = ErrorBody),
        (status = 422, description = "Wrong PIN (`pin_incorrect`); after 3 the challenge fails", body = ErrorBody)))]
pub async fn challenge(
    State(state): State<AppState>,
    source: SourceAddress,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<axum::Json<PayerTransaction>> {
    let now = kessai_core::clock::now();
    source.check(&state.node, now)?;
    let user = session_user(&state, &headers).await?;
    let req: AnswerChallenge = parse_body(&body)?;
    own(&state, &user, &id).await?;
    let answered = instore::answer(&state, &user, &id, req.pin.into_inner()).await;
    if answered.is_err() {
        source.count_failure(&state.node, now);
    }
    let txn = answered?;
    Ok(axum::Json(instore::payer_view(&state, txn).await?))
}

/// The final confirmation of the amount the phone showed (D3): pays, and
/// the terminal's status turns final in the same commit.
#[utoipa::path(post, path = "/v1/wallet/transactions/{id}/confirm", operation_id = "wallet_confirm_transaction", tag = "wallet",
    security(("wallet_session" = [])), params(("id" = String, Path)), request_body = ConfirmTransaction,
    responses((status = 200, description = "Paid (with the receipt) or declined (with the reason)", body = ConfirmedTransaction),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`amount_mismatch`, `challenge_pending`, `challenge_failed`, `order_missing`, `transaction_closed`, `transaction_not_synchronized`", body = ErrorBody)))]
pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<axum::Json<ConfirmedTransaction>> {
    let user = session_user(&state, &headers).await?;
    let req: ConfirmTransaction = parse_body(&body)?;
    Ok(axum::Json(instore::confirm(&state, &user, &id, req).await?))
}
