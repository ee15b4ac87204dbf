//! The receipt of a terminal transaction (D3), as both sides of an in-store
//! payment show it: the payer's phone after paying, and the clerk's POS,
//! which prints it. One component so that both show the same lines, in the
//! same order, with the same wording.
//!
//! Its words are here rather than in [`crate::i18n::Text`]: the POS has no
//! use for the wallet's other texts and the receipt needs few.

use kessai_protocol::terminal::TerminalReceipt;
use yew::prelude::*;

use crate::components::receipt::local_time;
use crate::i18n::{amount, Lang};

#[derive(Debug, PartialEq, Properties)]
pub struct TerminalReceiptProps {
    pub receipt: TerminalReceipt,
    pub lang: Lang,
}

/// The receipt's words in one language.
struct Words {
    title: &'static str,
    item: &'static str,
    quantity: &'static str,
    price: &'static str,
    total: &'static str,
    receipt_no: &'static str,
    terminal: &'static str,
    paid_at: &'static str,
    ticket: &'static str,
    transaction: &'static str,
}

fn words(lang: Lang) -> &'static Words {
    const EN: Words = Words {
        title: "Receipt",
        item: "Item",
        quantity: "Qty",
        price: "Amount",
        total: "Total",
        receipt_no: "Receipt no.",
        terminal: "Terminal",
        paid_at: "Paid at",
        ticket: "Ticket",
        transaction: "Transaction",
    };
    const JA: Words = Words {
        title: "領収書",
        item: "品目",
        quantity: "数量",
        price: "金額",
        total: "合計",
        receipt_no: "領収書番号",
        terminal: "端末",
        paid_at: "支払日時",
        ticket: "チケット",
        transaction: "取引",
    };
    match lang {
        Lang::En => &EN,
        Lang::Ja => &JA,
    }
}

/// The merchant, the lines (when the sale was itemized), the total, and
/// the numbers a refund or a dispute would quote.
#[function_component(TerminalReceiptView)]
pub fn terminal_receipt_view(props: &TerminalReceiptProps) -> Html {
    let words = words(props.lang);
    let receipt = &props.receipt;
    let currency = receipt.currency.as_str();
    html! {
        <article class="terminal-receipt" aria-labelledby="terminal-receipt-title">
            <header>
                <h2 id="terminal-receipt-title">{ words.title }</h2>
                <p class="merchant">{ &receipt.merchant }</p>
                <p class="muted">{ words.terminal }{ ": " }{ &receipt.terminal }</p>
            </header>
            if !receipt.items.is_empty() {
                <table>
                    <thead><tr>
                        <th scope="col">{ words.item }</th>
                        <th scope="col" class="num">{ words.quantity }</th>
                        <th scope="col" class="num">{ words.price }</th>
                    </tr></thead>
                    <tbody>
                        { for receipt.items.iter().map(|line| html! {
                            <tr>
                                <td>{ &line.name }</td>
                                <td class="num">{ line.quantity }</td>
                                <td class="num">{ amount(line.unit_price.saturating_mul(line.quantity), currency) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
            <p class="receipt-total">
                <span>{ words.total }</span>
                <strong data-amount={receipt.amount.to_string()}>{ amount(receipt.amount, currency) }</strong>
            </p>
            <dl>
                <dt>{ words.receipt_no }</dt><dd>{ &receipt.receipt_no }</dd>
                <dt>{ words.paid_at }</dt><dd>{ local_time(receipt.paid_at, props.lang) }</dd>
                if let Some(ticket) = &receipt.ticket { <dt>{ words.ticket }</dt><dd>{ ticket }</dd> }
                <dt>{ words.transaction }</dt><dd><code>{ &receipt.transaction_id }</code></dd>
            </dl>
        </article>
    }
}
