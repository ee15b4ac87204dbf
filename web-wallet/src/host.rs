//! The host bridge: inside the browser extension the wallet page finds
//! `window.kessaiWalletHost` = `{ kind: "extension", load(key) ->
//! Promise<string|null>, save(key, value) -> Promise<void>, takeStart() ->
//! Promise<object|null>, deliverResult(result) -> void }`.
//!
//! With a host, the wallet keeps its state in the host's storage instead of
//! localStorage, takes its start message from `takeStart()` and hands the
//! result to `deliverResult`. The extension's side is written elsewhere;
//! this is the wallet's half of that contract, exactly.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The global the extension defines.
const GLOBAL: &str = "kessaiWalletHost";

/// The extension's bridge object.
#[derive(Clone)]
pub struct Host(JsValue);

/// The bridge, when the page runs inside a host.
pub fn host() -> Option<Host> {
    let window = web_sys::window()?;
    let value = Reflect::get(&window, &GLOBAL.into()).ok()?;
    value.is_object().then_some(Host(value))
}

impl Host {
    /// `load(key)`: the saved text, or None.
    pub async fn load(&self, key: &str) -> Result<Option<String>, JsValue> {
        let value = self.call_async("load", &[key.into()]).await?;
        Ok(value.as_string())
    }

    /// `save(key, value)`.
    pub async fn save(&self, key: &str, value: &str) -> Result<(), JsValue> {
        self.call_async("save", &[key.into(), value.into()]).await.map(|_| ())
    }

    /// `takeStart()`: the start message as JSON text, or None.
    pub async fn take_start(&self) -> Result<Option<String>, JsValue> {
        let value = self.call_async("takeStart", &[]).await?;
        if value.is_null() || value.is_undefined() {
            return Ok(None);
        }
        // JSON text keeps one parsing path (and its checks) for every way
        // a start message arrives.
        Ok(js_sys::JSON::stringify(&value)?.as_string())
    }

    /// `deliverResult(result)`.
    pub fn deliver_result(&self, result: &JsValue) -> Result<(), JsValue> {
        self.method("deliverResult")?.call1(&self.0, result).map(|_| ())
    }

    fn method(&self, name: &str) -> Result<Function, JsValue> {
        Reflect::get(&self.0, &name.into())?
            .dyn_into::<Function>()
            .map_err(|_| JsValue::from_str(&format!("kessaiWalletHost.{name} is not a function")))
    }

    /// Calls a method and awaits its promise (a plain value is taken as is).
    async fn call_async(&self, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
        let method = self.method(name)?;
        let returned = match args {
            [] => method.call0(&self.0)?,
            [a] => method.call1(&self.0, a)?,
            [a, b, ..] => method.call2(&self.0, a, b)?,
        };
        JsFuture::from(Promise::resolve(&returned)).await
    }
}
