//! The server wallet API (PROTOCOL section 12) as the wallet calls it:
//! sessions, brand information, payments, history and in-store
//! transactions (section 13), with the protocol
//! crate's wire types.
//!
//! Every failure becomes an [`ApiError`]; [`classify`] is the one place an
//! HTTP answer is judged, pure so it is tested natively. A 401 to a call
//! made with a session token is [`ApiError::SessionExpired`], which the
//! callers turn into "log in again" rather than a silent failure.

use kessai_protocol::api::{ErrorBody, ErrorDetail};

/// Most history lines asked for at once.
pub const HISTORY_PAGE_LEN: u32 = 20;

/// Why a call to a server wallet did not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No HTTP answer: wrong address, offline, CORS.
    Network,
    /// 401 to a call with a session token: the session ended.
    SessionExpired,
    /// The server refused, in the protocol's error shape.
    Refused {
        status: u16,
        detail: ErrorDetail,
        /// From `Retry-After` on a 429.
        retry_after_s: Option<u64>,
    },
    /// An answer that is neither the expected body nor an error body.
    BadResponse(u16),
}

/// What an answer that is not a success means. `with_token` says whether
/// the call carried a session token (a 401 to a login is a wrong password,
/// not an expired session).
pub fn classify(status: u16, body: &str, retry_after: Option<&str>, with_token: bool) -> ApiError {
    if status == 401 && with_token {
        return ApiError::SessionExpired;
    }
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => ApiError::Refused {
            status,
            detail: error,
            retry_after_s: retry_after.and_then(|value| value.trim().parse().ok()),
        },
        Err(_) => ApiError::BadResponse(status),
    }
}

#[cfg(target_arch = "wasm32")]
pub use calls::*;

/// The calls themselves (browser only).
#[cfg(target_arch = "wasm32")]
mod calls {
    use gloo::net::http::{Request, RequestBuilder};
    use kessai_protocol::terminal::{
        AnswerChallenge, ConfirmTransaction, ConfirmedTransaction, PayerTransaction, PlaceOrder, SyncTransaction,
    };
    use kessai_protocol::wallet::{BrandInfo, CreateSession, History, Session, StartMessage, WalletPayment};
    use kessai_protocol::Secret;
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use web_sys::RequestCredentials;

    use super::{classify, ApiError, HISTORY_PAGE_LEN};

    /// `POST /v1/wallet/sessions` (201 Session).
    pub async fn create_session(address: &str, user_id: &str, password: Secret<String>) -> Result<Session, ApiError> {
        let body = CreateSession {
            user_id: user_id.to_string(),
            password,
        };
        let request = builder(Request::post(&url(address, "sessions")), None)
            .json(&body)
            .map_err(|_| ApiError::Network)?;
        receive(request.send().await, false).await
    }

    /// `GET /v1/wallet/brand-info` (B5, B6).
    pub async fn brand_info(address: &str, token: &Secret<String>) -> Result<BrandInfo, ApiError> {
        let request = builder(Request::get(&url(address, "brand-info")), Some(token));
        receive(request.send().await, true).await
    }

