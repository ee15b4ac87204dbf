//! `GET /.well-known/kessai-institution` (PROTOCOL 11): this institution's
//! public document, which peers fetch once and pin by its key's thumbprint.
//! Public, and readable from any origin.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use kessai_protocol::api::ErrorBody;
use kessai_protocol::peer::InstitutionDocument;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::http::error::ApiResult;
use crate::http::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/kessai-institution", get(document))
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
}

/// This institution's id, name, brands, currencies, card prefix and key.
#[utoipa::path(get, path = "/.well-known/kessai-institution", operation_id = "institution_document",
    tag = "institution",
    responses((status = 200, body = InstitutionDocument), (status = 500, body = ErrorBody)))]
pub async fn document(State(state): State<AppState>) -> ApiResult<axum::Json<InstitutionDocument>> {
    let own = kessai_core::institution::current(&state.node.reader, &state.node.keyring).await?;
    Ok(axum::Json(own.document()))
}
