//! The browser side of the start message: the hash read at boot, the
//! popup's handshake with its opener, and where a result goes.

use std::cell::Cell;
use std::rc::Rc;

use gloo::events::EventListener;
use kessai_protocol::wallet::StartMessage;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageEvent, Window};

use super::{accept_popup_data, arrival, Arrival, Channel, ResultMessage, StartProblem, READY_TYPE};
use crate::host::host;

/// `{"type": "kessai:ready"}`.
#[derive(Serialize)]
struct Ready {
    #[serde(rename = "type")]
    kind: &'static str,
}

/// How the start message arrives, from `location.hash`, which is then
/// replaced by the pay route so the message does not stay in the URL
/// (nor in the history the back button walks).
pub fn take_arrival() -> Arrival {
    let Some(window) = web_sys::window() else {
        return Arrival::None;
    };
    let hash = window.location().hash().unwrap_or_default();
    let found = arrival(&hash);
    if found != Arrival::None {
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some("#/pay"));
        }
    }
    found
}

/// The popup's side of the handshake: tell the opener we are ready (to any
/// origin: the message carries nothing), then accept exactly one
/// `kessai:start` message from the opener, sent from the origin the
/// message names as the merchant's. Everything else is ignored.
pub fn listen_to_opener(on_start: impl Fn(Result<StartMessage, StartProblem>) + 'static) {
    let Some(window) = web_sys::window() else { return };
    let Ok(opener) = window.opener() else { return };
    if opener.is_null() || opener.is_undefined() {
        return;
    }
    let accepted = Rc::new(Cell::new(false));
    let expected_source = opener.clone();
    EventListener::new(&window, "message", move |event| {
        let Some(event) = event.dyn_ref::<MessageEvent>() else {
            return;
        };
        let from_opener = event
            .source()
            .is_some_and(|source| JsValue::from(source) == expected_source);
        if accepted.get() || !from_opener {
            return;
        }
        let Some(data) = js_sys::JSON::stringify(&event.data()).ok().and_then(|s| s.as_string()) else {
            return;
        };
        if let Some(result) = accept_popup_data(&data, &event.origin()) {
            accepted.set(true);
            on_start(result);
        }
    })
    // The listener lives as long as the page; `accepted` makes it inert
    // after the one message.
    .forget();
    if let Ok(ready) = serde_wasm_bindgen::to_value(&Ready { kind: READY_TYPE }) {
        let _ = opener.unchecked_into::<Window>().post_message(&ready, "*");
    }
}

/// Sends a result where the start message came from: to the opener at the
/// merchant's origin only (never "*": it carries the result token), or to
/// the host. A link has no way back; the shop asks its server.
pub fn deliver(channel: Channel, start: &StartMessage, result: &ResultMessage) {
    let Ok(value) = serde_wasm_bindgen::to_value(result) else {
        return;
    };
    match channel {
        Channel::Popup => {
            let opener = web_sys::window().and_then(|w| w.opener().ok());
            if let Some(opener) = opener.filter(|o| !o.is_null() && !o.is_undefined()) {
                let _ = opener
                    .unchecked_into::<Window>()
                    .post_message(&value, &start.merchant.origin);
            }
        }
        Channel::Host => {
            if let Some(host) = host() {
                let _ = host.deliver_result(&value);
            }
        }
        Channel::Link => {}
    }
}
