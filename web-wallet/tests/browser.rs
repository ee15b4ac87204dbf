//! The wallet's components in a real browser: render a page into a test
//! node with a prepared state, drive the DOM, read it back. Nothing here
//! reaches a server: the flows tested stop before any request.
//!
//! Run with `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p kessai-wallet --target wasm32-unknown-unknown`.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use kessai_protocol::wallet::{BrandInfo, StartMerchant, StartMessage, WalletAccount};
use kessai_protocol::{Order, Secret};
use kessai_wallet::app::{ProviderProps, WalletProvider};
use kessai_wallet::components::payment_sheet::{PaymentSheet, PaymentSheetProps};
use kessai_wallet::connectors::{Connector, ServerLink};
use kessai_wallet::context::WalletContext;
use kessai_wallet::i18n::Lang;
use kessai_wallet::pages::{accounts::AccountsPage, add_account::AddAccountPage, pay::PayPage, settings::SettingsPage};
use kessai_wallet::selector::{self, AccountRef, Mode};
use kessai_wallet::start::{Channel, StartProblem};
use kessai_wallet::state::{Payment, Phase, Wallet};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlButtonElement, HtmlElement, HtmlInputElement};
use yew::prelude::*;
use yew_router::history::{AnyHistory, MemoryHistory};
use yew_router::Router;

wasm_bindgen_test_configure!(run_in_browser);

const SAKURA: &str = "https://sakura.example";
const MOMIJI: &str = "https://momiji.example";

fn root() -> Element {
    let doc = web_sys::window().unwrap().document().unwrap();
    let root = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    root
}

/// Lets Yew render and run effects.
async fn settle() {
    gloo::timers::future::sleep(Duration::from_millis(30)).await;
}

fn now_s() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

fn account(id: &str, brand: &str, currency: &str, available: u64) -> WalletAccount {
    WalletAccount {
        account_id: id.into(),
        brand: brand.into(),
        currency: currency.into(),
        available,
    }
}

fn link(address: &str, institution: &str, name: &str, accounts: Vec<WalletAccount>) -> ServerLink {
    let mut link = ServerLink::new(address.into(), Secret::new("wt_test".into()), now_s() + 3_600);
    link.brand_info = Some(BrandInfo {
        institution_id: institution.into(),
        name: name.into(),
        brands: vec![],
        currencies: vec![],
        accounts,
        peers: vec![],
        refresh_after_s: 3_600,
    });
    link.fetched_at_s = now_s();
    link
}

/// Sakura Bank (the settling institution) with ¥5,000 and Momiji Bank,
/// which the shop's brands do not include.
fn wallet(mode: Mode) -> Wallet {
    Wallet {
        connectors: vec![Connector {
            id: "con_1".into(),
            user_id: "usr_hanako".into(),
            user_name: "Hanako".into(),
            links: vec![
                link(
                    SAKURA,
                    "ins_sakura",
                    "Sakura Bank",
                    vec![account("acc_s", "sakura-debit", "JPY", 5_000)],
                ),
                link(
                    MOMIJI,
                    "ins_momiji",
                    "Momiji Bank",
                    vec![account("acc_m", "momiji-credit", "USD", 1_050)],
                ),
            ],
        }],
        mode,
        loaded: true,
        ..Wallet::default()
    }
}

fn start() -> StartMessage {
    StartMessage {
        kind: "kessai.start".into(),
        version: 1,
        server: SAKURA.into(),
        institution_id: "ins_sakura".into(),
        settlement_id: "stl_1".into(),
        client_secret: Secret::new("stl_1_secret_x".into()),
        order: Order::example(),
        brands: vec!["sakura-debit".into()],
        merchant: StartMerchant {
            id: "mch_1".into(),
            name: "Corner shop".into(),
            origin: "https://shop.example".into(),
        },
    }
}

/// Renders `page` inside the wallet's context, a memory router around it,
/// and a probe that writes the state's mode and default where tests read it.
fn render(initial: Wallet, page: Html) -> Element {
    let root = root();
    let children = html! {
        <Router history={AnyHistory::from(MemoryHistory::new())}>
            { page }
            <Probe />
        </Router>
    };
    yew::Renderer::<WalletProvider>::with_root_and_props(root.clone(), ProviderProps { initial, children }).render();
    root
}

#[function_component(Probe)]
fn probe() -> Html {
    let wallet = use_context::<WalletContext>().unwrap();
    let default = wallet
        .default_account
        .as_ref()
        .map(|a| a.account_id.clone())
        .unwrap_or_default();
    html! { <output id="probe">{ format!("{:?} {default}", wallet.mode) }</output> }
}

fn probe_text(root: &Element) -> String {
    root.query_selector("#probe").unwrap().unwrap().text_content().unwrap()
}

