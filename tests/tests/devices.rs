//! End-to-end: the demo shop's machines (PROTOCOL 13, "Devices"), their
//! pages at `{server}/devices/` in headless Chromium, opened with the links
//! `kessai demo` prints, and the buyer's phone through the wallet API
//! (`/v1/wallet/sessions`, `…/transactions/sync`, `…/order`, `…/confirm`) as
//! the web wallet calls it. One demo and one browser; in sequence:
//!
//! a. The vending machine (C5): its link signs it in (the key leaves the
//!    address bar); "Buy with your phone" shows the number and its QR code;
//!    the phone orders a green tea and pays; the machine drops a green tea.
//! b. The gates (C6): "Enter" at the entrance, the phone syncs and receives
//!    its admission, the entrance opens; "Pay and exit" at the exit, the
//!    phone syncs with the admission, the exit shows the fee and stays
//!    closed until the phone pays it, then opens; the payer's balance
//!    dropped by the fee.
//! c. Tickets (C9): the ticket machine sells one, the phone's receipt
//!    carries it; the entrance admits it once and refuses it the second time.
//!
//! Then the ledger checks. Screens in `tests/artifacts/devices-*.png`. Runs
//! only with `KESSAI_E2E=1`, after `./scripts/build-widget.sh` and
//! `cargo build -p kessai-server`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use anyhow::{ensure, Context};
use kessai_e2e::{Browser, Demo};
use serde_json::{json, Value};

/// The demo's ticket price, as `static/devices/ticket.js` sells it.
const TICKET_PRICE: u64 = 3000;

/// The buyer's phone: a wallet session at the shop's institution.
struct Phone {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Phone {
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        ensure!(status.is_success(), "POST {path}: {status} {answer}");
        Ok(answer)
    }

    async fn sync(&self, body: Value) -> anyhow::Result<Value> {
        self.post("/v1/wallet/transactions/sync", body).await
    }

    async fn confirm(&self, id: &str, amount: u64) -> anyhow::Result<Value> {
        let path = format!("/v1/wallet/transactions/{id}/confirm");
        let paid = self.post(&path, json!({ "amount": amount, "currency": "JPY" })).await?;
        ensure!(paid["status"] == "succeeded", "not paid: {paid}");
        Ok(paid)
    }

    /// What the payer's JPY account has available.
    async fn balance(&self) -> anyhow::Result<u64> {
        let response = self
            .http
            .get(format!("{}/v1/wallet/brand-info", self.url))
            .bearer_auth(&self.token)
            .send()
            .await?;
        let info: Value = response.json().await?;
        info["accounts"][0]["available"]
            .as_u64()
            .with_context(|| format!("no balance in {info}"))
    }
}

