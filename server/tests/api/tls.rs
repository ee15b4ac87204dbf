//! Issue 7, item 6 (A9): HTTPS with rustls, and mutual TLS on merchant and
//! peer paths. The certificates are made here with rcgen: a client CA, the
//! server's certificate, two client certificates the CA signed and one it
//! did not.

use rcgen::{BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use reqwest::StatusCode;

use crate::helpers::{assert_error, spawn_app_with, TestApp, OPEN_WEBHOOKS, SHOP_ORIGIN};
use kessai_core::merchants::{self, NewMerchant};
use kessai_server::config::TlsFiles;
use kessai_server::tls::ClientCert;

struct Issued {
    cert: Certificate,
    key: KeyPair,
}

impl Issued {
    fn identity(&self) -> reqwest::Identity {
        let pem = format!("{}{}", self.cert.pem(), self.key.serialize_pem());
        reqwest::Identity::from_pem(pem.as_bytes()).unwrap()
    }
    fn sha256(&self) -> String {
        ClientCert::of(self.cert.der()).sha256
    }
}

fn ca(name: &str) -> Issued {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    Issued { cert, key }
}

fn leaf(ca: &Issued, names: &[&str], usage: ExtendedKeyUsagePurpose) -> Issued {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.extended_key_usages = vec![usage];
    params.distinguished_name.push(DnType::CommonName, names[0]);
    let cert = params.signed_by(&key, &ca.cert, &ca.key).unwrap();
    Issued { cert, key }
}

struct Pki {
    server_ca: Issued,
    alice: Issued,
    bob: Issued,
    stranger: Issued,
}

/// A server on HTTPS requiring client certificates from its client CA.
async fn spawn_tls_app() -> (TestApp, Pki, String) {
    let server_ca = ca("Test server CA");
    let server = leaf(
        &server_ca,
        &["127.0.0.1", "localhost"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let client_ca = ca("Test client CA");
    let alice = leaf(&client_ca, &["alice.shop.example"], ExtendedKeyUsagePurpose::ClientAuth);
    let bob = leaf(&client_ca, &["bob.shop.example"], ExtendedKeyUsagePurpose::ClientAuth);
    let stranger = leaf(
        &ca("Not the client CA"),
        &["eve.example"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    // Read once, when the server is built: the files may go afterwards.
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let files = TlsFiles {
        cert: write("server.pem", server.cert.pem()),
        key: write("server.key", server.key.serialize_pem()),
        client_ca: Some(write("client-ca.pem", client_ca.cert.pem())),
    };
    let app = spawn_app_with(move |c| c.tls = Some(files)).await;
    let base = app.base.replace("http://", "https://");
    let pki = Pki {
        server_ca,
        alice,
        bob,
        stranger,
    };
    (app, pki, base)
}

fn client(pki: &Pki, identity: Option<&Issued>) -> reqwest::Client {
    let root = reqwest::Certificate::from_pem(pki.server_ca.cert.pem().as_bytes()).unwrap();
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(root);
    if let Some(issued) = identity {
        builder = builder.identity(issued.identity());
    }
    builder.build().unwrap()
}

async fn list(client: &reqwest::Client, base: &str, key: &str) -> reqwest::Result<reqwest::Response> {
    client
        .get(format!("{base}/v1/settlements"))
        .query(&[("order_id", "tls-1")])
        .bearer_auth(key)
        .send()
        .await
}

#[tokio::test]
async fn https_serves_and_merchant_paths_require_a_client_certificate() {
    let (app, pki, base) = spawn_tls_app().await;
    let anonymous = client(&pki, None);
    // HTTPS works, and browser paths need no certificate.
    let health = anonymous.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let payer = anonymous
        .get(format!(
            "{base}/v1/payer/settlements/stl_x?client_secret=stl_x_secret_y"
        ))
        .send()
        .await
        .unwrap();
    let (_, body) = crate::helpers::json_of(payer).await;
    assert_ne!(body["error"]["code"], "client_certificate_required", "{body}");
    // Plain HTTP on the HTTPS port gets nowhere.
    let plain = app.client.get(format!("{}/healthz", app.base)).send().await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");

    // Merchant and peer paths: no certificate, 401.
    let resp = list(&anonymous, &base, &app.merchant.secret_key).await.unwrap();
    assert_error(resp, StatusCode::UNAUTHORIZED, "client_certificate_required").await;
    let peer = anonymous.get(format!("{base}/v1/peer/positions")).send().await.unwrap();
    assert_error(peer, StatusCode::UNAUTHORIZED, "client_certificate_required").await;
    // Any certificate the client CA signed will do for an unbound merchant.
    let resp = list(&client(&pki, Some(&pki.bob)), &base, &app.merchant.secret_key)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // A certificate the client CA did not sign fails the handshake.
    let refused = list(&client(&pki, Some(&pki.stranger)), &base, &app.merchant.secret_key).await;
    assert!(
        refused.is_err() || refused.as_ref().is_ok_and(|r| !r.status().is_success()),
        "a stranger's certificate was accepted"
    );
}

#[tokio::test]
async fn a_merchant_bound_to_its_certificate_is_refused_with_another() {
    let (app, pki, base) = spawn_tls_app().await;
    let fingerprint = pki.alice.sha256();
    let new = NewMerchant {
        name: "Bound Shop",
        origins: &[SHOP_ORIGIN.to_string()],
        notify_url: None,
        client_cert_sha256: Some(&fingerprint),
        webhook_policy: OPEN_WEBHOOKS,
    };
    let bound = merchants::create(&mut app.admin().await, &app.keyring, &new)
        .await
        .unwrap();

    let resp = list(&client(&pki, Some(&pki.alice)), &base, &bound.secret_key)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{:?}", resp.text().await);
    let resp = list(&client(&pki, Some(&pki.bob)), &base, &bound.secret_key)
        .await
        .unwrap();
    assert_error(resp, StatusCode::UNAUTHORIZED, "client_certificate_mismatch").await;
    let resp = list(&client(&pki, None), &base, &bound.secret_key).await.unwrap();
    assert_error(resp, StatusCode::UNAUTHORIZED, "client_certificate_required").await;
}
