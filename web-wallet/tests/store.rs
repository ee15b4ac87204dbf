//! "Pay in store" in a real browser (PROTOCOL section 13): the page in the
//! wallet's context, against server wallets faked in `window.fetch`, so
//! each request the page sends is read back and checked.
//!
//! Run as `tests/browser.rs` says.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use kessai_protocol::wallet::{BrandInfo, WalletAccount};
use kessai_protocol::Secret;
use kessai_wallet::app::{ProviderProps, WalletProvider};
use kessai_wallet::connectors::{Connector, ServerLink};
use kessai_wallet::pages::store::StorePage;
use kessai_wallet::selector::{AccountRef, Mode};
use kessai_wallet::state::Wallet;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlButtonElement, HtmlInputElement};
use yew::prelude::*;
use yew_router::history::{AnyHistory, MemoryHistory};
use yew_router::Router;

wasm_bindgen_test_configure!(run_in_browser);

const SAKURA: &str = "https://sakura.example";
const MOMIJI: &str = "https://momiji.example";
/// `protocol/tests/vectors/emv_qr.json`, case `jpy_amount`: number
/// 48213907 at institution `ins_qk7xv2mbl4hd6ncpw3jrte5fsa`.
const QR: &str = "00020101021226680030ins_qk7xv2mbl4hd6ncpw3jrte5fsa0130mch_5xq2b7n4c3dze6f3gwhaj2k4m6520459995303392540411555802JP5916Kessai Demo Shop6005Tokyo62260508482139070710REGISTER-1630442D4";

fn now_s() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

fn link(address: &str, institution: &str, name: &str) -> ServerLink {
    let mut link = ServerLink::new(address.into(), Secret::new(format!("wt_{name}")), now_s() + 3_600);
    link.brand_info = Some(BrandInfo {
        institution_id: institution.into(),
        name: name.into(),
        brands: vec![],
        currencies: vec!["JPY".into()],
        accounts: vec![WalletAccount {
            account_id: format!("acc_{name}"),
            brand: "debit".into(),
            currency: "JPY".into(),
            available: 50_000,
        }],
        peers: vec![],
        refresh_after_s: 3_600,
    });
    link.fetched_at_s = now_s();
    link
}

/// Momiji Bank (the default account) and Sakura Bank (the QR vector's
/// institution, where the fake terminals are).
fn wallet() -> Wallet {
    Wallet {
        connectors: vec![
            Connector {
                id: "con_1".into(),
                user_id: "usr_hanako".into(),
                user_name: "Hanako".into(),
                links: vec![link(SAKURA, "ins_qk7xv2mbl4hd6ncpw3jrte5fsa", "sakura")],
            },
            Connector {
                id: "con_2".into(),
                user_id: "usr_hanako_m".into(),
                user_name: "Hanako".into(),
                links: vec![link(MOMIJI, "ins_momiji", "momiji")],
            },
        ],
        mode: Mode::Ask,
        default_account: Some(AccountRef {
            address: MOMIJI.into(),
            account_id: "acc_momiji".into(),
        }),
        loaded: true,
        ..Wallet::default()
    }
}

