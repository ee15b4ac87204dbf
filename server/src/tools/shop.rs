//! The demo shop (issue 3, seed 003 figure 4): a merchant's backend written
//! the way a merchant would write one. It talks to the settling server only
//! over HTTP with its secret key, embeds the checkout widget, and accepts a
//! result only after verifying it (result token or signed webhook). It never
//! sees card data: the buyer's browser sends that to the settling server.
//! Every request it receives is recorded (`GET /requests.json`), so a test
//! can prove that no card number ever reached it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kessai_protocol::jws::{self, ResultClaims};
use kessai_protocol::{keys, money, webhooks, Item, Order};
use serde::Serialize;

/// What the shop needs to know about itself and its settling server.
#[derive(Clone)]
pub struct ShopConfig {
    pub shop_url: String,
    pub server_url: String,
    pub merchant_id: String,
    pub secret_key: String,
    pub result_key: String,
    pub webhook_secret: String,
}

#[derive(Clone)]
struct ShopState {
    config: Arc<ShopConfig>,
    http: reqwest::Client,
    orders: Arc<Mutex<HashMap<String, ShopOrder>>>,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
}

#[derive(Clone, Debug)]
struct ShopOrder {
    order: Order,
    delivery: Delivery,
    settlement_id: String,
    client_secret: String,
    /// Set only from a verified result token or a verified webhook.
    status: Option<String>,
}

/// Where the order goes and how to reach the buyer, as typed in the form.
#[derive(Clone, Debug, Default)]
struct Delivery {
    name: String,
    address: String,
    contact: String,
}

#[derive(Clone, Debug, Serialize)]
struct RecordedRequest {
    method: String,
    uri: String,
    body: String,
}

/// The catalogue: code, name, unit price in yen.
const PRODUCTS: [(&str, &str, u64); 3] = [
    ("XXXX", "Peanut butter", 500),
    ("YYYY", "Grape jelly", 600),
    ("ZZZZ", "Sourdough loaf", 450),
];
/// Consumption tax, percent.
const TAX_PERCENT: u64 = 10;
/// Bounds what the in-memory log keeps.
const REQUESTS_KEPT_MAX: usize = 10_000;

pub fn router(config: ShopConfig) -> Router {
    let state = ShopState {
        config: Arc::new(config),
        http: reqwest::Client::new(),
        orders: Arc::default(),
        requests: Arc::default(),
    };
    Router::new()
        .route("/", get(catalogue))
        .route("/favicon.ico", get(favicon))
        .route("/orders", post(place_order))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/done", post(payment_done))
        .route("/kessai/webhook", post(webhook))
        .route("/requests.json", get(requests))
        .layer(axum::middleware::from_fn_with_state(state.clone(), record))
        .with_state(state)
}

/// Records every request, body included (bodies are small form posts).
async fn record(State(state): State<ShopState>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1024 * 1024).await.unwrap_or_default();
    if let Ok(mut log) = state.requests.lock() {
        if log.len() < REQUESTS_KEPT_MAX {
            log.push(RecordedRequest {
                method: parts.method.to_string(),
                uri: parts.uri.to_string(),
                body: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
    }
    next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

async fn requests(State(state): State<ShopState>) -> Response {
    let log = state.requests.lock().map(|l| l.clone()).unwrap_or_default();
    axum::Json(log).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The shop's icon: a plain "K" on a blue square. Served inline in every
/// page's head and at `/favicon.ico`, so browsers never log a 404 for it.
const FAVICON_SVG: &str = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'>\
<rect width='16' height='16' rx='3' fill='#1a5fb4'/>\
<path d='M5 3v10M11 3 5.5 8 11 13' stroke='#fff' stroke-width='2' fill='none'/></svg>";

/// `/favicon.ico`: for requests that bypass the page's `<link rel="icon">`
/// (the JSON log, a browser's own guess before the page has loaded).
async fn favicon() -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON_SVG,
    )
        .into_response()
}

/// The icon as a `data:` URL. Only the characters that would end or corrupt
/// the URL are percent-encoded, which keeps it short and readable.
fn favicon_data_url() -> String {
    let encoded: String = FAVICON_SVG
        .chars()
        .map(|c| match c {
            '%' => "%25".into(),
            '#' => "%23".into(),
            '<' => "%3C".into(),
            '>' => "%3E".into(),
            '"' => "%22".into(),
            other => other.to_string(),
        })
        .collect();
    format!("data:image/svg+xml,{encoded}")
}

/// `label{display:block}` would otherwise beat the `hidden` attribute, hence
/// the `!important`. Labels that only screen readers need use
/// `.visually-hidden` instead, which keeps them in the accessibility tree.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem}\
table{border-collapse:collapse}td,th{padding:.3rem .6rem;text-align:left}\
label{display:block;margin:.5rem 0 .2rem}input{font:inherit}\
[hidden]{display:none!important}\
.visually-hidden{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;\
overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}";

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · Kessai demo shop</title>\
         <link rel=\"icon\" type=\"image/svg+xml\" href=\"{icon}\"><style>{STYLE}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>",
        title = escape(title),
        icon = escape(&favicon_data_url()),
    ))
}

