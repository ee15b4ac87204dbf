//! What every screen shares: the wallet's reducer handle (the context the
//! root provides), the routes, the language and the dispatcher. Kept apart
//! from the root component so that screens depend on it, not on the root
//! that renders them.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::i18n::Lang;
use crate::state::{Action, Wallet};

/// The wallet as every component reads and changes it.
pub type WalletContext = UseReducerHandle<Wallet>;

/// The screens.
#[derive(Debug, Clone, PartialEq, Routable)]
pub enum Route {
    #[at("/")]
    Accounts,
    #[at("/add")]
    AddAccount,
    /// Another address for a connector (B7).
    #[at("/add/:connector")]
    AddAddress { connector: String },
    #[at("/settings")]
    Settings,
    #[at("/history")]
    History,
    #[at("/pay")]
    Pay,
    /// "Pay in store" (PROTOCOL section 13).
    #[at("/store")]
    Store,
    /// The tickets the wallet holds (C9).
    #[at("/tickets")]
    Tickets,
    #[not_found]
    #[at("/404")]
    NotFound,
}

/// The language to speak: the user's choice, else the browser's.
pub fn lang_of(wallet: &Wallet) -> Lang {
    let browser = web_sys::window()
        .and_then(|w| w.navigator().language())
        .unwrap_or_default();
    Lang::resolve(wallet.lang, &browser)
}

/// The reducer's dispatcher as a callback, for async code.
pub fn dispatcher(wallet: &WalletContext) -> Callback<Action> {
    let dispatcher = wallet.dispatcher();
    Callback::from(move |action| dispatcher.dispatch(action))
}
