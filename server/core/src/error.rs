//! The core's one error type, mapped once to the protocol's error shape
//! (`error.type`, `error.code`, `error.message`, `error.param` and the HTTP
//! status a transport should answer with). The HTTP layer only wraps it.
//! Internal causes keep their whole chain for the log and never reach a
//! client.

use kessai_protocol::api::{ErrorBody, ErrorDetail};
use kessai_protocol::FieldError;

/// Every way an operation can fail. Messages never contain card data or
/// keys: variants carry only what the server itself wrote.
#[derive(Debug, thiserror::Error)]
pub enum Error {
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
    /// The path exists but does not take this method (405); the transport
    /// says which methods it takes (`Allow`).
    #[error("{message}")]
    MethodNotAllowed { code: &'static str, message: String },
    /// The request conflicts with the object's state (409).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        param: Option<String>,
    },
    /// The request body is larger than the server accepts (413).
    #[error("{message}")]
    TooLarge { code: &'static str, message: String },
    /// Semantically unprocessable (422).
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        param: Option<String>,
    },
    /// A payment refused before anything was sent or recorded (422): the
    /// buyer may pay another way. `code` is a decline code.
    #[error("{}", declined_message(*.0))]
    Declined(kessai_protocol::api::DeclineCode),
    /// The server cannot take the request now (503); safe to retry.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    /// Too many attempts (429 `rate_limited`); a transport says when to
    /// try again (`Retry-After`, seconds).
    #[error("{message}")]
    RateLimited { retry_after_s: u64, message: String },
    /// Anything the client cannot fix; details go to the log only.
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

/// Why a payment was refused, in words a buyer can act on.
fn declined_message(code: kessai_protocol::api::DeclineCode) -> String {
    use kessai_protocol::api::DeclineCode as D;
    match code {
        D::InsufficientFunds => "Not enough money is available in this account; nothing was charged.",
        D::AuthenticationFailed => "The payment could not be authenticated; nothing was charged.",
        D::Restricted => "This account may not make this payment; nothing was charged.",
        _ => "The payment was declined; nothing was charged.",
    }
    .to_string()
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An invariant where money moves (TigerBeetle's assertions, without the
/// panic: this runs on the writer, which serves every request). When
/// `$cond` is false the step fails with an internal error, which the writer
/// rolls back, and the broken invariant is logged with its context.
///
/// ```ignore
/// invariant!(refunded <= total, "settlement {id}: refunded {refunded} > total {total}");
/// ```
#[macro_export]
macro_rules! invariant {
    ($cond:expr, $($context:tt)+) => {
        if !$cond {
            let context = format!($($context)+);
            ::tracing::error!(invariant = stringify!($cond), %context, "invariant broken; the step is rolled back");
            return Err($crate::Error::internal(format!(
                "invariant `{}` broken: {}",
                stringify!($cond),
                context
            )));
        }
    };
}

/// What a transport needs to answer an error: the HTTP status and the body.
struct Shape {
    status: u16,
    kind: &'static str,
    code: String,
    message: String,
    param: Option<String>,
}

impl Error {
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
    /// An internal error from a message: a broken invariant or a state the
    /// code should never reach. The step fails and is rolled back.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(anyhow::anyhow!(message.into()))
    }

    /// Whether the database refused the step only because of what ran
    /// beside it: a deadlock (SQLSTATE 40P01) or a serialization failure
    /// (40001). Running the step again is then correct and usually works.
    pub fn is_transient(&self) -> bool {
        let Self::Internal(cause) = self else { return false };
        cause.chain().any(|e| match e.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::Database(db)) => matches!(db.code().as_deref(), Some("40P01") | Some("40001")),
            _ => false,
        })
    }

    fn shape(&self) -> Shape {
        let shape = |status, kind, code: &str, message: &str, param: &Option<String>| Shape {
            status,
            kind,
            code: code.to_string(),
            message: message.to_string(),
            param: param.clone(),
        };
        let invalid = "invalid_request_error";
        match self {
            Self::Field(e) => shape(400, invalid, e.code, &e.message, &Some(e.param.clone())),
            Self::BadJson { code, message, param } => shape(400, invalid, code, message, param),
            Self::Unauthorized { code, message } => shape(401, "authentication_error", code, message, &None),
            Self::Forbidden { code, message } => shape(403, "permission_error", code, message, &None),
            Self::NotFound { code, message } => shape(404, invalid, code, message, &None),
            Self::MethodNotAllowed { code, message } => shape(405, invalid, code, message, &None),
            Self::Conflict { code, message, param } => shape(409, invalid, code, message, param),
            Self::TooLarge { code, message } => shape(413, invalid, code, message, &None),
            Self::Unprocessable { code, message, param } => shape(422, invalid, code, message, param),
            Self::Declined(code) => shape(422, invalid, code.as_str(), &declined_message(*code), &None),
            Self::Unavailable { code, message } => shape(503, "api_error", code, message, &None),
            Self::RateLimited { message, .. } => shape(429, "rate_limit_error", "rate_limited", message, &None),
            Self::Internal(_) => shape(
                500,
                "api_error",
                "internal_error",
                "The server failed to process the request; nothing was changed. Retry with the same Idempotency-Key.",
                &None,
            ),
        }
    }

    /// Seconds until a rate-limited request may be tried again.
    pub fn retry_after_s(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_s, .. } => Some((*retry_after_s).max(1)),
            _ => None,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        self.shape().status
    }

    /// The protocol's error body (PROTOCOL section 2).
    pub fn body(&self) -> ErrorBody {
        let Shape {
            kind,
            code,
            message,
            param,
            ..
        } = self.shape();
        ErrorBody {
            error: ErrorDetail {
                kind: kind.into(),
                code,
                message,
                param,
            },
        }
    }

    /// Logs an internal error with its whole cause chain; other errors are
    /// the client's and are not logged. Returns whether it logged.
    pub fn log_if_internal(&self, context: &str) -> bool {
        if let Self::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "{context}");
            return true;
        }
        false
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(anyhow::Error::new(e))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Self::Internal(anyhow::Error::new(e).context("JSON of a stored record"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_keep_their_cause_but_do_not_show_it() {
        let e = Error::Internal(anyhow::anyhow!("disk full").context("committing batch"));
        assert_eq!(e.status(), 500);
        let body = e.body();
        assert_eq!(body.error.code, "internal_error");
        assert!(!body.error.message.contains("disk full"));
        assert!(e.to_string().contains("committing batch: disk full"), "{e}");
    }

    #[test]
    fn each_kind_has_its_status() {
        assert_eq!(Error::conflict("x", "y").status(), 409);
        let too_large = Error::TooLarge {
            code: "body_too_large",
            message: "m".into(),
        };
        assert_eq!(
            (too_large.status(), too_large.body().error.kind.as_str()),
            (413, "invalid_request_error")
        );
        let method = Error::MethodNotAllowed {
            code: "method_not_allowed",
            message: "m".into(),
        };
        assert_eq!(
            (method.status(), method.body().error.kind.as_str()),
            (405, "invalid_request_error")
        );
        assert_eq!(Error::field("x", "p", "m").body().error.param.as_deref(), Some("p"));
        assert_eq!(Error::unauthorized("x", "y").body().error.kind, "authentication_error");
    }
}
