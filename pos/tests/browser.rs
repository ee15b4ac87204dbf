//! The terminal's components in a real browser: render a screen into a
//! test node with a prepared state, drive the DOM, read it back. Nothing
//! here reaches a server: the flows tested stop before any request.
//!
//! Run with `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p kessai-pos --target wasm32-unknown-unknown`.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use kessai_pos::app::{PosProvider, ProviderProps, Shell};
use kessai_pos::context::PosContext;
use kessai_pos::settings::Settings;
use kessai_pos::state::{Pos, Sale, SalePhase, Session};
use kessai_protocol::terminal::{
    ReceiptLine, TerminalInfo, TerminalKind, TerminalMerchant, TerminalPayer, TerminalReceipt, TerminalTransaction,
    TransactionStatus,
};
use kessai_protocol::Secret;
use kessai_wallet::i18n::Lang;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlButtonElement, HtmlElement};
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

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

fn terminal() -> TerminalInfo {
    TerminalInfo {
        id: Some("trm_1".into()),
        name: "Front till".into(),
        kind: TerminalKind::Pos,
        label: "TILL-1".into(),
        location: None,
        merchant: TerminalMerchant {
            id: "mch_1".into(),
            name: "Corner Café".into(),
        },
    }
}

/// Signed in, between sales, in English.
fn signed_in() -> Pos {
    Pos {
        loaded: true,
        settings: Settings {
            lang: Some(Lang::En),
            ..Settings::default()
        },
        session: Session::SignedIn {
            key: Secret::new("tk_test".into()),
            terminal: terminal(),
        },
        ..Pos::default()
    }
}

fn transaction(status: TransactionStatus) -> TerminalTransaction {
    TerminalTransaction {
        id: "txn_1".into(),
        number: "48213907".into(),
        status,
        amount: Some(1200),
        currency: "JPY".into(),
        order: None,
        menu: None,
        payer: None,
        challenge: None,
        receipt: None,
        decline_code: None,
        qr: "00020101021226".into(),
        // Far ahead, so the countdown never reaches 0 during a test.
        expires_at: 4_000_000_000,
        version: 0,
        dispense: None,
    }
}

fn with_sale(txn: TerminalTransaction) -> Pos {
    Pos {
        sale: Some(Sale {
            phase: SalePhase::Open(txn),
            busy: None,
        }),
        ..signed_in()
    }
}

/// Renders the whole shell (header and screen) from `initial`, with a probe
/// that writes the keyed amount where tests read it.
fn render(initial: Pos) -> Element {
    let root = root();
    let children = html! { <><Shell /><Probe /></> };
    yew::Renderer::<PosProvider>::with_root_and_props(
        root.clone(),
        ProviderProps {
            initial,
            boot: false,
            children,
        },
    )
    .render();
    root
}

#[function_component(Probe)]
fn probe() -> Html {
    let pos = use_context::<PosContext>().unwrap();
    html! { <output id="probe">{ format!("{} {:?}", pos.entry.minor(), pos.screen()) }</output> }
}

fn probe_text(root: &Element) -> String {
    root.query_selector("#probe").unwrap().unwrap().text_content().unwrap()
}

fn find(root: &Element, selector: &str) -> Element {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("nothing matches {selector:?} in {}", root.inner_html()))
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

fn press_key(key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    let event = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    web_sys::window().unwrap().dispatch_event(&event).unwrap();
}

#[wasm_bindgen_test]
async fn the_header_names_the_merchant_and_the_terminal() {
    let root = render(signed_in());
    settle().await;
    assert_eq!(find(&root, ".merchant-name").text_content().unwrap(), "Corner Café");
    assert_eq!(find(&root, ".terminal-label").text_content().unwrap(), "TILL-1");
    button(&root, "Sign out").click();
    settle().await;
    assert!(probe_text(&root).ends_with("SignIn"), "{}", probe_text(&root));
    assert!(root.query_selector("#terminal-key").unwrap().is_some());
}

#[wasm_bindgen_test]
async fn the_keypad_types_an_amount_and_the_charge_button_says_it() {
    let root = render(signed_in());
    settle().await;
    assert!(button(&root, "Charge ¥0").disabled(), "nothing to charge yet");
    for key in ["1", "2", "00"] {
        button(&root, key).click();
        settle().await;
    }
    let display = find(&root, ".amount-display");
    assert_eq!(display.text_content().unwrap().trim(), "¥1,200");
    assert_eq!(display.get_attribute("data-minor").as_deref(), Some("1200"));
    let charge = button(&root, "Charge ¥1,200");
    assert!(!charge.disabled());
    root.query_selector("[aria-label='Delete last digit']")
        .unwrap()
        .unwrap()
        .dyn_into::<HtmlElement>()
        .unwrap()
        .click();
    settle().await;
    assert!(probe_text(&root).starts_with("120 "), "{}", probe_text(&root));
}

