//! Events: every status change of a merchant's settlements, with the state
//! of its webhook delivery, and redelivery on request (PROTOCOL 8.2).

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::Router;
use kessai_core::Error;
use kessai_protocol::api::ErrorBody;
use serde::{Deserialize, Serialize};

use crate::http::error::ApiResult;
use crate::http::extract::AuthedMerchant;
use crate::http::state::AppState;
use kessai_core::outbox;
use kessai_protocol::api::EventView;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/events", get(list))
        .route("/v1/events/{id}", get(retrieve))
        .route("/v1/events/{id}/redeliver", post(redeliver))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    pub settlement_id: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventList {
    pub object: String,
    pub data: Vec<EventView>,
}

/// Events, newest first, optionally of one settlement.
#[utoipa::path(get, path = "/v1/events", operation_id = "list_events", tag = "merchant", params(EventQuery),
    responses((status = 200, body = EventList)), security(("secret_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    AuthedMerchant(merchant): AuthedMerchant,
    query: Result<Query<EventQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<EventList>> {
    let Query(q) = query.map_err(|e| Error::field("query_invalid", "query", e.body_text()))?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(Error::field("limit_out_of_range", "limit", "limit must be 1 to 100.").into());
    }
    let data = outbox::list_events(&state.node.reader, &merchant.id, q.settlement_id.as_deref(), limit).await?;
    Ok(axum::Json(EventList {
        object: "list".into(),
        data,
    }))
}

#[utoipa::path(get, path = "/v1/events/{id}", operation_id = "retrieve_event", tag = "merchant", params(("id" = String, Path)),
    responses((status = 200, body = EventView), (status = 404, body = ErrorBody)), security(("secret_key" = [])))]
pub async fn retrieve(
    State(state): State<AppState>,
    AuthedMerchant(merchant): AuthedMerchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<EventView>> {
    outbox::get_event(&state.node.reader, &merchant.id, &id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| Error::not_found("event_not_found", "No such event.").into())
}

/// Send an event's webhook again now.
#[utoipa::path(post, path = "/v1/events/{id}/redeliver", operation_id = "redeliver_event", tag = "merchant", params(("id" = String, Path)),
    responses((status = 200, body = EventView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("secret_key" = [])))]
pub async fn redeliver(
    State(state): State<AppState>,
    AuthedMerchant(merchant): AuthedMerchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<EventView>> {
    Ok(axum::Json(outbox::redeliver(&state.node, merchant, id).await?))
}
