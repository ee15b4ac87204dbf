//! Cooling-off restriction (C7, seed 002 claim 13): the payment holds the
//! funds for the period; they move when it ends, or go back if the shop
//! cancels within it.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    assert_error, captured_logs, card_method, confirm_body, json_of, sample_order, spawn_app, Created, TestApp,
};

async fn create_with_cooling_off(app: &TestApp, order_id: &str, cooling_off_s: u64) -> Created {
    let order = sample_order(order_id);
    let body = json!({"order": order, "restrictions": {"cooling_off_s": cooling_off_s}});
    let (status, body) = json_of(app.post_settlement(&body).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Created {
        id: body["id"].as_str().unwrap().to_string(),
        client_secret: body["client_secret"].as_str().unwrap().to_string(),
        body,
    }
}

#[tokio::test]
async fn payment_with_cooling_off_is_held_then_captured() {
    // C7
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("cool-1");
    let created = create_with_cooling_off(&app, "cool-1", 1).await;
    let body = confirm_body(&created.client_secret, &order, card_method(&card));
    let result = app.confirm_ok(&created.id, &body).await;
    // Captured by the sweeper a second later, so the answer may already be past `held`.
    assert!(
        ["held", "succeeded"].contains(&result["status"].as_str().unwrap()),
        "{result}"
    );
    let view = app.wait_for_status(&created.id, "succeeded").await;
    assert!(view["result_token"].is_string(), "{view}");
    assert_eq!(app.account(&card.account_id).await, (10_000 - 1155, 0));
    assert_eq!(app.payee_balance().await, 1155);
    // A repeat of the buyer's request moves nothing more.
    assert_eq!(app.confirm_ok(&created.id, &body).await["status"], "succeeded");
    assert_eq!(app.account(&card.account_id).await, (10_000 - 1155, 0));
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn cancel_within_the_cooling_off_period_releases_the_funds() {
    // C7, A14
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("cool-2");
    let created = create_with_cooling_off(&app, "cool-2", 3600).await;
    let body = confirm_body(&created.client_secret, &order, card_method(&card));
    let result = app.confirm_ok(&created.id, &body).await;
    assert_eq!(result["status"], "held", "{result}");
    assert_eq!(app.account(&card.account_id).await, (10_000, 1155));
    assert_eq!(app.payee_balance().await, 0);
    // Nothing to refund yet: the money has not moved.
    assert_error(
        app.refund(&created.id, &json!({})).await,
        StatusCode::CONFLICT,
        "settlement_not_refundable",
    )
    .await;
    // A repeat of the buyer's request gets the same outcome.
    assert_eq!(app.confirm_ok(&created.id, &body).await["status"], "held");

    let (status, canceled) = json_of(app.cancel(&created.id).await).await;
    assert_eq!(status, StatusCode::OK, "{canceled}");
    assert_eq!(canceled["status"], "canceled", "{canceled}");
    assert_eq!(app.account(&card.account_id).await, (10_000, 0));
    assert_eq!(app.payee_balance().await, 0);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn restrictions_out_of_range_are_refused() {
    let app = spawn_app().await;
    let body = json!({"order": sample_order("cool-3"), "restrictions": {"min_age": 151}});
    let error = assert_error(
        app.post_settlement(&body).await,
        StatusCode::BAD_REQUEST,
        "min_age_out_of_range",
    )
    .await;
    assert_eq!(error["param"], "restrictions.min_age");
    let body = json!({"order": sample_order("cool-3"), "restrictions": {"cooling_off_s": 0}});
    assert_error(
        app.post_settlement(&body).await,
        StatusCode::BAD_REQUEST,
        "cooling_off_out_of_range",
    )
    .await;
    assert_eq!(app.count("settlements").await, 0);
}

/// Invariant: a capture moves exactly the settlement's total. A hold that
/// no longer says so (tampered here; a bug elsewhere) makes the capture
/// fail as a whole: rolled back, logged, the settlement still held, not
/// half moved.
#[tokio::test]
async fn a_capture_that_would_move_another_amount_is_refused_and_rolled_back() {
    let app = spawn_app().await;
    let logs = captured_logs();
    let card = app.issue_card(10_000).await;
    let order = sample_order("cool-tampered");
    let created = create_with_cooling_off(&app, "cool-tampered", 3600).await;
    let body = confirm_body(&created.client_secret, &order, card_method(&card));
    assert_eq!(app.confirm_ok(&created.id, &body).await["status"], "held");
    // The hold now says 1154 (the account's held amount agrees), and its time is up.
    for sql in [
        format!(
            "UPDATE holds SET amount = amount - 1 WHERE settlement_id = '{}'",
            created.id
        ),
        format!("UPDATE accounts SET held = held - 1 WHERE id = '{}'", card.account_id),
        format!("UPDATE settlements SET capture_at = 0 WHERE id = '{}'", created.id),
    ] {
        sqlx::query(&sql).execute(&app.pool).await.unwrap();
    }
    // The sweeper runs every 200 ms here: give it several tries.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(app.get_settlement(&created.id).await["status"], "held");
    assert_eq!(app.account(&card.account_id).await, (10_000, 1154));
    assert_eq!(app.payee_balance().await, 0);
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(
        text.contains("invariant broken") && text.contains(&created.id),
        "the broken invariant was not logged with its settlement"
    );
}
