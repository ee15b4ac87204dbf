//! End-to-end: the POS terminal (PROTOCOL section 13, `{server}/pos/`)
//! and the buyer's phone (the web wallet's "Pay in store", `{server}/wallet/`)
//! against one `kessai demo`, in one headless Chromium with two windows: the
//! clerk's and the buyer's. The scenarios run in sequence and build on each
//! other:
//!
//! a. A terminal registered with `kessai terminal register`; its key in the
//!    link's fragment signs in, shows the merchant and the label, and is
//!    gone from the address bar.
//! b. An amount typed on the keyboard; "Charge" shows an 8-digit number and
//!    the QR image, which reads as the transaction's EMV payload.
//! c. In the wallet's window the buyer adds their Kessai Pay account, types
//!    the number in "Pay in store" and sees the shop and the amount: the POS
//!    turns to "Synchronized" with the buyer's name; "Pay ¥1,200" in the
//!    wallet: the POS shows "Paid" and the same receipt number as the phone.
//! d. "New sale", an itemized sale, then Cancel: "Canceled".
//! e. "Let the customer order": the buyer types the number in the wallet,
//!    the clerk asks for the PIN (pending), the wallet asks the buyer for it
//!    and sends it (passed), the buyer picks two lattes and a cheesecake
//!    with the wallet's steppers and sends the order, which appears on the
//!    POS, and pays its total: "Paid" on both, the receipt itemized.
//! f. The wallet's history lists the two purchases at Sakura Coffee (D7).
//! g. Authentication by number (D11): the terminal asks for an
//!    authentication over HTTP; the buyer types its number in the wallet,
//!    which asks for the PIN and shows "Authenticated"; the terminal learns
//!    the user's id and name.
//! h. Age restriction (C8): a sale for buyers of 100 or more (the demo user
//!    was born in 1990) is declined "restricted" in the wallet, nothing is
//!    paid, and the terminal learns only `restricted`; one for 20 or more
//!    is paid.
//!
//! Then the ledger checks. Every screen is saved in
//! `tests/artifacts/pos-*.png`. Runs only with `KESSAI_E2E=1`, after
//! `./scripts/build-widget.sh`, `./scripts/build-pos.sh` and
//! `cargo build -p kessai-server`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use anyhow::{ensure, Context};
use fantoccini::wd::WindowHandle;
use kessai_e2e::{Browser, Demo, Institution};
use serde_json::json;

/// What the clerk keys in: ¥1,200.
const AMOUNT: u64 = 1200;
/// Every demo wallet user's PIN (`kessai demo` prints it with the user).
const PIN: &str = "1234";

