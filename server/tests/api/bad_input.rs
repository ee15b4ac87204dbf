//! Bad requests: each gets the PROTOCOL section 2 error shape with a fitting
//! status and code, writes nothing, and never echoes card data, passwords or
//! keys.

use kessai_core::instruments::IssuedCard;
use kessai_protocol::money::AMOUNT_MAX;
use kessai_protocol::{Item, Order};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, card_method, confirm_body, now, sample_order, spawn_app, Created, TestApp, PASSWORD,
};

/// Whether `digits` occurs in `text` with no digit on either side: a
/// three-digit CVC is too short to look for as a plain substring.
fn contains_number(text: &str, digits: &str) -> bool {
    text.match_indices(digits).any(|(at, _)| {
        let before = text[..at].chars().next_back().is_some_and(|c| c.is_ascii_digit());
        let after = text[at + digits.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit());
        !before && !after
    })
}

/// Reads an error response, checks shape, status and code, and that none
/// of `secrets` appears in it.
async fn assert_rejected(resp: Response, status: StatusCode, code: &str, secrets: &[&str]) -> Value {
    let got = resp.status();
    let text = resp.text().await.unwrap();
    for secret in secrets {
        assert!(
            !contains_number(&text, secret) && !text.contains(secret),
            "response echoes a secret: {text}"
        );
    }
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    assert_eq!(got, status, "{text}");
    let error = body["error"].clone();
    assert_eq!(error["code"], code, "{text}");
    assert!(
        ["invalid_request_error", "authentication_error", "permission_error"]
            .contains(&error["type"].as_str().unwrap_or("")),
        "{text}"
    );
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{text}");
    error
}

/// A first request that must be refused without writing anything.
async fn assert_create_rejected(app: &TestApp, body: String, code: &str, param: Option<&str>) {
    let before = app.write_counts().await;
    let resp = app
        .post_settlement_raw(Some(&app.merchant.secret_key), Some(&format!("idem-{code}")), body)
        .await;
    let error = assert_rejected(resp, StatusCode::BAD_REQUEST, code, &[&app.merchant.secret_key]).await;
    if let Some(p) = param {
        assert_eq!(error["param"], p, "{error}");
    }
    assert_eq!(app.write_counts().await, before, "a refused request wrote something");
}

fn order_json(order: &Order) -> String {
    json!({"order": order}).to_string()
}

