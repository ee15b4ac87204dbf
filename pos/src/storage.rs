//! Where the terminal keeps things: the settings in localStorage (key
//! `kessai-pos`, shared by every tab of the till), the terminal key in
//! sessionStorage (key `kessai-pos-key`, this tab only, gone when it
//! closes). Never the key in a URL or a log.

use gloo::storage::{LocalStorage, SessionStorage, Storage};
use kessai_protocol::Secret;

use crate::settings::Settings;

pub const SETTINGS_KEY: &str = "kessai-pos";
pub const TERMINAL_KEY: &str = "kessai-pos-key";

pub fn load_settings() -> Settings {
    let text = LocalStorage::raw().get_item(SETTINGS_KEY).ok().flatten();
    Settings::from_saved(text.as_deref())
}

/// A failure is reported on the console: the till works on, it only
/// forgets the settings on reload.
pub fn save_settings(settings: &Settings) {
    let Ok(text) = serde_json::to_string(settings) else {
        return;
    };
    if LocalStorage::raw().set_item(SETTINGS_KEY, &text).is_err() {
        gloo::console::warn!("kessai pos: localStorage refused to save the settings");
    }
}

pub fn load_key() -> Option<Secret<String>> {
    let key = SessionStorage::raw().get_item(TERMINAL_KEY).ok().flatten()?;
    (!key.is_empty()).then(|| Secret::new(key))
}

/// Keeps `key` for this tab, or forgets it.
pub fn keep_key(key: Option<&Secret<String>>) {
    let storage = SessionStorage::raw();
    let kept = match key {
        Some(key) => storage.set_item(TERMINAL_KEY, key.expose()),
        None => storage.remove_item(TERMINAL_KEY),
    };
    if kept.is_err() {
        gloo::console::warn!("kessai pos: sessionStorage refused the terminal key");
    }
}

/// `#key=tk_…` in the address: read once, then taken out of the address
/// bar and the history so the key is not left on screen or bookmarked.
pub fn take_key_from_fragment() -> Option<Secret<String>> {
    let window = web_sys::window()?;
    let location = window.location();
    let hash = location.hash().ok()?;
    let key = hash.strip_prefix("#key=")?.trim().to_string();
    let clean = format!("{}{}", location.pathname().ok()?, location.search().ok()?);
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&clean));
    }
    (!key.is_empty()).then(|| Secret::new(key))
}
