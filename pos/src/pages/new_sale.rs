use gloo::events::EventListener;
use kessai_protocol::terminal::MenuItem;
use kessai_wallet::i18n::{amount, Lang};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::keypad::Keypad;
use crate::context::{dispatcher, lang_of, PosContext};
use crate::i18n::text;
use crate::keypad::Key;
use crate::state::{Action, SaleMode};

/// A sale three ways: an amount keyed in, articles picked (an itemized
/// order), or the catalogue sent as a menu for the customer to order from.
#[function_component(NewSalePage)]
pub fn new_sale_page() -> Html {
    let pos = use_context::<PosContext>();
    let charge = use_mut_ref(Callback::<()>::noop);
    if let Some(pos) = &pos {
        *charge.borrow_mut() = charge_callback(pos);
    }
    use_physical_keyboard(pos.clone(), charge.clone());
    let Some(pos) = pos else {
        return html! {};
    };
    let lang = lang_of(&pos);
    let text = text(lang);
    let panel = match pos.mode {
        SaleMode::Amount => amount_panel(&pos, lang),
        SaleMode::Items => items_panel(&pos, lang),
        SaleMode::CustomerOrders => menu_panel(&pos, lang),
    };
    let can_charge = pos.charge_request(0).is_some();
    let label = match (pos.mode, pos.pending_amount()) {
        (SaleMode::CustomerOrders, _) | (_, None) => text.show_number.to_string(),
        (_, Some(minor)) => format!("{} {}", text.charge, amount(minor, pos.currency())),
    };
    let onclick = {
        let charge = charge.borrow().clone();
        Callback::from(move |_: MouseEvent| charge.emit(()))
    };
    html! {
        <section class="new-sale" aria-labelledby="new-sale-title">
            <h1 id="new-sale-title" class="visually-hidden">{ text.new_sale }</h1>
            { mode_tabs(&pos, lang) }
            { panel }
            if let Some(error) = &pos.error { <p class="error" role="alert">{ error }</p> }
            <button type="button" class="primary charge" disabled={!can_charge} {onclick}>{ label }</button>
        </section>
    }
}

fn mode_tabs(pos: &PosContext, lang: Lang) -> Html {
    let text = text(lang);
    let tab = |mode: SaleMode, label: &'static str| {
        let pos = pos.clone();
        let selected = pos.mode == mode;
        let onclick = Callback::from(move |_: MouseEvent| pos.dispatch(Action::SetMode(mode)));
        html! {
            <button type="button" role="tab" aria-selected={selected.to_string()}
                class={classes!("tab", selected.then_some("selected"))} {onclick}>{ label }</button>
        }
    };
    html! {
        <div class="tabs" role="tablist" aria-label={text.new_sale}>
            { tab(SaleMode::Amount, text.mode_amount) }
            { tab(SaleMode::Items, text.mode_items) }
            { tab(SaleMode::CustomerOrders, text.mode_customer) }
        </div>
    }
}

fn amount_panel(pos: &PosContext, lang: Lang) -> Html {
    let text = text(lang);
    let on_press = {
        let pos = pos.clone();
        Callback::from(move |key: Key| pos.dispatch(Action::Press(key)))
    };
    let clear = {
        let pos = pos.clone();
        Callback::from(move |_: MouseEvent| pos.dispatch(Action::Press(Key::Clear)))
    };
    let minor = pos.entry.minor();
    html! {
        <div class="panel amount-panel" role="tabpanel">
            <div class="display">
                <output class={classes!("amount-display", (minor == 0).then_some("zero"))}
                    aria-label={text.amount} data-minor={minor.to_string()} aria-live="polite">
                    { amount(minor, pos.currency()) }
                </output>
                <button type="button" class="ghost clear" onclick={clear}>{ text.clear }</button>
            </div>
            <Keypad {lang} {on_press} />
        </div>
    }
}

