//! The running app: the reducer shared by context, the hash routes, the
//! boot sequence (saved state, then the start message) and the brand
//! information timer (B5).
//!
//! Routes live in the hash (`#/`, `#/add`, `#/settings`, `#/history`,
//! `#/pay`, `#/store`, `#/tickets`) so the same build works at `/wallet/` on a server, from a
//! static folder and as an extension's popup. `#start…` is read before the
//! router starts ([`crate::start::browser::take_arrival`]).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo::events::EventListener;
use gloo::timers::callback::Interval;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::nav::Nav;
use crate::context::{dispatcher, lang_of, Route, WalletContext};
use crate::host::host;
use crate::i18n::Lang;
use crate::pages::{
    accounts::AccountsPage, add_account::AddAccountPage, history::HistoryPage, pay::PayPage, settings::SettingsPage,
    store::StorePage, tickets::TicketsPage,
};
use crate::start::browser::{listen_to_opener, take_arrival};
use crate::start::{self, Arrival, Channel};
use crate::state::{Action, Phase, Wallet};
use crate::{storage, sync};

/// How often the timer looks for stale brand information. Each address is
/// asked again once its own `refresh_after_s` has passed (B5), so this only
/// bounds how late a refresh can be.
const REFRESH_TICK_MS: u32 = 15_000;

/// Starts the wallet in the page: the start message first, then Yew.
pub fn run() {
    let arrival = take_arrival();
    yew::Renderer::<App>::with_props(AppProps { arrival }).render();
}

#[derive(Debug, Clone, PartialEq, Properties)]
pub struct AppProps {
    pub arrival: Arrival,
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    html! {
        <WalletProvider>
            <HashRouter>
                <Shell arrival={props.arrival.clone()} />
            </HashRouter>
        </WalletProvider>
    }
}

#[derive(Debug, PartialEq, Properties)]
pub struct ProviderProps {
    /// The state to start from (tests start from a prepared one).
    #[prop_or_default]
    pub initial: Wallet,
    #[prop_or_default]
    pub children: Html,
}

/// Holds the reducer, saves what must be kept whenever it changes, and
/// keeps `<html lang>` in step with the language.
#[function_component(WalletProvider)]
pub fn wallet_provider(props: &ProviderProps) -> Html {
    let initial = props.initial.clone();
    let wallet = use_reducer(move || initial);
    let saved = wallet.saved();
    use_effect_with((saved, wallet.saving()), |(saved, saving)| {
        // Never before the saved state was read: that would erase it.
        if *saving {
            storage::save(saved);
        }
    });
    let lang = lang_of(&wallet);
    use_effect_with(lang, |lang| {
        let root = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element());
        if let Some(root) = root {
            let _ = root.set_attribute("lang", lang.tag());
        }
    });
    html! {
        <ContextProvider<WalletContext> context={wallet}>
            { props.children.clone() }
        </ContextProvider<WalletContext>>
    }
}

#[derive(Debug, PartialEq, Properties)]
struct ShellProps {
    arrival: Arrival,
}

#[function_component(Shell)]
fn shell(props: &ShellProps) -> Html {
    // Yew needs the same hooks in the same order on every render: the
    // context is always there under WalletProvider, so the hooks after this
    // return run every time too.
    let navigator = use_navigator();
    let Some(wallet) = use_context::<WalletContext>() else {
        return html! {};
    };
    let dispatch = dispatcher(&wallet);
    {
        let (arrival, dispatch, navigator) = (props.arrival.clone(), dispatch.clone(), navigator.clone());
        use_effect_with((), move |_| spawn_local(boot(arrival, dispatch, navigator)));
    }
    use_later_arrivals(dispatch.clone(), navigator);
    use_refresh_timer(&wallet, dispatch);
    html! {
        <>
            <Nav />
            <PaymentBanner />
            <main id="main">
                <Switch<Route> render={switch} />
            </main>
        </>
    }
}

fn switch(route: Route) -> Html {
    match route {
        Route::Accounts | Route::NotFound => html! { <AccountsPage /> },
        Route::AddAccount => html! { <AddAccountPage /> },
        Route::AddAddress { connector } => html! { <AddAccountPage connector={Some(connector)} /> },
        Route::Settings => html! { <SettingsPage /> },
        Route::History => html! { <HistoryPage /> },
        Route::Pay => html! { <PayPage /> },
        Route::Store => html! { <StorePage /> },
        Route::Tickets => html! { <TicketsPage /> },
    }
}

