//! Follows the open transaction with long-polls (`?wait=25`) one after the
//! other, each answered as soon as anything changes. Long-polls rather than
//! the event stream: `EventSource` cannot send the Bearer header.
//!
//! The loop runs while a transaction is open and not final; when it ends,
//! or the terminal signs out, the hook's cleanup tells the loop to stop and
//! the answer still in flight is dropped.

use std::cell::Cell;
use std::rc::Rc;

use gloo::timers::future::sleep;
use kessai_protocol::Secret;
use std::time::Duration;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::context::{dispatcher, lang_of, PosContext};
use crate::state::Action;

/// After a failed poll (server restarting, Wi-Fi blip), before the next.
const RETRY_AFTER: Duration = Duration::from_secs(2);

#[hook]
pub fn use_transaction_poll(pos: Option<PosContext>) {
    let followed = pos.as_ref().and_then(|pos| {
        let txn = pos.transaction().filter(|txn| !txn.status.is_final())?;
        let (key, _) = pos.signed_in()?;
        Some((key.clone(), txn.id.clone()))
    });
    let context = pos.map(|pos| (dispatcher(&pos), lang_of(&pos)));
    use_effect_with(followed, move |followed| {
        let stop = Rc::new(Cell::new(false));
        if let (Some((key, id)), Some((dispatch, lang))) = (followed.clone(), context) {
            let stop = stop.clone();
            spawn_local(async move { follow(key, id, dispatch, lang, stop).await });
        }
        move || stop.set(true)
    });
}

async fn follow(
    key: Secret<String>,
    id: String,
    dispatch: Callback<Action>,
    lang: kessai_wallet::i18n::Lang,
    stop: Rc<Cell<bool>>,
) {
    while !stop.get() {
        let answer = api::poll(&key, &id).await;
        if stop.get() {
            return;
        }
        match answer {
            Ok(txn) => {
                let done = txn.status.is_final();
                dispatch.emit(Action::Updated(txn));
                if done {
                    return;
                }
            }
            Err(ApiError::KeyRefused) => {
                dispatch.emit(Action::KeyRefused(ApiError::KeyRefused.message(lang)));
                return;
            }
            Err(_) => sleep(RETRY_AFTER).await,
        }
    }
}