/// Server wallets in the page. Sakura knows number 48213907 as
/// `window.__txn` (a register by default; tests replace it); Momiji knows
/// nothing. Long-polls answer after 50 ms with the transaction as it is.
const FAKE_SERVERS: &str = r#"
    window.__requests = [];
    window.__sync = undefined;
    window.__ticket = undefined;
    window.__realFetch = window.__realFetch || window.fetch;
    const terminal = { id: "trm_1", name: "Front register", kind: "pos", label: "REGISTER-1", location: "Ginza 1F",
                       merchant: { id: "mch_1", name: "Corner shop" } };
    const order = { order_id: "1234567890", currency: "JPY", tax: 105, total: 1155, items: [
        { code: "XXXX", name: "Peanut butter", quantity: 1, unit_price: 500 },
        { code: "YYYY", name: "Grape jelly", quantity: 1, unit_price: 550 } ] };
    window.__txn = { id: "txn_1", terminal, amount: 1155, currency: "JPY", order, status: "synchronized", authentication: false };
    window.__menuTxn = { id: "txn_1", terminal: { ...terminal, name: "Drinks", label: "VEND-07" },
        amount: null, currency: "JPY", status: "synchronized", authentication: false,
        menu: { currency: "JPY", items: [ { code: "tea", name: "Green tea", unit_price: 150 },
                                          { code: "water", name: "Water", unit_price: 110 } ] } };
    window.fetch = async (request) => {
        const body = request.method === "GET" ? null : await request.text();
        const url = new URL(request.url);
        const json = (status, value) => new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });
        const error = (status, code) => json(status, { error: { type: "invalid_request_error", code, message: code } });
        if (request.method !== "GET") window.__requests.push({ url: request.url, auth: request.headers.get("authorization"), body });
        const txn = window.__txn;
        if (url.pathname === "/v1/wallet/transactions/sync") {
            if (window.__sync && url.origin === "https://sakura.example") return window.__sync(JSON.parse(body), json, error);
            return url.origin === "https://sakura.example" && JSON.parse(body).number === "48213907"
                ? json(200, txn) : error(404, "no_such_transaction");
        }
        if (url.pathname === "/v1/wallet/transactions/txn_1") {
            await new Promise((resolve) => setTimeout(resolve, 50));
            return json(200, txn);
        }
        if (url.pathname === "/v1/wallet/transactions/txn_1/order") {
            const lines = JSON.parse(body).items;
            const prices = Object.fromEntries(txn.menu.items.map((i) => [i.code, i.unit_price]));
            txn.amount = lines.reduce((sum, l) => sum + prices[l.code] * l.quantity, 0);
            txn.ordered = lines.map((l) => ({ ...l, name: txn.menu.items.find((i) => i.code === l.code).name, unit_price: prices[l.code] }));
            return json(200, txn);
        }
        if (url.pathname === "/v1/wallet/transactions/txn_1/challenge") {
            if (JSON.parse(body).pin !== "1234") return error(422, "pin_incorrect");
            txn.challenge = { kind: "pin", status: "passed" };
            return json(200, txn);
        }
        if (url.pathname === "/v1/wallet/transactions/txn_1/confirm") {
            const { amount, currency } = JSON.parse(body);
            if (amount !== txn.amount || currency !== txn.currency) return error(409, "amount_mismatch");
            txn.status = "succeeded";
            txn.receipt = { receipt_no: "R-000042", transaction_id: "txn_1", merchant: "Corner shop", terminal: "REGISTER-1",
                            amount, currency, items: txn.ordered || [{ code: "XXXX", name: "Peanut butter", quantity: 1, unit_price: 500 }],
                            paid_at: 1764640000, ticket: window.__ticket };
            return json(200, { status: "succeeded", receipt: txn.receipt });
        }
        return error(404, "not_found");
    };
"#;

fn js(code: &str) -> wasm_bindgen::JsValue {
    js_sys::Function::new_no_args(code)
        .call0(&wasm_bindgen::JsValue::NULL)
        .unwrap()
}

/// The requests other than long-polls the fake servers saw.
fn requests() -> Vec<serde_json::Value> {
    let requests = js("return JSON.stringify(window.__requests)").as_string().unwrap();
    serde_json::from_str(&requests).unwrap()
}

fn sent(request: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(request["body"].as_str().unwrap()).unwrap()
}

async fn settle() {
    gloo::timers::future::sleep(Duration::from_millis(30)).await;
}

/// Renders "Pay in store" with [`wallet`] and the fake servers.
async fn render() -> Element {
    js(FAKE_SERVERS);
    let doc = web_sys::window().unwrap().document().unwrap();
    let root = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    let children = html! {
        <Router history={AnyHistory::from(MemoryHistory::new())}><StorePage /></Router>
    };
    let props = ProviderProps {
        initial: wallet(),
        children,
    };
    yew::Renderer::<WalletProvider>::with_root_and_props(root.clone(), props).render();
    settle().await;
    root
}

