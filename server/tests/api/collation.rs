use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{card_method, confirm_body, json_of, sample_order, spawn_app, TestApp, TOTAL};

fn names(fields: &Value) -> Vec<&str> {
    fields
        .as_array()
        .expect("mismatched_fields")
        .iter()
        .map(|f| f.as_str().expect("field name"))
        .collect()
}

/// A digest-only first request; `order_id` None lets the server assign one.
async fn create_digest_only(app: &TestApp, order_id: Option<&str>, digest: &str) -> Value {
    let mut body = json!({"currency": "JPY", "total": TOTAL, "order_digest": digest});
    if let Some(id) = order_id {
        body["order_id"] = json!(id);
    }
    let (status, created) = json_of(app.post_settlement(&body).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "awaiting_payer", "{created}");
    created
}

#[tokio::test]
async fn digest_only_first_request_settles_when_the_buyers_order_hashes_the_same() {
    // A13: the shop reveals only the digest (paragraph 0025).
    let app = spawn_app().await;
    let card = app.issue_card(5_000).await;
    let order = sample_order("digest-1");
    let created = create_digest_only(&app, Some("digest-1"), &order.digest()).await;
    assert_eq!(created["order_digest"], order.digest());
    let secret = created["client_secret"].as_str().unwrap();
    let result = app
        .confirm_ok(
            created["id"].as_str().unwrap(),
            &confirm_body(secret, &order, card_method(&card)),
        )
        .await;
    assert_eq!(result["status"], "succeeded", "{result}");
    assert_eq!(app.balance(&card.account_id).await, 5_000 - 1155);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn server_assigns_an_order_id_when_the_first_request_has_none() {
    // A13: the settling server assigns the order id (paragraph 0027).
    let app = spawn_app().await;
    let created = create_digest_only(&app, None, &sample_order("unknown-yet").digest()).await;
    let order_id = created["order_id"].as_str().expect("assigned order_id");
    kessai_protocol::order::check_order_id(order_id, "order_id").expect("a valid order id");
    // It is the shop's handle on the order from now on.
    let (status, list) = json_of(app.list_settlements(order_id).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["data"][0]["id"], created["id"]);
}

#[tokio::test]
async fn server_assigned_order_id_can_be_paid() {
    // A13: the shop learns the order id from the 201 and hands the order,
    // with that id, to the browser. The shop's digest was necessarily made
    // before it knew the id, so it is taken over the order with an empty
    // order_id (docs/DESIGN.md).
    let app = spawn_app().await;
    let card = app.issue_card(5_000).await;
    let created = create_digest_only(&app, None, &sample_order("").digest()).await;
    let order = sample_order(created["order_id"].as_str().unwrap());
    let secret = created["client_secret"].as_str().unwrap();
    let result = app
        .confirm_ok(
            created["id"].as_str().unwrap(),
            &confirm_body(secret, &order, card_method(&card)),
        )
        .await;
    assert_eq!(result["status"], "succeeded", "{result}");
}

#[tokio::test]
async fn digest_only_request_with_a_renamed_item_is_mismatched() {
    // A4, A13: the digest covers names the shop did not reveal.
    let app = spawn_app().await;
    let card = app.issue_card(5_000).await;
    let order = sample_order("digest-2");
    let created = create_digest_only(&app, Some("digest-2"), &order.digest()).await;
    let mut shown = order.clone();
    shown.items[1].name = "Strawberry jam".into();
    let secret = created["client_secret"].as_str().unwrap();
    let result = app
        .confirm_ok(
            created["id"].as_str().unwrap(),
            &confirm_body(secret, &shown, card_method(&card)),
        )
        .await;
    assert_eq!(result["status"], "mismatched", "{result}");
    assert!(
        names(&result["mismatched_fields"]).contains(&"order_digest"),
        "{result}"
    );
    assert_eq!(app.balance(&card.account_id).await, 5_000);
    assert_eq!(app.payee_balance().await, 0);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn buyer_order_with_other_items_and_total_is_mismatched_and_moves_nothing() {
    // A4: any disagreement in items, amount or currency means no settlement.
    let app = spawn_app().await;
    let card = app.issue_card(5_000).await;
    let order = sample_order("mismatch-1");
    let created = app.create_settlement(&order).await;
    let mut shown = order.clone();
    shown.items[0].unit_price = 400;
    shown.total = 1055;
    let body = confirm_body(&created.client_secret, &shown, card_method(&card));
    let result = app.confirm_ok(&created.id, &body).await;
    assert_eq!(result["status"], "mismatched", "{result}");
    let fields = names(&result["mismatched_fields"]);
    for f in ["total", "items", "order_digest"] {
        assert!(fields.contains(&f), "{f} missing from {result}");
    }
    assert!(
        result.get("result_token").is_some(),
        "a final outcome carries a result token: {result}"
    );
    assert!(!result.to_string().contains(&card.card_number));
    assert_eq!(app.get_settlement(&created.id).await["status"], "mismatched");

    // A repeat gets the same outcome and still moves nothing.
    let again = app.confirm_ok(&created.id, &body).await;
    assert_eq!(again, result);
    assert_eq!(app.balance(&card.account_id).await, 5_000);
    assert_eq!(app.payee_balance().await, 0);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn buyer_order_in_another_currency_is_mismatched() {
    // A4
    let app = spawn_app().await;
    let card = app.issue_card(5_000).await;
    let order = sample_order("mismatch-2");
    let created = app.create_settlement(&order).await;
    let mut shown = order.clone();
    shown.currency = "USD".into();
    let result = app
        .confirm_ok(
            &created.id,
            &confirm_body(&created.client_secret, &shown, card_method(&card)),
        )
        .await;
    assert_eq!(result["status"], "mismatched", "{result}");
    assert!(names(&result["mismatched_fields"]).contains(&"currency"), "{result}");
    assert_eq!(app.balance(&card.account_id).await, 5_000);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn buyer_order_with_other_order_id_is_mismatched() {
    // A4: collation by order id.
    let app = spawn_app().await;
    let card = app.issue_card(5_000).await;
    let created = app.create_settlement(&sample_order("mismatch-3")).await;
    let shown = sample_order("mismatch-4");
    let result = app
        .confirm_ok(
            &created.id,
            &confirm_body(&created.client_secret, &shown, card_method(&card)),
        )
        .await;
    assert_eq!(result["status"], "mismatched", "{result}");
    assert!(names(&result["mismatched_fields"]).contains(&"order_id"), "{result}");
    assert_eq!(app.balance(&card.account_id).await, 5_000);
}
