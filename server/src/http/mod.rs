//! HTTP routes, one module per resource, merged here; and the OpenAPI
//! document generated from the handlers' annotations.

/// The browser apps' files: embedded at build time, or from a folder.
pub mod apps;
/// Errors as responses; the JSON extractor whose rejection is our error.
pub mod error;
/// `GET /v1/events`, one event, redelivery.
pub mod events;
/// What handlers take from a request: the merchant, the idempotency key.
pub mod extract;
/// Before routing: the body within its deadline, client certificates.
pub mod guards;
/// This institution's public document, for its peers.
pub mod institution;
/// The OpenAPI document as served, with the rules the derives cannot state.
pub mod openapi_doc;
/// The buyer's side: second requests, payer-first, polling, event streams.
pub mod payer;
/// Institution to institution: card authorizations, authorization status, positions.
pub mod peer;
/// The shop's side: create, list, retrieve, cancel, refund.
pub mod settlements;
/// The state every handler shares.
pub mod state;
/// The billing terminal's API: transactions, challenges, authentications, QR codes.
pub mod terminal;
/// The server wallet API: sessions, brand info, payments, history.
pub mod wallet;
/// The paying terminal's API: sync by number, order, challenge, confirm.
pub mod wallet_transactions;

use kessai_core::Error;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use kessai_protocol::api::ErrorBody;
use serde::Serialize;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// Request bodies larger than this are refused (500 items of 200-character
/// names fit comfortably).
pub(crate) const BODY_LEN_MAX: usize = 512 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "Kessai settling server", version = "1", description = "Dual-request settlement: the shop's first request and the buyer's second request are collated; money moves only when they agree. See PROTOCOL.md. Webhook retry schedule after a failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h, 12 attempts after the first (77 h 35 min in all)."),
    paths(
        settlements::create, settlements::list, settlements::retrieve, settlements::cancel, settlements::refund,
        payer::confirm, payer::confirm_payer_first, payer::status_of, payer::events,
        events::list, events::retrieve, events::redeliver, healthz, institution::document,
        peer::card_authorization, peer::status, peer::positions, payer::start_message,
        wallet::create_session, wallet::end_session, wallet::brand_info, wallet::pay, wallet::history,
        terminal::whoami, terminal::create, terminal::retrieve, terminal::events, terminal::challenge,
        terminal::portrait, terminal::cancel, terminal::create_authentication, terminal::retrieve_authentication,
        terminal::qr_svg, wallet_transactions::sync, wallet_transactions::retrieve, wallet_transactions::order,
        wallet_transactions::challenge, wallet_transactions::confirm, payer::request_number,
        terminal::gate_entry, terminal::gate_exit, terminal::verify_ticket,
    ),
    modifiers(&SecretKeyAuth, &ErrorResponses),
    tags((name = "merchant", description = "Shop server → settling server, with the secret key"),
         (name = "institution", description = "Institution to institution (PROTOCOL 11)"),
         (name = "terminal", description = "Billing terminal → settling server, with a terminal key (PROTOCOL 13)"),
         (name = "wallet", description = "Web wallet → server wallet, with a session token (PROTOCOL 12)"),
         (name = "payer", description = "Browser → settling server, with the client or payer secret"))
)]
pub struct ApiDoc;

struct SecretKeyAuth;

impl Modify for SecretKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "wallet_session",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("wt_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "terminal_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("tk_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "secret_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sk_…")
                    .build(),
            ),
        );
    }
}