struct Suite {
    demo: Demo,
    browser: Browser,
    phone: Phone,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_scenarios() -> anyhow::Result<()> {
    if !kessai_e2e::enabled() {
        eprintln!("skipped: set KESSAI_E2E=1 (scripts/test.sh does)");
        return Ok(());
    }
    let started = Instant::now();
    let demo = Demo::start_logging_to("devices-demo.log").await?;
    let home = demo
        .institutions
        .first()
        .cloned()
        .context("no institution in the demo")?;
    let token = demo.api().wallet_token(&home.user_id, &home.password).await;
    let phone = Phone {
        http: reqwest::Client::new(),
        url: home.url.clone(),
        token,
    };
    let browser = Browser::start().await?;
    let suite = Suite { demo, browser, phone };
    let outcome = run_all(&suite).await;
    let Suite { mut demo, browser, .. } = suite;
    browser.close().await;
    let running = demo.is_running();
    eprintln!("devices: finished in {:.1} s", started.elapsed().as_secs_f64());
    outcome?;
    ensure!(
        running,
        "kessai demo exited during the tests; see tests/artifacts/devices-demo.log"
    );
    Ok(())
}

async fn run_all(suite: &Suite) -> anyhow::Result<()> {
    vending_purchase(suite).await.context("a_vending_purchase")?;
    let admission = gate_entry(suite).await.context("b_gate_entry")?;
    gate_exit(suite, &admission).await.context("b_gate_exit")?;
    let ticket = ticket_bought(suite).await.context("c_ticket_bought")?;
    ticket_admitted_once(suite, &ticket)
        .await
        .context("c_ticket_admitted_once")?;
    suite.demo.ledger_check().await
}

/// Opens a device's link and waits until its page signed in with the key.
async fn open_device(browser: &Browser, url: &str) -> anyhow::Result<()> {
    browser.goto(url).await?;
    browser
        .wait_js(
            "the device page signed in",
            "return document.body.dataset.signedIn === 'true'",
            vec![],
        )
        .await?;
    let shown = browser.url().await?;
    ensure!(!shown.contains("tk_"), "the key is still in the address bar: {shown}");
    Ok(())
}

/// Waits for the page's transaction number and its QR image; the number.
async fn shown_number(browser: &Browser) -> anyhow::Result<String> {
    let number = browser
        .wait_js(
            "the transaction number",
            "const e = document.querySelector('.number-box:not([hidden]) .txn-number');\
             return e && e.dataset.number",
            vec![],
        )
        .await?;
    browser
        .wait_js(
            "the QR image loaded",
            "const i = document.querySelector('.number-box:not([hidden]) .qr img');\
             return i && i.complete && i.naturalWidth > 0",
            vec![],
        )
        .await?;
    let number = number.as_str().context("the number is not text")?.to_string();
    ensure!(
        number.len() == 8 && number.bytes().all(|b| b.is_ascii_digit()),
        "not 8 digits: {number}"
    );
    Ok(number)
}

/// Waits until the page's animations (a can dropping, a barrier rising)
/// are over, so that a screenshot shows where they ended.
async fn animations_done(browser: &Browser) -> anyhow::Result<()> {
    browser
        .wait_js(
            "the animations over",
            "return document.getAnimations().every(a => a.playState !== 'running')",
            vec![],
        )
        .await?;
    Ok(())
}

async fn vending_purchase(suite: &Suite) -> anyhow::Result<()> {
    let browser = &suite.browser;
    open_device(browser, &suite.demo.devices.vending.url).await?;
    browser.wait_text("Green tea").await?;
    browser.wait_text("¥150").await?;
    browser.screenshot("devices-a-vending").await?;
    browser.click_button("Buy with your phone").await?;
    let number = shown_number(browser).await?;
    // The code on screen reads, as a phone's camera would, as the payload.
    browser
        .read_qr_on_screen("devices-a-vending-number", ".number-box .qr img")
        .await?;

    let synced = suite.phone.sync(json!({ "number": number })).await?;
    let id = synced["id"].as_str().context("no id")?.to_string();
    ensure!(
        synced["menu"]["items"].as_array().is_some_and(|items| items.len() == 6),
        "menu: {synced}"
    );
    let ordered = suite
        .phone
        .post(
            &format!("/v1/wallet/transactions/{id}/order"),
            json!({ "items": [{ "code": "green-tea", "quantity": 1 }] }),
        )
        .await?;
    ensure!(ordered["amount"] == 150, "ordered: {ordered}");
    browser.wait_text("Green tea, ¥150").await?;
    suite.phone.confirm(&id, 150).await?;
    browser
        .wait_js(
            "the green tea dispensed",
            "return document.getElementById('machine').dataset.state === 'dispensed'\
               && document.getElementById('dispensed').dataset.code === 'green-tea'",
            vec![],
        )
        .await?;
    browser.wait_text("Take your Green tea").await?;
    animations_done(browser).await?;
    browser.screenshot("devices-a-vending-dispensed").await?;
    Ok(())
}

/// Enters through the entrance gate; the admission the phone received.
async fn gate_entry(suite: &Suite) -> anyhow::Result<String> {
    let browser = &suite.browser;
    open_device(browser, &suite.demo.devices.gate_entry.url).await?;
    let closed = browser.find("#gate").await?.attr("data-open").await?;
    ensure!(
        closed.as_deref() == Some("false"),
        "the entrance is not closed: {closed:?}"
    );
    browser.wait_text("CLOSED").await?;
    browser.click_button("Enter").await?;
    let number = shown_number(browser).await?;
    browser.screenshot("devices-b-entrance-number").await?;
    let entered = suite.phone.sync(json!({ "number": number })).await?;
    ensure!(entered["status"] == "succeeded", "entry: {entered}");
    let admission = entered["admission"].as_str().context("no admission")?.to_string();
    wait_open(browser).await?;
    browser.wait_text("Welcome").await?;
    animations_done(browser).await?;
    browser.screenshot("devices-b-entrance-open").await?;
    Ok(admission)
}

async fn gate_exit(suite: &Suite, admission: &str) -> anyhow::Result<()> {
    let browser = &suite.browser;
    let before = suite.phone.balance().await?;
    open_device(browser, &suite.demo.devices.gate_exit.url).await?;
    browser.click_button("Pay and exit").await?;
    let number = shown_number(browser).await?;
    let synced = suite
        .phone
        .sync(json!({ "number": number, "admission": admission }))
        .await?;
    let id = synced["id"].as_str().context("no id")?.to_string();
    let fee = synced["amount"]
        .as_u64()
        .with_context(|| format!("no fee in {synced}"))?;
    // The demo's table: ¥100 and ¥5 a started minute.
    ensure!(fee >= 105 && (fee - 100) % 5 == 0, "fee: {fee}");
    let shown = browser
        .wait_js(
            "the fee on the exit",
            "const e = document.getElementById('fee'); return !e.hidden && e.dataset.amount",
            vec![],
        )
        .await?;
    ensure!(shown == json!(fee.to_string()), "fee shown: {shown}, charged {fee}");
    browser.wait_text(&format!("¥{fee}")).await?;
    // Closed until paid.
    let open = browser.find("#gate").await?.attr("data-open").await?;
    ensure!(open.as_deref() == Some("false"), "the exit opened before payment");
    browser.screenshot("devices-b-exit-fee").await?;
    let paid = suite.phone.confirm(&id, fee).await?;
    ensure!(paid["receipt"]["items"][0]["name"] == "Gate fee", "receipt: {paid}");
    wait_open(browser).await?;
    browser.wait_text("Paid. Thank you").await?;
    animations_done(browser).await?;
    browser.screenshot("devices-b-exit-open").await?;
    let after = suite.phone.balance().await?;
    ensure!(after + fee == before, "balance {before} → {after}, fee {fee}");
    Ok(())
}

async fn wait_open(browser: &Browser) -> anyhow::Result<()> {
    browser
        .wait_js(
            "the gate open",
            "return document.getElementById('gate').dataset.open === 'true'",
            vec![],
        )
        .await?;
    browser.wait_text("OPEN").await
}

/// Buys a ticket at the ticket machine; the ticket from the phone's receipt.
async fn ticket_bought(suite: &Suite) -> anyhow::Result<String> {
    let browser = &suite.browser;
    open_device(browser, &suite.demo.devices.ticket_sell.url).await?;
    browser.wait_text("Kessai Jazz Night").await?;
    browser.click_button("Buy a ticket").await?;
    let number = shown_number(browser).await?;
    browser.screenshot("devices-c-ticket-number").await?;
    let synced = suite.phone.sync(json!({ "number": number })).await?;
    ensure!(synced["amount"] == TICKET_PRICE, "ticket sale: {synced}");
    let id = synced["id"].as_str().context("no id")?;
    let paid = suite.phone.confirm(id, TICKET_PRICE).await?;
    let ticket = paid["receipt"]["ticket"]
        .as_str()
        .with_context(|| format!("no ticket in the receipt: {paid}"))?
        .to_string();
    browser
        .wait_js(
            "the ticket sold",
            "return document.getElementById('sell').dataset.state === 'sold'",
            vec![],
        )
        .await?;
    browser.wait_text("Your ticket is on your phone").await?;
    browser.screenshot("devices-c-ticket-sold").await?;
    Ok(ticket)
}

async fn ticket_admitted_once(suite: &Suite, ticket: &str) -> anyhow::Result<()> {
    let browser = &suite.browser;
    open_device(browser, &suite.demo.devices.ticket_check.url).await?;
    browser.wait_text("Show your ticket").await?;
    for (attempt, admitted, shown) in [(1, "true", "Kessai Jazz Night"), (2, "false", "Already used")] {
        browser.find("#ticket").await?.send_keys(ticket).await?;
        browser.click_button("Check").await?;
        browser
            .wait_js(
                &format!("the verdict of check {attempt}"),
                "return document.getElementById('verdict').dataset.admitted === arguments[0]",
                vec![json!(admitted)],
            )
            .await?;
        let verdict = browser.find("#verdict").await?.text().await?;
        let big = if admitted == "true" { "Admitted" } else { "Refused" };
        ensure!(
            verdict.contains(big) && verdict.contains(shown),
            "verdict {attempt}: {verdict}"
        );
        animations_done(browser).await?;
        browser.screenshot(&format!("devices-c-check-{attempt}")).await?;
    }
    Ok(())
}
