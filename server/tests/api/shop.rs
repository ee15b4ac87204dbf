//! The demo shop as a merchant backend (issue 3, A1, A6, A7), over real
//! HTTP against the real server; the browser's part (the second request) is
//! played over HTTP here. The headless-browser version is the end-to-end suite.

use kessai_protocol::Order;
use kessai_server::tools::shop::{self, ShopConfig};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{card_method, confirm_body, spawn_app, TestApp};

struct Shop {
    url: String,
    http: reqwest::Client,
}

async fn start_shop(app: &TestApp) -> Shop {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let notify = format!("{url}/kessai/webhook");
    let m = app.create_merchant(&[url.as_str()], Some(&notify)).await;
    let router = shop::router(ShopConfig {
        shop_url: url.clone(),
        server_url: app.base.clone(),
        merchant_id: m.merchant_id,
        secret_key: m.secret_key,
        result_key: m.result_key,
        webhook_secret: m.webhook_secret,
    });
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Shop { url, http }
}

/// The value of `name="…"` in the shop's checkout page.
fn attribute(html: &str, name: &str) -> String {
    let start = html
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("{name} in {html}"))
        + name.len()
        + 2;
    let end = start + html[start..].find('"').unwrap();
    html[start..end]
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Shop {
    /// Places an order through the catalogue form; returns the order page's path.
    async fn order(&self) -> String {
        let resp = self
            .http
            .post(format!("{}/orders", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("XXXX=2&YYYY=1&ZZZZ=0&name=Hanako+Yamada&address=3-2-1+Sakado&contact=044")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        resp.headers()["location"].to_str().unwrap().to_string()
    }

    async fn page(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn return_token(&self, path: &str, token: &str) -> StatusCode {
        let body = format!("result_token={}", token.replace('-', "%2D"));
        let resp = self
            .http
            .post(format!("{}{path}/done", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        resp.status()
    }
}

/// The order-complete page a buyer keeps: heading, order number, items,
/// delivery address and the next steps, with `#order-status` unchanged.
fn assert_paid_page_says_what_happens_next(page: &str, path: &str) {
    let order_id = path.trim_start_matches("/orders/");
    for expected in [
        "<h1>Thank you — your order is paid</h1>",
        "<p id=\"order-status\" role=\"status\">Payment: <strong>paid</strong></p>",
        &format!("Order number <strong>{order_id}</strong>"),
        "Peanut butter",
        "Grape jelly",
        "Tax</td><td>¥160</td>",
        "<th>¥1,760</th>",
        "<h2>Delivery</h2><p>Hanako Yamada<br>3-2-1 Sakado</p>",
        "<h2>What happens next</h2>",
        "We will pack your order and ship it to Hanako Yamada within 2 working days",
        "let you know at <strong>044</strong> when it is on its way",
    ] {
        assert!(page.contains(expected), "the paid page lacks {expected:?}: {page}");
    }
    assert!(!page.contains("Sourdough loaf"), "an item not ordered: {page}");
    assert!(!page.contains("<kessai-checkout"), "the widget on a paid order: {page}");
}

#[tokio::test]
async fn shop_marks_an_order_paid_only_after_verifying_the_result() {
    let app = spawn_app().await;
    let shop = start_shop(&app).await;
    let card = app.issue_card(100_000).await;
    let path = shop.order().await;
    let checkout = shop.page(&path).await;
    assert!(checkout.contains("awaiting payment"), "{checkout}");
    assert!(checkout.contains("<h1>Pay for your order</h1>"), "{checkout}");
    assert!(!checkout.contains("Thank you"), "thanks before payment: {checkout}");
    assert!(
        checkout.contains("/widget/kessai-checkout.js"),
        "the page embeds the widget: {checkout}"
    );
    let (id, secret) = (
        attribute(&checkout, "settlement-id"),
        attribute(&checkout, "client-secret"),
    );
    let order: Order = serde_json::from_str(&attribute(&checkout, "order")).unwrap();
    assert_eq!(order.total, 1760, "2 × 500 + 600, plus 10% tax");

    // The browser's second request, straight to the settling server.
    let result: Value = app
        .confirm_ok(&id, &confirm_body(&secret, &order, card_method(&card)))
        .await;
    assert_eq!(result["status"], "succeeded", "{result}");
    let token = result["result_token"].as_str().unwrap();

    // A tampered token is refused and the order stays unpaid.
    let mut forged = token.to_string();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(shop.return_token(&path, &forged).await, StatusCode::BAD_REQUEST);
    // The genuine one is accepted.
    assert_eq!(shop.return_token(&path, token).await, StatusCode::SEE_OTHER);
    let page = shop.page(&path).await;
    assert!(page.contains("Payment: <strong>paid</strong>"), "{page}");
    assert_paid_page_says_what_happens_next(&page, &path);

    // The shop never saw the card: not in any request it received.
    let log: Value = shop
        .http
        .get(format!("{}/requests.json", shop.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let log = log.to_string();
    assert!(log.contains("/orders"), "the log records requests: {log}");
    assert!(!log.contains(&card.card_number), "the card number reached the shop");
    assert!(!log.contains(&format!("\"cvc\":\"{}\"", card.cvc)));
}

#[tokio::test]
async fn shop_accepts_the_signed_webhook_and_refuses_a_forged_one() {
    let app = spawn_app().await;
    let shop = start_shop(&app).await;
    let forged = shop
        .http
        .post(format!("{}/kessai/webhook", shop.url))
        .header("webhook-id", "evt_x")
        .header("webhook-timestamp", kessai_core::clock::now().to_string())
        .header("webhook-signature", "v1,AAAA")
        .body(r#"{"type":"settlement.succeeded","timestamp":0,"data":{}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    let card = app.issue_card(100_000).await;
    let path = shop.order().await;
    let checkout = shop.page(&path).await;
    let (id, secret) = (
        attribute(&checkout, "settlement-id"),
        attribute(&checkout, "client-secret"),
    );
    let order: Order = serde_json::from_str(&attribute(&checkout, "order")).unwrap();
    app.confirm_ok(&id, &confirm_body(&secret, &order, card_method(&card)))
        .await;
    // A7: without the browser coming back, the pushed result marks it paid.
    let mut page = String::new();
    for _ in 0..100 {
        page = shop.page(&path).await;
        if page.contains("Payment: <strong>paid</strong>") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(page.contains("Payment: <strong>paid</strong>"), "{page}");
}

#[tokio::test]
async fn shop_quantity_labels_are_for_screen_readers_only() {
    let app = spawn_app().await;
    let shop = start_shop(&app).await;
    let catalogue = shop.page("/").await;
    for code in ["XXXX", "YYYY", "ZZZZ"] {
        let label = format!("<label for=\"q-{code}\" class=\"visually-hidden\">Quantity of ");
        assert!(catalogue.contains(&label), "no hidden label for {code}: {catalogue}");
        assert!(catalogue.contains(&format!("<input id=\"q-{code}\"")), "{catalogue}");
    }
    // The `hidden` attribute lost to `label{display:block}`; it is gone from
    // the labels, and where it is used it now wins.
    assert!(!catalogue.contains("\" hidden>Quantity"), "{catalogue}");
    assert!(catalogue.contains("[hidden]{display:none!important}"), "{catalogue}");
    let rule = ".visually-hidden{position:absolute!important;width:1px;height:1px;";
    assert!(catalogue.contains(rule), "no visually-hidden rule: {catalogue}");
    assert!(catalogue.contains("clip:rect(0,0,0,0)"), "{catalogue}");
}

#[tokio::test]
async fn shop_pages_carry_an_icon_and_favicon_ico_is_served() {
    let app = spawn_app().await;
    let shop = start_shop(&app).await;
    let path = shop.order().await;
    for page_path in ["/", path.as_str(), "/orders/demo-none"] {
        let page = shop.page(page_path).await;
        assert!(
            page.contains("<link rel=\"icon\" type=\"image/svg+xml\" href=\"data:image/svg+xml,%3Csvg "),
            "no inline icon on {page_path}: {page}"
        );
    }
    let icon = shop.http.get(format!("{}/favicon.ico", shop.url)).send().await.unwrap();
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert!(icon.text().await.unwrap().starts_with("<svg "));
}

#[tokio::test]
async fn shop_says_plainly_that_a_declined_order_is_not_paid() {
    let app = spawn_app().await;
    let shop = start_shop(&app).await;
    let card = app.issue_card(100).await;
    let path = shop.order().await;
    let checkout = shop.page(&path).await;
    let (id, secret) = (
        attribute(&checkout, "settlement-id"),
        attribute(&checkout, "client-secret"),
    );
    let order: Order = serde_json::from_str(&attribute(&checkout, "order")).unwrap();
    let result = app
        .confirm_ok(&id, &confirm_body(&secret, &order, card_method(&card)))
        .await;
    assert_eq!(result["status"], "declined", "{result}");
    let token = result["result_token"].as_str().unwrap();
    assert_eq!(shop.return_token(&path, token).await, StatusCode::SEE_OTHER);
    let page = shop.page(&path).await;
    for expected in [
        "<h1>Payment declined — your order is not paid</h1>",
        "Payment: <strong>declined</strong>",
        "nothing was charged and we will not ship this order",
        "Peanut butter",
    ] {
        assert!(page.contains(expected), "the declined page lacks {expected:?}: {page}");
    }
    assert!(!page.contains("Thank you"), "{page}");
}
