//! What every screen shares: the terminal's reducer handle (the context the
//! root provides), the language and the dispatcher. Apart from the root so
//! that screens depend on it, not on the component that renders them.

use kessai_wallet::i18n::Lang;
use yew::prelude::*;

use crate::state::{Action, Pos};

/// The terminal as every component reads and changes it.
pub type PosContext = UseReducerHandle<Pos>;

/// The language to speak: the clerk's choice, else the browser's (the web
/// wallet's rule).
pub fn lang_of(pos: &Pos) -> Lang {
    let browser = web_sys::window()
        .and_then(|w| w.navigator().language())
        .unwrap_or_default();
    Lang::resolve(pos.settings.lang, &browser)
}

/// The reducer's dispatcher as a callback, for async code.
pub fn dispatcher(pos: &PosContext) -> Callback<Action> {
    let dispatcher = pos.dispatcher();
    Callback::from(move |action| dispatcher.dispatch(action))
}

/// Unix seconds now, by the browser's clock.
pub fn now_s() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}
