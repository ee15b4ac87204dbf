//! The running widget: one [`App`] per mounted element. It holds the
//! [`Phase`] of the pure state machine, performs what each phase calls for
//! (requests, rendering, focus) and reports results to the page.
//!
//! Card data is read from the inputs at submit time into one request body,
//! kept only while its outcome is unknown (so that a retry repeats the very
//! same request), and dropped at the answer.
//!
//! The wallets beside the card form are in [`wallets`], "Pay with your
//! phone" in [`phone`].

/// Paying with the buyer's phone by transaction number (PROTOCOL section 13).
mod phone;
/// Paying with a wallet (PROTOCOL section 12).
mod wallets;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect, JSON};
use kessai_protocol::api::ConfirmResult;
use kessai_protocol::card::Network;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    console, CustomEvent, CustomEventInit, Document, Element, HtmlElement, HtmlFormElement, HtmlInputElement,
    ShadowRootInit, ShadowRootMode,
};

use crate::api::{self, Follow};
use crate::form::{self, Field};
use crate::i18n::{self, Lang};
use crate::options::{self, Opt, OptionError, Options, RawOptions, Target};
use crate::state::{classify, Event, Failure, Outcome, Phase, Stage, Step};
use crate::view::{self, FormEls};
use crate::wallet::Wallets;
use crate::wire;

/// Most status polls while following a settlement; at 25 s each this
/// outlasts a payer-first request's 15 minutes.
const POLLS_MAX: u32 = 60;

#[derive(Default)]
struct Callbacks {
    ready: Option<Function>,
    completed: Option<Function>,
    failed: Option<Function>,
    error: Option<Function>,
}

struct App {
    host: HtmlElement,
    doc: Document,
    container: Element,
    lang: Lang,
    options: Options,
    callbacks: Callbacks,
    phase: Phase,
    form: Option<FormEls>,
    /// The confirmation body (with card data) while its outcome is unknown.
    pending_body: Option<String>,
    /// The settlement being followed, with its secret.
    follow: Option<Follow>,
    polls: u32,
    /// Whether the buyer paid in this page view (then a success navigates
    /// to `return_url`; a result seen on a reload does not).
    paid_here: bool,
    /// The start message for wallets, as the server's JSON text, once
    /// fetched; wallets are offered only with it.
    start: Option<String>,
    /// The wallets announced in the page.
    wallets: Wallets,
    /// The request ids of this page view's `kessai:startPayment` events.
    requests: Vec<String>,
    /// The web wallet's window while it has the payment.
    popup: Option<wallets::Popup>,
    /// "Pay with your phone": the number, its countdown and following.
    phone: phone::PhoneState,
}

type Shared = Rc<RefCell<App>>;

/// Mounts the widget into `host` (its shadow root) with the page's options:
/// an object with the properties of PROTOCOL section 10 (`server`,
/// `settlementId`, `clientSecret`, `merchantId`, `order` as JSON text or
/// object, `returnUrl`, `lang`, `walletUrl` (section 12), and the callbacks `onReady`,
/// `onPaymentCompleted`, `onPaymentFailed`, `onError`). Unusable options are
/// shown in the widget and reported with `console.error`, never thrown.
#[wasm_bindgen]
pub fn mount(host: HtmlElement, options: JsValue) -> Result<(), JsValue> {
    let doc = host
        .owner_document()
        .ok_or_else(|| JsValue::from_str("Kessai checkout: the element has no document"))?;
    let callbacks = read_callbacks(&options);
    let raw = read_options(&options);
    let lang_option = raw
        .as_ref()
        .ok()
        .and_then(|raw| raw.lang.as_deref())
        .and_then(Lang::from_tag);
    let lang = Lang::resolve(
        lang_option,
        page_lang(&doc).as_deref(),
        browser_langs().iter().map(String::as_str),
    );
    let root = match host.shadow_root() {
        Some(root) => root,
        None => host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))?,
    };
    let container = view::shell(&doc, &root, lang)?;
    let parsed = raw.and_then(|raw| options::parse(&raw, api::parse_json));
    let options = match parsed {
        Ok(options) => options,
        Err(error) => return show_option_error(&doc, &container, lang, &callbacks, &error),
    };
    let (phase, follow) = match &options.target {
        Target::Settlement { id, client_secret } => {
            (Phase::Loading, Some(Follow::with_client_secret(id, client_secret)))
        }
        Target::PayerFirst { .. } => (Phase::Form { notice: None }, None),
    };
    let app = Rc::new(RefCell::new(App {
        host,
        doc,
        container,
        lang,
        options,
        callbacks,
        phase,
        form: None,
        pending_body: None,
        follow,
        polls: 0,
        paid_here: false,
        start: None,
        wallets: Wallets::default(),
        requests: Vec::new(),
        popup: None,
        phone: phone::PhoneState::default(),
    }));
    // Payer-first has no client secret, hence no start message: wallets
    // need the settlement the shop created.
    if matches!(app.borrow().options.target, Target::Settlement { .. }) {
        wallets::discover(&app)?;
    }
    enter(&app, &Phase::Loading);
    Ok(())
}

