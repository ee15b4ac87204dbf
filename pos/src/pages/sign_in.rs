use kessai_protocol::Secret;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::context::{lang_of, PosContext};
use crate::i18n::text;
use crate::state::{Action, Session};

/// The terminal key, pasted once per tab (or arriving as `#key=` in the
/// demo's link, which signs in without this form).
#[function_component(SignInPage)]
pub fn sign_in_page() -> Html {
    let input = use_node_ref();
    let Some(pos) = use_context::<PosContext>() else {
        return html! {};
    };
    let text = text(lang_of(&pos));
    let signing_in = matches!(pos.session, Session::SigningIn(_));
    let onsubmit = {
        let (pos, input) = (pos.clone(), input.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let key = input
                .cast::<HtmlInputElement>()
                .map(|i| i.value().trim().to_string())
                .unwrap_or_default();
            if !key.is_empty() {
                pos.dispatch(Action::SignIn(Secret::new(key)));
            }
        })
    };
    html! {
        <section class="card sign-in" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">{ text.sign_in_title }</h1>
            <p class="muted">{ text.sign_in_hint }</p>
            <form {onsubmit}>
                <label for="terminal-key">{ text.terminal_key }</label>
                <input id="terminal-key" type="password" autocomplete="off" spellcheck="false"
                    placeholder="tk_…" ref={input} disabled={signing_in}
                    aria-invalid={pos.error.is_some().then_some("true")} />
                if let Some(error) = &pos.error { <p class="error" role="alert">{ error }</p> }
                <button type="submit" class={classes!("primary", "wide", signing_in.then_some("busy"))} disabled={signing_in}>
                    { if signing_in { text.signing_in } else { text.sign_in } }
                </button>
            </form>
        </section>
    }
}
