//! The server wallet API (PROTOCOL 12): sessions with throttled logins,
//! brand info, the start message, paying it from a wallet user's account
//! (once, however often it is sent), and the history (A11, B5, B6, B13, C2).

use kessai_protocol::jws::{self, ResultClaims};
use kessai_protocol::keys;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, json_of, sample_order, spawn_app, spawn_app_with, Created, TestApp, PASSWORD, TOTAL,
};

impl TestApp {
    pub(crate) async fn wallet_login(&self, user_id: &str, password: &str) -> Response {
        self.client
            .post(format!("{}/v1/wallet/sessions", self.base))
            .json(&json!({"user_id": user_id, "password": password}))
            .send()
            .await
            .expect("POST /v1/wallet/sessions")
    }

    /// Logs in; returns the session token.
    pub(crate) async fn wallet_token(&self, user_id: &str) -> String {
        let (status, body) = json_of(self.wallet_login(user_id, PASSWORD).await).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().expect("token").to_string()
    }

    async fn wallet_get(&self, path: &str, token: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET wallet")
    }

    async fn wallet_pay(&self, token: &str, message: &Value) -> Response {
        self.client
            .post(format!("{}/v1/wallet/payments", self.base))
            .bearer_auth(token)
            .json(message)
            .send()
            .await
            .expect("POST /v1/wallet/payments")
    }

