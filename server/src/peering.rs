//! Calls to peer institutions (PROTOCOL 11): each a signed request to a URL
//! that an operator registered with `kessai peer add`, and no other. Bounded
//! in time; redirects are not followed.

use std::time::Duration;

use anyhow::{ensure, Context};
use kessai_core::institution::Institution;
use kessai_core::peers::Peer;
use kessai_protocol::api::{ConfirmResult, ConfirmSettlement, ErrorBody};
use kessai_protocol::peer::{
    CardAuthorizationAnswer, CardAuthorizationRequest, PeerCard, PeerRequest, PositionsAnswer, PositionsRequest,
    StatusAnswer, StatusRequest, REQUEST_TTL_MAX_S,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Answers from peers are small; one that is not is refused.
const ANSWER_LEN_MAX: usize = 256 * 1024;
/// How long the requests this institution signs live.
const REQUEST_TTL_S: i64 = 30;

// A request this institution signs must be one its peers accept.
const _: () = assert!(REQUEST_TTL_S <= REQUEST_TTL_MAX_S);

/// An HTTP client for peers.
#[derive(Clone)]
pub struct PeerClient {
    http: reqwest::Client,
}

/// The order and settlement an issuer is asked to guarantee.
pub struct CardPayment<'a> {
    pub settlement_id: &'a str,
    pub order_digest: &'a str,
    pub total: u64,
    pub currency: &'a str,
    pub card: PeerCard,
}

impl PeerClient {
    pub fn new() -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Kessai-Peer/1")
            .build()?;
        Ok(Self { http })
    }

    /// Asks the card's issuer to authenticate it and guarantee the payment.
    pub async fn card_authorization(
        &self,
        own: &Institution,
        issuer: &Peer,
        payment: CardPayment<'_>,
        now: i64,
    ) -> anyhow::Result<CardAuthorizationAnswer> {
        let claims = CardAuthorizationRequest {
            iss: own.id.clone(),
            aud: issuer.id.clone(),
            iat: now,
            exp: now + REQUEST_TTL_S,
            jti: request_id(),
            sub: payment.settlement_id.to_string(),
            order_digest: payment.order_digest.to_string(),
            total: payment.total,
            currency: payment.currency.to_string(),
            card: payment.card,
        };
        self.call(own, issuer, "/v1/peer/card-authorizations", &claims).await
    }

    /// Asks the acquirer what became of authorizations this institution issued.
    pub async fn status(
        &self,
        own: &Institution,
        acquirer: &Peer,
        jtis: Vec<String>,
        now: i64,
    ) -> anyhow::Result<StatusAnswer> {
        let claims = StatusRequest {
            iss: own.id.clone(),
            aud: acquirer.id.clone(),
            iat: now,
            exp: now + REQUEST_TTL_S,
            jti: request_id(),
            jtis,
        };
        self.call(own, acquirer, "/v1/peer/authorizations/status", &claims)
            .await
    }

    /// Asks the peer for its view of what each owes the other.
    pub async fn positions(&self, own: &Institution, peer: &Peer, now: i64) -> anyhow::Result<PositionsAnswer> {
        let claims = PositionsRequest {
            iss: own.id.clone(),
            aud: peer.id.clone(),
            iat: now,
            exp: now + REQUEST_TTL_S,
            jti: request_id(),
        };
        self.call(own, peer, "/v1/peer/positions", &claims).await
    }

    /// Sends the buyer's second request to the shop's institution, paying
    /// with a payment authorization this institution signed (PROTOCOL 11
    /// step 2, as a wallet payment of section 12).
    pub async fn confirm(
        &self,
        acquirer: &Peer,
        settlement_id: &str,
        body: &ConfirmSettlement,
    ) -> Answer<ConfirmResult> {
        let url = format!("{}/v1/payer/settlements/{settlement_id}/confirm", acquirer.url);
        self.answer(acquirer, self.http.post(&url).json(body)).await
    }

    /// The buyer's view of a settlement at the shop's institution, with the
    /// client secret of the start message.
    pub async fn payer_status(
        &self,
        acquirer: &Peer,
        settlement_id: &str,
        client_secret: &str,
    ) -> Answer<ConfirmResult> {
        let url = format!("{}/v1/payer/settlements/{settlement_id}", acquirer.url);
        self.answer(acquirer, self.http.get(&url).query(&[("client_secret", client_secret)]))
            .await
    }

    /// Sends a request and sorts its answer into the three cases a payment
    /// must tell apart.
    async fn answer<A: DeserializeOwned>(&self, peer: &Peer, request: reqwest::RequestBuilder) -> Answer<A> {
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Answer::Unknown(anyhow::Error::new(e).context(format!("calling peer {}", peer.id))),
        };
        let status = response.status();
        let body = match response.bytes().await {
            Ok(b) if b.len() <= ANSWER_LEN_MAX => b,
            Ok(_) => return Answer::Unknown(anyhow::anyhow!("peer {}'s answer is too large", peer.id)),
            Err(e) => return Answer::Unknown(anyhow::Error::new(e).context(format!("reading peer {}", peer.id))),
        };
        if status.is_success() {
            return match serde_json::from_slice(&body) {
                Ok(a) => Answer::Ok(a),
                Err(e) => Answer::Unknown(anyhow::Error::new(e).context(format!("peer {}'s answer", peer.id))),
            };
        }
        match (status.is_client_error(), serde_json::from_slice::<ErrorBody>(&body)) {
            (true, Ok(error)) => Answer::Refused(status.as_u16(), error),
            _ => Answer::Unknown(anyhow::anyhow!(
                "peer {} answered {status}: {}",
                peer.id,
                String::from_utf8_lossy(&body[..body.len().min(500)])
            )),
        }
    }

    async fn call<C: Serialize, A: DeserializeOwned>(
        &self,
        own: &Institution,
        peer: &Peer,
        path: &str,
        claims: &C,
    ) -> anyhow::Result<A> {
        let request = own.key.sign(claims).context("signing a peer request")?;
        let url = format!("{}{path}", peer.url);
        let response = self
            .http
            .post(&url)
            .json(&PeerRequest { request })
            .send()
            .await
            .with_context(|| format!("calling peer {} at {url}", peer.id))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .with_context(|| format!("reading peer {}'s answer", peer.id))?;
        ensure!(body.len() <= ANSWER_LEN_MAX, "peer {}'s answer is too large", peer.id);
        ensure!(
            status.is_success(),
            "peer {} answered {status}: {}",
            peer.id,
            String::from_utf8_lossy(&body[..body.len().min(500)])
        );
        serde_json::from_slice(&body)
            .with_context(|| format!("peer {}'s answer to {path} is not the expected JSON", peer.id))
    }
}

/// What a peer said to a request that may move money.
#[derive(Debug)]
pub enum Answer<A> {
    /// A success answer.
    Ok(A),
    /// A definite refusal (4xx in the error shape): nothing was done there.
    Refused(u16, ErrorBody),
    /// No answer, a server error or an answer that cannot be read: whether
    /// anything was done there is not known.
    Unknown(anyhow::Error),
}

/// A fresh id for one request: requests are told apart by it, not by time.
fn request_id() -> String {
    kessai_core::ids::new_ordered("preq_")
}
