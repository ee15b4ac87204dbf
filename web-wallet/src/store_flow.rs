//! The calls of an in-store payment, reporting as reducer actions
//! (browser only): the number sent to each connector in turn, and the
//! transaction followed by long-poll. Apart from `in_store`, whose rules
//! are pure and know nothing of the reducer.

use std::cell::Cell;
use std::rc::Rc;

use kessai_protocol::terminal::PayerTransaction;
use kessai_protocol::Secret;
use yew::Callback;

use crate::api::{self, ApiError};
use crate::in_store::{self, FOLLOW_WAIT_S};
use crate::passes::Passes;
use crate::state::{Action, StoreAction};

/// Pause after a failed long-poll before the next, so an unreachable
/// server is not asked in a tight loop.
const RETRY_MS: u32 = 3_000;
/// Pause after a long-poll that brought nothing new.
const UNCHANGED_PAUSE_MS: u32 = 1_000;

/// Asks each candidate for `number` (see [`in_store::search`]), with the
/// admissions held for an exit gate, and reports what it came to.
pub async fn sync_any(
    number: &str,
    candidates: Vec<(String, Secret<String>)>,
    passes: Passes,
    dispatch: Callback<Action>,
) {
    let sync = |address: String, token: Secret<String>, number: String, admission: Option<String>| async move {
        api::sync_transaction(&address, &token, &number, admission).await
    };
    let found = in_store::search(number, candidates, &passes, sync).await;
    for address in found.expired {
        dispatch.emit(Action::SessionExpired { address });
    }
    let action = match found.outcome {
        Ok(located) => StoreAction::Synced(Box::new(located)),
        Err(problem) => StoreAction::Failed(problem),
    };
    dispatch.emit(Action::InStore(action));
}

/// Follows transaction `id` until it is final or `stop` is set (the
/// screen left or moved on): each answer is reported as `Updated`.
pub async fn follow(
    address: String,
    token: Secret<String>,
    id: String,
    since: Option<u64>,
    stop: Rc<Cell<bool>>,
    dispatch: Callback<Action>,
) {
    let mut last_seen: Option<PayerTransaction> = None;
    while !stop.get() {
        let version = last_seen.as_ref().map(|t| t.version).or(since);
        match api::transaction(&address, &token, &id, FOLLOW_WAIT_S, version).await {
            // Nothing new (the wait ran out): ask again, but never in a
            // tight loop should a server answer at once.
            Ok(transaction) if last_seen.as_ref() == Some(&transaction) => {
                gloo::timers::future::TimeoutFuture::new(UNCHANGED_PAUSE_MS).await
            }
            Ok(transaction) => {
                let over = transaction.status.is_final();
                if !stop.get() {
                    dispatch.emit(Action::InStore(StoreAction::Updated(Box::new(transaction.clone()))));
                }
                if over {
                    return;
                }
                last_seen = Some(transaction);
            }
            Err(ApiError::SessionExpired) => {
                dispatch.emit(Action::SessionExpired { address });
                return;
            }
            Err(ApiError::Refused { status: 404, .. }) => return,
            Err(_) => gloo::timers::future::TimeoutFuture::new(RETRY_MS).await,
        }
    }
}
