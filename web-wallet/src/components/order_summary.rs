use kessai_protocol::wallet::StartMessage;
use kessai_protocol::Order;
use yew::prelude::*;

use crate::i18n::{amount, Lang};

#[derive(Debug, PartialEq, Properties)]
pub struct OrderSummaryProps {
    pub start: StartMessage,
    pub lang: Lang,
}

/// The shop and its order: items, quantities, tax and total, formatted in
/// the order's currency (as the checkout widget shows it).
#[function_component(OrderSummary)]
pub fn order_summary(props: &OrderSummaryProps) -> Html {
    let text = props.lang.text();
    html! {
        <section class="order" aria-label={text.shop}>
            <p class="shop"><span class="muted">{ text.shop }{ ": " }</span><strong>{ &props.start.merchant.name }</strong></p>
            { order_table(&props.start.order, props.lang) }
        </section>
    }
}

/// An order's lines, tax and total; shop payments and in-store ones alike.
pub fn order_table(order: &Order, lang: Lang) -> Html {
    let text = lang.text();
    let currency = order.currency.as_str();
    let lines = order
        .items
        .iter()
        .map(|item| (item.name.as_str(), item.quantity, item.unit_price));
    html! {
        <table>
            { lines_head(lang) }
            <tbody>
                { for lines.map(|line| line_row(line, currency)) }
                <tr class="tax">
                    <td colspan="2">{ text.tax }</td>
                    <td class="num">{ amount(order.tax, currency) }</td>
                </tr>
            </tbody>
            <tfoot><tr>
                <th scope="row" colspan="2">{ text.total }</th>
                <td class="num total">{ amount(order.total, currency) }</td>
            </tr></tfoot>
        </table>
    }
}

/// The head of a table of lines: item, quantity, price.
pub fn lines_head(lang: Lang) -> Html {
    let text = lang.text();
    html! {
        <thead><tr>
            <th scope="col">{ text.item }</th>
            <th scope="col" class="num">{ text.quantity }</th>
            <th scope="col" class="num">{ text.price }</th>
        </tr></thead>
    }
}

/// One line: its name, how many, and what they cost together.
pub fn line_row((name, quantity, unit_price): (&str, u64, u64), currency: &str) -> Html {
    html! {
        <tr>
            <td>{ name }</td>
            <td class="num">{ quantity }</td>
            <td class="num">{ amount(unit_price.saturating_mul(quantity), currency) }</td>
        </tr>
    }
}
