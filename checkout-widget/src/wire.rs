//! The JSON the widget reads and writes, without serde: the browser parses
//! (`JSON.parse`, see `app`) into a [`Json`] tree, and the functions here
//! read the protocol's objects from it by hand: the order of the page's
//! options ([`order`]), the server's answers ([`confirm_result`],
//! [`error_body`]), the wallets' events and messages ([`announcement`],
//! [`payment_result`], [`window_message`]); [`confirm_body`] writes the
//! second settlement request and [`start_payment`] and [`start_reply`] hand
//! the start message to a wallet.
//!
//! serde_json's parser, its error messages and the float formatting they
//! pull in were most of the widget's download; these readers keep the same
//! rules (the order refuses unknown fields and wrong types, answers accept
//! unknown fields) in a fraction of the size, and are pure, so that they are
//! unit-tested natively against the protocol's serde types.

use kessai_protocol::api::{CardDetails, CardSummary, ConfirmResult, DeclineCode, ErrorBody, ErrorDetail, Status};
use kessai_protocol::money::AMOUNT_MAX;
use kessai_protocol::terminal::SettlementNumber;
use kessai_protocol::wallet::{WalletAnnouncement, START_TYPE, START_VERSION};
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

/// Unix seconds (a whole number, exact in a JavaScript number).
fn unix_s(time: &Json) -> Option<i64> {
    match *time {
        Json::Number(n) if n.trunc() == n && n.abs() <= AMOUNT_MAX as f64 => Some(n as i64),
        _ => None,
    }
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

// ---- Wallets (PROTOCOL section 12). The start message is kept as the
// server's text and passed on whole, so only what the widget itself needs
// is read here; the events' details are read like answers (unknown fields
// ignored, wrong types refused).

/// What the widget reads of a start message: it must be one this widget
/// speaks, for the settlement it shows.
pub fn start_settlement_id(value: &Json) -> Option<String> {
    let supported = value.get("type")?.as_str()? == START_TYPE
        && matches!(value.get("version")?, Json::Number(n) if *n == f64::from(START_VERSION));
    if !supported {
        return None;
    }
    required_string(value, "settlement_id")
}

/// A `kessai:announceWallet` detail, `{uuid, name, icon, rdns}`.
pub fn announcement(value: &Json) -> Option<WalletAnnouncement> {
    Some(WalletAnnouncement {
        uuid: required_string(value, "uuid")?,
        name: required_string(value, "name")?,
        icon: required_string(value, "icon")?,
        rdns: required_string(value, "rdns")?,
    })
}

/// What a wallet says of a payment. Its `status` is not believed (page
/// script can send anything): the widget asks the server, so only the
/// fields that route the answer are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletDone {
    /// `None` from the web wallet's window, which answers one request only.
    pub request_id: Option<String>,
    pub settlement_id: String,
}

/// A `kessai:paymentResult` detail, `{request_id, status, settlement_id,
/// result_token?}`.
pub fn payment_result(value: &Json) -> Option<WalletDone> {
    required_string(value, "status")?;
    optional(value, "result_token", string)?;
    Some(WalletDone {
        request_id: Some(required_string(value, "request_id")?),
        settlement_id: required_string(value, "settlement_id")?,
    })
}

/// A message from the web wallet's window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowMessage {
    /// `{"type": "kessai:ready"}`: it asks for the start message.
    Ready,
    /// `{"type": "kessai:paymentResult", status, settlement_id, result_token?}`.
    Done(WalletDone),
}

/// A message from the web wallet's window; `None` for anything else.
pub fn window_message(value: &Json) -> Option<WindowMessage> {
    match value.get("type")?.as_str()? {
        "kessai:ready" => Some(WindowMessage::Ready),
        "kessai:paymentResult" => {
            required_string(value, "status")?;
            optional(value, "result_token", string)?;
            Some(WindowMessage::Done(WalletDone {
                request_id: None,
                settlement_id: required_string(value, "settlement_id")?,
            }))
        }
        _ => None,
    }
}