    async fn start_message(&self, created: &Created) -> Value {
        let resp = self
            .get_path(&format!(
                "/v1/payer/settlements/{}/start?client_secret={}",
                created.id, created.client_secret
            ))
            .await;
        let (status, body) = json_of(resp).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

#[tokio::test]
async fn a_session_is_a_hashed_bearer_token_that_ends() {
    let app = spawn_app().await;
    let user = app.create_user(10_000).await;
    let (status, session) = json_of(app.wallet_login(&user.user_id, PASSWORD).await).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let token = session["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("wt_"), "{session}");
    assert_eq!(session["user_id"], user.user_id.as_str());
    assert_eq!(session["name"], "Taro Yamada");
    assert!(session["expires_at"].as_i64().unwrap() > crate::helpers::now());

    // Only the hash is stored.
    let db = std::fs::read(app.dir.join("kessai.db")).unwrap();
    let wal = std::fs::read(app.dir.join("kessai.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "token stored in clear"
        );
    }

    let info = app.wallet_get("/v1/wallet/brand-info", &token).await;
    assert_eq!(info.status(), StatusCode::OK);
    let resp = app
        .client
        .delete(format!("{}/v1/wallet/sessions/current", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let after = app.wallet_get("/v1/wallet/brand-info", &token).await;
    assert_error(after, StatusCode::UNAUTHORIZED, "session_expired").await;
    let none = app
        .client
        .get(format!("{}/v1/wallet/brand-info", app.base))
        .send()
        .await
        .unwrap();
    assert_error(none, StatusCode::UNAUTHORIZED, "session_missing").await;
    let forged = app.wallet_get("/v1/wallet/brand-info", "wt_forged").await;
    assert_error(forged, StatusCode::UNAUTHORIZED, "session_invalid").await;
}

#[tokio::test]
async fn an_expired_session_asks_to_log_in_again() {
    let app = spawn_app_with(|c| c.wallet_session_ttl_s = 1).await;
    let user = app.create_user(10_000).await;
    let token = app.wallet_token(&user.user_id).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let resp = app.wallet_get("/v1/wallet/brand-info", &token).await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "session_expired").await;
}

#[tokio::test]
async fn failed_logins_are_throttled_per_user_even_with_the_right_password() {
    let app = spawn_app().await;
    let user = app.create_user(10_000).await;
    let other = app.create_user(10_000).await;
    for _ in 0..5 {
        let resp = app.wallet_login(&user.user_id, "wrong password!").await;
        assert_error(resp, StatusCode::UNAUTHORIZED, "authentication_failed").await;
    }
    let resp = app.wallet_login(&user.user_id, PASSWORD).await;
    let retry_after: i64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    let error = assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(error["type"], "rate_limit_error");
    // Another user is not affected; an unknown user answers like a wrong password.
    app.wallet_token(&other.user_id).await;
    let unknown = app.wallet_login("usr_0000000000000000000000000a", PASSWORD).await;
    assert_error(unknown, StatusCode::UNAUTHORIZED, "authentication_failed").await;
}

#[tokio::test]
async fn brand_info_lists_the_accounts_with_what_is_available() {
    let app = spawn_app().await;
    let user = app.create_user(10_000).await;
    let token = app.wallet_token(&user.user_id).await;
    let (status, info) = json_of(app.wallet_get("/v1/wallet/brand-info", &token).await).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert!(info["institution_id"].as_str().unwrap().starts_with("ins_"), "{info}");
    assert_eq!(info["name"], "Kessai");
    assert_eq!(info["brands"], json!(["kessai-card"]));
    assert_eq!(info["refresh_after_s"], 60);
    assert_eq!(info["peers"], json!([]));
    assert_eq!(
        info["accounts"],
        json!([{"account_id": user.account_id, "brand": "kessai-card", "currency": "JPY", "available": 10_000}])
    );
}

#[tokio::test]
async fn the_start_message_names_the_settlement_the_order_and_the_shop() {
    let app = spawn_app().await;
    let order = sample_order("start-1");
    let created = app.create_settlement(&order).await;
    let message = app.start_message(&created).await;
    assert_eq!(message["type"], "kessai.start");
    assert_eq!(message["version"], 1);
    assert_eq!(message["server"], app.base.as_str());
    assert!(message["institution_id"].as_str().unwrap().starts_with("ins_"));
    assert_eq!(message["settlement_id"], created.id.as_str());
    assert_eq!(message["client_secret"], created.client_secret.as_str());
    assert_eq!(message["order"], serde_json::to_value(&order).unwrap());
    assert_eq!(message["brands"], json!(["kessai-card"]));
    assert_eq!(message["merchant"]["id"], app.merchant.merchant_id.as_str());
    assert_eq!(message["merchant"]["origin"], crate::helpers::SHOP_ORIGIN);
    let wrong = app
        .get_path(&format!(
            "/v1/payer/settlements/{}/start?client_secret=stl_x_secret_y",
            created.id
        ))
        .await;
    assert_error(wrong, StatusCode::UNAUTHORIZED, "payer_secret_invalid").await;
}

#[tokio::test]
async fn a_wallet_pays_a_start_message_here_once() {
    let app = spawn_app().await;
    let user = app.create_user(10_000).await;
    let token = app.wallet_token(&user.user_id).await;
    let created = app.create_settlement(&sample_order("wallet-1")).await;
    let message = app.start_message(&created).await;

    let (status, paid) = json_of(app.wallet_pay(&token, &message).await).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], "succeeded", "{paid}");
    assert_eq!(paid["settlement_id"], created.id.as_str());
    assert_eq!(paid["receipt"]["merchant"], "Test Shop");
    assert_eq!(paid["receipt"]["order_id"], "wallet-1");
    assert_eq!(paid["receipt"]["total"], TOTAL);
    assert_eq!(paid["receipt"]["brand"], "kessai-card");
    assert!(paid["receipt"]["paid_at"].as_i64().is_some(), "{paid}");
    let rk = keys::parse_key(keys::RESULT_KEY_PREFIX, &app.merchant.result_key).unwrap();
    let claims: ResultClaims = jws::verify(&rk, paid["result_token"].as_str().unwrap()).expect("result token");
    assert_eq!(
        (claims.sub.as_str(), claims.status.as_str()),
        (created.id.as_str(), "succeeded")
    );

    // The same start message again: the first outcome, no second payment.
    let (status, again) = json_of(app.wallet_pay(&token, &message).await).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["status"], "succeeded");
    assert_eq!(again["result_token"], paid["result_token"]);
    assert_eq!(app.balance(&user.account_id).await, 10_000 - TOTAL as i64);
    assert_eq!(app.payee_balance().await, TOTAL as i64);
    assert_eq!(app.get_settlement(&created.id).await["status"], "succeeded");
    app.assert_ledger_ok().await;

    let (_, history) = json_of(app.wallet_get("/v1/wallet/history", &token).await).await;
    let lines = history["data"].as_array().unwrap();
    assert_eq!(lines[0]["kind"], "payment", "{history}");
    assert_eq!(lines[0]["amount"], -(TOTAL as i64));
    assert_eq!(lines[0]["merchant"], "Test Shop");
    assert_eq!(lines[0]["order_id"], "wallet-1");
    assert_eq!(lines[0]["settlement_id"], created.id.as_str());
    assert_eq!(lines[1]["kind"], "transfer", "the opening balance: {history}");
    assert_eq!(history["has_more"], false);
}

#[tokio::test]
async fn what_a_wallet_cannot_pay_is_refused_before_anything_moves() {
    let app = spawn_app().await;
    let poor = app.create_user(100).await;
    let token = app.wallet_token(&poor.user_id).await;
    let created = app.create_settlement(&sample_order("wallet-2")).await;
    let message = app.start_message(&created).await;

    let resp = app.wallet_pay(&token, &message).await;
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "insufficient_funds").await;
    // Another amount than the order it names.
    let mut tampered = message.clone();
    tampered["order"]["total"] = json!(1);
    let resp = app.wallet_pay(&token, &tampered).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // A settling institution this one does not know.
    let mut foreign = message.clone();
    foreign["institution_id"] = json!("ins_0000000000000000000000000a");
    let resp = app.wallet_pay(&token, &foreign).await;
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "unknown_institution").await;
    let mut wrong_secret = message.clone();
    wrong_secret["client_secret"] = json!(format!("{}_secret_nope", created.id));
    let resp = app.wallet_pay(&token, &wrong_secret).await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "client_secret_invalid").await;

    // Nothing moved and the shop's settlement still waits for its payer.
    assert_eq!(app.get_settlement(&created.id).await["status"], "awaiting_payer");
    assert_eq!(app.balance(&poor.account_id).await, 100);
    let rich = app.create_user(10_000).await;
    let token = app.wallet_token(&rich.user_id).await;
    let (status, paid) = json_of(app.wallet_pay(&token, &message).await).await;
    assert_eq!(
        (status, paid["status"].as_str()),
        (StatusCode::OK, Some("succeeded")),
        "{paid}"
    );
}

