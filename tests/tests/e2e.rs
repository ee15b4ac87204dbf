//! End-to-end: a buyer in a real browser (headless Chromium through
//! WebDriver) at the demo shop, paying with the checkout widget served by
//! the settling server, both run by one `kessai demo`. The scenarios run in
//! sequence in one browser session (CI has two cores); each saves a
//! screenshot of its final screen in `tests/artifacts/`.
//!
//! Runs only with `KESSAI_E2E=1` (`scripts/test.sh` sets it), after
//! `cargo build -p kessai-server` and `./scripts/build-widget.sh`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use anyhow::{ensure, Context};
use fantoccini::key::Key;
use kessai_e2e::{Browser, Demo};
use serde_json::{json, Value};

/// What the scenarios share: the demo, the browser, and every card number
/// typed so far (the shop must never have seen any of them).
struct Suite {
    demo: Demo,
    browser: Browser,
    cards_typed: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_scenarios() -> anyhow::Result<()> {
    if !kessai_e2e::enabled() {
        eprintln!("skipped: set KESSAI_E2E=1 (scripts/test.sh does)");
        return Ok(());
    }
    let started = Instant::now();
    let demo = Demo::start().await?;
    let browser = Browser::start().await?;
    eprintln!(
        "e2e: demo shop {} and server {}, browser ready after {:.1} s",
        demo.shop_url,
        demo.server_url,
        started.elapsed().as_secs_f64()
    );
    let mut suite = Suite {
        demo,
        browser,
        cards_typed: Vec::new(),
    };
    let outcome = run_all(&mut suite).await;
    let Suite { mut demo, browser, .. } = suite;
    browser.close().await;
    let running = demo.is_running();
    eprintln!("e2e: finished in {:.1} s", started.elapsed().as_secs_f64());
    outcome?;
    ensure!(
        running,
        "kessai demo exited during the tests; see tests/artifacts/demo.log"
    );
    Ok(())
}

async fn run_all(suite: &mut Suite) -> anyhow::Result<()> {
    scenario(suite, "buy_and_pay", buy_and_pay).await?;
    scenario(suite, "card_of_another_institution", card_of_another_institution).await?;
    scenario(suite, "declined_card", declined_card).await?;
    scenario(suite, "tampered_total", tampered_total).await?;
    scenario(suite, "keyboard_only", keyboard_only).await?;
    scenario(suite, "reload_after_payment", reload_after_payment).await?;
    scenario(suite, "japanese_labels", japanese_labels).await?;
    scenario(suite, "shop_never_saw_the_card", shop_never_saw_the_card).await?;
    scenario(suite, "pay_with_your_phone", pay_with_your_phone).await?;
    suite.demo.ledger_check().await
}

/// Runs one scenario; on failure saves `{name}-failure.png` and says where
/// the browser was.
async fn scenario<F>(suite: &mut Suite, name: &str, run: F) -> anyhow::Result<()>
where
    F: AsyncFnOnce(&mut Suite) -> anyhow::Result<()>,
{
    let started = Instant::now();
    let result = run(suite).await;
    match result {
        Ok(()) => {
            eprintln!("e2e: {name} passed in {:.1} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Err(error) => {
            let url = suite.browser.url().await.unwrap_or_default();
            let shot = suite.browser.screenshot(&format!("{name}-failure")).await;
            let shot = shot.map(|p| p.display().to_string()).unwrap_or_else(|e| e.to_string());
            Err(error.context(format!("scenario {name} failed at {url} (screenshot: {shot})")))
        }
    }
}

/// The delivery details every order uses.
const DELIVERY: [(&str, &str); 3] = [
    ("name", "Hanako Yamada"),
    ("address", "1-2-3 Kawasaki, Kanagawa"),
    ("contact", "hanako@example.com"),
];

/// Orders at the shop's catalogue with the mouse and returns the order
/// page's URL once the widget shows its card form.
async fn place_order(suite: &Suite, quantities: &[(&str, u32)]) -> anyhow::Result<String> {
    let browser = &suite.browser;
    browser.goto(&suite.demo.shop_url).await?;
    for (code, quantity) in quantities {
        let input = browser.find(&format!("#q-{code}")).await?;
        input.clear().await?;
        input.send_keys(&quantity.to_string()).await?;
    }
    for (id, value) in DELIVERY {
        browser.find(&format!("#{id}")).await?.send_keys(value).await?;
    }
    browser.find("button[type=submit]").await?.click().await?;
    browser.wait_for_card_form().await?;
    let url = browser.url().await?;
    ensure!(
        url.starts_with(&format!("{}/orders/", suite.demo.shop_url)),
        "placing the order led to {url}"
    );
    Ok(url)
}

/// The shop's word for the order's payment (`#order-status strong`).
async fn shop_payment_word(browser: &Browser) -> anyhow::Result<String> {
    Ok(browser.find("#order-status strong").await?.text().await?)
}

/// Waits for the shop's order page to say the order is paid (the shop
/// verified the result token or the signed webhook).
async fn wait_until_shop_says_paid(suite: &Suite) -> anyhow::Result<()> {
    suite
        .browser
        .wait_js(
            "the shop's order page saying \"Payment: paid\"",
            "const s = document.querySelector('#order-status');\
             return s && s.innerText.trim() === 'Payment: paid' && !document.querySelector('kessai-checkout');",
            vec![],
        )
        .await?;
    ensure!(
        suite
            .browser
            .url()
            .await?
            .starts_with(&format!("{}/orders/", suite.demo.shop_url)),
        "not on the shop's order page"
    );
    Ok(())
}

/// Clicks the widget's pay button, checking its accessible name first.
async fn click_pay(browser: &Browser, total: &str) -> anyhow::Result<()> {
    let pay = browser.widget("button[type=submit]").await?;
    let label = pay.text().await?;
    ensure!(
        label.starts_with("Pay") && label.contains(total),
        "pay button says {label:?}, expected \"Pay {total}\""
    );
    pay.click().await?;
    Ok(())
}

/// Scenario 1: Catalogue → order → widget shows the order → card → paid at the shop.
async fn buy_and_pay(suite: &mut Suite) -> anyhow::Result<()> {
    place_order(suite, &[("XXXX", 2), ("YYYY", 1)]).await?;
    let browser = &suite.browser;
    let text = browser.widget_text().await?;
    for expected in ["Peanut butter", "Grape jelly", "¥1,000", "¥160", "¥1,760"] {
        ensure!(
            text.contains(expected),
            "the widget's order lacks {expected:?}:\n{text}"
        );
    }
    let card = suite.demo.card.clone();
    browser.type_card(&card).await?;
    suite.cards_typed.push(card.number.clone());
    browser.screenshot("buy_and_pay-form").await?;
    click_pay(browser, "¥1,760").await?;
    wait_until_shop_says_paid(suite).await?;
    let page = browser.find("body").await?.text().await?;
    ensure!(
        page.contains("Hanako Yamada"),
        "the paid order page lacks the delivery name"
    );
    browser.screenshot("buy_and_pay").await?;
    Ok(())
}

/// Scenario 1b (issue 8, C15): a card issued by another institution of the
/// demo network (Sakura Bank) pays the shop, whose institution asks Sakura
/// to authenticate it; both ledgers stay whole.
async fn card_of_another_institution(suite: &mut Suite) -> anyhow::Result<()> {
    place_order(suite, &[("YYYY", 1)]).await?;
    let (name, card) = suite.demo.other_cards[0].clone();
    ensure!(name == "Sakura Bank", "the demo's second institution is {name:?}");
    let browser = &suite.browser;
    browser.type_card(&card).await?;
    suite.cards_typed.push(card.number.clone());
    click_pay(browser, "¥660").await?;
    wait_until_shop_says_paid(suite).await?;
    browser.screenshot("card_of_another_institution").await?;
    suite.demo.ledger_check().await?;
    Ok(())
}

/// Scenario 2: A card without enough funds: the widget says why, offers to return
/// to the shop without going there by itself, and the shop does not say paid.
async fn declined_card(suite: &mut Suite) -> anyhow::Result<()> {
    let card = suite.demo.issue_card("Low Balance", 100).await?;
    let order_url = place_order(suite, &[("ZZZZ", 1)]).await?;
    let browser = &suite.browser;
    browser.type_card(&card).await?;
    suite.cards_typed.push(card.number.clone());
    click_pay(browser, "¥495").await?;
    let heading = browser.wait_for_result_heading().await?;
    ensure!(heading == "Payment declined", "result heading {heading:?}");
    let text = browser.widget_text().await?;
    ensure!(
        text.contains("The card does not have enough available funds."),
        "no insufficient-funds reason in:\n{text}"
    );
    let focused = browser.focused().await?;
    ensure!(
        focused.starts_with("h2:Payment declined"),
        "focus on {focused}, not the heading"
    );
    let back = browser.widget("[part=result] button").await?;
    ensure!(
        back.text().await? == "Return to the shop",
        "no \"Return to the shop\" button"
    );
    ensure!(
        browser.url().await? == order_url,
        "the widget left the page after a decline"
    );
    ensure!(
        browser.widget("#kc-number").await.is_err(),
        "the card form is still shown"
    );
    browser.screenshot("declined_card").await?;

    browser.goto(&order_url).await?;
    let word = shop_payment_word(browser).await?;
    ensure!(word != "paid", "the shop says {word:?} after a declined payment");
    browser.screenshot("declined_card-shop").await?;
    Ok(())
}

/// Scenario 3: A page script swaps the widget for one showing a cheaper order (self-
/// consistent, so that the widget accepts it): the server collates the two
/// requests, refuses, and nothing moves in the ledger.
async fn tampered_total(suite: &mut Suite) -> anyhow::Result<()> {
    const BALANCE: i64 = 50_000;
    let card = suite.demo.issue_card("Tamper Target", BALANCE as u64).await?;
    let account = card
        .account_id
        .clone()
        .context("kessai card issue printed no account_id")?;
    place_order(suite, &[("XXXX", 2)]).await?;
    let browser = &suite.browser;
    let swapped = browser
        .js(
            "const old = document.querySelector('kessai-checkout');\
             const order = JSON.parse(old.getAttribute('order'));\
             order.items[0].quantity = 1;\
             const subtotal = order.items.reduce((s, i) => s + i.unit_price * i.quantity, 0);\
             order.tax = Math.floor(subtotal / 10);\
             order.total = subtotal + order.tax;\
             const el = document.createElement('kessai-checkout');\
             for (const name of old.getAttributeNames())\
               el.setAttribute(name, name === 'order' ? JSON.stringify(order) : old.getAttribute(name));\
             old.replaceWith(el);\
             return {settlement_id: el.getAttribute('settlement-id'),\
                     client_secret: el.getAttribute('client-secret'), total: order.total};",
            vec![],
        )
        .await?;
    ensure!(
        swapped["total"] == 550,
        "the forged order's total is {}",
        swapped["total"]
    );
    let text = browser.wait_for_card_form().await?;
    ensure!(
        text.contains("¥550"),
        "the swapped widget does not show the forged total:\n{text}"
    );
    browser.type_card(&card).await?;
    suite.cards_typed.push(card.number.clone());
    click_pay(browser, "¥550").await?;
    let heading = browser.wait_for_result_heading().await?;
    ensure!(
        heading == "The order details did not match",
        "result heading {heading:?}"
    );
    browser.screenshot("tampered_total").await?;

    let settlement_id = swapped["settlement_id"].as_str().context("no settlement id")?;
    let client_secret = swapped["client_secret"].as_str().context("no client secret")?;
    let (code, status) = suite.demo.api().try_payer_status(settlement_id, client_secret).await?;
    ensure!(code == 200, "the payer's view of the settlement: {code} {status}");
    ensure!(status["status"] == "mismatched", "settlement status: {status}");
    suite.demo.ledger_check().await?;
    let db = suite.demo.db()?;
    let transfers: i64 = db.query_row(
        "SELECT COUNT(*) FROM transfers WHERE settlement_id = ?1",
        [settlement_id],
        |row| row.get(0),
    )?;
    ensure!(transfers == 0, "{transfers} transfers for the mismatched settlement");
    let (balance, held): (i64, i64) =
        db.query_row("SELECT balance, held FROM accounts WHERE id = ?1", [&account], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    ensure!(
        balance == BALANCE && held == 0,
        "the card's account has balance {balance}, held {held}; expected {BALANCE}, 0"
    );
    Ok(())
}

/// Scenario 4: The whole purchase with the keyboard only: Tab, Shift+Tab, arrows,
/// typing, Enter and Space; never a click.
async fn keyboard_only(suite: &mut Suite) -> anyhow::Result<()> {
    let browser = &suite.browser;
    let tab: char = Key::Tab.into();
    let shift: char = Key::Shift.into();
    let up: char = Key::Up.into();
    let enter: char = Key::Enter.into();
    let space: char = Key::Space.into();
    browser.goto(&suite.demo.shop_url).await?;
    browser.keys(&[tab]).await?;
    browser.expect_focus("#q-XXXX").await?;
    browser.keys(&[up, up, tab]).await?;
    browser.expect_focus("#q-YYYY").await?;
    browser.keys(&[up, tab, tab]).await?;
    for (id, value) in DELIVERY {
        browser.expect_focus(&format!("#{id}")).await?;
        browser.type_text(value).await?;
        browser.keys(&[tab]).await?;
    }
    browser.expect_focus("button:Place order").await?;
    browser.keys(&[shift, tab]).await?;
    browser.expect_focus("#contact").await?;
    browser.keys(&[tab]).await?;
    browser.expect_focus("button:Place order").await?;
    browser.keys(&[enter]).await?;

    let text = browser.wait_for_card_form().await?;
    ensure!(
        text.contains("¥1,760"),
        "the widget's order lacks the total ¥1,760:\n{text}"
    );
    let card = suite.demo.card.clone();
    browser.keys(&[tab]).await?;
    browser.expect_focus("#kc-number").await?;
    browser.type_text(&card.number).await?;
    suite.cards_typed.push(card.number.clone());
    browser.keys(&[tab]).await?;
    browser.expect_focus("#kc-expiry").await?;
    browser.type_text(&card.expiry()).await?;
    browser.keys(&[tab]).await?;
    browser.expect_focus("#kc-cvc").await?;
    browser.type_text(&card.cvc).await?;
    browser.keys(&[tab]).await?;
    browser.expect_focus("button:Pay ¥1,760").await?;
    browser.keys(&[shift, tab]).await?;
    browser.expect_focus("#kc-cvc").await?;
    browser.keys(&[tab]).await?;
    browser.expect_focus("button:Pay ¥1,760").await?;
    browser.keys(&[space]).await?;
    wait_until_shop_says_paid(suite).await?;
    suite.browser.screenshot("keyboard_only").await?;
    Ok(())
}

/// Mounts a `<kessai-checkout>` with these attributes in place of the
/// page's (loading the widget's script if the page has none).
async fn mount_widget(browser: &Browser, server_url: &str, attributes: &Value) -> anyhow::Result<()> {
    browser
        .js(
            "const [server, attributes] = arguments;\
             document.querySelector('kessai-checkout')?.remove();\
             if (!customElements.get('kessai-checkout')) {\
               const script = document.createElement('script');\
               script.type = 'module';\
               script.src = server + '/widget/kessai-checkout.js';\
               document.head.append(script);\
             }\
             const el = document.createElement('kessai-checkout');\
             for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);\
             document.body.append(el);",
            vec![json!(server_url), attributes.clone()],
        )
        .await?;
    Ok(())
}

/// The attributes of the page's `<kessai-checkout>`.
async fn widget_attributes(browser: &Browser) -> anyhow::Result<Value> {
    browser
        .js(
            "const el = document.querySelector('kessai-checkout');\
             return Object.fromEntries(el.getAttributeNames().map(n => [n, el.getAttribute(n)]));",
            vec![],
        )
        .await
}

/// Scenario 5: The page keeps the buyer after paying (`kessai:result` canceled);
/// a reload shows the final result, never a second payment form.
async fn reload_after_payment(suite: &mut Suite) -> anyhow::Result<()> {
    let order_url = place_order(suite, &[("YYYY", 1)]).await?;
    let browser = &suite.browser;
    let attributes = widget_attributes(browser).await?;
    browser
        .js(
            "window.kessaiResults = [];\
             document.addEventListener('kessai:result', (event) => {\
               event.preventDefault();\
               window.kessaiResults.push(event.detail.status);\
             });",
            vec![],
        )
        .await?;
    let card = suite.demo.card.clone();
    browser.type_card(&card).await?;
    suite.cards_typed.push(card.number.clone());
    click_pay(browser, "¥660").await?;
    let heading = browser.wait_for_result_heading().await?;
    ensure!(heading == "Payment complete", "result heading {heading:?}");
    let results = browser.js("return window.kessaiResults;", vec![]).await?;
    ensure!(results == json!(["succeeded"]), "kessai:result events: {results}");
    let posting = browser
        .js("return !!document.querySelector('form[action$=\"/done\"]');", vec![])
        .await?;
    ensure!(
        posting == json!(false),
        "the widget started the POST to return_url despite preventDefault"
    );
    ensure!(browser.url().await? == order_url, "the widget left the page");

    browser.client.refresh().await?;
    browser
        .wait_js(
            "the reloaded order page",
            "return document.readyState === 'complete' && !!document.querySelector('#order-status');",
            vec![],
        )
        .await?;
    // The shop embeds the widget until it has verified a result, which the
    // signed webhook may already have brought; either way a widget mounted
    // for this settlement now must show the result, not a form.
    let word = shop_payment_word(browser).await?;
    let shop_embeds = browser
        .js("return !!document.querySelector('kessai-checkout');", vec![])
        .await?;
    eprintln!("e2e: after the reload the shop says {word:?} and embeds the widget: {shop_embeds}");
    if shop_embeds != json!(true) {
        ensure!(
            word == "paid",
            "the shop neither embeds the widget nor says paid but {word:?}"
        );
        mount_widget(browser, &suite.demo.server_url, &attributes).await?;
    }
    let heading = browser.wait_for_result_heading().await?;
    ensure!(
        heading == "Payment complete",
        "after the reload the widget says {heading:?}"
    );
    ensure!(
        browser.widget("#kc-number").await.is_err(),
        "a card form after the reload"
    );
    let back = browser.widget("[part=result] button").await?;
    ensure!(
        back.text().await? == "Return to the shop",
        "no \"Return to the shop\" button after the reload"
    );
    ensure!(
        browser.url().await? == order_url,
        "the reloaded widget navigated by itself"
    );
    browser.screenshot("reload_after_payment").await?;
    Ok(())
}

/// The widget in Japanese (`lang="ja"` on the element): the labels the
/// embedding contract names.
async fn japanese_labels(suite: &mut Suite) -> anyhow::Result<()> {
    place_order(suite, &[("XXXX", 1)]).await?;
    let browser = &suite.browser;
    let mut attributes = widget_attributes(browser).await?;
    attributes["lang"] = json!("ja");
    mount_widget(browser, &suite.demo.server_url, &attributes).await?;
    browser.wait_for_card_form().await?;
    let labels = browser
        .js(
            "const root = document.querySelector('kessai-checkout').shadowRoot;\
             return ['kc-number', 'kc-expiry', 'kc-cvc']\
               .map(id => root.querySelector(`label[for=${id}]`).textContent);",
            vec![],
        )
        .await?;
    ensure!(
        labels == json!(["カード番号", "有効期限", "セキュリティコード"]),
        "Japanese labels: {labels}"
    );
    let pay = browser.widget("button[type=submit]").await?.text().await?;
    ensure!(
        pay.starts_with("支払う") && pay.contains("¥550"),
        "Japanese pay button: {pay:?}"
    );
    let text = browser.widget_text().await?;
    ensure!(
        text.contains("ご注文内容") && text.contains("合計"),
        "Japanese order summary:\n{text}"
    );
    browser.screenshot("japanese_labels").await?;
    Ok(())
}

/// Scenario 6: Every request the shop received, bodies included: no card number.
async fn shop_never_saw_the_card(suite: &mut Suite) -> anyhow::Result<()> {
    let url = format!("{}/requests.json", suite.demo.shop_url);
    let requests: Vec<Value> = reqwest::get(&url).await?.error_for_status()?.json().await?;
    let done = requests
        .iter()
        .filter(|r| r["method"] == "POST" && r["uri"].as_str().is_some_and(|u| u.ends_with("/done")))
        .count();
    ensure!(
        done >= 2,
        "the shop's log has {done} result POSTs; expected the two paid orders' (is the log complete?)"
    );
    ensure!(suite.cards_typed.len() >= 4, "cards typed: {:?}", suite.cards_typed);
    for request in &requests {
        let uri = request["uri"].as_str().unwrap_or_default();
        let body = request["body"].as_str().unwrap_or_default();
        for number in &suite.cards_typed {
            ensure!(
                !uri.contains(number.as_str()) && !body.contains(number.as_str()),
                "the shop received card number {number} in {} {uri}",
                request["method"]
            );
        }
    }
    // Nor did the browser keep it anywhere a script of the shop's origin, or
    // the address bar, could read it later.
    let kept = suite
        .browser
        .js(
            "return [location.href, document.cookie, JSON.stringify(Object.assign({}, localStorage)), \
             JSON.stringify(Object.assign({}, sessionStorage))].join('\\n');",
            vec![],
        )
        .await?;
    let kept = kept.as_str().unwrap_or_default().to_string();
    for number in &suite.cards_typed {
        ensure!(
            !kept.contains(number.as_str()),
            "card number {number} kept in URL, cookie or storage: {kept}"
        );
    }
    suite.browser.goto(&url).await?;
    suite.browser.screenshot("shop_never_saw_the_card").await?;
    eprintln!(
        "e2e: the shop received {} requests, none with any of {} card numbers",
        requests.len(),
        suite.cards_typed.len()
    );
    Ok(())
}

/// Scenario (D10): "Pay with your phone". The checkout shows a transaction
/// number and its QR code; the test reads the code off a screenshot as a
/// phone's camera would, and pays the number over HTTP as the buyer's
/// phone (the demo's wallet user: log in, sync the number, confirm the
/// amount); the widget, waiting on the server, takes the shop's page to its
/// paid order.
async fn pay_with_your_phone(suite: &mut Suite) -> anyhow::Result<()> {
    place_order(suite, &[("YYYY", 1)]).await?;
    let browser = &suite.browser;
    // Offered once the server's start message says the shop sent the order.
    browser
        .wait_js(
            "the widget's \"Pay with your phone\" button",
            "return document.querySelector('kessai-checkout')?.shadowRoot\
               ?.querySelector('[part=phone-button]:not([hidden])');",
            vec![],
        )
        .await?;
    let button = browser.widget("[part=phone-button]").await?;
    let label = button.text().await?;
    ensure!(label == "Pay with your phone", "the phone's button says {label:?}");
    button.click().await?;
    let number = browser
        .wait_js(
            "the transaction number and its loaded QR code",
            "const root = document.querySelector('kessai-checkout')?.shadowRoot;\
             const number = root?.querySelector('[data-number]:not([hidden] *)');\
             const qr = root?.querySelector('img.qr');\
             return number && qr && qr.complete && qr.naturalWidth > 0 ? number.getAttribute('data-number') : null;",
            vec![],
        )
        .await?;
    let number = number.as_str().context("data-number is not text")?.to_string();
    ensure!(
        number.len() == 8 && number.bytes().all(|b| b.is_ascii_digit()),
        "the number shown is {number:?}"
    );
    let text = browser.widget_text().await?;
    let grouped = format!("{} {}", &number[..4], &number[4..]);
    for expected in [grouped.as_str(), "Pay in store", "Valid for "] {
        ensure!(text.contains(expected), "the phone's panel lacks {expected:?}:\n{text}");
    }
    let focused = browser
        .js(
            "return document.querySelector('kessai-checkout').shadowRoot.activeElement?.getAttribute('part');",
            vec![],
        )
        .await?;
    ensure!(
        focused == json!("phone"),
        "the focus is on {focused}, not on the phone's panel"
    );
    let fields = read_the_code(browser).await?;
    ensure!(
        fields.number == number,
        "the QR code's number is {}, the page's {number}",
        fields.number
    );
    ensure!(
        fields.amount == Some(660),
        "the QR code's amount is {:?}",
        fields.amount
    );
    pay_by_number_as_the_phone(suite, &number, 660).await?;
    wait_until_shop_says_paid(suite).await?;
    suite.browser.screenshot("pay_with_your_phone").await?;
    Ok(())
}

/// Reads the QR code off a screenshot of the phone's panel, as a phone's
/// camera would, and parses its EMV payload.
async fn read_the_code(browser: &Browser) -> anyhow::Result<kessai_protocol::emv::Fields> {
    // The whole panel in the viewport: an element's screenshot is cut at
    // its edge.
    browser
        .js(
            "document.querySelector('kessai-checkout').shadowRoot.querySelector('[part=phone]')\
               .scrollIntoView({block: 'center'});",
            vec![],
        )
        .await?;
    browser.screenshot("pay_with_your_phone-panel").await?;
    // The code, read off the panel's picture, is the same number.
    let png = browser.widget("[part=phone]").await?.screenshot().await?;
    std::fs::write(kessai_e2e::artifacts_dir()?.join("pay_with_your_phone-qr.png"), &png)?;
    let texts = kessai_testkit::decode_qr_png(&png)?;
    ensure!(texts.len() == 1, "{} QR codes in the panel", texts.len());
    kessai_protocol::emv::parse(&texts[0]).map_err(|e| anyhow::anyhow!("{e:?}"))
}

/// The buyer's phone: the demo's wallet user at the shop's institution logs
/// in, syncs the number (it sees the shop's order) and confirms the amount.
async fn pay_by_number_as_the_phone(suite: &Suite, number: &str, amount: u64) -> anyhow::Result<()> {
    let user = &suite.demo.institutions[0];
    let token = suite.demo.api().wallet_token(&user.user_id, &user.password).await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        http.post(format!("{}{path}", suite.demo.server_url))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let seen: Value = post("/v1/wallet/transactions/sync", json!({ "number": number }))
        .await?
        .error_for_status()?
        .json()
        .await?;
    ensure!(
        seen["amount"] == json!(amount) && seen["order"]["items"][0]["code"] == json!("YYYY"),
        "the phone sees {seen}"
    );
    let id = seen["id"].as_str().context("no transaction id")?;
    let paid: Value = post(
        &format!("/v1/wallet/transactions/{id}/confirm"),
        json!({ "amount": amount, "currency": "JPY" }),
    )
    .await?
    .error_for_status()?
    .json()
    .await?;
    ensure!(paid["status"] == json!("succeeded"), "the phone's payment: {paid}");
    Ok(())
}
