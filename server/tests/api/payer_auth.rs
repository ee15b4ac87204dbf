//! Accounts held at the settling server (A12), authorized by an HS256 JWS
//! made with the user's key (A10) or by id and password (A11).

use kessai_protocol::jws::{self, ResultClaims};
use kessai_protocol::keys;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    account_method, assert_error, confirm_body, now, password_method, payer_claims, sample_order, sign_payer,
    spawn_app, PASSWORD, TOTAL,
};

/// The payer token verifies with the user's key and names the user (A10, claims 11).
fn assert_payer_token(result: &Value, user_key: &str, user_id: &str, settlement_id: &str) {
    let key = keys::parse_key(keys::USER_KEY_PREFIX, user_key).expect("user key");
    let token = result["payer_token"].as_str().expect("payer_token");
    let claims: ResultClaims = jws::verify(&key, token).expect("payer token verifies with the user key");
    assert_eq!(claims.aud, user_id);
    assert_eq!(claims.sub, settlement_id);
    assert_eq!(claims.status, "succeeded");
    assert_eq!(claims.total, TOTAL);
}

#[tokio::test]
async fn account_payment_with_a_valid_authenticator_succeeds() {
    // A10, A12
    let app = spawn_app().await;
    let user = app.create_user(10_000).await;
    let order = sample_order("acct-1");
    let created = app.create_settlement(&order).await;
    let token = sign_payer(&user, &payer_claims(&user, &created.id, &order));
    let result = app
        .confirm_ok(
            &created.id,
            &confirm_body(&created.client_secret, &order, account_method(&user, &token)),
        )
        .await;
    assert_eq!(result["status"], "succeeded", "{result}");
    assert_payer_token(&result, &user.user_key, &user.user_id, &created.id);
    let rk = keys::parse_key(keys::RESULT_KEY_PREFIX, &app.merchant.result_key).unwrap();
    jws::verify::<ResultClaims>(&rk, result["result_token"].as_str().unwrap()).expect("result token");
    assert_eq!(app.balance(&user.account_id).await, 10_000 - 1155);
    assert_eq!(app.payee_balance().await, 1155);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn authenticator_cannot_be_used_twice() {
    // A10: each jti once.
    let app = spawn_app().await;
    let user = app.create_user(10_000).await;
    let first_order = sample_order("acct-2");
    let first = app.create_settlement(&first_order).await;
    let claims = payer_claims(&user, &first.id, &first_order);
    let token = sign_payer(&user, &claims);
    let body = confirm_body(&first.client_secret, &first_order, account_method(&user, &token));
    assert_eq!(app.confirm_ok(&first.id, &body).await["status"], "succeeded");

    // The very same authenticator on a second settlement.
    let order = sample_order("acct-3");
    let second = app.create_settlement(&order).await;
    let resp = app
        .confirm(
            &second.id,
            &confirm_body(&second.client_secret, &order, account_method(&user, &token)),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get_settlement(&second.id).await["status"], "awaiting_payer");

    // A fresh token for the second settlement that reuses the first jti.
    let reused = sign_payer(
        &user,
        &jws::PayerClaims {
            jti: claims.jti.clone(),
            ..payer_claims(&user, &second.id, &order)
        },
    );
    let resp = app
        .confirm(
            &second.id,
            &confirm_body(&second.client_secret, &order, account_method(&user, &reused)),
        )
        .await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "authenticator_reused").await;
    assert_eq!(app.get_settlement(&second.id).await["status"], "awaiting_payer");
    assert_eq!(app.balance(&user.account_id).await, 10_000 - 1155);

    // A new authenticator still pays it.
    let fresh = sign_payer(&user, &payer_claims(&user, &second.id, &order));
    let result = app
        .confirm_ok(
            &second.id,
            &confirm_body(&second.client_secret, &order, account_method(&user, &fresh)),
        )
        .await;
    assert_eq!(result["status"], "succeeded", "{result}");
    assert_eq!(app.balance(&user.account_id).await, 10_000 - 2 * 1155);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn authenticator_older_than_five_minutes_is_refused() {
    // A10: valid for 5 minutes.
    let app = spawn_app().await;
    let user = app.create_user(10_000).await;
    let order = sample_order("acct-4");
    let created = app.create_settlement(&order).await;
    let claims = jws::PayerClaims {
        iat: now() - 600,
        ..payer_claims(&user, &created.id, &order)
    };
    let token = sign_payer(&user, &claims);
    let resp = app
        .confirm(
            &created.id,
            &confirm_body(&created.client_secret, &order, account_method(&user, &token)),
        )
        .await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "authenticator_expired").await;
    assert_eq!(app.get_settlement(&created.id).await["status"], "awaiting_payer");
    assert_eq!(app.balance(&user.account_id).await, 10_000);
}

#[tokio::test]
async fn authenticator_for_another_settlement_is_refused() {
    // A10: the authenticator names the settlement it pays.
    let app = spawn_app().await;
    let user = app.create_user(10_000).await;
    let order = sample_order("acct-5");
    let created = app.create_settlement(&order).await;
    let other = app.create_settlement(&sample_order("acct-6")).await;
    let token = sign_payer(&user, &payer_claims(&user, &other.id, &order));
    let resp = app
        .confirm(
            &created.id,
            &confirm_body(&created.client_secret, &order, account_method(&user, &token)),
        )
        .await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "authenticator_mismatch").await;
    assert_eq!(app.get_settlement(&created.id).await["status"], "awaiting_payer");
    assert_eq!(app.balance(&user.account_id).await, 10_000);
}

#[tokio::test]
async fn authenticator_signed_with_another_key_is_declined() {
    // A10: only the user's own key makes a valid authenticator.
    let app = spawn_app().await;
    let user = app.create_user(10_000).await;
    let order = sample_order("acct-7");
    let created = app.create_settlement(&order).await;
    let token = jws::sign(&[7; 32], &payer_claims(&user, &created.id, &order));
    let result = app
        .confirm_ok(
            &created.id,
            &confirm_body(&created.client_secret, &order, account_method(&user, &token)),
        )
        .await;
    assert_eq!(result["status"], "declined", "{result}");
    assert_eq!(result["decline_code"], "authentication_failed", "{result}");
    assert_eq!(app.balance(&user.account_id).await, 10_000);
}

#[tokio::test]
async fn password_payment_succeeds() {
    // A11, A12
    let app = spawn_app().await;
    let user = app.create_user(10_000).await;
    let order = sample_order("pw-ok-1");
    let created = app.create_settlement(&order).await;
    let result = app
        .confirm_ok(
            &created.id,
            &confirm_body(&created.client_secret, &order, password_method(&user, PASSWORD)),
        )
        .await;
    assert_eq!(result["status"], "succeeded", "{result}");
    assert_payer_token(&result, &user.user_key, &user.user_id, &created.id);
    assert!(!result.to_string().contains(PASSWORD));
    assert_eq!(app.balance(&user.account_id).await, 10_000 - 1155);
    assert_eq!(app.payee_balance().await, 1155);
    app.assert_ledger_ok().await;
}