/// Ends a test: the page goes (its long-poll stops), fetch is the real one.
async fn done(root: Element) {
    root.remove();
    settle().await;
    js("window.fetch = window.__realFetch; delete window.BarcodeDetector;");
}

async fn until(root: &Element, text: &str) {
    for _ in 0..100 {
        if root.text_content().unwrap().contains(text) {
            return;
        }
        settle().await;
    }
    panic!("never showed {text:?}: {}", root.inner_html());
}

/// The button whose accessible name (`aria-label`, else its text) is `name`.
fn button(root: &Element, name: &str) -> HtmlButtonElement {
    find_button(root, |n| n == name).unwrap_or_else(|| panic!("no button {name:?} in {}", root.inner_html()))
}

fn find_button(root: &Element, wanted: impl Fn(&str) -> bool) -> Option<HtmlButtonElement> {
    let buttons = root.query_selector_all("button").unwrap();
    (0..buttons.length())
        .filter_map(|i| buttons.item(i))
        .filter_map(|node| node.dyn_into::<HtmlButtonElement>().ok())
        .find(|b| {
            let name = b
                .get_attribute("aria-label")
                .unwrap_or_else(|| b.text_content().unwrap_or_default());
            wanted(name.trim())
        })
}

fn input(root: &Element, selector: &str) -> HtmlInputElement {
    root.query_selector(selector).unwrap().unwrap().dyn_into().unwrap()
}

async fn type_number(root: &Element, number: &str) {
    input(root, "#transaction-number").set_value(number);
    button(root, "Continue").click();
    settle().await;
}

// D1, D3, D4: the number as the terminal shows it; the default account's
// institution does not know it, the next does; the bill before paying;
// "Pay" confirms exactly the amount shown.
#[wasm_bindgen_test]
async fn a_typed_number_finds_the_terminal_and_pays_the_amount_shown() {
    let root = render().await;
    let field = input(&root, "#transaction-number");
    assert_eq!(field.get_attribute("inputmode").as_deref(), Some("numeric"));
    let label = root.query_selector("label[for=transaction-number]").unwrap().unwrap();
    assert_eq!(label.text_content().unwrap(), "Transaction number");
    type_number(&root, "4821 3907").await;
    until(&root, "Corner shop").await;
    let text = root.text_content().unwrap();
    for shown in [
        "Front register",
        "(REGISTER-1)",
        "Ginza 1F",
        "¥1,155",
        "Peanut butter",
        "Grape jelly",
    ] {
        assert!(text.contains(shown), "{shown}: {text}");
    }
    let syncs = requests();
    let asked: Vec<(&str, &str)> = syncs
        .iter()
        .map(|r| (r["url"].as_str().unwrap(), r["auth"].as_str().unwrap()))
        .collect();
    assert_eq!(
        asked,
        [
            ("https://momiji.example/v1/wallet/transactions/sync", "Bearer wt_momiji"),
            ("https://sakura.example/v1/wallet/transactions/sync", "Bearer wt_sakura"),
        ],
        "the default account's institution first, then the others"
    );
    assert_eq!(sent(&syncs[0]), serde_json::json!({ "number": "48213907" }));
    let pay = find_button(&root, |name| name.starts_with("Pay")).expect("a Pay button");
    assert_eq!(pay.text_content().unwrap(), "Pay ¥1,155");
    pay.click();
    until(&root, "R-000042").await;
    let text = root.text_content().unwrap();
    assert!(text.contains("Paid") && text.contains("REGISTER-1"), "{text}");
    let confirm = requests().pop().unwrap();
    assert_eq!(
        confirm["url"],
        "https://sakura.example/v1/wallet/transactions/txn_1/confirm"
    );
    assert_eq!(sent(&confirm), serde_json::json!({ "amount": 1155, "currency": "JPY" }));
    button(&root, "Pay something else").click();
    settle().await;
    assert_eq!(
        input(&root, "#transaction-number").value(),
        "",
        "back to an empty field"
    );
    done(root).await;
}

