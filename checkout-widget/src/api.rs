//! Calls to the settling server (PROTOCOL sections 5, 6, 12 and 13) with the
//! browser's `fetch`. Every call answers a [`ConfirmResult`] or a
//! [`Failure`]; the request body, which holds card data, is never logged
//! and never part of a URL.

use js_sys::{encode_uri_component, Array, Object, Reflect, JSON};
use kessai_protocol::api::ConfirmResult;
use kessai_protocol::terminal::SettlementNumber;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, RequestMode, Response};

use crate::phone;
use crate::state::{failure_of, Failure, Stage};
use crate::wire::Target;
use crate::wire::{self, Json, DEPTH_MAX};

/// Seconds a status request may be held by the server (long poll, ≤ 30).
pub const WAIT_S: u32 = 25;

/// How the page follows a settlement: its id and the query with its secret.
#[derive(Clone)]
pub struct Follow {
    pub id: String,
    /// `client_secret=…` or `payer_secret=…`, already URL-encoded.
    pub secret_query: String,
}

impl Follow {
    pub fn with_client_secret(id: &str, client_secret: &str) -> Self {
        Follow {
            id: id.to_owned(),
            secret_query: format!("client_secret={}", encode(client_secret)),
        }
    }

    pub fn with_payer_secret(id: &str, payer_secret: &str) -> Self {
        Follow {
            id: id.to_owned(),
            secret_query: format!("payer_secret={}", encode(payer_secret)),
        }
    }
}

fn encode(text: &str) -> String {
    String::from(encode_uri_component(text))
}

/// `GET {server}/v1/payer/settlements/{id}?…`; with `wait_s` > 0 the server
/// holds the answer until the status changes.
pub async fn status(server: &str, follow: &Follow, wait_s: u32, stage: Stage) -> Result<ConfirmResult, Failure> {
    let mut url = format!(
        "{server}/v1/payer/settlements/{}?{}",
        encode(&follow.id),
        follow.secret_query
    );
    if wait_s > 0 {
        url.push_str(&format!("&wait={wait_s}"));
    }
    send("GET", &url, None, stage).await
}

/// `GET {server}/v1/payer/settlements/{id}/start?client_secret=…`: the
/// start message for wallets (PROTOCOL section 12), as the server's text.
/// `None` on any failure: the wallets are then simply not offered.
pub async fn start_message(server: &str, id: &str, client_secret: &str) -> Option<String> {
    let url = format!(
        "{server}/v1/payer/settlements/{}/start?client_secret={}",
        encode(id),
        encode(client_secret)
    );
    match fetch_text("GET", &url, None).await {
        Ok((200..=299, text)) => Some(text),
        _ => None,
    }
}

/// The second settlement request: to the settlement, or payer-first to the
/// merchant. `body` is the JSON of a `ConfirmSettlement`.
pub async fn confirm(server: &str, target: &Target, body: &str) -> Result<ConfirmResult, Failure> {
    let url = match target {
        Target::Settlement { id, .. } => format!("{server}/v1/payer/settlements/{}/confirm", encode(id)),
        Target::PayerFirst { .. } => format!("{server}/v1/payer/orders/confirm"),
    };
    send("POST", &url, Some(body), Stage::Confirm).await
}

/// `POST {server}/v1/payer/settlements/{id}/number` (PROTOCOL section 13,
/// D10): the transaction number the buyer's phone pays. An answer whose
/// number is not [`phone::is_number`] counts as no answer.
pub async fn request_number(server: &str, id: &str, client_secret: &str) -> Result<SettlementNumber, Failure> {
    let url = format!("{server}/v1/payer/settlements/{}/number", encode(id));
    let body = wire::number_body(client_secret);
    let read = |json: &Json| wire::settlement_number(json).filter(|answer| phone::is_number(&answer.number));
    send_reading("POST", &url, Some(&body), Stage::Number, read).await
}

async fn send(method: &str, url: &str, body: Option<&str>, stage: Stage) -> Result<ConfirmResult, Failure> {
    send_reading(method, url, body, stage, wire::confirm_result).await
}

/// Sends a request and reads a 2xx answer with `read`; an error answer
/// becomes the [`Failure`] it means.
async fn send_reading<T>(
    method: &str,
    url: &str,
    body: Option<&str>,
    stage: Stage,
    read: impl Fn(&Json) -> Option<T>,
) -> Result<T, Failure> {
    let unknown = |http_status| Failure::Unknown { stage, http_status };
    let (http_status, text) = fetch_text(method, url, body).await.map_err(|_| unknown(0))?;
    let value = parse_json(&text).ok();
    if (200..300).contains(&http_status) {
        return value.as_ref().and_then(read).ok_or_else(|| unknown(http_status));
    }
    let error = value.as_ref().and_then(wire::error_body);
    Err(failure_of(stage, http_status, error.as_ref()))
}

/// `JSON.parse`, into a [`Json`]; `Err` holds the browser's message.
pub fn parse_json(text: &str) -> Result<Json, String> {
    let value = JSON::parse(text).map_err(|error| {
        Reflect::get(&error, &JsValue::from_str("message"))
            .ok()
            .and_then(|message| message.as_string())
            .unwrap_or_default()
    })?;
    to_json(&value, 0).ok_or_else(|| "it is nested too deeply".to_owned())
}

/// A value from the page (an event's detail, a message) as a [`Json`].
pub fn json_of(value: &JsValue) -> Option<Json> {
    to_json(value, 0)
}

/// A parsed value as a [`Json`]; `None` past [`DEPTH_MAX`] levels.
fn to_json(value: &JsValue, depth: usize) -> Option<Json> {
    if depth > DEPTH_MAX {
        return None;
    }
    if let Some(text) = value.as_string() {
        return Some(Json::String(text));
    }
    if let Some(number) = value.as_f64() {
        return Some(Json::Number(number));
    }
    if let Some(flag) = value.as_bool() {
        return Some(Json::Bool(flag));
    }
    if let Some(array) = value.dyn_ref::<Array>() {
        return array
            .iter()
            .map(|element| to_json(&element, depth + 1))
            .collect::<Option<_>>()
            .map(Json::Array);
    }
    if let Some(object) = value.dyn_ref::<Object>() {
        let members = Object::entries(object)
            .iter()
            .map(|entry| {
                let entry: Array = entry.unchecked_into();
                Some((entry.get(0).as_string()?, to_json(&entry.get(1), depth + 1)?))
            })
            .collect::<Option<_>>()?;
        return Some(Json::Object(members));
    }
    Some(Json::Null)
}

/// The status and text of a response; `Err` when no response came.
async fn fetch_text(method: &str, url: &str, body: Option<&str>) -> Result<(u16, String), JsValue> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_mode(RequestMode::Cors);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let request = Request::new_with_str_and_init(url, &init)?;
    if body.is_some() {
        request.headers().set("Content-Type", "application/json")?;
    }
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request)).await?.dyn_into()?;
    let text = JsFuture::from(response.text()?).await?.as_string().unwrap_or_default();
    Ok((response.status(), text))
}