fn show_option_error(
    doc: &Document,
    container: &Element,
    lang: Lang,
    callbacks: &Callbacks,
    error: &OptionError,
) -> Result<(), JsValue> {
    console::error_1(&JsValue::from_str(&error.message));
    view::failure(
        doc,
        container,
        lang,
        lang.text().config_error,
        Some(&error.message),
        false,
    )?;
    let detail = object(&[
        ("code", JsValue::from_str("invalid_option")),
        ("option", JsValue::from_str(error.option.attribute())),
        ("message", JsValue::from_str(&error.message)),
    ]);
    call(callbacks.error.as_ref(), &detail);
    Ok(())
}

/// The options object's string properties; `order` may be an object.
fn read_options(options: &JsValue) -> Result<RawOptions, OptionError> {
    let mut raw = RawOptions::default();
    if !options.is_object() {
        return Ok(raw);
    }
    for option in Opt::ALL {
        let value = Reflect::get(options, &JsValue::from_str(option.property())).unwrap_or(JsValue::UNDEFINED);
        let text = if value.is_undefined() || value.is_null() {
            None
        } else if let Some(text) = value.as_string() {
            Some(text)
        } else if option == Opt::Order && value.is_object() {
            JSON::stringify(&value).ok().and_then(|json| json.as_string())
        } else {
            return Err(OptionError::not_text(option));
        };
        raw.set(option, text);
    }
    Ok(raw)
}

fn read_callbacks(options: &JsValue) -> Callbacks {
    if !options.is_object() {
        return Callbacks::default();
    }
    let get = |name: &str| {
        Reflect::get(options, &JsValue::from_str(name))
            .ok()
            .and_then(|value| value.dyn_into::<Function>().ok())
    };
    Callbacks {
        ready: get("onReady"),
        completed: get("onPaymentCompleted"),
        failed: get("onPaymentFailed"),
        error: get("onError"),
    }
}

fn page_lang(doc: &Document) -> Option<String> {
    doc.document_element().and_then(|root| root.get_attribute("lang"))
}

fn browser_langs() -> Vec<String> {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        return Vec::new();
    };
    let mut langs: Vec<String> = navigator.languages().iter().filter_map(|l| l.as_string()).collect();
    langs.extend(navigator.language());
    langs
}

/// A plain object with the given properties.
fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in entries {
        // Setting a property of a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object.into()
}

/// Calls a page callback; an exception in it is logged, not propagated.
fn call(callback: Option<&Function>, argument: &JsValue) {
    if let Some(callback) = callback {
        if let Err(error) = callback.call1(&JsValue::NULL, argument) {
            console::error_2(&JsValue::from_str("Kessai checkout: a callback threw"), &error);
        }
    }
}

/// Logs a DOM failure (which only a broken page causes).
fn log(result: Result<(), JsValue>) {
    if let Err(error) = result {
        console::error_2(&JsValue::from_str("Kessai checkout:"), &error);
    }
}

/// Applies an event; when the phase changes, performs the new phase's work.
fn step(app: &Shared, event: Event) {
    let before = {
        let mut state = app.borrow_mut();
        let before = state.phase.clone();
        state.phase = before.clone().on(event);
        if state.phase == before {
            return;
        }
        before
    };
    enter(app, &before);
}

