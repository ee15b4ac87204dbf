//! Payer-first (PROTOCOL section 5; A4 "requests may arrive in either
//! order"): the buyer's request holds the funds, and the shop's first request
//! collates at once. An attempt that does not agree, was declined or
//! expired ends on its own; the shop's settlement then starts
//! `awaiting_payer` (issue 7: nobody can spoil a shop's order id).

use kessai_core::instruments::IssuedCard;
use kessai_protocol::jws::{self, ResultClaims};
use kessai_protocol::{keys, Order};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    card_method, confirm_body, json_of, now, sample_order, spawn_app, spawn_app_with, TestApp, BACKGROUND_TIMEOUT,
    TOTAL,
};

/// The buyer's request before the shop's; asserts 202 awaiting_merchant.
async fn pay_first(app: &TestApp, order: &Order, card: &IssuedCard) -> (String, String) {
    let body = json!({"merchant_id": app.merchant.merchant_id, "order": order, "payment_method": card_method(card)});
    let (status, result) = json_of(app.confirm_payer_first(&body).await).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{result}");
    assert_eq!(result["status"], "awaiting_merchant", "{result}");
    let id = result["id"].as_str().expect("id").to_string();
    let secret = result["payer_secret"].as_str().expect("payer_secret").to_string();
    assert!(result.get("result_token").is_none(), "{result}");
    (id, secret)
}

