//! Each decline: 200 with status `declined` and the PROTOCOL section 6 code,
//! the settlement final for the shop too, and not one yen moved.

use kessai_protocol::card;
use serde_json::{json, Value};

use crate::helpers::{card_method, confirm_body, password_method, sample_order, spawn_app, TestApp};

/// Confirms `method` on a fresh settlement for the sample order and checks
/// the decline, on the buyer's answer and on the shop's view.
async fn assert_declined(app: &TestApp, order_id: &str, method: Value, code: &str) -> Value {
    let order = sample_order(order_id);
    let created = app.create_settlement(&order).await;
    let result = app
        .confirm_ok(&created.id, &confirm_body(&created.client_secret, &order, method))
        .await;
    assert_eq!(result["status"], "declined", "{result}");
    assert_eq!(result["decline_code"], code, "{result}");
    let view = app.get_settlement(&created.id).await;
    assert_eq!(view["status"], "declined", "{view}");
    assert_eq!(view["decline_code"], code, "{view}");
    assert_eq!(app.payee_balance().await, 0);
    assert_eq!(app.count("transfers WHERE kind <> 'funding'").await, 0);
    app.assert_ledger_ok().await;
    result
}

#[tokio::test]
async fn card_without_enough_balance_is_declined_insufficient_funds() {
    // A5: balance check before collection.
    let app = spawn_app().await;
    let card = app.issue_card(1154).await;
    assert_declined(&app, "nsf-1", card_method(&card), "insufficient_funds").await;
    assert_eq!(app.balance(&card.account_id).await, 1154);
}

// Issue 7: a wrong CVC is declined exactly as an unknown number is
// (`card_declined`, no brand), so a decline tells a card tester nothing.
#[tokio::test]
async fn wrong_cvc_is_declined_as_an_unknown_card_is() {
    let app = spawn_app().await;
    let mut card = app.issue_card(5_000).await;
    let right: u32 = card.cvc.parse().unwrap();
    let account = card.account_id.clone();
    card.cvc = format!("{:03}", (right + 1) % 1000);
    let wrong = assert_declined(&app, "cvc-1", card_method(&card), "card_declined").await;
    let number = card::with_check_digit("400000000000123");
    let method = json!({"type": "card", "card": {"number": number, "exp_month": card.exp_month, "exp_year": card.exp_year, "cvc": "123"}});
    let unknown = assert_declined(&app, "cvc-2", method, "card_declined").await;
    assert_eq!(
        wrong["card"].get("brand"),
        unknown["card"].get("brand"),
        "{wrong} {unknown}"
    );
    assert_eq!(app.balance(&account).await, 5_000);
}

#[tokio::test]
async fn unknown_card_is_declined_card_declined() {
    let app = spawn_app().await;
    let number = card::with_check_digit("400000000000123");
    let method = json!({"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2090, "cvc": "123"}});
    let result = assert_declined(&app, "unknown-1", method, "card_declined").await;
    assert!(!result.to_string().contains(&number));
}

#[tokio::test]
async fn expired_card_is_declined_expired_card() {
    let app = spawn_app().await;
    let card = app.issue_card_with("kessai-card", 5_000, Some((1, 2020))).await;
    assert_eq!((card.exp_month, card.exp_year), (1, 2020));
    assert_declined(&app, "expired-1", card_method(&card), "expired_card").await;
    assert_eq!(app.balance(&card.account_id).await, 5_000);
}

#[tokio::test]
async fn card_with_other_expiry_than_issued_is_declined() {
    let app = spawn_app().await;
    let mut card = app.issue_card(5_000).await;
    card.exp_year += 1;
    assert_declined(&app, "expiry-2", card_method(&card), "card_declined").await;
    assert_eq!(app.balance(&card.account_id).await, 5_000);
}

#[tokio::test]
async fn wrong_password_is_declined_authentication_failed() {
    // A11
    let app = spawn_app().await;
    let user = app.create_user(5_000).await;
    assert_declined(
        &app,
        "pw-1",
        password_method(&user, "not the password"),
        "authentication_failed",
    )
    .await;
    assert_eq!(app.balance(&user.account_id).await, 5_000);
}

#[tokio::test]
async fn card_of_a_brand_the_shop_does_not_accept_is_declined() {
    // The first request offered only kessai-card.
    let app = spawn_app().await;
    let card = app.issue_card_with("kessai-bank", 5_000, None).await;
    assert_declined(&app, "brand-1", card_method(&card), "card_declined").await;
    assert_eq!(app.balance(&card.account_id).await, 5_000);
}