/// The button whose text is exactly `name`.
fn button(root: &Element, name: &str) -> HtmlButtonElement {
    let buttons = root.query_selector_all("button").unwrap();
    (0..buttons.length())
        .filter_map(|i| buttons.item(i))
        .filter_map(|node| node.dyn_into::<HtmlButtonElement>().ok())
        .find(|b| b.text_content().unwrap_or_default().trim() == name)
        .unwrap_or_else(|| panic!("no button named {name:?} in {}", root.inner_html()))
}

fn input(root: &Element, selector: &str) -> HtmlInputElement {
    root.query_selector(selector).unwrap().unwrap().dyn_into().unwrap()
}

// B2, B3, B4
#[wasm_bindgen_test]
async fn the_settings_radio_group_switches_mode() {
    let root = render(wallet(Mode::Ask), html! { <SettingsPage /> });
    settle().await;
    let group = root
        .query_selector("fieldset[role=radiogroup] legend")
        .unwrap()
        .unwrap();
    assert_eq!(group.text_content().unwrap(), "When a shop asks for payment");
    assert!(input(&root, "#mode-ask").checked());
    input(&root, "#mode-automatic").click();
    settle().await;
    assert!(probe_text(&root).starts_with("Automatic"), "{}", probe_text(&root));
    assert!(input(&root, "#mode-automatic").checked());
    assert!(!input(&root, "#mode-ask").checked());
    input(&root, "#mode-default").click();
    settle().await;
    assert!(probe_text(&root).starts_with("Default"), "{}", probe_text(&root));
    let label = root.query_selector("label[for=mode-default]").unwrap().unwrap();
    assert_eq!(label.text_content().unwrap(), "Use my default account");
}

#[wasm_bindgen_test]
async fn the_add_account_form_refuses_an_empty_address_before_sending() {
    let root = render(wallet(Mode::Ask), html! { <AddAccountPage /> });
    settle().await;
    for (id, label) in [
        ("address", "Server wallet address"),
        ("user-id", "User ID"),
        ("password", "Password"),
    ] {
        let found = root.query_selector(&format!("label[for={id}]")).unwrap().unwrap();
        assert_eq!(found.text_content().unwrap(), label);
    }
    input(&root, "#user-id").set_value("usr_hanako");
    input(&root, "#password").set_value("correct horse");
    button(&root, "Add account").click();
    settle().await;
    let address = input(&root, "#address");
    assert_eq!(address.get_attribute("aria-invalid").as_deref(), Some("true"));
    let problem_id = address.get_attribute("aria-describedby").unwrap();
    let problem = root.query_selector(&format!("#{problem_id}")).unwrap().unwrap();
    assert_eq!(problem.text_content().unwrap(), "Enter the server wallet address.");
    assert!(!root.text_content().unwrap().contains("Logging in"), "nothing was sent");
    assert!(!button(&root, "Add account").disabled());
}

#[wasm_bindgen_test]
async fn the_payment_sheet_offers_usable_accounts_and_explains_the_others() {
    let chosen = Rc::new(RefCell::new(None::<AccountRef>));
    let on_pay = {
        let chosen = chosen.clone();
        Callback::from(move |account| *chosen.borrow_mut() = Some(account))
    };
    let wallet = wallet(Mode::Ask);
    let props = PaymentSheetProps {
        start: start(),
        choices: selector::choices(&wallet.connectors, &start(), now_s()),
        expired: vec![selector::ExpiredLink {
            address: "https://kaede.example".into(),
            user_id: "usr_hanako".into(),
            institution_name: "Kaede Bank".into(),
        }],
        lang: Lang::En,
        proposed: None,
        error: None,
        on_pay,
        on_cancel: Callback::noop(),
    };
    let root = root();
    yew::Renderer::<PaymentSheet>::with_root_and_props(root.clone(), props).render();
    settle().await;
    assert_eq!(
        root.query_selector("h1").unwrap().unwrap().text_content().unwrap(),
        "Choose how to pay"
    );
    let text = root.text_content().unwrap();
    assert!(
        text.contains("Corner shop") && text.contains("Peanut butter") && text.contains("¥1,155"),
        "{text}"
    );
    let unusable = button(&root, "Pay with Momiji Bank momiji-credit");
    assert!(unusable.disabled());
    let reason_id = unusable.get_attribute("aria-describedby").unwrap();
    let reason = root.query_selector(&format!("#{reason_id}")).unwrap().unwrap();
    assert_eq!(reason.text_content().unwrap(), "The shop does not accept this brand.");
    assert!(text.contains("Kaede Bank: Your session ended"), "{text}");
    button(&root, "Log in again");
    let usable = button(&root, "Pay with Sakura Bank sakura-debit");
    assert!(!usable.disabled());
    usable.click();
    settle().await;
    let picked = chosen.borrow().clone().expect("the sheet reports the chosen account");
    assert_eq!((picked.address.as_str(), picked.account_id.as_str()), (SAKURA, "acc_s"));
}

