use kessai_protocol::terminal::{ConfirmedTransaction, TerminalReceipt, TransactionStatus};
use yew::prelude::*;

use super::order_summary::{line_row, lines_head};
use super::receipt::local_time;
use crate::i18n::{self, amount, Lang};

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
/// merchant, terminal, lines, amount and time; or why nothing was paid.
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
            if let Some(receipt) = &result.receipt { { details(receipt, props.lang) } }
            <button type="button" onclick={props.on_close.clone()}>{ text.pay_another }</button>
        </section>
    }
}

fn details(receipt: &TerminalReceipt, lang: Lang) -> Html {
    let text = lang.text();
    let currency = receipt.currency.as_str();
    html! {
        <>
            <dl>
                <dt>{ text.receipt_no }</dt><dd><code>{ &receipt.receipt_no }</code></dd>
                <dt>{ text.shop }</dt><dd>{ &receipt.merchant }</dd>
                <dt>{ text.terminal }</dt><dd>{ &receipt.terminal }</dd>
                <dt>{ text.total }</dt><dd class="total">{ amount(receipt.amount, currency) }</dd>
                <dt>{ text.paid_at }</dt><dd>{ local_time(receipt.paid_at, lang) }</dd>
            </dl>
            if !receipt.items.is_empty() {
                <table class="lines">
                    { lines_head(lang) }
                    <tbody>
                        { for receipt.items.iter().map(|l| line_row((l.name.as_str(), l.quantity, l.unit_price), currency)) }
                    </tbody>
                </table>
            }
        </>
    }
}
