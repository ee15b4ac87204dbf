use yew::prelude::*;
use yew_router::prelude::*;

use crate::context::{lang_of, Route, WalletContext};
use crate::state::Action;

#[function_component(Nav)]
pub fn nav() -> Html {
    let route = use_route::<Route>();
    let Some(wallet) = use_context::<WalletContext>() else {
        return html! {};
    };
    let lang = lang_of(&wallet);
    let text = lang.text();
    let toggle = {
        let wallet = wallet.clone();
        Callback::from(move |_: MouseEvent| wallet.dispatch(Action::SetLang(lang.other())))
    };
    let link = |to: Route, label: &'static str| {
        let current = (route.as_ref() == Some(&to)).then_some("page");
        html! {
            <li><Link<Route> to={to.clone()}>
                <span aria-current={current}>{ label }</span>
            </Link<Route>></li>
        }
    };
    html! {
        <header class="top">
            <div class="brand-row">
                <span class="app-name">{ text.wallet }</span>
                <button type="button" class="lang" lang={lang.other().tag()} onclick={toggle}>
                    { text.switch_language }
                </button>
            </div>
            <nav aria-label={text.wallet}>
                <ul>
                    { link(Route::Accounts, text.accounts) }
                    { link(Route::Store, text.pay_in_store) }
                    { link(Route::Tickets, text.tickets) }
                    { link(Route::AddAccount, text.add_account) }
                    { link(Route::Settings, text.settings) }
                    { link(Route::History, text.history) }
                </ul>
            </nav>
        </header>
    }
}