async fn catalogue() -> Html<String> {
    let rows: String = PRODUCTS
        .iter()
        .map(|(code, name, price)| {
            format!(
                "<tr><td>{code}</td><td>{name}</td><td>{}</td><td>\
                 <label for=\"q-{code}\" class=\"visually-hidden\">Quantity of {name}</label>\
                 <input id=\"q-{code}\" name=\"{code}\" type=\"number\" min=\"0\" max=\"99\" value=\"0\"></td></tr>",
                money::format_amount(*price, "JPY"),
                code = escape(code),
                name = escape(name),
            )
        })
        .collect();
    page(
        "Order",
        &format!(
            "<form method=\"post\" action=\"/orders\"><table><tr><th>Code</th><th>Item</th><th>Price</th><th>Quantity</th></tr>{rows}</table>\
             <label for=\"name\">Delivery name</label><input id=\"name\" name=\"name\" required maxlength=\"100\">\
             <label for=\"address\">Address</label><input id=\"address\" name=\"address\" required maxlength=\"200\">\
             <label for=\"contact\">Contact</label><input id=\"contact\" name=\"contact\" required maxlength=\"100\">\
             <p><button type=\"submit\">Place order</button></p></form>"
        ),
    )
}

/// `application/x-www-form-urlencoded` into pairs (the shop's only input format).
fn form_fields(body: &[u8]) -> HashMap<String, String> {
    url_decode_pairs(&String::from_utf8_lossy(body))
}

fn url_decode_pairs(text: &str) -> HashMap<String, String> {
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 2;
            }
            (other, _) => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn order_from_form(fields: &HashMap<String, String>, order_id: String) -> Result<Order, String> {
    let mut items = Vec::new();
    for (code, name, price) in PRODUCTS {
        let quantity: u64 = fields.get(code).and_then(|q| q.trim().parse().ok()).unwrap_or(0);
        if quantity > 99 {
            return Err(format!("At most 99 of {name}."));
        }
        if quantity > 0 {
            items.push(Item {
                code: code.into(),
                name: name.into(),
                unit_price: price,
                quantity,
            });
        }
    }
    if items.is_empty() {
        return Err("Choose at least one item.".into());
    }
    let subtotal: u64 = items.iter().map(|i| i.unit_price * i.quantity).sum();
    let tax = subtotal * TAX_PERCENT / 100;
    Ok(Order {
        order_id,
        currency: "JPY".into(),
        items,
        tax,
        total: subtotal + tax,
    })
}

/// A1: on an order, the shop's server sends the first settlement request.
async fn place_order(State(state): State<ShopState>, body: Bytes) -> Response {
    let fields = form_fields(&body);
    let order_id = format!("demo-{}", kessai_core::ids::new_ordered("").trim_start_matches('_'));
    let order = match order_from_form(&fields, order_id.clone()) {
        Ok(o) => o,
        Err(message) => {
            let html = format!(
                "<p role=\"alert\">{}</p><p><a href=\"/\">Back</a></p>",
                escape(&message)
            );
            return order_error(StatusCode::BAD_REQUEST, &html);
        }
    };
    let field = |k: &str| fields.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let delivery = Delivery {
        name: field("name"),
        address: field("address"),
        contact: field("contact"),
    };
    let (settlement_id, client_secret) = match create_settlement(&state, &order).await {
        Ok(created) => created,
        Err(response) => return response,
    };
    let record = ShopOrder {
        order,
        delivery,
        settlement_id,
        client_secret,
        status: None,
    };
    if let Ok(mut orders) = state.orders.lock() {
        orders.insert(order_id.clone(), record);
    }
    Redirect::to(&format!("/orders/{order_id}")).into_response()
}