#[wasm_bindgen_test]
async fn a_malformed_number_is_refused_before_sending_and_an_unknown_one_after() {
    let root = render().await;
    type_number(&root, "4821 390").await;
    let alert = root.query_selector("#transaction-number-problem").unwrap().unwrap();
    assert_eq!(alert.text_content().unwrap(), "The transaction number is 8 digits.");
    assert_eq!(
        input(&root, "#transaction-number")
            .get_attribute("aria-invalid")
            .as_deref(),
        Some("true")
    );
    assert!(requests().is_empty(), "nothing sent");
    type_number(&root, "1111 2222").await;
    until(&root, "No transaction with this number").await;
    assert_eq!(requests().len(), 2, "both institutions were asked, once each");
    done(root).await;
}

// D9: the menu's steppers, its total, the order sent, then the amount to pay.
#[wasm_bindgen_test]
async fn a_menu_is_ordered_from_then_paid() {
    let root = render().await;
    js("window.__txn = window.__menuTxn;");
    type_number(&root, "48213907").await;
    until(&root, "Choose what you want").await;
    assert!(
        find_button(&root, |n| n.starts_with("Pay")).is_none(),
        "nothing to pay yet"
    );
    assert!(button(&root, "Send order").disabled(), "nothing chosen yet");
    button(&root, "One more Green tea").click();
    settle().await;
    button(&root, "One more Green tea").click();
    settle().await;
    button(&root, "One more Water").click();
    settle().await;
    button(&root, "One more Water").click();
    settle().await;
    button(&root, "One less Water").click();
    settle().await;
    let total = root.query_selector(".menu-total output").unwrap().unwrap();
    assert_eq!(total.text_content().unwrap(), "¥410");
    button(&root, "Send order").click();
    until(&root, "Pay ¥410").await;
    let order = requests().pop().unwrap();
    assert_eq!(
        order["url"],
        "https://sakura.example/v1/wallet/transactions/txn_1/order"
    );
    assert_eq!(
        sent(&order),
        serde_json::json!({ "items": [{ "code": "tea", "quantity": 2 }, { "code": "water", "quantity": 1 }] })
    );
    assert!(root.query_selector(".stepper").unwrap().is_none(), "the order is sent");
    done(root).await;
}

