//! The harness: `spawn_app()` starts the real server (`Application::build`,
//! a real listener on port 0, a real SQLite file in a fresh temporary
//! directory) and returns a `TestApp` with one helper per endpoint. Merchants,
//! cards and users are made with the library functions behind the admin CLI;
//! everything else goes over HTTP.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use kessai_core::db;
use kessai_core::instruments::{self, CreatedUser, IssuedCard};
use kessai_core::keyring::Keyring;
use kessai_core::merchants::{self, CreatedMerchant, NewMerchant};
use kessai_core::webhook_targets::WebhookPolicy;
use kessai_protocol::jws::{self, PayerClaims};
use kessai_protocol::{keys, Order};
use kessai_server::config::Config;
use kessai_server::startup::Application;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sqlx::{AnyPool, Row};

/// The origin the default merchant registered for its shop pages.
pub const SHOP_ORIGIN: &str = "https://shop.example";
pub const CURRENCY: &str = "JPY";
/// The sample order's total (PROTOCOL section 3: 500 + 600 + 55 tax).
pub const TOTAL: u64 = kessai_testkit::ORDER_TOTAL as u64;
/// A wallet user's password in these tests.
pub const PASSWORD: &str = "correct horse battery staple";
/// What the tests' servers allow by default: webhooks to the local receivers.
pub const OPEN_WEBHOOKS: WebhookPolicy = WebhookPolicy {
    allow_http: true,
    allow_private: true,
};
/// Generous bound for anything the server does in the background.
pub const BACKGROUND_TIMEOUT: Duration = Duration::from_secs(30);

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub pool: AnyPool,
    pub db_url: String,
    pub keyring: Keyring,
    /// The directory holding the database, its WAL and the master key file.
    pub dir: PathBuf,
    /// A merchant with `SHOP_ORIGIN` registered and no notify_url.
    pub merchant: CreatedMerchant,
    /// The server's running parts, for tests that must reach past HTTP
    /// (stopping the writer, say).
    pub node: kessai_core::Node,
    _tempdir: tempfile::TempDir,
}

/// Server logs of every test in this binary, as the server would print them.
pub fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("kessai_server=trace,kessai_core=trace,tower_http=trace,axum=trace,sqlx=trace")
            .with_ansi(false)
            .with_writer(move || LogWriter(sink.clone()))
            .finish();
        // Another harness may have set one already; then there is nothing to capture.
        let _ = tracing::subscriber::set_global_default(subscriber);
        logs
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// [`spawn_app`] with the configuration adjusted first (after the test
/// defaults, so `adjust` may undo them).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    captured_logs();
    let tempdir = tempfile::tempdir().expect("temporary directory");
    let dir = tempdir.path().to_path_buf();
    let url = format!("sqlite://{}/kessai.db", dir.display());
    let mut config = Config::new("127.0.0.1:0".parse().expect("address"), url.clone(), None);
    // The published retry waits (5 s, 5 min, …) become 1 s each.
    config.webhook_retry_divisor = 300;
    config.webhook_poll = Duration::from_millis(200);
    config.sweep_interval = Duration::from_millis(200);
    // A stand-in for the built widget (scripts/build-widget.sh), to test serving it.
    let widget_dir = dir.join("widget");
    std::fs::create_dir_all(&widget_dir).expect("widget dir");
    std::fs::write(widget_dir.join("kessai-checkout.js"), "export const built = true;\n").expect("widget file");
    config.widget_dir = Some(widget_dir);
    // The tests' webhook receivers listen on http://127.0.0.1; the SSRF
    // tests take these opt-ins back in `adjust`.
    config.webhook_policy = OPEN_WEBHOOKS;
    adjust(&mut config);
    let app = Application::build(config).await.expect("the server builds");
    let addr: SocketAddr = app.local_addr().expect("bound address");
    // The tests' own pool, for looking at rows directly.
    let pool = db::pool(&url, 2).await.expect("test pool");
    let keyring = (*app.state().node.keyring).clone();
    let node = app.state().node.clone();
    tokio::spawn(app.run());
    let mut admin = db::connection(&url).await.expect("admin connection");
    let new = NewMerchant {
        name: "Test Shop",
        origins: &[SHOP_ORIGIN.to_string()],
        notify_url: None,
        client_cert_sha256: None,
        webhook_policy: OPEN_WEBHOOKS,
    };
    let merchant = merchants::create(&mut admin, &keyring, &new).await.expect("merchant");
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client"),
        pool,
        db_url: url,
        keyring,
        dir,
        merchant,
        node,
        _tempdir: tempdir,
    }
}

/// The order of PROTOCOL section 3 with this order id (the test kit's, typed).
pub fn sample_order(order_id: &str) -> Order {
    serde_json::from_value(kessai_testkit::order(order_id)).expect("the kit's order is an Order")
}

pub fn card_method(card: &IssuedCard) -> Value {
    kessai_testkit::card_payment_method(
        &card.card_number,
        card.exp_month.into(),
        card.exp_year.into(),
        &card.cvc,
    )
}

