use yew::prelude::*;

use crate::context::{lang_of, PosContext};
use crate::i18n::text;
use crate::state::{Action, Screen};

/// The top bar: who this terminal is once signed in, and the clerk's
/// controls (language always; settings between sales; sign out).
#[function_component(Header)]
pub fn header() -> Html {
    let Some(pos) = use_context::<PosContext>() else {
        return html! {};
    };
    let lang = lang_of(&pos);
    let text = text(lang);
    let action = |action: Action| {
        let pos = pos.clone();
        Callback::from(move |_: MouseEvent| pos.dispatch(action.clone()))
    };
    let between_sales = pos.screen() == Screen::NewSale;
    html! {
        <header class="top">
            <div class="brand">
                <span class="logo" aria-hidden="true">{ "¥" }</span>
                <span class="app-name">{ text.app_name }</span>
            </div>
            if let Some((_, terminal)) = pos.signed_in() {
                <div class="who">
                    <span class="merchant-name">{ &terminal.merchant.name }</span>
                    <span class="terminal-label">{ &terminal.label }</span>
                </div>
            }
            <div class="controls">
                <button type="button" class="ghost" lang={lang.other().tag()}
                    onclick={action(Action::SetLang(lang.other()))}>{ text.switch_language }</button>
                if between_sales {
                    <button type="button" class="ghost" onclick={action(Action::OpenSettings)}>{ text.settings }</button>
                }
                if pos.signed_in().is_some() {
                    <button type="button" class="ghost" onclick={action(Action::SignOut)}>{ text.sign_out }</button>
                }
            </div>
        </header>
    }
}
