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
    assert_eq!(requests().length(), 2);
    let request = js_sys::Array::from(&requests().get(1));
    assert_eq!(
        request.get(1).as_string().unwrap(),
        "http://127.0.0.1:9/v1/payer/settlements/stl_1/confirm"
    );
    let body: serde_json::Value = serde_json::from_str(&request.get(2).as_string().unwrap()).unwrap();
    assert_eq!(body["client_secret"], "stl_1_secret_abc");
    assert_eq!(body["payment_method"]["card"]["exp_month"], 1);
    assert!(text(&host).contains("お支払いが完了しました"), "{}", text(&host));
}
