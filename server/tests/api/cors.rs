//! CORS on the payer endpoints (PROTOCOL 5): only the origins the
//! settlement's merchant registered.

use reqwest::StatusCode;

use crate::helpers::{assert_error, card_method, confirm_body, sample_order, spawn_app, SHOP_ORIGIN};

#[tokio::test]
async fn preflight_from_the_merchants_origin_is_allowed() {
    let app = spawn_app().await;
    let created = app.create_settlement(&sample_order("cors-1")).await;
    let resp = app
        .preflight(&format!("/v1/payer/settlements/{}/confirm", created.id), SHOP_ORIGIN)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let allow = resp
        .headers()
        .get("access-control-allow-origin")
        .and_then(|v| v.to_str().ok());
    assert_eq!(allow, Some(SHOP_ORIGIN));
    let methods = resp
        .headers()
        .get("access-control-allow-methods")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");
    let headers = resp
        .headers()
        .get("access-control-allow-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(headers.to_ascii_lowercase().contains("content-type"), "{headers}");
}

#[tokio::test]
async fn preflight_from_another_origin_is_refused() {
    let app = spawn_app().await;
    let created = app.create_settlement(&sample_order("cors-2")).await;
    // Another merchant's origin is no better than an unknown one.
    app.create_merchant(&["https://other.example"], None).await;
    for origin in ["https://evil.example", "https://other.example", "http://shop.example"] {
        let resp = app
            .preflight(&format!("/v1/payer/settlements/{}/confirm", created.id), origin)
            .await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{origin}");
        assert!(resp.headers().get("access-control-allow-origin").is_none(), "{origin}");
    }
}

#[tokio::test]
async fn confirm_from_an_unregistered_origin_is_refused_and_moves_nothing() {
    let app = spawn_app().await;
    let card = app.issue_card(10_000).await;
    let order = sample_order("cors-3");
    let created = app.create_settlement(&order).await;
    let body = confirm_body(&created.client_secret, &order, card_method(&card)).to_string();
    let resp = app
        .confirm_raw(&created.id, body.clone(), Some("https://evil.example"))
        .await;
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    assert_error(resp, StatusCode::FORBIDDEN, "origin_not_allowed").await;
    assert_eq!(app.get_settlement(&created.id).await["status"], "awaiting_payer");
    assert_eq!(app.balance(&card.account_id).await, 10_000);

    // From the shop's own page it goes through, with the CORS header.
    let resp = app.confirm_raw(&created.id, body, Some(SHOP_ORIGIN)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let allow = resp
        .headers()
        .get("access-control-allow-origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    assert_eq!(allow.as_deref(), Some(SHOP_ORIGIN));
    assert_eq!(app.balance(&card.account_id).await, 10_000 - 1155);
}
