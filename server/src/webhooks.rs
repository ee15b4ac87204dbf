//! Results pushed to the shop (A7, PROTOCOL section 8.2): every status
//! change is an event, kept as history; when a notify_url is known the event
//! also gets a delivery row, the durable outbox. A worker posts due
//! deliveries with Standard Webhooks signatures and retries with backoff
//! until a 2xx, for more than three days.

use std::sync::Arc;
use std::time::Duration;

use crate::args;
use crate::store::{Conn, Reader};
use futures_util::stream::{self, StreamExt};
use kessai_protocol::api::WebhookEvent;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::merchants::Merchant;
use crate::settlements::{self, Record};
use crate::state::AppState;

/// Seconds to wait before each attempt after the first, as published in the
/// API reference: 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h. The total
/// span is 77 h 35 min, beyond the three days PROTOCOL requires.
pub const RETRY_SCHEDULE_S: &[u64] = &[
    5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000, 36000, 36000, 36000,
];

/// Deliveries in flight at once, and per sweep of the outbox.
const CONCURRENCY_MAX: usize = 16;
const SWEEP_LEN_MAX: i64 = 64;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Records the event for the settlement's current status (and queues its
/// delivery). Runs inside the caller's writer step.
pub async fn record(conn: &mut Conn, rec: &Record, merchant: &Merchant, event_id: &str, now: i64) -> ApiResult<()> {
    let event = WebhookEvent {
        kind: format!("settlement.{}", rec.status),
        timestamp: now,
        data: serde_json::to_value(settlements::view(rec, merchant, None)).map_err(|e| ApiError::Internal(e.into()))?,
    };
    let payload = serde_json::to_string(&event).map_err(|e| ApiError::Internal(e.into()))?;
    conn.execute("INSERT INTO events (id, merchant_id, settlement_id, type, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6)", args![event_id, &merchant.id, &rec.id, &event.kind, &payload, now])
    .await?;
    if let Some(url) = &rec.notify_url {
        queue(conn, event_id, url, now).await?;
    }
    Ok(())
}

async fn queue(conn: &mut Conn, event_id: &str, url: &str, now: i64) -> sqlx::Result<()> {
    conn.execute(
        "INSERT INTO deliveries (event_id, url, status, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, 'pending', 0, $3, $3)
         ON CONFLICT (event_id) DO UPDATE SET status = 'pending', next_attempt_at = $3, url = $2",
        args![event_id, url, now],
    )
    .await?;
    Ok(())
}

/// An event as `GET /v1/events/{id}` shows it, with its delivery state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub id: String,
    pub object: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub settlement_id: String,
    pub created_at: i64,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub delivery: Option<DeliveryView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub url: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
}

const EVENT_COLUMNS: &str = "e.id, e.type, e.settlement_id, e.payload, e.created_at, d.url, d.status, d.attempts, \
    d.next_attempt_at, d.last_status, d.last_error, d.delivered_at";

fn event_view(r: &crate::store::Row) -> ApiResult<EventView> {
    let payload: String = r.try_get("payload")?;
    let url: Option<String> = r.try_get("url")?;
    let delivery = match url {
        Some(url) => {
            let status: String = r.try_get("status")?;
            Some(DeliveryView {
                next_attempt_at: if status == "pending" {
                    r.try_get("next_attempt_at")?
                } else {
                    None
                },
                url,
                status,
                attempts: r.try_get("attempts")?,
                last_status: r.try_get("last_status")?,
                last_error: r.try_get("last_error")?,
                delivered_at: r.try_get("delivered_at")?,
            })
        }
        None => None,
    };
    Ok(EventView {
        id: r.try_get("id")?,
        object: "event".into(),
        kind: r.try_get("type")?,
        settlement_id: r.try_get("settlement_id")?,
        created_at: r.try_get("created_at")?,
        payload: serde_json::from_str(&payload).map_err(|e| ApiError::Internal(e.into()))?,
        delivery,
    })
}

pub async fn get_event(pool: &Reader, merchant_id: &str, event_id: &str) -> ApiResult<Option<EventView>> {
    let row = crate::store::pool_optional(pool, &format!(
        "SELECT {EVENT_COLUMNS} FROM events e LEFT JOIN deliveries d ON d.event_id = e.id WHERE e.id = $1 AND e.merchant_id = $2"
    ), args![event_id, merchant_id])
    .await?;
    row.as_ref().map(event_view).transpose()
}