// D8: the clerk asks for the PIN after the sync; the long-poll shows the
// prompt; a wrong PIN says so; the right one lets the payer pay.
#[wasm_bindgen_test]
async fn a_pin_asked_after_the_sync_appears_and_is_answered() {
    let root = render().await;
    type_number(&root, "48213907").await;
    until(&root, "Pay ¥1,155").await;
    js(r#"window.__txn.challenge = { kind: "pin", status: "pending" };"#);
    until(&root, "The terminal asks for your PIN.").await;
    assert!(
        find_button(&root, |n| n.starts_with("Pay")).is_none(),
        "no paying while the PIN is asked"
    );
    let pin = input(&root, "#pin");
    assert_eq!(pin.type_(), "password");
    pin.set_value("12");
    button(&root, "Send PIN").click();
    until(&root, "The PIN is 4 to 8 digits.").await;
    assert_eq!(requests().len(), 2, "only the syncs: a short PIN is not sent");
    input(&root, "#pin").set_value("0000");
    button(&root, "Send PIN").click();
    until(&root, "Wrong PIN. Try again.").await;
    input(&root, "#pin").set_value("1234");
    button(&root, "Send PIN").click();
    until(&root, "Pay ¥1,155").await;
    assert!(root.query_selector("#pin").unwrap().is_none(), "the prompt is gone");
    let pins: Vec<serde_json::Value> = requests()[2..].iter().map(sent).collect();
    assert_eq!(
        pins,
        [
            serde_json::json!({ "pin": "0000" }),
            serde_json::json!({ "pin": "1234" })
        ]
    );
    done(root).await;
}

#[wasm_bindgen_test]
async fn too_many_wrong_pins_tell_the_payer_the_clerk_must_start_again() {
    let root = render().await;
    js(r#"window.__txn.challenge = { kind: "pin", status: "failed" };"#);
    type_number(&root, "48213907").await;
    until(&root, "Ask the clerk to start again.").await;
    assert!(find_button(&root, |n| n.starts_with("Pay")).is_none());
    assert!(root.query_selector("#pin").unwrap().is_none());
    done(root).await;
}

// D2: "Scan QR code" only where the browser detects QR codes; the
// payload's number is synced, at the institution it names first.
#[wasm_bindgen_test]
async fn a_scanned_qr_code_syncs_its_number_at_its_institution_first() {
    let root = render().await;
    assert!(
        find_button(&root, |n| n == "Scan QR code").is_none(),
        "no BarcodeDetector here"
    );
    done(root).await;
    // A camera (a canvas's stream) and a detector that sees the vector's payload.
    js(&format!(
        r#"window.BarcodeDetector = class {{
               constructor(options) {{ window.__formats = options.formats; }}
               detect(video) {{ return Promise.resolve([{{ rawValue: "{QR}" }}]); }}
           }};
           navigator.mediaDevices.getUserMedia = async () => document.createElement("canvas").captureStream();"#
    ));
    let root = render().await;
    button(&root, "Scan QR code").click();
    until(&root, "Corner shop").await;
    let formats = js("return JSON.stringify(window.__formats)").as_string().unwrap();
    assert_eq!(formats, r#"["qr_code"]"#);
    let first = &requests()[0];
    assert_eq!(first["url"], "https://sakura.example/v1/wallet/transactions/sync");
    assert_eq!(sent(first), serde_json::json!({ "number": "48213907" }));
    assert_eq!(
        requests().len(),
        1,
        "the QR code's institution knew it: nobody else asked"
    );
    done(root).await;
}

// ---- devices (PROTOCOL section 13, "Devices") --------------------------------

/// A compact JWS of `claims`; the phone reads, never verifies, the payload.
fn jws(claims: serde_json::Value) -> String {
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("eyJhbGciOiJFZERTQSJ9.{payload}.c2ln")
}

/// The wallet as saved in this origin's storage.
fn stored() -> serde_json::Value {
    let text = js("return localStorage.getItem('kessai-wallet')").as_string().unwrap();
    serde_json::from_str(&text).unwrap()
}

fn gate_txn(kind_of_gate: &str) -> String {
    format!(
        r#"id: "txn_1", terminal: {{ id: "trm_g", name: "{kind_of_gate} gate", kind: "gate", label: "GATE-1", location: null,
              merchant: {{ id: "mch_park", name: "Station car park" }} }}, currency: "JPY", authentication: false"#
    )
}

// C5: a vending machine's menu is a choice of one; the one article is
// ordered once; the result says what is dispensed.
#[wasm_bindgen_test]
async fn a_vending_machine_is_a_choice_of_one_then_dispenses_it() {
    let root = render().await;
    js("window.__txn = { ...window.__menuTxn, terminal: { ...window.__menuTxn.terminal, kind: 'vending' } };");
    type_number(&root, "48213907").await;
    until(&root, "Choose one").await;
    assert!(root.query_selector(".stepper").unwrap().is_none(), "no quantities");
    let radios = root.query_selector_all("input[type=radio][name=menu-choice]").unwrap();
    assert_eq!(radios.length(), 2);
    assert!(button(&root, "Send order").disabled(), "nothing chosen yet");
    input(&root, "#menu-choice-0").click();
    settle().await;
    input(&root, "#menu-choice-1").click();
    settle().await;
    assert!(!input(&root, "#menu-choice-0").checked() && input(&root, "#menu-choice-1").checked());
    button(&root, "Send order").click();
    until(&root, "Pay ¥110").await;
    let order = requests().pop().unwrap();
    assert_eq!(
        sent(&order),
        serde_json::json!({ "items": [{ "code": "water", "quantity": 1 }] })
    );
    find_button(&root, |n| n == "Pay ¥110").unwrap().click();
    until(&root, "Dispensing Water").await;
    done(root).await;
}