struct Suite {
    demo: Demo,
    browser: Browser,
    /// The shop's institution, whose wallet user pays.
    home: Institution,
    /// The terminal key `kessai terminal register` printed.
    terminal_key: String,
    /// The clerk's window (the POS) and the buyer's (the wallet), once open.
    pos_window: Option<WindowHandle>,
    wallet_window: Option<WindowHandle>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pos_scenarios() -> anyhow::Result<()> {
    if !kessai_e2e::enabled() {
        eprintln!("skipped: set KESSAI_E2E=1 (scripts/test.sh does)");
        return Ok(());
    }
    let started = Instant::now();
    let demo = Demo::start_logging_to("pos-demo.log").await?;
    let browser = Browser::start().await?;
    let home = demo
        .institutions
        .first()
        .cloned()
        .context("no institution in the demo")?;
    let mut suite = Suite {
        demo,
        browser,
        home,
        terminal_key: String::new(),
        pos_window: None,
        wallet_window: None,
    };
    let outcome = run_all(&mut suite).await;
    let Suite { mut demo, browser, .. } = suite;
    browser.close().await;
    let running = demo.is_running();
    eprintln!("pos: finished in {:.1} s", started.elapsed().as_secs_f64());
    outcome?;
    ensure!(
        running,
        "kessai demo exited during the tests; see tests/artifacts/pos-demo.log"
    );
    Ok(())
}

async fn run_all(suite: &mut Suite) -> anyhow::Result<()> {
    sign_in_by_link(suite).await.context("a_sign_in_by_link")?;
    let number = charge_an_amount(suite).await.context("b_charge_an_amount")?;
    pay_from_the_phone(suite, &number)
        .await
        .context("c_pay_from_the_phone")?;
    cancel_an_itemized_sale(suite)
        .await
        .context("d_cancel_an_itemized_sale")?;
    customer_orders_with_pin(suite)
        .await
        .context("e_customer_orders_with_pin")?;
    history_lists_the_purchases(suite)
        .await
        .context("f_history_lists_the_purchases")?;
    authenticate_by_number(suite)
        .await
        .context("g_authenticate_by_number")?;
    age_restricted_sales(suite).await.context("h_age_restricted_sales")?;
    suite.demo.ledger_check().await
}

async fn sign_in_by_link(suite: &mut Suite) -> anyhow::Result<()> {
    let merchant = suite.demo.env.try_merchant("Sakura Coffee").await?;
    suite.terminal_key = suite
        .demo
        .env
        .try_terminal(&merchant.id, "pos", "Front till", &["--label", "TILL-1"])
        .await?;
    let pos_url = format!("{}/pos/", suite.demo.server_url);
    suite
        .browser
        .goto(&format!("{pos_url}#key={}", suite.terminal_key))
        .await?;
    let merchant_name = suite
        .browser
        .wait_js(
            "the POS signed in",
            "const e = document.querySelector('.merchant-name'); return e && e.textContent",
            vec![],
        )
        .await?;
    ensure!(merchant_name == "Sakura Coffee", "merchant shown: {merchant_name}");
    let label = suite.browser.find(".terminal-label").await?.text().await?;
    ensure!(label == "TILL-1", "label shown: {label}");
    let url = suite.browser.url().await?;
    ensure!(!url.contains("tk_"), "the key is still in the address bar: {url}");
    suite.browser.screenshot("pos-a-new-sale").await?;
    Ok(())
}

/// Types the amount on the keyboard (as a clerk with a USB keypad does)
/// and charges it; the number the POS shows.
async fn charge_an_amount(suite: &Suite) -> anyhow::Result<String> {
    let browser = &suite.browser;
    browser.type_text(&AMOUNT.to_string()).await?;
    browser
        .wait_js(
            "the keyed amount",
            "const e = document.querySelector('.amount-display'); return e && e.dataset.minor === arguments[0]",
            vec![json!(AMOUNT.to_string())],
        )
        .await?;
    browser.find("button.charge").await?.click().await?;
    let number = browser
        .wait_js(
            "the transaction number",
            "const e = document.querySelector('.txn-number'); return e && e.dataset.number",
            vec![],
        )
        .await?;
    let number = number.as_str().context("the number is not text")?.to_string();
    ensure!(
        number.len() == 8 && number.bytes().all(|b| b.is_ascii_digit()),
        "not 8 digits: {number}"
    );
    browser
        .wait_js(
            "the QR image loaded",
            "const i = document.querySelector('.qr img'); return i && i.complete && i.naturalWidth > 0",
            vec![],
        )
        .await?;
    let due = browser.find(".waiting .due").await?.text().await?;
    ensure!(due == "¥1,200", "amount shown: {due}");
    // The code on screen reads, as a phone's camera would, as the
    // transaction's EMV payload, which carries the terminal's label.
    let code = browser.read_qr_on_screen("pos-b-number", ".qr img").await?;
    ensure!(code.contains("TILL-1"), "the payload lacks the label: {code}");
    Ok(number)
}

/// The buyer's phone, the web wallet in its own window: "Pay in store",
/// the number as the POS shows it, the bill, then "Pay".
async fn pay_from_the_phone(suite: &mut Suite, number: &str) -> anyhow::Result<()> {
    phone_sync(suite, number).await?;
    let browser = &suite.browser;
    for shown in ["Sakura Coffee", "TILL-1", "¥1,200"] {
        browser.wait_text(shown).await?;
    }
    browser.screenshot("pos-c-phone-bill").await?;
    to_pos(suite).await?;
    let browser = &suite.browser;
    browser
        .wait_js(
            "the POS synchronized",
            "const e = document.querySelector('.payer-name'); return e && e.textContent",
            vec![],
        )
        .await?;
    browser.screenshot("pos-c-synchronized").await?;
    to_wallet(suite).await?;
    suite.browser.click_button("Pay ¥1,200").await?;
    suite.browser.wait_text("Receipt number").await?;
    let phone_receipt = suite.browser.find(".terminal-receipt").await?.text().await?;
    suite.browser.screenshot("pos-c-phone-receipt").await?;
    to_pos(suite).await?;
    let browser = &suite.browser;
    let outcome = browser
        .wait_js(
            "the POS paid",
            "const e = document.querySelector('#outcome-title'); return e && e.dataset.status !== 'synchronized' && e.textContent.trim()",
            vec![],
        )
        .await?;
    ensure!(outcome == "Paid", "outcome shown: {outcome}");
    let receipt = browser.find(".terminal-receipt").await?.text().await?;
    ensure!(
        receipt.contains("¥1,200") && receipt.contains("Sakura Coffee"),
        "receipt: {receipt}"
    );
    let receipt_no = |text: &str| {
        text.split_whitespace()
            .find(|w| w.starts_with("R-"))
            .map(str::to_string)
    };
    ensure!(
        receipt_no(&receipt).is_some() && receipt_no(&receipt) == receipt_no(&phone_receipt),
        "one receipt on both: {receipt} / {phone_receipt}"
    );
    browser.screenshot("pos-c-paid").await?;
    Ok(())
}

/// Switches to the clerk's window.
async fn to_pos(suite: &mut Suite) -> anyhow::Result<()> {
    let pos = match &suite.pos_window {
        Some(handle) => handle.clone(),
        None => {
            let handle = suite.browser.client.window().await?;
            suite.pos_window = Some(handle.clone());
            handle
        }
    };
    suite.browser.client.switch_to_window(pos).await?;
    Ok(())
}

/// Switches to the buyer's window; the first time, opens the wallet there
/// and adds the buyer's account at the shop's institution.
async fn to_wallet(suite: &mut Suite) -> anyhow::Result<()> {
    if let Some(handle) = &suite.wallet_window {
        suite.browser.client.switch_to_window(handle.clone()).await?;
        return Ok(());
    }
    if suite.pos_window.is_none() {
        suite.pos_window = Some(suite.browser.client.window().await?);
    }
    let handle = suite.browser.client.new_window(true).await?.handle;
    suite.browser.client.switch_to_window(handle.clone()).await?;
    suite.wallet_window = Some(handle);
    let browser = &suite.browser;
    browser.goto(&format!("{}#/add", suite.demo.wallet_url)).await?;
    browser.wait_text("Server wallet address").await?;
    browser.find("#address").await?.send_keys(&suite.home.url).await?;
    browser.find("#user-id").await?.send_keys(&suite.home.user_id).await?;
    browser.find("#password").await?.send_keys(&suite.home.password).await?;
    browser.find("form button[type=submit]").await?.click().await?;
    browser
        .wait_js(
            "the account listed",
            "return document.querySelectorAll('li.account').length > 0",
            vec![],
        )
        .await?;
    Ok(())
}

/// In the wallet: "Pay in store", the number typed as the POS groups it.
async fn phone_sync(suite: &mut Suite, number: &str) -> anyhow::Result<()> {
    to_wallet(suite).await?;
    let browser = &suite.browser;
    browser.goto(&format!("{}#/store", suite.demo.wallet_url)).await?;
    // After a purchase the screen still shows its receipt: start anew.
    let again = "return [...document.querySelectorAll('button')].some(b => \
                 b.textContent.trim() === 'Pay something else' && (b.click(), true))";
    browser.js(again, vec![]).await?;
    browser.wait_text("Transaction number").await?;
    browser
        .find("#transaction-number")
        .await?
        .send_keys(&format!("{} {}", &number[..4], &number[4..]))
        .await?;
    browser.click_button("Continue").await?;
    Ok(())
}

async fn cancel_an_itemized_sale(suite: &Suite) -> anyhow::Result<()> {
    let browser = &suite.browser;
    click_button(browser, "New sale").await?;
    click_button(browser, "Items").await?;
    for code in ["coffee", "croissant"] {
        browser
            .find(&format!("button.article[data-code='{code}']"))
            .await?
            .click()
            .await?;
    }
    click_button(browser, "Charge ¥770").await?;
    browser
        .wait_js(
            "the itemized sale's number",
            "const e = document.querySelector('.txn-number'); return e && e.dataset.number",
            vec![],
        )
        .await?;
    let lines = browser.find(".waiting .lines").await?.text().await?;
    ensure!(lines.contains("Croissant"), "order lines: {lines}");
    browser.screenshot("pos-d-itemized").await?;
    click_button(browser, "Cancel").await?;
    let outcome = browser
        .wait_js(
            "the POS canceled",
            "const e = document.querySelector('#outcome-title'); return e && e.textContent.trim()",
            vec![],
        )
        .await?;
    ensure!(outcome == "Canceled", "outcome shown: {outcome}");
    browser.screenshot("pos-d-canceled").await?;
    Ok(())
}

async fn customer_orders_with_pin(suite: &mut Suite) -> anyhow::Result<()> {
    to_pos(suite).await?;
    let browser = &suite.browser;
    click_button(browser, "New sale").await?;
    click_button(browser, "Let the customer order").await?;
    click_button(browser, "Show number").await?;
    let number = browser
        .wait_js(
            "the menu sale's number",
            "const e = document.querySelector('.txn-number'); return e && e.dataset.number",
            vec![],
        )
        .await?;
    let number = number.as_str().context("the number is not text")?.to_string();
    phone_sync(suite, &number).await?;
    suite.browser.wait_text("Send order").await?;
    to_pos(suite).await?;
    click_button(&suite.browser, "Ask for PIN").await?;
    wait_for_challenge(&suite.browser, "pending").await?;
    suite.browser.screenshot("pos-e-pin-asked").await?;
    // The wallet hears of the challenge (its long-poll) and asks the buyer.
    to_wallet(suite).await?;
    let browser = &suite.browser;
    browser.wait_text("Send PIN").await?;
    browser.find("#pin").await?.send_keys(PIN).await?;
    browser.screenshot("pos-e-phone-pin").await?;
    browser.click_button("Send PIN").await?;
    to_pos(suite).await?;
    wait_for_challenge(&suite.browser, "passed").await?;
    to_wallet(suite).await?;
    let browser = &suite.browser;
    for article in ["Café latte", "Café latte", "Cheesecake"] {
        let more = format!("button[aria-label='One more {article}']");
        browser.find(&more).await?.click().await?;
    }
    browser.wait_text("¥1,580").await?;
    browser.screenshot("pos-e-phone-menu").await?;
    browser.click_button("Send order").await?;
    to_pos(suite).await?;
    let placed = suite
        .browser
        .wait_js(
            "the customer's order on the POS",
            "const e = document.querySelector('.placed'); return e && e.textContent",
            vec![],
        )
        .await?;
    ensure!(
        placed
            .as_str()
            .is_some_and(|t| t.contains("Cheesecake") && t.contains("¥1,580")),
        "placed: {placed}"
    );
    suite.browser.screenshot("pos-e-ordered").await?;
    to_wallet(suite).await?;
    suite.browser.click_button("Pay ¥1,580").await?;
    suite.browser.wait_text("Receipt number").await?;
    suite.browser.screenshot("pos-e-phone-receipt").await?;
    to_pos(suite).await?;
    let browser = &suite.browser;
    browser
        .wait_js(
            "the menu sale paid",
            "const e = document.querySelector('#outcome-title'); return e && e.dataset.status === 'succeeded'",
            vec![],
        )
        .await?;
    let receipt = browser.find(".terminal-receipt").await?.text().await?;
    ensure!(
        receipt.contains("Café latte") && receipt.contains("¥1,580"),
        "receipt: {receipt}"
    );
    browser.screenshot("pos-e-paid").await?;
    Ok(())
}

async fn history_lists_the_purchases(suite: &mut Suite) -> anyhow::Result<()> {
    to_wallet(suite).await?;
    let browser = &suite.browser;
    browser.goto(&format!("{}#/history", suite.demo.wallet_url)).await?;
    for shown in ["Sakura Coffee", "¥1,200", "¥1,580"] {
        browser.wait_text(shown).await?;
    }
    browser.screenshot("pos-f-history").await?;
    Ok(())
}

async fn authenticate_by_number(suite: &mut Suite) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let url = format!("{}/v1/terminal/authentications", suite.demo.server_url);
    let response = http
        .post(&url)
        .bearer_auth(&suite.terminal_key)
        .json(&json!({ "kind": "pin" }))
        .send()
        .await?;
    ensure!(response.status() == 201, "POST {url}: {}", response.status());
    let asked: serde_json::Value = response.json().await?;
    let number = asked["number"].as_str().context("no number")?.to_string();
    let id = asked["id"].as_str().context("no id")?.to_string();
    phone_sync(suite, &number).await?;
    let browser = &suite.browser;
    browser.wait_text("Authenticate").await?;
    browser.find("#pin").await?.send_keys(PIN).await?;
    browser.screenshot("pos-g-authenticate").await?;
    browser.click_button("Authenticate").await?;
    browser.wait_text("Authenticated").await?;
    let done: serde_json::Value = http
        .get(format!("{url}/{id}"))
        .bearer_auth(&suite.terminal_key)
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        done["status"] == "authenticated" && done["user_id"] == suite.home.user_id.as_str(),
        "the terminal's authentication: {done}"
    );
    Ok(())
}