/// An error page for the order form; `html` is already escaped.
fn order_error(status: StatusCode, html: &str) -> Response {
    (status, page("Order", html)).into_response()
}

/// Sends the first settlement request; returns the settlement's id and
/// client secret, or the page to show the buyer when the server says no.
async fn create_settlement(state: &ShopState, order: &Order) -> Result<(String, String), Response> {
    let config = &state.config;
    let order_id = &order.order_id;
    let first_request = serde_json::json!({
        "order": order,
        "notify_url": format!("{}/kessai/webhook", config.shop_url),
        "return_url": format!("{}/orders/{order_id}/done", config.shop_url),
    });
    let answer = state
        .http
        .post(format!("{}/v1/settlements", config.server_url))
        .bearer_auth(&config.secret_key)
        .header("Idempotency-Key", order_id)
        .json(&first_request)
        .send()
        .await;
    let created: serde_json::Value = match answer {
        Ok(resp) if resp.status() == StatusCode::CREATED => resp.json().await.unwrap_or_default(),
        Ok(resp) => {
            let body = resp.text().await.unwrap_or_default();
            let html = format!(
                "<p role=\"alert\">The payment service refused the order: {}</p>",
                escape(&body)
            );
            return Err(order_error(StatusCode::BAD_GATEWAY, &html));
        }
        Err(_) => {
            let html = "<p role=\"alert\">The payment service cannot be reached.</p>";
            return Err(order_error(StatusCode::BAD_GATEWAY, html));
        }
    };
    match (created["id"].as_str(), created["client_secret"].as_str()) {
        (Some(id), Some(secret)) => Ok((id.into(), secret.into())),
        _ => Err(order_error(
            StatusCode::BAD_GATEWAY,
            "<p role=\"alert\">Unexpected answer from the payment service.</p>",
        )),
    }
}

fn order_table(order: &Order) -> String {
    let rows: String = order
        .items
        .iter()
        .map(|i| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&i.code),
                escape(&i.name),
                money::format_amount(i.unit_price, &order.currency),
                i.quantity,
                money::format_amount(i.unit_price.saturating_mul(i.quantity), &order.currency)
            )
        })
        .collect();
    format!(
        "<table><tr><th>Code</th><th>Item</th><th>Price</th><th>Quantity</th><th>Subtotal</th></tr>{rows}\
         <tr><td colspan=\"4\">Tax</td><td>{}</td></tr><tr><th colspan=\"4\">Total</th><th>{}</th></tr></table>",
        money::format_amount(order.tax, &order.currency),
        money::format_amount(order.total, &order.currency)
    )
}

/// The order page: the checkout widget while unpaid, the verified result after.
async fn order_page(State(state): State<ShopState>, Path(id): Path<String>) -> Response {
    let Some(record) = state.orders.lock().ok().and_then(|o| o.get(&id).cloned()) else {
        return (StatusCode::NOT_FOUND, page("Order", "<p>No such order.</p>")).into_response();
    };
    match record.status.as_deref() {
        Some("succeeded") => page("Thank you — your order is paid", &paid_body(&id, &record)),
        Some(status) => {
            let (heading, explanation) = unpaid_wording(status);
            page(heading, &unpaid_body(&id, &record, status, explanation))
        }
        None => page("Pay for your order", &checkout_body(&state.config, &id, &record)),
    }
    .into_response()
}

/// `#order-status`: the end-to-end suite reads its text ("Payment: paid"),
/// so its markup stays exactly this.
fn status_line(status: &str) -> String {
    format!(
        "<p id=\"order-status\" role=\"status\">Payment: <strong>{}</strong></p>",
        escape(&shop_word(status))
    )
}

