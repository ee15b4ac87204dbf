//! How a start message (B13) reaches the wallet, and the checks it must
//! pass before anything is sent.
//!
//! Three ways in, read at boot:
//! - `#start`: the checkout widget opened the wallet as a popup; the start
//!   message comes by `postMessage` from the opener ([`accept_popup_data`]).
//! - `#start=<base64url of the JSON>`: a plain page's link ([`decode_link`]).
//! - the extension's host bridge (`window.kessaiWalletHost.takeStart()`).
//!
//! Whatever the way, [`check`] refuses a message that is not `kessai.start`
//! version 1, whose order breaks PROTOCOL section 3 (the total must equal
//! the items and tax) or whose other fields cannot be right. The browser
//! side lives in [`browser`].

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use kessai_protocol::api::Status;
use kessai_protocol::wallet::{StartMessage, START_TYPE, START_VERSION};
use kessai_protocol::FieldError;
use serde::Serialize;

/// The popup ↔ opener message types.
pub const READY_TYPE: &str = "kessai:ready";
pub const START_EVENT_TYPE: &str = "kessai:start";
pub const RESULT_TYPE: &str = "kessai:paymentResult";
/// Longest `#start=` payload read: a 500-item order is well below it, and a
/// bound keeps a hostile link from making the wallet decode megabytes.
pub const LINK_PAYLOAD_LEN_MAX: usize = 256 * 1024;

/// What the page's hash asks for at boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arrival {
    /// No start message: the wallet opens on its own screens.
    None,
    /// `#start`: ask the opener for it.
    Popup,
    /// `#start=…`: the encoded message.
    Link(String),
}

/// Where the result of a payment goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Posted to the opener, to the merchant's origin only.
    Popup,
    /// Nowhere: the shop learns the result from its server.
    Link,
    /// Handed to the extension's `deliverResult`.
    Host,
}

/// Why a start message was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartProblem {
    /// The link's payload is not base64url of UTF-8.
    NotDecodable,
    /// Not JSON of a start message (serde's reason).
    Malformed(String),
    /// Another `type` or `version`.
    Unsupported { kind: String, version: u32 },
    /// The order breaks PROTOCOL section 3, e.g. the total is not the sum.
    InvalidOrder(FieldError),
    /// A field that cannot be right (`param` names it).
    InvalidField(&'static str),
}

/// The result as the opener or the host receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultMessage {
    /// `kessai:paymentResult` for the popup channel; absent for the host.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    pub status: Status,
    pub settlement_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_token: Option<String>,
}

/// What `location.hash` asks for.
pub fn arrival(hash: &str) -> Arrival {
    match hash.strip_prefix("#start") {
        Some("") => Arrival::Popup,
        Some(rest) => match rest.strip_prefix('=') {
            Some(payload) => Arrival::Link(payload.to_string()),
            None => Arrival::None,
        },
        None => Arrival::None,
    }
}

/// The start message of a `#start=` link, checked.
pub fn decode_link(payload: &str) -> Result<StartMessage, StartProblem> {
    if payload.len() > LINK_PAYLOAD_LEN_MAX {
        return Err(StartProblem::NotDecodable);
    }
    let payload = payload.trim();
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .or_else(|_| URL_SAFE.decode(payload))
        .map_err(|_| StartProblem::NotDecodable)?;
    let json = String::from_utf8(bytes).map_err(|_| StartProblem::NotDecodable)?;
    parse(&json)
}

/// A start message from JSON text, checked.
pub fn parse(json: &str) -> Result<StartMessage, StartProblem> {
    let message: StartMessage = serde_json::from_str(json).map_err(|e| StartProblem::Malformed(e.to_string()))?;
    check(&message)?;
    Ok(message)
}