/// Every operation but the health probe can answer with the protocol's
/// error shape: a malformed request (400), a missing or wrong credential or
/// secret (401), an unknown object (404); and one that takes a body, a body
/// over [`BODY_LEN_MAX`] (413 `body_too_large`). Declared once here rather
/// than on each handler; statuses particular to one operation stay on it.
///
/// A method a path does not take is 405 `method_not_allowed` in the same
/// shape, with an `Allow` header (`error::framework_errors`); it belongs to
/// no operation, so the document cannot list it on one.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
        let error = |description: &str| {
            let content = ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorBody"))))
                .build();
            ResponseBuilder::new()
                .description(description)
                .content("application/json", content)
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            if path == "/healthz" || path.starts_with("/.well-known/") {
                continue;
            }
            if let Some(op) = item.post.as_mut().filter(|op| op.request_body.is_some()) {
                op.responses.responses.entry("413".to_string()).or_insert_with(|| {
                    let limit = BODY_LEN_MAX / 1024;
                    RefOr::T(error(&format!(
                        "The body is larger than {limit} KiB (`body_too_large`)"
                    )))
                });
            }
            let operations = [&mut item.get, &mut item.post];
            for op in operations.into_iter().flatten() {
                for (code, description) in [
                    (
                        "400",
                        "The request is malformed or breaks a protocol rule (`error.code` says which)",
                    ),
                    ("401", "Missing or wrong secret key, client secret or payer secret"),
                    ("404", "No such object for this merchant or secret"),
                ] {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| RefOr::T(error(description)));
                }
            }
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(settlements::router())
        .merge(events::router())
        .merge(institution::router())
        .merge(peer::router())
        .merge(wallet::router())
        .merge(terminal::router())
        .merge(payer::router(state.clone()))
        .merge(apps::router(&state.config))
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LEN_MAX))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guards::body_deadline))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guards::client_certificate))
        .layer(axum::middleware::from_fn(error::framework_errors))
        // Logs method, path and status only: bodies may hold card data, and
        // query strings the payer and client secrets (`?payer_secret=…`).
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<axum::body::Body>| {
            tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
        }))
        .with_state(state)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: String,
    /// Writer transactions committed since start, and the steps they held:
    /// steps / batches is the mean group-commit size.
    pub writer_batches: u64,
    pub writer_steps: u64,
    /// Microseconds the writer spent on batches, and in COMMIT within them.
    pub writer_busy_us: u64,
    pub writer_commit_us: u64,
    /// Where each browser app's files come from, by app (`widget`):
    /// `embedded` in the binary, a `folder` given on the command line, or
    /// `not_built` (the binary was built without them).
    pub browser_apps: BTreeMap<String, String>,
}

/// 200 when the server is ready: the database answers and the settlement
/// writer runs. 503 (`writer_stopped`, or `database_unavailable`) when it
/// cannot take payments, so a load balancer or supervisor can act.
#[utoipa::path(get, path = "/healthz", operation_id = "healthz",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> Result<axum::Json<Health>, ApiError> {
    if state.node.writer.is_stopped() {
        return Err(ApiError(Error::Unavailable {
            code: "writer_stopped",
            message: "The settlement writer has stopped; this server cannot record payments. Restart it.".into(),
        }));
    }
    if let Err(e) = kessai_core::store::pool_optional(&state.node.reader, "SELECT 1 AS one", vec![]).await {
        tracing::error!(error = %e, "health check: the database does not answer");
        return Err(ApiError(Error::Unavailable {
            code: "database_unavailable",
            message: "The database does not answer.".into(),
        }));
    }
    let stats = state.node.writer.stats();
    Ok(axum::Json(Health {
        status: "ok".into(),
        writer_batches: stats.batches.load(Ordering::Relaxed),
        writer_steps: stats.steps.load(Ordering::Relaxed),
        writer_busy_us: stats.busy_us.load(Ordering::Relaxed),
        writer_commit_us: stats.commit_us.load(Ordering::Relaxed),
        browser_apps: apps::catalog::APPS
            .iter()
            .map(|app| (app.id.to_string(), apps::source(&state.config, app).name().to_string()))
            .collect(),
    }))
}

async fn openapi() -> axum::Json<serde_json::Value> {
    axum::Json(openapi_doc::document())
}

async fn not_found() -> ApiError {
    ApiError::from(Error::not_found(
        "route_not_found",
        "No such endpoint; see /openapi.json.",
    ))
}
