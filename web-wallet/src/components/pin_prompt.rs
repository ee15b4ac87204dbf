use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::i18n::Lang;

#[derive(Debug, PartialEq, Properties)]
pub struct PinPromptProps {
    pub lang: Lang,
    /// An authentication by number (D11): the button says "Authenticate".
    pub authentication: bool,
    /// The PIN is being checked.
    pub busy: bool,
    #[prop_or_default]
    pub problem: Option<String>,
    /// The PIN as typed (the page checks its form).
    pub on_pin: Callback<String>,
}

/// The terminal asked for the PIN (D8): a password field for 4 to 8 digits.
/// The field is emptied after each try, so a wrong PIN is not sent twice.
#[function_component(PinPrompt)]
pub fn pin_prompt(props: &PinPromptProps) -> Html {
    let input = use_node_ref();
    let text = props.lang.text();
    {
        // The prompt appears while the payer looks at the screen: typing
        // can start at once.
        let input = input.clone();
        use_effect_with((), move |_| {
            if let Some(input) = input.cast::<HtmlInputElement>() {
                let _ = input.focus();
            }
        });
    }
    let onsubmit = {
        let (input, on_pin) = (input.clone(), props.on_pin.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Some(field) = input.cast::<HtmlInputElement>() else {
                return;
            };
            let pin = field.value();
            field.set_value("");
            on_pin.emit(pin);
        })
    };
    let (asked, button) = if props.authentication {
        (text.authentication_requested, text.authenticate)
    } else {
        (text.pin_requested, text.send_pin)
    };
    let problem = props.problem.as_deref();
    html! {
        <form class="pin" onsubmit={onsubmit} novalidate=true aria-labelledby="pin-asked">
            <p id="pin-asked" class="warning" role="status">{ asked }</p>
            <label for="pin">{ text.pin }</label>
            <input id="pin" type="password" inputmode="numeric" autocomplete="off" minlength="4" maxlength="8"
                ref={input} aria-invalid={problem.is_some().then_some("true")}
                aria-describedby={problem.is_some().then_some("pin-problem")} />
            if let Some(problem) = problem { <p class="error" id="pin-problem" role="alert">{ problem }</p> }
            <button type="submit" disabled={props.busy}>{ button }</button>
            if props.busy { <p role="status" class="muted busy">{ text.checking_pin }</p> }
        </form>
    }
}