async fn shop_request(app: &TestApp, order: &Order) -> Value {
    let (status, created) = json_of(app.post_settlement(&json!({"order": order})).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

/// The shop's request after an attempt that ended on its own: a settlement
/// of its own, awaiting the buyer, which the real buyer then pays.
async fn shop_request_starts_fresh_and_is_paid(app: &TestApp, order: &Order, attempt_id: &str, card: &IssuedCard) {
    let created = shop_request(app, order).await;
    assert_eq!(created["status"], "awaiting_payer", "{created}");
    assert_ne!(created["id"], attempt_id, "{created}");
    let id = created["id"].as_str().expect("id");
    let secret = created["client_secret"].as_str().expect("client_secret");
    let paid = app
        .confirm_ok(id, &confirm_body(secret, order, card_method(card)))
        .await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
}

#[tokio::test]
async fn buyer_request_first_holds_funds_and_the_shops_request_settles_at_once() {
    // A4
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("pf-1");
    let (id, payer_secret) = pay_first(&app, &order, &card).await;
    // Reserved, not moved.
    assert_eq!(app.account(&card.account_id).await, (10_000, 1155));
    assert_eq!(app.payee_balance().await, 0);
    assert_eq!(
        app.payer_status(&id, &payer_secret).await["status"],
        "awaiting_merchant"
    );

    let created = shop_request(&app, &order).await;
    assert_eq!(created["id"], id.as_str());
    assert_eq!(created["status"], "succeeded", "{created}");
    let rk = keys::parse_key(keys::RESULT_KEY_PREFIX, &app.merchant.result_key).unwrap();
    let claims: ResultClaims = jws::verify(&rk, created["result_token"].as_str().expect("result_token")).unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.status.as_str(), claims.total),
        (id.as_str(), "succeeded", TOTAL)
    );

    let payer_view = app.payer_status(&id, &payer_secret).await;
    assert_eq!(payer_view["status"], "succeeded", "{payer_view}");
    assert_eq!(payer_view["result_token"], created["result_token"]);
    assert_eq!(app.account(&card.account_id).await, (10_000 - 1155, 0));
    assert_eq!(app.payee_balance().await, 1155);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn shop_request_with_another_total_ends_the_buyers_attempt_and_starts_awaiting_payer() {
    // A4
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("pf-2");
    let (id, payer_secret) = pay_first(&app, &order, &card).await;
    let mut shop_order = order.clone();
    shop_order.tax = 56;
    shop_order.total = 1156;
    let created = shop_request(&app, &shop_order).await;
    assert_eq!(created["status"], "awaiting_payer", "{created}");
    assert_ne!(created["id"], id.as_str());
    let attempt = app.payer_status(&id, &payer_secret).await;
    assert_eq!(attempt["status"], "mismatched", "{attempt}");
    let fields = attempt["mismatched_fields"].as_array().expect("mismatched_fields");
    assert!(fields.contains(&json!("total")), "{attempt}");
    assert_eq!(app.account(&card.account_id).await, (10_000, 0));
    assert_eq!(app.payee_balance().await, 0);
    // The buyer pays the shop's own settlement, with the shop's order.
    let id2 = created["id"].as_str().expect("id");
    let secret = created["client_secret"].as_str().expect("client_secret");
    let paid = app
        .confirm_ok(id2, &confirm_body(secret, &shop_order, card_method(&card)))
        .await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    assert_eq!(app.payee_balance().await, 1156);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn unmatched_buyer_request_expires_and_releases_the_hold() {
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("pf-3");
    let (id, payer_secret) = pay_first(&app, &order, &card).await;
    assert_eq!(app.account(&card.account_id).await, (10_000, 1155));
    // The real expiry is 15 minutes away: move it into the past and let the
    // sweeper find it.
    app.set_expires_at(&id, now() - 1).await;
    let deadline = tokio::time::Instant::now() + BACKGROUND_TIMEOUT;
    loop {
        let view = app.payer_status(&id, &payer_secret).await;
        if view["status"] == "expired" {
            break;
        }
        assert_eq!(view["status"], "awaiting_merchant", "{view}");
        assert!(tokio::time::Instant::now() < deadline, "never expired: {view}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(app.account(&card.account_id).await, (10_000, 0));

    // The shop's late request opens its own settlement, which the buyer pays.
    shop_request_starts_fresh_and_is_paid(&app, &order, &id, &card).await;
    assert_eq!(app.account(&card.account_id).await, (10_000 - 1155, 0));
    assert_eq!(app.payee_balance().await, 1155);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn payer_secret_of_another_settlement_is_refused() {
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let (id, _) = pay_first(&app, &sample_order("pf-4"), &card).await;
    let (_, other_secret) = pay_first(&app, &sample_order("pf-5"), &card).await;
    let resp = app
        .client
        .get(format!("{}/v1/payer/settlements/{id}", app.base))
        .query(&[("payer_secret", other_secret.as_str())])
        .send()
        .await
        .unwrap();
    crate::helpers::assert_error(resp, StatusCode::UNAUTHORIZED, "payer_secret_invalid").await;
}

#[tokio::test]
async fn buyer_request_first_with_an_account_authenticator_names_the_order_and_merchant() {
    // A4, A10: payer-first authenticators carry order_id + merchant_id instead of sid.
    let app = spawn_app().await;
    let user = app.create_user(10_000).await;
    let order = sample_order("pf-6");
    let claims = jws::PayerClaims {
        sid: None,
        order_id: Some(order.order_id.clone()),
        merchant_id: Some(app.merchant.merchant_id.clone()),
        ..crate::helpers::payer_claims(&user, "", &order)
    };
    let token = crate::helpers::sign_payer(&user, &claims);
    let body = json!({"merchant_id": app.merchant.merchant_id, "order": order,
                      "payment_method": crate::helpers::account_method(&user, &token)});
    let (status, result) = json_of(app.confirm_payer_first(&body).await).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{result}");
    assert_eq!(app.account(&user.account_id).await, (10_000, 1155));
    // The same authenticator cannot open a second one.
    let again = json!({"merchant_id": app.merchant.merchant_id, "order": sample_order("pf-7"),
                       "payment_method": crate::helpers::account_method(&user, &token)});
    assert_eq!(app.confirm_payer_first(&again).await.status(), StatusCode::UNAUTHORIZED);

    let created = shop_request(&app, &order).await;
    assert_eq!(created["status"], "succeeded", "{created}");
    let view = app
        .payer_status(result["id"].as_str().unwrap(), result["payer_secret"].as_str().unwrap())
        .await;
    let uk = keys::parse_key(keys::USER_KEY_PREFIX, &user.user_key).unwrap();
    let claims: ResultClaims = jws::verify(&uk, view["payer_token"].as_str().expect("payer_token")).unwrap();
    assert_eq!(
        (claims.aud.as_str(), claims.status.as_str()),
        (user.user_id.as_str(), "succeeded")
    );
    assert_eq!(app.account(&user.account_id).await, (10_000 - 1155, 0));
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn buyer_request_first_without_funds_is_declined_at_once() {
    let app = spawn_app().await;
    let card = app.issue_card(100).await;
    let order = sample_order("pf-8");
    let body = json!({"merchant_id": app.merchant.merchant_id, "order": order, "payment_method": card_method(&card)});
    let (status, result) = json_of(app.confirm_payer_first(&body).await).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(
        (result["status"].as_str(), result["decline_code"].as_str()),
        (Some("declined"), Some("insufficient_funds"))
    );
    // The declined attempt decides nothing for the shop.
    let attempt_id = result["id"].as_str().expect("id").to_string();
    let created = shop_request(&app, &order).await;
    assert_eq!(created["status"], "awaiting_payer", "{created}");
    assert_ne!(created["id"], attempt_id.as_str());
    assert_eq!(app.account(&card.account_id).await, (100, 0));
    app.assert_ledger_ok().await;
}

// Issue 7 item 6: someone who guessed an order id and sent a made-up card
// (declined) or a wrong total (mismatched later) cannot keep the real buyer
// from paying under that id.
#[tokio::test]
async fn a_squatters_payer_first_attempt_cannot_spoil_the_order_id() {
    let app = spawn_app().await;
    let buyer = app.issue_card(10_000).await;
    let squatter = app.issue_card(10_000).await;
    let order = sample_order("pf-squat");
    let mut made_up = card_method(&buyer);
    made_up["card"]["number"] = json!("4000056655665556");
    let body = json!({"merchant_id": app.merchant.merchant_id, "order": order, "payment_method": made_up});
    let (status, declined) = json_of(app.confirm_payer_first(&body).await).await;
    assert_eq!(
        (status, declined["status"].as_str()),
        (StatusCode::OK, Some("declined")),
        "{declined}"
    );
    // The order id is free again: a second attempt, with a wrong total, waits.
    let mut wrong = order.clone();
    wrong.tax = 0;
    wrong.total = 1100;
    let (attempt_id, _) = pay_first(&app, &wrong, &squatter).await;
    shop_request_starts_fresh_and_is_paid(&app, &order, &attempt_id, &buyer).await;
    assert_eq!(
        app.account(&squatter.account_id).await,
        (10_000, 0),
        "the squatter's hold is released"
    );
    assert_eq!(app.account(&buyer.account_id).await, (10_000 - 1155, 0));
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn second_buyer_request_for_the_same_order_is_a_conflict() {
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("pf-9");
    pay_first(&app, &order, &card).await;
    let body = json!({"merchant_id": app.merchant.merchant_id, "order": order, "payment_method": card_method(&card)});
    crate::helpers::assert_error(
        app.confirm_payer_first(&body).await,
        StatusCode::CONFLICT,
        "order_id_in_use",
    )
    .await;
    assert_eq!(app.account(&card.account_id).await, (10_000, 1155));
}

#[tokio::test]
async fn buyer_request_first_for_an_unknown_merchant_or_from_a_foreign_origin_is_refused() {
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("pf-10");
    let body = json!({"merchant_id": "mch_doesnotexist", "order": order, "payment_method": card_method(&card)});
    crate::helpers::assert_error(
        app.confirm_payer_first(&body).await,
        StatusCode::NOT_FOUND,
        "merchant_not_found",
    )
    .await;
    let body = json!({"merchant_id": app.merchant.merchant_id, "order": order, "payment_method": card_method(&card)});
    let resp = app
        .client
        .post(format!("{}/v1/payer/orders/confirm", app.base))
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    crate::helpers::assert_error(resp, StatusCode::FORBIDDEN, "origin_not_allowed").await;
    assert_eq!(app.account(&card.account_id).await, (10_000, 0));
    assert_eq!(app.count("settlements").await, 0);
}

async fn settlement_exists(app: &TestApp, id: &str) -> bool {
    use sqlx::Row;
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM settlements WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .expect("count")
        .get("n");
    n == 1
}

/// A payer-first attempt declined at once (a made-up card); its id.
async fn declined_attempt(app: &TestApp, order: &Order) -> String {
    let method = json!({"type": "card", "card": {"number": "4000056655665556", "exp_month": 12, "exp_year": 2090, "cvc": "123"}});
    let body = json!({"merchant_id": app.merchant.merchant_id, "order": order, "payment_method": method});
    let (_, result) = json_of(app.confirm_payer_first(&body).await).await;
    assert_eq!(result["status"], "declined", "{result}");
    result["id"].as_str().expect("id").to_string()
}

// Issue 7: card testers' declined guesses, and attempts the shop never took,
// do not each leave a row behind for good.
#[tokio::test]
async fn ended_payer_first_attempts_are_deleted_after_their_retention_and_nothing_else_is() {
    let app = spawn_app_with(|c| {
        c.ended_attempts_keep_s = 1;
        // Old rows are cleaned up every 60 sweeps: every 3 s here.
        c.sweep_interval = std::time::Duration::from_millis(50);
    })
    .await;
    let card = app.issue_card(100_000).await;
    let declined = declined_attempt(&app, &sample_order("end-declined")).await;
    let mismatched_order = sample_order("end-mismatched");
    let (mismatched, _) = pay_first(&app, &mismatched_order, &card).await;
    let mut shop_order = mismatched_order.clone();
    shop_order.tax = 56;
    shop_order.total = 1156;
    let shops_own = shop_request(&app, &shop_order).await;
    let shops_own = shops_own["id"].as_str().expect("id").to_string();
    let (expired, expired_secret) = pay_first(&app, &sample_order("end-expired"), &card).await;
    app.set_expires_at(&expired, now() - 1).await;
    // Kept: an attempt the shop claimed (paid), and one still waiting.
    let claimed_order = sample_order("end-claimed");
    let (claimed, _) = pay_first(&app, &claimed_order, &card).await;
    assert_eq!(shop_request(&app, &claimed_order).await["status"], "succeeded");
    let (waiting, _) = pay_first(&app, &sample_order("end-waiting"), &card).await;
    let holds = app.count("holds").await;

    let deadline = tokio::time::Instant::now() + BACKGROUND_TIMEOUT;
    for id in [&declined, &mismatched, &expired] {
        while settlement_exists(&app, id).await {
            assert!(tokio::time::Instant::now() < deadline, "{id} was never deleted");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    for id in [&shops_own, &claimed, &waiting] {
        assert!(settlement_exists(&app, id).await, "{id} was deleted");
    }
    // The released holds stay, as the buyer's account's record.
    assert_eq!(app.count("holds").await, holds);
    assert_eq!(app.account(&card.account_id).await, (100_000 - 1155, 1155));
    let response = app
        .client
        .get(format!("{}/v1/payer/settlements/{expired}", app.base))
        .query(&[("payer_secret", expired_secret.as_str())])
        .send()
        .await
        .expect("GET payer settlement");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    app.assert_ledger_ok().await;
}
