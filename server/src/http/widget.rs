//! The checkout widget's files (PROTOCOL section 10): the shop's page loads
//! `/widget/kessai-checkout.js` with one script tag. Module scripts and the
//! wasm they fetch are CORS requests from the shop's origin, and the files
//! are public, so every origin may read them.

use kessai_core::Error;
use std::path::Path;

use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::http::error::ApiError;
use crate::http::state::AppState;

pub fn router(dir: Option<&Path>) -> Router<AppState> {
    let Some(dir) = dir else {
        return Router::new().route("/widget/{*file}", get(not_configured));
    };
    let files = ServeDir::new(dir).fallback(get(not_found).with_state(()));
    Router::new()
        .nest_service("/widget", files)
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        // Cached briefly: a redeployed widget reaches shops within minutes.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ))
}

async fn not_found() -> ApiError {
    ApiError::from(Error::not_found("widget_file_not_found", "No such widget file."))
}

async fn not_configured() -> ApiError {
    ApiError(Error::not_found(
        "widget_not_configured",
        "This server does not serve the checkout widget: build it with scripts/build-widget.sh and start kessai serve with --widget-dir target/widget.",
    ))
}
