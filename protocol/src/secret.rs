//! [`Secret`]: sensitive values that never reach a log by accident.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Sensitive text (card number, CVC, password, key): Debug and Display print `[redacted]`; serde deserializes/serializes transparently.
///
/// Serialization is transparent because the browser must send the value to
/// the server; the point of the type is that `{:?}` of a request, an error
/// or a log line never shows it. Read it with [`Secret::expose`], which makes
/// every use visible in review.
///
/// Deserialization is transparent too, except that a failure is reported
/// without the offending value: serde's own message would quote it (a card
/// number sent as a JSON number gives "invalid type: integer `4242…`"), and
/// request errors must never echo card data.
#[derive(Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret).map_err(|_| {
            serde::de::Error::custom("a sensitive field has the wrong type or format (its value is not shown)")
        })
    }
}

impl<T> Secret<T> {
    /// Wraps a sensitive value.
    pub fn new(v: T) -> Self {
        Self(v)
    }

    /// The sensitive value itself.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the sensitive value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(v: T) -> Self {
        Self(v)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// In OpenAPI a `Secret<String>` is a plain string (format `password`), so
/// structs deriving `utoipa::ToSchema` may hold one without annotations.
///
/// utoipa's derive composes fields of generic types through its
/// `ComposeSchema` trait (which also provides `PartialSchema` by a blanket
/// impl), so that is the trait implemented here.
#[cfg(feature = "openapi")]
impl utoipa::__dev::ComposeSchema for Secret<String> {
    fn compose(
        _generics: Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
    ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
            .description(Some("Sensitive text; never echoed in responses, errors or logs."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Secret<String> {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Secret")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let secret = Secret::new(String::from("4242424242424242"));
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{:#?}", Some(&secret)), "Some(\n    [redacted],\n)");
        assert_eq!(secret.expose(), "4242424242424242");
    }

    #[test]
    fn debug_of_a_containing_struct_hides_the_value() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Card {
            number: Secret<String>,
            cvc: Secret<String>,
        }
        let card = Card {
            number: Secret::new("4242424242424242".into()),
            cvc: "123".to_owned().into(),
        };
        let debug = format!("{card:?}");
        assert!(!debug.contains("4242"), "{debug}");
        assert!(!debug.contains("123"), "{debug}");
    }

    #[test]
    fn deserialize_errors_do_not_quote_the_value() {
        let error = serde_json::from_str::<Secret<String>>("4242424242424242")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("4242"), "{error}");
        assert!(error.starts_with("a sensitive field has the wrong type"), "{error}");
    }

    #[test]
    fn serde_is_transparent() {
        let secret: Secret<String> = serde_json::from_str("\"hunter2\"").unwrap();
        assert_eq!(secret.clone().into_inner(), "hunter2");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"hunter2\"");
    }
}