// B2
#[wasm_bindgen_test]
async fn accounts_show_formatted_amounts_and_make_default() {
    let root = render(wallet(Mode::Default), html! { <AccountsPage /> });
    settle().await;
    let text = root.text_content().unwrap();
    assert!(text.contains("¥5,000") && text.contains("$10.50"), "{text}");
    assert!(text.contains("Sakura Bank") && text.contains("sakura-debit"), "{text}");
    let make_default = root.query_selector(".account button").unwrap().unwrap();
    make_default.dyn_into::<HtmlElement>().unwrap().click();
    settle().await;
    assert!(probe_text(&root).ends_with("acc_s"), "{}", probe_text(&root));
    let badge = root.query_selector(".account .badge").unwrap().unwrap();
    assert_eq!(badge.text_content().unwrap(), "Default");
}

#[wasm_bindgen_test]
async fn an_expired_session_asks_for_the_password_again() {
    let mut expired = wallet(Mode::Ask);
    expired.connectors[0].links[0].token = None;
    let root = render(expired, html! { <AccountsPage /> });
    settle().await;
    let text = root.text_content().unwrap();
    assert!(text.contains("Your session ended"), "{text}");
    button(&root, "Log in again");
}

#[wasm_bindgen_test]
async fn a_refused_start_message_says_why() {
    let mut wrong = start();
    wrong.order.total = 1_000;
    let problem = kessai_wallet::start::check(&wrong).unwrap_err();
    assert!(matches!(problem, StartProblem::InvalidOrder(_)));
    let mut refused = wallet(Mode::Automatic);
    refused.payment = Some(Payment {
        channel: Channel::Link,
        start: None,
        phase: Phase::Refused(problem),
        proposed: None,
        error: None,
    });
    let root = render(refused, html! { <PayPage /> });
    settle().await;
    let alert = root
        .query_selector("[role=alert]")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap();
    assert!(
        alert.contains("order.total is 1000 but the items and tax add up to 1155"),
        "{alert}"
    );
}

/// The extension's side of the host bridge, as the extension defines it:
/// an in-memory store, a start message to hand over, results recorded.
const FAKE_HOST: &str = r#"
    const store = {};
    window.__host = { store, delivered: [], start: null };
    window.kessaiWalletHost = {
        kind: "extension",
        load: (key) => Promise.resolve(key in store ? store[key] : null),
        save: (key, value) => { store[key] = value; return Promise.resolve(); },
        takeStart: () => Promise.resolve(window.__host.start),
        deliverResult: (result) => { window.__host.delivered.push(result); },
    };
"#;

fn js(code: &str) -> wasm_bindgen::JsValue {
    js_sys::Function::new_no_args(code)
        .call0(&wasm_bindgen::JsValue::NULL)
        .unwrap()
}

// B13, E3
#[wasm_bindgen_test]
async fn the_host_bridge_keeps_the_wallet_and_hands_over_start_and_result() {
    use kessai_protocol::api::Status;
    use kessai_wallet::start::{browser::deliver, result_message};
    use kessai_wallet::{host::host, storage};

    js(FAKE_HOST);
    let saved = wallet(Mode::Automatic).saved();
    storage::save(&saved);
    settle().await;
    let stored = js("return window.__host.store['kessai-wallet']").as_string().unwrap();
    assert!(stored.contains("usr_hanako"), "saved under the one key: {stored}");
    assert_eq!(storage::load().await, Ok(saved));

    let host = host().expect("the bridge is found");
    assert_eq!(host.take_start().await.unwrap(), None);
    let json = serde_json::to_string(&start()).unwrap();
    js(&format!("window.__host.start = {json};"));
    let taken = host.take_start().await.unwrap().expect("a start message");
    assert_eq!(kessai_wallet::start::parse(&taken), Ok(start()));

    let result = result_message(Channel::Host, Status::Succeeded, "stl_1", Some("jws"));
    deliver(Channel::Host, &start(), &result);
    let delivered = js("return JSON.stringify(window.__host.delivered)")
        .as_string()
        .unwrap();
    assert_eq!(
        delivered,
        r#"[{"status":"succeeded","settlement_id":"stl_1","result_token":"jws"}]"#
    );
    js("delete window.kessaiWalletHost; delete window.__host;");
}