/// The `kessai:startPayment` detail, `{uuid, request_id, message}`, with
/// the start message as the server gave it (`start_json`, already parsed
/// once, so it is one whole JSON value).
pub fn start_payment(uuid: &str, request_id: &str, start_json: &str) -> String {
    let mut out = String::with_capacity(start_json.len() + 128);
    out.push_str("{\"uuid\":");
    push_string(&mut out, uuid);
    out.push_str(",\"request_id\":");
    push_string(&mut out, request_id);
    out.push_str(",\"message\":");
    out.push_str(start_json);
    out.push('}');
    out
}

// ---- "Pay with your phone" (PROTOCOL section 13, D10).

/// The body of `POST /v1/payer/settlements/{id}/number`, a `RequestNumber`.
pub fn number_body(client_secret: &str) -> String {
    let mut out = String::from("{\"client_secret\":");
    push_string(&mut out, client_secret);
    out.push('}');
    out
}

/// Its answer, `{number, qr, expires_at}` (unknown fields ignored).
pub fn settlement_number(value: &Json) -> Option<SettlementNumber> {
    Some(SettlementNumber {
        number: required_string(value, "number")?,
        qr: required_string(value, "qr")?,
        expires_at: unix_s(value.get("expires_at")?)?,
    })
}

/// The answer to the web wallet's `kessai:ready`.
pub fn start_reply(start_json: &str) -> String {
    format!("{{\"type\":\"kessai:start\",\"message\":{start_json}}}")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use kessai_protocol::api::{ConfirmSettlement, PaymentMethod};
    use kessai_protocol::wallet::{PaymentResult, StartMessage, StartPayment};
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

    const START: &str = r#"{"type":"kessai.start","version":1,"server":"https://pay.example",
        "institution_id":"ins_1","settlement_id":"stl_1","client_secret":"stl_1_secret_abc",
        "order":{"order_id":"1234567890","currency":"JPY",
          "items":[{"code":"XXXX","name":"Peanut \"butter\"","unit_price":500,"quantity":1}],"tax":55,"total":555},
        "brands":["kessai-card"],"merchant":{"id":"mch_1","name":"Shop","origin":"https://shop.example"}}"#;

    #[test]
    fn the_start_message_is_read_for_its_settlement() {
        // The fixture is a StartMessage by the protocol's own serde form.
        let message: StartMessage = serde_json::from_str(START).unwrap();
        assert!(message.is_supported());
        assert_eq!(start_settlement_id(&parse(START).unwrap()).as_deref(), Some("stl_1"));
        for (from, to) in [
            ("\"version\":1", "\"version\":2"),
            ("\"version\":1", "\"version\":\"1\""),
            ("\"type\":\"kessai.start\"", "\"type\":\"other\""),
            ("\"settlement_id\":\"stl_1\"", "\"settlement_id\":1"),
        ] {
            let changed = START.replace(from, to);
            assert_eq!(start_settlement_id(&parse(&changed).unwrap()), None, "{to}");
        }
        assert_eq!(start_settlement_id(&parse("[]").unwrap()), None);
    }

    #[test]
    fn the_start_payment_detail_is_a_start_payment() {
        let detail = start_payment("uuid-\"1\"", "0a1b", START);
        let read: StartPayment = serde_json::from_str(&detail).unwrap();
        assert_eq!(
            read,
            StartPayment {
                uuid: "uuid-\"1\"".into(),
                request_id: "0a1b".into(),
                message: serde_json::from_str(START).unwrap(),
            }
        );
        let reply: serde_json::Value = serde_json::from_str(&start_reply(START)).unwrap();
        assert_eq!(reply["type"], "kessai:start");
        let message: StartMessage = serde_json::from_value(reply["message"].clone()).unwrap();
        assert_eq!(message, serde_json::from_str::<StartMessage>(START).unwrap());
    }

    #[test]
    fn announcements_read_as_serde_does() {
        let json = r#"{"uuid":"u1","name":"Kessai Wallet","icon":"data:image/png;base64,iVBO","rdns":"org.kessai.wallet","extra":1}"#;
        let expected: WalletAnnouncement = serde_json::from_str(json).unwrap();
        assert_eq!(announcement(&parse(json).unwrap()), Some(expected));
        for bad in [
            r#"{"uuid":"u1","name":"n","icon":"i"}"#,
            r#"{"uuid":1,"name":"n","icon":"i","rdns":"r"}"#,
            r#"{"uuid":"u1","name":null,"icon":"i","rdns":"r"}"#,
            "null",
        ] {
            assert_eq!(announcement(&parse(bad).unwrap()), None, "{bad}");
            assert!(serde_json::from_str::<WalletAnnouncement>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn payment_results_read_as_serde_does() {
        for json in [
            r#"{"request_id":"r1","status":"succeeded","settlement_id":"stl_1","result_token":"h.p.s"}"#,
            r#"{"request_id":"r1","status":"canceled","settlement_id":"stl_1"}"#,
        ] {
            let expected: PaymentResult = serde_json::from_str(json).unwrap();
            let read = payment_result(&parse(json).unwrap()).unwrap();
            assert_eq!(read.request_id.as_deref(), Some(expected.request_id.as_str()));
            assert_eq!(read.settlement_id, expected.settlement_id);
        }
        for bad in [
            r#"{"status":"succeeded","settlement_id":"stl_1"}"#,
            r#"{"request_id":"r1","settlement_id":"stl_1"}"#,
            r#"{"request_id":"r1","status":"succeeded"}"#,
            r#"{"request_id":"r1","status":"succeeded","settlement_id":"stl_1","result_token":7}"#,
        ] {
            assert_eq!(payment_result(&parse(bad).unwrap()), None, "{bad}");
            assert!(serde_json::from_str::<PaymentResult>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn window_messages_are_ready_or_a_result() {
        let read = |json: &str| window_message(&parse(json).unwrap());
        assert_eq!(read(r#"{"type":"kessai:ready"}"#), Some(WindowMessage::Ready));
        assert_eq!(
            read(
                r#"{"type":"kessai:paymentResult","status":"succeeded","settlement_id":"stl_1","result_token":"h.p.s"}"#
            ),
            Some(WindowMessage::Done(WalletDone {
                request_id: None,
                settlement_id: "stl_1".into()
            }))
        );
        for other in [
            r#"{"type":"kessai:paymentResult","status":"succeeded"}"#,
            r#"{"type":"kessai:start"}"#,
            r#""kessai:ready""#,
            "{}",
        ] {
            assert_eq!(read(other), None, "{other}");
        }
    }

    #[test]
    fn the_number_request_and_answer_read_as_serde_does() {
        let body: kessai_protocol::terminal::RequestNumber =
            serde_json::from_str(&number_body("stl_1_secret_\"x\"")).unwrap();
        assert_eq!(body.client_secret.expose(), "stl_1_secret_\"x\"");
        let text = r#"{"number":"48213907","qr":"000201010212","expires_at":1700000300,"later":true}"#;
        let expected: SettlementNumber = serde_json::from_str(text).unwrap();
        assert_eq!(settlement_number(&parse(text).unwrap()), Some(expected));
        for (from, to) in [
            ("\"number\":\"48213907\"", "\"number\":48213907"),
            ("\"expires_at\":1700000300", "\"expires_at\":\"soon\""),
            ("\"expires_at\":1700000300", "\"expires_at\":1.5"),
            ("\"qr\":\"000201010212\",", ""),
        ] {
            assert_eq!(
                settlement_number(&parse(&text.replace(from, to)).unwrap()),
                None,
                "{to}"
            );
        }
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        push_string(&mut out, "a\"b\\c\n\u{1}é");
        assert_eq!(out, r#""a\"b\\c\u000a\u0001é""#);
        assert_eq!(serde_json::from_str::<String>(&out).unwrap(), "a\"b\\c\n\u{1}é");
    }
}
