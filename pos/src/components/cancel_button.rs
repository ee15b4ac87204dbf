use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::context::{dispatcher, lang_of, PosContext};
use crate::i18n::text;
use crate::state::{Action, Busy};

/// Cancels the open transaction (`POST …/cancel`); the answer is its new
/// view, so the screen turns to "Canceled" without waiting for the stream.
#[function_component(CancelButton)]
pub fn cancel_button() -> Html {
    let Some(pos) = use_context::<PosContext>() else {
        return html! {};
    };
    let lang = lang_of(&pos);
    let text = text(lang);
    let busy = pos.sale.as_ref().and_then(|sale| sale.busy);
    let target = pos
        .signed_in()
        .map(|(key, _)| key.clone())
        .zip(pos.transaction().map(|t| t.id.clone()));
    let signed_in = target.is_some();
    let onclick = {
        let dispatch = dispatcher(&pos);
        Callback::from(move |_: MouseEvent| {
            let Some((key, id)) = target.clone() else { return };
            dispatch.emit(Action::Ask(Busy::Canceling));
            let dispatch = dispatch.clone();
            spawn_local(async move {
                match api::cancel(&key, &id).await {
                    Ok(txn) => dispatch.emit(Action::Updated(txn)),
                    Err(ApiError::KeyRefused) => dispatch.emit(Action::KeyRefused(ApiError::KeyRefused.message(lang))),
                    Err(error) => dispatch.emit(Action::Failed(error.message(lang))),
                }
            });
        })
    };
    let canceling = busy == Some(Busy::Canceling);
    html! {
        <button type="button" class={classes!("secondary", "danger", canceling.then_some("busy"))}
            disabled={busy.is_some() || !signed_in} {onclick}>
            { if canceling { text.canceling } else { text.cancel } }
        </button>
    }
}
