//! End-to-end: the web wallet (PROTOCOL section 12, issue 9) against one
//! `kessai demo` (Kessai Pay, the shop's institution; Sakura Bank and Fuji
//! Card, each with a wallet user), in one headless Chromium with the wallet
//! extension loaded. The scenarios run in sequence and build on each other:
//!
//! a. "Add account" twice in the wallet page (`{server}/wallet/`): Sakura's
//!    and Fuji's users, both listed with their available amounts.
//! b. "Ask me every time": the widget's "Pay with web wallet" opens the
//!    wallet in a popup window (driven through WebDriver: `window.open` is
//!    listed), the sheet lists both accounts, a click on Sakura pays; the
//!    shop verifies the result token; Sakura's available drops by the total.
//! c. "Use my default account" (Fuji made default): proposed first; paid.
//! d. "Choose automatically": the first usable account proposed; paid.
//! e. The extension: an account added in the extension's own wallet page
//!    (its storage is `chrome.storage.local`), then "Pay with Kessai Wallet"
//!    in the widget. chromedriver does not list the window the extension
//!    opens with `chrome.windows.create`, so, as tests/extension.rs does,
//!    the test reads the request's key from the extension's session storage
//!    in an extension tab and runs the wallet page with that key in that
//!    tab, where it clicks "Pay with …"; the result goes back through the
//!    service worker to the shop's page.
//! f. A session ended at the server: paying offers "Log in again"; the
//!    password logs in again and the payment goes through.
//! g. A shop that accepts no brand the user has: a `#start=` link to the
//!    wallet lists every account disabled with the reason.
//! h. The shop never saw a wallet token or the password.
//! i. Pay in store (PROTOCOL section 13): a POS terminal registered for a
//!    new merchant at the shop's institution opens a ¥1,155 transaction
//!    over HTTP with its key; the wallet, now logged in there too, types its
//!    number as the terminal shows it ("1234 5678"), asks Sakura and Fuji
//!    first (404), finds it at the shop's institution, shows the merchant,
//!    terminal and amount, pays on "Pay ¥1,155" and shows the receipt; the
//!    terminal sees `succeeded` with the same receipt.
//! j. Devices (PROTOCOL section 13, "Devices"): a vending machine, an
//!    entry and an exit gate and a ticket machine registered for a new
//!    merchant of the shop's institution, with its fee table (`kessai
//!    merchant fees`). In the wallet: one article chosen from the vending
//!    machine's menu and paid, the machine told what to dispense (C5); the
//!    entry gate's number admits at once and the wallet keeps the admission,
//!    the exit's number is sent with it and the fee paid, the exit opens
//!    (C6); a ticket bought, whose text from the wallet's `data-ticket`
//!    field is admitted once at `POST /v1/terminal/tickets/verify` (C9).
//!
//! Then every institution's ledger checks. Every screen is saved in
//! `tests/artifacts/wallet-*.png`. Runs only with `KESSAI_E2E=1`, after
//! `./scripts/build-widget.sh`, `./scripts/build-wallet.sh`,
//! `./scripts/build-extension.sh` and `cargo build -p kessai-server`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use base64::Engine;
use fantoccini::wd::WindowHandle;
use fantoccini::Locator;
use kessai_e2e::{wait_for, Browser, Demo, Institution};
use serde_json::{json, Value};

/// The password of every demo wallet user.
const PASSWORD: &str = "demo-password";
/// One jar of grape jelly (600) and its tax (60): what every order costs.
const TOTAL: u64 = 660;

