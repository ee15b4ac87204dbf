use gloo::timers::callback::Interval;
use kessai_wallet::i18n::Lang;
use yew::prelude::*;

use crate::context::now_s;
use crate::i18n::{countdown, text};

/// Under this many seconds the countdown turns to a warning colour.
const HURRY_S: i64 = 30;

#[derive(Debug, PartialEq, Properties)]
pub struct CountdownProps {
    /// Unix seconds.
    pub expires_at: i64,
    pub lang: Lang,
}

/// "Expires in 4:32", ticking each second. Only a display: the server
/// decides expiry and the event stream reports it.
#[function_component(Countdown)]
pub fn countdown_view(props: &CountdownProps) -> Html {
    let now = use_state(now_s);
    {
        let now = now.clone();
        use_effect_with((), move |_| {
            let interval = Interval::new(1_000, move || now.set(now_s()));
            move || drop(interval)
        });
    }
    let left = props.expires_at - *now;
    let class = classes!("countdown", (left <= HURRY_S).then_some("hurry"));
    html! {
        <p {class}>
            <span class="muted">{ text(props.lang).expires_in }{ " " }</span>
            <time datetime={format!("PT{}S", left.max(0))}>{ countdown(left) }</time>
        </p>
    }
}
