//! In-store payment by transaction number (PROTOCOL 13, D1 to D11): a
//! billing terminal opens a transaction, the payer's phone sends its number
//! and confirms the amount it was shown, and the terminal's completion
//! notice and the phone's receipt come from the ledger's commit. Every
//! refusal, and the races the issue names.

use kessai_core::instruments::CreatedUser;
use kessai_core::terminals::payers::{self, Profile};
use kessai_core::terminals::registry::{self, NewTerminal};
use kessai_protocol::terminal::TerminalKind;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, json_of, sample_order, spawn_app, TestApp, TOTAL};

pub(crate) const PIN: &str = "4321";
/// A 1x1 PNG: enough for the portrait route to serve an image.
pub(crate) const PORTRAIT: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\x04\0\x09\xfb\x03\xfd\xe3U\xf2\x9c\0\0\0\0IEND\xaeB`\x82";

pub(crate) struct Shop {
    pub(crate) key: String,
    pub(crate) terminal_id: String,
}

pub(crate) struct Phone {
    pub(crate) user: CreatedUser,
    pub(crate) token: String,
}

impl TestApp {
    pub(crate) async fn register_terminal(&self, merchant_id: &str, kind: TerminalKind) -> Shop {
        let new = NewTerminal {
            merchant_id: merchant_id.to_string(),
            kind,
            name: "Register 1".into(),
            label: Some("REGISTER-1".into()),
            location: Some("1F by the door".into()),
        };
        let registered = registry::register(&mut self.admin().await, new, crate::helpers::now())
            .await
            .expect("terminal");
        Shop {
            key: registered.terminal_key.expose().clone(),
            terminal_id: registered.terminal_id,
        }
    }

    pub(crate) async fn terminal(&self) -> Shop {
        self.register_terminal(&self.merchant.merchant_id, TerminalKind::Pos)
            .await
    }

    pub(crate) async fn phone_with(&self, balance: i64, profile: Profile) -> Phone {
        let user = self.create_user(balance).await;
        payers::set_profile(&mut self.admin().await, &user.user_id, &profile)
            .await
            .expect("profile");
        let token = self.wallet_token(&user.user_id).await;
        Phone { user, token }
    }

    pub(crate) async fn phone(&self, balance: i64) -> Phone {
        let profile = Profile {
            pin: Some(PIN.into()),
            portrait: Some(PORTRAIT.to_vec()),
            birth_date: Some("1990-04-01".into()),
        };
        self.phone_with(balance, profile).await
    }

    pub(crate) async fn as_terminal(
        &self,
        key: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("terminal request")
    }

    pub(crate) async fn open_sale(&self, shop: &Shop, body: Value) -> Value {
        let resp = self
            .as_terminal(
                &shop.key,
                reqwest::Method::POST,
                "/v1/terminal/transactions",
                Some(body),
            )
            .await;
        let (status, body) = json_of(resp).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    pub(crate) async fn terminal_view(&self, shop: &Shop, id: &str) -> Value {
        let resp = self
            .as_terminal(
                &shop.key,
                reqwest::Method::GET,
                &format!("/v1/terminal/transactions/{id}"),
                None,
            )
            .await;
        let (status, body) = json_of(resp).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub(crate) async fn as_phone(&self, phone: &Phone, path: &str, body: Value) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&phone.token)
            .json(&body)
            .send()
            .await
            .expect("phone request")
    }

    pub(crate) async fn sync(&self, phone: &Phone, number: &str) -> Response {
        self.as_phone(phone, "/v1/wallet/transactions/sync", json!({ "number": number }))
            .await
    }

    pub(crate) async fn synced(&self, phone: &Phone, number: &str) -> Value {
        let (status, body) = json_of(self.sync(phone, number).await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub(crate) async fn confirm_txn(&self, phone: &Phone, id: &str, amount: u64) -> Response {
        let path = format!("/v1/wallet/transactions/{id}/confirm");
        self.as_phone(phone, &path, json!({ "amount": amount, "currency": "JPY" }))
            .await
    }
}

pub(crate) fn amount_sale() -> Value {
    json!({ "amount": TOTAL, "currency": "JPY" })
}

#[tokio::test]
async fn a_sale_by_number_pays_once_and_the_terminal_and_phone_see_the_same_receipt() {
    let app = spawn_app().await;
    let shop = app.terminal().await;
    let phone = app.phone(10_000).await;
    let created = app.open_sale(&shop, amount_sale()).await;
    let (id, number) = (created["id"].as_str().unwrap(), created["number"].as_str().unwrap());
    assert!(
        id.starts_with("txn_") && number.len() == 8 && number.bytes().all(|b| b.is_ascii_digit()),
        "{created}"
    );
    assert_eq!(
        (created["status"].as_str(), created["amount"].as_u64()),
        (Some("awaiting_payer"), Some(TOTAL))
    );
    // The QR code carries the number, the amount and the label, its CRC checked.
    let qr = kessai_protocol::emv::parse(created["qr"].as_str().unwrap()).expect("a valid EMV payload");
    assert_eq!(
        (qr.number.as_str(), qr.amount, qr.terminal_label.as_str()),
        (number, Some(TOTAL), "REGISTER-1")
    );
    assert_eq!(
        (qr.merchant_id.as_str(), qr.merchant_name.as_str()),
        (app.merchant.merchant_id.as_str(), "Test Shop")
    );

    // The phone sees who bills and how much before anything is paid (D4).
    let seen = app.synced(&phone, &format!("{} {}", &number[..4], &number[4..])).await;
    assert_eq!(seen["id"], id);
    assert_eq!(
        (seen["amount"].as_u64(), seen["status"].as_str()),
        (Some(TOTAL), Some("synchronized"))
    );
    assert_eq!(seen["terminal"]["label"], "REGISTER-1");
    assert_eq!(seen["terminal"]["location"], "1F by the door");
    assert_eq!(seen["terminal"]["merchant"]["name"], "Test Shop");
    // The clerk sees the payer's name and portrait (D6).
    let view = app.terminal_view(&shop, id).await;
    assert_eq!(
        (view["status"].as_str(), view["payer"]["name"].as_str()),
        (Some("synchronized"), Some("Taro Yamada"))
    );
    let portrait_url = view["payer"]["portrait_url"].as_str().expect("portrait url");
    let resp = app
        .as_terminal(&shop.key, reqwest::Method::GET, portrait_url, None)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PORTRAIT);

    // Another amount than the one shown moves nothing.
    let before = (app.balance(&phone.user.account_id).await, app.payee_balance().await);
    assert_error(
        app.confirm_txn(&phone, id, TOTAL - 1).await,
        StatusCode::CONFLICT,
        "amount_mismatch",
    )
    .await;
    assert_eq!(
        (app.balance(&phone.user.account_id).await, app.payee_balance().await),
        before
    );

    let (status, paid) = json_of(app.confirm_txn(&phone, id, TOTAL).await).await;
    assert_eq!(
        (status, paid["status"].as_str()),
        (StatusCode::OK, Some("succeeded")),
        "{paid}"
    );
    let receipt = &paid["receipt"];
    assert!(receipt["receipt_no"].as_str().unwrap().starts_with("R-"), "{receipt}");
    assert_eq!(
        (receipt["amount"].as_u64(), receipt["terminal"].as_str()),
        (Some(TOTAL), Some("REGISTER-1"))
    );
    // The completion notice carries the same receipt (D3).
    let view = app.terminal_view(&shop, id).await;
    assert_eq!(view["status"], "succeeded");
    assert_eq!(view["receipt"], *receipt);
    assert_eq!(app.balance(&phone.user.account_id).await, before.0 - TOTAL as i64);
    assert_eq!(app.payee_balance().await, before.1 + TOTAL as i64);

    // A repeat answers the first outcome; the money moved once.
    let (_, again) = json_of(app.confirm_txn(&phone, id, TOTAL).await).await;
    assert_eq!(again["receipt"], *receipt);
    assert_eq!(app.balance(&phone.user.account_id).await, before.0 - TOTAL as i64);
    // The purchase is in the payer's history (D7), and the number is closed.
    let history = app.wallet_history(&phone).await;
    let line = &history["data"][0];
    assert_eq!(
        (
            line["kind"].as_str(),
            line["amount"].as_i64(),
            line["merchant"].as_str()
        ),
        (Some("payment"), Some(-(TOTAL as i64)), Some("Test Shop")),
        "{history}"
    );
    assert_error(
        app.sync(&phone, number).await,
        StatusCode::NOT_FOUND,
        "no_such_transaction",
    )
    .await;
    app.assert_ledger_ok().await;
}

impl TestApp {
    pub(crate) async fn wallet_history(&self, phone: &Phone) -> Value {
        let resp = self
            .client
            .get(format!("{}/v1/wallet/history", self.base))
            .bearer_auth(&phone.token)
            .send()
            .await
            .unwrap();
        json_of(resp).await.1
    }
}

#[tokio::test]
async fn the_terminal_long_poll_wakes_on_the_synchronization() {
    let app = spawn_app().await;
    let shop = app.terminal().await;
    let phone = app.phone(10_000).await;
    let created = app.open_sale(&shop, amount_sale()).await;
    let id = created["id"].as_str().unwrap().to_string();
    let poll = {
        let (client, url, key) = (
            app.client.clone(),
            format!("{}/v1/terminal/transactions/{id}?wait=25", app.base),
            shop.key.clone(),
        );
        tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.synced(&phone, created["number"].as_str().unwrap()).await;
    let woke = poll.await.unwrap();
    assert_eq!(woke["status"], "synchronized", "{woke}");
}

#[tokio::test]
async fn a_pin_challenge_must_be_passed_before_the_payer_can_confirm() {
    let app = spawn_app().await;
    let shop = app.terminal().await;
    let phone = app.phone(10_000).await;
    let created = app.open_sale(&shop, amount_sale()).await;
    let id = created["id"].as_str().unwrap();
    let challenges = format!("/v1/terminal/transactions/{id}/challenges");
    let ask = || {
        app.as_terminal(
            &shop.key,
            reqwest::Method::POST,
            &challenges,
            Some(json!({"kind": "pin"})),
        )
    };
    assert_error(ask().await, StatusCode::CONFLICT, "transaction_not_synchronized").await;
    app.synced(&phone, created["number"].as_str().unwrap()).await;
    let (status, asked) = json_of(ask().await).await;
    assert_eq!(
        (status, asked["challenge"]["status"].as_str()),
        (StatusCode::OK, Some("pending")),
        "{asked}"
    );
    assert_error(
        app.confirm_txn(&phone, id, TOTAL).await,
        StatusCode::CONFLICT,
        "challenge_pending",
    )
    .await;
    let challenge = format!("/v1/wallet/transactions/{id}/challenge");
    let answer = |pin: &str| app.as_phone(&phone, &challenge, json!({ "pin": pin }));
    assert_error(answer("0000").await, StatusCode::UNPROCESSABLE_ENTITY, "pin_incorrect").await;
    let (status, passed) = json_of(answer(PIN).await).await;
    assert_eq!(
        (status, passed["challenge"]["status"].as_str()),
        (StatusCode::OK, Some("passed")),
        "{passed}"
    );
    assert_eq!(app.terminal_view(&shop, id).await["challenge"]["status"], "passed");
    let (status, paid) = json_of(app.confirm_txn(&phone, id, TOTAL).await).await;
    assert_eq!(
        (status, paid["status"].as_str()),
        (StatusCode::OK, Some("succeeded")),
        "{paid}"
    );

    // Three wrong PINs fail the challenge for good: nothing can be paid.
    let other = app.open_sale(&shop, amount_sale()).await;
    let oid = other["id"].as_str().unwrap();
    app.synced(&phone, other["number"].as_str().unwrap()).await;
    app.as_terminal(
        &shop.key,
        reqwest::Method::POST,
        &format!("/v1/terminal/transactions/{oid}/challenges"),
        Some(json!({"kind": "pin"})),
    )
    .await;
    for _ in 0..3 {
        let resp = app
            .as_phone(
                &phone,
                &format!("/v1/wallet/transactions/{oid}/challenge"),
                json!({ "pin": "9999" }),
            )
            .await;
        assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "pin_incorrect").await;
    }
    assert_eq!(app.terminal_view(&shop, oid).await["challenge"]["status"], "failed");
    let balance = app.balance(&phone.user.account_id).await;
    assert_error(
        app.confirm_txn(&phone, oid, TOTAL).await,
        StatusCode::CONFLICT,
        "challenge_failed",
    )
    .await;
    assert_eq!(app.balance(&phone.user.account_id).await, balance);
}

#[tokio::test]
async fn the_payer_orders_from_the_menu_and_the_terminal_sees_the_order() {
    let app = spawn_app().await;
    let shop = app.terminal().await;
    let phone = app.phone(10_000).await;
    let menu = json!({"menu": {"currency": "JPY", "items": [
        {"code": "tea", "name": "Green tea", "unit_price": 150},
        {"code": "onigiri", "name": "Onigiri", "unit_price": 180}]}});
    let created = app.open_sale(&shop, menu).await;
    let id = created["id"].as_str().unwrap();
    assert!(created["amount"].is_null(), "{created}");
    assert!(kessai_protocol::emv::parse(created["qr"].as_str().unwrap())
        .unwrap()
        .amount
        .is_none());
    let seen = app.synced(&phone, created["number"].as_str().unwrap()).await;
    assert_eq!(seen["menu"]["items"][1]["name"], "Onigiri");
    assert_error(
        app.confirm_txn(&phone, id, 480).await,
        StatusCode::CONFLICT,
        "order_missing",
    )
    .await;
    let order_path = format!("/v1/wallet/transactions/{id}/order");
    let order = |items: Value| app.as_phone(&phone, &order_path, json!({ "items": items }));
    assert_error(
        order(json!([{"code": "beer", "quantity": 1}])).await,
        StatusCode::BAD_REQUEST,
        "item_not_on_menu",
    )
    .await;
    let (status, ordered) =
        json_of(order(json!([{"code": "tea", "quantity": 2}, {"code": "onigiri", "quantity": 1}])).await).await;
    assert_eq!(
        (status, ordered["amount"].as_u64()),
        (StatusCode::OK, Some(480)),
        "{ordered}"
    );
    let view = app.terminal_view(&shop, id).await;
    assert_eq!(
        (view["amount"].as_u64(), view["order"]["items"][0]["quantity"].as_u64()),
        (Some(480), Some(2))
    );
    let (_, paid) = json_of(app.confirm_txn(&phone, id, 480).await).await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    assert_eq!(paid["receipt"]["items"][1]["name"], "Onigiri");
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn terminals_are_authenticated_and_see_only_their_own_transactions() {
    let app = spawn_app().await;
    let shop = app.terminal().await;
    let created = app.open_sale(&shop, amount_sale()).await;
    let path = format!("/v1/terminal/transactions/{}", created["id"].as_str().unwrap());
    let resp = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
    assert_error(resp, StatusCode::UNAUTHORIZED, "terminal_key_missing").await;
    assert_error(
        app.as_terminal("tk_made_up", reqwest::Method::GET, &path, None).await,
        StatusCode::UNAUTHORIZED,
        "terminal_key_invalid",
    )
    .await;
    // Another merchant's terminal: as if it did not exist.
    let other = app.create_merchant(&["https://other.example"], None).await;
    let foreign = app.register_terminal(&other.merchant_id, TerminalKind::Pos).await;
    assert_error(
        app.as_terminal(&foreign.key, reqwest::Method::GET, &path, None).await,
        StatusCode::NOT_FOUND,
        "transaction_not_found",
    )
    .await;
    let cancel = format!("{path}/cancel");
    assert_error(
        app.as_terminal(&foreign.key, reqwest::Method::POST, &cancel, None)
            .await,
        StatusCode::NOT_FOUND,
        "transaction_not_found",
    )
    .await;
    // A revoked terminal can do nothing.
    assert!(
        registry::revoke(&mut app.admin().await, &shop.terminal_id, crate::helpers::now())
            .await
            .unwrap()
    );
    assert_error(
        app.as_terminal(&shop.key, reqwest::Method::GET, &path, None).await,
        StatusCode::UNAUTHORIZED,
        "terminal_key_invalid",
    )
    .await;
    let resp = app
        .as_terminal(
            &shop.key,
            reqwest::Method::POST,
            "/v1/terminal/transactions",
            Some(amount_sale()),
        )
        .await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "terminal_key_invalid").await;
    // Bad input has the error shape and a precise code.
    let resp = app
        .as_terminal(
            &foreign.key,
            reqwest::Method::POST,
            "/v1/terminal/transactions",
            Some(json!({"amount": 5})),
        )
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "currency_missing").await;
    let resp = app
        .as_terminal(
            &foreign.key,
            reqwest::Method::POST,
            "/v1/terminal/transactions",
            Some(json!({"amount": 5, "currency": "JPY", "tip": 1})),
        )
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "unknown_field").await;
}

#[tokio::test]
async fn wrong_numbers_are_refused_alike_and_then_rate_limited() {
    let app = spawn_app().await;
    let shop = app.terminal().await;
    let (phone, other) = (app.phone(10_000).await, app.phone(10_000).await);
    let created = app.open_sale(&shop, amount_sale()).await;
    let number = created["number"].as_str().unwrap();
    // Taken by another payer: one payer per transaction.
    app.synced(&phone, number).await;
    assert_error(
        app.sync(&other, number).await,
        StatusCode::NOT_FOUND,
        "no_such_transaction",
    )
    .await;
    for wrong in ["00000000", "not-a-number", "1234"] {
        assert_error(
            app.sync(&other, wrong).await,
            StatusCode::NOT_FOUND,
            "no_such_transaction",
        )
        .await;
    }
    // The fifth wrong number in ten minutes; then even a right one waits.
    assert_error(
        app.sync(&other, "11111111").await,
        StatusCode::NOT_FOUND,
        "no_such_transaction",
    )
    .await;
    let fresh = app.open_sale(&shop, amount_sale()).await;
    let resp = app.sync(&other, fresh["number"].as_str().unwrap()).await;
    let retry_after: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after > 0 && retry_after <= 600, "{retry_after}");
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // The other payer is not slowed down by it.
    app.synced(&phone, fresh["number"].as_str().unwrap()).await;
}

#[tokio::test]
async fn canceled_expired_and_unfunded_transactions_move_nothing() {
    let app = spawn_app().await;
    let shop = app.terminal().await;
    let phone = app.phone(10_000).await;
    let poor = app.phone(100).await;
    // Canceled while synchronized: the confirm is refused.
    let created = app.open_sale(&shop, amount_sale()).await;
    let id = created["id"].as_str().unwrap();
    app.synced(&phone, created["number"].as_str().unwrap()).await;
    let resp = app
        .as_terminal(
            &shop.key,
            reqwest::Method::POST,
            &format!("/v1/terminal/transactions/{id}/cancel"),
            None,
        )
        .await;
    assert_eq!(json_of(resp).await.1["status"], "canceled");
    assert_error(
        app.confirm_txn(&phone, id, TOTAL).await,
        StatusCode::CONFLICT,
        "transaction_closed",
    )
    .await;
    // Expired: the number is gone and the terminal sees it.
    let late = app.open_sale(&shop, amount_sale()).await;
    sqlx::query("UPDATE terminal_transactions SET expires_at = 1 WHERE id = $1")
        .bind(late["id"].as_str().unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    assert_error(
        app.sync(&phone, late["number"].as_str().unwrap()).await,
        StatusCode::NOT_FOUND,
        "no_such_transaction",
    )
    .await;
    assert_eq!(
        app.terminal_view(&shop, late["id"].as_str().unwrap()).await["status"],
        "expired"
    );
    // Short of funds: declined with the reason (D5).
    let sale = app.open_sale(&shop, amount_sale()).await;
    app.synced(&poor, sale["number"].as_str().unwrap()).await;
    let (status, declined) = json_of(app.confirm_txn(&poor, sale["id"].as_str().unwrap(), TOTAL).await).await;
    assert_eq!(
        (status, declined["status"].as_str(), declined["decline_code"].as_str()),
        (StatusCode::OK, Some("declined"), Some("insufficient_funds")),
        "{declined}"
    );
    assert_eq!(
        app.terminal_view(&shop, sale["id"].as_str().unwrap()).await["decline_code"],
        "insufficient_funds"
    );
    assert_eq!(app.balance(&poor.user.account_id).await, 100);
    assert_eq!(app.balance(&phone.user.account_id).await, 10_000);
    assert_eq!(app.payee_balance().await, 0);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn an_age_restricted_sale_declines_a_payer_without_a_birth_date_on_file() {
    let app = spawn_app().await;
    let shop = app.terminal().await;
    let adult = app.phone(10_000).await;
    let unknown = app.phone_with(10_000, Profile::default()).await;
    let body = json!({ "amount": 500, "currency": "JPY", "restrictions": { "min_age": 20 } });
    for (phone, outcome) in [(&unknown, "declined"), (&adult, "succeeded")] {
        let sale = app.open_sale(&shop, body.clone()).await;
        app.synced(phone, sale["number"].as_str().unwrap()).await;
        let (_, result) = json_of(app.confirm_txn(phone, sale["id"].as_str().unwrap(), 500).await).await;
        assert_eq!(result["status"], outcome, "{result}");
        let view = app.terminal_view(&shop, sale["id"].as_str().unwrap()).await;
        // The clerk learns "restricted", never the date.
        assert!(!view.to_string().contains("1990"), "{view}");
        if outcome == "declined" {
            assert_eq!(view["decline_code"], "restricted");
        }
    }
    assert_eq!(app.balance(&unknown.user.account_id).await, 10_000);
}

#[tokio::test]
async fn an_online_purchase_is_paid_by_number_from_the_phone() {
    let app = spawn_app().await;
    let phone = app.phone(10_000).await;
    let created = app.create_settlement(&sample_order("online-1")).await;
    let ask = |secret: &str| {
        app.client
            .post(format!("{}/v1/payer/settlements/{}/number", app.base, created.id))
            .json(&json!({ "client_secret": secret }))
            .send()
    };
    assert_error(
        ask("cs_wrong").await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "payer_secret_invalid",
    )
    .await;
    let (status, number) = json_of(ask(&created.client_secret).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{number}");
    let (_, again) = json_of(ask(&created.client_secret).await.unwrap()).await;
    assert_eq!(again["number"], number["number"], "asking again gives the same number");
    let qr = kessai_protocol::emv::parse(number["qr"].as_str().unwrap()).unwrap();
    assert_eq!((qr.amount, qr.terminal_label.as_str()), (Some(TOTAL), "WEB"));
    let seen = app.synced(&phone, number["number"].as_str().unwrap()).await;
    assert_eq!(
        (seen["terminal"]["kind"].as_str(), seen["order"]["order_id"].as_str()),
        (Some("web"), Some("online-1"))
    );
    let (_, paid) = json_of(app.confirm_txn(&phone, seen["id"].as_str().unwrap(), TOTAL).await).await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    let settlement = app.get_settlement(&created.id).await;
    assert_eq!(settlement["status"], "succeeded", "{settlement}");
    assert_eq!(app.balance(&phone.user.account_id).await, 10_000 - TOTAL as i64);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_terminal_authenticates_a_user_by_number() {
    let app = spawn_app().await;
    let shop = app.terminal().await;
    let phone = app.phone(0).await;
    let resp = app
        .as_terminal(
            &shop.key,
            reqwest::Method::POST,
            "/v1/terminal/authentications",
            Some(json!({"kind": "pin"})),
        )
        .await;
    let (status, auth) = json_of(resp).await;
    assert_eq!(
        (status, auth["status"].as_str()),
        (StatusCode::CREATED, Some("awaiting_user")),
        "{auth}"
    );
    let id = auth["id"].as_str().unwrap();
    assert!(id.starts_with("aut_"));
    let seen = app.synced(&phone, auth["number"].as_str().unwrap()).await;
    assert_eq!(
        (seen["authentication"].as_bool(), seen["challenge"]["status"].as_str()),
        (Some(true), Some("pending")),
        "{seen}"
    );
    let path = format!("/v1/terminal/authentications/{id}");
    assert_eq!(
        json_of(app.as_terminal(&shop.key, reqwest::Method::GET, &path, None).await)
            .await
            .1["status"],
        "pending"
    );
    assert_error(
        app.confirm_txn(&phone, id, 0).await,
        StatusCode::CONFLICT,
        "nothing_to_pay",
    )
    .await;
    let resp = app
        .as_phone(
            &phone,
            &format!("/v1/wallet/transactions/{id}/challenge"),
            json!({ "pin": PIN }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, done) = json_of(app.as_terminal(&shop.key, reqwest::Method::GET, &path, None).await).await;
    assert_eq!(
        (done["status"].as_str(), done["user_id"].as_str(), done["name"].as_str()),
        (
            Some("authenticated"),
            Some(phone.user.user_id.as_str()),
            Some("Taro Yamada")
        ),
        "{done}"
    );
}

#[tokio::test]
async fn two_phones_racing_for_one_number_get_one_transaction() {
    let app = spawn_app().await;
    let shop = app.terminal().await;
    let mut phones = Vec::new();
    for _ in 0..6 {
        phones.push(app.phone(10_000).await);
    }
    let created = app.open_sale(&shop, amount_sale()).await;
    let number = created["number"].as_str().unwrap();
    let attempts = phones.iter().map(|p| app.sync(p, number));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::NOT_FOUND).count(),
        5,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_confirm_racing_the_clerks_cancel_has_one_outcome_and_moves_money_at_most_once() {
    let app = spawn_app().await;
    let shop = app.terminal().await;
    let phone = app.phone(100_000).await;
    for _ in 0..8 {
        let created = app.open_sale(&shop, amount_sale()).await;
        let id = created["id"].as_str().unwrap();
        app.synced(&phone, created["number"].as_str().unwrap()).await;
        let before = app.balance(&phone.user.account_id).await;
        let cancel_path = format!("/v1/terminal/transactions/{id}/cancel");
        let cancel = app.as_terminal(&shop.key, reqwest::Method::POST, &cancel_path, None);
        let (canceled, confirmed) = tokio::join!(cancel, app.confirm_txn(&phone, id, TOTAL));
        let (cancel_status, confirm_status) = (canceled.status(), confirmed.status());
        let final_status = app.terminal_view(&shop, id).await["status"]
            .as_str()
            .unwrap()
            .to_string();
        let moved = before - app.balance(&phone.user.account_id).await;
        match final_status.as_str() {
            "succeeded" => {
                assert_eq!(
                    (confirm_status, cancel_status, moved),
                    (StatusCode::OK, StatusCode::CONFLICT, TOTAL as i64)
                );
            }
            "canceled" => {
                assert_eq!(
                    (cancel_status, confirm_status, moved),
                    (StatusCode::OK, StatusCode::CONFLICT, 0)
                );
            }
            other => panic!("unexpected outcome {other}"),
        }
    }
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn the_qr_image_is_drawn_only_for_valid_payloads() {
    let app = spawn_app().await;
    let shop = app.terminal().await;
    let created = app.open_sale(&shop, amount_sale()).await;
    let qr = created["qr"].as_str().unwrap();
    let url = reqwest::Url::parse_with_params(&format!("{}/v1/qr.svg", app.base), &[("payload", qr)]).unwrap();
    let resp = app.client.get(url).send().await.unwrap();
    assert_eq!(
        (resp.status(), resp.headers()["content-type"].to_str().unwrap()),
        (StatusCode::OK, "image/svg+xml")
    );
    assert!(resp.text().await.unwrap().starts_with("<svg"));
    let mut tampered = qr.to_string();
    tampered.replace_range(60..61, if &qr[60..61] == "1" { "2" } else { "1" });
    let url =
        reqwest::Url::parse_with_params(&format!("{}/v1/qr.svg", app.base), &[("payload", tampered.as_str())]).unwrap();
    assert_error(
        app.client.get(url).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "qr_crc_mismatch",
    )
    .await;
}

#[tokio::test]
async fn wrong_numbers_from_one_address_are_limited_across_users() {
    let app = crate::helpers::spawn_app_with(|c| c.limits.source_failures_per_minute = 3).await;
    let shop = app.terminal().await;
    let (guesser, accomplice) = (app.phone(0).await, app.phone(0).await);
    for wrong in ["00000001", "00000002", "00000003"] {
        assert_error(
            app.sync(&guesser, wrong).await,
            StatusCode::NOT_FOUND,
            "no_such_transaction",
        )
        .await;
    }
    // A second user from the same address gets no fresh five guesses.
    let sale = app.open_sale(&shop, amount_sale()).await;
    let resp = app.sync(&accomplice, sale["number"].as_str().unwrap()).await;
    assert!(resp.headers().contains_key("retry-after"));
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn the_terminal_event_stream_follows_the_sale_to_its_end() {
    let app = spawn_app().await;
    let shop = app.terminal().await;
    let phone = app.phone(10_000).await;
    let created = app.open_sale(&shop, amount_sale()).await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/v1/terminal/transactions/{id}/events");
    let mut stream = app.as_terminal(&shop.key, reqwest::Method::GET, &path, None).await;
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let deadline = tokio::time::Instant::now() + crate::helpers::BACKGROUND_TIMEOUT;
    let mut seen = String::new();
    read_until(&mut stream, &mut seen, deadline, "\"awaiting_payer\"").await;
    app.synced(&phone, created["number"].as_str().unwrap()).await;
    read_until(&mut stream, &mut seen, deadline, "\"synchronized\"").await;
    assert!(seen.contains("Taro Yamada"), "the clerk sees who synchronized: {seen}");
    app.confirm_txn(&phone, id, TOTAL).await;
    read_until(&mut stream, &mut seen, deadline, "\"succeeded\"").await;
    assert!(
        seen.contains("event: transaction") && seen.contains("receipt_no"),
        "{seen}"
    );
    // A final status ends the stream.
    let end = tokio::time::timeout_at(deadline, stream.chunk())
        .await
        .expect("the stream ends");
    assert!(matches!(end, Ok(None)), "{end:?}");
}

/// Reads a server-sent event stream until `what` has been seen.
async fn read_until(stream: &mut Response, seen: &mut String, deadline: tokio::time::Instant, what: &str) {
    while !seen.contains(what) {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect(what)
            .unwrap();
        match chunk {
            Some(chunk) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            None => break,
        }
    }
}

#[tokio::test]
async fn a_long_poll_with_the_version_last_seen_never_misses_a_change_made_in_between() {
    let app = spawn_app().await;
    let shop = app.terminal().await;
    let phone = app.phone(10_000).await;
    let created = app.open_sale(&shop, amount_sale()).await;
    let id = created["id"].as_str().unwrap();
    let seen = app.synced(&phone, created["number"].as_str().unwrap()).await;
    let version = seen["version"].as_u64().unwrap();
    // The clerk asks for the PIN and it is answered before the phone polls
    // again (within one second: `updated_at` alone would not tell).
    let challenges = format!("/v1/terminal/transactions/{id}/challenges");
    app.as_terminal(
        &shop.key,
        reqwest::Method::POST,
        &challenges,
        Some(json!({"kind": "pin"})),
    )
    .await;
    let poll = |version: u64| {
        app.client
            .get(format!(
                "{}/v1/wallet/transactions/{id}?wait=20&version={version}",
                app.base
            ))
            .bearer_auth(&phone.token)
            .send()
    };
    let started = std::time::Instant::now();
    let (_, now) = json_of(poll(version).await.unwrap()).await;
    assert_eq!(now["challenge"]["status"], "pending", "{now}");
    assert!(now["version"].as_u64().unwrap() > version);
    // Answered at once, not after the 20 s wait (a generous bound: the
    // point is "not the wait", not a speed).
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // The terminal's view carries the same version.
    assert_eq!(app.terminal_view(&shop, id).await["version"], now["version"]);
}
