//! Results pushed to the shop (A7, PROTOCOL section 8.2): every status
//! change is an event, kept as history; when a notify_url is known the event
//! also gets a delivery row, the durable outbox. The delivery worker (in the
//! server crate: it speaks HTTP) takes due deliveries from here, posts them
//! with Standard Webhooks signatures, and records each attempt back here,
//! retrying with backoff until a 2xx, for more than three days.

use std::sync::Arc;

use crate::args;
use crate::store::{Conn, Reader};
use kessai_protocol::api::{DeliveryView, EventView, WebhookEvent};

use crate::error::{Error, Result};
use crate::merchants::Merchant;
use crate::node::Node;
use crate::settlements::{self, Record};

/// Seconds to wait before each attempt after the first, as published in the
/// API reference: 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h. The total
/// span is 77 h 35 min, beyond the three days PROTOCOL requires.
pub const RETRY_SCHEDULE_S: &[u64] = &[
    5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000, 36000, 36000, 36000,
];

/// Records the event for the settlement's current status (and queues its
/// delivery). Runs inside the caller's writer step.
pub async fn record(conn: &mut Conn, rec: &Record, merchant: &Merchant, event_id: &str, now: i64) -> Result<()> {
    let event = WebhookEvent {
        kind: format!("settlement.{}", rec.status),
        timestamp: now,
        data: serde_json::to_value(settlements::view(rec, merchant, None)).map_err(|e| Error::Internal(e.into()))?,
    };
    let payload = serde_json::to_string(&event).map_err(|e| Error::Internal(e.into()))?;
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

const EVENT_COLUMNS: &str = "e.id, e.type, e.settlement_id, e.payload, e.created_at, d.url, d.status, d.attempts, \
    d.next_attempt_at, d.last_status, d.last_error, d.delivered_at";

fn event_view(r: &crate::store::Row) -> Result<EventView> {
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
        payload: serde_json::from_str(&payload).map_err(|e| Error::Internal(e.into()))?,
        delivery,
    })
}

pub async fn get_event(pool: &Reader, merchant_id: &str, event_id: &str) -> Result<Option<EventView>> {
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
) -> Result<Vec<EventView>> {
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
pub async fn redeliver(node: &Node, merchant: Arc<Merchant>, event_id: String) -> Result<EventView> {
    let pool = node.reader.clone();
    let now = crate::clock::now();
    let merchant_id = merchant.id.clone();
    let id = event_id.clone();
    node.writer
        .run(move |conn| {
            Box::pin(async move {
                let row = conn
                    .fetch_optional(
                        "SELECT e.id, s.notify_url FROM events e JOIN settlements s ON s.id = e.settlement_id
                     WHERE e.id = $1 AND e.merchant_id = $2",
                        args![&id, &merchant.id],
                    )
                    .await?
                    .ok_or_else(|| Error::not_found("event_not_found", "No such event."))?;
                let url: Option<String> = row.try_get("notify_url")?;
                let url = url.or_else(|| merchant.notify_url.clone()).ok_or_else(|| {
                    Error::conflict(
                        "notify_url_missing",
                        "Neither the settlement nor the merchant has a notify_url to deliver to.",
                    )
                })?;
                queue(conn, &id, &url, now).await?;
                Ok(())
            })
        })
        .await?;
    node.wake_webhooks();
    get_event(&pool, &merchant_id, &event_id)
        .await?
        .ok_or_else(|| Error::not_found("event_not_found", "No such event."))
}

/// A delivery whose time has come.
#[derive(Debug, Clone)]
pub struct Due {
    pub event_id: String,
    pub merchant_id: String,
    pub url: String,
    /// Attempts made before this one.
    pub attempts: i64,
    pub payload: String,
    pub created_at: i64,
}

/// Up to `limit` deliveries due at `now`, the longest-waiting first.
pub async fn due(pool: &Reader, now: i64, limit: i64) -> Result<Vec<Due>> {
    let rows = crate::store::pool_all(
        pool,
        "SELECT d.event_id, d.url, d.attempts, e.merchant_id, e.payload, e.created_at
         FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= $1
         ORDER BY d.next_attempt_at LIMIT $2",
        args![now, limit],
    )
    .await?;
    let due = rows
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
    Ok(due)
}

/// How one delivery attempt went.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The receiver answered 2xx.
    pub delivered: bool,
    /// The HTTP status it answered, if it answered.
    pub http_status: Option<u16>,
    /// What went wrong, in words safe to show the merchant.
    pub error: Option<String>,
}

/// What the outbox does after an attempt: delivered, retry at a time, or
/// give up. `retry_divisor` shortens the published waits (tests use it to
/// exercise retries in seconds; 1 in production).
pub fn next_state(attempts_before: i64, delivered: bool, now: i64, retry_divisor: u64) -> (&'static str, i64) {
    if delivered {
        return ("delivered", now);
    }
    match usize::try_from(attempts_before)
        .ok()
        .and_then(|i| RETRY_SCHEDULE_S.get(i))
    {
        Some(wait_s) => {
            let scaled = (wait_s / retry_divisor.max(1)).max(1);
            ("pending", now.saturating_add(i64::try_from(scaled).unwrap_or(i64::MAX)))
        }
        None => ("failed", now),
    }
}

/// Records an attempt on `due`, scheduling the next one if it failed.
pub async fn record_attempt(node: &Node, due: &Due, attempt: Attempt, retry_divisor: u64) -> Result<()> {
    let attempts = due.attempts + 1;
    let now = crate::clock::now();
    let (status, next) = next_state(due.attempts, attempt.delivered, now, retry_divisor);
    tracing::info!(event = %due.event_id, attempts, status, age_s = now - due.created_at, "webhook attempt");
    let event_id = due.event_id.clone();
    let last_status = attempt.http_status.map(i64::from);
    let (delivered, last_error) = (attempt.delivered, attempt.error);
    node.writer
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
                        delivered.then_some(now)
                    ],
                )
                .await?;
                Ok(())
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_published_schedule_then_give_up() {
        assert_eq!(next_state(0, false, 100, 1), ("pending", 105));
        assert_eq!(next_state(1, false, 100, 1), ("pending", 400));
        assert_eq!(next_state(0, true, 100, 1), ("delivered", 100));
        let last = i64::try_from(RETRY_SCHEDULE_S.len()).unwrap_or(0);
        assert_eq!(next_state(last, false, 100, 1), ("failed", 100));
        // Shortened for tests, never to zero.
        assert_eq!(next_state(0, false, 100, 1000), ("pending", 101));
    }
}
