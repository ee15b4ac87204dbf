//! The running app: the reducer shared by context, the boot sequence (the
//! saved settings, the key from `#key=` or this tab's sessionStorage), the
//! sign-in call, and the screen the state calls for.
//!
//! There are no routes: a till shows one screen at a time and the state
//! says which ([`Pos::screen`]), so a reload never lands mid-flow on a
//! screen whose transaction is gone.

use gloo::events::EventListener;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api;
use crate::components::header::Header;
use crate::context::{dispatcher, lang_of, PosContext};
use crate::pages::{
    new_sale::NewSalePage, outcome::OutcomePage, settings::SettingsPage, sign_in::SignInPage,
    synchronized::SynchronizedPage, waiting::WaitingPage,
};
use crate::state::{Action, Pos, Screen, Session};
use crate::storage;
use crate::updates::use_transaction_updates;

/// Starts the terminal in the page.
pub fn run() {
    yew::Renderer::<App>::new().render();
}

#[function_component(App)]
pub fn app() -> Html {
    html! {
        <PosProvider boot=true>
            <Shell />
        </PosProvider>
    }
}

#[derive(Debug, PartialEq, Properties)]
pub struct ProviderProps {
    /// The state to start from (tests start from a prepared one).
    #[prop_or_default]
    pub initial: Pos,
    /// Read the saved settings and key (the real page); tests do not.
    #[prop_or_default]
    pub boot: bool,
    #[prop_or_default]
    pub children: Html,
}

/// Holds the reducer, reads and saves what must be kept, signs in when
/// there is a key to try, and keeps `<html lang>` in step.
#[function_component(PosProvider)]
pub fn pos_provider(props: &ProviderProps) -> Html {
    let initial = props.initial.clone();
    let pos = use_reducer(move || initial);
    let dispatch = dispatcher(&pos);
    {
        let (boot, dispatch) = (props.boot, dispatch.clone());
        use_effect_with((), move |_| {
            if boot {
                let key = storage::take_key_from_fragment().or_else(storage::load_key);
                let settings = storage::load_settings();
                dispatch.emit(Action::Loaded { settings, key });
            }
        });
    }
    use_later_keys(props.boot, dispatch.clone());
    use_saving(&pos, props.boot);
    use_sign_in(&pos, dispatch);
    let lang = lang_of(&pos);
    use_effect_with(lang, |lang| {
        let root = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element());
        if let Some(root) = root {
            let _ = root.set_attribute("lang", lang.tag());
        }
    });
    html! {
        <ContextProvider<PosContext> context={pos}>
            { props.children.clone() }
        </ContextProvider<PosContext>>
    }
}

/// A `#key=…` link opened while the terminal is already open changes only
/// the hash: no new page, so no boot. It is taken here instead.
#[hook]
fn use_later_keys(boot: bool, dispatch: Callback<Action>) {
    use_effect_with(boot, move |boot| {
        let listener = boot.then(web_sys::window).flatten().map(|window| {
            EventListener::new(&window, "hashchange", move |_| {
                if let Some(key) = storage::take_key_from_fragment() {
                    dispatch.emit(Action::SignIn(key));
                }
            })
        });
        move || drop(listener)
    });
}

/// Saves the settings and the signed-in key whenever they change, never
/// before they were read (that would erase them).
#[hook]
fn use_saving(pos: &PosContext, boot: bool) {
    let loaded = pos.loaded && boot;
    use_effect_with((pos.settings.clone(), loaded), |(settings, loaded)| {
        if *loaded {
            storage::save_settings(settings);
        }
    });
    let key = pos.key_to_keep().cloned();
    let signing_in = matches!(pos.session, Session::SigningIn(_));
    use_effect_with((key, loaded, signing_in), |(key, loaded, signing_in)| {
        // While a key is being tried it is neither kept nor forgotten.
        if *loaded && !*signing_in {
            storage::keep_key(key.as_ref());
        }
    });
}

/// `GET /v1/terminal` with the key being tried.
#[hook]
fn use_sign_in(pos: &PosContext, dispatch: Callback<Action>) {
    let trying = match &pos.session {
        Session::SigningIn(key) => Some(key.clone()),
        _ => None,
    };
    let lang = lang_of(pos);
    use_effect_with(trying, move |trying| {
        if let Some(key) = trying.clone() {
            spawn_local(async move {
                match api::terminal(&key).await {
                    Ok(terminal) => dispatch.emit(Action::SignedIn(terminal)),
                    Err(error) => dispatch.emit(Action::SignInFailed(error.message(lang))),
                }
            });
        }
    });
}

/// The header and the screen of the moment.
#[function_component(Shell)]
pub fn shell() -> Html {
    let pos = use_context::<PosContext>();
    use_transaction_updates(pos.clone());
    let Some(pos) = pos else {
        return html! {};
    };
    let screen = pos.screen();
    let page = match screen {
        Screen::Loading => html! { <p class="loading busy" aria-live="polite"></p> },
        Screen::SignIn => html! { <SignInPage /> },
        Screen::NewSale => html! { <NewSalePage /> },
        Screen::Settings => html! { <SettingsPage /> },
        Screen::Creating | Screen::Waiting => html! { <WaitingPage /> },
        Screen::Synchronized => html! { <SynchronizedPage /> },
        Screen::Final => html! { <OutcomePage /> },
    };
    html! {
        <>
            <Header />
            <main id="main" class={classes!("screen", screen_class(screen))}>{ page }</main>
        </>
    }
}

/// A class per screen, for the stylesheet and for tests.
fn screen_class(screen: Screen) -> &'static str {
    match screen {
        Screen::Loading => "loading-screen",
        Screen::SignIn => "sign-in-screen",
        Screen::NewSale => "new-sale-screen",
        Screen::Settings => "settings-screen",
        Screen::Creating | Screen::Waiting => "waiting-screen",
        Screen::Synchronized => "synchronized-screen",
        Screen::Final => "final-screen",
    }
}
