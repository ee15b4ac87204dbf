use kessai_wallet::i18n::amount;
use yew::prelude::*;

use crate::api::qr_image_url;
use crate::components::cancel_button::CancelButton;
use crate::components::countdown::Countdown;
use crate::components::order_lines::OrderLines;
use crate::components::transaction_number::TransactionNumber;
use crate::context::{lang_of, PosContext};
use crate::i18n::text;

/// The number, large, and its QR code, for the customer to type or scan;
/// the amount, the time left, and Cancel. While the number is on its way,
/// a placeholder of the same shape, so the screen does not jump.
#[function_component(WaitingPage)]
pub fn waiting_page() -> Html {
    let Some(pos) = use_context::<PosContext>() else {
        return html! {};
    };
    let lang = lang_of(&pos);
    let text = text(lang);
    let Some(txn) = pos.transaction() else {
        return html! {
            <section class="waiting card" aria-busy="true">
                <p class="busy big-status" role="status">{ text.getting_number }</p>
            </section>
        };
    };
    let due = match txn.amount {
        Some(minor) => html! { <p class="due" data-amount={minor.to_string()}>{ amount(minor, &txn.currency) }</p> },
        None => html! { <p class="due muted">{ text.mode_customer }</p> },
    };
    html! {
        <section class="waiting card" aria-labelledby="waiting-title">
            <div class="show">
                <div class="number-side">
                    <h1 id="waiting-title" class="eyebrow">{ text.transaction_number }</h1>
                    <TransactionNumber number={txn.number.clone()} {lang} />
                    <p class="instruction">{ text.enter_number }</p>
                    { due }
                    <Countdown expires_at={txn.expires_at} {lang} />
                    <div class="actions"><CancelButton /></div>
                </div>
                <figure class="qr">
                    <img src={qr_image_url(&txn.qr)} alt={format!("QR {}", txn.number)} width="240" height="240" />
                    <figcaption class="muted">{ text.scan_code }</figcaption>
                </figure>
            </div>
            if let Some(order) = &txn.order {
                <OrderLines order={order.clone()} {lang} />
            }
            if let Some(error) = &pos.error { <p class="error" role="alert">{ error }</p> }
        </section>
    }
}