/// Does what the current phase calls for, coming from `before`.
fn enter(app: &Shared, before: &Phase) {
    let phase = app.borrow().phase.clone();
    match phase {
        Phase::Loading => {
            log({
                let state = app.borrow();
                view::loading(&state.doc, &state.container, state.lang)
            });
            spawn_status(app, 0, Stage::Load);
        }
        Phase::Form { notice } => {
            log(show_form(app, notice.as_ref()));
            let panel_was_shown = matches!(
                before,
                Phase::WithWallet | Phase::Checking | Phase::AskingNumber | Phase::WithPhone | Phase::NumberExpired
            );
            if panel_was_shown {
                // The waiting panel that had the focus is hidden now.
                if let Some(form) = &app.borrow().form {
                    form.focus(Field::Number);
                }
            }
        }
        Phase::Paying => {
            show_progress(app, |text| text.paying);
            spawn_confirm(app);
        }
        Phase::Waiting => {
            show_progress(app, |text| text.waiting);
            spawn_status(app, api::WAIT_S, Stage::Poll);
        }
        Phase::Result(outcome) => log(finish(app, &outcome)),
        Phase::Error(failure) => log(show_failure(app, &failure, before)),
        Phase::WithWallet => wallets::show_waiting(app, |text| text.with_wallet, true),
        Phase::Checking => {
            wallets::show_waiting(app, |text| text.checking, false);
            spawn_status(app, 0, Stage::Load);
        }
        Phase::AskingNumber => phone::ask(app),
        Phase::WithPhone => phone::show(app),
        Phase::NumberExpired => phone::expired(app),
    }
}

/// Builds the form (first time) or unlocks it with the reason the last
/// attempt was refused.
fn show_form(app: &Shared, notice: Option<&Failure>) -> Result<(), JsValue> {
    let mut state = app.borrow_mut();
    state.pending_body = None;
    if let Some(form) = &state.form {
        form.show_panel(None, false);
        form.set_locked(false);
        form.set_messages("", notice.map(|n| i18n::failure(state.lang, n)).unwrap_or_default());
        drop(state);
        phone::render_button(app);
        return Ok(());
    }
    let form = view::checkout(&state.doc, &state.container, state.lang, &state.options.order)?;
    wire_form(app, &form)?;
    if let Some(notice) = notice {
        form.set_messages("", i18n::failure(state.lang, notice));
    }
    state.form = Some(form);
    let ready = state.callbacks.ready.clone();
    drop(state);
    phone::render_button(app);
    wallets::render(app);
    wallets::fetch_start(app);
    call(ready.as_ref(), &JsValue::UNDEFINED);
    Ok(())
}

fn show_progress(app: &Shared, text: fn(&i18n::Text) -> &'static str) {
    let state = app.borrow();
    if let Some(form) = &state.form {
        form.show_panel(None, false);
        form.set_locked(true);
        form.pay.set_text_content(Some(&pay_label(&state)));
        form.set_messages(text(state.lang.text()), "");
    } else {
        log(view::loading(&state.doc, &state.container, state.lang));
    }
}

fn pay_label(state: &App) -> String {
    let order = &state.options.order;
    i18n::pay_label(
        state.lang,
        &kessai_protocol::money::format_amount(order.total, &order.currency),
    )
}

fn show_failure(app: &Shared, failure: &Failure, before: &Phase) -> Result<(), JsValue> {
    let mut state = app.borrow_mut();
    let sentence = i18n::failure(state.lang, failure);
    let retry = matches!(failure, Failure::Unknown { .. });
    let in_form = retry && matches!(before, Phase::Paying | Phase::Waiting) && state.form.is_some();
    if let (true, Some(form)) = (in_form, &state.form) {
        // The inputs stay locked: a retry repeats the same request.
        form.set_messages("", sentence);
        form.pay.set_text_content(Some(state.lang.text().try_again));
        form.pay.set_disabled(false);
    } else {
        if let Some(form) = state.form.take() {
            form.clear();
        }
        state.pending_body = if retry { state.pending_body.take() } else { None };
        if let Some(button) = view::failure(&state.doc, &state.container, state.lang, sentence, None, retry)? {
            on(app, &button, "click", |app, _| step(app, Event::Retry))?;
            let _ = button.focus();
        }
    }
    let code = match failure {
        Failure::Rejected { code } | Failure::Fatal { code } => code.as_str(),
        Failure::Unknown { http_status: 0, .. } => "network_error",
        _ => "server_unavailable",
    };
    let detail = object(&[
        ("code", JsValue::from_str(code)),
        ("message", JsValue::from_str(sentence)),
    ]);
    let callback = state.callbacks.error.clone();
    drop(state);
    call(callback.as_ref(), &detail);
    Ok(())
}

/// Adds an event listener that lives as long as the page.
fn on(
    app: &Shared,
    target: &web_sys::EventTarget,
    kind: &str,
    handler: fn(&Shared, web_sys::Event),
) -> Result<(), JsValue> {
    let app = Rc::clone(app);
    let closure = Closure::<dyn FnMut(web_sys::Event)>::new(move |event| handler(&app, event));
    target.add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref())?;
    closure.forget();
    Ok(())
}

