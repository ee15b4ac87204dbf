use kessai_protocol::Order;
use kessai_wallet::i18n::{amount, Lang};
use yew::prelude::*;

use crate::i18n::text;

#[derive(Debug, PartialEq, Properties)]
pub struct OrderLinesProps {
    pub order: Order,
    pub lang: Lang,
}

/// An order's lines and its total (the clerk's own, or the one the
/// customer placed from the menu).
#[function_component(OrderLines)]
pub fn order_lines(props: &OrderLinesProps) -> Html {
    let order = &props.order;
    let currency = order.currency.as_str();
    html! {
        <table class="lines">
            <tbody>
                { for order.items.iter().map(|item| html! {
                    <tr>
                        <td>{ &item.name }</td>
                        <td class="num qty">{ "× " }{ item.quantity }</td>
                        <td class="num">{ amount(item.unit_price.saturating_mul(item.quantity), currency) }</td>
                    </tr>
                }) }
            </tbody>
            <tfoot><tr>
                <th scope="row" colspan="2">{ text(props.lang).total }</th>
                <td class="num">{ amount(order.total, currency) }</td>
            </tr></tfoot>
        </table>
    }
}