#[tokio::test]
async fn malformed_and_unknown_fields_are_refused() {
    let app = spawn_app().await;
    assert_create_rejected(&app, r#"{"order": {"order_id": "1","#.into(), "invalid_json", None).await;
    assert_create_rejected(&app, "not json at all".into(), "invalid_json", None).await;
    // PROTOCOL 2: a typo never silently changes money.
    let mut body = json!({"order": sample_order("1")});
    body["totl"] = json!(1);
    assert_create_rejected(&app, body.to_string(), "unknown_field", Some("totl")).await;
    let mut body = json!({"order": sample_order("1")});
    body["order"]["discount"] = json!(100);
    assert_create_rejected(&app, body.to_string(), "unknown_field", Some("discount")).await;
    // Amounts are non-negative integers.
    let mut body = json!({"order": sample_order("1")});
    body["order"]["items"][0]["unit_price"] = json!(-1);
    assert_create_rejected(&app, body.to_string(), "invalid_parameter", None).await;
    let mut body = json!({"order": sample_order("1")});
    body["order"]["total"] = json!(1155.5);
    assert_create_rejected(&app, body.to_string(), "invalid_parameter", None).await;
    let mut body = json!({"order": sample_order("1")});
    body["order"].as_object_mut().unwrap().remove("total");
    assert_create_rejected(&app, body.to_string(), "parameter_missing", None).await;
}

#[tokio::test]
async fn order_totals_that_do_not_add_up_are_refused() {
    let app = spawn_app().await;
    let mut order = sample_order("total-1");
    order.total = 1156;
    assert_create_rejected(&app, order_json(&order), "order_total_mismatch", Some("order.total")).await;

    // Checked arithmetic: overflow is a 400, never a wrap.
    let mut order = sample_order("total-2");
    order.items = vec![Item {
        code: "A".into(),
        name: "Big".into(),
        unit_price: AMOUNT_MAX,
        quantity: 2,
    }];
    order.tax = 0;
    order.total = AMOUNT_MAX;
    assert_create_rejected(&app, order_json(&order), "order_total_overflow", Some("order.total")).await;
    order.items = vec![Item {
        code: "A".into(),
        name: "Huge".into(),
        unit_price: AMOUNT_MAX,
        quantity: AMOUNT_MAX,
    }];
    assert_create_rejected(&app, order_json(&order), "order_total_overflow", Some("order.total")).await;

    let mut order = sample_order("total-3");
    order.total = AMOUNT_MAX + 1;
    assert_create_rejected(&app, order_json(&order), "amount_out_of_range", Some("order.total")).await;
}

#[tokio::test]
async fn orders_with_no_items_or_more_than_500_are_refused() {
    let app = spawn_app().await;
    let mut order = sample_order("items-1");
    order.items.clear();
    order.total = order.tax;
    assert_create_rejected(
        &app,
        order_json(&order),
        "items_count_out_of_range",
        Some("order.items"),
    )
    .await;
    order.items = (0..501)
        .map(|i| Item {
            code: format!("C{i}"),
            name: "Thing".into(),
            unit_price: 1,
            quantity: 1,
        })
        .collect();
    order.total = 501 + order.tax;
    assert_create_rejected(
        &app,
        order_json(&order),
        "items_count_out_of_range",
        Some("order.items"),
    )
    .await;
    // 500 is allowed.
    order.items.pop();
    order.total = 500 + order.tax;
    let resp = app.post_settlement(&json!({"order": order})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn bad_order_fields_are_refused_with_their_param() {
    let app = spawn_app().await;
    for bad_id in ["", "has space", "slash/es", &"x".repeat(65), "日本"] {
        let order = sample_order(bad_id);
        assert_create_rejected(&app, order_json(&order), "order_id_invalid", Some("order.order_id")).await;
    }
    for bad_currency in ["yen", "JPYY", "XXX", ""] {
        let mut order = sample_order("cur-1");
        order.currency = bad_currency.into();
        assert_create_rejected(&app, order_json(&order), "currency_invalid", Some("order.currency")).await;
    }
    let mut order = sample_order("qty-1");
    order.items[0].quantity = 0;
    order.total = 655;
    assert_create_rejected(
        &app,
        order_json(&order),
        "quantity_invalid",
        Some("order.items[0].quantity"),
    )
    .await;
    let mut order = sample_order("name-1");
    order.items[1].name = String::new();
    assert_create_rejected(
        &app,
        order_json(&order),
        "item_name_invalid",
        Some("order.items[1].name"),
    )
    .await;
}

#[tokio::test]
async fn bad_digest_only_requests_are_refused() {
    let app = spawn_app().await;
    let digest = sample_order("d-1").digest();
    let body = json!({"order_id": "d-1", "currency": "JPY", "total": 1155});
    assert_create_rejected(&app, body.to_string(), "parameter_missing", Some("order_digest")).await;
    let body = json!({"order_id": "d-1", "currency": "JPY", "total": 1155, "order_digest": "sha256:short"});
    assert_create_rejected(&app, body.to_string(), "order_digest_invalid", Some("order_digest")).await;
    let body = json!({"order_id": "d 1", "currency": "JPY", "total": 1155, "order_digest": digest});
    assert_create_rejected(&app, body.to_string(), "order_id_invalid", Some("order_id")).await;
    let body = json!({"order_id": "d-1", "currency": "usd", "total": 1155, "order_digest": digest});
    assert_create_rejected(&app, body.to_string(), "currency_invalid", Some("currency")).await;
    let body = json!({"order": sample_order("d-1"), "order_id": "d-1"});
    assert_create_rejected(&app, body.to_string(), "order_form_ambiguous", Some("order")).await;
    let body = json!({"order": sample_order("d-1"), "expires_in": 10});
    assert_create_rejected(&app, body.to_string(), "expires_in_out_of_range", Some("expires_in")).await;
    let body = json!({"order": sample_order("d-1"), "notify_url": "ftp://shop.example/hook"});
    assert_create_rejected(&app, body.to_string(), "url_invalid", Some("notify_url")).await;
}

#[tokio::test]
async fn wrong_or_missing_secret_key_is_401() {
    // A9: the shop authenticates with its secret key.
    let app = spawn_app().await;
    let body = json!({"order": sample_order("auth-1")}).to_string();
    let resp = app.post_settlement_raw(None, None, body.clone()).await;
    assert_rejected(resp, StatusCode::UNAUTHORIZED, "secret_key_missing", &[]).await;
    let forged = kessai_protocol::keys::format_key("sk_", &[42; 32]);
    let resp = app.post_settlement_raw(Some(&forged), None, body.clone()).await;
    assert_rejected(resp, StatusCode::UNAUTHORIZED, "secret_key_invalid", &[&forged]).await;
    let resp = app
        .post_settlement_raw(Some("hunter2-not-a-key"), None, body.clone())
        .await;
    assert_rejected(
        resp,
        StatusCode::UNAUTHORIZED,
        "secret_key_invalid",
        &["hunter2-not-a-key"],
    )
    .await;
    // The result key is not a secret key.
    let resp = app
        .post_settlement_raw(Some(&app.merchant.result_key), None, body)
        .await;
    assert_rejected(
        resp,
        StatusCode::UNAUTHORIZED,
        "secret_key_invalid",
        &[&app.merchant.result_key],
    )
    .await;
    assert_eq!(app.count("settlements").await, 0);
}

#[tokio::test]
async fn another_merchants_settlement_is_not_found() {
    let app = spawn_app().await;
    let created = app.create_settlement(&sample_order("theirs-1")).await;
    let other = app.create_merchant(&["https://other.example"], None).await;
    let resp = app.get_settlement_as(&other.secret_key, &created.id, None).await;
    assert_rejected(
        resp,
        StatusCode::NOT_FOUND,
        "settlement_not_found",
        &[&other.secret_key],
    )
    .await;
    let resp = app
        .client
        .post(format!("{}/v1/settlements/{}/cancel", app.base, created.id))
        .bearer_auth(&other.secret_key)
        .send()
        .await
        .unwrap();
    assert_rejected(resp, StatusCode::NOT_FOUND, "settlement_not_found", &[]).await;
    let resp = app
        .client
        .post(format!("{}/v1/settlements/{}/refunds", app.base, created.id))
        .bearer_auth(&other.secret_key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_rejected(resp, StatusCode::NOT_FOUND, "settlement_not_found", &[]).await;
    let events = app.list_events(&other.secret_key, &created.id).await;
    assert_eq!(events["data"], json!([]));
    assert_eq!(app.get_settlement(&created.id).await["status"], "awaiting_payer");
}

/// A settlement and a funded card, for the confirm cases.
async fn payable(app: &TestApp, order_id: &str) -> (Created, Order, IssuedCard) {
    let order = sample_order(order_id);
    let created = app.create_settlement(&order).await;
    let card = app.issue_card(10_000).await;
    (created, order, card)
}

/// A second request that must be refused with nothing written or moved.
async fn assert_confirm_rejected(
    app: &TestApp,
    created: &Created,
    card: &IssuedCard,
    body: String,
    status: StatusCode,
    code: &str,
) -> Value {
    let before = app.write_counts().await;
    let status_before = app.get_settlement(&created.id).await["status"].clone();
    let resp = app.confirm_raw(&created.id, body, None).await;
    let secrets = [
        card.card_number.as_str(),
        card.cvc.as_str(),
        PASSWORD,
        app.merchant.secret_key.as_str(),
    ];
    let error = assert_rejected(resp, status, code, &secrets).await;
    assert_eq!(app.write_counts().await, before, "a refused confirm wrote something");
    assert_eq!(app.get_settlement(&created.id).await["status"], status_before);
    assert_eq!(app.balance(&card.account_id).await, 10_000);
    error
}

#[tokio::test]
async fn bad_card_data_is_refused_without_echoing_it() {
    let app = spawn_app().await;
    let (created, order, card) = payable(&app, "card-1").await;
    // A wrong check digit.
    let mut wrong = card.card_number.clone();
    let last = wrong.pop().unwrap().to_digit(10).unwrap();
    wrong.push(char::from_digit((last + 1) % 10, 10).unwrap());
    let mut method = card_method(&card);
    method["card"]["number"] = json!(wrong);
    let body = confirm_body(&created.client_secret, &order, method).to_string();
    let error = assert_confirm_rejected(
        &app,
        &created,
        &card,
        body.clone(),
        StatusCode::BAD_REQUEST,
        "card_number_invalid",
    )
    .await;
    assert_eq!(error["param"], "payment_method.card.number");
    assert!(!error.to_string().contains(&wrong));

    let mut method = card_method(&card);
    method["card"]["cvc"] = json!("12");
    let body = confirm_body(&created.client_secret, &order, method).to_string();
    assert_confirm_rejected(&app, &created, &card, body, StatusCode::BAD_REQUEST, "card_cvc_invalid").await;

    let mut method = card_method(&card);
    method["card"]["exp_month"] = json!(13);
    let body = confirm_body(&created.client_secret, &order, method).to_string();
    assert_confirm_rejected(
        &app,
        &created,
        &card,
        body,
        StatusCode::BAD_REQUEST,
        "card_expiry_invalid",
    )
    .await;

    // Secrets typed into the wrong fields: serde's message would quote them.
    let mut method = card_method(&card);
    method["card"]["exp_month"] = json!(card.cvc);
    method["card"]["exp_year"] = json!(PASSWORD);
    let body = confirm_body(&created.client_secret, &order, method).to_string();
    assert_confirm_rejected(
        &app,
        &created,
        &card,
        body,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
    let mut method = card_method(&card);
    method["card"]["exp_year"] = json!(card.card_number.parse::<u64>().unwrap());
    let body = confirm_body(&created.client_secret, &order, method).to_string();
    assert_confirm_rejected(
        &app,
        &created,
        &card,
        body,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
    let mut method = card_method(&card);
    method["card"]["pin"] = json!(card.card_number);
    let body = confirm_body(&created.client_secret, &order, method).to_string();
    assert_confirm_rejected(&app, &created, &card, body, StatusCode::BAD_REQUEST, "unknown_field").await;
    let method = json!({"type": "password", "user_id": 12345678, "password": PASSWORD});
    let body = confirm_body(&created.client_secret, &order, method).to_string();
    assert_confirm_rejected(
        &app,
        &created,
        &card,
        body,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;

    let body = format!(
        r#"{{"client_secret": "{}", "payment_method": {{"card": {{"number": "{}""#,
        created.client_secret, card.card_number
    );
    assert_confirm_rejected(&app, &created, &card, body, StatusCode::BAD_REQUEST, "invalid_json").await;
}

#[tokio::test]
async fn bad_order_in_the_second_request_is_refused() {
    let app = spawn_app().await;
    let (created, order, card) = payable(&app, "card-2").await;
    let mut shown = order.clone();
    shown.total = 1000;
    let body = confirm_body(&created.client_secret, &shown, card_method(&card)).to_string();
    let error = assert_confirm_rejected(
        &app,
        &created,
        &card,
        body,
        StatusCode::BAD_REQUEST,
        "order_total_mismatch",
    )
    .await;
    assert_eq!(error["param"], "order.total");
}

#[tokio::test]
async fn wrong_or_missing_client_secret_is_refused() {
    // A3: the browser proves it was handed this settlement.
    let app = spawn_app().await;
    let (created, order, card) = payable(&app, "secret-1").await;
    let other = app.create_settlement(&sample_order("secret-2")).await;
    let body = confirm_body(&other.client_secret, &order, card_method(&card)).to_string();
    assert_confirm_rejected(
        &app,
        &created,
        &card,
        body,
        StatusCode::UNAUTHORIZED,
        "client_secret_invalid",
    )
    .await;
    let forged = format!("{}_secret_AAAAAAAAAAAAAAAAAAAAAAAA", created.id);
    let body = confirm_body(&forged, &order, card_method(&card)).to_string();
    assert_confirm_rejected(
        &app,
        &created,
        &card,
        body,
        StatusCode::UNAUTHORIZED,
        "client_secret_invalid",
    )
    .await;
    let body = json!({"order": order, "payment_method": card_method(&card)}).to_string();
    assert_confirm_rejected(
        &app,
        &created,
        &card,
        body,
        StatusCode::BAD_REQUEST,
        "parameter_missing",
    )
    .await;
    // The right secret still works afterwards.
    let result = app
        .confirm_ok(
            &created.id,
            &confirm_body(&created.client_secret, &order, card_method(&card)),
        )
        .await;
    assert_eq!(result["status"], "succeeded");
}

#[tokio::test]
async fn confirming_an_expired_settlement_is_a_conflict() {
    let app = spawn_app().await;
    let (created, order, card) = payable(&app, "late-1").await;
    app.set_expires_at(&created.id, now() - 1).await;
    let body = confirm_body(&created.client_secret, &order, card_method(&card)).to_string();
    let resp = app.confirm_raw(&created.id, body, None).await;
    assert_rejected(resp, StatusCode::CONFLICT, "settlement_expired", &[&card.card_number]).await;
    app.wait_for_status(&created.id, "expired").await;
    assert_eq!(app.balance(&card.account_id).await, 10_000);
    assert_eq!(app.payee_balance().await, 0);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn confirming_a_canceled_settlement_is_a_conflict() {
    // A14
    let app = spawn_app().await;
    let (created, order, card) = payable(&app, "canceled-1").await;
    assert_eq!(app.cancel(&created.id).await.status(), StatusCode::OK);
    let body = confirm_body(&created.client_secret, &order, card_method(&card)).to_string();
    assert_confirm_rejected(&app, &created, &card, body, StatusCode::CONFLICT, "settlement_canceled").await;
}

#[tokio::test]
async fn unknown_routes_and_settlements_are_404_with_the_error_shape() {
    let app = spawn_app().await;
    assert_error(
        app.get_path("/v1/nothing-here").await,
        StatusCode::NOT_FOUND,
        "route_not_found",
    )
    .await;
    let resp = app
        .get_settlement_as(&app.merchant.secret_key, "stl_doesnotexist", None)
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "settlement_not_found").await;
}
