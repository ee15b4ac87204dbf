//! The one error type of the protocol's checks.
//!
//! Every check in this crate that looks at request data fails with a
//! [`FieldError`]: the protocol's `code`, the dotted path of the offending
//! field (`param`, e.g. `order.items[2].quantity`) and an English sentence for
//! the developer reading the response. The server maps it once to the 400
//! error shape of PROTOCOL section 2.
//!
//! Messages never echo card numbers, CVCs, passwords or keys; they name the
//! field and the rule instead.

/// A validation failure of one request field; maps to the protocol's 400 error shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    /// Machine-readable error code, e.g. `order_total_mismatch`.
    pub code: &'static str,
    /// Dotted path of the offending field, e.g. `order.total`.
    pub param: String,
    /// Human-readable explanation (one English sentence).
    pub message: String,
}

impl FieldError {
    /// Builds an error for `param` with the protocol's `code` and a sentence.
    pub fn new(code: &'static str, param: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            param: param.into(),
            message: message.into(),
        }
    }
}

/// Joins a parameter path prefix and a field name: `("order", "total")` gives
/// `order.total`; an empty prefix gives just the field.
pub(crate) fn join_param(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_message() {
        let error = FieldError::new("quantity_invalid", "order.items[0].quantity", "Bad.");
        assert_eq!(error.to_string(), "Bad.");
        assert_eq!(error.code, "quantity_invalid");
        assert_eq!(error.param, "order.items[0].quantity");
    }

    #[test]
    fn join_param_handles_empty_prefix() {
        assert_eq!(join_param("order", "total"), "order.total");
        assert_eq!(join_param("", "total"), "total");
    }
}