pub fn password_method(user: &CreatedUser, password: &str) -> Value {
    json!({"type": "password", "user_id": user.user_id, "password": password})
}

pub fn account_method(user: &CreatedUser, authenticator: &str) -> Value {
    json!({"type": "account", "user_id": user.user_id, "authenticator": authenticator})
}

pub fn confirm_body(client_secret: &str, order: &Order, method: Value) -> Value {
    json!({"client_secret": client_secret, "order": order, "payment_method": method})
}

pub fn now() -> i64 {
    kessai_core::clock::now()
}

/// Payer claims for settlement `sid`, issued now, with a fresh jti.
pub fn payer_claims(user: &CreatedUser, sid: &str, order: &Order) -> PayerClaims {
    PayerClaims {
        sub: user.user_id.clone(),
        sid: Some(sid.to_string()),
        order_id: None,
        merchant_id: None,
        order_digest: order.digest(),
        total: order.total,
        currency: order.currency.clone(),
        iat: now(),
        jti: format!("jti-{}", rand::random::<u64>()),
    }
}

pub fn sign_payer(user: &CreatedUser, claims: &PayerClaims) -> String {
    let key = keys::parse_key(keys::USER_KEY_PREFIX, &user.user_key).expect("user key");
    jws::sign(&key, claims)
}

/// The JSON body of a response, with its status.
pub async fn json_of(resp: Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, value)
}