/// Reads the saved state, then takes the start message from wherever it
/// comes (B13). Loading first means the selector sees the connectors.
async fn boot(arrival: Arrival, dispatch: Callback<Action>, navigator: Option<Navigator>) {
    match storage::load().await {
        Ok(saved) => dispatch.emit(Action::Loaded(saved)),
        Err(()) => {
            gloo::console::warn!("kessai wallet: the saved wallet could not be read; changes will not be saved");
            dispatch.emit(Action::LoadFailed);
        }
    }
    if arrival == Arrival::None {
        take_from_host(&dispatch, navigator).await;
    } else {
        receive(arrival, &dispatch);
    }
}

/// A start message that arrives in the URL or from the opener.
fn receive(arrival: Arrival, dispatch: &Callback<Action>) {
    match arrival {
        Arrival::Popup => {
            dispatch.emit(Action::AwaitStart(Channel::Popup));
            let dispatch = dispatch.clone();
            listen_to_opener(move |start| {
                dispatch.emit(Action::StartArrived {
                    channel: Channel::Popup,
                    start,
                })
            });
        }
        Arrival::Link(payload) => dispatch.emit(Action::StartArrived {
            channel: Channel::Link,
            start: start::decode_link(&payload),
        }),
        Arrival::None => {}
    }
}

/// Inside the extension, the payment the page asked for (if any).
async fn take_from_host(dispatch: &Callback<Action>, navigator: Option<Navigator>) {
    let Some(host) = host() else { return };
    let Ok(Some(json)) = host.take_start().await else {
        return;
    };
    dispatch.emit(Action::StartArrived {
        channel: Channel::Host,
        start: start::parse(&json),
    });
    if let Some(navigator) = navigator {
        navigator.push(&Route::Pay);
    }
}

/// A `#start=…` link followed while the wallet is already open changes
/// only the hash: no new page, so no boot. It is taken here instead.
#[hook]
fn use_later_arrivals(dispatch: Callback<Action>, navigator: Option<Navigator>) {
    use_effect_with((), move |_| {
        let listener = web_sys::window().map(|window| {
            EventListener::new(&window, "hashchange", move |_| {
                let arrival = take_arrival();
                if arrival == Arrival::None {
                    return;
                }
                receive(arrival, &dispatch);
                // take_arrival replaced the URL quietly; tell the router.
                if let Some(navigator) = &navigator {
                    navigator.replace(&Route::Pay);
                }
            })
        });
        move || drop(listener)
    });
}

/// B5: every tick, the addresses whose brand information is older than
/// their `refresh_after_s` are asked again, one refresh at a time.
#[hook]
fn use_refresh_timer(wallet: &WalletContext, dispatch: Callback<Action>) {
    // The timer outlives renders; it reads the newest state through this.
    let latest = use_mut_ref(|| wallet.clone());
    *latest.borrow_mut() = wallet.clone();
    let busy = use_memo((), |_| Cell::new(false));
    {
        // Once when the saved state arrives: what was saved may be old.
        let (latest, busy, dispatch) = (latest.clone(), busy.clone(), dispatch.clone());
        use_effect_with(wallet.loaded, move |loaded| {
            if *loaded {
                tick(&latest, &busy, &dispatch);
            }
        });
    }
    use_effect_with((), move |_| {
        let interval = Interval::new(REFRESH_TICK_MS, move || tick(&latest, &busy, &dispatch));
        move || drop(interval)
    });
}

fn tick(latest: &Rc<RefCell<WalletContext>>, busy: &Rc<Cell<bool>>, dispatch: &Callback<Action>) {
    if busy.get() {
        return;
    }
    let links = latest.borrow().stale_links(sync::now_s());
    if links.is_empty() {
        return;
    }
    busy.set(true);
    let (busy, dispatch) = (busy.clone(), dispatch.clone());
    spawn_local(async move {
        sync::refresh(links, &dispatch).await;
        busy.set(false);
    });
}

/// A way back to a payment waiting for the user, on every other screen.
#[function_component(PaymentBanner)]
fn payment_banner() -> Html {
    let wallet = use_context::<WalletContext>();
    let route = use_route::<Route>();
    let waiting = wallet
        .as_ref()
        .and_then(|w| w.payment.as_ref())
        .is_some_and(|p| matches!(p.phase, Phase::Choosing | Phase::AwaitingStart | Phase::Preparing));
    if !waiting || route == Some(Route::Pay) {
        return html! {};
    }
    let text = wallet.as_ref().map_or(Lang::En, |w| lang_of(w)).text();
    html! {
        <p class="banner">
            <Link<Route> to={Route::Pay}>{ text.payment_waiting }</Link<Route>>
        </p>
    }
}
