//! The receipt of a terminal transaction (D3), as both sides of an in-store
//! payment show it: the payer's phone after paying ([`super::store_receipt`])
//! and the clerk's POS terminal, which prints it. One component, so both
//! show the same lines in the same order with the same words.

use kessai_protocol::terminal::TerminalReceipt;
use yew::prelude::*;

use super::order_summary::{line_row, lines_head};
use super::receipt::local_time;
use crate::i18n::{amount, Lang};

#[derive(Debug, PartialEq, Properties)]
pub struct TerminalReceiptProps {
    pub receipt: TerminalReceipt,
    pub lang: Lang,
}

/// The merchant and terminal, the lines (when the sale was itemized), the
/// total, and the receipt number and time a refund would quote.
#[function_component(TerminalReceiptView)]
pub fn terminal_receipt_view(props: &TerminalReceiptProps) -> Html {
    let text = props.lang.text();
    let receipt = &props.receipt;
    let currency = receipt.currency.as_str();
    html! {
        <article class="terminal-receipt" aria-labelledby="terminal-receipt-title">
            <header>
                <h2 id="terminal-receipt-title">{ text.receipt }</h2>
                <p class="merchant">{ &receipt.merchant }</p>
                <p class="muted">{ text.terminal }{ ": " }{ &receipt.terminal }</p>
            </header>
            if !receipt.items.is_empty() {
                <table class="lines">
                    { lines_head(props.lang) }
                    <tbody>
                        { for receipt.items.iter().map(|l| line_row((l.name.as_str(), l.quantity, l.unit_price), currency)) }
                    </tbody>
                </table>
            }
            <p class="receipt-total">
                <span>{ text.total }</span>
                <strong data-amount={receipt.amount.to_string()}>{ amount(receipt.amount, currency) }</strong>
            </p>
            <dl>
                <dt>{ text.receipt_no }</dt><dd><code>{ &receipt.receipt_no }</code></dd>
                <dt>{ text.paid_at }</dt><dd>{ local_time(receipt.paid_at, props.lang) }</dd>
            </dl>
        </article>
    }
}
