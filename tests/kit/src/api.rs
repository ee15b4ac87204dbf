//! The settling server's HTTP API as the shop and the buyer's browser call
//! it, and the JSON both requests carry.

use serde_json::{json, Value};

use crate::{str_field, Card, Merchant, REQUEST_TIMEOUT};

/// The total of [`order`] (PROTOCOL section 3: 500 + 600 + 55 tax).
pub const ORDER_TOTAL: i64 = 1155;

/// The order the shop sends and the buyer is shown (PROTOCOL section 3).
pub fn order(order_id: &str) -> Value {
    json!({
        "order_id": order_id, "currency": "JPY",
        "items": [
            {"code": "XXXX", "name": "Peanut butter", "unit_price": 500, "quantity": 1},
            {"code": "YYYY", "name": "Grape jelly", "unit_price": 600, "quantity": 1}
        ],
        "tax": 55, "total": ORDER_TOTAL
    })
}

/// A card as the second request's `payment_method` (PROTOCOL section 5).
pub fn card_payment_method(number: &str, exp_month: u64, exp_year: u64, cvc: &str) -> Value {
    json!({"type": "card", "card": {
        "number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc
    }})
}

/// A client of one settling server; every request is bounded by
/// [`REQUEST_TIMEOUT`].
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    url: String,
}

/// A created settlement: what the shop hands the buyer's browser.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: String,
    pub client_secret: String,
    pub order: Value,
}

impl Api {
    pub fn new(url: &str) -> Self {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("HTTP client");
        Self {
            client,
            url: url.trim_end_matches('/').to_string(),
        }
    }

    /// The first settlement request (PROTOCOL section 4): status and body.
    pub async fn try_create(&self, merchant: &Merchant, order: &Value) -> reqwest::Result<(u16, Value)> {
        let response = self
            .client
            .post(format!("{}/v1/settlements", self.url))
            .bearer_auth(&merchant.secret_key)
            .json(&json!({"order": order}))
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    /// The first settlement request, which must be answered 201.
    pub async fn create(&self, merchant: &Merchant, order: &Value) -> Created {
        let (status, body) = self.try_create(merchant, order).await.expect("first request");
        assert_eq!(status, 201, "first request: {body}");
        assert_eq!(body["status"], "awaiting_payer", "{body}");
        Created {
            id: str_field(&body, "id").into(),
            client_secret: str_field(&body, "client_secret").into(),
            order: order.clone(),
        }
    }

    /// The second settlement request (PROTOCOL section 5): status and body.
    pub async fn try_confirm(&self, created: &Created, card: &Card) -> reqwest::Result<(u16, Value)> {
        let response = self
            .client
            .post(format!("{}/v1/payer/settlements/{}/confirm", self.url, created.id))
            .json(&json!({
                "client_secret": created.client_secret,
                "order": created.order,
                "payment_method": card.payment_method(),
            }))
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    /// The second settlement request, which must be answered 200.
    pub async fn confirm(&self, created: &Created, card: &Card) -> Value {
        let (status, body) = self.try_confirm(created, card).await.expect("second request");
        assert_eq!(status, 200, "second request: {body}");
        body
    }

    /// `GET /v1/settlements/{id}` with the merchant's key (PROTOCOL section 8).
    pub async fn retrieve(&self, merchant: &Merchant, id: &str) -> Value {
        let response = self
            .client
            .get(format!("{}/v1/settlements/{id}", self.url))
            .bearer_auth(&merchant.secret_key)
            .send()
            .await
            .expect("retrieving a settlement");
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(status, 200, "GET /v1/settlements/{id}: {body}");
        body
    }

    /// `GET /v1/payer/settlements/{id}` with the client secret, as the
    /// buyer's page asks for the status: HTTP status and body.
    pub async fn try_payer_status(&self, id: &str, client_secret: &str) -> reqwest::Result<(u16, Value)> {
        let response = self
            .client
            .get(format!("{}/v1/payer/settlements/{id}", self.url))
            .query(&[("client_secret", client_secret)])
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    /// `GET /v1/payer/settlements/{id}/start`: the start message a page
    /// hands a wallet (PROTOCOL 12).
    pub async fn start_message(&self, created: &Created) -> Value {
        let response = self
            .client
            .get(format!("{}/v1/payer/settlements/{}/start", self.url, created.id))
            .query(&[("client_secret", &created.client_secret)])
            .send()
            .await
            .expect("GET start message");
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(status, 200, "start message: {body}");
        body
    }

    /// Logs a wallet user in at this server wallet; the session token.
    pub async fn wallet_token(&self, user_id: &str, password: &str) -> String {
        let response = self
            .client
            .post(format!("{}/v1/wallet/sessions", self.url))
            .json(&serde_json::json!({"user_id": user_id, "password": password}))
            .send()
            .await
            .expect("POST /v1/wallet/sessions");
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(status, 201, "wallet login: {body}");
        crate::str_field(&body, "token").to_string()
    }

    /// `POST /v1/wallet/payments` with a start message: status and body.
    pub async fn try_wallet_pay(&self, token: &str, message: &Value) -> reqwest::Result<(u16, Value)> {
        let response = self
            .client
            .post(format!("{}/v1/wallet/payments", self.url))
            .bearer_auth(token)
            .json(message)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    /// A GET of the wallet API with the session token; the JSON body.
    pub async fn wallet_get(&self, token: &str, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET wallet API");
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// How many steps the settlement writer has run (`GET /healthz`).
    pub async fn writer_steps(&self) -> u64 {
        let response = self
            .client
            .get(format!("{}/healthz", self.url))
            .send()
            .await
            .expect("GET /healthz");
        assert_eq!(response.status().as_u16(), 200);
        let health: Value = response.json().await.expect("JSON body");
        health["writer_steps"]
            .as_u64()
            .unwrap_or_else(|| panic!("no writer_steps in {health}"))
    }
}
