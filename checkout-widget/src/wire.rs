//! The JSON the widget reads and writes, without serde: the browser parses
//! (`JSON.parse`, see `app`) into a [`Json`] tree, and the functions here
//! read the protocol's objects from it by hand: the order of the page's
//! options ([`order`]), the server's answers ([`confirm_result`],
//! [`error_body`]); [`confirm_body`] writes the second settlement request.
//!
//! serde_json's parser, its error messages and the float formatting they
//! pull in were most of the widget's download; these readers keep the same
//! rules (the order refuses unknown fields and wrong types, answers accept
//! unknown fields) in a fraction of the size, and are pure, so that they are
//! unit-tested natively against the protocol's serde types.

use kessai_protocol::api::{CardDetails, CardSummary, ConfirmResult, DeclineCode, ErrorBody, ErrorDetail, Status};
use kessai_protocol::money::AMOUNT_MAX;
use kessai_protocol::{Item, Order};

/// Deepest nesting read: the protocol's objects are at most four deep.
pub const DEPTH_MAX: usize = 32;

/// A JSON value, as `JSON.parse` gives it (numbers are JavaScript numbers).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    /// Members in the order of the text.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// A member of an object; `None` for other values.
    pub fn get(&self, name: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(key, _)| key == name).map(|(_, value)| value),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(text) => Some(text),
            _ => None,
        }
    }

    /// A whole number in `0 ..= AMOUNT_MAX` (exact in a JavaScript number).
    fn as_amount(&self) -> Option<u64> {
        match *self {
            // The range check keeps the conversion exact.
            Json::Number(n) if (0.0..=AMOUNT_MAX as f64).contains(&n) && n.trunc() == n => Some(n as u64),
            _ => None,
        }
    }
}

// ---- The order (PROTOCOL section 3): unknown fields and wrong types are
// refused, as the server does.

const ORDER_FIELDS: [&str; 5] = ["order_id", "currency", "items", "tax", "total"];
const ITEM_FIELDS: [&str; 4] = ["code", "name", "unit_price", "quantity"];

/// The members of an object with exactly `fields` (`path` names it in
/// messages), in the order of `fields`.
fn members<'a, const N: usize>(value: &'a Json, fields: [&str; N], path: &str) -> Result<[&'a Json; N], String> {
    let Json::Object(members) = value else {
        return Err(format!("{path} must be an object"));
    };
    if let Some((unknown, _)) = members.iter().find(|(key, _)| !fields.contains(&key.as_str())) {
        return Err(format!("unknown field `{unknown}` in {path}"));
    }
    let mut found = [&Json::Null; N];
    for (slot, field) in found.iter_mut().zip(fields) {
        *slot = value
            .get(field)
            .ok_or_else(|| format!("missing field `{field}` in {path}"))?;
    }
    Ok(found)
}

fn text(value: &Json, path: &str, field: &str) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{path}.{field} must be a string"))
}

fn amount(value: &Json, path: &str, field: &str) -> Result<u64, String> {
    value
        .as_amount()
        .ok_or_else(|| format!("{path}.{field} must be a whole number from 0 to {AMOUNT_MAX}"))
}