async fn age_restricted_sales(suite: &mut Suite) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let url = format!("{}/v1/terminal/transactions", suite.demo.server_url);
    for (min_age, outcome) in [(100, "declined"), (20, "succeeded")] {
        let body = json!({ "amount": 500, "currency": "JPY", "restrictions": { "min_age": min_age } });
        let opened: serde_json::Value = http
            .post(&url)
            .bearer_auth(&suite.terminal_key)
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        let number = opened["number"]
            .as_str()
            .with_context(|| format!("no number: {opened}"))?;
        let id = opened["id"].as_str().context("no id")?.to_string();
        phone_sync(suite, number).await?;
        let browser = &suite.browser;
        browser.click_button("Pay ¥500").await?;
        let shown = if outcome == "declined" {
            "This purchase is restricted for this account (for example by age)."
        } else {
            "Receipt number"
        };
        browser.wait_text(shown).await?;
        browser.screenshot(&format!("pos-h-min-age-{min_age}")).await?;
        let seen: serde_json::Value = http
            .get(format!("{url}/{id}"))
            .bearer_auth(&suite.terminal_key)
            .send()
            .await?
            .json()
            .await?;
        ensure!(seen["status"] == outcome, "min_age {min_age}: {seen}");
        if outcome == "declined" {
            ensure!(seen["decline_code"] == "restricted", "{seen}");
            ensure!(
                !seen.to_string().contains("1990"),
                "the birth date reached the terminal: {seen}"
            );
        }
    }
    Ok(())
}

async fn wait_for_challenge(browser: &Browser, status: &str) -> anyhow::Result<()> {
    browser
        .wait_js(
            &format!("the PIN challenge {status}"),
            "const e = document.querySelector('.challenge'); return e && e.dataset.status === arguments[0]",
            vec![json!(status)],
        )
        .await?;
    Ok(())
}

async fn click_button(browser: &Browser, name: &str) -> anyhow::Result<()> {
    browser.click_button(name).await
}