// C6: the entry's admission is kept (and saved) and listed; the exit's
// number answers `admission_missing`, so it is sent again with the
// admission; the fee is paid; the paid exit drops the admission.
#[wasm_bindgen_test]
async fn an_entry_admission_is_kept_then_sent_at_the_exit_and_dropped_once_paid() {
    let root = render().await;
    let admission = jws(serde_json::json!({
        "jti": "adm_1", "gate": "trm_g", "merchant": "mch_park", "entered_at": 1_764_640_000, "iss": "ins_1"
    }));
    js(&format!(
        "window.__txn = {{ {}, amount: null, status: 'succeeded', admission: '{admission}' }};",
        gate_txn("Entry")
    ));
    type_number(&root, "48213907").await;
    until(&root, "You entered Station car park at").await;
    assert_eq!(stored()["passes"]["admissions"][0]["id"], "adm_1");
    assert_eq!(stored()["passes"]["admissions"][0]["token"], admission.as_str());
    button(&root, "Pay something else").click();
    until(&root, "Transaction number").await;
    assert!(root.text_content().unwrap().contains("You are inside"));
    assert!(root.query_selector("[data-admission=adm_1]").unwrap().is_some());
    js(&format!(
        "window.__txn = {{ {}, amount: 300, status: 'synchronized' }};
         window.__sync = (body, json, error) => body.admission === undefined ? error(400, 'admission_missing')
             : body.admission === '{admission}' ? json(200, window.__txn) : error(422, 'invalid_admission');",
        gate_txn("Exit")
    ));
    let before = requests().len();
    type_number(&root, "48213907").await;
    until(&root, "Gate fee").await;
    let syncs: Vec<serde_json::Value> = requests()[before..]
        .iter()
        .filter(|r| r["url"] == "https://sakura.example/v1/wallet/transactions/sync")
        .map(sent)
        .collect();
    assert_eq!(
        syncs,
        [
            serde_json::json!({ "number": "48213907" }),
            serde_json::json!({ "number": "48213907", "admission": admission }),
        ]
    );
    find_button(&root, |n| n == "Pay ¥300").unwrap().click();
    until(&root, "The gate of Station car park opens").await;
    assert_eq!(stored()["passes"]["admissions"], serde_json::json!([]));
    button(&root, "Pay something else").click();
    settle().await;
    assert!(root.query_selector("[data-admission]").unwrap().is_none());
    done(root).await;
}

// C9: a paid ticket sale shows the ticket (event, validity, QR code, the
// text to copy) and keeps it.
#[wasm_bindgen_test]
async fn a_bought_ticket_is_shown_as_a_qr_code_and_text_and_kept() {
    let root = render().await;
    let ticket = jws(serde_json::json!({
        "jti": "tkt_1", "event": "Spring concert", "valid_from": 1_764_640_000, "valid_until": 1_764_726_400,
        "merchant": "mch_1", "iss": "ins_1"
    }));
    js(&format!(
        "window.__txn = {{ ...window.__txn, terminal: {{ ...window.__txn.terminal, kind: 'ticket' }} }};
         window.__ticket = '{ticket}';"
    ));
    type_number(&root, "48213907").await;
    find_button(&root, |n| n == "Pay ¥1,155").unwrap().click();
    until(&root, "Spring concert").await;
    let field = root.query_selector("textarea[data-ticket]").unwrap().unwrap();
    assert_eq!(field.get_attribute("data-ticket").as_deref(), Some(ticket.as_str()));
    assert!(field.has_attribute("readonly"));
    let qr = root.query_selector("img.ticket-qr").unwrap().unwrap();
    assert!(qr
        .get_attribute("src")
        .unwrap()
        .starts_with("data:image/svg+xml;base64,"));
    let text = root.text_content().unwrap();
    assert!(text.contains("Valid from") && text.contains("Valid until"), "{text}");
    assert_eq!(stored()["passes"]["tickets"][0]["id"], "tkt_1");
    assert_eq!(stored()["passes"]["tickets"][0]["event"], "Spring concert");
    done(root).await;
}