/// Asserts the PROTOCOL section 2 error shape, the status and the code;
/// returns the error object.
pub async fn assert_error(resp: Response, status: StatusCode, code: &str) -> Value {
    let (got, body) = json_of(resp).await;
    assert_eq!(got, status, "{body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert!(error["type"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    error.clone()
}

/// A created settlement's id and client secret.
pub struct Created {
    pub id: String,
    pub client_secret: String,
    pub body: Value,
}

impl TestApp {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    // ---- fixtures through the library functions the CLI uses ----

    /// A connection like the admin commands' own.
    pub async fn admin(&self) -> kessai_core::store::Conn {
        db::connection(&self.db_url).await.expect("admin connection")
    }

    pub async fn create_merchant(&self, origins: &[&str], notify_url: Option<&str>) -> CreatedMerchant {
        let origins: Vec<String> = origins.iter().map(|o| o.to_string()).collect();
        let new = NewMerchant {
            name: "Other Shop",
            origins: &origins,
            notify_url,
            client_cert_sha256: None,
            webhook_policy: OPEN_WEBHOOKS,
        };
        merchants::create(&mut self.admin().await, &self.keyring, &new)
            .await
            .expect("merchant")
    }

    pub async fn issue_card(&self, balance: i64) -> IssuedCard {
        self.issue_card_with("kessai-card", balance, None).await
    }

    pub async fn issue_card_with(&self, brand: &str, balance: i64, expiry: Option<(u32, u32)>) -> IssuedCard {
        instruments::issue_card(
            &mut self.admin().await,
            &self.keyring,
            brand,
            "Hanako Yamada",
            balance,
            CURRENCY,
            expiry,
        )
        .await
        .expect("card")
    }

    pub async fn create_user(&self, balance: i64) -> CreatedUser {
        instruments::create_user(
            &mut self.admin().await,
            &self.keyring,
            "Taro Yamada",
            PASSWORD,
            balance,
            CURRENCY,
        )
        .await
        .expect("user")
    }

    // ---- merchant endpoints ----

    /// POST /v1/settlements with the default merchant's key.
    pub async fn post_settlement(&self, body: &Value) -> Response {
        self.post_settlement_raw(Some(&self.merchant.secret_key), None, body.to_string())
            .await
    }

    pub async fn post_settlement_raw(
        &self,
        key: Option<&str>,
        idempotency_key: Option<&str>,
        body: String,
    ) -> Response {
        let mut req = self
            .client
            .post(self.url("/v1/settlements"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        req.send().await.expect("POST /v1/settlements")
    }

    /// A first request for the sample order; asserts 201 awaiting_payer.
    pub async fn create_settlement(&self, order: &Order) -> Created {
        let resp = self
            .post_settlement(&json!({"order": order, "brands": ["kessai-card"]}))
            .await;
        let (status, body) = json_of(resp).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["status"], "awaiting_payer", "{body}");
        Created {
            id: body["id"].as_str().expect("id").to_string(),
            client_secret: body["client_secret"].as_str().expect("client_secret").to_string(),
            body,
        }
    }

    pub async fn get_settlement(&self, id: &str) -> Value {
        let (status, body) = json_of(self.get_settlement_as(&self.merchant.secret_key, id, None).await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub async fn get_settlement_as(&self, key: &str, id: &str, wait: Option<u64>) -> Response {
        let mut req = self
            .client
            .get(self.url(&format!("/v1/settlements/{id}")))
            .bearer_auth(key);
        if let Some(w) = wait {
            req = req.query(&[("wait", w)]);
        }
        req.send().await.expect("GET /v1/settlements/{id}")
    }

    pub async fn list_settlements(&self, order_id: &str) -> Response {
        self.client
            .get(self.url("/v1/settlements"))
            .bearer_auth(&self.merchant.secret_key)
            .query(&[("order_id", order_id)])
            .send()
            .await
            .expect("GET /v1/settlements")
    }

    pub async fn cancel(&self, id: &str) -> Response {
        self.client
            .post(self.url(&format!("/v1/settlements/{id}/cancel")))
            .bearer_auth(&self.merchant.secret_key)
            .send()
            .await
            .expect("POST cancel")
    }

    pub async fn refund(&self, id: &str, body: &Value) -> Response {
        self.client
            .post(self.url(&format!("/v1/settlements/{id}/refunds")))
            .bearer_auth(&self.merchant.secret_key)
            .json(body)
            .send()
            .await
            .expect("POST refunds")
    }

    pub async fn list_events(&self, key: &str, settlement_id: &str) -> Value {
        let resp = self
            .client
            .get(self.url("/v1/events"))
            .bearer_auth(key)
            .query(&[("settlement_id", settlement_id)])
            .send()
            .await
            .expect("GET /v1/events");
        let (status, body) = json_of(resp).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub async fn redeliver(&self, key: &str, event_id: &str) -> Response {
        self.client
            .post(self.url(&format!("/v1/events/{event_id}/redeliver")))
            .bearer_auth(key)
            .send()
            .await
            .expect("POST redeliver")
    }

    // ---- payer endpoints ----

    pub async fn confirm(&self, id: &str, body: &Value) -> Response {
        self.confirm_raw(id, body.to_string(), None).await
    }

    pub async fn confirm_raw(&self, id: &str, body: String, origin: Option<&str>) -> Response {
        let mut req = self
            .client
            .post(self.url(&format!("/v1/payer/settlements/{id}/confirm")))
            .header("content-type", "application/json")
            .body(body);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send().await.expect("POST confirm")
    }

    /// Confirms and asserts 200; returns the ConfirmResult.
    pub async fn confirm_ok(&self, id: &str, body: &Value) -> Value {
        let (status, result) = json_of(self.confirm(id, body).await).await;
        assert_eq!(status, StatusCode::OK, "{result}");
        result
    }

    pub async fn confirm_payer_first(&self, body: &Value) -> Response {
        self.client
            .post(self.url("/v1/payer/orders/confirm"))
            .json(body)
            .send()
            .await
            .expect("POST /v1/payer/orders/confirm")
    }

    pub async fn payer_status(&self, id: &str, payer_secret: &str) -> Value {
        let resp = self
            .client
            .get(self.url(&format!("/v1/payer/settlements/{id}")))
            .query(&[("payer_secret", payer_secret)])
            .send()
            .await
            .expect("GET payer settlement");
        let (status, body) = json_of(resp).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub async fn preflight(&self, path: &str, origin: &str) -> Response {
        self.client
            .request(Method::OPTIONS, self.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .expect("OPTIONS")
    }

    pub async fn get_path(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    // ---- the database, read directly ----

    /// (balance, held) of a ledger account; (0, 0) if it does not exist yet.
    pub async fn account(&self, account_id: &str) -> (i64, i64) {
        let row = sqlx::query("SELECT balance, held FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await
            .expect("accounts");
        row.map(|r| (r.get("balance"), r.get("held"))).unwrap_or((0, 0))
    }

    pub async fn balance(&self, account_id: &str) -> i64 {
        self.account(account_id).await.0
    }

    /// The default merchant's JPY payee account balance.
    pub async fn payee_balance(&self) -> i64 {
        self.balance(&kessai_core::ledger::payee_account_id(
            &self.merchant.merchant_id,
            CURRENCY,
        ))
        .await
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(&self.pool)
            .await
            .expect("count")
            .get("n")
    }

    /// Row counts of every table a request could write to.
    pub async fn write_counts(&self) -> Vec<i64> {
        let mut counts = Vec::new();
        for table in [
            "settlements",
            "transfers",
            "postings",
            "holds",
            "events",
            "deliveries",
            "idempotency_keys",
            "used_jtis",
            "refunds",
        ] {
            counts.push(self.count(table).await);
        }
        counts
    }

    pub async fn set_expires_at(&self, id: &str, expires_at: i64) {
        sqlx::query("UPDATE settlements SET expires_at = $1 WHERE id = $2")
            .bind(expires_at)
            .bind(id)
            .execute(&self.pool)
            .await
            .expect("update expires_at");
    }

    /// `kessai ledger check`, through the library.
    pub async fn assert_ledger_ok(&self) {
        let report = kessai_core::ledger::check(&mut self.admin().await)
            .await
            .expect("ledger check");
        assert!(report.ok, "ledger violations: {:?}", report.violations);
    }

    /// Polls the merchant view until `status`, or panics after the bound.
    pub async fn wait_for_status(&self, id: &str, status: &str) -> Value {
        let deadline = tokio::time::Instant::now() + BACKGROUND_TIMEOUT;
        loop {
            let body = self.get_settlement(id).await;
            if body["status"] == status {
                return body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{id} never became {status}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
