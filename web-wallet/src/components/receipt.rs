use kessai_protocol::api::Status;
use kessai_protocol::wallet::WalletPayment;
use yew::prelude::*;

use crate::i18n::{self, amount, Lang};

#[derive(Debug, PartialEq, Properties)]
pub struct ReceiptProps {
    pub payment: WalletPayment,
    pub lang: Lang,
    pub on_close: Callback<MouseEvent>,
}

/// What the server wallet says was paid, or why not.
#[function_component(ReceiptView)]
pub fn receipt_view(props: &ReceiptProps) -> Html {
    let text = props.lang.text();
    let payment = &props.payment;
    let receipt = &payment.receipt;
    let ok = matches!(payment.status, Status::Succeeded | Status::Held | Status::Processing);
    let why = payment.decline_code.map(|code| i18n::decline(props.lang, code));
    let paid_at = receipt.paid_at.map(|s| local_time(s, props.lang));
    html! {
        <section class="receipt" aria-labelledby="receipt-title">
            <h1 id="receipt-title">{ text.receipt }</h1>
            <p class={classes!("outcome", if ok { "ok" } else { "bad" })} role="status">
                { i18n::status(props.lang, payment.status) }
            </p>
            if let Some(why) = why { <p>{ why }</p> }
            if let Some(fields) = &payment.mismatched_fields { <p>{ fields.join(", ") }</p> }
            <dl>
                <dt>{ text.shop }</dt><dd>{ &receipt.merchant }</dd>
                <dt>{ text.order_number }</dt><dd>{ &receipt.order_id }</dd>
                <dt>{ text.total }</dt><dd class="total">{ amount(receipt.total, &receipt.currency) }</dd>
                <dt>{ text.brand }</dt><dd>{ &receipt.brand }</dd>
                if let Some(paid_at) = paid_at { <dt>{ text.paid_at }</dt><dd>{ paid_at }</dd> }
                <dt>{ text.settlement }</dt><dd><code>{ &payment.settlement_id }</code></dd>
            </dl>
            <button type="button" onclick={props.on_close.clone()}>{ text.back_to_wallet }</button>
        </section>
    }
}

/// Unix seconds as the user's local date and time.
pub fn local_time(unix_s: i64, lang: Lang) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_s as f64 * 1000.0));
    date.to_locale_string(lang.tag(), &wasm_bindgen::JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default()
}
