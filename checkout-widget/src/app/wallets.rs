//! Paying with a wallet (PROTOCOL section 12), beside the card form.
//!
//! Two ways: wallets announced in the page with EIP-6963-shaped events
//! (`kessai:requestWallet`, `kessai:announceWallet`, `kessai:startPayment`,
//! `kessai:paymentResult`), and the web wallet opened in a window at
//! `wallet-url` and spoken to with `postMessage`. Either way the wallet is
//! handed the start message the settling server gave for this settlement,
//! and its word that it is done is untrusted (any page script can send
//! those events): it only makes the widget ask the server, whose answer ends
//! the widget exactly as after a card payment.

use std::rc::Rc;

use js_sys::{Object, JSON};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{console, CustomEvent, CustomEventInit, Element, MessageEvent, Url, Window};

use super::{log, on, sleep, step, Shared};
use crate::api;
use crate::i18n;
use crate::options::Target;
use crate::state::{Event, Phase, WalletNote};
use crate::view;
use crate::wallet::{self, Offer, Refusal};
use crate::wire::{self, Json, WalletDone, WindowMessage};

/// How often the web wallet's window is checked for having been closed.
const CLOSED_CHECK_MS: i32 = 500;
/// Most checks of one window: an hour's worth.
const CLOSED_CHECKS_MAX: u32 = 7_200;
/// The web wallet's window: its name (a second click reuses it) and size.
const POPUP_NAME: &str = "kessai-wallet";
const POPUP_FEATURES: &str = "popup,width=440,height=700";

/// The web wallet's window while it has the payment.
pub(super) struct Popup {
    window: Window,
    /// The wallet's origin: messages are taken only from it, and the start
    /// message (with the client secret) is posted only to it.
    origin: String,
}

/// Listens for wallets and results, and asks the page's wallets to
/// announce themselves. Wallets that load later announce themselves
/// unasked; the same listener takes them.
pub(super) fn discover(app: &Shared) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    on(app, &window, "kessai:announceWallet", announced)?;
    on(app, &window, "kessai:paymentResult", payment_result)?;
    on(app, &window, "message", message)?;
    window.dispatch_event(&web_sys::Event::new("kessai:requestWallet")?)?;
    Ok(())
}

/// Fetches the start message once the card form is shown; without it no
/// wallet is offered (the card form works all the same).
pub(super) fn fetch_start(app: &Shared) {
    let (server, id, client_secret) = {
        let state = app.borrow();
        let Target::Settlement { id, client_secret } = &state.options.target else {
            return;
        };
        if state.start.is_some() {
            return;
        }
        (state.options.server.clone(), id.clone(), client_secret.clone())
    };
    let app = Rc::clone(app);
    wasm_bindgen_futures::spawn_local(async move {
        let Some(text) = api::start_message(&server, &id, &client_secret).await else {
            return;
        };
        let for_us = api::parse_json(&text)
            .ok()
            .and_then(|json| wire::start_settlement_id(&json))
            .is_some_and(|settlement_id| settlement_id == id);
        if !for_us {
            warn("the server's start message is not one for this settlement; wallets are not offered.");
            return;
        }
        app.borrow_mut().start = Some(text);
        render(&app);
        super::phone::render_button(&app);
    });
}

/// Shows the wallet buttons, once there are a start message and a form.
pub(super) fn render(app: &Shared) {
    let state = app.borrow();
    let (Some(form), Some(_)) = (&state.form, &state.start) else {
        return;
    };
    let web_wallet = state.options.wallet_url.is_some();
    log(view::wallet_buttons(
        &state.doc,
        &form.wallets,
        state.lang,
        state.wallets.list(),
        web_wallet,
    ));
    // While a wallet has the payment the section stays out of sight.
    let hidden = !form.wallets.has_child_nodes() || !state.phase.accepts_input();
    let _ = form.wallets.toggle_attribute_with_force("hidden", hidden);
}

