//! Results pushed to the shop (A7, PROTOCOL 8.2): a real HTTP receiver that
//! fails the first attempt, so the retry is exercised too.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use axum::Router;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::Notify;

use crate::helpers::{
    assert_error, card_method, confirm_body, json_of, now, sample_order, spawn_app, spawn_app_with, TestApp,
    BACKGROUND_TIMEOUT, SHOP_ORIGIN,
};
use kessai_core::webhook_targets::WebhookPolicy;

#[derive(Debug, Clone)]
struct Delivery {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

#[derive(Clone, Default)]
struct Receiver {
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    arrived: Arc<Notify>,
}

impl Receiver {
    /// Starts a shop webhook endpoint on a free port; returns its URL.
    async fn start(&self) -> String {
        let app = Router::new()
            .route("/kessai/webhook", post(receive))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/kessai/webhook")
    }

    /// Waits until at least `n` deliveries arrived.
    async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + BACKGROUND_TIMEOUT;
        loop {
            let notified = self.arrived.notified();
            {
                let got = self.deliveries.lock().unwrap();
                if got.len() >= n {
                    return got.clone();
                }
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(
                !left.is_zero(),
                "only {} of {n} webhook deliveries arrived",
                self.deliveries.lock().unwrap().len()
            );
            let _ = tokio::time::timeout(left.min(Duration::from_millis(500)), notified).await;
        }
    }
}

/// Records every request; answers 500 to the first, 200 afterwards.
async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: String) -> AxumStatus {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let first = {
        let mut got = r.deliveries.lock().unwrap();
        got.push(Delivery {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body,
        });
        got.len() == 1
    };
    r.arrived.notify_waiters();
    if first {
        AxumStatus::INTERNAL_SERVER_ERROR
    } else {
        AxumStatus::OK
    }
}

fn assert_signed(d: &Delivery, webhook_secret: &str) {
    kessai_protocol::webhooks::verify(webhook_secret, &d.id, &d.timestamp, &d.signature, &d.body, now())
        .unwrap_or_else(|e| panic!("webhook signature does not verify ({e:?}): {d:?}"));
    // A body changed in transit does not verify.
    let tampered = format!("{} ", d.body);
    let verdict =
        kessai_protocol::webhooks::verify(webhook_secret, &d.id, &d.timestamp, &d.signature, &tampered, now());
    assert!(verdict.is_err(), "a tampered body verified: {d:?}");
}

