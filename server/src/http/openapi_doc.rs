//! The OpenAPI document as served: utoipa's, made precise where the
//! derives cannot say what the server checks.
//!
//! The rules below are JSON merged into the generated schemas rather than
//! attributes on the protocol crate's types, for three reasons: utoipa has
//! no attribute for an array's item bounds or for `const`, a few rules
//! (active ISO 4217 codes) are data better computed than typed out, and
//! the browser builds of `kessai-protocol` need not carry them. Every rule
//! names a schema and property that must exist: the API test
//! `openapi_document_states_the_servers_rules` fails if a rename leaves one
//! behind.

use serde_json::{json, Map, Value};
use utoipa::OpenApi;

/// Shortest and longest PIN (`kessai user create --pin`).
const PIN_PATTERN: &str = "^[0-9]{4,8}$";
/// A transaction number: 8 digits, spaces and dashes allowed between them.
const NUMBER_PATTERN: &str = "^[0-9]([ -]*[0-9]){7}$";
/// A card number: 12 to 19 digits, spaces and dashes allowed between them.
const CARD_NUMBER_PATTERN: &str = "^[0-9]([ -]*[0-9]){11,18}$";

/// The largest amount the protocol accepts (2^53 - 1).
const AMOUNT_MAX: u64 = kessai_protocol::money::AMOUNT_MAX;
/// `sha256:` and 32 bytes in canonical base64url (the last of 43
/// characters carries 4 bits and two zero bits).
const DIGEST_PATTERN: &str = "^sha256:[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$";

/// The document `/openapi.json` serves.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(super::ApiDoc::openapi()).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the OpenAPI document does not serialize");
        Value::Null
    });
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        schemas.insert("Currency".into(), currency_schema());
        for (pointer, rule) in rules() {
            match schemas_pointer(schemas, pointer) {
                Some(target) => merge(target, rule),
                None => tracing::error!(pointer, "an OpenAPI rule names no schema property"),
            }
        }
        for name in ["ConfirmWithClientSecret", "ConfirmPayerFirst"] {
            // Only described, never deserialized: their wire type
            // (`ConfirmSettlement`) denies unknown fields, as they must say.
            if let Some(schema) = schemas.get_mut(name) {
                merge(schema, json!({"additionalProperties": false}));
            }
        }
    }
    doc
}

/// The rules each schema property gets, by JSON pointer under
/// `components/schemas`.
pub fn rules() -> Vec<(&'static str, Value)> {
    let currency = json!({"$ref": "#/components/schemas/Currency"});
    let optional_currency = json!({"anyOf": [{"$ref": "#/components/schemas/Currency"}, {"type": "null"}]});
    let brand = json!({"type": "string", "minLength": 1, "maxLength": 64});
    vec![
        ("/Order/properties/currency", currency.clone()),
        ("/CreateSettlement/properties/currency", optional_currency.clone()),
        (
            "/CreateSettlement/properties/brands",
            json!({"items": brand, "minItems": 1, "maxItems": 20}),
        ),
        ("/CreateTransaction/properties/currency", optional_currency),
        (
            "/CreateTransaction/properties/expires_in",
            json!({"minimum": 30, "maximum": 3600}),
        ),
        ("/CreateSettlement/properties/total", json!({"maximum": AMOUNT_MAX})),
        (
            "/CreateSettlement/properties/order_digest",
            json!({"pattern": DIGEST_PATTERN}),
        ),
        ("/CreateSettlement", settlement_forms()),
        ("/CreateTransaction", transaction_forms()),
        (
            "/CreateSettlement/properties/return_url",
            // `merchants::check_url`: http(s), no whitespace or control characters.
            json!({"pattern": "^https?://[^\\s\\u0000-\\u001f\\u007f-\\u009f]+$", "maxLength": 2048}),
        ),
        (
            "/CreateTransaction/properties/amount",
            json!({"minimum": 1, "maximum": AMOUNT_MAX}),
        ),
        (
            "/CreateTransaction/properties/restrictions",
            // A terminal transaction is paid at once: no cooling-off.
            json!({"oneOf": null, "anyOf": [{"type": "null"}, {"type": "object", "additionalProperties": false,
                "properties": {"cooling_off_s": {"type": "null"}, "min_age": {"type": ["integer", "null"], "minimum": 0}}}]}),
        ),
        ("/MenuItem/properties/unit_price", json!({"maximum": AMOUNT_MAX})),
        ("/ConfirmTransaction/properties/amount", json!({"maximum": AMOUNT_MAX})),
        ("/Menu/properties/currency", currency.clone()),
        ("/ConfirmTransaction/properties/currency", currency.clone()),
        ("/StartMessage/properties/type", json!({"const": "kessai.start"})),
        ("/StartMessage/properties/version", json!({"const": 1})),
        ("/OrderLine/properties/quantity", json!({"minimum": 1, "maximum": 999})),
        ("/AnswerChallenge/properties/pin", json!({"pattern": PIN_PATTERN})),
        ("/SyncTransaction/properties/number", json!({"pattern": NUMBER_PATTERN})),
        (
            "/CardDetails/properties/number",
            json!({"pattern": CARD_NUMBER_PATTERN}),
        ),
        (
            "/CardDetails/properties/exp_month",
            json!({"minimum": 1, "maximum": 12}),
        ),
        (
            "/CardDetails/properties/exp_year",
            json!({"minimum": 2000, "maximum": 2099}),
        ),
        ("/CardDetails/properties/cvc", json!({"pattern": "^[0-9]{3,4}$"})),
    ]
}

