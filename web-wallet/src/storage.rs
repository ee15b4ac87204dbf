//! Where the wallet's saved state lives: one JSON value under the key
//! `kessai-wallet`, in the extension host's storage when there is a host,
//! else in this origin's localStorage. Session tokens are in it and nowhere
//! else: never in a URL, never in a log.

use gloo::storage::{LocalStorage, Storage};

use crate::host::host;
use crate::state::Saved;

/// The one storage key.
pub const KEY: &str = "kessai-wallet";

/// The saved state: an empty wallet when there is none or the entry is
/// damaged (which must not lock the user out of the wallet); an error when
/// the storage itself failed, so the caller does not overwrite it.
pub async fn load() -> Result<Saved, ()> {
    let text = match host() {
        Some(host) => host.load(KEY).await.map_err(|_| ())?,
        None => LocalStorage::raw().get_item(KEY).map_err(|_| ())?,
    };
    Ok(text
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default())
}

/// Saves `saved`; a failure is reported on the console (the wallet keeps
/// working, it only forgets on reload).
pub fn save(saved: &Saved) {
    let Ok(text) = serde_json::to_string(saved) else {
        return;
    };
    match host() {
        Some(host) => wasm_bindgen_futures::spawn_local(async move {
            if host.save(KEY, &text).await.is_err() {
                gloo::console::warn!("kessai wallet: the host could not save the wallet");
            }
        }),
        None => {
            if LocalStorage::raw().set_item(KEY, &text).is_err() {
                gloo::console::warn!("kessai wallet: localStorage refused to save the wallet");
            }
        }
    }
}
