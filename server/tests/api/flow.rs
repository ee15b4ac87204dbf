use kessai_protocol::jws::{self, ResultClaims};
use kessai_protocol::keys;

use crate::helpers::{card_method, confirm_body, sample_order, spawn_app, CURRENCY, TOTAL};

#[tokio::test]
async fn card_payment_settles_once_both_requests_agree() {
    // A1, A3, A4, A5, A6
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("1234567890");

    // A1: the shop's first request.
    let created = app.create_settlement(&order).await;
    assert!(created.id.starts_with("stl_"), "{}", created.body);
    assert!(created.client_secret.starts_with(&format!("{}_secret_", created.id)));
    assert_eq!(created.body["order_id"], "1234567890");
    assert_eq!(created.body["order_digest"], order.digest());
    assert_eq!(created.body["total"], TOTAL);
    assert_eq!(created.body["currency"], CURRENCY);
    assert!(created.body["expires_at"].as_i64() > created.body["created_at"].as_i64());

    // A3: the buyer's second request, straight to the settling server.
    let result = app
        .confirm_ok(
            &created.id,
            &confirm_body(&created.client_secret, &order, card_method(&card)),
        )
        .await;
    assert_eq!(result["status"], "succeeded", "{result}");
    assert_eq!(result["id"], created.id.as_str());
    assert_eq!(result["card"]["brand"], "kessai-card");
    assert_eq!(result["card"]["last4"], &card.card_number[card.card_number.len() - 4..]);
    assert!(
        result.get("payer_token").is_none(),
        "card payments get no payer token: {result}"
    );

    // A6: the result token verifies with the merchant's result key.
    let result_key = keys::parse_key("rk_", &app.merchant.result_key).expect("result key");
    let token = result["result_token"].as_str().expect("result_token");
    let claims: ResultClaims = jws::verify(&result_key, token).expect("result token verifies");
    assert_eq!(claims.iss, "kessai");
    assert_eq!(claims.aud, app.merchant.merchant_id);
    assert_eq!(claims.sub, created.id);
    assert_eq!(claims.order_id, "1234567890");
    assert_eq!(claims.status, "succeeded");
    assert_eq!(claims.total, TOTAL);
    assert_eq!(claims.currency, CURRENCY);
    assert_eq!(claims.order_digest, order.digest());
    // A token made with any other key does not pass.
    assert!(jws::verify::<ResultClaims>(&[0; 32], token).is_err());

    // The shop sees the same outcome, with the same token.
    let view = app.get_settlement(&created.id).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(view["result_token"], token);
    assert!(
        view.get("client_secret").is_none(),
        "a paid settlement no longer shows its client secret: {view}"
    );

    // A5: money moved exactly once, by exactly the total.
    assert_eq!(app.balance(&card.account_id).await, 10_000 - 1155);
    assert_eq!(app.payee_balance().await, 1155);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn repeated_confirm_returns_the_first_outcome_without_moving_money_again() {
    // A4: a settlement is confirmed at most once.
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("repeat-1");
    let created = app.create_settlement(&order).await;
    let body = confirm_body(&created.client_secret, &order, card_method(&card));
    let first = app.confirm_ok(&created.id, &body).await;
    let second = app.confirm_ok(&created.id, &body).await;
    assert_eq!(first["status"], "succeeded");
    assert_eq!(first, second);
    assert_eq!(app.balance(&card.account_id).await, 10_000 - 1155);
    app.assert_ledger_ok().await;
}

/// A free order (total 0) succeeds, moves nothing, and leaves nothing to
/// refund; the ledger stays consistent.
#[tokio::test]
async fn a_free_order_succeeds_and_moves_nothing() {
    let app = spawn_app().await;
    let card = app.issue_card(1_000).await;
    let mut order = sample_order("free-1");
    for item in &mut order.items {
        item.unit_price = 0;
    }
    order.tax = 0;
    order.total = 0;
    let created = app.create_settlement(&order).await;
    let body = confirm_body(&created.client_secret, &order, card_method(&card));
    let result = app.confirm_ok(&created.id, &body).await;
    assert_eq!(result["status"], "succeeded", "{result}");
    assert!(result["result_token"].is_string(), "{result}");
    assert_eq!(app.account(&card.account_id).await, (1_000, 0));
    assert_eq!(app.payee_balance().await, 0);
    app.assert_ledger_ok().await;
    crate::helpers::assert_error(
        app.refund(&created.id, &serde_json::json!({})).await,
        reqwest::StatusCode::CONFLICT,
        "settlement_not_refundable",
    )
    .await;
}
