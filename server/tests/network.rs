//! Institutions and peers (PROTOCOL 11), with real `kessai` processes: each
//! institution its own database, key file and listener, talking over real
//! HTTP. Issue 8.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use kessai_protocol::peer::{InstitutionDocument, PublicKey};
use kessai_testkit::{luhn_valid, stderr, str_field, Kessai, TestEnv};
use serde_json::Value;

fn kessai() -> Kessai {
    Kessai::new(env!("CARGO_BIN_EXE_kessai"))
}

/// An institution named `name`, issuing `brand` cards under `prefix`.
async fn institution(name: &str, brand: &str, prefix: &str) -> (TestEnv, Value) {
    let env = TestEnv::new(kessai());
    let shown = env
        .admin(&[
            "institution",
            "set",
            "--name",
            name,
            "--brand",
            brand,
            "--currency",
            "JPY",
            "--card-prefix",
            prefix,
        ])
        .await;
    (env, shown)
}

async fn peer_count(env: &TestEnv) -> usize {
    env.admin(&["peer", "list"]).await["peers"].as_array().unwrap().len()
}

#[tokio::test]
async fn an_institution_is_made_at_first_use_and_publishes_its_key() {
    let env = TestEnv::new(kessai());
    let first = env.admin(&["institution", "show"]).await;
    let id = str_field(&first, "institution_id");
    assert!(id.starts_with("ins_"), "{first}");
    assert_eq!(first["name"], "Kessai");
    assert_eq!(first["brands"], serde_json::json!(["kessai-card"]));
    let prefix = str_field(&first, "card_prefix");
    assert!(
        prefix.len() == 6 && prefix.bytes().all(|b| b.is_ascii_digit()),
        "{first}"
    );
    // Renaming keeps the identity and the key.
    let set = env
        .admin(&[
            "institution",
            "set",
            "--name",
            "Sakura Bank",
            "--brand",
            "sakura-debit",
            "--card-prefix",
            "412345",
        ])
        .await;
    assert_eq!(set["institution_id"], first["institution_id"]);
    assert_eq!(set["thumbprint"], first["thumbprint"]);
    assert_eq!(set["name"], "Sakura Bank");
    // Every card it issues starts with its prefix.
    let card = env.card("Hanako", 1_000).await;
    assert!(
        card.number.starts_with("412345") && luhn_valid(&card.number),
        "{}",
        card.number
    );
    // Its document carries the key whose thumbprint `show` prints.
    let server = env.start_server().await;
    let resp = reqwest::get(format!("{}/.well-known/kessai-institution", server.url))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let doc: InstitutionDocument = resp.json().await.unwrap();
    assert_eq!(doc.institution_id, id);
    assert_eq!((doc.name.as_str(), doc.card_prefix.as_str()), ("Sakura Bank", "412345"));
    assert_eq!(doc.brands, ["sakura-debit"]);
    let key = doc.signing_key().unwrap();
    assert_eq!(key.thumbprint(), str_field(&set, "thumbprint"));
    assert_eq!(PublicKey::from_jwk(&doc.jwks.keys[0]).unwrap(), key);
}

#[tokio::test]
async fn bad_institution_settings_are_refused_and_change_nothing() {
    let env = TestEnv::new(kessai());
    let before = env.admin(&["institution", "show"]).await;
    for args in [
        &["institution", "set", "--card-prefix", "12345"][..],
        &["institution", "set", "--brand", "Sakura Debit"],
        &["institution", "set", "--currency", "yen"],
        &["institution", "set", "--name", ""],
    ] {
        let out = env.run(args).await;
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).starts_with("kessai: "), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(env.admin(&["institution", "show"]).await, before);
}

#[tokio::test]
async fn a_peer_is_pinned_by_the_thumbprint_its_operator_gives() {
    let (sakura, sakura_shown) = institution("Sakura Bank", "sakura-debit", "412345").await;
    let (fuji, _) = institution("Fuji Card", "fuji-card", "498765").await;
    let sakura_server = sakura.start_server().await;
    let thumbprint = str_field(&sakura_shown, "thumbprint");

    // A wrong thumbprint: refused, nothing stored.
    let wrong = "AkXIZFzonb59ZmGwyKgi3H3BwMi6amevqdKQiLZhdtc";
    let out = fuji
        .run(&["peer", "add", "--url", &sakura_server.url, "--thumbprint", wrong])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("thumbprint"), "{}", stderr(&out));
    assert_eq!(peer_count(&fuji).await, 0);

    // The right one: pinned, with the credit Fuji gives Sakura.
    let added = fuji
        .admin(&[
            "peer",
            "add",
            "--url",
            &sakura_server.url,
            "--thumbprint",
            thumbprint,
            "--credit-limit",
            "50000",
            "--currency",
            "JPY",
        ])
        .await;
    assert_eq!(added["institution_id"], sakura_shown["institution_id"]);
    assert_eq!(added["name"], "Sakura Bank");
    assert_eq!(added["brands"], serde_json::json!(["sakura-debit"]));
    assert_eq!(added["url"], sakura_server.url.as_str());
    let list = fuji.admin(&["peer", "list"]).await;
    let peers = list["peers"].as_array().unwrap();
    assert_eq!(peers.len(), 1, "{list}");
    assert_eq!(peers[0]["thumbprint"], thumbprint);
    assert_eq!(peers[0]["card_prefix"], "412345");
    assert_eq!(peers[0]["credit_limits"][0]["credit_limit"], 50000);
    // Adding it again changes nothing but what it may: still one peer.
    fuji.admin(&["peer", "add", "--url", &sakura_server.url, "--thumbprint", thumbprint])
        .await;
    assert_eq!(peer_count(&fuji).await, 1);
}

#[tokio::test]
async fn peers_that_cannot_be_trusted_are_refused() {
    let (sakura, shown) = institution("Sakura Bank", "sakura-debit", "412345").await;
    let server = sakura.start_server().await;
    let own_thumbprint = str_field(&shown, "thumbprint");
    // Itself.
    let out = sakura
        .run(&["peer", "add", "--url", &server.url, "--thumbprint", own_thumbprint])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // An institution issuing cards under the same prefix.
    let (twin, _) = institution("Twin Bank", "twin", "412345").await;
    let out = twin
        .run(&["peer", "add", "--url", &server.url, "--thumbprint", own_thumbprint])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("prefix"), "{}", stderr(&out));
    // Nobody listening there; not a URL; a URL with credentials.
    let (fuji, _) = institution("Fuji Card", "fuji-card", "498765").await;
    for url in ["http://127.0.0.1:9", "bank.example", "http://user:pw@127.0.0.1:9"] {
        let out = fuji
            .run(&["peer", "add", "--url", url, "--thumbprint", own_thumbprint])
            .await;
        assert_eq!(out.status.code(), Some(1), "{url}: {}", stderr(&out));
    }
    for env in [&sakura, &twin, &fuji] {
        assert_eq!(peer_count(env).await, 0);
    }
}
