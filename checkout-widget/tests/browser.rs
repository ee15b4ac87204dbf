//! The widget in a real browser: mount it into a test node, drive the DOM,
//! read the shadow root. `fetch` is replaced by a stub where the server
//! matters, so these tests need no settling server.
//!
//! Run with `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p kessai-checkout --target wasm32-unknown-unknown`.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use js_sys::{Function, Object, Promise, Reflect};
use kessai_checkout::mount;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement, HtmlInputElement, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

const ORDER: &str = r#"{"order_id":"1234567890","currency":"JPY","items":[{"code":"XXXX","name":"Peanut butter","unit_price":500,"quantity":1},{"code":"YYYY","name":"Grape jelly","unit_price":600,"quantity":1}],"tax":55,"total":1155}"#;

fn host() -> HtmlElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let host: HtmlElement = doc.create_element("div").unwrap().dyn_into().unwrap();
    doc.body().unwrap().append_child(&host).unwrap();
    host
}

fn options(pairs: &[(&str, &str)]) -> JsValue {
    let object = Object::new();
    for (key, value) in pairs {
        Reflect::set(&object, &(*key).into(), &(*value).into()).unwrap();
    }
    object.into()
}

fn payer_first(lang: &str) -> JsValue {
    options(&[
        ("server", "http://127.0.0.1:9"),
        ("merchantId", "mch_test"),
        ("order", ORDER),
        ("lang", lang),
    ])
}

fn root(host: &HtmlElement) -> ShadowRoot {
    host.shadow_root().expect("the widget renders into a shadow root")
}

fn find(host: &HtmlElement, selector: &str) -> Element {
    root(host)
        .query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no {selector}"))
}

fn text(host: &HtmlElement) -> String {
    root(host).text_content().unwrap_or_default()
}

/// The input a `<label>` with exactly this text is for.
fn input_labelled(host: &HtmlElement, label: &str) -> HtmlInputElement {
    let labels = root(host).query_selector_all("label").unwrap();
    for index in 0..labels.length() {
        let element: Element = labels.item(index).unwrap().dyn_into().unwrap();
        if element.text_content().as_deref() == Some(label) {
            let id = element.get_attribute("for").unwrap();
            return find(host, &format!("#{id}")).dyn_into().unwrap();
        }
    }
    panic!("no label {label:?} in {}", text(host));
}

fn type_into(input: &HtmlInputElement, value: &str) {
    input.set_value(value);
    input.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
}

/// Lets pending promises and spawned futures run.
async fn settle() {
    for _ in 0..10 {
        let tick = Promise::new(&mut |resolve, _| {
            web_sys::window()
                .unwrap()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 5)
                .unwrap();
        });
        JsFuture::from(tick).await.unwrap();
    }
}

/// Replaces `window.fetch` with a stub answering `status` and `body` and
/// recording each request as `window.__kessai_requests` ([method, url, body]).
fn stub_fetch(status: u16, body: &str) {
    stub_fetch_by_method(body, status, body);
}

/// As [`stub_fetch`], with its own answer (status 200) to GET requests.
fn stub_fetch_by_method(get_body: &str, post_status: u16, post_body: &str) {
    let install = Function::new_with_args(
        "getBody, status, body",
        "window.__kessai_requests = [];
         window.fetch = async (request) => {
           const post = request.method === 'POST';
           const sent = post ? await request.clone().text() : null;
           window.__kessai_requests.push([request.method, request.url, sent]);
           return new Response(post ? body : getBody,
             {status: post ? status : 200, headers: {'Content-Type': 'application/json'}});
         };",
    );
    install
        .call3(&JsValue::NULL, &get_body.into(), &post_status.into(), &post_body.into())
        .unwrap();
}

fn requests() -> js_sys::Array {
    Reflect::get(&web_sys::window().unwrap(), &"__kessai_requests".into())
        .unwrap()
        .dyn_into()
        .unwrap()
}

#[wasm_bindgen_test]
fn english_form_has_the_contract_labels_and_the_order() {
    let host = host();
    mount(host.clone(), payer_first("en")).unwrap();
    input_labelled(&host, "Card number");
    let expiry = input_labelled(&host, "Expiry");
    assert_eq!(expiry.placeholder(), "MM/YY");
    input_labelled(&host, "Security code");
    let button = find(&host, "button");
    assert_eq!(button.text_content().unwrap(), "Pay ¥1,155");
    let shown = text(&host);
    for part in [
        "1234567890",
        "XXXX",
        "Peanut butter",
        "¥500",
        "Grape jelly",
        "¥600",
        "¥55",
        "¥1,155",
    ] {
        assert!(shown.contains(part), "{part} missing from {shown}");
    }
}

#[wasm_bindgen_test]
fn japanese_labels_with_lang_ja() {
    let host = host();
    mount(host.clone(), payer_first("ja")).unwrap();
    input_labelled(&host, "カード番号");
    input_labelled(&host, "有効期限");
    input_labelled(&host, "セキュリティコード");
    assert!(find(&host, "button").text_content().unwrap().starts_with("支払う"));
}