/// The popup's one accepted message: `data` (as JSON text) must be
/// `{"type": "kessai:start", "message": …}` sent from the origin the
/// message names as the merchant's. None means "not for us, keep
/// listening"; Some is the answer, a checked message or why it was refused.
pub fn accept_popup_data(data_json: &str, event_origin: &str) -> Option<Result<StartMessage, StartProblem>> {
    let data: serde_json::Value = serde_json::from_str(data_json).ok()?;
    if data.get("type")?.as_str()? != START_EVENT_TYPE {
        return None;
    }
    let message = data.get("message")?;
    // Any other page could post a start message to this window; only the
    // shop the message itself names may.
    let origin = message.get("merchant")?.get("origin")?.as_str()?;
    if origin != event_origin {
        return None;
    }
    Some(parse(&message.to_string()))
}

/// Every rule a start message must pass before the wallet sends it anywhere.
pub fn check(message: &StartMessage) -> Result<(), StartProblem> {
    if message.kind != START_TYPE || message.version != START_VERSION {
        return Err(StartProblem::Unsupported {
            kind: message.kind.clone(),
            version: message.version,
        });
    }
    message.order.validate("order").map_err(StartProblem::InvalidOrder)?;
    if !is_http_url(&message.server) {
        return Err(StartProblem::InvalidField("server"));
    }
    if !is_origin(&message.merchant.origin) {
        return Err(StartProblem::InvalidField("merchant.origin"));
    }
    if !message.settlement_id.starts_with("stl_") {
        return Err(StartProblem::InvalidField("settlement_id"));
    }
    // The client secret is the settlement's own (`stl_…_secret_…`); one of
    // another settlement would pay a different order than the one shown.
    let secret_prefix = format!("{}_secret_", message.settlement_id);
    if !message.client_secret.expose().starts_with(&secret_prefix) {
        return Err(StartProblem::InvalidField("client_secret"));
    }
    Ok(())
}

/// The result of a payment, or of a sheet closed without paying.
pub fn result_message(
    channel: Channel,
    status: Status,
    settlement_id: &str,
    result_token: Option<&str>,
) -> ResultMessage {
    ResultMessage {
        kind: (channel == Channel::Popup).then_some(RESULT_TYPE),
        status,
        settlement_id: settlement_id.to_string(),
        result_token: result_token.map(str::to_string),
    }
}

fn is_http_url(text: &str) -> bool {
    crate::connectors::normalize_address(text).is_ok()
}

/// `scheme://host[:port]` exactly, as `MessageEvent.origin` gives it.
fn is_origin(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://")) else {
        return false;
    };
    !rest.is_empty() && !rest.contains(['/', '?', '#', '@', ' '])
}

/// The browser side: the popup handshake and the hash.
#[cfg(target_arch = "wasm32")]
pub mod browser;

#[cfg(test)]
mod tests {
    use kessai_protocol::wallet::StartMerchant;
    use kessai_protocol::{Order, Secret};

    use super::*;

    fn message() -> StartMessage {
        StartMessage {
            kind: START_TYPE.into(),
            version: 1,
            server: "https://pay.example".into(),
            institution_id: "ins_sakura".into(),
            settlement_id: "stl_1".into(),
            client_secret: Secret::new("stl_1_secret_abc".into()),
            order: Order::example(),
            brands: vec!["sakura-debit".into()],
            merchant: StartMerchant {
                id: "mch_1".into(),
                name: "Corner shop".into(),
                origin: "https://shop.example".into(),
            },
        }
    }

    fn json(message: &StartMessage) -> String {
        serde_json::to_string(message).unwrap()
    }

    #[test]
    fn the_hash_says_how_the_message_arrives() {
        assert_eq!(arrival(""), Arrival::None);
        assert_eq!(arrival("#/settings"), Arrival::None);
        assert_eq!(arrival("#start"), Arrival::Popup);
        assert_eq!(arrival("#start=abc"), Arrival::Link("abc".into()));
        assert_eq!(arrival("#starting"), Arrival::None);
    }

