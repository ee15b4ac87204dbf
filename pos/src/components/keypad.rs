use kessai_wallet::i18n::Lang;
use yew::prelude::*;

use crate::i18n::text;
use crate::keypad::Key;

#[derive(Debug, PartialEq, Properties)]
pub struct KeypadProps {
    pub lang: Lang,
    pub on_press: Callback<Key>,
}

/// Twelve keys as on a register: 7 8 9 / 4 5 6 / 1 2 3 / 00 0 ⌫. A
/// physical keyboard types into the same entry (the new-sale screen
/// listens for it).
#[function_component(Keypad)]
pub fn keypad(props: &KeypadProps) -> Html {
    let text = text(props.lang);
    let key = |key: Key, label: &'static str, name: Option<&'static str>| {
        let on_press = props.on_press.clone();
        let onclick = Callback::from(move |_: MouseEvent| on_press.emit(key));
        let class = match key {
            Key::Backspace => "key fn",
            _ => "key",
        };
        html! { <button type="button" {class} aria-label={name} {onclick}>{ label }</button> }
    };
    let digit = |d: u8, label: &'static str| key(Key::Digit(d), label, None);
    html! {
        <div class="keypad" role="group" aria-label={text.amount}>
            { digit(7, "7") }{ digit(8, "8") }{ digit(9, "9") }
            { digit(4, "4") }{ digit(5, "5") }{ digit(6, "6") }
            { digit(1, "1") }{ digit(2, "2") }{ digit(3, "3") }
            { key(Key::DoubleZero, "00", None) }{ digit(0, "0") }
            { key(Key::Backspace, "⌫", Some(text.backspace)) }
        </div>
    }
}