/// The confirmation a buyer keeps: what was bought, where it goes, what next.
fn paid_body(id: &str, record: &ShopOrder) -> String {
    let Delivery { name, address, contact } = &record.delivery;
    // The contact field is free text (email or phone), so say "at", not "email".
    let reach = if contact.is_empty() {
        String::new()
    } else {
        format!(
            ", and let you know at <strong>{}</strong> when it is on its way",
            escape(contact)
        )
    };
    format!(
        "{status}<p>Order number <strong>{id}</strong></p>\
         <h2>What you ordered</h2>{table}\
         <h2>Delivery</h2><p>{name}<br>{address}</p>\
         <h2>What happens next</h2>\
         <p>We will pack your order and ship it to {name} within 2 working days{reach}.</p>\
         <p><small>This is a demonstration shop: nothing is actually packed, shipped or sent.</small></p>\
         <p><a href=\"/\">Back to the shop</a></p>",
        status = status_line("succeeded"),
        id = escape(id),
        table = order_table(&record.order),
        name = escape(name),
        address = escape(address),
    )
}

/// Heading and plain explanation for every verified result except success.
/// None of these states moved the buyer's money except `held` (reserved,
/// not yet taken) and the refund states (taken, then given back).
fn unpaid_wording(status: &str) -> (&'static str, &'static str) {
    match status {
        "declined" => (
            "Payment declined — your order is not paid",
            "The card was declined, so nothing was charged and we will not ship this order. \
             To try again with another card, place the order again.",
        ),
        "expired" => (
            "Payment not completed — your order is not paid",
            "The payment was not completed in time, so nothing was charged and we will not ship \
             this order. You can place the order again.",
        ),
        "mismatched" => (
            "Payment refused — your order is not paid",
            "The payment did not match this order, so no money moved and we will not ship it. \
             You can place the order again.",
        ),
        "canceled" => (
            "Order canceled",
            "This order was canceled before it was paid, so nothing was charged and it will not be shipped.",
        ),
        "held" => (
            "Payment reserved — your order is not confirmed yet",
            "The amount is reserved during a cooling-off period. We confirm and ship the order \
             once the payment completes; reload this page later to check.",
        ),
        "processing" => (
            "Payment in progress",
            "The payment service is still processing this payment. Reload this page in a moment.",
        ),
        "refunded" | "partially_refunded" => (
            "Payment refunded",
            "The payment for this order was refunded (in full or in part).",
        ),
        _ => (
            "Your order is not paid",
            "The payment service has not confirmed a payment for this order, so we will not ship it.",
        ),
    }
}

fn unpaid_body(id: &str, record: &ShopOrder, status: &str, explanation: &str) -> String {
    format!(
        "{status}<p>{explanation}</p>{summary}<p><a href=\"/\">Back to the shop</a></p>",
        status = status_line(status),
        explanation = escape(explanation),
        summary = order_summary(id, record),
    )
}

fn order_summary(id: &str, record: &ShopOrder) -> String {
    format!(
        "<p>Order number <strong>{}</strong> · deliver to {}, {}</p>{}",
        escape(id),
        escape(&record.delivery.name),
        escape(&record.delivery.address),
        order_table(&record.order)
    )
}

/// Before any verified result: the order and the checkout widget, which
/// sends the card straight to the settling server, never through the shop.
fn checkout_body(config: &ShopConfig, id: &str, record: &ShopOrder) -> String {
    let order_json = serde_json::to_string(&record.order).unwrap_or_default();
    format!(
        "{summary}<p id=\"order-status\">Payment: <strong>awaiting payment</strong></p>\
         <p>Your order is not paid yet. Pay by card or with your web wallet below: your card details \
         and wallet sign-in go straight to the payment service, not to this shop. We confirm the \
         order once the payment is verified.</p>\
         <script type=\"module\" src=\"{server}/widget/kessai-checkout.js\"></script>\
         <kessai-checkout server=\"{server}\" settlement-id=\"{sid}\" client-secret=\"{secret}\" \
         order=\"{order}\" return-url=\"{shop}/orders/{id}/done\" wallet-url=\"{server}/wallet/\"></kessai-checkout>",
        summary = order_summary(id, record),
        server = escape(&config.server_url),
        sid = escape(&record.settlement_id),
        secret = escape(&record.client_secret),
        order = escape(&order_json),
        shop = escape(&config.shop_url),
        id = escape(id),
    )
}

