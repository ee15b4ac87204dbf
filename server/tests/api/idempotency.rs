//! Idempotency keys on merchant POSTs and order id uniqueness (PROTOCOL 2, 4).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, json_of, sample_order, spawn_app};

#[tokio::test]
async fn same_idempotency_key_and_body_replays_the_first_answer() {
    // A1
    let app = spawn_app().await;
    let body = json!({"order": sample_order("idem-1")}).to_string();
    let key = Some(app.merchant.secret_key.as_str());
    let first = app.post_settlement_raw(key, Some("order-idem-1"), body.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = first.text().await.unwrap();
    let second = app.post_settlement_raw(key, Some("order-idem-1"), body).await;
    assert_eq!(second.status(), StatusCode::CREATED);
    assert_eq!(second.text().await.unwrap(), first);
    assert_eq!(app.count("settlements").await, 1);
}

#[tokio::test]
async fn same_idempotency_key_with_another_body_is_a_conflict() {
    let app = spawn_app().await;
    let key = Some(app.merchant.secret_key.as_str());
    let first = app
        .post_settlement_raw(key, Some("k-2"), json!({"order": sample_order("idem-2")}).to_string())
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let resp = app
        .post_settlement_raw(key, Some("k-2"), json!({"order": sample_order("idem-3")}).to_string())
        .await;
    assert_error(resp, StatusCode::CONFLICT, "idempotency_key_reused").await;
    assert_eq!(app.count("settlements").await, 1);
}

#[tokio::test]
async fn idempotency_keys_belong_to_one_merchant() {
    let app = spawn_app().await;
    let other = app.create_merchant(&["https://other.example"], None).await;
    let body = json!({"order": sample_order("idem-4")}).to_string();
    let mine = app
        .post_settlement_raw(Some(&app.merchant.secret_key), Some("k-3"), body.clone())
        .await;
    let theirs = app
        .post_settlement_raw(Some(&other.secret_key), Some("k-3"), body)
        .await;
    let (s1, mine) = json_of(mine).await;
    let (s2, theirs) = json_of(theirs).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED), "{mine} {theirs}");
    assert_ne!(mine["id"], theirs["id"]);
}

#[tokio::test]
async fn second_first_request_for_the_same_order_id_is_a_conflict() {
    let app = spawn_app().await;
    let order = sample_order("dup-1");
    let created = app.create_settlement(&order).await;
    let resp = app.post_settlement(&json!({"order": order})).await;
    assert_error(resp, StatusCode::CONFLICT, "order_id_in_use").await;
    assert_eq!(app.count("settlements").await, 1);
    assert_eq!(app.get_settlement(&created.id).await["status"], "awaiting_payer");
}

#[tokio::test]
async fn idempotency_key_longer_than_255_characters_is_refused() {
    let app = spawn_app().await;
    let long = "k".repeat(256);
    let resp = app
        .post_settlement_raw(
            Some(&app.merchant.secret_key),
            Some(&long),
            json!({"order": sample_order("idem-5")}).to_string(),
        )
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "idempotency_key_invalid").await;
    assert_eq!(app.count("settlements").await, 0);
}
