use kessai_protocol::terminal::ChallengeStatus;
use kessai_wallet::i18n::{amount, Lang};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::cancel_button::CancelButton;
use crate::components::order_lines::OrderLines;
use crate::components::portrait::Portrait;
use crate::context::{dispatcher, lang_of, PosContext};
use crate::i18n::{self, text};
use crate::state::{Action, Busy};

/// A payer sent the number (D6): their name and portrait so the clerk can
/// see who is paying, "Ask for PIN" (D8) and its state, and for a menu the
/// order once the customer placed it.
#[function_component(SynchronizedPage)]
pub fn synchronized_page() -> Html {
    let Some(pos) = use_context::<PosContext>() else {
        return html! {};
    };
    let (Some(txn), Some((key, _))) = (pos.transaction(), pos.signed_in()) else {
        return html! {};
    };
    let lang = lang_of(&pos);
    let text = text(lang);
    let payer = txn.payer.as_ref();
    let name = payer.map(|p| p.name.clone()).unwrap_or_default();
    let portrait = payer.and_then(|p| p.portrait_url.clone()).map(|path| {
        html! { <Portrait terminal_key={key.clone()} {path} alt={name.clone()} /> }
    });
    let order = match (&txn.order, &txn.menu) {
        (Some(order), _) => html! {
            <section class="placed" aria-label={text.customer_order}>
                if txn.menu.is_some() { <h2>{ text.customer_order }</h2> }
                <OrderLines order={order.clone()} {lang} />
            </section>
        },
        (None, Some(_)) => html! { <p class="busy muted">{ text.waiting_for_order }</p> },
        (None, None) => html! {},
    };
    html! {
        <section class="synchronized card" aria-labelledby="sync-title">
            <p class="badge-ok" id="sync-title" role="status">{ text.synchronized }</p>
            <div class="payer">
                { portrait.unwrap_or_else(|| html! { <span class="portrait placeholder" aria-hidden="true">{ initial(&name) }</span> }) }
                <div>
                    <p class="muted">{ text.payer }</p>
                    <p class="payer-name">{ &name }</p>
                </div>
                if let Some(minor) = txn.amount {
                    <p class="due" data-amount={minor.to_string()}>{ amount(minor, &txn.currency) }</p>
                }
            </div>
            { order }
            { pin_row(&pos, lang) }
            <p class="muted busy">{ text.waiting_for_confirm }</p>
            if let Some(error) = &pos.error { <p class="error" role="alert">{ error }</p> }
            <div class="actions"><CancelButton /></div>
        </section>
    }
}

/// "Ask for PIN", or the challenge's state once asked.
fn pin_row(pos: &PosContext, lang: Lang) -> Html {
    let text = text(lang);
    let Some(txn) = pos.transaction() else {
        return html! {};
    };
    if let Some(challenge) = &txn.challenge {
        let class = match challenge.status {
            ChallengeStatus::Pending => "pending",
            ChallengeStatus::Passed => "passed",
            ChallengeStatus::Failed => "failed",
        };
        return html! {
            <p class={classes!("challenge", class)} role="status" data-status={challenge.status.as_str()}>
                { i18n::challenge(lang, challenge.status) }
            </p>
        };
    }
    let asking = pos.sale.as_ref().and_then(|s| s.busy) == Some(Busy::AskingPin);
    let target = pos.signed_in().map(|(key, _)| (key.clone(), txn.id.clone()));
    let dispatch = dispatcher(pos);
    let onclick = Callback::from(move |_: MouseEvent| {
        let Some((key, id)) = target.clone() else { return };
        dispatch.emit(Action::Ask(Busy::AskingPin));
        let dispatch = dispatch.clone();
        spawn_local(async move {
            match api::ask_pin(&key, &id).await {
                Ok(txn) => dispatch.emit(Action::Updated(txn)),
                Err(ApiError::KeyRefused) => dispatch.emit(Action::KeyRefused(ApiError::KeyRefused.message(lang))),
                Err(error) => dispatch.emit(Action::Failed(error.message(lang))),
            }
        });
    });
    let busy = pos.sale.as_ref().and_then(|s| s.busy).is_some();
    html! {
        <button type="button" class={classes!("secondary", "pin", asking.then_some("busy"))} disabled={busy} {onclick}>
            { if asking { text.asking } else { text.ask_for_pin } }
        </button>
    }
}

/// The first letter of a name, for the placeholder where no portrait is.
fn initial(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default()
}
