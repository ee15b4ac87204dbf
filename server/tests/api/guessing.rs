//! Card testing and password guessing (issue 7): a card locked after a few
//! wrong CVCs, whatever comes after; 429 `rate_limited` with Retry-After
//! after too many declines per card, per merchant's payer-first endpoint
//! and per source address, and too many wrong passwords per user.

use kessai_core::instruments::IssuedCard;
use kessai_protocol::card;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    card_method, confirm_body, json_of, password_method, sample_order, spawn_app, spawn_app_with, TestApp, PASSWORD,
};

/// The card with its CVC changed to a wrong one.
fn wrong_cvc(card: &IssuedCard) -> Value {
    let mut method = card_method(card);
    let right: u32 = card.cvc.parse().unwrap();
    method["card"]["cvc"] = json!(format!("{:03}", (right + 1) % 1000));
    method
}

/// A fresh settlement confirmed with `method`: HTTP status, body and headers.
async fn pay(app: &TestApp, order_id: &str, method: Value) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let order = sample_order(order_id);
    let created = app.create_settlement(&order).await;
    let response = app
        .confirm(&created.id, &confirm_body(&created.client_secret, &order, method))
        .await;
    let headers = response.headers().clone();
    let (status, body) = json_of(response).await;
    (status, body, headers)
}

