//! The billing terminal API (PROTOCOL section 13) as the POS calls it, with
//! the protocol crate's wire types. The POS is served by the server it
//! talks to (`/pos/`), so every call goes to the page's own origin.
//!
//! Every failure becomes an [`ApiError`]; [`classify`] is the one place an
//! answer is judged, pure so it is tested natively.

use kessai_wallet::i18n::Lang;
use serde::Deserialize;

use crate::i18n::text;

/// Why a call did not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No HTTP answer: offline, server down.
    Network,
    /// 401: the terminal key is unknown or revoked.
    KeyRefused,
    /// The server refused, in the protocol's error shape.
    Refused { status: u16, code: String, message: String },
    /// An answer that is neither the expected body nor an error body.
    BadResponse(u16),
}

impl ApiError {
    /// A sentence for the clerk. The server's own message is shown for
    /// refusals: it is written for people and never echoes secrets.
    pub fn message(&self, lang: Lang) -> String {
        let text = text(lang);
        match self {
            ApiError::Network => text.network_error.to_string(),
            ApiError::KeyRefused => text.key_refused.to_string(),
            ApiError::Refused { message, .. } => message.clone(),
            ApiError::BadResponse(status) => format!("{} (HTTP {status})", text.bad_response),
        }
    }
}

/// `{"error":{"code","message",…}}`, read leniently: the terminal routes
/// need not send the settlement API's `type`.
#[derive(Deserialize)]
struct Refusal {
    error: RefusalDetail,
}

#[derive(Deserialize)]
struct RefusalDetail {
    code: String,
    message: String,
}

/// What an answer that is not a success means.
pub fn classify(status: u16, body: &str) -> ApiError {
    if status == 401 {
        return ApiError::KeyRefused;
    }
    match serde_json::from_str::<Refusal>(body) {
        Ok(Refusal { error }) => ApiError::Refused {
            status,
            code: error.code,
            message: error.message,
        },
        Err(_) => ApiError::BadResponse(status),
    }
}

#[cfg(target_arch = "wasm32")]
pub use calls::*;

/// The calls themselves (browser only).
#[cfg(target_arch = "wasm32")]
mod calls {
    use gloo::net::http::{Request, RequestBuilder, Response};
    use kessai_protocol::terminal::{
        ChallengeKind, CreateChallenge, CreateTransaction, TerminalInfo, TerminalTransaction, TransactionCreated,
    };
    use kessai_protocol::Secret;
    use serde::de::DeserializeOwned;
    use wasm_bindgen::JsCast;
    use web_sys::RequestCredentials;

    use super::{classify, ApiError};
    use crate::events::EventBuffer;

    /// `GET /v1/terminal`: who this key is.
    pub async fn terminal(key: &Secret<String>) -> Result<TerminalInfo, ApiError> {
        receive(builder(Request::get(&url("/v1/terminal")), key).send().await).await
    }

    /// `POST /v1/terminal/transactions` (201).
    pub async fn create(key: &Secret<String>, body: &CreateTransaction) -> Result<TransactionCreated, ApiError> {
        let request = builder(Request::post(&url("/v1/terminal/transactions")), key)
            .json(body)
            .map_err(|_| ApiError::Network)?;
        receive(request.send().await).await
    }

    /// `GET /v1/terminal/transactions/{id}/events`: the transaction at
    /// once, then at each change, each handed to `on_view` as it arrives.
    /// Ok when the stream ends (the transaction is final, or the server's
    /// hour is up); an error when it could not be read, or was aborted
    /// through `signal`.
    pub async fn follow(
        key: &Secret<String>,
        id: &str,
        signal: &web_sys::AbortSignal,
        on_view: &dyn Fn(TerminalTransaction),
    ) -> Result<(), ApiError> {
        let response = builder(Request::get(&transaction_url(id, "/events")), key)
            .header("Accept", "text/event-stream")
            .abort_signal(Some(signal))
            .send()
            .await
            .map_err(|_| ApiError::Network)?;
        if !response.ok() {
            return Err(refusal(response).await);
        }
        let status = response.status();
        let body = web_sys::Response::from(response)
            .body()
            .ok_or(ApiError::BadResponse(status))?;
        let reader: web_sys::ReadableStreamDefaultReader = body
            .get_reader()
            .dyn_into()
            .map_err(|_| ApiError::BadResponse(status))?;
        let mut events = EventBuffer::default();
        loop {
            let chunk = wasm_bindgen_futures::JsFuture::from(reader.read())
                .await
                .map_err(|_| ApiError::Network)?;
            let done = js_sys::Reflect::get(&chunk, &"done".into()).map_err(|_| ApiError::Network)?;
            if done.as_bool() == Some(true) {
                return Ok(());
            }
            let value = js_sys::Reflect::get(&chunk, &"value".into()).map_err(|_| ApiError::Network)?;
            let bytes = js_sys::Uint8Array::new(&value).to_vec();
            for data in events.push(&bytes) {
                let view = serde_json::from_str(&data).map_err(|_| ApiError::BadResponse(status))?;
                on_view(view);
            }
        }
    }