fn wire_form(app: &Shared, form: &FormEls) -> Result<(), JsValue> {
    on(app, &form.form, "submit", |app, event| {
        event.prevent_default();
        submit(app);
    })?;
    on(app, &form.number, "input", |app, _| number_feedback(app, false))?;
    on(app, &form.number, "blur", |app, _| number_feedback(app, true))?;
    on(app, &form.expiry, "input", |app, _| clear_problem(app, Field::Expiry))?;
    on(app, &form.expiry, "blur", |app, _| check_on_blur(app, Field::Expiry))?;
    on(app, &form.cvc, "input", |app, _| clear_problem(app, Field::Cvc))?;
    on(app, &form.cvc, "blur", |app, _| check_on_blur(app, Field::Cvc))?;
    on(app, &form.back, "click", |app, _| wallets::back(app))?;
    on(app, &form.wallets, "click", wallets::clicked)?;
    phone::wire(app, form)?;
    Ok(())
}

/// The brand from the first digits, and the Luhn check once the number is
/// complete (or the field is left).
fn number_feedback(app: &Shared, finished: bool) {
    let state = app.borrow();
    let Some(form) = &state.form else { return };
    let (network, problem) = form::number_feedback(&form.number.value(), finished);
    let brand = if network == Network::Unknown {
        ""
    } else {
        network.label()
    };
    form.brand.set_text_content(Some(brand));
    log(form.show_problem(Field::Number, problem.map(|p| i18n::problem(state.lang, p))));
}

fn clear_problem(app: &Shared, field: Field) {
    if let Some(form) = &app.borrow().form {
        log(form.show_problem(field, None));
    }
}

/// Flags a filled-in expiry or security code that cannot be right.
fn check_on_blur(app: &Shared, field: Field) {
    let state = app.borrow();
    let Some(form) = &state.form else { return };
    let (expiry, cvc) = (form.expiry.value(), form.cvc.value());
    let value = if field == Field::Expiry { &expiry } else { &cvc };
    if value.trim().is_empty() {
        return;
    }
    let problem = if field == Field::Expiry {
        form::expiry_problem(value, now_s())
    } else {
        form::cvc_problem(value)
    };
    let problem = problem.map(|p| i18n::problem(state.lang, p));
    log(form.show_problem(field, problem));
}

