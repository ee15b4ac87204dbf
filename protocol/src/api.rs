//! Wire types of the HTTP API (PROTOCOL sections 2, 4, 5 and 6).
//!
//! Requests refuse unknown fields, so that a typo never silently changes
//! money; responses accept them, so that clients keep working when fields
//! are added. Sensitive request fields are [`Secret`]s.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::order::Order;
use crate::secret::Secret;

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, for programs (`type`, `code`, `param`) and people (`message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Error class, e.g. `invalid_request_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Machine-readable code, e.g. `order_total_mismatch`.
    pub code: String,
    /// One English sentence; never echoes card data, passwords or keys.
    pub message: String,
    /// The offending request field, e.g. `order.total`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

/// The error `type` of validation failures ([`FieldError`]).
pub const INVALID_REQUEST_ERROR: &str = "invalid_request_error";

impl From<FieldError> for ErrorBody {
    /// A validation failure as the protocol's 400 body, type `invalid_request_error`.
    fn from(error: FieldError) -> Self {
        ErrorBody {
            error: ErrorDetail {
                kind: INVALID_REQUEST_ERROR.to_owned(),
                code: error.code.to_owned(),
                message: error.message,
                param: Some(error.param).filter(|param| !param.is_empty()),
            },
        }
    }
}

/// Conditions the settlement must meet (seed 003).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Restrictions {
    /// Seconds the funds stay reserved (`held`) before they move.
    #[serde(default)]
    pub cooling_off_s: Option<u64>,
    /// Minimum age of the paying user, in years.
    #[serde(default)]
    pub min_age: Option<u32>,
}

/// First settlement request. Full form: `order`. Digest-only form: order_id (optional: omitted = server assigns), currency, total, order_digest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSettlement {
    /// The full order (full form).
    #[serde(default)]
    pub order: Option<Order>,
    /// The shop's order id (digest-only form; omitted, the server assigns one).
    #[serde(default)]
    pub order_id: Option<String>,
    /// ISO 4217 currency (digest-only form).
    #[serde(default)]
    pub currency: Option<String>,
    /// Order total in minor units (digest-only form).
    #[serde(default)]
    pub total: Option<u64>,
    /// `sha256:…` digest of the order (digest-only form).
    #[serde(default)]
    pub order_digest: Option<String>,
    /// Payment brands offered to the buyer, e.g. `kessai-card`.
    #[serde(default)]
    pub brands: Option<Vec<String>>,
    /// Where result events are pushed.
    #[serde(default)]
    pub notify_url: Option<String>,
    /// Where the browser posts the result token when done.
    #[serde(default)]
    pub return_url: Option<String>,
    /// Seconds until an unconfirmed settlement expires (60 to 604800; 900
    /// when absent).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 604800))]
    pub expires_in: Option<u64>,
    /// Conditions on the settlement.
    #[serde(default)]
    pub restrictions: Option<Restrictions>,
}

/// A card as the buyer typed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardDetails {
    /// The card number (spaces and dashes allowed).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub number: Secret<String>,
    /// Expiry month, 1 to 12.
    pub exp_month: u32,
    /// Expiry year, four digits.
    pub exp_year: u32,
    /// The security code, 3 or 4 digits.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub cvc: Secret<String>,
}

/// How the buyer pays; `type` selects the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PaymentMethod {
    /// A card.
    Card {
        /// The card's details.
        card: CardDetails,
    },
    /// An account at the settling server, authorized by a payer authenticator (HS256 JWS).
    Account {
        /// The wallet user (`usr_…`).
        user_id: String,
        /// Payer authenticator: compact HS256 JWS of the payer claims, made with the user's key.
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
        authenticator: Secret<String>,
    },
    /// An account at the settling server, authorized by id and password.
    Password {
        /// The wallet user (`usr_…`).
        user_id: String,
        /// The user's password.
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
        password: Secret<String>,
    },
    /// Paid by another institution (PROTOCOL section 11): a payment
    /// authorization it signed (EdDSA compact JWS) after holding the buyer's funds.
    Institution {
        /// The payment authorization (compact JWS, `alg` `EdDSA`).
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
        authorization: Secret<String>,
    },
}