#[wasm_bindgen_test]
async fn a_physical_keyboard_types_into_the_amount() {
    let root = render(signed_in());
    settle().await;
    for key in ["4", "5", "0", "x", "Backspace", "0"] {
        press_key(key);
    }
    settle().await;
    assert!(probe_text(&root).starts_with("450 "), "{}", probe_text(&root));
    press_key("Escape");
    settle().await;
    assert!(probe_text(&root).starts_with("0 "), "{}", probe_text(&root));
}

#[wasm_bindgen_test]
async fn picking_items_fills_the_cart_and_the_total() {
    let root = render(signed_in());
    settle().await;
    button(&root, "Items").click();
    settle().await;
    for code in ["coffee", "coffee", "croissant"] {
        find(&root, &format!("button.article[data-code='{code}']"))
            .dyn_into::<HtmlElement>()
            .unwrap()
            .click();
        settle().await;
    }
    assert_eq!(
        find(&root, "button.article[data-code='coffee'] .count")
            .text_content()
            .unwrap(),
        "2"
    );
    assert!(!button(&root, "Charge ¥1,220").disabled());
    find(&root, ".cart [aria-label='Remove one']")
        .dyn_into::<HtmlElement>()
        .unwrap()
        .click();
    settle().await;
    button(&root, "Charge ¥770");
}

#[wasm_bindgen_test]
async fn the_number_is_large_grouped_and_readable_whole() {
    let root = render(with_sale(transaction(TransactionStatus::AwaitingPayer)));
    settle().await;
    let number = find(&root, ".txn-number");
    assert_eq!(number.get_attribute("data-number").as_deref(), Some("48213907"));
    assert_eq!(
        number.get_attribute("aria-label").as_deref(),
        Some("Transaction number 48213907")
    );
    let groups = number.query_selector_all(".group").unwrap();
    assert_eq!(groups.length(), 2);
    assert_eq!(groups.item(1).unwrap().text_content().unwrap(), "3907");
    let qr = find(&root, ".qr img").get_attribute("src").unwrap();
    assert!(qr.ends_with("/v1/qr.svg?payload=00020101021226"), "{qr}");
    assert_eq!(find(&root, ".due").text_content().unwrap(), "¥1,200");
    assert!(find(&root, ".countdown time").text_content().unwrap().contains(':'));
    assert!(!button(&root, "Cancel").disabled());
}

#[wasm_bindgen_test]
async fn a_synchronized_payer_is_shown_with_the_pin_button() {
    let mut txn = transaction(TransactionStatus::Synchronized);
    txn.payer = Some(TerminalPayer {
        name: "Hanako Yamada".into(),
        portrait_url: None,
    });
    let root = render(with_sale(txn));
    settle().await;
    assert_eq!(find(&root, "#sync-title").text_content().unwrap(), "Synchronized");
    assert_eq!(find(&root, ".payer-name").text_content().unwrap(), "Hanako Yamada");
    assert_eq!(find(&root, ".portrait.placeholder").text_content().unwrap(), "H");
    assert!(!button(&root, "Ask for PIN").disabled());
}

#[wasm_bindgen_test]
async fn paid_shows_the_receipt_and_new_sale_clears_the_till() {
    let mut txn = transaction(TransactionStatus::Succeeded);
    txn.receipt = Some(TerminalReceipt {
        receipt_no: "R-000123".into(),
        transaction_id: "txn_1".into(),
        merchant: "Corner Café".into(),
        terminal: "TILL-1".into(),
        amount: 1200,
        currency: "JPY".into(),
        items: vec![ReceiptLine {
            code: "coffee".into(),
            name: "Coffee".into(),
            quantity: 2,
            unit_price: 600,
        }],
        paid_at: 1_750_000_000,
        ticket: None,
    });
    let root = render(with_sale(txn));
    settle().await;
    assert_eq!(find(&root, "#outcome-title").text_content().unwrap().trim(), "Paid");
    let receipt = find(&root, ".terminal-receipt");
    assert!(receipt.text_content().unwrap().contains("R-000123"));
    assert_eq!(find(&root, ".receipt-total strong").text_content().unwrap(), "¥1,200");
    button(&root, "Print");
    button(&root, "New sale").click();
    settle().await;
    assert!(probe_text(&root).ends_with("NewSale"), "{}", probe_text(&root));
}

#[wasm_bindgen_test]
async fn declined_says_why() {
    let mut txn = transaction(TransactionStatus::Declined);
    txn.decline_code = Some(kessai_protocol::api::DeclineCode::InsufficientFunds);
    let root = render(with_sale(txn));
    settle().await;
    assert_eq!(find(&root, "#outcome-title").text_content().unwrap().trim(), "Declined");
    assert_eq!(
        find(&root, ".why").text_content().unwrap(),
        "Not enough money in the account."
    );
    assert!(root.query_selector(".terminal-receipt").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn japanese_is_one_click_away() {
    let root = render(signed_in());
    settle().await;
    button(&root, "日本語").click();
    settle().await;
    button(&root, "商品");
    button(&root, "English");
}