/// Resolves after `ms` milliseconds (a `setTimeout` promise): the pauses of
/// the followers that poll for a wallet's or a phone's outcome.
async fn sleep(ms: i32) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let tick = Promise::new(&mut |resolve, _| {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    JsFuture::from(tick).await.map(drop)
}

fn now_s() -> i64 {
    // Milliseconds since 1970 fit an f64 exactly; whole seconds suffice.
    (js_sys::Date::now() / 1000.0) as i64
}

/// The pay button: check the card, build the request once, and pay; after
/// an unknown outcome the same button repeats that very request.
fn submit(app: &Shared) {
    let phase = app.borrow().phase.clone();
    match phase {
        Phase::Form { .. } => {}
        Phase::Error(Failure::Unknown { .. }) => return step(app, Event::Retry),
        _ => return,
    }
    let body = {
        let mut state = app.borrow_mut();
        let Some(form) = &state.form else { return };
        let card = form::card_details(&form.number.value(), &form.expiry.value(), &form.cvc.value(), now_s());
        let card = match card {
            Ok(card) => card,
            Err(problems) => {
                for field in [Field::Number, Field::Expiry, Field::Cvc] {
                    let problem = problems.iter().find(|(f, _)| *f == field);
                    log(form.show_problem(field, problem.map(|(_, p)| i18n::problem(state.lang, *p))));
                }
                if let Some((field, _)) = problems.first() {
                    form.focus(*field);
                }
                return;
            }
        };
        let body = wire::confirm_body(&state.options.target, &state.options.order, &card);
        state.paid_here = true;
        body
    };
    app.borrow_mut().pending_body = Some(body);
    step(app, Event::Submit);
}

fn spawn_confirm(app: &Shared) {
    let (server, target, body) = {
        let state = app.borrow();
        (
            state.options.server.clone(),
            state.options.target.clone(),
            state.pending_body.clone(),
        )
    };
    let Some(body) = body else {
        return step(
            app,
            Event::Failed(Failure::Unknown {
                stage: Stage::Confirm,
                http_status: 0,
            }),
        );
    };
    let app = Rc::clone(app);
    wasm_bindgen_futures::spawn_local(async move {
        let answer = api::confirm(&server, &target, &body).await;
        drop(body);
        match answer {
            Ok(result) => answered(&app, &result),
            // The settlement expired or was canceled meanwhile: its final
            // state (with the result token) is one status request away, and
            // the phase (Paying) takes that answer.
            Err(Failure::Closed) => spawn_status(&app, 0, Stage::Poll),
            Err(failure) => step(&app, Event::Failed(failure)),
        }
    });
}

fn spawn_status(app: &Shared, wait_s: u32, stage: Stage) {
    let (server, follow) = {
        let mut state = app.borrow_mut();
        state.polls += 1;
        if state.polls > POLLS_MAX {
            drop(state);
            return step(app, Event::Failed(Failure::Unknown { stage, http_status: 0 }));
        }
        (state.options.server.clone(), state.follow.clone())
    };
    let Some(follow) = follow else {
        return step(app, Event::Failed(Failure::Fatal { code: String::new() }));
    };
    let app = Rc::clone(app);
    wasm_bindgen_futures::spawn_local(async move {
        match api::status(&server, &follow, wait_s, stage).await {
            Ok(result) => answered(&app, &result),
            Err(failure) => step(&app, Event::Failed(failure)),
        }
    });
}

/// A settlement answer: remember how to follow it, then step; a pending
/// answer while already waiting is followed with another (long) poll.
fn answered(app: &Shared, result: &ConfirmResult) {
    let next = classify(result);
    let still_waiting = {
        let mut state = app.borrow_mut();
        if let Some(secret) = &result.payer_secret {
            state.follow = Some(Follow::with_payer_secret(&result.id, secret));
        }
        state.pending_body = None;
        matches!(next, Step::Pending { .. }) && state.phase == Phase::Waiting
    };
    if still_waiting {
        spawn_status(app, api::WAIT_S, Stage::Poll);
    } else {
        step(app, Event::Answered(next));
    }
}

/// Shows the result, moves the focus to it, and tells the page.
fn finish(app: &Shared, outcome: &Outcome) -> Result<(), JsValue> {
    let mut state = app.borrow_mut();
    state.pending_body = None;
    if let Some(form) = state.form.take() {
        form.clear();
    }
    let return_url = state.options.return_url.clone();
    let navigate = state.paid_here && outcome.status.is_success() && return_url.is_some();
    let (heading, button) = view::result(
        &state.doc,
        &state.container,
        state.lang,
        outcome,
        &state.options.order.order_id,
        return_url.is_some() && !navigate,
    )?;
    let token = outcome.result_token.clone().unwrap_or_default();
    if let Some(button) = &button {
        button.set_attribute("data-token", &token)?;
        on(app, button, "click", |app, event| {
            let token = event
                .current_target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|b| b.get_attribute("data-token"))
                .unwrap_or_default();
            log(post_result(app, &token));
        })?;
    }
    let detail = object(&[
        ("id", JsValue::from_str(&outcome.id)),
        ("status", JsValue::from_str(&outcome.status_text)),
        (
            "result_token",
            outcome.result_token.as_deref().map_or(JsValue::NULL, JsValue::from_str),
        ),
    ]);
    let init = CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_cancelable(true);
    init.set_detail(&detail);
    let event = CustomEvent::new_with_event_init_dict("kessai:result", &init)?;
    let host = state.host.clone();
    let callback = if outcome.status.is_success() {
        state.callbacks.completed.clone()
    } else {
        state.callbacks.failed.clone()
    };
    drop(state);
    let _ = heading.focus();
    // A listener may call preventDefault() to keep the buyer on the page.
    let proceed = host.dispatch_event(&event)?;
    call(callback.as_ref(), &detail);
    if navigate && proceed {
        post_result(app, &token)?;
    }
    Ok(())
}

/// Navigates to `return_url` with a form POST carrying `result_token`.
fn post_result(app: &Shared, token: &str) -> Result<(), JsValue> {
    let state = app.borrow();
    let Some(url) = &state.options.return_url else {
        return Ok(());
    };
    let form: HtmlFormElement = state.doc.create_element("form")?.dyn_into()?;
    form.set_method("post");
    form.set_action(url);
    form.set_attribute("hidden", "")?;
    let field: HtmlInputElement = state.doc.create_element("input")?.dyn_into()?;
    field.set_type("hidden");
    field.set_name("result_token");
    field.set_value(token);
    form.append_child(&field)?;
    let parent: web_sys::Node = match state.doc.body() {
        Some(body) => body.into(),
        None => state.host.clone().into(),
    };
    parent.append_child(&form)?;
    form.submit()
}