/// The waiting panel in place of the form.
pub(super) fn show_waiting(app: &Shared, text: fn(&i18n::Text) -> &'static str, back: bool) {
    let state = app.borrow();
    if let Some(form) = &state.form {
        form.show_panel(Some(text(state.lang.text())), back);
        if back {
            // The clicked button is hidden now; keep the focus in the widget.
            let _ = form.back.focus();
        }
    }
}

/// "Back to card payment": the wallet's window, if any, is closed.
pub(super) fn back(app: &Shared) {
    let popup = app.borrow_mut().popup.take();
    if let Some(popup) = popup {
        let _ = popup.window.close();
    }
    step(app, Event::FromWallet(None));
}

/// A click in the wallet section: the button's `data-wallet` names the
/// wallet (empty for the web wallet).
pub(super) fn clicked(app: &Shared, event: web_sys::Event) {
    let wallet = event
        .target()
        .and_then(|target| target.dyn_into::<Element>().ok())
        .and_then(|element| element.closest("button[data-wallet]").ok().flatten())
        .and_then(|button| button.get_attribute("data-wallet"));
    match wallet.as_deref() {
        None => {}
        Some("") => open_web_wallet(app),
        Some(uuid) => log(start_payment(app, uuid)),
    }
}

fn announced(app: &Shared, event: web_sys::Event) {
    let Some(wallet) = detail(&event).as_ref().and_then(wire::announcement) else {
        return;
    };
    let offer = app.borrow_mut().wallets.offer(wallet);
    match offer {
        Offer::Added | Offer::Replaced => render(app),
        Offer::Known => {}
        Offer::Refused(Refusal::Icon) => {
            warn("a wallet was not shown: its icon is not a PNG, JPEG, WebP or GIF data: URL.")
        }
        Offer::Refused(Refusal::Fields) => warn("a wallet was not shown: its name, uuid or rdns is blank or too long."),
        Offer::Refused(Refusal::Full) => warn("a wallet was not shown: too many wallets announced."),
    }
}

/// Dispatches `kessai:startPayment` to the chosen wallet with a new
/// request id.
fn start_payment(app: &Shared, uuid: &str) -> Result<(), JsValue> {
    let detail = {
        let mut state = app.borrow_mut();
        if !state.phase.accepts_input() || state.wallets.find(uuid).is_none() {
            return Ok(());
        }
        let Some(start) = &state.start else {
            return Ok(());
        };
        let request_id = wallet::request_id(random_bytes()?);
        let detail = wire::start_payment(uuid, &request_id, start);
        wallet::remember(&mut state.requests, request_id);
        detail
    };
    // The phase changes first: a wallet may answer within the dispatch.
    step(app, Event::ToWallet);
    let init = CustomEventInit::new();
    init.set_detail(&JSON::parse(&detail)?);
    let event = CustomEvent::new_with_event_init_dict("kessai:startPayment", &init)?;
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    window.dispatch_event(&event).map(drop)
}

/// A `kessai:paymentResult`: taken only for a request of this widget.
fn payment_result(app: &Shared, event: web_sys::Event) {
    let Some(done) = detail(&event).as_ref().and_then(wire::payment_result) else {
        return;
    };
    let ours = {
        let state = app.borrow();
        done.request_id.as_ref().is_some_and(|id| state.requests.contains(id))
    };
    if ours {
        accept(app, &done);
    }
}

/// A wallet says it is done: for this settlement, ask the server.
fn accept(app: &Shared, done: &WalletDone) {
    {
        let mut state = app.borrow_mut();
        let Target::Settlement { id, .. } = &state.options.target else {
            return;
        };
        if *id != done.settlement_id {
            return;
        }
        state.paid_here = true;
        if let Some(popup) = state.popup.take() {
            let _ = popup.window.close();
        }
    }
    step(app, Event::WalletDone);
}

