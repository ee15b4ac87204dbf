//! Bad requests: each gets the PROTOCOL section 2 error shape with a fitting
//! status and code, writes nothing, and never echoes card data, passwords or
//! keys.
//!
//! The cases are tables, one test per endpoint. Every case of a table runs,
//! then the test fails once, naming each case that went wrong and how: one
//! regression shows as one line rather than hiding the cases after it.

use kessai_core::instruments::IssuedCard;
use kessai_protocol::money::AMOUNT_MAX;
use kessai_protocol::{Item, Order};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{card_method, confirm_body, now, sample_order, spawn_app, Created, TestApp, PASSWORD};

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

/// `Err(message)` unless `ok`. A case stops at its first failed check; the
/// other cases still run.
fn check(ok: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(message())
    }
}

/// Runs every case, then fails if any did, naming each failed case and why.
async fn run_cases<C>(
    endpoint: &str,
    cases: &[C],
    name: fn(&C) -> &'static str,
    mut run: impl AsyncFnMut(&C) -> Result<(), String>,
) {
    let mut failures = Vec::new();
    for case in cases {
        if let Err(why) = run(case).await {
            failures.push(format!("  case {:?}: {why}", name(case)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases of {endpoint} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The PROTOCOL section 2 error shape with this status and code; returns
/// the error object.
fn check_error_shape(got: StatusCode, text: &str, status: StatusCode, code: &str) -> Result<Value, String> {
    let body: Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e}): {text}"))?;
    check(got == status, || format!("status {got}, expected {status}: {text}"))?;
    let error = body["error"].clone();
    check(error["code"] == code, || {
        format!("code {}, expected {code:?}: {text}", error["code"])
    })?;
    check(error["type"].as_str().is_some_and(|t| !t.is_empty()), || {
        format!("no error type: {text}")
    })?;
    check(error["message"].as_str().is_some_and(|m| !m.is_empty()), || {
        format!("no message: {text}")
    })?;
    Ok(error)
}

/// Reads an error response: shape, status and code, a type the client can
/// act on, and none of `secrets` in it.
async fn check_rejected(resp: Response, status: StatusCode, code: &str, secrets: &[&str]) -> Result<Value, String> {
    let got = resp.status();
    let text = resp.text().await.map_err(|e| format!("reading the body: {e}"))?;
    for secret in secrets {
        check(!contains_number(&text, secret) && !text.contains(secret), || {
            format!("response echoes a secret: {text}")
        })?;
    }
    let error = check_error_shape(got, &text, status, code)?;
    let kind = error["type"].as_str().unwrap_or("");
    check(
        ["invalid_request_error", "authentication_error", "permission_error"].contains(&kind),
        || format!("error type {kind:?}: {text}"),
    )?;
    Ok(error)
}

/// The error names `param`, when the case says which.
fn check_param(error: &Value, param: Option<&str>) -> Result<(), String> {
    match param {
        Some(p) => check(error["param"] == p, || {
            format!("param {}, expected {p:?}: {error}", error["param"])
        }),
        None => Ok(()),
    }
}

// ---- the first request: POST /v1/settlements ----

/// A first request with the merchant's key that must be refused with a 400.
struct CreateCase {
    name: &'static str,
    body: String,
    code: &'static str,
    /// The `param` the error must name; None: not checked.
    param: Option<&'static str>,
}

fn create_case(name: &'static str, body: String, code: &'static str, param: Option<&'static str>) -> CreateCase {
    CreateCase {
        name,
        body,
        code,
        param,
    }
}

/// The sample order with this id, edited, as a first request's body.
fn order_body(order_id: &str, edit: impl FnOnce(&mut Order)) -> String {
    let mut order = sample_order(order_id);
    edit(&mut order);
    json!({"order": order}).to_string()
}

/// A first request's JSON, edited: for what an [`Order`] cannot hold.
fn json_body(edit: impl FnOnce(&mut Value)) -> String {
    let mut body = json!({"order": sample_order("1")});
    edit(&mut body);
    body.to_string()
}

/// `count` one-yen items.
fn items(count: usize) -> Vec<Item> {
    (0..count)
        .map(|i| Item {
            code: format!("C{i}"),
            name: "Thing".into(),
            unit_price: 1,
            quantity: 1,
        })
        .collect()
}

fn malformed_cases() -> Vec<CreateCase> {
    vec![
        create_case(
            "truncated JSON",
            r#"{"order": {"order_id": "1","#.into(),
            "invalid_json",
            None,
        ),
        create_case("not JSON", "not json at all".into(), "invalid_json", None),
        // PROTOCOL 2: a typo never silently changes money.
        create_case(
            "an unknown top-level field",
            json_body(|b| b["totl"] = json!(1)),
            "unknown_field",
            Some("totl"),
        ),
        create_case(
            "an unknown order field",
            json_body(|b| b["order"]["discount"] = json!(100)),
            "unknown_field",
            Some("discount"),
        ),
        // Amounts are non-negative integers.
        create_case(
            "a negative unit price",
            json_body(|b| b["order"]["items"][0]["unit_price"] = json!(-1)),
            "invalid_parameter",
            None,
        ),
        create_case(
            "a fractional total",
            json_body(|b| b["order"]["total"] = json!(1155.5)),
            "invalid_parameter",
            None,
        ),
        create_case(
            "no total",
            json_body(|b| {
                b["order"].as_object_mut().unwrap().remove("total");
            }),
            "parameter_missing",
            None,
        ),
    ]
}

fn total_cases() -> Vec<CreateCase> {
    let one_item = |name: &str, unit_price: u64, quantity: u64| Item {
        code: "A".into(),
        name: name.into(),
        unit_price,
        quantity,
    };
    vec![
        create_case(
            "a total one yen over the sum",
            order_body("total-1", |o| o.total = 1156),
            "order_total_mismatch",
            Some("order.total"),
        ),
        // Checked arithmetic: overflow is a 400, never a wrap.
        create_case(
            "a sum past the largest amount",
            order_body("total-2", |o| {
                o.items = vec![one_item("Big", AMOUNT_MAX, 2)];
                o.tax = 0;
                o.total = AMOUNT_MAX;
            }),
            "order_total_overflow",
            Some("order.total"),
        ),
        create_case(
            "a line past the largest amount",
            order_body("total-2", |o| {
                o.items = vec![one_item("Huge", AMOUNT_MAX, AMOUNT_MAX)];
                o.tax = 0;
                o.total = AMOUNT_MAX;
            }),
            "order_total_overflow",
            Some("order.total"),
        ),
        create_case(
            "a total past the largest amount",
            order_body("total-3", |o| o.total = AMOUNT_MAX + 1),
            "amount_out_of_range",
            Some("order.total"),
        ),
    ]
}

fn item_count_cases() -> Vec<CreateCase> {
    vec![
        create_case(
            "no items",
            order_body("items-1", |o| {
                o.items.clear();
                o.total = o.tax;
            }),
            "items_count_out_of_range",
            Some("order.items"),
        ),
        create_case(
            "501 items",
            order_body("items-1", |o| {
                o.items = items(501);
                o.total = 501 + o.tax;
            }),
            "items_count_out_of_range",
            Some("order.items"),
        ),
    ]
}

fn order_field_cases() -> Vec<CreateCase> {
    let id = |name, order_id: &str| {
        create_case(
            name,
            order_body(order_id, |_| {}),
            "order_id_invalid",
            Some("order.order_id"),
        )
    };
    let currency = |name, currency: &str| {
        create_case(
            name,
            order_body("cur-1", |o| o.currency = currency.into()),
            "currency_invalid",
            Some("order.currency"),
        )
    };
    vec![
        id("an empty order id", ""),
        id("an order id with a space", "has space"),
        id("an order id with slashes", "slash/es"),
        id("an order id of 65 characters", &"x".repeat(65)),
        id("a non-ASCII order id", "日本"),
        currency("a lowercase currency", "yen"),
        currency("a four-letter currency", "JPYY"),
        currency("a currency ISO 4217 does not define", "XXX"),
        currency("an empty currency", ""),
        create_case(
            "a quantity of zero",
            order_body("qty-1", |o| {
                o.items[0].quantity = 0;
                o.total = 655;
            }),
            "quantity_invalid",
            Some("order.items[0].quantity"),
        ),
        create_case(
            "an empty item name",
            order_body("name-1", |o| o.items[1].name = String::new()),
            "item_name_invalid",
            Some("order.items[1].name"),
        ),
    ]
}

fn digest_only_cases() -> Vec<CreateCase> {
    let digest = sample_order("d-1").digest();
    let case = |name, body: Value, code, param| create_case(name, body.to_string(), code, Some(param));
    vec![
        case(
            "a digest-only request without the digest",
            json!({"order_id": "d-1", "currency": "JPY", "total": 1155}),
            "parameter_missing",
            "order_digest",
        ),
        case(
            "a short digest",
            json!({"order_id": "d-1", "currency": "JPY", "total": 1155, "order_digest": "sha256:short"}),
            "order_digest_invalid",
            "order_digest",
        ),
        case(
            "a digest-only order id with a space",
            json!({"order_id": "d 1", "currency": "JPY", "total": 1155, "order_digest": digest}),
            "order_id_invalid",
            "order_id",
        ),
        case(
            "a digest-only lowercase currency",
            json!({"order_id": "d-1", "currency": "usd", "total": 1155, "order_digest": digest}),
            "currency_invalid",
            "currency",
        ),
        case(
            "both the order and an order id",
            json!({"order": sample_order("d-1"), "order_id": "d-1"}),
            "order_form_ambiguous",
            "order",
        ),
        case(
            "an expiry of ten seconds",
            json!({"order": sample_order("d-1"), "expires_in": 10}),
            "expires_in_out_of_range",
            "expires_in",
        ),
        case(
            "an ftp notify_url",
            json!({"order": sample_order("d-1"), "notify_url": "ftp://shop.example/hook"}),
            "url_invalid",
            "notify_url",
        ),
    ]
}

/// Refused with the case's code and param, and nothing written.
async fn check_create_rejected(app: &TestApp, case: &CreateCase) -> Result<(), String> {
    let before = app.write_counts().await;
    let idempotency_key = format!("idem-{}", case.code);
    let resp = app
        .post_settlement_raw(
            Some(&app.merchant.secret_key),
            Some(&idempotency_key),
            case.body.clone(),
        )
        .await;
    let error = check_rejected(resp, StatusCode::BAD_REQUEST, case.code, &[&app.merchant.secret_key]).await?;
    check_param(&error, case.param)?;
    check(app.write_counts().await == before, || {
        "a refused request wrote something".into()
    })
}

#[tokio::test]
async fn first_request_bad_bodies_are_refused() {
    let app = spawn_app().await;
    let cases: Vec<CreateCase> = [
        malformed_cases(),
        total_cases(),
        item_count_cases(),
        order_field_cases(),
        digest_only_cases(),
    ]
    .into_iter()
    .flatten()
    .collect();
    run_cases(
        "POST /v1/settlements",
        &cases,
        |c| c.name,
        async |case| check_create_rejected(&app, case).await,
    )
    .await;
}

#[tokio::test]
async fn five_hundred_items_are_allowed() {
    // The bound of `item_count_cases` from the other side.
    let app = spawn_app().await;
    let mut order = sample_order("items-1");
    order.items = items(500);
    order.total = 500 + order.tax;
    let resp = app.post_settlement(&json!({"order": order})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

/// A first request with a key that must be refused with a 401.
struct KeyCase {
    name: &'static str,
    key: Option<String>,
    code: &'static str,
}

#[tokio::test]
async fn wrong_or_missing_secret_key_is_401() {
    // A9: the shop authenticates with its secret key.
    let app = spawn_app().await;
    let body = json!({"order": sample_order("auth-1")}).to_string();
    let key_case = |name, key: Option<&str>, code| KeyCase {
        name,
        key: key.map(str::to_string),
        code,
    };
    let forged = kessai_protocol::keys::format_key("sk_", &[42; 32]);
    let cases = [
        key_case("no key", None, "secret_key_missing"),
        key_case("a well-formed key never issued", Some(&forged), "secret_key_invalid"),
        key_case(
            "a string that is no key",
            Some("hunter2-not-a-key"),
            "secret_key_invalid",
        ),
        // The result key is not a secret key.
        key_case(
            "the merchant's result key",
            Some(&app.merchant.result_key),
            "secret_key_invalid",
        ),
    ];
    run_cases(
        "POST /v1/settlements",
        &cases,
        |c| c.name,
        async |case| {
            let key = case.key.as_deref();
            let resp = app.post_settlement_raw(key, None, body.clone()).await;
            let secrets: Vec<&str> = key.into_iter().collect();
            check_rejected(resp, StatusCode::UNAUTHORIZED, case.code, &secrets)
                .await
                .map(drop)
        },
    )
    .await;
    assert_eq!(app.count("settlements").await, 0);
}

// ---- another merchant's settlement ----

/// A request about a settlement, made with another merchant's key.
struct ForeignCase {
    name: &'static str,
    method: Method,
    path: String,
    body: Option<Value>,
}

#[tokio::test]
async fn another_merchants_settlement_is_not_found() {
    let app = spawn_app().await;
    let created = app.create_settlement(&sample_order("theirs-1")).await;
    let other = app.create_merchant(&["https://other.example"], None).await;
    let foreign = |name, method, path: &str, body| ForeignCase {
        name,
        method,
        path: format!("/v1/settlements/{}{path}", created.id),
        body,
    };
    let cases = [
        foreign("GET /v1/settlements/{id}", Method::GET, "", None),
        foreign("POST /v1/settlements/{id}/cancel", Method::POST, "/cancel", None),
        foreign(
            "POST /v1/settlements/{id}/refunds",
            Method::POST,
            "/refunds",
            Some(json!({})),
        ),
    ];
    run_cases(
        "the merchant endpoints",
        &cases,
        |c| c.name,
        async |case| {
            let mut req = app
                .client
                .request(case.method.clone(), format!("{}{}", app.base, case.path))
                .bearer_auth(&other.secret_key);
            if let Some(body) = &case.body {
                req = req.json(body);
            }
            let resp = req.send().await.map_err(|e| format!("sending: {e}"))?;
            check_rejected(
                resp,
                StatusCode::NOT_FOUND,
                "settlement_not_found",
                &[&other.secret_key],
            )
            .await
            .map(drop)
        },
    )
    .await;
    let events = app.list_events(&other.secret_key, &created.id).await;
    assert_eq!(events["data"], json!([]));
    assert_eq!(app.get_settlement(&created.id).await["status"], "awaiting_payer");
}

// ---- the second request: POST /v1/payer/settlements/{id}/confirm ----

/// What the second-request cases confirm: settlements and a funded card.
struct Payable {
    order: Order,
    /// Awaiting its payer, with `order`.
    open: Created,
    /// Another settlement, whose client secret is not `open`'s.
    other: Created,
    canceled_order: Order,
    canceled: Created,
    card: IssuedCard,
    /// The card's number with a wrong check digit.
    mistyped: String,
}

/// Balance of the card in [`payable`].
const CARD_BALANCE: i64 = 10_000;

async fn payable(app: &TestApp) -> Payable {
    let order = sample_order("card-1");
    let open = app.create_settlement(&order).await;
    let other = app.create_settlement(&sample_order("secret-2")).await;
    let canceled_order = sample_order("canceled-1");
    let canceled = app.create_settlement(&canceled_order).await;
    // A14
    assert_eq!(app.cancel(&canceled.id).await.status(), StatusCode::OK);
    let card = app.issue_card(CARD_BALANCE).await;
    let mut mistyped = card.card_number.clone();
    let last = mistyped.pop().unwrap().to_digit(10).unwrap();
    mistyped.push(char::from_digit((last + 1) % 10, 10).unwrap());
    Payable {
        order,
        open,
        other,
        canceled_order,
        canceled,
        card,
        mistyped,
    }
}

/// A second request that must be refused with nothing written or moved.
struct ConfirmCase<'a> {
    name: &'static str,
    /// The settlement confirmed.
    on: &'a Created,
    body: String,
    status: StatusCode,
    code: &'static str,
    /// The `param` the error must name; None: not checked.
    param: Option<&'static str>,
}

impl<'a> ConfirmCase<'a> {
    /// A 400 for `p.open` without a param to check.
    fn bad(p: &'a Payable, name: &'static str, body: String, code: &'static str) -> Self {
        Self {
            name,
            on: &p.open,
            body,
            status: StatusCode::BAD_REQUEST,
            code,
            param: None,
        }
    }
}

/// The right body for `p.open` with the card's payment method edited.
fn with_card(p: &Payable, edit: impl FnOnce(&mut Value)) -> String {
    let mut method = card_method(&p.card);
    edit(&mut method);
    confirm_body(&p.open.client_secret, &p.order, method).to_string()
}

fn card_cases(p: &Payable) -> Vec<ConfirmCase<'_>> {
    let card = &p.card;
    let bad = |name, body, code| ConfirmCase::bad(p, name, body, code);
    vec![
        ConfirmCase {
            param: Some("payment_method.card.number"),
            ..bad(
                "a wrong check digit",
                with_card(p, |m| m["card"]["number"] = json!(p.mistyped)),
                "card_number_invalid",
            )
        },
        bad(
            "a two-digit CVC",
            with_card(p, |m| m["card"]["cvc"] = json!("12")),
            "card_cvc_invalid",
        ),
        bad(
            "month 13",
            with_card(p, |m| m["card"]["exp_month"] = json!(13)),
            "card_expiry_invalid",
        ),
        // Secrets typed into the wrong fields: serde's message would quote them.
        bad(
            "the CVC and a password in the expiry",
            with_card(p, |m| {
                m["card"]["exp_month"] = json!(card.cvc);
                m["card"]["exp_year"] = json!(PASSWORD);
            }),
            "invalid_parameter",
        ),
        bad(
            "the card number as the expiry year",
            with_card(p, |m| {
                m["card"]["exp_year"] = json!(card.card_number.parse::<u64>().unwrap())
            }),
            "invalid_parameter",
        ),
        bad(
            "the card number in an unknown field",
            with_card(p, |m| m["card"]["pin"] = json!(card.card_number)),
            "unknown_field",
        ),
        bad(
            "a numeric wallet user id beside a password",
            with_card(p, |m| {
                *m = json!({"type": "password", "user_id": 12345678, "password": PASSWORD})
            }),
            "invalid_parameter",
        ),
        bad(
            "truncated JSON holding the card number",
            format!(
                r#"{{"client_secret": "{}", "payment_method": {{"card": {{"number": "{}""#,
                p.open.client_secret, card.card_number
            ),
            "invalid_json",
        ),
    ]
}

fn settlement_cases(p: &Payable) -> Vec<ConfirmCase<'_>> {
    let method = || card_method(&p.card);
    let mut shown = p.order.clone();
    shown.total = 1000;
    let forged = format!("{}_secret_AAAAAAAAAAAAAAAAAAAAAAAA", p.open.id);
    let unauthorized = |name, body: Value| ConfirmCase {
        status: StatusCode::UNAUTHORIZED,
        ..ConfirmCase::bad(p, name, body.to_string(), "client_secret_invalid")
    };
    vec![
        ConfirmCase {
            param: Some("order.total"),
            ..ConfirmCase::bad(
                p,
                "an order total other than the first request's",
                confirm_body(&p.open.client_secret, &shown, method()).to_string(),
                "order_total_mismatch",
            )
        },
        // A3: the browser proves it was handed this settlement.
        unauthorized(
            "another settlement's client secret",
            confirm_body(&p.other.client_secret, &p.order, method()),
        ),
        unauthorized("a forged client secret", confirm_body(&forged, &p.order, method())),
        ConfirmCase::bad(
            p,
            "no client secret",
            json!({"order": p.order, "payment_method": method()}).to_string(),
            "parameter_missing",
        ),
        ConfirmCase {
            on: &p.canceled,
            status: StatusCode::CONFLICT,
            ..ConfirmCase::bad(
                p,
                "a canceled settlement",
                confirm_body(&p.canceled.client_secret, &p.canceled_order, method()).to_string(),
                "settlement_canceled",
            )
        },
    ]
}

/// Refused with the case's status, code and param; nothing written, the
/// settlement's status unchanged, and the card's balance untouched.
async fn check_confirm_rejected(app: &TestApp, p: &Payable, case: &ConfirmCase<'_>) -> Result<(), String> {
    let before = app.write_counts().await;
    let status_before = app.get_settlement(&case.on.id).await["status"].clone();
    let resp = app.confirm_raw(&case.on.id, case.body.clone(), None).await;
    let secrets = [
        p.card.card_number.as_str(),
        p.card.cvc.as_str(),
        p.mistyped.as_str(),
        PASSWORD,
        app.merchant.secret_key.as_str(),
    ];
    let error = check_rejected(resp, case.status, case.code, &secrets).await?;
    check_param(&error, case.param)?;
    check(app.write_counts().await == before, || {
        "a refused confirm wrote something".into()
    })?;
    let status_after = app.get_settlement(&case.on.id).await["status"].clone();
    check(status_after == status_before, || {
        format!("the settlement went from {status_before} to {status_after}")
    })?;
    let balance = app.balance(&p.card.account_id).await;
    check(balance == CARD_BALANCE, || {
        format!("the card's balance is {balance}, not {CARD_BALANCE}")
    })
}

#[tokio::test]
async fn second_request_bad_inputs_are_refused_without_echoing_them() {
    let app = spawn_app().await;
    let p = payable(&app).await;
    let mut cases = card_cases(&p);
    cases.extend(settlement_cases(&p));
    run_cases(
        "POST /v1/payer/settlements/{id}/confirm",
        &cases,
        |c| c.name,
        async |case| check_confirm_rejected(&app, &p, case).await,
    )
    .await;
    // The right secret and card still work afterwards.
    let result = app
        .confirm_ok(
            &p.open.id,
            &confirm_body(&p.open.client_secret, &p.order, card_method(&p.card)),
        )
        .await;
    assert_eq!(result["status"], "succeeded");
}

#[tokio::test]
async fn confirming_an_expired_settlement_is_a_conflict() {
    // Not a case of the table above: the sweeper may write (it expires the
    // settlement) while the request is refused.
    let app = spawn_app().await;
    let order = sample_order("late-1");
    let created = app.create_settlement(&order).await;
    let card = app.issue_card(CARD_BALANCE).await;
    app.set_expires_at(&created.id, now() - 1).await;
    let body = confirm_body(&created.client_secret, &order, card_method(&card)).to_string();
    let resp = app.confirm_raw(&created.id, body, None).await;
    if let Err(why) = check_rejected(resp, StatusCode::CONFLICT, "settlement_expired", &[&card.card_number]).await {
        panic!("an expired settlement: {why}");
    }
    app.wait_for_status(&created.id, "expired").await;
    assert_eq!(app.balance(&card.account_id).await, CARD_BALANCE);
    assert_eq!(app.payee_balance().await, 0);
    app.assert_ledger_ok().await;
}

// ---- anything else ----

#[tokio::test]
async fn unknown_routes_and_settlements_are_404_with_the_error_shape() {
    let app = spawn_app().await;
    // (name, path, bearer key, code)
    let cases = [
        ("an unknown route", "/v1/nothing-here", None, "route_not_found"),
        (
            "an unknown settlement",
            "/v1/settlements/stl_doesnotexist",
            Some(app.merchant.secret_key.as_str()),
            "settlement_not_found",
        ),
    ];
    run_cases(
        "GET",
        &cases,
        |c| c.0,
        async |case| {
            let (_, path, key, code) = *case;
            let mut req = app.client.get(format!("{}{path}", app.base));
            if let Some(key) = key {
                req = req.bearer_auth(key);
            }
            let resp = req.send().await.map_err(|e| format!("sending: {e}"))?;
            let got = resp.status();
            let text = resp.text().await.map_err(|e| format!("reading the body: {e}"))?;
            check_error_shape(got, &text, StatusCode::NOT_FOUND, code).map(drop)
        },
    )
    .await;
}

// ---- refusals made before any handler runs ----

/// One byte over PROTOCOL 2.1's 512 KiB.
const BODY_OVER_THE_LIMIT: usize = 512 * 1024 + 1;

/// `body` (JSON) padded with spaces to [`BODY_OVER_THE_LIMIT`]: still a
/// valid request, so only the size can refuse it.
fn oversized(body: Value) -> Vec<u8> {
    let mut bytes = body.to_string().into_bytes();
    bytes.resize(BODY_OVER_THE_LIMIT, b' ');
    bytes
}

/// A request axum itself refuses: a body over the limit (413) or a method
/// the path does not take (405).
struct FrameworkCase {
    name: &'static str,
    method: Method,
    path: String,
    /// Sent with the merchant's secret key.
    merchant: bool,
    body: Option<Vec<u8>>,
    status: StatusCode,
    code: &'static str,
    /// For a 405: the methods `Allow` must list.
    allow: &'static [&'static str],
}

fn too_large(name: &'static str, path: String, merchant: bool, body: Value) -> FrameworkCase {
    FrameworkCase {
        name,
        method: Method::POST,
        path,
        merchant,
        body: Some(oversized(body)),
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "body_too_large",
        allow: &[],
    }
}

fn wrong_method(name: &'static str, method: Method, path: String, allow: &'static [&'static str]) -> FrameworkCase {
    FrameworkCase {
        name,
        method,
        path,
        merchant: true,
        body: None,
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        allow,
    }
}

/// The error shape with the case's status and code, the `Allow` header of a
/// 405, and nothing written.
async fn check_framework_refusal(app: &TestApp, case: &FrameworkCase) -> Result<(), String> {
    let before = app.write_counts().await;
    let mut req = app
        .client
        .request(case.method.clone(), format!("{}{}", app.base, case.path))
        .header("content-type", "application/json");
    if case.merchant {
        req = req.bearer_auth(&app.merchant.secret_key);
    }
    if let Some(body) = &case.body {
        req = req.body(body.clone());
    }
    let resp = req.send().await.map_err(|e| format!("sending: {e}"))?;
    let allow: std::collections::BTreeSet<String> = resp
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(',')
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect();
    check_rejected(resp, case.status, case.code, &[&app.merchant.secret_key]).await?;
    let expected: std::collections::BTreeSet<String> = case.allow.iter().map(|m| m.to_string()).collect();
    check(allow == expected, || {
        format!("Allow lists {allow:?}, expected {expected:?}")
    })?;
    check(app.write_counts().await == before, || {
        "a refused request wrote something".into()
    })
}

#[tokio::test]
async fn oversized_bodies_and_wrong_methods_get_the_error_shape() {
    let app = spawn_app().await;
    let order = sample_order("big-1");
    let created = app.create_settlement(&order).await;
    let card = app.issue_card(CARD_BALANCE).await;
    let confirm = confirm_body(&created.client_secret, &order, card_method(&card));
    let payer_first = json!({"merchant_id": app.merchant.merchant_id, "order": sample_order("big-2"),
        "payment_method": card_method(&card)});
    let cases = [
        too_large(
            "a first request over 512 KiB",
            "/v1/settlements".into(),
            true,
            json!({"order": sample_order("big-3")}),
        ),
        too_large(
            "a refund over 512 KiB",
            format!("/v1/settlements/{}/refunds", created.id),
            true,
            json!({}),
        ),
        too_large(
            "a second request over 512 KiB",
            format!("/v1/payer/settlements/{}/confirm", created.id),
            false,
            confirm,
        ),
        too_large(
            "a payer-first request over 512 KiB",
            "/v1/payer/orders/confirm".into(),
            false,
            payer_first,
        ),
        wrong_method(
            "DELETE /v1/settlements",
            Method::DELETE,
            "/v1/settlements".into(),
            &["GET", "HEAD", "POST"],
        ),
        wrong_method(
            "GET of the refunds endpoint",
            Method::GET,
            format!("/v1/settlements/{}/refunds", created.id),
            &["POST"],
        ),
        wrong_method(
            "PUT /v1/payer/orders/confirm",
            Method::PUT,
            "/v1/payer/orders/confirm".into(),
            &["POST"],
        ),
        wrong_method("POST /healthz", Method::POST, "/healthz".into(), &["GET", "HEAD"]),
        wrong_method(
            "PATCH of a widget file",
            Method::PATCH,
            "/widget/kessai-checkout.js".into(),
            &["GET", "HEAD"],
        ),
    ];
    run_cases(
        "the router",
        &cases,
        |c| c.name,
        async |case| check_framework_refusal(&app, case).await,
    )
    .await;
    assert_eq!(app.get_settlement(&created.id).await["status"], "awaiting_payer");
    assert_eq!(app.balance(&card.account_id).await, CARD_BALANCE);
}