fn items_panel(pos: &PosContext, lang: Lang) -> Html {
    let text = text(lang);
    let currency = pos.currency();
    let articles = &pos.settings.articles;
    let tile = |article: &MenuItem| {
        let count = pos.cart.quantity(&article.code);
        let onclick = {
            let (pos, code) = (pos.clone(), article.code.clone());
            Callback::from(move |_: MouseEvent| pos.dispatch(Action::AddToCart(code.clone())))
        };
        html! {
            <button type="button" class={classes!("article", (count > 0).then_some("picked"))} {onclick}
                data-code={article.code.clone()}>
                <span class="name">{ &article.name }</span>
                <span class="price">{ amount(article.unit_price, currency) }</span>
                if count > 0 { <span class="count" aria-label={format!("× {count}")}>{ count }</span> }
            </button>
        }
    };
    let items = pos.cart.items(articles);
    let line = |item: &kessai_protocol::Item| {
        let remove = {
            let (pos, code) = (pos.clone(), item.code.clone());
            Callback::from(move |_: MouseEvent| pos.dispatch(Action::RemoveFromCart(code.clone())))
        };
        let add = {
            let (pos, code) = (pos.clone(), item.code.clone());
            Callback::from(move |_: MouseEvent| pos.dispatch(Action::AddToCart(code.clone())))
        };
        html! {
            <li>
                <span class="name">{ &item.name }</span>
                <span class="stepper">
                    <button type="button" class="ghost round" aria-label={text.remove_one} onclick={remove}>{ "−" }</button>
                    <span class="qty">{ item.quantity }</span>
                    <button type="button" class="ghost round" aria-label={text.add_one} onclick={add}>{ "+" }</button>
                </span>
                <span class="num">{ amount(item.unit_price.saturating_mul(item.quantity), currency) }</span>
            </li>
        }
    };
    html! {
        <div class="panel items-panel" role="tabpanel">
            <div class="articles">{ for articles.iter().map(tile) }</div>
            <div class="cart" aria-label={text.total}>
                if items.is_empty() {
                    <p class="muted">{ text.cart_empty }</p>
                } else {
                    <ul>{ for items.iter().map(line) }</ul>
                }
            </div>
        </div>
    }
}

fn menu_panel(pos: &PosContext, lang: Lang) -> Html {
    let currency = pos.currency();
    html! {
        <div class="panel menu-panel" role="tabpanel">
            <p class="hint">{ text(lang).customer_orders_hint }</p>
            <ul class="menu">
                { for pos.settings.articles.iter().map(|article| html! {
                    <li><span>{ &article.name }</span><span class="num">{ amount(article.unit_price, currency) }</span></li>
                }) }
            </ul>
        </div>
    }
}

/// "Charge": the request for the state of the moment, then the number.
fn charge_callback(pos: &PosContext) -> Callback<()> {
    let key = pos.signed_in().map(|(key, _)| key.clone());
    let request = pos.charge_request(js_sys::Date::now() as u64);
    let lang = lang_of(pos);
    let dispatch = dispatcher(pos);
    let idle = pos.sale.is_none();
    Callback::from(move |_| {
        let (Some(key), Some(request), true) = (key.clone(), request.clone(), idle) else {
            return;
        };
        dispatch.emit(Action::Creating(request.clone()));
        let dispatch = dispatch.clone();
        spawn_local(async move {
            match api::create(&key, &request).await {
                Ok(created) => dispatch.emit(Action::Created(created)),
                Err(ApiError::KeyRefused) => dispatch.emit(Action::KeyRefused(ApiError::KeyRefused.message(lang))),
                Err(error) => dispatch.emit(Action::Failed(error.message(lang))),
            }
        });
    })
}

/// Digits, Backspace and Escape type into the amount from a physical
/// keyboard; Enter charges. Keys typed into a form field are left alone.
#[hook]
fn use_physical_keyboard(pos: Option<PosContext>, charge: std::rc::Rc<std::cell::RefCell<Callback<()>>>) {
    let amount_mode = pos.as_ref().is_some_and(|pos| pos.mode == SaleMode::Amount);
    let dispatch = pos.as_ref().map(dispatcher);
    use_effect_with(amount_mode, move |amount_mode| {
        let listener = (*amount_mode)
            .then(|| web_sys::window().zip(dispatch))
            .flatten()
            .map(|(window, dispatch)| {
                EventListener::new(&window, "keydown", move |event| {
                    let Some(event) = event.dyn_ref::<web_sys::KeyboardEvent>() else {
                        return;
                    };
                    if event.ctrl_key() || event.meta_key() || event.alt_key() || typing_in_a_field(event) {
                        return;
                    }
                    let key = event.key();
                    if key == "Enter" {
                        event.prevent_default();
                        charge.borrow().emit(());
                    } else if let Some(key) = Key::from_keyboard(&key) {
                        event.prevent_default();
                        dispatch.emit(Action::Press(key));
                    }
                })
            });
        move || drop(listener)
    });
}

fn typing_in_a_field(event: &web_sys::KeyboardEvent) -> bool {
    event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|element| matches!(element.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"))
}
