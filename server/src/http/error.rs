//! Errors as HTTP responses. The core's one error type already knows its
//! protocol shape (PROTOCOL section 2); here it becomes a response, and
//! malformed JSON, an oversized body and a wrong method become that error
//! too.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kessai_core::Error;
use serde::de::DeserializeOwned;

/// The core's error as an HTTP response: the status and body the core
/// maps it to, with internal causes logged (whole chain) and never sent.
#[derive(Debug)]
pub struct ApiError(pub Error);

/// Anything the core's error comes from (`?` on core results, sqlx errors,
/// protocol field errors) becomes a response the same way.
impl<E: Into<Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log_if_internal("internal error answering a request");
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self.0.body())).into_response();
        if let Some(seconds) = self.0.retry_after_s() {
            response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// `axum::Json` whose rejection is the protocol's error shape, so malformed
/// JSON and unknown fields get a precise 400 instead of axum's plain text.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    ApiError(json_rejection_error(rejection))
}

/// 413 `body_too_large`: the body passed [`super::BODY_LEN_MAX`].
pub fn body_too_large() -> Error {
    Error::TooLarge {
        code: "body_too_large",
        message: format!("The request body is larger than {} KiB.", super::BODY_LEN_MAX / 1024),
    }
}

/// 405 `method_not_allowed`: the path exists, the method does not.
pub fn method_not_allowed(method: &Method) -> Error {
    Error::MethodNotAllowed {
        code: "method_not_allowed",
        message: format!("This endpoint does not take {method}; the Allow header lists the methods it takes."),
    }
}

/// Middleware for the whole router: the refusals axum makes itself, before
/// any handler runs, in the protocol's error shape. They are a body over the
/// limit (413, a plain-text rejection of whichever extractor read the body:
/// `Bytes` or `Json`) and a method a known path does not take (405, with an
/// empty body). Every other header is kept: CORS headers, and `Allow`,
/// which axum adds outside this layer. An answer already in JSON (ours)
/// passes unchanged.
pub async fn framework_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let response = next.run(req).await;
    let error = match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => body_too_large(),
        StatusCode::METHOD_NOT_ALLOWED => method_not_allowed(&method),
        _ => return response,
    };
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let mut shaped = ApiError(error).into_response();
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            shaped.headers_mut().append(name, value.clone());
        }
    }
    shaped
}

fn json_rejection_error(rejection: JsonRejection) -> Error {
    match rejection {
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => body_too_large(),
        JsonRejection::MissingJsonContentType(_) => Error::BadJson {
            code: "invalid_json",
            message: "Send the body as JSON with Content-Type: application/json.".into(),
            param: None,
        },
        JsonRejection::JsonDataError(e) => json_error(&e.body_text(), false),
        JsonRejection::JsonSyntaxError(e) => json_error(&e.body_text(), true),
        other => json_error(&other.body_text(), true),
    }
}

/// Classifies a serde message into a precise code, naming the field where
/// serde does (`unknown field `bogus``, `missing field `order``).
pub fn json_error(serde_message: &str, syntax: bool) -> Error {
    let field = |marker: &str| {
        serde_message
            .find(marker)
            .map(|i| &serde_message[i + marker.len()..])
            .and_then(|rest| rest.split('`').next())
            .filter(|f| f.len() <= 64)
            .map(String::from)
    };
    let (code, param) = if syntax {
        ("invalid_json", None)
    } else if let Some(f) = field("unknown field `") {
        ("unknown_field", Some(f))
    } else if let Some(f) = field("missing field `") {
        ("parameter_missing", Some(f))
    } else {
        ("invalid_parameter", None)
    };
    let lead = if syntax {
        "The body is not valid JSON"
    } else {
        "The JSON does not match the expected shape"
    };
    Error::BadJson {
        code,
        message: format!("{lead}: {}", redact(serde_message)),
        param,
    }
}

/// serde's messages quote the offending value (`invalid type: string "4242…"`),
/// which could be a card number or password typed into the wrong field.
/// Keep field names and positions, drop quoted values and long digit runs.
pub fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_quotes = false;
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= 5 {
            out.push('…');
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in message.chars() {
        if c == '"' {
            flush(&mut digits, &mut out);
            if !in_quotes {
                out.push_str("\"…");
            }
            in_quotes = !in_quotes;
            if !in_quotes {
                out.push('"');
            }
            continue;
        }
        if in_quotes {
            continue;
        }
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_drops_quoted_values_and_long_numbers() {
        let m = redact("invalid type: string \"4242424242424242\", expected u32 at line 1 column 40");
        assert!(!m.contains("4242"), "{m}");
        assert!(m.contains("line 1 column 40"), "{m}");
        let m = redact("invalid type: integer `4242424242424242`, expected a string");
        assert!(!m.contains("4242"), "{m}");
        assert_eq!(redact("unknown field `bogus`"), "unknown field `bogus`");
    }
}