/// A server wallet in the page: `window.fetch` answers the wallet API and
/// records each request (URL, Authorization, body).
const FAKE_SERVER: &str = r#"
    window.__requests = [];
    window.__realFetch = window.__realFetch || window.fetch;
    window.fetch = async (request) => {
        const body = request.method === "GET" ? null : await request.text();
        window.__requests.push({ url: request.url, auth: request.headers.get("authorization"), body });
        const json = (status, value) => new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });
        if (request.url.endsWith("/v1/wallet/payments")) {
            const start = JSON.parse(body);
            return json(200, { status: "succeeded", settlement_id: start.settlement_id, result_token: "h.p.s",
                receipt: { merchant: start.merchant.name, order_id: start.order.order_id, total: start.order.total,
                           currency: start.order.currency, brand: "sakura-debit", paid_at: 1764640000 } });
        }
        return json(404, { error: { type: "invalid_request_error", code: "not_found", message: "No such thing." } });
    };
"#;

/// The requests the fake server saw, as JSON.
fn requests() -> serde_json::Value {
    let requests = js("return JSON.stringify(window.__requests)").as_string().unwrap();
    serde_json::from_str(&requests).unwrap()
}

/// Renders the pay page for a start message from `channel` in `mode` and
/// waits for the payment sheet.
async fn sheet(mode: Mode, default: Option<AccountRef>, channel: Channel) -> Element {
    let mut paying = wallet(mode);
    paying.default_account = default;
    paying.payment = Some(Payment {
        channel,
        start: Some(start()),
        phase: Phase::Preparing,
        proposed: None,
        error: None,
    });
    let root = render(paying, html! { <PayPage /> });
    for _ in 0..50 {
        if root.text_content().unwrap().contains("Choose how to pay") {
            break;
        }
        settle().await;
    }
    // Time for a payment to go out, were the wallet to send one unasked.
    settle().await;
    settle().await;
    root
}

// B2, B4: "Use my default account" and "Choose automatically" propose an
// account but send nothing before the click, from a link as from a shop.
#[wasm_bindgen_test]
async fn no_mode_pays_before_the_click() {
    js(FAKE_SERVER);
    let sakura = AccountRef {
        address: SAKURA.into(),
        account_id: "acc_s".into(),
    };
    for (mode, default) in [(Mode::Automatic, None), (Mode::Default, Some(sakura))] {
        for channel in [Channel::Link, Channel::Popup] {
            js("window.__requests = [];");
            let root = sheet(mode, default.clone(), channel).await;
            assert!(
                root.text_content().unwrap().contains("Choose how to pay"),
                "{mode:?} {channel:?}"
            );
            assert_eq!(requests(), serde_json::json!([]), "{mode:?} {channel:?}: nothing sent");
            let proposed = button(&root, "Pay with Sakura Bank sakura-debit");
            assert!(proposed.class_name().contains("primary"), "{mode:?}: proposed first");
            let focused = web_sys::window().unwrap().document().unwrap().active_element();
            assert_eq!(
                focused,
                Some(proposed.clone().into()),
                "{mode:?}: the proposal has the focus"
            );
            assert!(root.text_content().unwrap().contains("Other accounts"));
            assert!(button(&root, "Pay with Momiji Bank momiji-credit").disabled());
            root.remove();
        }
    }
    js("window.fetch = window.__realFetch;");
}

// B4, B13: a start message from the extension, paid on the click on the
// proposed account, the result handed to the extension.
#[wasm_bindgen_test]
async fn automatic_mode_pays_after_the_click_and_hands_the_result_to_the_host() {
    js(FAKE_HOST);
    js(FAKE_SERVER);
    let root = sheet(Mode::Automatic, None, Channel::Host).await;
    assert_eq!(requests(), serde_json::json!([]), "nothing sent before the click");
    button(&root, "Pay with Sakura Bank sakura-debit").click();
    for _ in 0..50 {
        if root.text_content().unwrap().contains("Receipt") {
            break;
        }
        settle().await;
    }
    js("window.fetch = window.__realFetch;");
    let text = root.text_content().unwrap();
    assert!(
        text.contains("Paid") && text.contains("¥1,155") && text.contains("Corner shop"),
        "{text}"
    );
    let requests = requests();
    assert_eq!(
        requests.as_array().unwrap().len(),
        1,
        "brand info was fresh: only the payment: {requests}"
    );
    assert_eq!(requests[0]["url"], format!("{SAKURA}/v1/wallet/payments"));
    assert_eq!(requests[0]["auth"], "Bearer wt_test");
    let sent: StartMessage = serde_json::from_str(requests[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent, start(), "the start message is the body, unchanged");
    let delivered = js("return JSON.stringify(window.__host.delivered)")
        .as_string()
        .unwrap();
    assert_eq!(
        delivered,
        r#"[{"status":"succeeded","settlement_id":"stl_1","result_token":"h.p.s"}]"#
    );
    js("delete window.kessaiWalletHost; delete window.__host;");
}
