//! Secrets at rest and in logs: after card, password, account and
//! payer-first payments (and a few refused requests carrying secrets), no
//! card number, CVC, password or key is in the database files, nor in what
//! the server logged at its most verbose level.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use kessai_protocol::keys;
use serde_json::json;

use crate::helpers::{
    account_method, captured_logs, card_method, confirm_body, password_method, payer_claims, sample_order, sign_payer,
    spawn_app, TestApp, PASSWORD,
};

/// Every way a key could be written down: as shown, and its bytes raw, in
/// base64 (both alphabets, padded or not) and in hex.
fn key_forms(shown: &str, bytes: &[u8]) -> Vec<Vec<u8>> {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        shown.as_bytes().to_vec(),
        bytes.to_vec(),
        URL_SAFE_NO_PAD.encode(bytes).into_bytes(),
        STANDARD.encode(bytes).into_bytes(),
        STANDARD_NO_PAD.encode(bytes).into_bytes(),
        hex.clone().into_bytes(),
        hex.to_ascii_uppercase().into_bytes(),
    ]
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Makes every kind of payment and a few refused requests, and returns the
/// secrets involved as (what, bytes) pairs.
async fn pay_every_way(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let card = app.issue_card(100_000).await;
    let user = app.create_user(100_000).await;
    let mut secrets: Vec<(String, Vec<u8>)> = vec![
        ("card number".into(), card.card_number.clone().into_bytes()),
        ("password".into(), PASSWORD.as_bytes().to_vec()),
    ];
    // A CVC is three digits, which occur by chance in any file: look for it
    // only where it would be labelled as one.
    for form in [
        format!("\"cvc\":\"{}\"", card.cvc),
        format!("\"cvc\": \"{}\"", card.cvc),
        format!("cvc={}", card.cvc),
    ] {
        secrets.push(("cvc".into(), form.into_bytes()));
    }
    let m = &app.merchant;
    let labelled: [(&str, &str, Vec<u8>); 4] = [
        (
            "secret key",
            &m.secret_key,
            keys::parse_key("sk_", &m.secret_key).unwrap().to_vec(),
        ),
        (
            "result key",
            &m.result_key,
            keys::parse_key("rk_", &m.result_key).unwrap().to_vec(),
        ),
        (
            "webhook secret",
            &m.webhook_secret,
            keys::parse_webhook_secret(&m.webhook_secret).unwrap(),
        ),
        (
            "user key",
            &user.user_key,
            keys::parse_key("uk_", &user.user_key).unwrap().to_vec(),
        ),
    ];
    for (what, shown, bytes) in labelled {
        secrets.extend(key_forms(shown, &bytes).into_iter().map(|f| (what.to_string(), f)));
    }

    let order = sample_order("s-card");
    let c = app.create_settlement(&order).await;
    assert_eq!(
        app.confirm_ok(&c.id, &confirm_body(&c.client_secret, &order, card_method(&card)))
            .await["status"],
        "succeeded"
    );
    let order = sample_order("s-password");
    let c = app.create_settlement(&order).await;
    let body = confirm_body(&c.client_secret, &order, password_method(&user, PASSWORD));
    assert_eq!(app.confirm_ok(&c.id, &body).await["status"], "succeeded");
    let order = sample_order("s-account");
    let c = app.create_settlement(&order).await;
    let token = sign_payer(&user, &payer_claims(&user, &c.id, &order));
    let body = confirm_body(&c.client_secret, &order, account_method(&user, &token));
    assert_eq!(app.confirm_ok(&c.id, &body).await["status"], "succeeded");
    let order = sample_order("s-first");
    let body = json!({"merchant_id": m.merchant_id, "order": order, "payment_method": card_method(&card)});
    let first = app.confirm_payer_first(&body).await.text().await.unwrap();
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    let payer_secret = first["payer_secret"].as_str().unwrap().to_string();
    app.payer_status(first["id"].as_str().unwrap(), &payer_secret).await;
    assert_eq!(app.post_settlement(&json!({"order": order})).await.status(), 201);

    // Refused requests carrying secrets where they do not belong.
    let order = sample_order("s-refused");
    let c = app.create_settlement(&order).await;
    let mut method = card_method(&card);
    method["card"]["exp_year"] = json!(PASSWORD);
    method["card"]["exp_month"] = json!(card.card_number);
    app.confirm(&c.id, &confirm_body(&c.client_secret, &order, method))
        .await;
    let mut method = card_method(&card);
    method["card"]["cvc"] = json!(m.secret_key);
    app.confirm(&c.id, &confirm_body(&c.client_secret, &order, method))
        .await;
    app.confirm(
        &c.id,
        &confirm_body(&c.client_secret, &order, password_method(&user, &user.user_key)),
    )
    .await;
    let client_secret_query = format!(
        "{}/v1/payer/settlements/{}?client_secret={}",
        app.base, c.id, c.client_secret
    );
    app.client.get(client_secret_query).send().await.unwrap();

    secrets.push(("payer secret".into(), payer_secret.into_bytes()));
    secrets.push(("client secret".into(), c.client_secret.into_bytes()));
    // A first request with an Idempotency-Key: its stored answer must not
    // keep the client secret, yet a replay must still carry it.
    let body = serde_json::json!({"order": sample_order("s-idem")}).to_string();
    let key = Some("idem-secrets");
    let first = app
        .post_settlement_raw(Some(&app.merchant.secret_key), key, body.clone())
        .await;
    let first: serde_json::Value = first.json().await.unwrap();
    let replay = app.post_settlement_raw(Some(&app.merchant.secret_key), key, body).await;
    let replay: serde_json::Value = replay.json().await.unwrap();
    let idem_secret = first["client_secret"].as_str().unwrap().to_string();
    assert_eq!(replay, first, "a replay is the first answer, client secret included");
    secrets.push(("idempotent client secret".into(), idem_secret.into_bytes()));
    app.assert_ledger_ok().await;
    secrets
}

#[tokio::test]
async fn no_secret_is_stored_in_clear() {
    let app = spawn_app().await;
    let secrets = pay_every_way(&app).await;
    let mut files = 0;
    for entry in std::fs::read_dir(&app.dir).unwrap() {
        let path = entry.unwrap().path();
        // The master key file is the one place meant to hold a key; the
        // widget directory holds the test's stand-in script.
        if path.is_dir() || path.extension().is_some_and(|e| e == "key") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        files += 1;
        for (what, form) in &secrets {
            assert!(
                !find(&bytes, form),
                "{what} found in {} as {:?}",
                path.display(),
                String::from_utf8_lossy(form)
            );
        }
    }
    assert!(files >= 2, "expected the database and its WAL in {}", app.dir.display());
}

#[tokio::test]
async fn no_secret_is_logged() {
    let app = spawn_app().await;
    let logs = captured_logs();
    let secrets = pay_every_way(&app).await;
    let text = logs.lock().unwrap().clone();
    assert!(
        find(&text, app.merchant.merchant_id.as_bytes()) || find(&text, b"/v1/settlements"),
        "no server logs were captured"
    );
    for (what, form) in &secrets {
        if find(&text, form) {
            let text = String::from_utf8_lossy(&text);
            let needle = String::from_utf8_lossy(form);
            let line = text.lines().find(|l| l.contains(needle.as_ref())).unwrap_or_default();
            panic!("{what} found in the server's logs as {needle:?}: {line}");
        }
    }
}
