use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::components::relogin::Relogin;
use crate::connectors::{Connector, ServerLink};
use crate::context::{dispatcher, lang_of, Route, WalletContext};
use crate::i18n::{amount, Lang};
use crate::selector::AccountRef;
use crate::state::Action;
use crate::sync::now_s;

/// Every connector (B1), each address it holds (B7) and each account
/// there, with "Make default" (B2).
#[function_component(AccountsPage)]
pub fn accounts_page() -> Html {
    let Some(wallet) = use_context::<WalletContext>() else {
        return html! {};
    };
    let lang = lang_of(&wallet);
    let text = lang.text();
    let body = if !wallet.loaded {
        html! { <p role="status">{ text.loading }</p> }
    } else if wallet.connectors.is_empty() {
        html! {
            <p>{ text.no_accounts }{ " " }
                <Link<Route> to={Route::AddAccount}>{ text.add_account }</Link<Route>>
            </p>
        }
    } else {
        wallet
            .connectors
            .iter()
            .map(|c| connector_view(&wallet, c, lang))
            .collect::<Html>()
    };
    html! {
        <section aria-labelledby="accounts-title">
            <h1 id="accounts-title">{ text.accounts }</h1>
            { body }
        </section>
    }
}

fn connector_view(wallet: &WalletContext, connector: &Connector, lang: Lang) -> Html {
    let text = lang.text();
    let add_address = Route::AddAddress {
        connector: connector.id.clone(),
    };
    html! {
        <article class="connector">
            <h2>{ &connector.user_name }{ " " }<span class="muted">{ &connector.user_id }</span></h2>
            { for connector.links.iter().map(|link| link_view(wallet, connector, link, lang)) }
            if wallet.can_add(Some(&connector.id)) {
                <p><Link<Route> to={add_address} classes="small">{ text.add_another_address }</Link<Route>></p>
            }
        </article>
    }
}

fn link_view(wallet: &WalletContext, connector: &Connector, link: &ServerLink, lang: Lang) -> Html {
    let text = lang.text();
    let accounts = link
        .brand_info
        .as_ref()
        .map(|info| info.accounts.as_slice())
        .unwrap_or_default();
    let live = link.session_live(now_s());
    html! {
        <div class="link">
            <h3>{ link.institution_name() }{ " " }<span class="muted address">{ &link.address }</span></h3>
            if !live {
                <Relogin address={link.address.clone()} user_id={connector.user_id.clone()}
                    institution_name={link.institution_name().to_string()} lang={lang} />
            }
            <ul class="accounts">
                { for accounts.iter().map(|account| {
                    let account_ref = AccountRef { address: link.address.clone(), account_id: account.account_id.clone() };
                    let is_default = wallet.default_account.as_ref() == Some(&account_ref);
                    let make_default = {
                        let wallet = wallet.clone();
                        Callback::from(move |_: MouseEvent| wallet.dispatch(Action::MakeDefault(account_ref.clone())))
                    };
                    html! {
                        <li class="account">
                            <span class="who">{ link.institution_name() }{ " · " }{ &account.brand }</span>
                            <span class="currency">{ &account.currency }</span>
                            <span class="available">{ amount(account.available, &account.currency) }</span>
                            if is_default { <span class="badge">{ text.default_account }</span> }
                            else { <button type="button" class="small" onclick={make_default}>{ text.make_default }</button> }
                        </li>
                    }
                }) }
            </ul>
            <button type="button" class="small secondary" onclick={log_out(wallet, link)}>{ text.log_out }</button>
        </div>
    }
}

/// Ends the session at the server, then forgets the address here whatever
/// the server said: the user asked to be logged out.
fn log_out(wallet: &WalletContext, link: &ServerLink) -> Callback<MouseEvent> {
    let dispatch = dispatcher(wallet);
    let (address, token) = (link.address.clone(), link.token.clone());
    Callback::from(move |_: MouseEvent| {
        let (dispatch, address, token) = (dispatch.clone(), address.clone(), token.clone());
        spawn_local(async move {
            if let Some(token) = token {
                let _ = api::end_session(&address, &token).await;
            }
            dispatch.emit(Action::LoggedOut { address });
        });
    })
}
