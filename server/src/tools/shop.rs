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
    delivery: String,
    settlement_id: String,
    client_secret: String,
    /// Set only from a verified result token or a verified webhook.
    status: Option<String>,
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

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · Kessai demo shop</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse}}td,th{{padding:.3rem .6rem;text-align:left}}\
         label{{display:block;margin:.5rem 0 .2rem}}input{{font:inherit}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>",
        title = escape(title)
    ))
}

async fn catalogue() -> Html<String> {
    let rows: String = PRODUCTS
        .iter()
        .map(|(code, name, price)| {
            format!(
                "<tr><td>{code}</td><td>{name}</td><td>{}</td><td><label for=\"q-{code}\" hidden>Quantity of {name}</label>\
                 <input id=\"q-{code}\" name=\"{code}\" type=\"number\" min=\"0\" max=\"99\" value=\"0\"></td></tr>",
                money::format_amount(*price, "JPY")
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
            return (
                StatusCode::BAD_REQUEST,
                page(
                    "Order",
                    &format!(
                        "<p role=\"alert\">{}</p><p><a href=\"/\">Back</a></p>",
                        escape(&message)
                    ),
                ),
            )
                .into_response()
        }
    };
    let delivery = ["name", "address", "contact"]
        .iter()
        .map(|k| fields.get(*k).cloned().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(", ");
    let config = &state.config;
    let first_request = serde_json::json!({
        "order": order,
        "notify_url": format!("{}/kessai/webhook", config.shop_url),
        "return_url": format!("{}/orders/{order_id}/done", config.shop_url),
    });
    let answer = state
        .http
        .post(format!("{}/v1/settlements", config.server_url))
        .bearer_auth(&config.secret_key)
        .header("Idempotency-Key", &order_id)
        .json(&first_request)
        .send()
        .await;
    let created: serde_json::Value = match answer {
        Ok(resp) if resp.status() == StatusCode::CREATED => resp.json().await.unwrap_or_default(),
        Ok(resp) => {
            let body = resp.text().await.unwrap_or_default();
            return (
                StatusCode::BAD_GATEWAY,
                page(
                    "Order",
                    &format!(
                        "<p role=\"alert\">The payment service refused the order: {}</p>",
                        escape(&body)
                    ),
                ),
            )
                .into_response();
        }
        Err(_) => {
            return (
                StatusCode::BAD_GATEWAY,
                page("Order", "<p role=\"alert\">The payment service cannot be reached.</p>"),
            )
                .into_response()
        }
    };
    let (Some(settlement_id), Some(client_secret)) = (created["id"].as_str(), created["client_secret"].as_str()) else {
        return (
            StatusCode::BAD_GATEWAY,
            page(
                "Order",
                "<p role=\"alert\">Unexpected answer from the payment service.</p>",
            ),
        )
            .into_response();
    };
    let record = ShopOrder {
        order,
        delivery,
        settlement_id: settlement_id.into(),
        client_secret: client_secret.into(),
        status: None,
    };
    if let Ok(mut orders) = state.orders.lock() {
        orders.insert(order_id.clone(), record);
    }
    Redirect::to(&format!("/orders/{order_id}")).into_response()
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
    let config = &state.config;
    let summary = format!(
        "<p>Order number <strong>{}</strong> · deliver to {}</p>{}",
        escape(&id),
        escape(&record.delivery),
        order_table(&record.order)
    );
    let body = match &record.status {
        Some(status) => format!(
            "{summary}<p id=\"order-status\" role=\"status\">Payment: <strong>{}</strong></p>",
            escape(&shop_word(status))
        ),
        None => {
            let order_json = serde_json::to_string(&record.order).unwrap_or_default();
            format!(
                "{summary}<p id=\"order-status\">Payment: <strong>awaiting payment</strong></p>\
                 <script type=\"module\" src=\"{server}/widget/kessai-checkout.js\"></script>\
                 <kessai-checkout server=\"{server}\" settlement-id=\"{sid}\" client-secret=\"{secret}\" \
                 order=\"{order}\" return-url=\"{shop}/orders/{id}/done\"></kessai-checkout>",
                server = escape(&config.server_url),
                sid = escape(&record.settlement_id),
                secret = escape(&record.client_secret),
                order = escape(&order_json),
                shop = escape(&config.shop_url),
                id = escape(&id),
            )
        }
    };
    page("Your order", &body).into_response()
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
