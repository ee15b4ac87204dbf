//! End-to-end: the POS terminal (PROTOCOL section 13, `{server}/pos/`)
//! against one `kessai demo`, in one headless Chromium. The payer's side is
//! played through the server wallet's HTTP API (what the web wallet's "Pay
//! in store" calls), so this suite tests the POS and the terminal API, not
//! the wallet's pages. The scenarios run in sequence and build on each other:
//!
//! a. A terminal registered with `kessai terminal register`; its key in the
//!    link's fragment signs in, shows the merchant and the label, and is
//!    gone from the address bar.
//! b. An amount typed on the keyboard; "Charge" shows an 8-digit number and
//!    the QR image, which reads as the transaction's EMV payload.
//! c. The payer syncs the number: the POS turns to "Synchronized" with the
//!    payer's name; the payer confirms: "Paid" with the receipt.
//! d. "New sale", an itemized sale, then Cancel: "Canceled".
//! e. "Let the customer order": the payer syncs, the clerk asks for the
//!    PIN (pending, then passed once the payer answers), the order the
//!    payer placed from the menu appears, the payer pays its total: "Paid",
//!    the receipt itemized.
//!
//! Then the ledger checks. Every screen is saved in
//! `tests/artifacts/pos-*.png`. Runs only with `KESSAI_E2E=1`, after
//! `./scripts/build-widget.sh`, `./scripts/build-pos.sh` and
//! `cargo build -p kessai-server`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use anyhow::{ensure, Context};
use kessai_e2e::{Browser, Demo, Institution};
use serde_json::{json, Value};

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
    http: reqwest::Client,
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
        http: reqwest::Client::new(),
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
    suite.demo.ledger_check().await
}

async fn sign_in_by_link(suite: &mut Suite) -> anyhow::Result<()> {
    let merchant = suite.demo.env.try_merchant("Sakura Coffee").await?;
    let registered = suite
        .demo
        .env
        .try_admin(&[
            "terminal",
            "register",
            "--merchant",
            &merchant.id,
            "--kind",
            "pos",
            "--name",
            "Front till",
            "--label",
            "TILL-1",
        ])
        .await?;
    suite.terminal_key = registered["terminal_key"]
        .as_str()
        .with_context(|| format!("no terminal_key in {registered}"))?
        .to_string();
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
    let shown = browser
        .js(
            "return new URL(document.querySelector('.qr img').src).searchParams.get('payload')",
            vec![],
        )
        .await?;
    let png = std::fs::read(browser.screenshot("pos-b-number").await?)?;
    let codes = kessai_testkit::decode_qr_png(&png)?;
    ensure!(
        codes.len() == 1 && shown == codes[0].as_str(),
        "QR codes read: {codes:?}, shown: {shown}"
    );
    ensure!(codes[0].contains("TILL-1"), "the payload lacks the label: {}", codes[0]);
    Ok(number)
}

/// The payer's phone, through the server wallet API: sync, then confirm.
async fn pay_from_the_phone(suite: &Suite, number: &str) -> anyhow::Result<()> {
    let token = wallet_login(suite).await?;
    let synced = wallet_post(
        suite,
        &token,
        "/v1/wallet/transactions/sync",
        json!({ "number": number }),
    )
    .await?;
    let id = synced["id"]
        .as_str()
        .with_context(|| format!("no id in {synced}"))?
        .to_string();
    let browser = &suite.browser;
    browser
        .wait_js(
            "the POS synchronized",
            "const e = document.querySelector('.payer-name'); return e && e.textContent",
            vec![],
        )
        .await?;
    browser.screenshot("pos-c-synchronized").await?;
    let body = json!({ "amount": AMOUNT, "currency": "JPY" });
    let confirmed = wallet_post(suite, &token, &format!("/v1/wallet/transactions/{id}/confirm"), body).await?;
    ensure!(confirmed["status"] == "succeeded", "confirm: {confirmed}");
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
    browser.screenshot("pos-c-paid").await?;
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

async fn customer_orders_with_pin(suite: &Suite) -> anyhow::Result<()> {
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
    let token = wallet_login(suite).await?;
    let synced = wallet_post(
        suite,
        &token,
        "/v1/wallet/transactions/sync",
        json!({ "number": number }),
    )
    .await?;
    let id = synced["id"]
        .as_str()
        .with_context(|| format!("no id in {synced}"))?
        .to_string();
    click_button(browser, "Ask for PIN").await?;
    wait_for_challenge(browser, "pending").await?;
    browser.screenshot("pos-e-pin-asked").await?;
    wallet_post(
        suite,
        &token,
        &format!("/v1/wallet/transactions/{id}/challenge"),
        json!({ "pin": PIN }),
    )
    .await?;
    wait_for_challenge(browser, "passed").await?;
    let items = json!({ "items": [{ "code": "latte", "quantity": 2 }, { "code": "cake", "quantity": 1 }] });
    let ordered = wallet_post(suite, &token, &format!("/v1/wallet/transactions/{id}/order"), items).await?;
    let total = ordered["amount"]
        .as_u64()
        .with_context(|| format!("no amount in {ordered}"))?;
    ensure!(total == 2 * 520 + 540, "the order's amount: {ordered}");
    let placed = browser
        .wait_js(
            "the customer's order on the POS",
            "const e = document.querySelector('.placed'); return e && e.textContent",
            vec![],
        )
        .await;
    let placed = match placed {
        Ok(placed) => placed,
        Err(error) => {
            let seen = send(
                suite
                    .http
                    .get(format!("{}/v1/terminal/transactions/{id}", suite.demo.server_url))
                    .bearer_auth(&suite.terminal_key),
            )
            .await?;
            let page = browser
                .js("return document.querySelector('main').innerText", vec![])
                .await?;
            return Err(error.context(format!("the terminal API says {seen}; the page shows {page}")));
        }
    };
    ensure!(
        placed
            .as_str()
            .is_some_and(|t| t.contains("Cheesecake") && t.contains("¥1,580")),
        "placed: {placed}"
    );
    browser.screenshot("pos-e-ordered").await?;
    let body = json!({ "amount": total, "currency": "JPY" });
    let confirmed = wallet_post(suite, &token, &format!("/v1/wallet/transactions/{id}/confirm"), body).await?;
    ensure!(confirmed["status"] == "succeeded", "confirm: {confirmed}");
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
    let script = "return [...document.querySelectorAll('button')].some(b => \
                  b.textContent.trim() === arguments[0] && !b.disabled && (b.click(), true))";
    browser
        .wait_js(&format!("a button {name:?}"), script, vec![json!(name)])
        .await?;
    Ok(())
}

async fn wallet_login(suite: &Suite) -> anyhow::Result<String> {
    let body = json!({ "user_id": suite.home.user_id, "password": suite.home.password });
    let session = send(
        suite
            .http
            .post(format!("{}/v1/wallet/sessions", suite.home.url))
            .json(&body),
    )
    .await?;
    Ok(session["token"]
        .as_str()
        .with_context(|| format!("no token in {session}"))?
        .to_string())
}

async fn wallet_post(suite: &Suite, token: &str, path: &str, body: Value) -> anyhow::Result<Value> {
    send(
        suite
            .http
            .post(format!("{}{path}", suite.home.url))
            .bearer_auth(token)
            .json(&body),
    )
    .await
    .with_context(|| format!("POST {path}"))
}

async fn send(request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await?;
    ensure!(status.is_success(), "HTTP {status}: {body}");
    Ok(body)
}
