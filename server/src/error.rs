//! The server's one error type, mapped once to the protocol's error shape
//! (PROTOCOL section 2). Internal causes are logged, never sent to clients.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kessai_protocol::api::{ErrorBody, ErrorDetail};
use kessai_protocol::FieldError;
use serde::de::DeserializeOwned;

/// Every way a request can fail. Messages never contain card data or keys:
/// variants carry only what the server itself wrote.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field broke a protocol rule (400 invalid_request_error).
    #[error("{0}")]
    Field(#[from] FieldError),
    /// The body is not JSON of the expected shape (400).
    #[error("{message}")]
    BadJson {
        code: &'static str,
        message: String,
        param: Option<String>,
    },
    /// Missing or wrong credential (401).
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// Credential is valid but not for this (403).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// The request conflicts with the settlement's state (409).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        param: Option<String>,
    },
    /// Semantically unprocessable (422).
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        param: Option<String>,
    },
    /// Anything the client cannot fix; details go to the log only.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::NotFound {
            code,
            message: message.into(),
        }
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
            param: None,
        }
    }
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            message: message.into(),
        }
    }
    pub fn field(code: &'static str, param: &str, message: impl Into<String>) -> Self {
        Self::Field(FieldError::new(code, param, message))
    }

    fn parts(&self) -> (StatusCode, &'static str, String, String, Option<String>) {
        let invalid = "invalid_request_error";
        match self {
            Self::Field(e) => (
                StatusCode::BAD_REQUEST,
                invalid,
                e.code.to_string(),
                e.message.clone(),
                Some(e.param.clone()),
            ),
            Self::BadJson { code, message, param } => (
                StatusCode::BAD_REQUEST,
                invalid,
                code.to_string(),
                message.clone(),
                param.clone(),
            ),
            Self::Unauthorized { code, message } => (
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                code.to_string(),
                message.clone(),
                None,
            ),
            Self::Forbidden { code, message } => (
                StatusCode::FORBIDDEN,
                "permission_error",
                code.to_string(),
                message.clone(),
                None,
            ),
            Self::NotFound { code, message } => {
                (StatusCode::NOT_FOUND, invalid, code.to_string(), message.clone(), None)
            }
            Self::Conflict { code, message, param } => (
                StatusCode::CONFLICT,
                invalid,
                code.to_string(),
                message.clone(),
                param.clone(),
            ),
            Self::Unprocessable { code, message, param } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                invalid,
                code.to_string(),
                message.clone(),
                param.clone(),
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                "internal_error".into(),
                "The server failed to process the request; nothing was changed. Retry with the same Idempotency-Key."
                    .into(),
                None,
            ),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    pub fn body(&self) -> ErrorBody {
        let (_, kind, code, message, param) = self.parts();
        ErrorBody {
            error: ErrorDetail {
                kind: kind.into(),
                code,
                message,
                param,
            },
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(anyhow::Error::new(e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(error = ?cause, "internal error");
        }
        (self.status(), axum::Json(self.body())).into_response()
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
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::BadJson {
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
pub fn json_error(serde_message: &str, syntax: bool) -> ApiError {
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
    ApiError::BadJson {
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
