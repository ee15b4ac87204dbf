//! The webhook delivery worker (A7, PROTOCOL section 8.2): takes due
//! deliveries from the core's outbox, posts each with a Standard Webhooks
//! signature, and records the attempt back in the outbox, which schedules
//! the retry. Runs until the process ends.

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use kessai_core::outbox::{self, Attempt, Due};
use kessai_core::Node;

use crate::config::Config;

/// Deliveries in flight at once, and per sweep of the outbox.
const CONCURRENCY_MAX: usize = 16;
const SWEEP_LEN_MAX: i64 = 64;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(node: Node, config: Arc<Config>) {
    let client = match reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .user_agent("Kessai-Webhooks/1")
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook client could not be built; webhooks are disabled");
            return;
        }
    };
    loop {
        match sweep(&node, &client, config.webhook_retry_divisor).await {
            // A full sweep means more may be due right away.
            Ok(n) if n as i64 >= SWEEP_LEN_MAX => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = format!("{e:#}"), "webhook sweep failed"),
        }
        let _ = tokio::time::timeout(config.webhook_poll, node.webhook_wake.notified()).await;
    }
}

async fn sweep(node: &Node, client: &reqwest::Client, retry_divisor: u64) -> anyhow::Result<usize> {
    let due = outbox::due(&node.reader, kessai_core::clock::now(), SWEEP_LEN_MAX).await?;
    let n = due.len();
    stream::iter(due)
        .for_each_concurrent(CONCURRENCY_MAX, |d| async move {
            if let Err(e) = deliver(node, client, d, retry_divisor).await {
                tracing::warn!(error = format!("{e:#}"), "recording a webhook attempt failed");
            }
        })
        .await;
    Ok(n)
}

async fn deliver(node: &Node, client: &reqwest::Client, due: Due, retry_divisor: u64) -> anyhow::Result<()> {
    let merchant = node
        .merchants
        .by_id(&node.reader, &node.keyring, &due.merchant_id)
        .await
        .map_err(|e| anyhow::Error::new(e).context(format!("loading merchant {}", due.merchant_id)))?
        .ok_or_else(|| anyhow::anyhow!("event of unknown merchant {}", due.merchant_id))?;
    // The timestamp is that of this attempt: receivers reject old ones.
    let timestamp = kessai_core::clock::now();
    let signature = kessai_protocol::webhooks::sign(&merchant.webhook_secret, &due.event_id, timestamp, &due.payload);
    let outcome = client
        .post(&due.url)
        .header("content-type", "application/json")
        .header("webhook-id", &due.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(due.payload.clone())
        .send()
        .await;
    let attempt = match outcome {
        Ok(resp) => Attempt {
            delivered: resp.status().is_success(),
            http_status: Some(resp.status().as_u16()),
            error: (!resp.status().is_success()).then(|| format!("HTTP {}", resp.status())),
        },
        Err(e) => Attempt {
            delivered: false,
            http_status: None,
            error: Some(describe(&e)),
        },
    };
    outbox::record_attempt(node, &due, attempt, retry_divisor)
        .await
        .map_err(|e| anyhow::Error::new(e).context(format!("recording the attempt on event {}", due.event_id)))
}

/// A transport error, without the URL's query string (it may hold a token).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "request failed".into()
    }
}
