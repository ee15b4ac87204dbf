use kessai_protocol::terminal::Menu;
use yew::prelude::*;

use crate::i18n::{self, amount, Lang};
use crate::in_store::{menu_total, QUANTITY_MAX};

#[derive(Debug, PartialEq, Properties)]
pub struct MenuOrderProps {
    pub menu: Menu,
    /// One per article, in the menu's order.
    pub quantities: Vec<u64>,
    pub lang: Lang,
    /// The order is being sent.
    pub busy: bool,
    pub on_quantity: Callback<(usize, u64)>,
    /// One article, once (a vending machine, C5): a choice, not steppers.
    #[prop_or_default]
    pub single: bool,
    /// The article chosen, when `single`.
    #[prop_or_default]
    pub on_choose: Callback<usize>,
    pub on_send: Callback<()>,
}

/// A menu to order from (D9): each article with its price and a quantity
/// stepper (a vending machine's: a choice of one, C5), the total so far,
/// and "Send order" once something is chosen.
#[function_component(MenuOrder)]
pub fn menu_order(props: &MenuOrderProps) -> Html {
    let text = props.lang.text();
    let currency = props.menu.currency.as_str();
    let total = menu_total(&props.menu, &props.quantities);
    let send = {
        let on_send = props.on_send.clone();
        Callback::from(move |_: MouseEvent| on_send.emit(()))
    };
    let title = if props.single {
        text.choose_one
    } else {
        text.choose_from_menu
    };
    html! {
        <section class="order menu" aria-labelledby="menu-title">
            <h2 id="menu-title">{ title }</h2>
            <ul class="menu-items" role={props.single.then_some("radiogroup")} aria-labelledby="menu-title">
                { for props.menu.items.iter().enumerate().map(|(index, item)| {
                    let quantity = props.quantities.get(index).copied().unwrap_or(0);
                    if props.single {
                        return choice(props, index, &item.name, &amount(item.unit_price, currency), quantity > 0);
                    }
                    html! {
                        <li class="menu-item">
                            <span class="name">{ &item.name }</span>
                            <span class="muted">{ amount(item.unit_price, currency) }</span>
                            { stepper(props, index, &item.name, quantity) }
                        </li>
                    }
                }) }
            </ul>
            <p class="menu-total"><span>{ text.total }</span>
                <output class="total" aria-live="polite">{ amount(total, currency) }</output></p>
            <button type="button" disabled={total == 0 || props.busy} onclick={send}>{ text.send_order }</button>
            if props.busy { <p role="status" class="muted busy">{ text.sending_order }</p> }
        </section>
    }
}

/// One article of a choice of one: a radio button labeled with its name
/// and price.
fn choice(props: &MenuOrderProps, index: usize, name: &str, price: &str, chosen: bool) -> Html {
    let on_choose = props.on_choose.clone();
    let onchange = Callback::from(move |_: Event| on_choose.emit(index));
    let id = format!("menu-choice-{index}");
    html! {
        <li class="menu-item choice">
            <input type="radio" id={id.clone()} name="menu-choice" checked={chosen}
                disabled={props.busy} onchange={onchange} />
            <label for={id}><span class="name">{ name }</span>{ " " }<span class="muted">{ price }</span></label>
        </li>
    }
}

/// − quantity +, each button named for the article.
fn stepper(props: &MenuOrderProps, index: usize, name: &str, quantity: u64) -> Html {
    let set = |to: u64| {
        let on_quantity = props.on_quantity.clone();
        Callback::from(move |_: MouseEvent| on_quantity.emit((index, to)))
    };
    let less = i18n::stepper(props.lang, false, name);
    let more = i18n::stepper(props.lang, true, name);
    html! {
        <span class="stepper">
            <button type="button" class="small secondary" aria-label={less} title={i18n::stepper(props.lang, false, name)}
                disabled={quantity == 0 || props.busy} onclick={set(quantity.saturating_sub(1))}>{ "−" }</button>
            <output class="quantity" aria-live="polite">{ quantity }</output>
            <button type="button" class="small secondary" aria-label={more} title={i18n::stepper(props.lang, true, name)}
                disabled={quantity >= QUANTITY_MAX || props.busy} onclick={set(quantity + 1)}>{ "+" }</button>
        </span>
    }
}