/// Second settlement request (both /v1/payer/settlements/{id}/confirm with client_secret, and payer-first /v1/payer/orders/confirm with merchant_id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmSettlement {
    /// Proof the browser was handed this settlement (`stl_…_secret_…`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Password))]
    pub client_secret: Option<Secret<String>>,
    /// The merchant (`mch_…`), payer-first only.
    #[serde(default)]
    pub merchant_id: Option<String>,
    /// The order exactly as the buyer was shown it.
    pub order: Order,
    /// How the buyer pays.
    pub payment_method: PaymentMethod,
}

/// What may be shown of the card that paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardSummary {
    /// Payment brand, e.g. `kessai-card`.
    pub brand: String,
    /// Last four digits of the card number.
    pub last4: String,
}

/// The settlement object as the merchant sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settlement {
    /// `stl_…`
    pub id: String,
    /// Always `"settlement"`.
    pub object: String,
    /// Settlement status, e.g. `succeeded`.
    pub status: Status,
    /// The shop's order id.
    pub order_id: String,
    /// `sha256:…` digest of the order.
    pub order_digest: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// Total in minor units.
    pub total: u64,
    /// Handed to the browser for the second request; present on creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Why, when `status` is `declined`, e.g. `insufficient_funds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<DeclineCode>,
    /// The fields that differed when `status` is `mismatched`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatched_fields: Option<Vec<String>>,
    /// The card that paid, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardSummary>,
    /// Result token (HS256 JWS for the merchant), once final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_token: Option<String>,
    /// Amount refunded so far, in minor units.
    pub refunded: u64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Unix seconds, once settled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_at: Option<i64>,
}

/// Answer to the second request (and to payer polling).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmResult {
    /// `stl_…`
    pub id: String,
    /// Settlement status, e.g. `succeeded`.
    pub status: Status,
    /// The shop's order id.
    pub order_id: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// Total in minor units.
    pub total: u64,
    /// JWS for the merchant, once final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_token: Option<String>,
    /// JWS for the user, account payments only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_token: Option<String>,
    /// The card that paid, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardSummary>,
    /// Why, when `status` is `declined`, e.g. `insufficient_funds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<DeclineCode>,
    /// The fields that differed when `status` is `mismatched`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatched_fields: Option<Vec<String>>,
    /// Payer-first: the secret with which the browser follows the outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_secret: Option<String>,
    /// Payer-first: when the unmatched request expires, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// A refund request; without `amount`, the whole remaining amount.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateRefund {
    /// Minor units to refund (default: all that is not yet refunded).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 9_007_199_254_740_991_u64))]
    pub amount: Option<u64>,
    /// Free text for the merchant's records.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub reason: Option<String>,
}

/// A refund of a succeeded settlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refund {
    /// `ref_…`
    pub id: String,
    /// Always `"refund"`.
    pub object: String,
    /// The refunded settlement, `stl_…`.
    pub settlement_id: String,
    /// Minor units refunded.
    pub amount: u64,
    /// ISO 4217 currency.
    pub currency: String,
    /// Refund status, e.g. `succeeded`.
    pub status: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// The body of a webhook delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEvent {
    /// Event type, e.g. `settlement.succeeded`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// The object the event is about, e.g. the settlement.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

/// An event as `GET /v1/events/{id}` shows it, with its delivery state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventView {
    pub id: String,
    pub object: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub settlement_id: String,
    pub created_at: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
    pub delivery: Option<DeliveryView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub url: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
}

wire_enum! {
    /// A settlement's status (PROTOCOL section 6).
    Status {
        /// Created by the shop; waiting for the buyer's request.
        AwaitingPayer = "awaiting_payer",
        /// Payer-first: the buyer's request came first; waiting for the shop's.
        AwaitingMerchant = "awaiting_merchant",
        /// Both requests agree; the ledger is being posted.
        Processing = "processing",
        /// Funds reserved during a cooling-off period.
        Held = "held",
        /// Money moved.
        Succeeded = "succeeded",
        /// The payment method was refused (see `decline_code`).
        Declined = "declined",
        /// The two requests disagreed; no money moved.
        Mismatched = "mismatched",
        /// Not completed in time.
        Expired = "expired",
        /// Canceled by the shop.
        Canceled = "canceled",
        /// Fully refunded.
        Refunded = "refunded",
        /// Partly refunded.
        PartiallyRefunded = "partially_refunded",
    }
}

