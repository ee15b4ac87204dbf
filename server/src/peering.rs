//! Calls to peer institutions (PROTOCOL 11): each a signed request to a URL
//! that an operator registered with `kessai peer add`, and no other. Bounded
//! in time; redirects are not followed.

use std::time::Duration;

use anyhow::{ensure, Context};
use kessai_core::institution::Institution;
use kessai_core::peers::Peer;
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

/// A fresh id for one request: requests are told apart by it, not by time.
fn request_id() -> String {
    kessai_core::ids::new_ordered("preq_")
}
