//! The API reference and the readiness probe (PROTOCOL 9).

use reqwest::StatusCode;

use crate::helpers::{json_of, spawn_app};

#[tokio::test]
async fn openapi_document_lists_the_endpoints() {
    let app = spawn_app().await;
    let (status, doc) = json_of(app.get_path("/openapi.json").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/v1/settlements",
        "/v1/settlements/{id}",
        "/v1/settlements/{id}/refunds",
        "/v1/payer/settlements/{id}/confirm",
        "/v1/payer/orders/confirm",
        "/v1/events/{id}/redeliver",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn healthz_answers_200_when_ready() {
    let app = spawn_app().await;
    let (status, body) = json_of(app.get_path("/healthz").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
}
