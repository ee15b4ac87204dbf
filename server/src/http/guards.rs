//! What a request must bring before it is routed (issue 7): its whole body
//! within a deadline, and on merchant and peer endpoints, when the server
//! requires it, a client certificate. Both answer in the protocol's error
//! shape.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kessai_core::Error;
use kessai_protocol::api::{ErrorBody, ErrorDetail};

use crate::http::error::{body_too_large, ApiError};
use crate::http::state::AppState;
use crate::tls::ClientCert;

/// The paths where a client certificate is required under `--client-ca`:
/// the shop's server and peer institutions are machines with certificates;
/// the payer, wallet and app paths are used by browsers, which have none.
const CERTIFIED_PREFIXES: [&str; 3] = ["/v1/settlements", "/v1/events", "/v1/peer/"];

/// Reads the whole body within `body_read_timeout` from the moment the
/// headers are in, so a client that trickles its body (one byte every few
/// seconds) holds a connection for a bounded time only: 408
/// `request_timeout`, and the connection is closed. Bodies here are small
/// JSON (at most `BODY_LEN_MAX`), so holding one in memory costs little.
pub async fn body_deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let deadline = state.config.limits.body_read_timeout;
    let read = tokio::time::timeout(deadline, axum::body::to_bytes(body, super::BODY_LEN_MAX)).await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return closing(ApiError(body_too_large()).into_response()),
        Err(_) => {
            let seconds = deadline.as_secs();
            let message = format!("The request body did not arrive within {seconds} s.");
            return closing(shaped(StatusCode::REQUEST_TIMEOUT, "request_timeout", message));
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// 401 `client_certificate_required` on merchant and peer paths when the
/// server was started with `--client-ca` and the connection presented no
/// certificate (the TLS layer already refused one the CA did not sign).
pub async fn client_certificate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let required = state.config.tls.as_ref().is_some_and(|tls| tls.client_ca.is_some());
    let path = req.uri().path();
    let certified = CERTIFIED_PREFIXES.iter().any(|prefix| path.starts_with(prefix));
    if required && certified && req.extensions().get::<ClientCert>().is_none() {
        return ApiError(Error::unauthorized(
            "client_certificate_required",
            "This endpoint requires a TLS client certificate signed by the server's client CA.",
        ))
        .into_response();
    }
    next.run(req).await
}

/// An error in the protocol's shape with a status the core's error type
/// does not have (408 belongs to the transport, not to the domain).
fn shaped(status: StatusCode, code: &str, message: String) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            kind: "invalid_request_error".into(),
            code: code.into(),
            message,
            param: None,
        },
    };
    (status, axum::Json(body)).into_response()
}

/// Asks hyper to close the connection after this answer: the rest of the
/// body, if any, is still on its way and would be read as the next request.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
