use kessai_protocol::Secret;
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::connectors::normalize_address;
use crate::context::{dispatcher, lang_of, Route, WalletContext};
use crate::i18n::{self, Lang};
use crate::sync;

#[derive(Debug, PartialEq, Properties)]
pub struct AddAccountProps {
    /// Adds an address to this connector (B7) instead of a new connector.
    #[prop_or_default]
    pub connector: Option<String>,
}

/// What the form found wrong, per field, before sending anything.
#[derive(Debug, Clone, Default, PartialEq)]
struct Problems {
    address: Option<String>,
    user_id: Option<String>,
    password: Option<String>,
}

impl Problems {
    fn any(&self) -> bool {
        self.address.is_some() || self.user_id.is_some() || self.password.is_some()
    }
}

/// The form's handles: its inputs and what it shows.
#[derive(Clone)]
struct Form {
    address: NodeRef,
    user_id: NodeRef,
    password: NodeRef,
    problems: UseStateHandle<Problems>,
    failure: UseStateHandle<Option<String>>,
    busy: UseStateHandle<bool>,
}

/// "Add account": log in to a server wallet and fetch its brand
/// information; a new connector, or another address of one.
#[function_component(AddAccountPage)]
pub fn add_account_page(props: &AddAccountProps) -> Html {
    let wallet = use_context::<WalletContext>();
    let navigator = use_navigator();
    let form = Form {
        address: use_node_ref(),
        user_id: use_node_ref(),
        password: use_node_ref(),
        problems: use_state(Problems::default),
        failure: use_state(|| None::<String>),
        busy: use_state(|| false),
    };
    let Some(wallet) = wallet else { return html! {} };
    let lang = lang_of(&wallet);
    let text = lang.text();
    let connector = props.connector.as_deref().and_then(|id| wallet.connector(id));
    let fixed_user = connector.map(|c| c.user_id.clone());
    let onsubmit = on_submit(&wallet, form.clone(), connector.map(|c| c.id.clone()), navigator);
    let heading = if connector.is_some() {
        text.add_another_address
    } else {
        text.add_account
    };
    let problems = &*form.problems;
    html! {
        <section aria-labelledby="add-title">
            <h1 id="add-title">{ heading }</h1>
            <form onsubmit={onsubmit} novalidate=true>
                { field("address", text.server_wallet_address, "text", "url", &form.address, None, problems.address.as_deref()) }
                { field("user-id", text.user_id, "text", "username", &form.user_id, fixed_user.as_deref(), problems.user_id.as_deref()) }
                { field("password", text.password, "password", "current-password", &form.password, None, problems.password.as_deref()) }
                <button type="submit" disabled={*form.busy}>{ text.add_account }</button>
                <p role="status" aria-live="polite" class="muted">{ if *form.busy { text.adding } else { "" } }</p>
                if let Some(failure) = &*form.failure { <p class="error" role="alert">{ failure }</p> }
            </form>
        </section>
    }
}

/// Checks the form, then logs in; nothing is sent while a field is wrong.
fn on_submit(
    wallet: &WalletContext,
    form: Form,
    connector_id: Option<String>,
    navigator: Option<Navigator>,
) -> Callback<SubmitEvent> {
    let lang = lang_of(wallet);
    let dispatch = dispatcher(wallet);
    let can_add = wallet.can_add(connector_id.as_deref());
    Callback::from(move |event: SubmitEvent| {
        event.prevent_default();
        let value = |r: &NodeRef| r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
        let typed = (
            value(&form.address),
            value(&form.user_id).trim().to_string(),
            value(&form.password),
        );
        let found = check(lang, &typed);
        form.problems.set(found.clone());
        if found.any() || *form.busy {
            return;
        }
        if !can_add {
            form.failure.set(Some(lang.text().too_many.to_string()));
            return;
        }
        let Ok(address) = normalize_address(&typed.0) else {
            return;
        };
        form.busy.set(true);
        form.failure.set(None);
        let (dispatch, connector_id, navigator, form) =
            (dispatch.clone(), connector_id.clone(), navigator.clone(), form.clone());
        spawn_local(async move {
            let result = sync::log_in(connector_id, address, typed.1, Secret::new(typed.2), &dispatch).await;
            form.busy.set(false);
            match (result, navigator) {
                (Ok(()), Some(navigator)) => navigator.push(&Route::Accounts),
                (Ok(()), None) => {}
                (Err(error), _) => form.failure.set(Some(error.message(lang))),
            }
        });
    })
}

/// One labelled input with its problem, if any, tied to it for screen readers.
fn field(
    id: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    node: &NodeRef,
    fixed: Option<&str>,
    problem: Option<&str>,
) -> Html {
    let problem_id = format!("{id}-problem");
    let placeholder = (id == "address").then_some("https://bank.example");
    html! {
        <div class="field">
            <label for={id}>{ label }</label>
            <input id={id} type={kind} ref={node.clone()} autocomplete={autocomplete}
                value={fixed.map(str::to_string)} readonly={fixed.is_some()} placeholder={placeholder}
                aria-invalid={problem.is_some().then_some("true")}
                aria-describedby={problem.is_some().then(|| problem_id.clone())} />
            if let Some(problem) = problem { <p class="error" id={problem_id}>{ problem }</p> }
        </div>
    }
}

/// The form's rules: an address of the right form, a user id, a password.
fn check(lang: Lang, (address, user_id, password): &(String, String, String)) -> Problems {
    let text = lang.text();
    Problems {
        address: normalize_address(address)
            .err()
            .map(|p| i18n::address_problem(lang, p).to_string()),
        user_id: user_id.is_empty().then(|| i18n::required(lang, text.user_id)),
        password: password.is_empty().then(|| i18n::required(lang, text.password)),
    }
}