    /// `POST /v1/terminal/transactions/{id}/challenges` `{"kind":"pin"}`.
    pub async fn ask_pin(key: &Secret<String>, id: &str) -> Result<TerminalTransaction, ApiError> {
        let body = CreateChallenge {
            kind: ChallengeKind::Pin,
        };
        let request = builder(Request::post(&transaction_url(id, "/challenges")), key)
            .json(&body)
            .map_err(|_| ApiError::Network)?;
        receive(request.send().await).await
    }

    /// `POST /v1/terminal/transactions/{id}/cancel`.
    pub async fn cancel(key: &Secret<String>, id: &str) -> Result<TerminalTransaction, ApiError> {
        let request = builder(Request::post(&transaction_url(id, "/cancel")), key);
        receive(request.send().await).await
    }

    /// The payer's portrait (`portrait_url`, a path on this server) as a
    /// blob: it needs the Bearer header, which an `<img src>` cannot send.
    pub async fn portrait(key: &Secret<String>, path: &str) -> Result<web_sys::Blob, ApiError> {
        let response = builder(Request::get(&url(path)), key)
            .header("Accept", "image/*")
            .send()
            .await
            .map_err(|_| ApiError::Network)?;
        if !response.ok() {
            return Err(refusal(response).await);
        }
        let blob = web_sys::Response::from(response)
            .blob()
            .map_err(|_| ApiError::Network)?;
        let blob = wasm_bindgen_futures::JsFuture::from(blob)
            .await
            .map_err(|_| ApiError::Network)?;
        blob.dyn_into().map_err(|_| ApiError::BadResponse(200))
    }

    /// `GET /v1/qr.svg?payload=…`: a public image, so a plain `<img src>`.
    pub fn qr_image_url(payload: &str) -> String {
        let encoded = String::from(js_sys::encode_uri_component(payload));
        url(&format!("/v1/qr.svg?payload={encoded}"))
    }

    fn transaction_url(id: &str, action: &str) -> String {
        let id = String::from(js_sys::encode_uri_component(id));
        url(&format!("/v1/terminal/transactions/{id}{action}"))
    }

    /// A path on the server that serves this page.
    fn url(path: &str) -> String {
        let origin = web_sys::window()
            .and_then(|window| window.location().origin().ok())
            .unwrap_or_default();
        format!("{origin}{path}")
    }

    /// The key is the only credential: no cookies.
    fn builder(request: RequestBuilder, key: &Secret<String>) -> RequestBuilder {
        request
            .credentials(RequestCredentials::Omit)
            .header("Accept", "application/json")
            .header("Authorization", &format!("Bearer {}", key.expose()))
    }

    async fn receive<T: DeserializeOwned>(sent: Result<Response, gloo::net::Error>) -> Result<T, ApiError> {
        let response = sent.map_err(|_| ApiError::Network)?;
        let status = response.status();
        if response.ok() {
            return response.json::<T>().await.map_err(|_| ApiError::BadResponse(status));
        }
        Err(refusal(response).await)
    }

    async fn refusal(response: Response) -> ApiError {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        classify(status, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_401_means_the_key_was_refused() {
        let body = r#"{"error":{"code":"terminal_key_invalid","message":"Unknown terminal key."}}"#;
        assert_eq!(classify(401, body), ApiError::KeyRefused);
    }

    #[test]
    fn refusals_carry_the_servers_message() {
        let body = r#"{"error":{"code":"transaction_final","message":"The transaction is over.","param":null}}"#;
        let error = classify(409, body);
        assert!(matches!(&error, ApiError::Refused { status: 409, code, .. } if code == "transaction_final"));
        assert_eq!(error.message(Lang::En), "The transaction is over.");
    }

    #[test]
    fn other_answers_are_bad_responses() {
        assert_eq!(classify(502, "<html>"), ApiError::BadResponse(502));
        assert!(ApiError::BadResponse(502).message(Lang::Ja).contains("502"));
    }
}