#[tokio::test]
async fn history_pages_newest_first() {
    let app = spawn_app().await;
    let user = app.create_user(100_000).await;
    let token = app.wallet_token(&user.user_id).await;
    for n in 0..3 {
        let created = app.create_settlement(&sample_order(&format!("page-{n}"))).await;
        let message = app.start_message(&created).await;
        assert_eq!(app.wallet_pay(&token, &message).await.status(), StatusCode::OK);
    }
    let (_, first) = json_of(app.wallet_get("/v1/wallet/history?limit=2", &token).await).await;
    let lines = first["data"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(first["has_more"], true);
    assert_eq!(lines[0]["order_id"], "page-2", "{first}");
    let last = lines[1]["id"].as_str().unwrap();
    let path = format!("/v1/wallet/history?limit=2&starting_after={last}");
    let (_, second) = json_of(app.wallet_get(&path, &token).await).await;
    let lines = second["data"].as_array().unwrap();
    assert_eq!(lines[0]["order_id"], "page-0", "{second}");
    assert_eq!(lines[1]["kind"], "transfer");
    assert_eq!(second["has_more"], false);
    let bad = app
        .wallet_get("/v1/wallet/history?starting_after=trf_nope", &token)
        .await;
    assert_error(bad, StatusCode::NOT_FOUND, "history_line_not_found").await;
}

#[tokio::test]
async fn any_origin_may_call_the_wallet_api_with_a_bearer_token() {
    let app = spawn_app().await;
    let resp = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/v1/wallet/payments", app.base))
        .header("origin", "https://wallet.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let allowed = resp.headers()["access-control-allow-headers"].to_str().unwrap();
    assert!(allowed.contains("authorization"), "{allowed}");
    assert!(resp.headers().get("access-control-allow-credentials").is_none());
}
