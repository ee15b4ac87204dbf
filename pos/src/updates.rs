//! Follows the open transaction through its event stream
//! (`GET …/events`, read with fetch since `EventSource` cannot send the
//! Bearer header). The stream sends the transaction at once and then at
//! each change, comparing with what it last sent, so no change falls
//! between two requests as it can between two long-polls (whose wait starts
//! from whatever the server holds when each arrives).
//!
//! It runs while a transaction is open and not final; when that ends or the
//! terminal signs out, the hook's cleanup aborts the request. A stream that
//! breaks (server restart, Wi-Fi) is opened again after a pause, and its
//! first event brings the POS up to date.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use gloo::timers::future::sleep;
use kessai_protocol::Secret;
use kessai_wallet::i18n::Lang;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::context::{dispatcher, lang_of, PosContext};
use crate::state::Action;

/// After a stream that broke or ended early, before the next.
const RETRY_AFTER: Duration = Duration::from_secs(2);

#[hook]
pub fn use_transaction_updates(pos: Option<PosContext>) {
    let followed = pos.as_ref().and_then(|pos| {
        let txn = pos.transaction().filter(|txn| !txn.status.is_final())?;
        let (key, _) = pos.signed_in()?;
        Some((key.clone(), txn.id.clone()))
    });
    let context = pos.map(|pos| (dispatcher(&pos), lang_of(&pos)));
    use_effect_with(followed, move |followed| {
        let stopped = Rc::new(Cell::new(false));
        let controller = web_sys::AbortController::new().ok();
        if let (Some((key, id)), Some((dispatch, lang)), Some(controller)) =
            (followed.clone(), context, controller.clone())
        {
            let stopped = stopped.clone();
            spawn_local(async move { follow(key, id, dispatch, lang, controller.signal(), stopped).await });
        }
        move || {
            stopped.set(true);
            if let Some(controller) = controller {
                controller.abort();
            }
        }
    });
}

async fn follow(
    key: Secret<String>,
    id: String,
    dispatch: Callback<Action>,
    lang: Lang,
    signal: web_sys::AbortSignal,
    stopped: Rc<Cell<bool>>,
) {
    let finished = Rc::new(Cell::new(false));
    let on_view = {
        let (finished, stopped, dispatch) = (finished.clone(), stopped.clone(), dispatch.clone());
        move |txn: kessai_protocol::terminal::TerminalTransaction| {
            if stopped.get() {
                return;
            }
            finished.set(txn.status.is_final());
            dispatch.emit(Action::Updated(txn));
        }
    };
    while !stopped.get() && !finished.get() {
        if let Err(ApiError::KeyRefused) = api::follow(&key, &id, &signal, &on_view).await {
            if !stopped.get() {
                dispatch.emit(Action::KeyRefused(ApiError::KeyRefused.message(lang)));
            }
            return;
        }
        // Whether it broke or ended (the server's hour), never at once
        // again: something answering 200 with no events must not be
        // hammered.
        if !stopped.get() && !finished.get() {
            sleep(RETRY_AFTER).await;
        }
    }
}
