//! Cancellation and refunds (A14, seed 003 paragraph 0017).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, card_method, confirm_body, json_of, sample_order, spawn_app};

#[tokio::test]
async fn unpaid_settlement_can_be_canceled_and_stays_canceled() {
    // A14
    let app = spawn_app().await;
    let created = app.create_settlement(&sample_order("cancel-1")).await;
    let (status, body) = json_of(app.cancel(&created.id).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "canceled", "{body}");
    assert!(body.get("client_secret").is_none(), "{body}");
    // Canceling again answers the same.
    let (status, again) = json_of(app.cancel(&created.id).await).await;
    assert_eq!(
        (status, &again["status"]),
        (StatusCode::OK, &json!("canceled")),
        "{again}"
    );
    assert_eq!(app.get_settlement(&created.id).await["status"], "canceled");
    // Nothing to refund.
    let resp = app.refund(&created.id, &json!({})).await;
    assert_error(resp, StatusCode::CONFLICT, "settlement_not_refundable").await;
}

#[tokio::test]
async fn paid_settlement_cannot_be_canceled_but_can_be_refunded_in_parts() {
    // A14
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("refund-1");
    let created = app.create_settlement(&order).await;
    let paid = app
        .confirm_ok(
            &created.id,
            &confirm_body(&created.client_secret, &order, card_method(&card)),
        )
        .await;
    assert_eq!(paid["status"], "succeeded");

    assert_error(
        app.cancel(&created.id).await,
        StatusCode::CONFLICT,
        "settlement_not_cancelable",
    )
    .await;
    assert_eq!(app.get_settlement(&created.id).await["status"], "succeeded");

    let (status, refund) = json_of(
        app.refund(&created.id, &json!({"amount": 500, "reason": "one jar broke"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{refund}");
    assert!(
        refund["id"].as_str().is_some_and(|id| id.starts_with("ref_")),
        "{refund}"
    );
    assert_eq!(
        (refund["amount"].as_u64(), refund["settlement_id"].as_str()),
        (Some(500), Some(created.id.as_str()))
    );
    let view = app.get_settlement(&created.id).await;
    assert_eq!(
        (view["status"].as_str(), view["refunded"].as_u64()),
        (Some("partially_refunded"), Some(500)),
        "{view}"
    );
    // The shop's result token still reports what was settled.
    assert_eq!(view["result_token"], paid["result_token"]);
    assert_eq!(app.balance(&card.account_id).await, 10_000 - 1155 + 500);
    assert_eq!(app.payee_balance().await, 655);

    // More than what remains, and zero, are refused and move nothing.
    for amount in [656, 0] {
        let resp = app.refund(&created.id, &json!({"amount": amount})).await;
        let error = assert_error(resp, StatusCode::BAD_REQUEST, "refund_amount_invalid").await;
        assert_eq!(error["param"], "amount");
    }
    assert_eq!(app.get_settlement(&created.id).await["refunded"], 500);

    // Without an amount: the rest.
    let (status, rest) = json_of(app.refund(&created.id, &json!({})).await).await;
    assert_eq!(status, StatusCode::CREATED, "{rest}");
    assert_eq!(rest["amount"], 655);
    let view = app.get_settlement(&created.id).await;
    assert_eq!(
        (view["status"].as_str(), view["refunded"].as_u64()),
        (Some("refunded"), Some(1155)),
        "{view}"
    );
    assert_eq!(app.balance(&card.account_id).await, 10_000);
    assert_eq!(app.payee_balance().await, 0);
    assert_error(
        app.refund(&created.id, &json!({"amount": 1})).await,
        StatusCode::CONFLICT,
        "settlement_not_refundable",
    )
    .await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn refunds_of_declined_or_unpaid_settlements_are_refused() {
    let app = spawn_app().await;
    let card = app.issue_card(10).await;
    let order = sample_order("refund-2");
    let created = app.create_settlement(&order).await;
    assert_error(
        app.refund(&created.id, &json!({})).await,
        StatusCode::CONFLICT,
        "settlement_not_refundable",
    )
    .await;
    let result = app
        .confirm_ok(
            &created.id,
            &confirm_body(&created.client_secret, &order, card_method(&card)),
        )
        .await;
    assert_eq!(result["decline_code"], "insufficient_funds");
    assert_error(
        app.refund(&created.id, &json!({})).await,
        StatusCode::CONFLICT,
        "settlement_not_refundable",
    )
    .await;
    assert_eq!(app.count("refunds").await, 0);
    app.assert_ledger_ok().await;
}