#[wasm_bindgen_test]
fn luhn_invalid_number_shows_an_error_and_the_brand() {
    let host = host();
    mount(host.clone(), payer_first("en")).unwrap();
    let number = input_labelled(&host, "Card number");
    type_into(&number, "4242 4242 4242 4241");
    let error = find(&host, "#kc-number-err");
    assert_eq!(
        error.text_content().unwrap(),
        "This card number is not valid. Please check the digits."
    );
    assert_eq!(number.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(find(&host, "#kc-brand").text_content().unwrap(), "Visa");
    type_into(&number, "4242 4242 4242 4242");
    assert_eq!(error.text_content().unwrap(), "");
    assert_eq!(number.get_attribute("aria-invalid"), None);
}

#[wasm_bindgen_test]
fn missing_option_shows_a_readable_message() {
    let host = host();
    mount(
        host.clone(),
        options(&[("server", "http://127.0.0.1:9"), ("order", ORDER), ("lang", "en")]),
    )
    .unwrap();
    let shown = text(&host);
    assert!(shown.contains("not set up correctly"), "{shown}");
    assert!(shown.contains("settlement-id (settlementId) is missing"), "{shown}");
    assert!(root(&host).query_selector("[role=alert]").unwrap().is_some());
}

#[wasm_bindgen_test]
fn a_bad_order_names_the_option() {
    let host = host();
    mount(
        host.clone(),
        options(&[
            ("server", "http://127.0.0.1:9"),
            ("merchantId", "mch_1"),
            ("order", "{}"),
        ]),
    )
    .unwrap();
    assert!(
        text(&host).contains("the option order is not a valid order object"),
        "{}",
        text(&host)
    );
}

#[wasm_bindgen_test]
fn an_order_object_is_read_strictly() {
    // The order as an object (Kessai.mount), read through JSON.parse: a
    // valid one shows the form, an unknown field or text that is not JSON
    // is named.
    let mount_order = |order: JsValue| {
        let host = host();
        let options = options(&[
            ("server", "http://127.0.0.1:9"),
            ("merchantId", "mch_1"),
            ("lang", "en"),
        ]);
        Reflect::set(&options, &"order".into(), &order).unwrap();
        mount(host.clone(), options).unwrap();
        text(&host)
    };
    let order = js_sys::JSON::parse(ORDER).unwrap();
    assert!(mount_order(order.clone()).contains("Grape jelly"));
    Reflect::set(&order, &"extra".into(), &1.into()).unwrap();
    let shown = mount_order(order);
    assert!(
        shown.contains("not a valid order object: unknown field `extra` in order"),
        "{shown}"
    );
    let shown = mount_order("{\"order_id\":".into());
    assert!(shown.contains("not a valid order object: "), "{shown}");
}

#[wasm_bindgen_test]
async fn submitting_an_empty_form_flags_every_field_and_sends_nothing() {
    stub_fetch(500, "{}");
    let host = host();
    mount(host.clone(), payer_first("en")).unwrap();
    find(&host, "button").dyn_into::<HtmlElement>().unwrap().click();
    settle().await;
    assert_eq!(requests().length(), 0);
    for id in ["kc-number-err", "kc-expiry-err", "kc-cvc-err"] {
        assert!(
            !find(&host, &format!("#{id}")).text_content().unwrap().is_empty(),
            "{id}"
        );
    }
}

const SUCCEEDED: &str = r#"{"id":"stl_1","status":"succeeded","order_id":"1234567890","currency":"JPY","total":1155,"result_token":"h.p.s","card":{"brand":"kessai-card","last4":"4242"}}"#;

fn fill_card(host: &HtmlElement) {
    type_into(&input_labelled(host, "Card number"), "4242 4242 4242 4242");
    type_into(&input_labelled(host, "Expiry"), "12/39");
    type_into(&input_labelled(host, "Security code"), "123");
}

#[wasm_bindgen_test]
async fn reload_after_payment_shows_the_result_and_dispatches_kessai_result() {
    stub_fetch(200, SUCCEEDED);
    let host = host();
    let seen = Function::new_with_args("event", "window.__kessai_event = event.detail;");
    host.add_event_listener_with_callback("kessai:result", &seen).unwrap();
    mount(
        host.clone(),
        options(&[
            ("server", "http://127.0.0.1:9/"),
            ("settlementId", "stl_1"),
            ("clientSecret", "stl_1_secret_abc"),
            ("order", ORDER),
            ("lang", "en"),
        ]),
    )
    .unwrap();
    // On load the widget asks for the status; the stub's answer is final,
    // so a reload after payment shows the result, not the form.
    settle().await;
    assert!(text(&host).contains("Payment complete"), "{}", text(&host));
    assert_eq!(
        js_sys::Array::from(&requests().get(0)).get(1).as_string().unwrap(),
        "http://127.0.0.1:9/v1/payer/settlements/stl_1?client_secret=stl_1_secret_abc"
    );
    let detail = Reflect::get(&web_sys::window().unwrap(), &"__kessai_event".into()).unwrap();
    assert_eq!(Reflect::get(&detail, &"status".into()).unwrap(), "succeeded");
    assert_eq!(Reflect::get(&detail, &"result_token".into()).unwrap(), "h.p.s");
}

#[wasm_bindgen_test]
async fn payer_first_double_click_sends_one_confirmation() {
    stub_fetch(
        200,
        &SUCCEEDED
            .replace("succeeded", "declined")
            .replace("\"card\"", "\"decline_code\":\"insufficient_funds\",\"card\""),
    );
    let host = host();
    mount(host.clone(), payer_first("en")).unwrap();
    fill_card(&host);
    let button: HtmlElement = find(&host, "button").dyn_into().unwrap();
    button.click();
    button.click();
    settle().await;
    assert_eq!(requests().length(), 1);
    let request = js_sys::Array::from(&requests().get(0));
    assert_eq!(
        request.get(1).as_string().unwrap(),
        "http://127.0.0.1:9/v1/payer/orders/confirm"
    );
    let body: serde_json::Value = serde_json::from_str(&request.get(2).as_string().unwrap()).unwrap();
    assert_eq!(body["merchant_id"], "mch_test");
    assert_eq!(body["order"]["total"], 1155);
    assert_eq!(
        body["payment_method"],
        serde_json::json!({"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2039, "cvc": "123"}})
    );
    let shown = text(&host);
    assert!(shown.contains("Payment declined"), "{shown}");
    assert!(
        shown.contains("The card does not have enough available funds."),
        "{shown}"
    );
    // The focus moved to the result's heading.
    let active = root(&host).active_element().unwrap();
    assert_eq!(active.tag_name(), "H2");
    // Nothing of the card is left in the widget.
    assert!(root(&host).query_selector("input").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn a_server_error_is_a_sentence_not_json() {
    stub_fetch(
        400,
        r#"{"error":{"type":"invalid_request_error","code":"card_cvc_invalid","message":"payment_method.card.cvc must be 3 or 4 digits.","param":"payment_method.card.cvc"}}"#,
    );
    let host = host();
    mount(host.clone(), payer_first("en")).unwrap();
    fill_card(&host);
    find(&host, "button").dyn_into::<HtmlElement>().unwrap().click();
    settle().await;
    let alert = find(&host, "p[role=alert]").text_content().unwrap();
    assert_eq!(alert, "Enter the 3 or 4 digit security code.");
    assert!(!text(&host).contains("invalid_request_error"));
    // The form is editable again.
    assert!(!input_labelled(&host, "Card number").read_only());
}

#[wasm_bindgen_test]
async fn settlement_flow_loads_then_confirms_with_the_client_secret() {
    let open = SUCCEEDED.replace("succeeded", "awaiting_payer");
    stub_fetch_by_method(&open, 200, SUCCEEDED);
    let host = host();
    mount(
        host.clone(),
        options(&[
            ("server", "http://127.0.0.1:9"),
            ("settlementId", "stl_1"),
            ("clientSecret", "stl_1_secret_abc"),
            ("order", ORDER),
            ("lang", "ja"),
        ]),
    )
    .unwrap();
    settle().await;
    type_into(&input_labelled(&host, "カード番号"), "4242424242424242");
    type_into(&input_labelled(&host, "有効期限"), "0139");
    type_into(&input_labelled(&host, "セキュリティコード"), "1234");
    find(&host, "button").dyn_into::<HtmlElement>().unwrap().click();
    settle().await;
    // Status, start message (for wallets; this stub's answer is not one),
    // confirmation.
    assert_eq!(requests().length(), 3);
    let request = js_sys::Array::from(&requests().get(2));
    assert_eq!(
        request.get(1).as_string().unwrap(),
        "http://127.0.0.1:9/v1/payer/settlements/stl_1/confirm"
    );
    let body: serde_json::Value = serde_json::from_str(&request.get(2).as_string().unwrap()).unwrap();
    assert_eq!(body["client_secret"], "stl_1_secret_abc");
    assert_eq!(body["payment_method"]["card"]["exp_month"], 1);
    assert!(text(&host).contains("お支払いが完了しました"), "{}", text(&host));
}

// ---- Wallets (PROTOCOL section 12). A fake wallet script answers the
// widget's events as a wallet extension would; the server is a `fetch` stub
// routing by URL (the start message, then the settlement's statuses in turn).

const PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
const SVG: &str =
    "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoMSkiLz4=";

fn start_message(id: &str) -> String {
    format!(
        r#"{{"type":"kessai.start","version":1,"server":"http://127.0.0.1:9","institution_id":"ins_1","settlement_id":"{id}","client_secret":"{id}_secret_abc","order":{ORDER},"brands":["kessai-card"],"merchant":{{"id":"mch_1","name":"Shop","origin":"http://shop.example"}}}}"#
    )
}

fn settlement(id: &str, status: &str) -> String {
    format!(
        r#"{{"id":"{id}","status":"{status}","order_id":"1234567890","currency":"JPY","total":1155,"result_token":"h.p.s"}}"#
    )
}

/// `fetch` answering `…/start` with `start` (404 when empty) and other GETs
/// with `statuses` in turn (the last one repeated).
fn stub_server(start: &str, statuses: &[String]) {
    let install = Function::new_with_args(
        "start, statuses",
        "window.__kessai_requests = [];
         window.fetch = async (request) => {
           window.__kessai_requests.push([request.method, request.url, null]);
           const url = new URL(request.url);
           let body = start, status = start ? 200 : 404;
           if (!url.pathname.endsWith('/start')) {
             body = statuses.length > 1 ? statuses.shift() : statuses[0];
             status = 200;
           }
           return new Response(body, {status, headers: {'Content-Type': 'application/json'}});
         };",
    );
    let statuses: js_sys::Array = statuses.iter().map(|s| JsValue::from_str(s)).collect();
    install.call2(&JsValue::NULL, &start.into(), &statuses).unwrap();
}

/// A wallet in the page: it announces itself when asked and records the
/// `kessai:startPayment` meant for it as `window.__kessai_started`; when
/// `reply_for` is not empty it answers at once that it paid that settlement.
fn install_wallet(name: &str, uuid: &str, icon: &str, reply_for: &str) {
    let install = Function::new_with_args(
        "name, uuid, icon, replyFor",
        "const announce = () => window.dispatchEvent(new CustomEvent('kessai:announceWallet',
           {detail: {uuid, name, icon, rdns: 'test.' + uuid}}));
         window.addEventListener('kessai:requestWallet', announce);
         window.addEventListener('kessai:startPayment', (event) => {
           if (event.detail.uuid !== uuid) return;
           window.__kessai_started = event.detail;
           if (replyFor) window.dispatchEvent(new CustomEvent('kessai:paymentResult', {detail: {
             request_id: event.detail.request_id, status: 'succeeded', settlement_id: replyFor,
             result_token: 'said.by.wallet'}}));
         });",
    );
    let args = js_sys::Array::of4(&name.into(), &uuid.into(), &icon.into(), &reply_for.into());
    install.apply(&JsValue::NULL, &args).unwrap();
}

fn mount_settlement(id: &str, extra: &[(&str, &str)]) -> HtmlElement {
    let host = host();
    let secret = format!("{id}_secret_abc");
    let mut pairs = vec![
        ("server", "http://127.0.0.1:9"),
        ("settlementId", id),
        ("clientSecret", secret.as_str()),
        ("order", ORDER),
        ("lang", "en"),
    ];
    pairs.extend_from_slice(extra);
    mount(host.clone(), options(&pairs)).unwrap();
    host
}

/// The button whose text is exactly `name`, if any.
fn button_named(host: &HtmlElement, name: &str) -> Option<HtmlElement> {
    let buttons = root(host).query_selector_all("button").unwrap();
    (0..buttons.length())
        .map(|index| buttons.item(index).unwrap().dyn_into::<HtmlElement>().unwrap())
        .find(|button| button.text_content().as_deref().map(str::trim) == Some(name))
}

fn visible(element: &Element) -> bool {
    element.closest("[hidden]").unwrap().is_none()
}

fn global(name: &str) -> JsValue {
    Reflect::get(&web_sys::window().unwrap(), &name.into()).unwrap()
}

fn request_urls() -> Vec<String> {
    requests()
        .iter()
        .map(|request| js_sys::Array::from(&request).get(1).as_string().unwrap())
        .collect()
}

#[wasm_bindgen_test]
async fn announced_wallets_get_a_button_and_an_svg_icon_is_refused() {
    stub_server(&start_message("stl_w1"), &[settlement("stl_w1", "awaiting_payer")]);
    install_wallet("Raster Wallet", "uuid-raster", PNG, "");
    install_wallet("Vector Wallet", "uuid-vector", SVG, "");
    let host = mount_settlement("stl_w1", &[]);
    settle().await;
    assert_eq!(
        request_urls()[1],
        "http://127.0.0.1:9/v1/payer/settlements/stl_w1/start?client_secret=stl_w1_secret_abc"
    );
    let button = button_named(&host, "Pay with Raster Wallet").expect("the raster wallet's button");
    assert!(visible(&button));
    let icon = button.query_selector("img").unwrap().unwrap();
    assert_eq!(icon.get_attribute("src").as_deref(), Some(PNG));
    assert_eq!(icon.get_attribute("alt").as_deref(), Some(""));
    assert_eq!(icon.get_attribute("width").as_deref(), Some("24"));
    assert!(button_named(&host, "Pay with Vector Wallet").is_none());
    assert!(root(&host)
        .query_selector("img[src^='data:image/svg']")
        .unwrap()
        .is_none());
    // The card form is there all the same, and its button comes first.
    input_labelled(&host, "Card number");
    assert!(find(&host, "button").text_content().unwrap().starts_with("Pay ¥"));
}

#[wasm_bindgen_test]
async fn a_wallet_loaded_later_is_shown_and_the_same_rdns_replaces_it() {
    stub_server(&start_message("stl_w2"), &[settlement("stl_w2", "awaiting_payer")]);
    let host = mount_settlement("stl_w2", &[("lang", "ja")]);
    settle().await;
    let announce = Function::new_with_args(
        "uuid, name, icon",
        "window.dispatchEvent(new CustomEvent('kessai:announceWallet',
           {detail: {uuid, name, icon, rdns: 'test.late'}}));",
    );
    announce
        .call3(&JsValue::NULL, &"late-1".into(), &"Late".into(), &PNG.into())
        .unwrap();
    assert!(button_named(&host, "Lateで支払う").is_some(), "{}", text(&host));
    announce
        .call3(&JsValue::NULL, &"late-2".into(), &"Later".into(), &PNG.into())
        .unwrap();
    assert!(button_named(&host, "Lateで支払う").is_none());
    assert!(button_named(&host, "Laterで支払う").is_some());
}

#[wasm_bindgen_test]
async fn clicking_a_wallet_dispatches_start_payment_and_back_returns_to_the_form() {
    let start = start_message("stl_w3");
    stub_server(&start, &[settlement("stl_w3", "awaiting_payer")]);
    install_wallet("Quiet Wallet", "uuid-quiet", PNG, "");
    let host = mount_settlement("stl_w3", &[]);
    settle().await;
    button_named(&host, "Pay with Quiet Wallet").unwrap().click();
    let started = global("__kessai_started");
    assert_eq!(Reflect::get(&started, &"uuid".into()).unwrap(), "uuid-quiet");
    let request_id = Reflect::get(&started, &"request_id".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert_eq!(request_id.len(), 32);
    assert!(request_id.bytes().all(|b| b.is_ascii_hexdigit()), "{request_id}");
    let message = js_sys::JSON::stringify(&Reflect::get(&started, &"message".into()).unwrap()).unwrap();
    let message: serde_json::Value = serde_json::from_str(&String::from(message)).unwrap();
    assert_eq!(message, serde_json::from_str::<serde_json::Value>(&start).unwrap());
    // Waiting, with a way back; the card form is out of sight meanwhile.
    assert!(
        text(&host).contains("Complete the payment in your wallet"),
        "{}",
        text(&host)
    );
    assert!(!visible(&find(&host, "form")));
    button_named(&host, "Back to card payment").unwrap().click();
    assert!(visible(&find(&host, "form")));
    assert!(visible(&button_named(&host, "Pay with Quiet Wallet").unwrap()));
    // A second click is a new request.
    button_named(&host, "Pay with Quiet Wallet").unwrap().click();
    let again = Reflect::get(&global("__kessai_started"), &"request_id".into()).unwrap();
    assert_ne!(again.as_string().unwrap(), request_id);
}

#[wasm_bindgen_test]
async fn a_wallet_result_is_checked_with_the_server_and_ends_the_widget() {
    stub_server(
        &start_message("stl_w4"),
        &[
            settlement("stl_w4", "awaiting_payer"),
            settlement("stl_w4", "succeeded"),
        ],
    );
    install_wallet("Paying Wallet", "uuid-paying", PNG, "stl_w4");
    let host = mount_settlement("stl_w4", &[]);
    let seen = Function::new_with_args("event", "window.__kessai_wallet_result = event.detail;");
    host.add_event_listener_with_callback("kessai:result", &seen).unwrap();
    settle().await;
    button_named(&host, "Pay with Paying Wallet").unwrap().click();
    settle().await;
    assert!(text(&host).contains("Payment complete"), "{}", text(&host));
    let urls = request_urls();
    assert_eq!(urls.len(), 3, "{urls:?}");
    assert_eq!(
        urls[2],
        "http://127.0.0.1:9/v1/payer/settlements/stl_w4?client_secret=stl_w4_secret_abc"
    );
    // The token reported is the server's, not the wallet's.
    let detail = global("__kessai_wallet_result");
    assert_eq!(Reflect::get(&detail, &"status".into()).unwrap(), "succeeded");
    assert_eq!(Reflect::get(&detail, &"result_token".into()).unwrap(), "h.p.s");
}

#[wasm_bindgen_test]
async fn a_wallet_that_did_not_pay_leaves_the_card_form_with_a_note() {
    stub_server(&start_message("stl_w5"), &[settlement("stl_w5", "awaiting_payer")]);
    install_wallet("Idle Wallet", "uuid-idle", PNG, "stl_w5");
    let host = mount_settlement("stl_w5", &[]);
    settle().await;
    button_named(&host, "Pay with Idle Wallet").unwrap().click();
    settle().await;
    assert!(visible(&find(&host, "form")));
    let alert = find(&host, "p[role=alert]").text_content().unwrap();
    assert!(alert.contains("did not complete the payment"), "{alert}");
}

#[wasm_bindgen_test]
async fn a_wallet_result_for_another_settlement_is_ignored() {
    stub_server(&start_message("stl_w6"), &[settlement("stl_w6", "awaiting_payer")]);
    install_wallet("Confused Wallet", "uuid-confused", PNG, "stl_other");
    let host = mount_settlement("stl_w6", &[]);
    settle().await;
    button_named(&host, "Pay with Confused Wallet").unwrap().click();
    settle().await;
    assert_eq!(request_urls().len(), 2, "{:?}", request_urls());
    assert!(text(&host).contains("Complete the payment in your wallet"));
}

#[wasm_bindgen_test]
async fn without_a_start_message_no_wallet_is_offered() {
    stub_server("", &[settlement("stl_w7", "awaiting_payer")]);
    install_wallet("Unused Wallet", "uuid-unused", PNG, "");
    let host = mount_settlement("stl_w7", &[("walletUrl", "https://wallet.example/")]);
    settle().await;
    assert!(button_named(&host, "Pay with Unused Wallet").is_none());
    assert!(button_named(&host, "Pay with web wallet").is_none());
    assert!(!visible(&find(&host, "[part=wallets]")));
    input_labelled(&host, "Card number");
}

/// Replaces `window.open` with one that returns `frame`'s window (or null,
/// a blocked pop-up) and records its arguments as `window.__kessai_opened`;
/// returns the original to restore.
fn stub_open(frame: &JsValue) -> JsValue {
    let original = global("open");
    let install = Function::new_with_args(
        "frame",
        "window.open = (...args) => { window.__kessai_opened = args; return frame ? frame.contentWindow : null; };",
    );
    install.call1(&JsValue::NULL, frame).unwrap();
    original
}

/// Runs `code` inside the frame, so that its messages come from the frame.
fn in_frame(frame: &JsValue, code: &str) {
    let window = Reflect::get(frame, &"contentWindow".into()).unwrap();
    let eval: Function = Reflect::get(&window, &"eval".into()).unwrap().dyn_into().unwrap();
    eval.call1(&window, &code.into()).unwrap();
}

#[wasm_bindgen_test]
async fn the_web_wallet_window_gets_the_start_message_at_its_origin_only() {
    let start = start_message("stl_w8");
    stub_server(
        &start,
        &[
            settlement("stl_w8", "awaiting_payer"),
            settlement("stl_w8", "succeeded"),
        ],
    );
    // A same-origin frame stands in for the wallet's window.
    let doc = web_sys::window().unwrap().document().unwrap();
    let frame = doc.create_element("iframe").unwrap();
    frame.set_attribute("srcdoc", "<p>wallet</p>").unwrap();
    doc.body().unwrap().append_child(&frame).unwrap();
    settle().await;
    let original = stub_open(&frame);
    let origin = Reflect::get(
        &Reflect::get(&web_sys::window().unwrap(), &"location".into()).unwrap(),
        &"origin".into(),
    )
    .unwrap()
    .as_string()
    .unwrap();
    let wallet_url = format!("{origin}/wallet/");
    let host = mount_settlement("stl_w8", &[("walletUrl", &wallet_url)]);
    settle().await;
    button_named(&host, "Pay with web wallet").unwrap().click();
    let opened = js_sys::Array::from(&global("__kessai_opened"));
    assert_eq!(opened.get(0).as_string().unwrap(), format!("{wallet_url}#start"));
    assert_eq!(opened.get(1), "kessai-wallet");
    assert_eq!(opened.get(2), "popup,width=440,height=700");
    in_frame(
        &frame.clone().into(),
        "window.addEventListener('message', (e) => { window.got = e.data; window.gotFrom = e.origin; });",
    );
    // The page itself is not the wallet's window: its word is ignored.
    let forged = Function::new_no_args(
        "window.postMessage({type: 'kessai:paymentResult', status: 'succeeded', settlement_id: 'stl_w8'}, '*');",
    );
    forged.call0(&JsValue::NULL).unwrap();
    settle().await;
    assert!(
        text(&host).contains("Complete the payment in your wallet"),
        "{}",
        text(&host)
    );
    in_frame(
        &frame.clone().into(),
        "parent.postMessage({type: 'kessai:ready'}, '*');",
    );
    settle().await;
    let window = Reflect::get(&frame, &"contentWindow".into()).unwrap();
    let got = Reflect::get(&window, &"got".into()).unwrap();
    assert_eq!(Reflect::get(&got, &"type".into()).unwrap(), "kessai:start");
    let message = js_sys::JSON::stringify(&Reflect::get(&got, &"message".into()).unwrap()).unwrap();
    let message: serde_json::Value = serde_json::from_str(&String::from(message)).unwrap();
    assert_eq!(message, serde_json::from_str::<serde_json::Value>(&start).unwrap());
    in_frame(
        &frame.clone().into(),
        "parent.postMessage({type: 'kessai:paymentResult', status: 'succeeded', settlement_id: 'stl_w8'}, '*');",
    );
    settle().await;
    Reflect::set(&web_sys::window().unwrap(), &"open".into(), &original).unwrap();
    assert!(text(&host).contains("Payment complete"), "{}", text(&host));
}

#[wasm_bindgen_test]
async fn a_wallet_window_at_another_origin_is_neither_heard_nor_told() {
    stub_server(
        &start_message("stl_w10"),
        &[
            settlement("stl_w10", "awaiting_payer"),
            settlement("stl_w10", "succeeded"),
        ],
    );
    let doc = web_sys::window().unwrap().document().unwrap();
    let frame = doc.create_element("iframe").unwrap();
    frame.set_attribute("srcdoc", "<p>wallet</p>").unwrap();
    doc.body().unwrap().append_child(&frame).unwrap();
    settle().await;
    let original = stub_open(&frame);
    // The frame is at the page's origin (127.0.0.1), the wallet URL names
    // another (localhost): what the frame says is not the wallet's word, and
    // the start message is not delivered to it.
    let port = Reflect::get(
        &Reflect::get(&web_sys::window().unwrap(), &"location".into()).unwrap(),
        &"port".into(),
    )
    .unwrap()
    .as_string()
    .unwrap();
    let host = mount_settlement("stl_w10", &[("walletUrl", &format!("http://localhost:{port}/wallet/"))]);
    settle().await;
    button_named(&host, "Pay with web wallet").unwrap().click();
    let frame: JsValue = frame.into();
    in_frame(
        &frame,
        "window.addEventListener('message', (e) => { window.got = e.data; });",
    );
    in_frame(&frame, "parent.postMessage({type: 'kessai:ready'}, '*');");
    in_frame(
        &frame,
        "parent.postMessage({type: 'kessai:paymentResult', status: 'succeeded', settlement_id: 'stl_w10'}, '*');",
    );
    settle().await;
    Reflect::set(&web_sys::window().unwrap(), &"open".into(), &original).unwrap();
    let window = Reflect::get(&frame, &"contentWindow".into()).unwrap();
    assert!(Reflect::get(&window, &"got".into()).unwrap().is_undefined());
    assert!(
        text(&host).contains("Complete the payment in your wallet"),
        "{}",
        text(&host)
    );
    assert_eq!(request_urls().len(), 2, "{:?}", request_urls());
}

#[wasm_bindgen_test]
async fn a_blocked_wallet_window_is_a_note_over_the_card_form() {
    stub_server(&start_message("stl_w9"), &[settlement("stl_w9", "awaiting_payer")]);
    let original = stub_open(&JsValue::NULL);
    let host = mount_settlement("stl_w9", &[("walletUrl", "https://wallet.example/app")]);
    settle().await;
    button_named(&host, "Pay with web wallet").unwrap().click();
    Reflect::set(&web_sys::window().unwrap(), &"open".into(), &original).unwrap();
    assert!(visible(&find(&host, "form")));
    let alert = find(&host, "p[role=alert]").text_content().unwrap();
    assert!(alert.contains("could not open"), "{alert}");
}

// ---- "Pay with your phone" (PROTOCOL section 13, D10). The fake server
// answers the start message, the number requests (`numbers` in turn, the
// last repeated) and status requests: at once with the current status, or,
// for a long poll (`wait=`), only when the test moves the settlement on
// with `settle_to` — as the real server holds them — so nothing depends on
// timing, and a widget of an earlier test left waiting never asks again.

const QR: &str = "00020101021226300014jp.kessai.number0108482139075204000053033925404115558025JP5904Shop6005Tokyo62070703WEB6304ABCD";

fn number_answer(number: &str, expires_at: f64) -> String {
    format!(r#"{{"number":"{number}","qr":"{QR}","expires_at":{expires_at}}}"#)
}

fn in_five_minutes() -> f64 {
    (js_sys::Date::now() / 1000.0).floor() + 300.0
}

/// `numbers` as (HTTP status, body) in turn.
fn stub_phone_server(start: &str, status: &str, numbers: &[(u16, String)]) {
    let install = Function::new_with_args(
        "start, status, numbers",
        "window.__kessai_requests = [];
         window.__kessai_status = status;
         window.__kessai_polls = [];
         window.__kessai_settle_to = (body) => {
           window.__kessai_status = body;
           window.__kessai_polls.splice(0).forEach((resolve) => resolve());
         };
         window.fetch = async (request) => {
           const post = request.method === 'POST';
           window.__kessai_requests.push([request.method, request.url, post ? await request.clone().text() : null]);
           const url = new URL(request.url);
           const json = (body, status) => new Response(body, {status, headers: {'Content-Type': 'application/json'}});
           if (url.pathname.endsWith('/start')) return json(start, start ? 200 : 404);
           if (url.pathname.endsWith('/number')) {
             const [code, body] = numbers.length > 1 ? numbers.shift() : numbers[0];
             return json(body, code);
           }
           if (url.searchParams.has('wait')) {
             await new Promise((resolve) => window.__kessai_polls.push(resolve));
           }
           return json(window.__kessai_status, 200);
         };",
    );
    let numbers: js_sys::Array = numbers
        .iter()
        .map(|(code, body)| JsValue::from(js_sys::Array::of2(&(*code).into(), &body.into())))
        .collect();
    install
        .call3(&JsValue::NULL, &start.into(), &status.into(), &numbers)
        .unwrap();
}

/// Ends the long polls waiting with this settlement status.
fn settle_to(body: &str) {
    let settle: Function = global("__kessai_settle_to").dyn_into().unwrap();
    settle.call1(&JsValue::NULL, &body.into()).unwrap();
}

fn phone_panel(host: &HtmlElement) -> Element {
    find(host, "[part=phone]")
}

/// The button in the phone's panel whose text is exactly `name`.
fn phone_button(host: &HtmlElement, name: &str) -> HtmlElement {
    let buttons = phone_panel(host).query_selector_all("button").unwrap();
    (0..buttons.length())
        .map(|index| buttons.item(index).unwrap().dyn_into::<HtmlElement>().unwrap())
        .find(|button| button.text_content().as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no {name:?} in the phone's panel"))
}

/// The number: grouped for the eyes, whole in data-number, digit by digit
/// for screen readers; its code is the server's picture of the payload.
fn assert_48213907_shown(host: &HtmlElement) {
    let number = find(host, "[data-number]");
    assert_eq!(number.get_attribute("data-number").as_deref(), Some("48213907"));
    assert_eq!(number.text_content().unwrap(), "4821 3907");
    assert_eq!(
        number.get_attribute("aria-label").as_deref(),
        Some("Transaction number: 4 8 2 1 3 9 0 7")
    );
    // The code is the server's picture of the EMV payload.
    let qr = find(host, "img.qr");
    assert_eq!(
        qr.get_attribute("src").unwrap(),
        format!(
            "http://127.0.0.1:9/v1/qr.svg?payload={}",
            String::from(js_sys::encode_uri_component(QR))
        )
    );
    assert_eq!(
        qr.get_attribute("alt").as_deref(),
        Some("QR code for transaction number 48213907")
    );
    let timer = find(host, "[role=timer]").text_content().unwrap();
    assert!(
        ["Valid for 5:00", "Valid for 4:59", "Valid for 4:58"].contains(&timer.as_str()),
        "{timer}"
    );
}

#[wasm_bindgen_test]
async fn pay_with_your_phone_shows_the_number_and_its_code_then_the_result() {
    stub_phone_server(
        &start_message("stl_p1"),
        &settlement("stl_p1", "awaiting_payer"),
        &[(200, number_answer("48213907", in_five_minutes()))],
    );
    let host = mount_settlement("stl_p1", &[]);
    let seen = Function::new_with_args("event", "window.__kessai_phone_result = event.detail;");
    host.add_event_listener_with_callback("kessai:result", &seen).unwrap();
    settle().await;
    let button = button_named(&host, "Pay with your phone").expect("the phone's button");
    assert!(visible(&button));
    button.click();
    settle().await;
    let request = js_sys::Array::from(&requests().get(2));
    assert_eq!(
        (request.get(0).as_string().unwrap(), request.get(1).as_string().unwrap()),
        (
            "POST".to_owned(),
            "http://127.0.0.1:9/v1/payer/settlements/stl_p1/number".to_owned()
        )
    );
    let body: serde_json::Value = serde_json::from_str(&request.get(2).as_string().unwrap()).unwrap();
    assert_eq!(body, serde_json::json!({"client_secret": "stl_p1_secret_abc"}));
    // A labelled region with the focus, in place of the card form.
    let panel = phone_panel(&host);
    assert!(visible(&panel) && !visible(&find(&host, "form")));
    assert_eq!(panel.get_attribute("role").as_deref(), Some("region"));
    let title = find(&host, &format!("#{}", panel.get_attribute("aria-labelledby").unwrap()));
    assert_eq!(title.text_content().unwrap(), "Pay with your phone");
    assert!(root(&host).active_element().is_some_and(|active| active == panel));
    assert_48213907_shown(&host);
    let shown = text(&host);
    assert!(shown.contains("choose Pay in store"), "{shown}");
    assert!(visible(&phone_button(&host, "Back to card payment")));
    assert!(!visible(&phone_button(&host, "New number")));
    // The widget waits on a long poll; the phone pays; the server's result
    // ends the widget as a card payment would.
    assert!(request_urls()
        .iter()
        .any(|url| url.contains("stl_p1?client_secret=stl_p1_secret_abc&wait=")));
    settle_to(&settlement("stl_p1", "succeeded"));
    settle().await;
    assert!(text(&host).contains("Payment complete"), "{}", text(&host));
    let detail = global("__kessai_phone_result");
    assert_eq!(Reflect::get(&detail, &"status".into()).unwrap(), "succeeded");
    assert_eq!(Reflect::get(&detail, &"result_token".into()).unwrap(), "h.p.s");
}

#[wasm_bindgen_test]
async fn an_expired_number_offers_a_new_one() {
    stub_phone_server(
        &start_message("stl_p2"),
        &settlement("stl_p2", "awaiting_payer"),
        &[
            (200, number_answer("11112222", 1.0)),
            (200, number_answer("33334444", in_five_minutes())),
        ],
    );
    let host = mount_settlement("stl_p2", &[]);
    settle().await;
    button_named(&host, "Pay with your phone").unwrap().click();
    settle().await;
    // Already past its time: neither the number nor its code stays shown.
    let shown = text(&host);
    assert!(shown.contains("This number has expired"), "{shown}");
    assert!(!visible(&find(&host, "[data-number]")));
    assert!(!visible(&find(&host, "img.qr")));
    let renew = phone_button(&host, "New number");
    assert!(visible(&renew));
    renew.click();
    settle().await;
    let number = find(&host, "[data-number]");
    assert!(visible(&number));
    assert_eq!(number.get_attribute("data-number").as_deref(), Some("33334444"));
    assert!(!visible(&phone_button(&host, "New number")));
    let posts = request_urls().iter().filter(|url| url.ends_with("/number")).count();
    assert_eq!(posts, 2);
    settle_to(&settlement("stl_p2", "canceled"));
    settle().await;
    assert!(text(&host).contains("This checkout was canceled"), "{}", text(&host));
}

#[wasm_bindgen_test]
async fn back_returns_to_the_card_form_and_a_late_phone_payment_still_counts() {
    stub_phone_server(
        &start_message("stl_p3"),
        &settlement("stl_p3", "awaiting_payer"),
        &[(200, number_answer("55556666", in_five_minutes()))],
    );
    let host = mount_settlement("stl_p3", &[("lang", "ja")]);
    settle().await;
    button_named(&host, "スマートフォンで支払う").unwrap().click();
    settle().await;
    assert!(text(&host).contains("「店頭で支払う」"), "{}", text(&host));
    phone_button(&host, "カードでの支払いに戻る").click();
    assert!(visible(&find(&host, "form")));
    assert!(!visible(&phone_panel(&host)));
    let active = root(&host).active_element().unwrap();
    assert_eq!(active.id(), "kc-number");
    // The number is still valid at the server: the phone pays it now.
    settle_to(&settlement("stl_p3", "succeeded"));
    settle().await;
    assert!(text(&host).contains("お支払いが完了しました"), "{}", text(&host));
}

#[wasm_bindgen_test]
async fn a_digest_only_settlement_does_not_offer_the_phone_or_explains_why_not() {
    // The start message is refused (digest only): no button.
    stub_phone_server("", &settlement("stl_p4", "awaiting_payer"), &[(500, "{}".to_owned())]);
    let host = mount_settlement("stl_p4", &[]);
    settle().await;
    assert!(!visible(&find(&host, "[part=phone-button]")));
    // The number is refused all the same: a note, and the button goes.
    let refusal = r#"{"error":{"type":"invalid_request_error","code":"order_not_available","message":"m"}}"#;
    stub_phone_server(
        &start_message("stl_p5"),
        &settlement("stl_p5", "awaiting_payer"),
        &[(409, refusal.to_owned())],
    );
    let host = mount_settlement("stl_p5", &[]);
    settle().await;
    button_named(&host, "Pay with your phone").unwrap().click();
    settle().await;
    assert!(visible(&find(&host, "form")));
    let alert = find(&host, "p[role=alert]").text_content().unwrap();
    assert!(alert.contains("not available for this order"), "{alert}");
    assert!(!visible(&find(&host, "[part=phone-button]")));
    assert!(root(&host).query_selector("[data-number]").unwrap().is_none());
}
