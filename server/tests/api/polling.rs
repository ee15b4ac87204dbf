//! The shop polls for the result (A8, PROTOCOL 8.3), optionally long-polling.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{assert_error, card_method, confirm_body, json_of, sample_order, spawn_app};

#[tokio::test]
async fn long_poll_returns_when_the_buyer_pays() {
    // A8
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("poll-1");
    let created = app.create_settlement(&order).await;

    let started = Instant::now();
    let poll = app.get_settlement_as(&app.merchant.secret_key, &created.id, Some(20));
    let pay = async {
        // Give the long-poll a head start; if it arrived after the payment it
        // would (correctly) wait for a further change and take the full 20 s.
        tokio::time::sleep(Duration::from_millis(1000)).await;
        app.confirm_ok(
            &created.id,
            &confirm_body(&created.client_secret, &order, card_method(&card)),
        )
        .await
    };
    let (polled, paid) = tokio::join!(poll, pay);
    let elapsed = started.elapsed();
    assert_eq!(paid["status"], "succeeded");
    let (status, view) = json_of(polled).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(view["result_token"], paid["result_token"]);
    assert!(elapsed < Duration::from_secs(15), "long-poll took {elapsed:?}");
}

#[tokio::test]
async fn long_poll_without_a_change_answers_after_the_wait() {
    let app = spawn_app().await;
    let created = app.create_settlement(&sample_order("poll-2")).await;
    let started = Instant::now();
    let (status, view) = json_of(
        app.get_settlement_as(&app.merchant.secret_key, &created.id, Some(1))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["status"], "awaiting_payer");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "did not wait: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn settlements_are_found_by_order_id() {
    // A8: results kept as history, found by the shop's order id.
    let app = spawn_app().await;
    let created = app.create_settlement(&sample_order("poll-3")).await;
    app.create_settlement(&sample_order("poll-4")).await;
    let (status, list) = json_of(app.list_settlements("poll-3").await).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["object"], "list");
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{list}");
    assert_eq!(data[0]["id"], created.id.as_str());
    assert_eq!(data[0]["order_id"], "poll-3");
    let (_, none) = json_of(app.list_settlements("no-such-order").await).await;
    assert_eq!(none["data"].as_array().map(Vec::len), Some(0), "{none}");
}

#[tokio::test]
async fn wait_beyond_30_seconds_is_refused() {
    let app = spawn_app().await;
    let created = app.create_settlement(&sample_order("poll-5")).await;
    let resp = app
        .get_settlement_as(&app.merchant.secret_key, &created.id, Some(31))
        .await;
    let error = assert_error(resp, StatusCode::BAD_REQUEST, "wait_out_of_range").await;
    assert_eq!(error["param"], "wait");
    let resp = app
        .client
        .get(format!("{}/v1/settlements/{}?wait=soon", app.base, created.id))
        .bearer_auth(&app.merchant.secret_key)
        .send()
        .await
        .unwrap();
    assert_error(resp, StatusCode::BAD_REQUEST, "query_invalid").await;
}

#[tokio::test]
async fn payer_event_stream_reports_the_outcome() {
    // The browser follows the outcome over server-sent events.
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("sse-1");
    let created = app.create_settlement(&order).await;
    let mut stream = app
        .client
        .get(format!("{}/v1/payer/settlements/{}/events", app.base, created.id))
        .query(&[("client_secret", created.client_secret.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + crate::helpers::BACKGROUND_TIMEOUT;
    // The current status comes at once (well before the server's 25 s
    // re-announcement), not only after the next change.
    let first_by = tokio::time::Instant::now() + Duration::from_secs(15);
    while !seen.contains("awaiting_payer") {
        let chunk = tokio::time::timeout_at(first_by, stream.chunk())
            .await
            .expect("first event at once")
            .unwrap()
            .expect("open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    app.confirm_ok(
        &created.id,
        &confirm_body(&created.client_secret, &order, card_method(&card)),
    )
    .await;
    while !seen.contains("succeeded") {
        match tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("status event")
            .unwrap()
        {
            Some(chunk) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            None => break,
        }
    }
    assert!(
        seen.contains("event: status") || seen.contains("event:status"),
        "{seen}"
    );
    assert!(seen.contains("succeeded"), "{seen}");
    assert!(!seen.contains(&card.card_number));
}