/// Opens the web wallet at `wallet-url#start`; a blocked window is a note
/// over the card form.
fn open_web_wallet(app: &Shared) {
    let wallet_url = {
        let state = app.borrow();
        if !state.phase.accepts_input() || state.start.is_none() {
            return;
        }
        state.options.wallet_url.clone()
    };
    let Some(wallet_url) = wallet_url else {
        return;
    };
    match open_window(&wallet_url) {
        Ok(Some(popup)) => {
            app.borrow_mut().popup = Some(popup);
            step(app, Event::ToWallet);
            watch_closed(app);
        }
        Ok(None) | Err(_) => {
            step(app, Event::ToWallet);
            step(app, Event::FromWallet(Some(WalletNote::Blocked)));
        }
    }
}

fn open_window(wallet_url: &str) -> Result<Option<Popup>, JsValue> {
    // The browser's URL parser gives the origin exactly as `event.origin`
    // spells it (lowercase host, default port left out).
    let url = Url::new(wallet_url)?;
    url.set_hash("start");
    let origin = url.origin();
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let opened = window.open_with_url_and_target_and_features(&url.href(), POPUP_NAME, POPUP_FEATURES)?;
    Ok(opened.map(|window| Popup { window, origin }))
}

/// A message to this page: only from the window this widget opened, at
/// the wallet's origin.
fn message(app: &Shared, event: web_sys::Event) {
    let Ok(event) = event.dyn_into::<MessageEvent>() else {
        return;
    };
    let (window, origin) = {
        let state = app.borrow();
        let Some(popup) = &state.popup else {
            return;
        };
        (popup.window.clone(), popup.origin.clone())
    };
    let from_popup = event.source().is_some_and(|source| Object::is(&source, &window));
    if !from_popup || event.origin() != origin {
        return;
    }
    match api::json_of(&event.data()).as_ref().and_then(wire::window_message) {
        Some(WindowMessage::Ready) => log(send_start(app, &window, &origin)),
        Some(WindowMessage::Done(done)) => accept(app, &done),
        None => {}
    }
}

/// Answers `kessai:ready` with the start message, to the wallet's origin
/// only (never `*`: it carries the client secret).
fn send_start(app: &Shared, window: &Window, origin: &str) -> Result<(), JsValue> {
    let reply = {
        let state = app.borrow();
        if state.phase != Phase::WithWallet {
            return Ok(());
        }
        state.start.as_deref().map(wire::start_reply)
    };
    match reply {
        Some(reply) => window.post_message(&JSON::parse(&reply)?, origin),
        None => Ok(()),
    }
}

/// Goes back to the card form when the web wallet's window closes without
/// a result; stops once the window is no longer the one waited for.
fn watch_closed(app: &Shared) {
    let app = Rc::clone(app);
    wasm_bindgen_futures::spawn_local(async move {
        for _ in 0..CLOSED_CHECKS_MAX {
            if sleep(CLOSED_CHECK_MS).await.is_err() {
                return;
            }
            let closed = {
                let state = app.borrow();
                let Some(popup) = &state.popup else { return };
                if state.phase != Phase::WithWallet {
                    return;
                }
                popup.window.closed().unwrap_or(true)
            };
            if closed {
                app.borrow_mut().popup = None;
                return step(&app, Event::FromWallet(Some(WalletNote::Closed)));
            }
        }
    });
}

fn random_bytes() -> Result<[u8; 16], JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let mut bytes = [0u8; 16];
    window.crypto()?.get_random_values_with_u8_array(&mut bytes)?;
    Ok(bytes)
}

/// A custom event's detail as a [`Json`].
fn detail(event: &web_sys::Event) -> Option<Json> {
    api::json_of(&event.dyn_ref::<CustomEvent>()?.detail())
}

fn warn(message: &str) {
    console::warn_1(&JsValue::from_str(&format!("Kessai checkout: {message}")));
}