pub async fn list_events(
    pool: &Reader,
    merchant_id: &str,
    settlement_id: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<EventView>> {
    let rows = crate::store::pool_all(
        pool,
        &format!(
            "SELECT {EVENT_COLUMNS} FROM events e LEFT JOIN deliveries d ON d.event_id = e.id
         WHERE e.merchant_id = $1 AND (CAST($2 AS TEXT) IS NULL OR e.settlement_id = $2)
         ORDER BY e.created_at DESC, e.id DESC LIMIT $3"
        ),
        args![merchant_id, settlement_id, limit],
    )
    .await?;
    rows.iter().map(event_view).collect()
}

/// Queues an event for delivery again now (`POST /v1/events/{id}/redeliver`).
pub async fn redeliver(state: &AppState, merchant: Arc<Merchant>, event_id: String) -> ApiResult<EventView> {
    let pool = state.pool.clone();
    let now = crate::clock::now();
    let merchant_id = merchant.id.clone();
    let id = event_id.clone();
    state
        .writer
        .run(move |conn| {
            Box::pin(async move {
                let row = conn
                    .fetch_optional(
                        "SELECT e.id, s.notify_url FROM events e JOIN settlements s ON s.id = e.settlement_id
                     WHERE e.id = $1 AND e.merchant_id = $2",
                        args![&id, &merchant.id],
                    )
                    .await?
                    .ok_or_else(|| ApiError::not_found("event_not_found", "No such event."))?;
                let url: Option<String> = row.try_get("notify_url")?;
                let url = url.or_else(|| merchant.notify_url.clone()).ok_or_else(|| {
                    ApiError::conflict(
                        "notify_url_missing",
                        "Neither the settlement nor the merchant has a notify_url to deliver to.",
                    )
                })?;
                queue(conn, &id, &url, now).await?;
                Ok(())
            })
        })
        .await?;
    state.webhook_wake.notify_one();
    get_event(&pool, &merchant_id, &event_id)
        .await?
        .ok_or_else(|| ApiError::not_found("event_not_found", "No such event."))
}

/// The delivery worker: runs until the process ends.
pub async fn run_worker(state: AppState) {
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
        match sweep(&state, &client).await {
            // A full sweep means more may be due right away.
            Ok(n) if n as i64 >= SWEEP_LEN_MAX => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "webhook sweep failed"),
        }
        let _ = tokio::time::timeout(state.config.webhook_poll, state.webhook_wake.notified()).await;
    }
}

struct Due {
    event_id: String,
    merchant_id: String,
    url: String,
    attempts: i64,
    payload: String,
    created_at: i64,
}

async fn sweep(state: &AppState, client: &reqwest::Client) -> anyhow::Result<usize> {
    let now = crate::clock::now();
    let rows = crate::store::pool_all(
        &state.pool,
        "SELECT d.event_id, d.url, d.attempts, e.merchant_id, e.payload, e.created_at
         FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= $1
         ORDER BY d.next_attempt_at LIMIT $2",
        args![now, SWEEP_LEN_MAX],
    )
    .await?;
    let due: Vec<Due> = rows
        .iter()
        .map(|r| {
            Ok(Due {
                event_id: r.try_get("event_id")?,
                merchant_id: r.try_get("merchant_id")?,
                url: r.try_get("url")?,
                attempts: r.try_get("attempts")?,
                payload: r.try_get("payload")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let n = due.len();
    stream::iter(due)
        .for_each_concurrent(CONCURRENCY_MAX, |d| async move {
            if let Err(e) = deliver(state, client, d).await {
                tracing::warn!(error = ?e, "recording a webhook attempt failed");
            }
        })
        .await;
    Ok(n)
}

async fn deliver(state: &AppState, client: &reqwest::Client, due: Due) -> anyhow::Result<()> {
    let merchant = state
        .merchants
        .by_id(&state.pool, &state.keyring, &due.merchant_id)
        .await
        .map_err(|e| anyhow::anyhow!("loading merchant: {e}"))?
        .ok_or_else(|| anyhow::anyhow!("event of unknown merchant {}", due.merchant_id))?;
    // The timestamp is that of this attempt: receivers reject old ones.
    let timestamp = crate::clock::now();
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
    let (ok, last_status, last_error) = match outcome {
        Ok(resp) if resp.status().is_success() => (true, Some(i64::from(resp.status().as_u16())), None),
        Ok(resp) => (
            false,
            Some(i64::from(resp.status().as_u16())),
            Some(format!("HTTP {}", resp.status())),
        ),
        Err(e) => (false, None, Some(describe(&e))),
    };
    let attempts = due.attempts + 1;
    let now = crate::clock::now();
    let (status, next) = if ok {
        ("delivered", now)
    } else {
        match usize::try_from(due.attempts).ok().and_then(|i| RETRY_SCHEDULE_S.get(i)) {
            Some(wait_s) => ("pending", now + state.config.scale_retry(*wait_s)),
            None => ("failed", now),
        }
    };
    tracing::info!(event = %due.event_id, attempts, status, age_s = now - due.created_at, "webhook attempt");
    let event_id = due.event_id;
    state
        .writer
        .run(move |conn| {
            Box::pin(async move {
                conn.execute(
                    "UPDATE deliveries SET status = $2, attempts = $3, next_attempt_at = $4, last_status = $5,
                        last_error = $6, delivered_at = $7 WHERE event_id = $1",
                    args![
                        &event_id,
                        status,
                        attempts,
                        next,
                        last_status,
                        last_error,
                        ok.then_some(now)
                    ],
                )
                .await?;
                Ok(())
            })
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
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