/// The order object, read with the rules of its serde form (every field,
/// no other, the right types); `Err` says what is wrong, naming the field.
/// Its business rules are [`Order::validate`]'s.
pub fn order(value: &Json) -> Result<Order, String> {
    let path = "order";
    let [order_id, currency, items, tax, total] = members(value, ORDER_FIELDS, path)?;
    let Json::Array(items) = items else {
        return Err(format!("{path}.items must be an array"));
    };
    let items = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let path = format!("{path}.items[{index}]");
            let [code, name, unit_price, quantity] = members(item, ITEM_FIELDS, &path)?;
            Ok(Item {
                code: text(code, &path, "code")?,
                name: text(name, &path, "name")?,
                unit_price: amount(unit_price, &path, "unit_price")?,
                quantity: amount(quantity, &path, "quantity")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Order {
        order_id: text(order_id, path, "order_id")?,
        currency: text(currency, path, "currency")?,
        items,
        tax: amount(tax, path, "tax")?,
        total: amount(total, path, "total")?,
    })
}

// ---- Answers: unknown fields are ignored; a required field missing or a
// field of the wrong type makes the answer unreadable (`None`), as with
// serde.

/// An optional member: absent or `null` is `Some(None)`, the wrong type `None`.
fn optional<'a, T>(value: &'a Json, name: &str, read: impl Fn(&'a Json) -> Option<T>) -> Option<Option<T>> {
    match value.get(name) {
        None | Some(Json::Null) => Some(None),
        Some(member) => read(member).map(Some),
    }
}

fn string(value: &Json) -> Option<String> {
    value.as_str().map(str::to_owned)
}

fn required_string(value: &Json, name: &str) -> Option<String> {
    value.get(name).and_then(string)
}

/// A settlement answer (second request, status).
pub fn confirm_result(value: &Json) -> Option<ConfirmResult> {
    let card = |card: &Json| {
        Some(CardSummary {
            brand: required_string(card, "brand")?,
            last4: required_string(card, "last4")?,
        })
    };
    let fields = |list: &Json| match list {
        Json::Array(names) => names.iter().map(string).collect(),
        _ => None,
    };
    let unix_s = |time: &Json| match *time {
        Json::Number(n) if n.trunc() == n && n.abs() <= AMOUNT_MAX as f64 => Some(n as i64),
        _ => None,
    };
    Some(ConfirmResult {
        id: required_string(value, "id")?,
        // A status or decline code from a newer server that this widget does
        // not know: processing (followed, bounded) and no particular reason.
        status: Status::parse(&required_string(value, "status")?).unwrap_or(Status::Processing),
        order_id: required_string(value, "order_id")?,
        currency: required_string(value, "currency")?,
        total: value.get("total")?.as_amount()?,
        result_token: optional(value, "result_token", string)?,
        payer_token: optional(value, "payer_token", string)?,
        card: optional(value, "card", card)?,
        decline_code: optional(value, "decline_code", string)?.and_then(|c| DeclineCode::parse(&c)),
        mismatched_fields: optional(value, "mismatched_fields", fields)?,
        payer_secret: optional(value, "payer_secret", string)?,
        expires_at: optional(value, "expires_at", unix_s)?,
    })
}

/// An error answer, `{"error": {"type", "code", "message", "param"?}}`.
pub fn error_body(value: &Json) -> Option<ErrorBody> {
    let error = value.get("error")?;
    Some(ErrorBody {
        error: ErrorDetail {
            kind: required_string(error, "type")?,
            code: required_string(error, "code")?,
            message: required_string(error, "message")?,
            param: optional(error, "param", string)?,
        },
    })
}

// ---- The second settlement request.

/// Which settlement the payment is for.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// The shop created the settlement first (the usual order).
    Settlement { id: String, client_secret: String },
    /// Payer-first: the buyer confirms before the shop's request arrives.
    PayerFirst { merchant_id: String },
}

impl std::fmt::Debug for Target {
    // The client secret stays out of any debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Settlement { id, .. } => write!(f, "Settlement({id})"),
            Target::PayerFirst { merchant_id } => write!(f, "PayerFirst({merchant_id})"),
        }
    }
}

/// Appends `text` as a JSON string.
fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            control if u32::from(control) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let code = u32::from(control) as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[code >> 4]));
                out.push(char::from(HEX[code & 15]));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