impl Status {
    /// Whether collation is over: succeeded, declined, mismatched, expired,
    /// canceled, and the refund states that follow succeeded.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            Status::Succeeded
                | Status::Declined
                | Status::Mismatched
                | Status::Expired
                | Status::Canceled
                | Status::Refunded
                | Status::PartiallyRefunded
        )
    }
}

wire_enum! {
    /// Why a settlement was declined (PROTOCOL section 6).
    DeclineCode {
        /// Not enough available balance.
        InsufficientFunds = "insufficient_funds",
        /// Refused by the issuer without a more specific reason.
        CardDeclined = "card_declined",
        /// The card's expiry date has passed.
        ExpiredCard = "expired_card",
        /// The security code is wrong.
        IncorrectCvc = "incorrect_cvc",
        /// The authenticator or password did not check.
        AuthenticationFailed = "authentication_failed",
        /// A restriction (e.g. minimum age) is not met.
        Restricted = "restricted",
    }
}

wire_enum! {
    /// How the buyer paid: the `type` of the second request's payment method.
    PaymentType {
        Card = "card",
        Account = "account",
        Password = "password",
        Institution = "institution",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order_json() -> serde_json::Value {
        json!({"order_id": "1", "currency": "JPY",
               "items": [{"code": "a", "name": "b", "unit_price": 100, "quantity": 1}],
               "tax": 0, "total": 100})
    }

    fn card_json() -> serde_json::Value {
        json!({"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"})
    }

    fn payment_method(value: serde_json::Value) -> Result<PaymentMethod, serde_json::Error> {
        serde_json::from_value(value)
    }

    #[test]
    fn card_payment_method_parses() {
        let method = payment_method(json!({"type": "card", "card": card_json()})).unwrap();
        let PaymentMethod::Card { card } = method else {
            panic!("not a card")
        };
        assert_eq!(card.number.expose(), "4242424242424242");
        assert_eq!((card.exp_month, card.exp_year), (12, 2030));
    }

    #[test]
    fn account_and_password_payment_methods_parse() {
        let method = payment_method(json!({"type": "account", "user_id": "usr_x", "authenticator": "a.b.c"})).unwrap();
        assert!(matches!(method, PaymentMethod::Account { ref user_id, .. } if user_id == "usr_x"));
        let method = payment_method(json!({"type": "password", "user_id": "usr_x", "password": "pw"})).unwrap();
        let PaymentMethod::Password { password, .. } = method else {
            panic!("not a password")
        };
        assert_eq!(password.expose(), "pw");
    }

    #[test]
    fn unknown_field_beside_a_variant_is_refused() {
        assert!(payment_method(json!({"type": "card", "card": card_json(), "extra": 1})).is_err());
        assert!(payment_method(json!({"type": "password", "user_id": "u", "password": "p", "extra": 1})).is_err());
        assert!(
            payment_method(json!({"type": "account", "user_id": "u", "authenticator": "a", "card": card_json()}))
                .is_err()
        );
    }

    #[test]
    fn unknown_field_inside_the_card_is_refused() {
        let mut card = card_json();
        card["bogus"] = json!(1);
        assert!(payment_method(json!({"type": "card", "card": card})).is_err());
    }

    #[test]
    fn unknown_or_missing_type_is_refused() {
        assert!(payment_method(json!({"type": "bank", "card": card_json()})).is_err());
        assert!(payment_method(json!({"card": card_json()})).is_err());
        assert!(payment_method(json!({"type": "card"})).is_err());
    }

    #[test]
    fn payment_method_parse_errors_do_not_echo_secrets() {
        let mut card = card_json();
        card["number"] = json!(4242424242424242_u64);
        let error = payment_method(json!({"type": "card", "card": card}))
            .unwrap_err()
            .to_string();
        assert!(!error.contains("4242424242424242"), "{error}");
    }

    #[test]
    fn payment_method_serializes_with_its_tag() {
        let method = PaymentMethod::Password {
            user_id: "usr_x".into(),
            password: Secret::new("pw".into()),
        };
        assert_eq!(
            serde_json::to_value(&method).unwrap(),
            json!({"type": "password", "user_id": "usr_x", "password": "pw"})
        );
        assert!(!format!("{method:?}").contains("pw\""));
    }

    #[test]
    fn confirm_settlement_parses_both_forms_and_refuses_unknown_fields() {
        let body = json!({"client_secret": "stl_x_secret_y", "order": order_json(),
                          "payment_method": {"type": "card", "card": card_json()}});
        let confirm: ConfirmSettlement = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(
            confirm.client_secret.as_ref().map(|s| s.expose().as_str()),
            Some("stl_x_secret_y")
        );
        assert!(!format!("{confirm:?}").contains("4242424242424242"));
        assert!(!format!("{confirm:?}").contains("stl_x_secret_y"));

        let payer_first = json!({"merchant_id": "mch_x", "order": order_json(),
                                 "payment_method": {"type": "card", "card": card_json()}});
        let confirm: ConfirmSettlement = serde_json::from_value(payer_first).unwrap();
        assert_eq!(confirm.merchant_id.as_deref(), Some("mch_x"));
        assert!(confirm.client_secret.is_none());

        let mut bad = body;
        bad["extra"] = json!(true);
        assert!(serde_json::from_value::<ConfirmSettlement>(bad).is_err());
    }

    #[test]
    fn create_settlement_forms() {
        let full = json!({"order": order_json(), "brands": ["kessai-card"], "notify_url": "https://s/w",
                          "return_url": "https://s/r", "expires_in": 900,
                          "restrictions": {"cooling_off_s": 604800, "min_age": 20}});
        let create: CreateSettlement = serde_json::from_value(full).unwrap();
        assert_eq!(create.order.map(|o| o.total), Some(100));
        assert_eq!(create.restrictions.and_then(|r| r.min_age), Some(20));

        let digest_only = json!({"currency": "JPY", "total": 100,
                                 "order_digest": "sha256:EdKlC2eQqXmTeFft-_wipSwU4xTNgrjLSpMCL1TlmaE"});
        let create: CreateSettlement = serde_json::from_value(digest_only).unwrap();
        assert!(create.order.is_none() && create.order_id.is_none());

        assert!(serde_json::from_value::<CreateSettlement>(json!({"order": order_json(), "amount": 1})).is_err());
        assert!(
            serde_json::from_value::<CreateSettlement>(json!({"restrictions": {"min_age": 20, "max_age": 1}})).is_err()
        );
        assert!(serde_json::from_value::<CreateSettlement>(json!({"total": -1})).is_err());
    }

    #[test]
    fn create_refund_refuses_unknown_fields() {
        assert_eq!(
            serde_json::from_value::<CreateRefund>(json!({})).unwrap(),
            CreateRefund::default()
        );
        assert!(serde_json::from_value::<CreateRefund>(json!({"amount": 5, "currency": "JPY"})).is_err());
    }

    #[test]
    fn settlement_skips_absent_options() {
        let settlement = Settlement {
            id: "stl_x".into(),
            object: "settlement".into(),
            status: Status::AwaitingPayer,
            order_id: "1".into(),
            order_digest: "sha256:x".into(),
            currency: "JPY".into(),
            total: 1155,
            client_secret: Some("stl_x_secret_y".into()),
            decline_code: None,
            mismatched_fields: None,
            card: None,
            result_token: None,
            refunded: 0,
            created_at: 1_700_000_000,
            expires_at: 1_700_000_900,
            settled_at: None,
        };
        let value = serde_json::to_value(&settlement).unwrap();
        assert_eq!(
            value,
            json!({"id": "stl_x", "object": "settlement", "status": "awaiting_payer", "order_id": "1",
                   "order_digest": "sha256:x", "currency": "JPY", "total": 1155,
                   "client_secret": "stl_x_secret_y", "refunded": 0,
                   "created_at": 1_700_000_000, "expires_at": 1_700_000_900})
        );
        assert_eq!(serde_json::from_value::<Settlement>(value).unwrap(), settlement);
    }

    #[test]
    fn confirm_result_skips_absent_options() {
        let result = ConfirmResult {
            id: "stl_x".into(),
            status: Status::AwaitingMerchant,
            order_id: "1".into(),
            currency: "JPY".into(),
            total: 1,
            result_token: None,
            payer_token: None,
            card: Some(CardSummary {
                brand: "kessai-card".into(),
                last4: "4242".into(),
            }),
            decline_code: None,
            mismatched_fields: None,
            payer_secret: Some("p".into()),
            expires_at: Some(2),
        };
        assert_eq!(
            serde_json::to_value(&result).unwrap(),
            json!({"id": "stl_x", "status": "awaiting_merchant", "order_id": "1", "currency": "JPY", "total": 1,
                   "card": {"brand": "kessai-card", "last4": "4242"}, "payer_secret": "p", "expires_at": 2})
        );
    }

    #[test]
    fn error_body_shape() {
        let body = ErrorBody::from(FieldError::new("order_total_mismatch", "order.total", "Bad total."));
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"error": {"type": "invalid_request_error", "code": "order_total_mismatch",
                             "message": "Bad total.", "param": "order.total"}})
        );
        let body = ErrorBody::from(FieldError::new("x", "", "No param."));
        assert!(serde_json::to_value(&body).unwrap()["error"].get("param").is_none());
    }

    #[test]
    fn webhook_event_shape() {
        let event = WebhookEvent {
            kind: "settlement.succeeded".into(),
            timestamp: 1,
            data: json!({"id": "stl_x"}),
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"type": "settlement.succeeded", "timestamp": 1, "data": {"id": "stl_x"}})
        );
    }

    #[test]
    fn final_statuses() {
        let finals: Vec<&str> = Status::ALL
            .iter()
            .filter(|s| s.is_final())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            finals,
            [
                "succeeded",
                "declined",
                "mismatched",
                "expired",
                "canceled",
                "refunded",
                "partially_refunded"
            ]
        );
    }

    #[test]
    fn wire_enums_round_trip_through_their_strings_and_serde() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(*status));
            assert_eq!(serde_json::to_value(status).unwrap(), json!(status.as_str()));
        }
        for code in DeclineCode::ALL {
            assert_eq!(DeclineCode::parse(code.as_str()), Some(*code));
            assert_eq!(
                serde_json::from_value::<DeclineCode>(json!(code.as_str())).unwrap(),
                *code
            );
        }
        assert_eq!(PaymentType::parse("card"), Some(PaymentType::Card));
        assert_eq!(Status::parse("SUCCEEDED"), None);
        assert_eq!(Status::parse(""), None);
        assert!(serde_json::from_value::<Status>(json!("bogus")).is_err());
    }
}

