//! `cargo bench -p kessai-e2e --bench wallet_time`: the web wallet in
//! headless Chromium against `kessai demo` on localhost (issue 9, item 8):
//!
//! 1. time to an interactive wallet: from navigation start of `/wallet/`
//!    (`performance.timeOrigin`) to the rendered accounts page ("Add account"
//!    for an empty wallet, the accounts once the saved wallet is read);
//!    cold (fresh profile, empty wallet) and warm (reload, one account);
//! 2. time to a finished payment: from the click on "Pay with Sakura Bank
//!    sakura-debit" in the wallet's popup to the widget's success heading in
//!    the shop's page (Sakura pays the shop's institution as its peer).
//!
//! Needs what tests/tests/wallet.rs needs. Results are printed, never
//! asserted (docs/BENCHMARKS.md).

use std::time::Duration;

use anyhow::{ensure, Context};
use fantoccini::Locator;
use kessai_e2e::{wait_for, Browser, Demo, Institution};
use serde_json::json;

const PROFILES: usize = 5;
const WARM_LOADS: usize = 3;
const PAYMENTS: usize = 7;

/// Resolves, in the wallet page, once it is interactive: ms since
/// navigation start. Polls every animation frame.
const INTERACTIVE: &str = "const done = arguments[arguments.length - 1];
  const tick = () => {
    const main = document.querySelector('#main');
    const ready = main?.querySelector('h1') && (main.querySelector('li.account')
      || [...main.querySelectorAll('a')].some((a) => a.textContent.trim() === 'Add account'));
    if (ready) { done(performance.now()); } else { requestAnimationFrame(tick); }
  };
  tick();";

/// In the shop's page: notes (in sessionStorage, which survives the shop's
/// navigation to its order page) when the widget shows its success heading.
const WATCH_RESULT: &str = "const root = document.querySelector('kessai-checkout').shadowRoot;
  sessionStorage.removeItem('bench-done');
  const check = () => {
    const h = root.querySelector('[part=result] h2');
    if (h && h.textContent && !h.closest('[hidden]') && !sessionStorage.getItem('bench-done')) {
      sessionStorage.setItem('bench-done', String(Date.now()));
    }
  };
  new MutationObserver(check).observe(root, { subtree: true, childList: true, attributes: true, characterData: true });";

async fn order_url(demo: &Demo) -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let resp = client
        .post(format!("{}/orders", demo.shop_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("YYYY=1&name=Bench&address=Loopback&contact=none")
        .send()
        .await?;
    let location = resp
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default();
    ensure!(!location.is_empty(), "no order page ({})", resp.status());
    Ok(format!("{}{location}", demo.shop_url))
}

async fn interactive_ms(browser: &Browser, url: &str) -> anyhow::Result<f64> {
    browser.goto(url).await?;
    let value = tokio::time::timeout(
        Duration::from_secs(15),
        browser.client.execute_async(INTERACTIVE, vec![]),
    )
    .await??;
    value.as_f64().with_context(|| format!("the page measured {value}"))
}

/// "Add account" through the form, as a person would.
async fn add_account(browser: &Browser, wallet_url: &str, institution: &Institution) -> anyhow::Result<()> {
    browser.goto(&format!("{wallet_url}#/add")).await?;
    let address = wait_for("the add form", || async { Ok(browser.find("#address").await.ok()) }).await?;
    address.send_keys(&institution.url).await?;
    browser.find("#user-id").await?.send_keys(&institution.user_id).await?;
    browser
        .find("#password")
        .await?
        .send_keys(&institution.password)
        .await?;
    browser.find("form button[type=submit]").await?.click().await?;
    browser
        .wait_js(
            "the account listed",
            "return !!document.querySelector('li.account');",
            vec![],
        )
        .await?;
    Ok(())
}

/// One payment through the popup; ms from the click to the success heading.
async fn payment_ms(browser: &Browser, demo: &Demo, name: &str) -> anyhow::Result<f64> {
    let main = browser.client.window().await?;
    browser.goto(&order_url(demo).await?).await?;
    browser.wait_for_card_form().await?;
    browser
        .wait_js(
            "the web wallet button",
            "return !!document.querySelector('kessai-checkout')?.shadowRoot?.querySelector(\"[part=wallets] button[data-wallet='']\");",
            vec![],
        )
        .await?;
    browser.js(WATCH_RESULT, vec![]).await?;
    browser
        .widget("[part=wallets] button[data-wallet='']")
        .await?
        .click()
        .await?;
    let popup = wait_for("the popup", || async {
        Ok(browser.client.windows().await?.into_iter().find(|w| *w != main))
    })
    .await?;
    browser.client.switch_to_window(popup).await?;
    let xpath = format!("//button[normalize-space(.)='{name}']");
    wait_for("the sheet", || async {
        Ok(browser.client.find(Locator::XPath(&xpath)).await.ok())
    })
    .await?;
    let clicked = browser
        .js(
            "const b = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === arguments[0]);\
             const t = Date.now(); b.click(); return t;",
            vec![json!(name)],
        )
        .await?
        .as_f64()
        .context("no click time")?;
    browser.client.switch_to_window(main).await?;
    // The popup closes on the result; windows() then lists only the shop's.
    let done = browser
        .wait_js(
            "the widget's success",
            "return sessionStorage.getItem('bench-done');",
            vec![],
        )
        .await?;
    let done: f64 = done.as_str().context("no done time")?.parse()?;
    browser
        .wait_js(
            "the shop saying paid",
            "return document.querySelector('#order-status')?.innerText.trim() === 'Payment: paid';",
            vec![],
        )
        .await?;
    Ok(done - clicked)
}

fn summary(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let median = ms.get(ms.len() / 2).copied().unwrap_or(f64::NAN);
    let (min, max) = (
        ms.first().copied().unwrap_or(f64::NAN),
        ms.last().copied().unwrap_or(f64::NAN),
    );
    println!(
        "{name:>28}: median {median:6.1} ms, min {min:6.1} ms, max {max:6.1} ms (n = {})",
        ms.len()
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = Demo::start_logging_to("bench-wallet-demo.log").await?;
    let sakura = demo
        .institutions
        .iter()
        .find(|i| i.name == "Sakura Bank")
        .cloned()
        .context("no Sakura Bank")?;
    let (mut cold, mut warm, mut pay) = (Vec::new(), Vec::new(), Vec::new());
    for profile in 0..PROFILES {
        let browser = Browser::start().await?;
        cold.push(interactive_ms(&browser, &demo.wallet_url).await?);
        add_account(&browser, &demo.wallet_url, &sakura).await?;
        for _ in 0..WARM_LOADS {
            browser.goto("about:blank").await?;
            warm.push(interactive_ms(&browser, &demo.wallet_url).await?);
        }
        if profile == 0 {
            let name = format!("Pay with {} {}", sakura.name, sakura.brand);
            for _ in 0..PAYMENTS {
                pay.push(payment_ms(&browser, &demo, &name).await?);
            }
        }
        browser.close().await;
    }
    println!("web wallet in headless Chromium against kessai demo on localhost:");
    summary("interactive, cold (empty)", cold);
    summary("interactive, warm (1 account)", warm);
    summary("click to widget success", pay);
    Ok(())
}
