//! The webhook delivery worker (A7, PROTOCOL section 8.2): takes due
//! deliveries from the core's outbox, posts each with a Standard Webhooks
//! signature, and records the attempt back in the outbox, which schedules
//! the retry. Runs until the process ends.
//!
//! Against SSRF (issue 7) every attempt checks the URL against the
//! operator's policy again, and the client resolves host names through
//! [`CheckedResolver`], which refuses non-public addresses: the addresses
//! it checked are the ones the client connects to, so a name that resolves
//! to a public address for a check and a private one for the connection
//! (DNS rebinding) has no second resolution to exploit. Redirects are not
//! followed and no proxy is used, so neither can lead elsewhere.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use kessai_core::outbox::{self, Attempt, Due};
use kessai_core::webhook_targets::{self, WebhookPolicy};
use kessai_core::Node;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::Config;

/// Deliveries in flight at once, and per sweep of the outbox.
const CONCURRENCY_MAX: usize = 16;
const SWEEP_LEN_MAX: i64 = 64;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(node: Node, config: Arc<Config>) {
    let client = match client(config.webhook_policy) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook client could not be built; webhooks are disabled");
            return;
        }
    };
    loop {
        match sweep(&node, &client, &config).await {
            // A full sweep means more may be due right away.
            Ok(n) if n as i64 >= SWEEP_LEN_MAX => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = format!("{e:#}"), "webhook sweep failed"),
        }
        let _ = tokio::time::timeout(config.webhook_poll, node.webhook_wake.notified()).await;
    }
}

/// The delivery client: resolves through [`CheckedResolver`], follows no
/// redirect, ignores proxy settings from the environment.
pub fn client(policy: WebhookPolicy) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .user_agent("Kessai-Webhooks/1")
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(CheckedResolver { policy }))
        .build()
}

/// Resolves a webhook host and refuses the answer when any address in it
/// is one the policy forbids: a name that mixes public and private
/// addresses is a trick, not a shop.
struct CheckedResolver {
    policy: WebhookPolicy,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(anyhow::anyhow!("{} has no address", name.as_str()).into());
            }
            if let Some(refused) = addrs.iter().find(|a| !webhook_targets::address_allowed(a.ip(), policy)) {
                return Err(AddressRefused(refused.ip()).into());
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// A webhook host resolved to an address the policy forbids.
#[derive(Debug, thiserror::Error)]
#[error("refused to connect to the non-public address {0} (see --allow-private-webhooks)")]
struct AddressRefused(std::net::IpAddr);

async fn sweep(node: &Node, client: &reqwest::Client, config: &Config) -> anyhow::Result<usize> {
    let due = outbox::due(&node.reader, kessai_core::clock::now(), SWEEP_LEN_MAX).await?;
    let n = due.len();
    stream::iter(due)
        .for_each_concurrent(CONCURRENCY_MAX, |d| async move {
            if let Err(e) = deliver(node, client, d, config).await {
                tracing::warn!(error = format!("{e:#}"), "recording a webhook attempt failed");
            }
        })
        .await;
    Ok(n)
}

async fn deliver(node: &Node, client: &reqwest::Client, due: Due, config: &Config) -> anyhow::Result<()> {
    let merchant = node
        .merchants
        .by_id(&node.reader, &node.keyring, &due.merchant_id)
        .await
        .map_err(|e| anyhow::Error::new(e).context(format!("loading merchant {}", due.merchant_id)))?
        .ok_or_else(|| anyhow::anyhow!("event of unknown merchant {}", due.merchant_id))?;
    // The timestamp is that of this attempt: receivers reject old ones.
    let timestamp = kessai_core::clock::now();
    let signature = kessai_protocol::webhooks::sign(&merchant.webhook_secret, &due.event_id, timestamp, &due.payload);
    let attempt = match webhook_targets::check_notify_url(&due.url, "notify_url", config.webhook_policy) {
        // Stored before the policy was tightened, or by an older version.
        Err(e) => {
            tracing::warn!(event = %due.event_id, reason = %e, "webhook not sent: the notify URL is not allowed");
            failed(None)
        }
        Ok(url) => {
            let outcome = client
                .post(url)
                .header("content-type", "application/json")
                .header("webhook-id", &due.event_id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature)
                .body(due.payload.clone())
                .send()
                .await;
            outcome_of(&due.event_id, outcome)
        }
    };
    outbox::record_attempt(node, &due, attempt, config.webhook_retry_divisor)
        .await
        .map_err(|e| anyhow::Error::new(e).context(format!("recording the attempt on event {}", due.event_id)))
}

fn outcome_of(event_id: &str, outcome: reqwest::Result<reqwest::Response>) -> Attempt {
    match outcome {
        Ok(resp) if resp.status().is_success() => Attempt {
            delivered: true,
            http_status: Some(resp.status().as_u16()),
            error: None,
        },
        Ok(resp) => failed(Some(resp.status().as_u16())),
        Err(e) => {
            // The cause goes to the operator's log only: told to the
            // merchant, "connection refused" against "timed out" would map
            // which ports are open on the server's network.
            tracing::warn!(event = %event_id, error = %describe(&e), "webhook delivery failed");
            failed(None)
        }
    }
}

/// A failed attempt as the merchant sees it (`last_error`): nothing about
/// the network beyond the HTTP status the receiver answered.
fn failed(http_status: Option<u16>) -> Attempt {
    Attempt {
        delivered: false,
        http_status,
        error: Some(match http_status {
            Some(status) => format!("delivery failed: HTTP {status}"),
            None => "delivery failed".into(),
        }),
    }
}

/// A transport error with its causes, without the URL (its query string
/// may hold a token).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<AddressRefused>() {
            text = format!("{text}: {refused}");
        }
        source = cause.source();
    }
    text
}