/// The JSON of the `ConfirmSettlement` for `target`: the secret or the
/// merchant, the order as shown, and the card.
pub fn confirm_body(target: &Target, order: &Order, card: &CardDetails) -> String {
    let mut out = String::with_capacity(256 + 64 * order.items.len());
    match target {
        Target::Settlement { client_secret, .. } => {
            out.push_str("{\"client_secret\":");
            push_string(&mut out, client_secret);
        }
        Target::PayerFirst { merchant_id } => {
            out.push_str("{\"merchant_id\":");
            push_string(&mut out, merchant_id);
        }
    }
    out.push_str(",\"order\":");
    out.push_str(&order.canonical_json());
    out.push_str(",\"payment_method\":{\"type\":\"card\",\"card\":{\"number\":");
    push_string(&mut out, card.number.expose());
    out.push_str(",\"exp_month\":");
    out.push_str(&card.exp_month.to_string());
    out.push_str(",\"exp_year\":");
    out.push_str(&card.exp_year.to_string());
    out.push_str(",\"cvc\":");
    push_string(&mut out, card.cvc.expose());
    out.push_str("}}}");
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use kessai_protocol::api::{ConfirmSettlement, PaymentMethod};
    use kessai_protocol::Secret;

    /// What `JSON.parse` gives, for native tests.
    pub(crate) fn parse(text: &str) -> Result<Json, String> {
        fn convert(value: serde_json::Value) -> Json {
            match value {
                serde_json::Value::Null => Json::Null,
                serde_json::Value::Bool(b) => Json::Bool(b),
                serde_json::Value::Number(n) => Json::Number(n.as_f64().unwrap()),
                serde_json::Value::String(s) => Json::String(s),
                serde_json::Value::Array(a) => Json::Array(a.into_iter().map(convert).collect()),
                serde_json::Value::Object(o) => Json::Object(o.into_iter().map(|(k, v)| (k, convert(v))).collect()),
            }
        }
        serde_json::from_str(text).map(convert).map_err(|e| e.to_string())
    }

    const ORDER: &str = r#"{"order_id":"1234567890","currency":"JPY",
        "items":[{"code":"XXXX","name":"Peanut \"butter\"","unit_price":500,"quantity":1},
                 {"code":"YYYY","name":"Grape jelly","unit_price":600,"quantity":2}],
        "tax":55,"total":1755}"#;

    fn sample() -> Order {
        serde_json::from_str(ORDER).unwrap()
    }

    #[test]
    fn the_order_reads_as_serde_does() {
        assert_eq!(order(&parse(ORDER).unwrap()).unwrap(), sample());
    }

    #[test]
    fn order_errors_name_the_field() {
        for (json, expected) in [
            ("{}".to_owned(), "missing field `order_id` in order"),
            ("[]".to_owned(), "order must be an object"),
            (r#"{"extra":1}"#.to_owned(), "unknown field `extra` in order"),
            (ORDER.replace("\"tax\":55,", ""), "missing field `tax` in order"),
        ] {
            assert_eq!(order(&parse(&json).unwrap()).unwrap_err(), expected, "{json}");
        }
        for (from, to, expected) in [
            ("\"tax\":55", "\"tax\":55.5", "order.tax must be a whole number"),
            ("\"tax\":55", "\"tax\":-1", "order.tax must be a whole number"),
            ("\"tax\":55", "\"tax\":\"55\"", "order.tax must be a whole number"),
            (
                "\"tax\":55",
                "\"tax\":9007199254740992",
                "order.tax must be a whole number",
            ),
            (
                "\"quantity\":2",
                "\"quantity\":2,\"x\":0",
                "unknown field `x` in order.items[1]",
            ),
            (
                "\"code\":\"YYYY\"",
                "\"code\":7",
                "order.items[1].code must be a string",
            ),
            (
                "\"currency\":\"JPY\"",
                "\"currency\":null",
                "order.currency must be a string",
            ),
            ("\"tax\":55", "\"tax\":55,\"items\":{}", "order.items must be an array"),
        ] {
            let json = ORDER.replace(from, to);
            let error = order(&parse(&json).unwrap()).unwrap_err();
            assert!(error.starts_with(expected), "{to}: {error}");
        }
        let max = ORDER.replace("\"tax\":55", "\"tax\":9007199254740991");
        assert_eq!(order(&parse(&max).unwrap()).unwrap().tax, AMOUNT_MAX);
    }

    fn answer(json: &str) -> Option<ConfirmResult> {
        confirm_result(&parse(json).unwrap())
    }

    #[test]
    fn answers_read_as_serde_does() {
        let full = r#"{"id":"stl_1","status":"declined","order_id":"o","currency":"JPY","total":1155,
            "result_token":"h.p.s","payer_token":null,"card":{"brand":"kessai-card","last4":"4242"},
            "decline_code":"insufficient_funds","mismatched_fields":["total"],"payer_secret":"stl_1_payer_x",
            "expires_at":1700000000,"something_new":{"a":[1]}}"#;
        let expected: ConfirmResult = serde_json::from_str(full).unwrap();
        assert_eq!(answer(full), Some(expected));
        let minimal = r#"{"id":"stl_1","status":"succeeded","order_id":"o","currency":"JPY","total":0}"#;
        assert_eq!(answer(minimal), Some(serde_json::from_str(minimal).unwrap()));
        for bad in [
            "{}",
            "[]",
            "\"x\"",
            r#"{"id":"stl_1","status":"succeeded","order_id":"o","currency":"JPY"}"#,
            r#"{"id":1,"status":"succeeded","order_id":"o","currency":"JPY","total":0}"#,
            r#"{"id":"stl_1","status":"succeeded","order_id":"o","currency":"JPY","total":0,"result_token":5}"#,
            r#"{"id":"stl_1","status":"succeeded","order_id":"o","currency":"JPY","total":0,"card":{"brand":"b"}}"#,
        ] {
            assert_eq!(answer(bad), None, "{bad}");
            assert!(serde_json::from_str::<ConfirmResult>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_statuses_and_decline_codes_from_a_newer_server_are_followed_not_trusted() {
        let newer = r#"{"id":"stl_1","status":"something_new","order_id":"o","currency":"JPY","total":1,
            "decline_code":"new_code"}"#;
        let read = answer(newer).unwrap();
        assert_eq!(read.status, Status::Processing);
        assert_eq!(read.decline_code, None);
        assert!(matches!(
            crate::state::classify(&read),
            crate::state::Step::Pending { .. }
        ));
    }

    #[test]
    fn error_bodies_read_as_serde_does() {
        let full = r#"{"error":{"type":"invalid_request_error","code":"card_number_invalid","message":"m","param":"card.number"}}"#;
        let expected: ErrorBody = serde_json::from_str(full).unwrap();
        assert_eq!(error_body(&parse(full).unwrap()), Some(expected));
        let no_param = r#"{"error":{"type":"api_error","code":"internal","message":"m"}}"#;
        assert_eq!(
            error_body(&parse(no_param).unwrap()),
            Some(serde_json::from_str(no_param).unwrap())
        );
        for bad in ["{}", r#"{"error":"x"}"#, r#"{"error":{"code":"c","message":"m"}}"#] {
            assert_eq!(error_body(&parse(bad).unwrap()), None, "{bad}");
        }
    }

    fn card() -> CardDetails {
        CardDetails {
            number: Secret::new("4242424242424242".into()),
            exp_month: 1,
            exp_year: 2030,
            cvc: Secret::new("123".into()),
        }
    }

    #[test]
    fn the_confirm_body_is_a_confirm_settlement() {
        let target = Target::Settlement {
            id: "stl_1".into(),
            client_secret: "stl_1_secret_abc".into(),
        };
        let body: ConfirmSettlement = serde_json::from_str(&confirm_body(&target, &sample(), &card())).unwrap();
        let expected = ConfirmSettlement {
            client_secret: Some(Secret::new("stl_1_secret_abc".into())),
            merchant_id: None,
            order: sample(),
            payment_method: PaymentMethod::Card { card: card() },
        };
        assert_eq!(body, expected);
        let target = Target::PayerFirst {
            merchant_id: "mch_1".into(),
        };
        let body: ConfirmSettlement = serde_json::from_str(&confirm_body(&target, &sample(), &card())).unwrap();
        assert_eq!(
            body,
            ConfirmSettlement {
                client_secret: None,
                merchant_id: Some("mch_1".into()),
                ..expected
            }
        );
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        push_string(&mut out, "a\"b\\c\n\u{1}é");
        assert_eq!(out, r#""a\"b\\c\u000a\u0001é""#);
        assert_eq!(serde_json::from_str::<String>(&out).unwrap(), "a\"b\\c\n\u{1}é");
    }
}