    /// `DELETE /v1/wallet/sessions/current`.
    pub async fn end_session(address: &str, token: &Secret<String>) -> Result<(), ApiError> {
        let request = builder(Request::delete(&url(address, "sessions/current")), Some(token));
        let response = request.send().await.map_err(|_| ApiError::Network)?;
        // An ended session is what logging out wants: a 401 is success too.
        if response.ok() || response.status() == 401 {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(classify(response.status(), &body, None, true))
    }

    /// `POST /v1/wallet/payments` with the start message as the body.
    pub async fn pay(address: &str, token: &Secret<String>, start: &StartMessage) -> Result<WalletPayment, ApiError> {
        let request = builder(Request::post(&url(address, "payments")), Some(token))
            .json(start)
            .map_err(|_| ApiError::Network)?;
        receive(request.send().await, true).await
    }

    /// `GET /v1/wallet/history`, newest first, after `starting_after`.
    pub async fn history(
        address: &str,
        token: &Secret<String>,
        starting_after: Option<&str>,
    ) -> Result<History, ApiError> {
        let limit = HISTORY_PAGE_LEN.to_string();
        let mut query = vec![("limit", limit.as_str())];
        if let Some(id) = starting_after {
            query.push(("starting_after", id));
        }
        let request = builder(Request::get(&url(address, "history")), Some(token)).query(query);
        receive(request.send().await, true).await
    }

    /// `POST /v1/wallet/transactions/sync` (PROTOCOL section 13): the
    /// transaction behind a terminal's number, if this institution has it;
    /// with the admission an entry gave, at an exit gate (C6).
    pub async fn sync_transaction(
        address: &str,
        token: &Secret<String>,
        number: &str,
        admission: Option<String>,
    ) -> Result<PayerTransaction, ApiError> {
        let body = SyncTransaction {
            number: number.to_string(),
            admission,
        };
        let request = builder(Request::post(&url(address, "transactions/sync")), Some(token))
            .json(&body)
            .map_err(|_| ApiError::Network)?;
        receive(request.send().await, true).await
    }

    /// `GET /v1/wallet/transactions/{id}?wait=N&version=V`: answers as
    /// soon as the transaction is past `version` (the one last seen; at once
    /// if it already is), or after `wait_s`.
    pub async fn transaction(
        address: &str,
        token: &Secret<String>,
        id: &str,
        wait_s: u32,
        version: Option<u64>,
    ) -> Result<PayerTransaction, ApiError> {
        let wait = wait_s.to_string();
        let version = version.map(|v| v.to_string());
        let mut query = vec![("wait", wait.as_str())];
        if let Some(v) = &version {
            query.push(("version", v.as_str()));
        }
        let request = builder(Request::get(&url(address, &format!("transactions/{id}"))), Some(token)).query(query);
        receive(request.send().await, true).await
    }

    /// `POST /v1/wallet/transactions/{id}/order` (D9).
    pub async fn place_order(
        address: &str,
        token: &Secret<String>,
        id: &str,
        order: &PlaceOrder,
    ) -> Result<PayerTransaction, ApiError> {
        post(address, token, &format!("transactions/{id}/order"), order).await
    }

    /// `POST /v1/wallet/transactions/{id}/challenge` (D8).
    pub async fn answer_challenge(
        address: &str,
        token: &Secret<String>,
        id: &str,
        pin: Secret<String>,
    ) -> Result<PayerTransaction, ApiError> {
        post(
            address,
            token,
            &format!("transactions/{id}/challenge"),
            &AnswerChallenge { pin },
        )
        .await
    }

    /// `POST /v1/wallet/transactions/{id}/confirm` with the amount shown.
    pub async fn confirm_transaction(
        address: &str,
        token: &Secret<String>,
        id: &str,
        confirm: &ConfirmTransaction,
    ) -> Result<ConfirmedTransaction, ApiError> {
        post(address, token, &format!("transactions/{id}/confirm"), confirm).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        address: &str,
        token: &Secret<String>,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        let request = builder(Request::post(&url(address, path)), Some(token))
            .json(body)
            .map_err(|_| ApiError::Network)?;
        receive(request.send().await, true).await
    }

    fn url(address: &str, path: &str) -> String {
        format!("{address}/v1/wallet/{path}")
    }

    /// No cookies: the wallet API is authenticated by the token alone
    /// (PROTOCOL section 12, CORS `*`).
    fn builder(request: RequestBuilder, token: Option<&Secret<String>>) -> RequestBuilder {
        let request = request
            .credentials(RequestCredentials::Omit)
            .header("Accept", "application/json");
        match token {
            Some(token) => request.header("Authorization", &format!("Bearer {}", token.expose())),
            None => request,
        }
    }

    async fn receive<T: DeserializeOwned>(
        sent: Result<gloo::net::http::Response, gloo::net::Error>,
        with_token: bool,
    ) -> Result<T, ApiError> {
        let response = sent.map_err(|_| ApiError::Network)?;
        let status = response.status();
        if response.ok() {
            return response.json::<T>().await.map_err(|_| ApiError::BadResponse(status));
        }
        let retry_after = response.headers().get("retry-after");
        let body = response.text().await.unwrap_or_default();
        Err(classify(status, &body, retry_after.as_deref(), with_token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE_LIMITED: &str =
        r#"{"error":{"type":"invalid_request_error","code":"rate_limited","message":"Too many failed logins."}}"#;
    const AUTH_FAILED: &str = r#"{"error":{"type":"invalid_request_error","code":"authentication_failed","message":"Wrong user id or password."}}"#;

    #[test]
    fn a_401_with_a_token_is_an_expired_session() {
        assert_eq!(classify(401, AUTH_FAILED, None, true), ApiError::SessionExpired);
    }

    #[test]
    fn a_401_to_a_login_is_the_servers_refusal() {
        let error = classify(401, AUTH_FAILED, None, false);
        let ApiError::Refused { status, detail, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!((*status, detail.code.as_str()), (401, "authentication_failed"));
    }

    #[test]
    fn rate_limits_say_when_to_try_again() {
        let error = classify(429, RATE_LIMITED, Some(" 120 "), false);
        assert!(matches!(
            error,
            ApiError::Refused {
                retry_after_s: Some(120),
                ..
            }
        ));
    }

    #[test]
    fn answers_outside_the_error_shape_are_bad_responses() {
        assert_eq!(
            classify(502, "<html>bad gateway</html>", None, true),
            ApiError::BadResponse(502)
        );
    }
}
