//! Housekeeping on a timer: expires settlements whose time has passed
//! (releasing payer-first holds) and forgets spent authenticator ids and
//! idempotency keys once they can no longer matter.

use crate::args;

use std::time::Duration;

use crate::db::Backend;
use crate::node::Node;

const SWEEP_LEN_MAX: i64 = 256;
/// Idempotency keys are kept at least 24 h (PROTOCOL section 2); we keep 48 h.
const IDEMPOTENCY_KEEP_S: i64 = 48 * 3600;

/// Runs the sweeps every `interval` until the process ends.
pub async fn run(node: Node, interval: Duration) {
    let state = &node;
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut rounds: u64 = 0;
    loop {
        tick.tick().await;
        if let Err(e) = expire_due(state).await {
            tracing::warn!(error = format!("{e:#}"), "expiry sweep failed");
        }
        if let Err(e) = capture_due(state).await {
            tracing::warn!(error = format!("{e:#}"), "cooling-off capture sweep failed");
        }
        if state.backend == Backend::Sqlite {
            if let Err(e) = crate::db::checkpoint(&state.reader).await {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
        }
        rounds += 1;
        if rounds % 60 == 0 {
            if let Err(e) = forget_old(state).await {
                tracing::warn!(error = format!("{e:#}"), "cleanup sweep failed");
            }
        }
    }
}

/// The two kinds of settlement whose time comes on the clock.
#[derive(Debug, Clone, Copy)]
pub enum Due {
    /// Still waiting for a request past `expires_at`: expires, releasing any hold.
    Expiry,
    /// `held` past its cooling-off period (C7): the funds move to the merchant.
    CoolingOff,
}

impl Due {
    fn query(self) -> &'static str {
        match self {
            Self::Expiry => {
                "SELECT id, merchant_id FROM settlements
                 WHERE status IN ('awaiting_payer', 'awaiting_merchant') AND expires_at <= $1 LIMIT $2"
            }
            Self::CoolingOff => {
                "SELECT id, merchant_id FROM settlements WHERE status = 'held' AND capture_at <= $1 LIMIT $2"
            }
        }
    }
}

pub async fn expire_due(state: &Node) -> anyhow::Result<usize> {
    sweep(state, Due::Expiry).await
}

pub async fn capture_due(state: &Node) -> anyhow::Result<usize> {
    sweep(state, Due::CoolingOff).await
}

/// Applies `due` to every settlement it selects, each in its own writer
/// step; the step re-checks the condition, so a settlement that moved in
/// between is left alone.
async fn sweep(state: &Node, due: Due) -> anyhow::Result<usize> {
    let now = crate::clock::now();
    let rows = crate::store::pool_all(&state.reader, due.query(), args![now, SWEEP_LEN_MAX]).await?;
    let mut done = 0;
    for row in rows {
        let id: String = row.try_get("id")?;
        let merchant_id: String = row.try_get("merchant_id")?;
        let merchant = state
            .merchants
            .by_id(&state.reader, &state.keyring, &merchant_id)
            .await
            .map_err(|e| anyhow::Error::new(e).context(format!("loading merchant {merchant_id}")))?
            .ok_or_else(|| anyhow::anyhow!("settlement {id} of unknown merchant {merchant_id}"))?;
        let changed = state
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    match due {
                        Due::Expiry => crate::settlements::expire_if_due(conn, &merchant, &id, now).await,
                        Due::CoolingOff => crate::settlements::capture_if_due(conn, &merchant, &id, now).await,
                    }
                })
            })
            .await
            .map_err(|e| anyhow::Error::new(e).context(format!("{due:?} of a settlement")))?;
        if let Some(rec) = changed {
            done += 1;
            if rec.notify_url.is_some() {
                state.wake_webhooks();
            }
            state.announce([rec.id.as_str()]);
        }
    }
    Ok(done)
}

async fn forget_old(state: &Node) -> anyhow::Result<()> {
    let now = crate::clock::now();
    state
        .writer
        .run(move |conn| {
            Box::pin(async move {
                conn.execute("DELETE FROM used_jtis WHERE expires_at < $1", args![now - 3600])
                    .await?;
                conn.execute(
                    "DELETE FROM idempotency_keys WHERE created_at < $1",
                    args![now - IDEMPOTENCY_KEEP_S],
                )
                .await?;
                Ok(())
            })
        })
        .await
        .map_err(|e| anyhow::Error::new(e).context("forgetting old authenticator ids and idempotency keys"))
}
