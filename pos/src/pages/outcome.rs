use kessai_protocol::terminal::TransactionStatus;
use kessai_wallet::components::terminal_receipt::TerminalReceiptView;
use yew::prelude::*;

use crate::context::{lang_of, PosContext};
use crate::i18n::{self, text};
use crate::state::Action;

/// The end of a sale: "Paid" with the receipt to print, or why not; and
/// "New sale". Printing shows the receipt alone (`@media print`).
#[function_component(OutcomePage)]
pub fn outcome_page() -> Html {
    let Some(pos) = use_context::<PosContext>() else {
        return html! {};
    };
    let Some(txn) = pos.transaction() else {
        return html! {};
    };
    let lang = lang_of(&pos);
    let text = text(lang);
    let paid = txn.status == TransactionStatus::Succeeded;
    let new_sale = {
        let pos = pos.clone();
        Callback::from(move |_: MouseEvent| pos.dispatch(Action::NewSale))
    };
    let print = Callback::from(|_: MouseEvent| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    });
    let why = txn.decline_code.map(|code| i18n::decline(lang, code));
    let class = classes!("outcome", if paid { "ok" } else { "bad" });
    let layout = classes!("final", "card", txn.receipt.is_some().then_some("with-receipt"));
    html! {
        <section class={layout} aria-labelledby="outcome-title">
            <div class="final-side">
            <div class={class}>
                <span class="mark" aria-hidden="true">{ if paid { "✓" } else { "✕" } }</span>
                <h1 id="outcome-title" role="status" data-status={txn.status.as_str()}>
                    { i18n::outcome(lang, txn.status) }
                </h1>
                if let Some(why) = why { <p class="why">{ why }</p> }
            </div>
            <div class="actions">
                if txn.receipt.is_some() {
                    <button type="button" class="secondary" onclick={print}>{ text.print }</button>
                }
                <button type="button" class="primary" onclick={new_sale}>{ text.new_sale }</button>
            </div>
            </div>
            if let Some(receipt) = &txn.receipt {
                <TerminalReceiptView receipt={receipt.clone()} {lang} />
            }
        </section>
    }
}
