use kessai_protocol::terminal::PayerTransaction;
use yew::prelude::*;

use super::order_summary::order_table;
use super::receipt::local_time;
use crate::i18n::{amount, Lang};
use crate::passes::Admission;

#[derive(Debug, PartialEq, Properties)]
pub struct TerminalBillProps {
    pub transaction: PayerTransaction,
    /// At an exit gate (C6): the admission sent; the amount is its fee.
    #[prop_or_default]
    pub admission: Option<Admission>,
    pub lang: Lang,
}

/// Who bills and what, before anything is paid (D3, D4; claims 7 and 17):
/// the merchant, the terminal's name, label and place, the amount and the
/// order's lines when there is an order. At an exit gate, the amount is
/// the gate fee since the entry time shown.
#[function_component(TerminalBill)]
pub fn terminal_bill(props: &TerminalBillProps) -> Html {
    let text = props.lang.text();
    let transaction = &props.transaction;
    let terminal = &transaction.terminal;
    html! {
        <section class="order bill" aria-labelledby="bill-merchant">
            <p class="shop"><span class="muted">{ text.shop }{ ": " }</span>
                <strong id="bill-merchant">{ &terminal.merchant.name }</strong></p>
            <dl class="terminal">
                <dt>{ text.terminal }</dt>
                <dd>{ &terminal.name }{ " " }<span class="muted label">{ format!("({})", terminal.label) }</span></dd>
                if let Some(location) = &terminal.location {
                    <dt>{ text.location }</dt><dd>{ location }</dd>
                }
                if let Some(admission) = &props.admission {
                    <dt>{ text.entered_at }</dt><dd class="entered">{ local_time(admission.entered_at, props.lang) }</dd>
                }
                if let Some(minor) = transaction.amount {
                    <dt>{ if props.admission.is_some() { text.gate_fee } else { text.amount_label } }</dt>
                    <dd class="total amount">{ amount(minor, &transaction.currency) }</dd>
                }
            </dl>
            if let Some(order) = &transaction.order { { order_table(order, props.lang) } }
        </section>
    }
}
