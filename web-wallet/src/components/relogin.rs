use kessai_protocol::Secret;
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::context::{dispatcher, WalletContext};
use crate::i18n::{self, Lang};
use crate::sync;

#[derive(Debug, PartialEq, Properties)]
pub struct ReloginProps {
    pub address: String,
    pub user_id: String,
    pub institution_name: String,
    pub lang: Lang,
}

/// An address whose session ended (a 401): the password alone logs in
/// again, since the address and the user are known.
#[function_component(Relogin)]
pub fn relogin(props: &ReloginProps) -> Html {
    let wallet = use_context::<WalletContext>();
    let password = use_node_ref();
    let problem = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let text = props.lang.text();
    let onsubmit = {
        let (password, problem, busy) = (password.clone(), problem.clone(), busy.clone());
        let (address, user_id, lang) = (props.address.clone(), props.user_id.clone(), props.lang);
        let dispatch = wallet.as_ref().map(dispatcher);
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Some(dispatch) = dispatch.clone() else { return };
            let value = password
                .cast::<HtmlInputElement>()
                .map(|i| i.value())
                .unwrap_or_default();
            if value.is_empty() {
                problem.set(Some(i18n::required(lang, lang.text().password)));
                return;
            }
            busy.set(true);
            let (address, user_id, problem, busy) = (address.clone(), user_id.clone(), problem.clone(), busy.clone());
            spawn_local(async move {
                let result = sync::log_in(None, address, user_id, Secret::new(value), &dispatch).await;
                busy.set(false);
                problem.set(result.err().map(|e| e.message(lang)));
            });
        })
    };
    html! {
        <form class="relogin" onsubmit={onsubmit} novalidate=true>
            <p class="warning">{ &props.institution_name }{ ": " }{ text.session_expired }</p>
            <label>{ text.password }
                <input type="password" ref={password} autocomplete="current-password" required=true />
            </label>
            <button type="submit" disabled={*busy}>{ text.log_in_again }</button>
            if let Some(problem) = &*problem { <p class="error" role="alert">{ problem }</p> }
        </form>
    }
}