/// The two forms of a first request (PROTOCOL 4): the full order, or the
/// digest-only fields; never both (`order_form_ambiguous`), never neither
/// (`parameter_missing`). Absent and null are the same to the server.
fn settlement_forms() -> Value {
    let absent = json!({"type": "null"});
    let set = json!({"not": {"type": "null"}});
    json!({"oneOf": [
        {"required": ["order"], "properties": {"order": set, "order_id": absent, "currency": absent,
            "total": absent, "order_digest": absent}},
        {"required": ["currency", "total", "order_digest"], "properties": {"order": absent,
            "currency": set, "total": set, "order_digest": set}},
    ]})
}

/// The three kinds of terminal transaction (PROTOCOL 13): an amount with
/// its currency, an order, or a menu; exactly one
/// (`transaction_kind_invalid`). Absent and null are the same to the server.
fn transaction_forms() -> Value {
    let absent = json!({"type": "null"});
    let set = json!({"not": {"type": "null"}});
    json!({"oneOf": [
        {"required": ["amount", "currency"], "properties": {"amount": set, "currency": set,
            "order": absent, "menu": absent}},
        {"required": ["order"], "properties": {"order": set, "amount": absent, "menu": absent}},
        {"required": ["menu"], "properties": {"menu": set, "amount": absent, "order": absent}},
    ]})
}

/// Every active ISO 4217 code the server takes, as an enum: what
/// `currency_invalid` refuses is exactly what is not listed.
fn currency_schema() -> Value {
    let letters = b'A'..=b'Z';
    let codes: Vec<String> = letters
        .clone()
        .flat_map(|a| letters.clone().map(move |b| (a, b)))
        .flat_map(|(a, b)| (b'A'..=b'Z').map(move |c| String::from_utf8_lossy(&[a, b, c]).into_owned()))
        .filter(|code| kessai_protocol::money::minor_units(code).is_some())
        .collect();
    json!({"type": "string", "enum": codes, "description": "An active ISO 4217 currency code, e.g. `JPY`."})
}

fn schemas_pointer<'a>(schemas: &'a mut Map<String, Value>, pointer: &str) -> Option<&'a mut Value> {
    let path = pointer.trim_start_matches('/');
    let (name, rest) = path.split_once('/').unwrap_or((path, ""));
    let schema = schemas.get_mut(name)?;
    if rest.is_empty() {
        return Some(schema);
    }
    schema.pointer_mut(&format!("/{rest}"))
}

/// Merges `rule` into `target`; a rule with `$ref` or `anyOf` replaces the
/// type it narrows (keeping the description).
fn merge(target: &mut Value, rule: Value) {
    let (Some(target), Value::Object(rule)) = (target.as_object_mut(), rule) else {
        return;
    };
    if rule.contains_key("$ref") || rule.contains_key("anyOf") {
        // Both `$ref` (a non-null value) and `anyOf` replace the type.
        for key in ["type", "pattern", "format"] {
            target.remove(key);
        }
    }
    for (key, value) in rule {
        if value.is_null() {
            // As in a JSON merge patch (RFC 7396): null removes the key.
            target.remove(&key);
            continue;
        }
        match (target.get_mut(&key), value) {
            (Some(Value::Object(inner)), Value::Object(more)) => inner.extend(more),
            (_, value) => {
                target.insert(key, value);
            }
        }
    }
}