fn shop_word(status: &str) -> String {
    match status {
        "succeeded" => "paid".into(),
        other => other.replace('_', " "),
    }
}

/// A6: the browser brings the result token back; the shop accepts the result
/// only if the token verifies and names this order and amount.
pub fn verify_result(
    token: &str,
    result_key: &str,
    merchant_id: &str,
    settlement_id: &str,
    order: &Order,
) -> Option<ResultClaims> {
    let key = keys::parse_key(keys::RESULT_KEY_PREFIX, result_key)?;
    let claims: ResultClaims = jws::verify(&key, token).ok()?;
    let matches = claims.iss == "kessai"
        && claims.aud == merchant_id
        && claims.sub == settlement_id
        && claims.order_id == order.order_id
        && claims.total == order.total
        && claims.currency == order.currency;
    matches.then_some(claims)
}

async fn payment_done(State(state): State<ShopState>, Path(id): Path<String>, body: Bytes) -> Response {
    let token = form_fields(&body).remove("result_token").unwrap_or_default();
    let config = &state.config;
    let verified = {
        let Ok(mut orders) = state.orders.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let Some(record) = orders.get_mut(&id) else {
            return (StatusCode::NOT_FOUND, page("Order", "<p>No such order.</p>")).into_response();
        };
        match verify_result(
            &token,
            &config.result_key,
            &config.merchant_id,
            &record.settlement_id,
            &record.order,
        ) {
            Some(claims) => {
                record.status = Some(claims.status);
                true
            }
            None => false,
        }
    };
    if !verified {
        return (
            StatusCode::BAD_REQUEST,
            page(
                "Order",
                "<p role=\"alert\">The payment result could not be verified; the order is not marked paid.</p>",
            ),
        )
            .into_response();
    }
    Redirect::to(&format!("/orders/{id}")).into_response()
}

/// A7: the settling server pushes the result; accepted only with a valid
/// Standard Webhooks signature.
async fn webhook(State(state): State<ShopState>, headers: HeaderMap, uri: Uri, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let text = String::from_utf8_lossy(&body);
    let now = kessai_core::clock::now();
    let signed = webhooks::verify(
        &state.config.webhook_secret,
        &header("webhook-id"),
        &header("webhook-timestamp"),
        &header("webhook-signature"),
        &text,
        now,
    );
    if signed.is_err() {
        tracing::warn!(%uri, "demo shop: webhook with a bad signature refused");
        return StatusCode::UNAUTHORIZED;
    }
    let event: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let (Some(order_id), Some(status)) = (event["data"]["order_id"].as_str(), event["data"]["status"].as_str()) else {
        return StatusCode::BAD_REQUEST;
    };
    if let Ok(mut orders) = state.orders.lock() {
        if let Some(record) = orders.get_mut(order_id) {
            if record.settlement_id == event["data"]["id"].as_str().unwrap_or_default() {
                record.status = Some(status.to_string());
            }
        }
    }
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_decode() {
        let f = url_decode_pairs("name=Hanako+Yamada&address=1-2-3%20Kawasaki&XXXX=2");
        assert_eq!(f["name"], "Hanako Yamada");
        assert_eq!(f["address"], "1-2-3 Kawasaki");
        assert_eq!(f["XXXX"], "2");
    }

    #[test]
    fn orders_add_tax_and_pass_protocol_rules() {
        let fields = url_decode_pairs("XXXX=1&YYYY=1");
        let order = order_from_form(&fields, "demo-1".into()).unwrap();
        assert_eq!(order.tax, 110);
        assert_eq!(order.total, 1210);
        order.validate("order").unwrap();
        assert!(order_from_form(&url_decode_pairs("XXXX=0"), "demo-2".into()).is_err());
    }
}
