//! "Pay with your phone" (PROTOCOL section 13, D10): the server gives a
//! transaction number for this settlement; the buyer's wallet app sends it
//! and pays. The widget shows the number and its QR code, counts down its
//! validity, and follows the settlement with long polls until the server
//! has a result, which then ends the widget exactly as a card payment does.
//!
//! The number stays valid at the server when the buyer goes back to the
//! card form, so the following goes on until it has expired: a phone that
//! pays late still brings the result (and a card payment meanwhile is
//! refused by the server, not paid twice).

use std::rc::Rc;

use js_sys::encode_uri_component;
use kessai_protocol::terminal::SettlementNumber;

use super::{log, now_s, on, sleep, step, Shared};
use crate::api;
use crate::options::Target;
use crate::phone;
use crate::state::{classify, Event, Failure, Phase, PhoneNote, Stage};

/// Seconds the settlement is still followed after the number expired: a
/// payment confirmed in its last moment is seen all the same.
const FOLLOW_GRACE_S: i64 = 5;
/// Milliseconds between two ticks of the countdown.
const TICK_MS: i32 = 1_000;
/// Milliseconds before following again after a failed poll, or after an
/// answer that changed nothing (a server that does not hold long polls is
/// then not asked in a busy loop).
const PAUSE_MS: i32 = 1_000;

/// What the widget keeps of "Pay with your phone".
#[derive(Default)]
pub(super) struct PhoneState {
    /// The last number the server gave.
    number: Option<SettlementNumber>,
    /// Counts the numbers shown; a countdown stops when it is not its own.
    shown: u32,
    /// Whether a follower (long polls) is running.
    following: bool,
    /// The server said `order_not_available`: the button stays hidden.
    unavailable: bool,
}

/// Wires the button and the panel's buttons.
pub(super) fn wire(app: &Shared, form: &crate::view::FormEls) -> Result<(), wasm_bindgen::JsValue> {
    on(app, &form.phone_button, "click", |app, _| clicked(app))?;
    on(app, &form.phone.back, "click", |app, _| step(app, Event::FromPhone))?;
    on(app, &form.phone.renew, "click", |app, _| step(app, Event::NewNumber))?;
    Ok(())
}

/// Shows the button once it can work: a settlement the shop created with
/// its order. The start message is the server's word for that (it refuses
/// a digest-only settlement with the same `order_not_available`), so no
/// request is spent on it.
pub(super) fn render_button(app: &Shared) {
    let mut state = app.borrow_mut();
    if let Phase::Form {
        notice: Some(Failure::Phone(PhoneNote::Unavailable)),
    } = state.phase
    {
        state.phone.unavailable = true;
    }
    let Some(form) = &state.form else { return };
    let offered = state.start.is_some() && !state.phone.unavailable;
    let _ = form.phone_button.toggle_attribute_with_force("hidden", !offered);
}

fn clicked(app: &Shared) {
    if !app.borrow().phase.accepts_input() {
        return;
    }
    // A result reached from here is this page view's payment: a success
    // goes on to the shop's return URL, as after a card payment.
    app.borrow_mut().paid_here = true;
    step(app, Event::ToPhone);
}

/// Phase AskingNumber: the panel with a progress line, and the request.
pub(super) fn ask(app: &Shared) {
    let (server, id, client_secret) = {
        let state = app.borrow();
        let Target::Settlement { id, client_secret } = &state.options.target else {
            return;
        };
        if let Some(form) = &state.form {
            form.show_phone();
            form.phone.asking(state.lang);
        }
        (state.options.server.clone(), id.clone(), client_secret.clone())
    };
    let app = Rc::clone(app);
    wasm_bindgen_futures::spawn_local(async move {
        match api::request_number(&server, &id, &client_secret).await {
            Ok(number) => {
                app.borrow_mut().phone.number = Some(number);
                step(&app, Event::NumberShown);
            }
            Err(failure) => step(&app, Event::Failed(failure)),
        }
    });
}

/// Phase WithPhone: the number and its code; the countdown and the
/// following start.
pub(super) fn show(app: &Shared) {
    let shown = {
        let mut state = app.borrow_mut();
        state.phone.shown += 1;
        let (Some(form), Some(number)) = (&state.form, &state.phone.number) else {
            return;
        };
        let qr_src = format!(
            "{}/v1/qr.svg?payload={}",
            state.options.server,
            String::from(encode_uri_component(&number.qr))
        );
        let remaining = phone::remaining_s(number.expires_at, now_s());
        log(form.phone.number(state.lang, &number.number, &qr_src, remaining));
        form.show_phone();
        state.phone.shown
    };
    count_down(app, shown);
    follow(app);
}

/// Phase NumberExpired.
pub(super) fn expired(app: &Shared) {
    let state = app.borrow();
    if let Some(form) = &state.form {
        form.phone.expired(state.lang);
    }
}

/// Ticks the countdown of the `shown`th number; at zero the number expires.
fn count_down(app: &Shared, shown: u32) {
    let app = Rc::clone(app);
    wasm_bindgen_futures::spawn_local(async move {
        loop {
            let remaining = {
                let state = app.borrow();
                let Some(number) = &state.phone.number else { return };
                if state.phase != Phase::WithPhone || state.phone.shown != shown {
                    return;
                }
                let remaining = phone::remaining_s(number.expires_at, now_s());
                if let Some(form) = &state.form {
                    form.phone.tick(state.lang, remaining);
                }
                remaining
            };
            if remaining == 0 {
                return step(&app, Event::NumberExpired);
            }
            if sleep(TICK_MS).await.is_err() {
                return;
            }
        }
    });
}

/// Whether the follower goes on: while no card payment is in flight and
/// no result is shown, until the last number expired (and a grace).
fn keeps_following(app: &Shared) -> bool {
    let state = app.borrow();
    let phase_ok = matches!(
        state.phase,
        Phase::Form { .. } | Phase::AskingNumber | Phase::WithPhone | Phase::NumberExpired
    );
    let alive = state
        .phone
        .number
        .as_ref()
        .is_some_and(|number| now_s() <= number.expires_at.saturating_add(FOLLOW_GRACE_S));
    phase_ok && alive
}

/// Long-polls the settlement (one follower at a time) and hands every
/// answer to the state machine as [`Event::Followed`].
fn follow(app: &Shared) {
    let (server, follow) = {
        let mut state = app.borrow_mut();
        if state.phone.following {
            return;
        }
        let Some(follow) = state.follow.clone() else { return };
        state.phone.following = true;
        (state.options.server.clone(), follow)
    };
    let app = Rc::clone(app);
    wasm_bindgen_futures::spawn_local(async move {
        while keeps_following(&app) {
            // A failed poll is retried by the next; the number's expiry
            // bounds them.
            if let Ok(result) = api::status(&server, &follow, api::WAIT_S, Stage::Poll).await {
                step(&app, Event::Followed(classify(&result)));
            }
            if sleep(PAUSE_MS).await.is_err() {
                break;
            }
        }
        app.borrow_mut().phone.following = false;
    });
}