    // B13
    #[test]
    fn a_link_carries_the_message_in_base64url() {
        let encoded = URL_SAFE_NO_PAD.encode(json(&message()));
        assert_eq!(decode_link(&encoded), Ok(message()));
        let padded = URL_SAFE.encode(json(&message()));
        assert_eq!(decode_link(&padded), Ok(message()));
        assert_eq!(decode_link("not base64!"), Err(StartProblem::NotDecodable));
        assert_eq!(
            decode_link(&"A".repeat(LINK_PAYLOAD_LEN_MAX + 1)),
            Err(StartProblem::NotDecodable)
        );
        let not_json = URL_SAFE_NO_PAD.encode("hello");
        assert!(matches!(decode_link(&not_json), Err(StartProblem::Malformed(_))));
    }

    #[test]
    fn other_types_and_versions_are_refused() {
        let mut other = message();
        other.version = 2;
        assert_eq!(
            check(&other),
            Err(StartProblem::Unsupported {
                kind: START_TYPE.into(),
                version: 2
            })
        );
        other = message();
        other.kind = "kessai.stop".into();
        assert!(matches!(check(&other), Err(StartProblem::Unsupported { .. })));
    }

    #[test]
    fn a_total_that_disagrees_with_the_items_is_refused() {
        let mut wrong = message();
        wrong.order.total = 1_000;
        let Err(StartProblem::InvalidOrder(error)) = check(&wrong) else {
            panic!("a wrong total must be refused");
        };
        assert_eq!(error.code, "order_total_mismatch");
        assert_eq!(error.param, "order.total");
        wrong = message();
        wrong.order.items[0].quantity = 0;
        assert!(matches!(check(&wrong), Err(StartProblem::InvalidOrder(_))));
    }

    #[test]
    fn fields_that_cannot_be_right_are_refused() {
        type Spoil = fn(&mut StartMessage);
        let cases: [(Spoil, &str); 4] = [
            (|m| m.server = "pay.example".into(), "server"),
            (
                |m| m.merchant.origin = "https://shop.example/cart".into(),
                "merchant.origin",
            ),
            (|m| m.settlement_id = "set_1".into(), "settlement_id"),
            (
                |m| m.client_secret = Secret::new("stl_2_secret_abc".into()),
                "client_secret",
            ),
        ];
        for (spoil, field) in cases {
            let mut spoiled = message();
            spoil(&mut spoiled);
            assert_eq!(check(&spoiled), Err(StartProblem::InvalidField(field)), "{field}");
        }
        assert_eq!(check(&message()), Ok(()));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut value: serde_json::Value = serde_json::from_str(&json(&message())).unwrap();
        value["amount_override"] = 1.into();
        assert!(matches!(parse(&value.to_string()), Err(StartProblem::Malformed(_))));
    }

    #[test]
    fn the_popup_accepts_only_the_merchants_own_start_event() {
        let data = format!(r#"{{"type":"kessai:start","message":{}}}"#, json(&message()));
        assert_eq!(accept_popup_data(&data, "https://shop.example"), Some(Ok(message())));
        assert_eq!(accept_popup_data(&data, "https://evil.example"), None);
        assert_eq!(
            accept_popup_data(r#"{"type":"other","message":{}}"#, "https://shop.example"),
            None
        );
        assert_eq!(accept_popup_data("\"just text\"", "https://shop.example"), None);
        let mut wrong = message();
        wrong.order.total += 1;
        let data = format!(r#"{{"type":"kessai:start","message":{}}}"#, json(&wrong));
        assert!(matches!(
            accept_popup_data(&data, "https://shop.example"),
            Some(Err(StartProblem::InvalidOrder(_)))
        ));
    }

    #[test]
    fn results_name_their_type_only_for_the_popup() {
        let popup = result_message(Channel::Popup, Status::Succeeded, "stl_1", Some("jws"));
        assert_eq!(
            serde_json::to_value(&popup).unwrap(),
            serde_json::json!({"type": "kessai:paymentResult", "status": "succeeded", "settlement_id": "stl_1", "result_token": "jws"})
        );
        let host = result_message(Channel::Host, Status::Canceled, "stl_1", None);
        assert_eq!(
            serde_json::to_value(&host).unwrap(),
            serde_json::json!({"status": "canceled", "settlement_id": "stl_1"})
        );
    }
}
