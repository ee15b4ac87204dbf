use kessai_protocol::terminal::{ConfirmedTransaction, TransactionStatus};
use yew::prelude::*;

use super::terminal_receipt::TerminalReceiptView;
use crate::i18n::{self, Lang};

#[derive(Debug, PartialEq, Properties)]
pub struct StoreReceiptProps {
    pub result: ConfirmedTransaction,
    /// An authentication by number (D11) ends with "Authenticated".
    #[prop_or_default]
    pub authentication: bool,
    pub lang: Lang,
    pub on_close: Callback<MouseEvent>,
}

/// The end of an in-store payment: the receipt (D3) with its number,
/// merchant, terminal, lines, amount and time (the one the POS prints);
/// or why nothing was paid.
#[function_component(StoreReceipt)]
pub fn store_receipt(props: &StoreReceiptProps) -> Html {
    let text = props.lang.text();
    let result = &props.result;
    let ok = result.status == TransactionStatus::Succeeded;
    let (title, outcome) = if props.authentication && ok {
        (text.authenticated, text.authenticated)
    } else {
        (text.receipt, i18n::terminal_outcome(props.lang, result.status))
    };
    let why = result.decline_code.map(|code| i18n::decline(props.lang, code));
    html! {
        <section class="receipt" aria-labelledby="receipt-title">
            <h1 id="receipt-title">{ title }</h1>
            <p class={classes!("outcome", if ok { "ok" } else { "bad" })} role="status">{ outcome }</p>
            if let Some(why) = why { <p>{ why }</p> }
            if let Some(receipt) = &result.receipt {
                <TerminalReceiptView receipt={receipt.clone()} lang={props.lang} />
            }
            <button type="button" onclick={props.on_close.clone()}>{ text.pay_another }</button>
        </section>
    }
}