struct Suite {
    demo: Demo,
    browser: Browser,
    /// The shop's (and the wallet page's) tab.
    main: WindowHandle,
    sakura: Institution,
    fuji: Institution,
    /// Session tokens the wallets held, to look for where they must not be.
    tokens: Vec<String>,
    /// Every shop page the buyer saw, as HTML.
    shop_pages: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_scenarios() -> anyhow::Result<()> {
    if !kessai_e2e::enabled() {
        eprintln!("skipped: set KESSAI_E2E=1 (scripts/test.sh does)");
        return Ok(());
    }
    let extension = kessai_e2e::target_dir().join("wallet-extension");
    ensure!(
        extension.join("manifest.json").is_file(),
        "the wallet extension is not built ({}): run ./scripts/build-extension.sh",
        extension.display()
    );
    let started = Instant::now();
    let demo = Demo::start_logging_to("wallet-demo.log").await?;
    let browser = Browser::start_with_extension(&extension, &[]).await?;
    let main = browser.client.window().await?;
    let by_name = |name: &str| demo.institutions.iter().find(|i| i.name == name).cloned();
    let sakura = by_name("Sakura Bank").context("no Sakura Bank in the demo")?;
    let fuji = by_name("Fuji Card").context("no Fuji Card in the demo")?;
    eprintln!(
        "wallet: demo {} (wallet {}), browser ready after {:.1} s",
        demo.shop_url,
        demo.wallet_url,
        started.elapsed().as_secs_f64()
    );
    let mut suite = Suite {
        demo,
        browser,
        main,
        sakura,
        fuji,
        tokens: Vec::new(),
        shop_pages: Vec::new(),
    };
    let outcome = run_all(&mut suite).await;
    let Suite { mut demo, browser, .. } = suite;
    browser.close().await;
    let running = demo.is_running();
    eprintln!("wallet: finished in {:.1} s", started.elapsed().as_secs_f64());
    outcome?;
    ensure!(
        running,
        "kessai demo exited during the tests; see tests/artifacts/wallet-demo.log"
    );
    Ok(())
}

async fn run_all(suite: &mut Suite) -> anyhow::Result<()> {
    scenario(suite, "a_add_two_accounts", add_two_accounts).await?;
    scenario(suite, "b_ask_every_time", ask_every_time).await?;
    scenario(suite, "c_default_account", default_account).await?;
    scenario(suite, "d_choose_automatically", choose_automatically).await?;
    scenario(suite, "e_through_the_extension", through_the_extension).await?;
    scenario(suite, "f_expired_session", expired_session).await?;
    scenario(suite, "g_no_brand_accepted", no_brand_accepted).await?;
    scenario(suite, "h_shop_never_saw_a_token", shop_never_saw_a_token).await?;
    scenario(suite, "i_pay_in_store", pay_in_store).await?;
    scenario(suite, "j_devices", devices).await?;
    let checked = suite.demo.ledger_check_all().await?;
    ensure!(checked.len() == 3, "ledgers checked: {checked:?}");
    eprintln!("wallet: ledgers check: {checked:?}");
    Ok(())
}

async fn scenario<F>(suite: &mut Suite, name: &str, run: F) -> anyhow::Result<()>
where
    F: AsyncFnOnce(&mut Suite) -> anyhow::Result<()>,
{
    let started = Instant::now();
    match run(suite).await {
        Ok(()) => {
            eprintln!("wallet: {name} passed in {:.1} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Err(error) => {
            let url = suite.browser.url().await.unwrap_or_default();
            let shot = suite.browser.screenshot(&format!("wallet-{name}-failure")).await;
            let shot = shot.map(|p| p.display().to_string()).unwrap_or_else(|e| e.to_string());
            Err(error.context(format!("scenario {name} failed at {url} (screenshot: {shot})")))
        }
    }
}

// ---- the wallet's screens -------------------------------------------------

/// An XPath string literal for `text` (no quote characters in our names).
fn xpath_text(text: &str) -> String {
    format!("'{text}'")
}

/// Waits for a button whose text is exactly `name` and returns it.
async fn button(browser: &Browser, name: &str) -> anyhow::Result<fantoccini::elements::Element> {
    let xpath = format!("//button[normalize-space(.)={}]", xpath_text(name));
    wait_for(&format!("the button {name:?}"), || async {
        Ok(browser.client.find(Locator::XPath(&xpath)).await.ok())
    })
    .await
}

/// Clicks the enabled button named `name`.
async fn click(browser: &Browser, name: &str) -> anyhow::Result<()> {
    let found = button(browser, name).await?;
    ensure!(found.is_enabled().await?, "the button {name:?} is disabled");
    found.click().await?;
    Ok(())
}

/// Waits until the page's text contains `text`.
async fn wait_text(browser: &Browser, text: &str) -> anyhow::Result<()> {
    browser.wait_text(text).await
}

/// `1155` as the wallet shows yen: `¥1,155`.
fn yen(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("¥{out}")
}

/// The `available` of the user's one account at `institution`, asked of
/// its server wallet with a session of the test's own.
async fn available(institution: &Institution) -> anyhow::Result<u64> {
    let api = kessai_testkit::Api::new(&institution.url);
    let token = api.wallet_token(&institution.user_id, &institution.password).await;
    let info = api.wallet_get(&token, "/v1/wallet/brand-info").await;
    info["accounts"][0]["available"]
        .as_u64()
        .with_context(|| format!("brand info without an available amount: {info}"))
}

/// Fills "Add account" (the current page must show it) and submits.
async fn add_account(browser: &Browser, institution: &Institution) -> anyhow::Result<()> {
    wait_text(browser, "Server wallet address").await?;
    browser.find("#address").await?.send_keys(&institution.url).await?;
    browser.find("#user-id").await?.send_keys(&institution.user_id).await?;
    browser
        .find("#password")
        .await?
        .send_keys(&institution.password)
        .await?;
    browser
        .screenshot(&format!("wallet-add-{}", slug(&institution.name)))
        .await?;
    let submit = browser.find("form button[type=submit]").await?;
    ensure!(submit.text().await? == "Add account", "the form's button");
    submit.click().await?;
    // Back on the accounts page, the account listed with its amount.
    let amount = yen(available(institution).await?);
    let what = format!("{} with {amount} on the accounts page", institution.name);
    browser
        .wait_js(
            &what,
            "return [...document.querySelectorAll('li.account')].some((li) => \
               li.innerText.includes(arguments[0]) && li.innerText.includes(arguments[1]));",
            vec![json!(institution.name), json!(amount)],
        )
        .await?;
    Ok(())
}

fn slug(name: &str) -> String {
    name.to_lowercase().replace(' ', "-")
}

/// Opens the wallet's settings and picks `mode` (`default`, `ask`,
/// `automatic`) by its label.
async fn set_mode(suite: &Suite, mode: &str, label: &str) -> anyhow::Result<()> {
    let browser = &suite.browser;
    browser.goto(&format!("{}#/settings", suite.demo.wallet_url)).await?;
    wait_text(browser, "When a shop asks for payment").await?;
    let label_el = browser.find(&format!("label[for=mode-{mode}]")).await?;
    ensure!(label_el.text().await? == label, "the label of mode-{mode}");
    label_el.click().await?;
    browser
        .wait_js(
            "the mode to be checked",
            "return document.getElementById(arguments[0])?.checked;",
            vec![json!(format!("mode-{mode}"))],
        )
        .await?;
    browser.screenshot(&format!("wallet-settings-{mode}")).await?;
    Ok(())
}

// ---- the shop --------------------------------------------------------------

/// Orders one jar of grape jelly at the demo shop and waits for the widget.
async fn place_order(suite: &Suite) -> anyhow::Result<()> {
    let browser = &suite.browser;
    browser.goto(&suite.demo.shop_url).await?;
    let input = browser.find("#q-YYYY").await?;
    input.clear().await?;
    input.send_keys("1").await?;
    for (id, value) in [
        ("name", "Hanako Yamada"),
        ("address", "1-2-3 Kawasaki, Kanagawa"),
        ("contact", "hanako@example.com"),
    ] {
        browser.find(&format!("#{id}")).await?.send_keys(value).await?;
    }
    browser.find("button[type=submit]").await?.click().await?;
    browser.wait_for_card_form().await?;
    Ok(())
}

/// Waits for the widget's wallet button named `name` (inside its shadow
/// root) and clicks it.
async fn click_widget_wallet(browser: &Browser, name: &str) -> anyhow::Result<()> {
    browser
        .wait_js(
            &format!("the widget's {name:?} button"),
            "const root = document.querySelector('kessai-checkout')?.shadowRoot;\
             return [...(root?.querySelectorAll('[part=wallets] button') ?? [])]\
               .some((b) => b.textContent.trim() === arguments[0]);",
            vec![json!(name)],
        )
        .await?;
    // The web wallet's button has an empty data-wallet; an extension's, its uuid.
    let selector = if name == "Pay with web wallet" {
        "[part=wallets] button[data-wallet='']"
    } else {
        "[part=wallets] button:not([data-wallet=''])"
    };
    let widget_button = browser.widget(selector).await?;
    let label = widget_button.text().await?;
    ensure!(label.trim() == name, "the widget's button says {label:?}");
    // The wallet buttons sit below the card form: bring them into view.
    browser
        .js(
            "document.querySelector('kessai-checkout').shadowRoot.querySelector('[part=wallets]')\
             .scrollIntoView({block: 'center'});",
            vec![],
        )
        .await?;
    browser.screenshot("wallet-widget-buttons").await?;
    widget_button.click().await?;
    Ok(())
}

/// In the shop's window: the widget shows success and the shop's order page
/// says paid (the shop verified the result token); keeps the page's HTML.
async fn shop_says_paid(suite: &mut Suite, shot: &str) -> anyhow::Result<()> {
    let browser = &suite.browser;
    browser
        .wait_js(
            "the shop's order page saying \"Payment: paid\"",
            "const s = document.querySelector('#order-status');\
             return s && s.innerText.trim() === 'Payment: paid' && !document.querySelector('kessai-checkout');",
            vec![],
        )
        .await?;
    browser.screenshot(shot).await?;
    let html = browser.js("return document.documentElement.outerHTML;", vec![]).await?;
    suite.shop_pages.push(html.as_str().unwrap_or_default().to_string());
    Ok(())
}

/// Switches to the wallet popup the widget opened (the one window besides
/// the main one).
async fn switch_to_popup(suite: &Suite) -> anyhow::Result<WindowHandle> {
    let browser = &suite.browser;
    let main = suite.main.clone();
    let popup = wait_for("the wallet's popup window", || {
        let main = main.clone();
        async move {
            let windows = browser.client.windows().await?;
            Ok(windows.into_iter().find(|w| *w != main))
        }
    })
    .await?;
    browser.client.switch_to_window(popup.clone()).await?;
    Ok(popup)
}

/// The "Pay with" buttons of the sheet in order: (name, enabled, primary).
async fn sheet_buttons(browser: &Browser) -> anyhow::Result<Vec<(String, bool, bool)>> {
    let value = browser
        .js(
            "return [...document.querySelectorAll('.sheet button.pay')].map((b) => \
               [b.textContent.trim(), !b.disabled, b.classList.contains('primary')]);",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(value)?)
}

/// In the popup: waits for "Choose how to pay" and its buttons.
async fn wait_for_sheet(browser: &Browser) -> anyhow::Result<Vec<(String, bool, bool)>> {
    wait_text(browser, "Choose how to pay").await?;
    wait_for("the sheet's accounts", || async {
        let buttons = sheet_buttons(browser).await?;
        Ok((!buttons.is_empty()).then_some(buttons))
    })
    .await
}

/// Clicks `name` in the popup, screenshots the receipt if it shows before
/// the widget closes the popup (it does on the result), and returns to the
/// shop's window.
async fn pay_in_popup(suite: &Suite, name: &str, shot: &str) -> anyhow::Result<()> {
    let browser = &suite.browser;
    let popup = browser.client.window().await?;
    click(browser, name).await?;
    let receipt = wait_for("the receipt or the popup closing", || {
        let popup = popup.clone();
        async move {
            if !browser.client.windows().await?.contains(&popup) {
                return Ok(Some(false));
            }
            let shown = browser
                .js("return !!document.body?.innerText.includes('Receipt');", vec![])
                .await
                .unwrap_or(json!(false));
            Ok((shown == json!(true)).then_some(true))
        }
    })
    .await?;
    if receipt {
        // The popup may close under the screenshot: that is the widget's doing.
        let _ = browser.screenshot(shot).await;
    }
    browser.client.switch_to_window(suite.main.clone()).await?;
    Ok(())
}

/// Orders, opens the web wallet's popup and waits for the sheet.
async fn order_and_open_wallet(suite: &Suite) -> anyhow::Result<Vec<(String, bool, bool)>> {
    place_order(suite).await?;
    click_widget_wallet(&suite.browser, "Pay with web wallet").await?;
    switch_to_popup(suite).await?;
    wait_for_sheet(&suite.browser).await
}

fn pay_with(institution: &Institution) -> String {
    format!("Pay with {} {}", institution.name, institution.brand)
}

// ---- the scenarios ---------------------------------------------------------

/// a. Both accounts added through "Add account".
async fn add_two_accounts(suite: &mut Suite) -> anyhow::Result<()> {
    let browser = &suite.browser;
    browser.goto(&suite.demo.wallet_url).await?;
    wait_text(browser, "No accounts yet").await?;
    browser.screenshot("wallet-empty").await?;
    for institution in [suite.sakura.clone(), suite.fuji.clone()] {
        let link = browser
            .client
            .find(Locator::XPath("//a[normalize-space(.)='Add account']"))
            .await?;
        link.click().await?;
        add_account(browser, &institution).await?;
    }
    browser.screenshot("wallet-accounts").await?;
    Ok(())
}

/// b. "Ask me every time": the sheet lists both; Sakura pays.
async fn ask_every_time(suite: &mut Suite) -> anyhow::Result<()> {
    set_mode(suite, "ask", "Ask me every time").await?;
    let before = available(&suite.sakura).await?;
    let buttons = order_and_open_wallet(suite).await?;
    let expected = vec![
        (pay_with(&suite.sakura), true, false),
        (pay_with(&suite.fuji), true, false),
    ];
    ensure!(buttons == expected, "the sheet offers {buttons:?}");
    suite.browser.screenshot("wallet-sheet-ask").await?;
    pay_in_popup(suite, &pay_with(&suite.sakura), "wallet-receipt-sakura").await?;
    shop_says_paid(suite, "wallet-shop-paid-ask").await?;
    let after = available(&suite.sakura).await?;
    ensure!(
        after + TOTAL == before,
        "Sakura's available went from {before} to {after}, not down by {TOTAL}"
    );
    Ok(())
}

/// c. "Use my default account" with Fuji as the default: proposed first.
async fn default_account(suite: &mut Suite) -> anyhow::Result<()> {
    let browser = &suite.browser;
    browser.goto(&suite.demo.wallet_url).await?;
    let xpath = "//li[contains(@class,'account')][contains(., 'Fuji Card')]//button[normalize-space(.)='Make default']";
    let make_default = wait_for("Fuji's \"Make default\"", || async {
        Ok(browser.client.find(Locator::XPath(xpath)).await.ok())
    })
    .await?;
    make_default.click().await?;
    browser
        .wait_js(
            "Fuji marked Default",
            "return [...document.querySelectorAll('li.account')].some((li) => \
               li.innerText.includes('Fuji Card') && li.querySelector('.badge'));",
            vec![],
        )
        .await?;
    browser.screenshot("wallet-accounts-default").await?;
    set_mode(suite, "default", "Use my default account").await?;
    let before = available(&suite.fuji).await?;
    let buttons = order_and_open_wallet(suite).await?;
    let expected = vec![
        (pay_with(&suite.fuji), true, true),
        (pay_with(&suite.sakura), true, false),
    ];
    ensure!(buttons == expected, "the sheet offers {buttons:?}");
    proposal_is_focused_and_unpaid(suite, &pay_with(&suite.fuji)).await?;
    suite.browser.screenshot("wallet-sheet-default").await?;
    pay_in_popup(suite, &pay_with(&suite.fuji), "wallet-receipt-fuji").await?;
    shop_says_paid(suite, "wallet-shop-paid-default").await?;
    let after = available(&suite.fuji).await?;
    ensure!(
        after + TOTAL == before,
        "Fuji's available went from {before} to {after}"
    );
    Ok(())
}

/// The proposal has the focus, "Other accounts" follows, and the shop's
/// widget is still waiting: nothing was paid before the click.
async fn proposal_is_focused_and_unpaid(suite: &Suite, name: &str) -> anyhow::Result<()> {
    let browser = &suite.browser;
    let focused = browser.focused().await?;
    ensure!(focused == format!("button:{name}"), "the focus is on {focused}");
    wait_text(browser, "Other accounts").await?;
    let popup = browser.client.window().await?;
    browser.client.switch_to_window(suite.main.clone()).await?;
    let result = browser
        .js(
            "return !!document.querySelector('kessai-checkout')?.shadowRoot?.querySelector('[part=result] h2');",
            vec![],
        )
        .await?;
    browser.client.switch_to_window(popup).await?;
    ensure!(result == json!(false), "the widget shows a result before the click");
    Ok(())
}

/// d. "Choose automatically": the first account that can pay is proposed.
async fn choose_automatically(suite: &mut Suite) -> anyhow::Result<()> {
    set_mode(suite, "automatic", "Choose automatically").await?;
    let buttons = order_and_open_wallet(suite).await?;
    let expected = vec![
        (pay_with(&suite.sakura), true, true),
        (pay_with(&suite.fuji), true, false),
    ];
    ensure!(buttons == expected, "the sheet offers {buttons:?}");
    proposal_is_focused_and_unpaid(suite, &pay_with(&suite.sakura)).await?;
    suite.browser.screenshot("wallet-sheet-automatic").await?;
    pay_in_popup(suite, &pay_with(&suite.sakura), "wallet-receipt-automatic").await?;
    shop_says_paid(suite, "wallet-shop-paid-automatic").await
}

/// e. The extension's wallet: its own account, then a payment it carries.
async fn through_the_extension(suite: &mut Suite) -> anyhow::Result<()> {
    let browser = &suite.browser;
    let page = format!("{}wallet/index.html", browser.extension_base_url().await?);
    let tab = browser.client.new_window(true).await?.handle;
    browser.client.switch_to_window(tab.clone()).await?;
    browser.goto(&format!("{page}#/add")).await?;
    add_account(browser, &suite.sakura).await?;
    browser.screenshot("wallet-extension-accounts").await?;

    browser.client.switch_to_window(suite.main.clone()).await?;
    place_order(suite).await?;
    click_widget_wallet(browser, "Pay with Kessai Wallet").await?;

    // The service worker opened the wallet in a window WebDriver cannot
    // see; its key is in the extension's session storage.
    browser.client.switch_to_window(tab.clone()).await?;
    let key = browser
        .run_async(
            "for (let i = 0; i < 200; i++) {\
           const items = await chrome.storage.session.get(null);\
           const found = Object.entries(items).find(([, p]) => p.window_id !== null);\
           if (found) return found[0].replace('pending:', '');\
           await new Promise((resolve) => setTimeout(resolve, 50));\
         }\
         throw new Error('no wallet window after 10 s');",
        )
        .await?;
    let key = key.as_str().context("no request key")?.to_string();
    browser.goto("about:blank").await?;
    browser.goto(&format!("{page}#ext={key}")).await?;
    let buttons = wait_for_sheet(browser).await?;
    // The mode is this wallet's own (ask, the default): no proposal.
    ensure!(
        buttons == vec![(pay_with(&suite.sakura), true, false)],
        "the extension's sheet offers {buttons:?}"
    );
    browser.screenshot("wallet-extension-sheet").await?;
    click(browser, &pay_with(&suite.sakura)).await?;
    wait_text(browser, "Receipt").await?;
    browser.screenshot("wallet-extension-receipt").await?;
    suite_tokens_from_host(suite).await?;
    let browser = &suite.browser;
    browser.client.close_window().await?;
    browser.client.switch_to_window(suite.main.clone()).await?;
    shop_says_paid(suite, "wallet-extension-shop-paid").await
}

/// Keeps the tokens of the extension's wallet (the current tab), for h.
async fn suite_tokens_from_host(suite: &mut Suite) -> anyhow::Result<()> {
    let saved = suite
        .browser
        .run_async("return await window.kessaiWalletHost.load('kessai-wallet');")
        .await?;
    let saved = saved.as_str().context("the extension's wallet saved nothing")?;
    suite.tokens.extend(tokens_in(saved));
    Ok(())
}

/// Every `wt_…` session token in a saved wallet's JSON.
fn tokens_in(saved: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = saved;
    while let Some(at) = rest.find("\"wt_") {
        let token: String = rest[at + 1..].chars().take_while(|c| *c != '"').collect();
        rest = &rest[at + 1 + token.len()..];
        found.push(token);
    }
    found
}

/// The page wallet's saved state (the current page must be the wallet).
async fn saved_wallet(browser: &Browser) -> anyhow::Result<Value> {
    let text = browser
        .js("return localStorage.getItem('kessai-wallet');", vec![])
        .await?;
    let text = text.as_str().context("the wallet saved nothing")?;
    Ok(serde_json::from_str(text)?)
}

/// f. A session ended at the server: "Log in again", then pay.
async fn expired_session(suite: &mut Suite) -> anyhow::Result<()> {
    let browser = &suite.browser;
    browser.goto(&suite.demo.wallet_url).await?;
    wait_text(browser, "Sakura Bank").await?;
    let saved = saved_wallet(browser).await?;
    suite.tokens.extend(tokens_in(&saved.to_string()));
    let link = saved["connectors"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["links"].as_array().cloned().unwrap_or_default())
        .find(|l| l["address"] == json!(suite.sakura.url))
        .context("no Sakura link in the saved wallet")?;
    let token = link["token"].as_str().context("no Sakura token")?.to_string();
    let ended = reqwest::Client::new()
        .delete(format!("{}/v1/wallet/sessions/current", suite.sakura.url))
        .bearer_auth(&token)
        .send()
        .await?;
    ensure!(ended.status().as_u16() == 204, "ending the session: {}", ended.status());

    let buttons = order_and_open_wallet(suite).await?;
    let browser = &suite.browser;
    // The wallet learns of the ended session either when its brand
    // information is stale and asked again before the sheet (B6: Sakura is
    // then disabled) or from the 401 of the payment itself.
    let sakura_usable = buttons
        .iter()
        .any(|(name, enabled, _)| *name == pay_with(&suite.sakura) && *enabled);
    if sakura_usable {
        click(browser, &pay_with(&suite.sakura)).await?;
    }
    eprintln!(
        "wallet: the ended session was found {}",
        if sakura_usable {
            "by the payment's 401"
        } else {
            "before the sheet"
        }
    );
    let relogin = button(browser, "Log in again").await?;
    wait_text(browser, "Your session ended").await?;
    browser.screenshot("wallet-sheet-log-in-again").await?;
    browser
        .find("form.relogin input[type=password]")
        .await?
        .send_keys(PASSWORD)
        .await?;
    relogin.click().await?;
    browser
        .wait_js(
            "the login form to go",
            "return !document.querySelector('form.relogin');",
            vec![],
        )
        .await?;
    pay_in_popup(suite, &pay_with(&suite.sakura), "wallet-receipt-after-login").await?;
    shop_says_paid(suite, "wallet-shop-paid-after-login").await
}

/// g. A shop that takes only a brand nobody has: the link shows why.
async fn no_brand_accepted(suite: &mut Suite) -> anyhow::Result<()> {
    let merchant = suite.demo.env.try_merchant("Brandless shop").await?;
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{}/v1/settlements", suite.demo.server_url))
        .bearer_auth(&merchant.secret_key)
        .json(&json!({"order": kessai_testkit::order("brandless-1"), "brands": ["no-such-brand"]}))
        .send()
        .await?
        .json()
        .await?;
    let id = created["id"].as_str().with_context(|| format!("created {created}"))?;
    let secret = created["client_secret"].as_str().context("no client secret")?;
    let start: Value = http
        .get(format!("{}/v1/payer/settlements/{id}/start", suite.demo.server_url))
        .query(&[("client_secret", secret)])
        .header("origin", "http://127.0.0.1:3000")
        .send()
        .await?
        .json()
        .await?;
    ensure!(start["type"] == json!("kessai.start"), "start message: {start}");
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(start.to_string());
    let browser = &suite.browser;
    browser.goto("about:blank").await?;
    browser
        .goto(&format!("{}#start={payload}", suite.demo.wallet_url))
        .await?;
    let buttons = wait_for_sheet(browser).await?;
    ensure!(
        buttons.len() == 2 && buttons.iter().all(|(_, enabled, _)| !enabled),
        "every account must be disabled: {buttons:?}"
    );
    let reasons = browser
        .js(
            "return [...document.querySelectorAll('.sheet button.pay')].map((b) => \
               document.getElementById(b.getAttribute('aria-describedby'))?.textContent);",
            vec![],
        )
        .await?;
    ensure!(
        reasons
            == json!([
                "The shop does not accept this brand.",
                "The shop does not accept this brand."
            ]),
        "the reasons: {reasons}"
    );
    wait_text(browser, "None of your accounts can pay this order.").await?;
    browser.screenshot("wallet-sheet-no-brand").await?;
    Ok(())
}

/// h. No `wt_` token and no password in the demo's log or the shop's pages.
async fn shop_never_saw_a_token(suite: &mut Suite) -> anyhow::Result<()> {
    ensure!(suite.tokens.len() >= 3, "tokens gathered: {}", suite.tokens.len());
    ensure!(
        suite.shop_pages.len() >= 5,
        "shop pages kept: {}",
        suite.shop_pages.len()
    );
    // Give the log writer a moment to flush what the last requests logged.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = std::fs::read_to_string(kessai_e2e::artifacts_dir()?.join("wallet-demo.log"))?;
    ensure!(!log.is_empty(), "the demo's log is empty");
    // The demo prints its wallet users and their password for the person
    // running it ("wallet user usr_… / demo-password"); nothing else may.
    let log: String = log
        .lines()
        .filter(|line| !line.contains(" wallet user usr_"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut places: Vec<(&str, &str)> = vec![("the demo's log", &log)];
    places.extend(suite.shop_pages.iter().map(|page| ("a shop page", page.as_str())));
    for (where_, text) in places {
        ensure!(!text.contains("wt_"), "{where_} holds a wt_ token");
        ensure!(!text.contains(PASSWORD), "{where_} holds the password");
        for token in &suite.tokens {
            ensure!(!text.contains(token.as_str()), "{where_} holds a session token");
        }
    }
    Ok(())
}

/// i. Pay in store with a transaction number typed in the wallet.
async fn pay_in_store(suite: &mut Suite) -> anyhow::Result<()> {
    let home = suite.demo.institutions[0].clone();
    let before = available(&home).await?;
    let terminal = register_terminal(suite).await?;
    let opened = terminal_call(
        suite,
        &terminal,
        "POST",
        "",
        Some(json!({ "amount": 1155, "currency": "JPY" })),
    )
    .await?;
    let number = opened["number"].as_str().context("no number")?.to_string();
    let id = opened["id"].as_str().context("no id")?.to_string();
    let browser = &suite.browser;
    browser.goto(&format!("{}#/add", suite.demo.wallet_url)).await?;
    add_account(browser, &home).await?;
    browser.goto(&format!("{}#/store", suite.demo.wallet_url)).await?;
    wait_text(browser, "Transaction number").await?;
    let field = browser.find("#transaction-number").await?;
    ensure!(
        field.attr("inputmode").await?.as_deref() == Some("numeric"),
        "a numeric keyboard"
    );
    field.send_keys(&format!("{} {}", &number[..4], &number[4..])).await?;
    browser.screenshot("wallet-store-number").await?;
    click(browser, "Continue").await?;
    for shown in ["Corner shop", "Front register", "REGISTER-1", "Ginza 1F", "¥1,155"] {
        wait_text(browser, shown).await?;
    }
    let synced = terminal_call(suite, &terminal, "GET", &format!("/{id}"), None).await?;
    ensure!(
        synced["status"] == "synchronized",
        "the terminal sees the payer: {synced}"
    );
    ensure!(available(&home).await? == before, "nothing paid before the click");
    browser.screenshot("wallet-store-bill").await?;
    click(browser, "Pay ¥1,155").await?;
    wait_text(browser, "Receipt number").await?;
    browser.screenshot("wallet-store-receipt").await?;
    let done = terminal_call(suite, &terminal, "GET", &format!("/{id}"), None).await?;
    ensure!(done["status"] == "succeeded", "the terminal's transaction: {done}");
    ensure!(done["receipt"]["amount"] == 1155, "the receipt's amount: {done}");
    let receipt_no = done["receipt"]["receipt_no"].as_str().context("no receipt number")?;
    wait_text(browser, receipt_no).await?;
    ensure!(available(&home).await? == before - 1155, "the payer paid ¥1,155");
    Ok(())
}

/// `kessai terminal register` for a new merchant of the shop's institution:
/// the terminal's key.
async fn register_terminal(suite: &Suite) -> anyhow::Result<String> {
    let env = &suite.demo.env;
    let merchant = env.try_merchant("Corner shop").await?;
    let extra = ["--label", "REGISTER-1", "--location", "Ginza 1F"];
    env.try_terminal(&merchant.id, "pos", "Front register", &extra).await
}

/// `{method} /v1/terminal/transactions{path}` with the terminal's key.
async fn terminal_call(
    suite: &Suite,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let url = format!("{}/v1/terminal/transactions{path}", suite.demo.server_url);
    let client = reqwest::Client::new();
    let request = match method {
        "POST" => client.post(&url).json(&body.unwrap_or_default()),
        _ => client.get(&url),
    };
    let response = request.bearer_auth(key).send().await?;
    let status = response.status();
    let value: Value = response.json().await?;
    ensure!(status.is_success(), "{method} {url}: {status} {value}");
    Ok(value)
}

/// j. The devices, each paid from the wallet's "Pay in store".
async fn devices(suite: &mut Suite) -> anyhow::Result<()> {
    let env = &suite.demo.env;
    let merchant = env.try_merchant("Station park").await?;
    let fees = [
        "merchant",
        "fees",
        "--merchant",
        &merchant.id,
        "--currency",
        "JPY",
        "--base",
        "100",
        "--per-minute",
        "10",
        "--max",
        "1000",
    ];
    env.try_admin(&fees).await?;
    let mut keys = Vec::new();
    for (kind, name) in [
        ("vending", "Drinks"),
        ("gate", "Entry gate"),
        ("gate", "Exit gate"),
        ("ticket", "Ticket machine"),
    ] {
        keys.push(env.try_terminal(&merchant.id, kind, name, &[]).await?);
    }
    let home = suite.demo.institutions[0].clone();
    let before = available(&home).await?;
    // Scenario i left its receipt on "Pay in store".
    suite.browser.goto(&format!("{}#/store", suite.demo.wallet_url)).await?;
    click(&suite.browser, "Pay something else").await?;
    let vended = vending_purchase(suite, &keys[0]).await?;
    let fee = gate_entry_and_exit(suite, &keys[1], &keys[2]).await?;
    let ticket_price = ticket_bought_and_admitted_once(suite, &keys[3]).await?;
    ensure!(
        available(&home).await? == before - vended - fee - ticket_price,
        "the payer paid the article, the fee and the ticket"
    );
    Ok(())
}

/// Types `number` into "Pay in store" and sends it.
async fn sync_in_wallet(suite: &Suite, number: &str) -> anyhow::Result<()> {
    let browser = &suite.browser;
    browser.goto(&format!("{}#/store", suite.demo.wallet_url)).await?;
    wait_text(browser, "Transaction number").await?;
    browser.find("#transaction-number").await?.send_keys(number).await?;
    click(browser, "Continue").await
}

/// C5: one article chosen (a choice of one), paid, dispensed.
async fn vending_purchase(suite: &Suite, key: &str) -> anyhow::Result<u64> {
    let menu = json!({ "menu": { "currency": "JPY", "items": [
        { "code": "tea", "name": "Green tea", "unit_price": 150 },
        { "code": "water", "name": "Water", "unit_price": 110 } ] } });
    let opened = terminal_api(suite, key, "POST", "/transactions", Some(menu)).await?;
    let (number, id) = (
        opened["number"].as_str().context("no number")?,
        opened["id"].as_str().context("no id")?,
    );
    sync_in_wallet(suite, number).await?;
    let browser = &suite.browser;
    wait_text(browser, "Choose one").await?;
    browser.find("label[for=menu-choice-1]").await?.click().await?;
    browser.screenshot("wallet-device-vending-choice").await?;
    click(browser, "Send order").await?;
    button(browser, "Pay ¥110").await?;
    click(browser, "Pay ¥110").await?;
    wait_text(browser, "Dispensing Water").await?;
    browser.screenshot("wallet-device-vending-dispensing").await?;
    click(browser, "Pay something else").await?;
    let done = terminal_api(suite, key, "GET", &format!("/transactions/{id}"), None).await?;
    ensure!(done["status"] == "succeeded", "the vending sale: {done}");
    ensure!(
        done["dispense"]["code"] == "water",
        "the machine dispenses water: {done}"
    );
    Ok(110)
}

/// C6: in at the entry (the admission kept), out at the exit paying the fee.
async fn gate_entry_and_exit(suite: &Suite, entry_key: &str, exit_key: &str) -> anyhow::Result<u64> {
    let browser = &suite.browser;
    let entry = terminal_api(suite, entry_key, "POST", "/gate/entries", Some(json!({}))).await?;
    sync_in_wallet(suite, entry["number"].as_str().context("no number")?).await?;
    wait_text(browser, "You entered Station park at").await?;
    browser.screenshot("wallet-device-gate-entered").await?;
    click(browser, "Pay something else").await?;
    wait_text(browser, "You are inside").await?;
    browser.screenshot("wallet-device-gate-inside").await?;
    let entry_id = entry["id"].as_str().context("no id")?;
    let opened = terminal_api(suite, entry_key, "GET", &format!("/transactions/{entry_id}"), None).await?;
    ensure!(opened["status"] == "succeeded", "the entry gate opens: {opened}");
    let exit = terminal_api(suite, exit_key, "POST", "/gate/exits", Some(json!({}))).await?;
    let exit_id = exit["id"].as_str().context("no id")?;
    sync_in_wallet(suite, exit["number"].as_str().context("no number")?).await?;
    wait_text(browser, "Gate fee").await?;
    let synced = terminal_api(suite, exit_key, "GET", &format!("/transactions/{exit_id}"), None).await?;
    ensure!(synced["status"] == "synchronized", "the exit sees the payer: {synced}");
    let fee = synced["amount"].as_u64().context("no fee")?;
    ensure!((110..=1000).contains(&fee), "base 100 + 10 a started minute: {fee}");
    browser.screenshot("wallet-device-gate-exit-fee").await?;
    click(browser, &format!("Pay {}", yen(fee))).await?;
    wait_text(browser, "The gate of Station park opens").await?;
    browser.screenshot("wallet-device-gate-exit-paid").await?;
    click(browser, "Pay something else").await?;
    let paid = terminal_api(suite, exit_key, "GET", &format!("/transactions/{exit_id}"), None).await?;
    ensure!(paid["status"] == "succeeded", "the exit gate opens: {paid}");
    ensure!(paid["receipt"]["amount"] == fee, "the fee was paid: {paid}");
    Ok(fee)
}

/// C9: a ticket bought in the wallet, admitted once by its `data-ticket`.
async fn ticket_bought_and_admitted_once(suite: &Suite, key: &str) -> anyhow::Result<u64> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let sale = json!({ "amount": 3000, "currency": "JPY",
        "ticket": { "event": "Spring concert", "valid_from": now - 60, "valid_until": now + 86_400 } });
    let opened = terminal_api(suite, key, "POST", "/transactions", Some(sale)).await?;
    sync_in_wallet(suite, opened["number"].as_str().context("no number")?).await?;
    let browser = &suite.browser;
    click(browser, "Pay ¥3,000").await?;
    wait_text(browser, "Spring concert").await?;
    browser.screenshot("wallet-device-ticket").await?;
    let field = browser.find("textarea[data-ticket]").await?;
    let ticket = field.attr("data-ticket").await?.context("no data-ticket")?;
    ensure!(browser.find("img.ticket-qr").await.is_ok(), "the ticket's QR code");
    let verify = json!({ "ticket": ticket });
    let (status, admitted) = terminal_raw(suite, key, "POST", "/tickets/verify", Some(verify.clone())).await?;
    ensure!(
        status == 200 && admitted["admitted"] == true,
        "admitted: {status} {admitted}"
    );
    ensure!(admitted["event"] == "Spring concert", "{admitted}");
    let (status, again) = terminal_raw(suite, key, "POST", "/tickets/verify", Some(verify)).await?;
    ensure!(
        status == 409 && again["error"]["code"] == "ticket_used",
        "once only: {status} {again}"
    );
    browser.goto(&format!("{}#/tickets", suite.demo.wallet_url)).await?;
    wait_text(browser, "Spring concert").await?;
    browser.screenshot("wallet-device-tickets-list").await?;
    Ok(3000)
}

/// `{method} /v1/terminal{path}` with the terminal's key: status and body.
async fn terminal_raw(
    suite: &Suite,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(u16, Value)> {
    let url = format!("{}/v1/terminal{path}", suite.demo.server_url);
    let client = reqwest::Client::new();
    let request = match method {
        "POST" => client.post(&url).json(&body.unwrap_or_default()),
        _ => client.get(&url),
    };
    let response = request.bearer_auth(key).send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

/// As [`terminal_raw`], a success only.
async fn terminal_api(
    suite: &Suite,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let (status, value) = terminal_raw(suite, key, method, path, body).await?;
    ensure!((200..300).contains(&status), "{method} {path}: {status} {value}");
    Ok(value)
}