fn assert_rate_limited(status: StatusCode, body: &Value, headers: &reqwest::header::HeaderMap) {
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn a_card_is_locked_after_five_wrong_cvcs_even_for_the_right_one() {
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    for i in 0..5 {
        let (status, body, _) = pay(&app, &format!("lock-{i}"), wrong_cvc(&card)).await;
        assert_eq!(
            (status, body["decline_code"].as_str()),
            (StatusCode::OK, Some("card_declined")),
            "{body}"
        );
    }
    // The sixth attempt has the right CVC, and is declined all the same.
    let (_, body, _) = pay(&app, "lock-right", card_method(&card)).await;
    assert_eq!(body["decline_code"], "card_declined", "{body}");
    assert_eq!(app.balance(&card.account_id).await, 10_000);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_right_cvc_before_the_limit_starts_the_count_again() {
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    for i in 0..4 {
        pay(&app, &format!("typo-{i}"), wrong_cvc(&card)).await;
    }
    let (_, body, _) = pay(&app, "typo-right", card_method(&card)).await;
    assert_eq!(body["status"], "succeeded", "{body}");
    let (_, body, _) = pay(&app, "typo-again", wrong_cvc(&card)).await;
    assert_eq!(body["decline_code"], "card_declined");
    let (_, body, _) = pay(&app, "typo-right-2", card_method(&card)).await;
    assert_eq!(body["status"], "succeeded", "{body}");
}

#[tokio::test]
async fn declined_attempts_with_one_card_past_ten_a_minute_are_refused_429() {
    let app = spawn_app().await;
    let number = card::with_check_digit("400000000000777");
    let method = json!({"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2090, "cvc": "123"}});
    for i in 0..10 {
        let (status, body, _) = pay(&app, &format!("rate-{i}"), method.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body, headers) = pay(&app, "rate-10", method).await;
    assert_rate_limited(status, &body, &headers);
    // Refused before anything was recorded: that settlement can still be paid.
    let (_, body, _) = pay(&app, "rate-other", card_method(&app.issue_card(5_000).await)).await;
    assert_eq!(body["status"], "succeeded", "{body}");
}

#[tokio::test]
async fn declined_payer_first_requests_past_the_merchants_limit_are_refused_429() {
    // No limit per address, which would otherwise refuse this one client first.
    let app = spawn_app_with(|c| c.limits.source_failures_per_minute = 0).await;
    let mut last = None;
    for i in 0..=kessai_core::throttle::PAYER_FIRST_DECLINES_PER_MINUTE {
        // A new made-up card each time, so only the merchant's limit applies.
        let number = card::with_check_digit(&format!("4000001{i:08}"));
        let method =
            json!({"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2090, "cvc": "123"}});
        let body = json!({"merchant_id": app.merchant.merchant_id, "order": sample_order(&format!("pf-rate-{i}")), "payment_method": method});
        let response = app.confirm_payer_first(&body).await;
        let headers = response.headers().clone();
        let (status, body) = json_of(response).await;
        if status != StatusCode::OK {
            last = Some((status, body, headers));
            break;
        }
        assert_eq!(body["decline_code"], "card_declined", "{body}");
    }
    let (status, body, headers) = last.expect("the limit was never reached");
    assert_rate_limited(status, &body, &headers);
}

#[tokio::test]
async fn wrong_passwords_past_five_are_refused_429_before_the_password_is_checked() {
    let app = spawn_app().await;
    let user = app.create_user(10_000).await;
    for i in 0..5 {
        let (_, body, _) = pay(&app, &format!("pw-{i}"), password_method(&user, "wrong password")).await;
        assert_eq!(body["decline_code"], "authentication_failed", "{body}");
    }
    let (status, body, headers) = pay(&app, "pw-right", password_method(&user, PASSWORD)).await;
    assert_rate_limited(status, &body, &headers);
    assert_eq!(app.balance(&user.account_id).await, 10_000);
}

#[tokio::test]
async fn a_card_that_pays_is_never_rate_limited() {
    let app = spawn_app().await;
    let card = app.issue_card(100_000).await;
    for i in 0..=kessai_core::throttle::CARD_DECLINES_PER_MINUTE {
        let (_, body, _) = pay(&app, &format!("often-{i}"), card_method(&card)).await;
        assert_eq!(body["status"], "succeeded", "{body}");
    }
}

/// A made-up card number for attempt `i`: each is new, so no card's own
/// limit applies.
fn made_up_card(i: u32) -> Value {
    let number = card::with_check_digit(&format!("4000002{i:08}"));
    json!({"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2090, "cvc": "123"}})
}

/// A client whose requests come from `source` (any 127.0.0.0/8 address
/// reaches the test server on 127.0.0.1).
fn client_from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(Some(source.parse().unwrap()))
        .build()
        .unwrap()
}

async fn payer_first_from(
    client: &reqwest::Client,
    app: &TestApp,
    i: u32,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let body = json!({"merchant_id": app.merchant.merchant_id, "order": sample_order(&format!("src-{i}")), "payment_method": made_up_card(i)});
    let response = client
        .post(format!("{}/v1/payer/orders/confirm", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    let headers = response.headers().clone();
    let (status, body) = json_of(response).await;
    (status, body, headers)
}

/// Sends payer-first requests with new made-up cards from `client` until
/// one is refused; returns the declines before it and the refusal. Bounded
/// at twice the limit and one: the counting window may roll over once
/// between two requests.
async fn decline_until_refused(
    client: &reqwest::Client,
    app: &TestApp,
    limit: u32,
    first: u32,
) -> (u32, (StatusCode, Value, reqwest::header::HeaderMap)) {
    for i in 0..=2 * limit {
        let (status, body, headers) = payer_first_from(client, app, first + i).await;
        if status != StatusCode::OK {
            return (i, (status, body, headers));
        }
        assert_eq!(body["decline_code"], "card_declined", "{body}");
    }
    panic!("{} declines from one address were never refused", 2 * limit + 1);
}

#[tokio::test]
async fn declines_from_one_address_past_its_limit_are_refused_429_and_other_addresses_served() {
    const LIMIT: u32 = 5;
    let app = spawn_app_with(|c| c.limits.source_failures_per_minute = LIMIT).await;
    let guesser = client_from("127.0.0.1");
    let (declines, (status, body, headers)) = decline_until_refused(&guesser, &app, LIMIT, 0).await;
    assert!(declines >= LIMIT, "refused after {declines} declines");
    assert_rate_limited(status, &body, &headers);
    assert!(body["error"]["message"].as_str().unwrap().contains("address"), "{body}");
    // The second request (with a client secret) from the same address is
    // refused as well, before the card is looked up.
    let order = sample_order("src-second");
    let created = app.create_settlement(&order).await;
    let response = guesser
        .post(format!("{}/v1/payer/settlements/{}/confirm", app.base, created.id))
        .json(&confirm_body(&created.client_secret, &order, made_up_card(900)))
        .send()
        .await
        .unwrap();
    let headers = response.headers().clone();
    let (status, body) = json_of(response).await;
    assert_rate_limited(status, &body, &headers);
    // Another address is still served: its request is judged (and declined).
    let (status, body, _) = payer_first_from(&client_from("127.0.0.2"), &app, 1000).await;
    assert_eq!(
        (status, body["decline_code"].as_str()),
        (StatusCode::OK, Some("card_declined")),
        "{body}"
    );
}

#[tokio::test]
async fn payments_that_succeed_do_not_count_against_their_address() {
    let app = spawn_app_with(|c| c.limits.source_failures_per_minute = 2).await;
    // One busy address (a shop's buyers behind one NAT, say), many payments.
    for i in 0..6 {
        let card = app.issue_card(5_000).await;
        let (_, body, _) = pay(&app, &format!("nat-{i}"), card_method(&card)).await;
        assert_eq!(body["status"], "succeeded", "{body}");
    }
}

#[tokio::test]
async fn wrong_wallet_logins_for_many_users_from_one_address_are_refused_429() {
    const LIMIT: u32 = 3;
    let app = spawn_app_with(|c| c.limits.source_failures_per_minute = LIMIT).await;
    let login = |client: reqwest::Client, user_id: String, password: &'static str| {
        let url = format!("{}/v1/wallet/sessions", app.base);
        async move {
            let response = client
                .post(url)
                .json(&json!({"user_id": user_id, "password": password}))
                .send()
                .await
                .unwrap();
            let headers = response.headers().clone();
            let (status, body) = json_of(response).await;
            (status, body, headers)
        }
    };
    let guesser = client_from("127.0.0.1");
    // One wrong password per user: each user's own limit (5) is never near.
    let mut refused = None;
    for i in 0..=2 * LIMIT {
        let user = app.create_user(1_000).await;
        let (status, body, headers) = login(guesser.clone(), user.user_id.clone(), "wrong password").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(i >= LIMIT, "refused after {i} wrong logins");
            refused = Some((status, body, headers));
            break;
        }
        assert_eq!(body["error"]["code"], "authentication_failed", "{body}");
    }
    let (status, body, headers) = refused.expect("wrong logins from one address were never refused");
    assert_rate_limited(status, &body, &headers);
    let user = app.create_user(1_000).await;
    let (status, body, _) = login(client_from("127.0.0.2"), user.user_id.clone(), PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