/// The OpenAPI schemas render, and sensitive fields are plain strings there.
#[cfg(all(test, feature = "openapi"))]
mod openapi_tests {
    use super::*;
    use utoipa::OpenApi;

    #[derive(OpenApi)]
    #[openapi(components(schemas(
        ErrorBody,
        CreateSettlement,
        ConfirmSettlement,
        Settlement,
        ConfirmResult,
        CreateRefund,
        Refund,
        WebhookEvent,
        crate::jws::ResultClaims,
        crate::jws::PayerClaims,
        crate::card::Network
    )))]
    struct Doc;

    #[test]
    fn schemas_render_with_sensitive_fields_as_strings() {
        let doc = serde_json::to_value(Doc::openapi()).unwrap();
        let schemas = &doc["components"]["schemas"];
        for name in [
            "Order",
            "Item",
            "PaymentMethod",
            "CardDetails",
            "Restrictions",
            "ErrorDetail",
            "CardSummary",
        ] {
            assert!(schemas.get(name).is_some(), "missing schema {name}");
        }
        let number = &schemas["CardDetails"]["properties"]["number"];
        assert_eq!(number["type"], "string", "{number}");
        assert_eq!(number["format"], "password", "{number}");
        let variants = schemas["PaymentMethod"]["oneOf"].as_array().unwrap();
        assert_eq!(variants.len(), 4, "card, account, password, institution");
    }

    #[test]
    fn secret_string_is_a_string_schema_without_annotations() {
        #[derive(utoipa::ToSchema)]
        #[allow(dead_code)]
        struct Login {
            password: Secret<String>,
        }
        #[derive(OpenApi)]
        #[openapi(components(schemas(Login)))]
        struct LoginDoc;
        let doc = serde_json::to_value(LoginDoc::openapi()).unwrap();
        let schemas = &doc["components"]["schemas"];
        let field = &schemas["Login"]["properties"]["password"];
        let resolved = match field.get("$ref").and_then(Value::as_str) {
            Some(reference) => &schemas[reference.trim_start_matches("#/components/schemas/")],
            None => field,
        };
        assert_eq!(resolved["type"], "string", "{doc}");
    }

    use serde_json::Value;
}
