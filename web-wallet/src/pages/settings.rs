use yew::prelude::*;

use crate::context::{lang_of, WalletContext};
use crate::selector::Mode;
use crate::state::Action;

/// The selector's settings: a radio group named "When a shop asks for
/// payment" (a fieldset whose legend names it).
#[function_component(SettingsPage)]
pub fn settings_page() -> Html {
    let Some(wallet) = use_context::<WalletContext>() else {
        return html! {};
    };
    let text = lang_of(&wallet).text();
    let current = wallet.mode;
    let option = |mode: Mode, label: &'static str, hint: &'static str| {
        let id = match mode {
            Mode::Default => "mode-default",
            Mode::Ask => "mode-ask",
            Mode::Automatic => "mode-automatic",
        };
        let hint_id = format!("{id}-hint");
        let wallet = wallet.clone();
        let onchange = Callback::from(move |_: Event| wallet.dispatch(Action::SetMode(mode)));
        html! {
            <div class="radio">
                <input type="radio" name="mode" id={id} checked={current == mode}
                    aria-describedby={hint_id.clone()} {onchange} />
                <label for={id}>{ label }</label>
                <p class="hint" id={hint_id}>{ hint }</p>
            </div>
        }
    };
    html! {
        <section aria-labelledby="settings-title">
            <h1 id="settings-title">{ text.settings }</h1>
            <fieldset role="radiogroup">
                <legend>{ text.when_asked }</legend>
                { option(Mode::Default, text.mode_default, text.mode_default_hint) }
                { option(Mode::Ask, text.mode_ask, text.mode_ask_hint) }
                { option(Mode::Automatic, text.mode_automatic, text.mode_automatic_hint) }
            </fieldset>
        </section>
    }
}
