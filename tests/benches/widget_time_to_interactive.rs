//! `cargo bench -p kessai-e2e`: how long the checkout widget takes from the
//! start of the loader's fetch to an enabled card form, in headless Chromium
//! against `kessai demo` on localhost (issue 3: "the time from script start
//! to an interactive form"). Needs what the e2e suite needs: a built
//! `target/debug/kessai`, `./scripts/build-widget.sh`, Chromium and
//! chromedriver. Results are printed, never asserted (docs/BENCHMARKS.md).

use std::time::Duration;

use kessai_e2e::{Browser, Demo};

/// Fresh browser profiles (cold loads), each followed by warm reloads.
const PROFILES: usize = 5;
const WARM_LOADS: usize = 3;

/// Resolves, in the page, once the widget's form is interactive: the time
/// from the loader's fetch start (Resource Timing) to that moment, in ms.
/// Polls every animation frame, so it errs late by at most a frame.
const MEASURE: &str = "const done = arguments[arguments.length - 1];
  const tick = () => {
    const root = document.querySelector('kessai-checkout')?.shadowRoot;
    const ready = root?.querySelector('#kc-number') && root.querySelector('button[type=submit]:not([disabled])');
    const start = performance.getEntriesByType('resource').find(e => e.name.endsWith('/widget/kessai-checkout.js'));
    if (ready && start) { done(performance.now() - start.startTime); } else { requestAnimationFrame(tick); }
  };
  tick();";

async fn order_url(demo: &Demo) -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let resp = client
        .post(format!("{}/orders", demo.shop_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("XXXX=1&YYYY=1&name=Bench&address=Loopback&contact=none")
        .send()
        .await?;
    let location = resp
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default();
    anyhow::ensure!(
        !location.is_empty(),
        "the shop did not redirect to an order page ({})",
        resp.status()
    );
    Ok(format!("{}{location}", demo.shop_url))
}

async fn measure(browser: &Browser, url: &str) -> anyhow::Result<f64> {
    browser.goto(url).await?;
    let value = tokio::time::timeout(Duration::from_secs(15), browser.client.execute_async(MEASURE, vec![])).await??;
    value
        .as_f64()
        .ok_or_else(|| anyhow::anyhow!("the page measured {value}"))
}

fn summary(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let median = ms.get(ms.len() / 2).copied().unwrap_or(f64::NAN);
    let (min, max) = (
        ms.first().copied().unwrap_or(f64::NAN),
        ms.last().copied().unwrap_or(f64::NAN),
    );
    println!(
        "{name:>5}: median {median:6.1} ms, min {min:6.1} ms, max {max:6.1} ms (n = {})",
        ms.len()
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = Demo::start().await?;
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for _ in 0..PROFILES {
        let browser = Browser::start().await?;
        cold.push(measure(&browser, &order_url(&demo).await?).await?);
        for _ in 0..WARM_LOADS {
            warm.push(measure(&browser, &order_url(&demo).await?).await?);
        }
        browser.close().await;
    }
    println!("checkout widget, loader fetch start -> interactive card form (headless Chromium, localhost):");
    summary("cold", cold);
    summary("warm", warm);
    Ok(())
}