/// The one event of the settlement, once its delivery reached `attempts`.
async fn wait_for_delivery(app: &TestApp, key: &str, settlement_id: &str, attempts: i64) -> Value {
    let deadline = tokio::time::Instant::now() + BACKGROUND_TIMEOUT;
    loop {
        let events = app.list_events(key, settlement_id).await;
        let event = events["data"][0].clone();
        let delivery = &event["delivery"];
        if delivery["status"] == "delivered" && delivery["attempts"] == attempts {
            return event;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivery never reached {attempts} attempts: {events}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn settlement_result_is_pushed_signed_and_retried_until_the_shop_accepts_it() {
    // A7
    let app = spawn_app().await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let shop = app.create_merchant(&[SHOP_ORIGIN], Some(&url)).await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("hook-1");
    let (status, created) = json_of(
        app.post_settlement_raw(
            Some(&shop.secret_key),
            None,
            serde_json::json!({"order": order}).to_string(),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    let result = app
        .confirm_ok(id, &confirm_body(secret, &order, card_method(&card)))
        .await;
    assert_eq!(result["status"], "succeeded");

    // The first attempt gets a 500; the retry (1 s later here) a 200.
    let got = receiver.wait_for(2).await;
    for d in &got {
        assert_signed(d, &shop.webhook_secret);
        assert!(d.id.starts_with("evt_"), "{d:?}");
        let event: Value = serde_json::from_str(&d.body).unwrap();
        assert_eq!(event["type"], "settlement.succeeded", "{event}");
        assert_eq!(event["data"]["id"], id, "{event}");
        assert_eq!(event["data"]["status"], "succeeded", "{event}");
        assert!(event["timestamp"].as_i64().is_some(), "{event}");
        assert!(
            event["data"].get("client_secret").is_none(),
            "webhooks never carry the client secret: {event}"
        );
        assert!(!d.body.contains(&card.card_number));
    }
    assert_eq!(got[0].id, got[1].id, "webhook-id is stable across retries");
    assert_eq!(got[0].body, got[1].body);

    let event = wait_for_delivery(&app, &shop.secret_key, id, 2).await;
    assert_eq!(event["id"], got[0].id.as_str());
    assert_eq!(event["type"], "settlement.succeeded");
    assert_eq!(event["delivery"]["last_status"], 200);

    // Redelivery on request: the same event once more.
    let (status, redelivered) = json_of(app.redeliver(&shop.secret_key, &got[0].id).await).await;
    assert_eq!(status, StatusCode::OK, "{redelivered}");
    let got = receiver.wait_for(3).await;
    assert_eq!(got[2].id, got[0].id);
    assert_eq!(got[2].body, got[0].body);
    assert_signed(&got[2], &shop.webhook_secret);
    wait_for_delivery(&app, &shop.secret_key, id, 3).await;

    // Another merchant cannot see or redeliver it.
    let resp = app.redeliver(&app.merchant.secret_key, &got[0].id).await;
    crate::helpers::assert_error(resp, StatusCode::NOT_FOUND, "event_not_found").await;
}

#[tokio::test]
async fn events_are_kept_as_history_without_a_notify_url() {
    // A8: results kept as history; redelivery needs somewhere to deliver to.
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("hook-2");
    let created = app.create_settlement(&order).await;
    app.confirm_ok(
        &created.id,
        &confirm_body(&created.client_secret, &order, card_method(&card)),
    )
    .await;
    let events = app.list_events(&app.merchant.secret_key, &created.id).await;
    let event = &events["data"][0];
    assert_eq!(event["type"], "settlement.succeeded", "{events}");
    assert!(event.get("delivery").is_none_or(Value::is_null), "{events}");
    let resp = app
        .redeliver(&app.merchant.secret_key, event["id"].as_str().unwrap())
        .await;
    crate::helpers::assert_error(resp, StatusCode::CONFLICT, "notify_url_missing").await;
}

// Issue 7, SSRF: with the default policy (https, public hosts only), every
// form of a forbidden notify_url is refused at the first request with a
// precise code, param `notify_url`, and nothing written.
#[tokio::test]
async fn forbidden_notify_urls_are_refused_at_the_first_request() {
    let app = spawn_app_with(|c| c.webhook_policy = WebhookPolicy::default()).await;
    let cases = [
        ("http://shop.example/hook", "url_scheme_not_allowed"),
        ("https://user:pw@shop.example/hook", "url_credentials_not_allowed"),
        ("https://user@shop.example/hook", "url_credentials_not_allowed"),
        ("https://127.0.0.1:5432/", "url_host_not_allowed"),
        ("https://[::1]/", "url_host_not_allowed"),
        ("https://169.254.169.254/latest/meta-data/", "url_host_not_allowed"),
        ("https://10.0.0.1/", "url_host_not_allowed"),
        ("https://192.168.0.10/", "url_host_not_allowed"),
        ("https://2130706433/", "url_host_not_allowed"),
        ("https://0x7f.1/", "url_host_not_allowed"),
        ("https://0.0.0.0/", "url_host_not_allowed"),
        ("https://[::]/", "url_host_not_allowed"),
        ("https://[::ffff:127.0.0.1]/", "url_host_not_allowed"),
        ("https://[::ffff:a9fe:a9fe]/", "url_host_not_allowed"),
        ("https://[fd00::1]/", "url_host_not_allowed"),
        ("https://[fe80::1]/", "url_host_not_allowed"),
        ("https://100.64.0.1/", "url_host_not_allowed"),
        ("https://239.1.1.1/", "url_host_not_allowed"),
        ("https://255.255.255.255/", "url_host_not_allowed"),
        ("ftp://shop.example/hook", "url_invalid"),
    ];
    let before = app.write_counts().await;
    for (i, (url, code)) in cases.iter().enumerate() {
        let body = serde_json::json!({"order": sample_order(&format!("ssrf-{i}")), "notify_url": url});
        let resp = app.post_settlement(&body).await;
        let error = assert_error(resp, StatusCode::BAD_REQUEST, code).await;
        assert_eq!(error["param"], "notify_url", "{url}: {error}");
    }
    assert_eq!(
        app.write_counts().await,
        before,
        "a refused first request wrote something"
    );
    // A public https URL is fine.
    let body = serde_json::json!({"order": sample_order("ssrf-ok"), "notify_url": "https://shop.example/hook"});
    let (status, created) = json_of(app.post_settlement(&body).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}

// Issue 7, SSRF: a host name is checked once resolved, at delivery. Without
// `--allow-private-webhooks`, `localhost` (127.0.0.1) gets nothing; the
// attempt is recorded as failed, and `last_error` does not say why.
#[tokio::test]
async fn delivery_to_a_name_resolving_to_loopback_is_refused_without_the_opt_in() {
    let app = spawn_app_with(|c| {
        c.webhook_policy = WebhookPolicy {
            allow_http: true,
            allow_private: false,
        }
    })
    .await;
    let receiver = Receiver::default();
    let url = receiver.start().await.replace("127.0.0.1", "localhost");
    let card = app.issue_card(10_000).await;
    let order = sample_order("ssrf-local");
    let body = serde_json::json!({"order": order, "notify_url": url});
    let (status, created) = json_of(app.post_settlement(&body).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    let result = app
        .confirm_ok(id, &confirm_body(secret, &order, card_method(&card)))
        .await;
    assert_eq!(result["status"], "succeeded");

    let deadline = tokio::time::Instant::now() + BACKGROUND_TIMEOUT;
    let event = loop {
        let events = app.list_events(&app.merchant.secret_key, id).await;
        let event = events["data"][0].clone();
        if event["delivery"]["attempts"].as_i64().unwrap_or(0) >= 2 {
            break event;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no failed attempt recorded: {events}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let delivery = &event["delivery"];
    assert_ne!(delivery["status"], "delivered", "{event}");
    assert_eq!(delivery["last_error"], "delivery failed", "{event}");
    assert!(delivery["last_status"].is_null(), "{event}");
    assert!(
        receiver.deliveries.lock().unwrap().is_empty(),
        "the loopback receiver was posted to"
    );
}

// Issue 7: `last_error` tells an open port from a closed one no more: a
// closed port and a receiver answering 500 read "delivery failed", the
// latter with its status.
#[tokio::test]
async fn last_error_says_only_delivery_failed_and_the_status() {
    let app = spawn_app().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let receiver = Receiver::default();
    let open = receiver.start().await;
    let card = app.issue_card(10_000).await;
    let mut errors = Vec::new();
    for (i, url) in [format!("http://{closed}/hook"), open].iter().enumerate() {
        let order = sample_order(&format!("ssrf-port-{i}"));
        let body = serde_json::json!({"order": order, "notify_url": url});
        let (_, created) = json_of(app.post_settlement(&body).await).await;
        let id = created["id"].as_str().unwrap();
        let secret = created["client_secret"].as_str().unwrap();
        app.confirm_ok(id, &confirm_body(secret, &order, card_method(&card)))
            .await;
        let deadline = tokio::time::Instant::now() + BACKGROUND_TIMEOUT;
        loop {
            let events = app.list_events(&app.merchant.secret_key, id).await;
            let error = events["data"][0]["delivery"]["last_error"].clone();
            if !error.is_null() {
                errors.push(error);
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "no attempt recorded: {events}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(errors, ["delivery failed", "delivery failed: HTTP 500"]);
}
