//! The API reference and the readiness probe (PROTOCOL 9).

use reqwest::StatusCode;

use serde_json::json;

use crate::helpers::{json_of, sample_order, spawn_app};

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

/// A writer that has stopped (here: a step that panics, which is a bug)
/// must not leave a server that looks healthy: /healthz and every write
/// answer 503 `writer_stopped`, and reads still work.
#[tokio::test]
async fn a_stopped_writer_makes_healthz_and_writes_answer_503() {
    let app = spawn_app().await;
    let paid = app.create_settlement(&sample_order("before-the-stop")).await;
    let panicked: kessai_core::Result<()> = app
        .node
        .writer
        .run(|_conn| Box::pin(async { panic!("a bug in a writer step") }))
        .await;
    assert!(panicked.is_err(), "a panicking step must not report success");
    // The writer thread finishes unwinding a moment after the step's answer.
    let mut health = json_of(app.get_path("/healthz").await).await;
    for _ in 0..50 {
        if health.0 != StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        health = json_of(app.get_path("/healthz").await).await;
    }
    let (status, body) = health;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "writer_stopped");
    let (status, body) = json_of(
        app.post_settlement(&json!({"order": sample_order("after-the-stop")}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "writer_stopped");
    // Reads do not need the writer.
    assert_eq!(app.get_settlement(&paid.id).await["status"], "awaiting_payer");
}

/// What an OpenAPI validator checks and client generators rely on: every
/// operation has a unique id, every `{param}` of a path template is declared
/// `in: path`, and nothing else is (query strings are `in: query`).
#[tokio::test]
async fn openapi_operations_have_unique_ids_and_consistent_parameters() {
    let app = spawn_app().await;
    let (_, doc) = json_of(app.get_path("/openapi.json").await).await;
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let templated: std::collections::HashSet<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let in_path: std::collections::HashSet<&str> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            assert_eq!(in_path, templated, "{method} {path}: path parameters");
        }
    }
    let wait = &doc["paths"]["/v1/settlements/{id}"]["get"]["parameters"];
    assert!(
        wait.as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "wait" && p["in"] == "query"),
        "{wait}"
    );
}

/// What schemathesis checks by hand (DESIGN.md, network hardening): the
/// document states the rules the server applies. Wire enums show their
/// wire strings, currencies are the active ISO 4217 codes, and every rule
/// `openapi_doc` adds lands on a schema that exists.
#[tokio::test]
async fn openapi_document_states_the_servers_rules() {
    let app = spawn_app().await;
    let (_, doc) = json_of(app.get_path("/openapi.json").await).await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["TerminalKind"]["enum"][0], "pos", "{}", schemas["TerminalKind"]);
    assert_eq!(schemas["Status"]["enum"][0], "awaiting_payer", "{}", schemas["Status"]);
    let currencies = schemas["Currency"]["enum"].as_array().unwrap();
    assert!(currencies.contains(&json!("JPY")) && !currencies.contains(&json!("AAA")));
    for (pointer, _) in kessai_server::http::openapi_doc::rules() {
        assert!(schemas.pointer(pointer).is_some(), "{pointer}: no such schema property");
    }
    for name in [
        "ConfirmWithClientSecret",
        "ConfirmPayerFirst",
        "CreateSettlement",
        "Order",
    ] {
        assert_eq!(schemas[name]["additionalProperties"], false, "{name}");
    }
}

/// Neither secret is a missing credential: 401, as a missing secret key is.
#[tokio::test]
async fn payer_status_without_a_secret_is_401() {
    let app = spawn_app().await;
    let created = app.create_settlement(&sample_order("no-secret")).await;
    let (status, body) = json_of(app.get_path(&format!("/v1/payer/settlements/{}", created.id)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "payer_secret_missing");
}
