use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::qr_scanner::QrScanner;
use crate::i18n::Lang;

#[derive(Debug, PartialEq, Properties)]
pub struct NumberEntryProps {
    pub lang: Lang,
    /// A lookup is under way: the form waits.
    pub busy: bool,
    /// Why the last number was refused or not found.
    #[prop_or_default]
    pub problem: Option<String>,
    /// The text typed, as typed (the page normalizes it).
    pub on_typed: Callback<String>,
    /// The text of a scanned QR code.
    pub on_scanned: Callback<String>,
    pub on_camera_error: Callback<()>,
}

/// "Transaction number": eight digits on a numeric keyboard, as the
/// terminal shows them ("4821 3907" is fine), or "Scan QR code" where the
/// browser reads QR codes.
#[function_component(NumberEntry)]
pub fn number_entry(props: &NumberEntryProps) -> Html {
    let input = use_node_ref();
    let text = props.lang.text();
    let onsubmit = {
        let (input, on_typed) = (input.clone(), props.on_typed.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let typed = input.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            on_typed.emit(typed);
        })
    };
    let problem = props.problem.as_deref();
    html! {
        <form class="number-entry" onsubmit={onsubmit} novalidate=true>
            <div class="field">
                <label for="transaction-number">{ text.transaction_number }</label>
                <input id="transaction-number" type="text" inputmode="numeric" autocomplete="off"
                    class="number" ref={input} maxlength="12" placeholder="1234 5678"
                    aria-invalid={problem.is_some().then_some("true")}
                    aria-describedby={if problem.is_some() { "transaction-number-problem" } else { "transaction-number-hint" }} />
                <p class="hint-line muted" id="transaction-number-hint">{ text.transaction_number_hint }</p>
                if let Some(problem) = problem {
                    <p class="error" id="transaction-number-problem" role="alert">{ problem }</p>
                }
            </div>
            <button type="submit" disabled={props.busy}>{ text.find_transaction }</button>
            <p role="status" aria-live="polite" class={classes!("muted", props.busy.then_some("busy"))}>
                { if props.busy { text.looking_up } else { "" } }
            </p>
            <QrScanner lang={props.lang} on_text={props.on_scanned.clone()} on_error={props.on_camera_error.clone()} />
        </form>
    }
}
