//! Housekeeping on a timer: expires settlements whose time has passed
//! (releasing payer-first holds) and forgets spent authenticator ids,
//! idempotency keys and payer-first attempts that ended without the shop,
//! once they can no longer matter.

use crate::args;

use std::time::Duration;

use crate::db::Backend;
use crate::node::Node;

const SWEEP_LEN_MAX: i64 = 256;
/// Idempotency keys are kept at least 24 h (PROTOCOL section 2); we keep 48 h.
const IDEMPOTENCY_KEEP_S: i64 = 48 * 3600;
/// How long a payer-first attempt that ended without the shop is kept: a
/// day, for the buyer's page to read its outcome and the operator to look
/// into a complaint. Card testers' guesses would otherwise pile up for good.
pub const ENDED_ATTEMPTS_KEEP_S: i64 = 24 * 3600;
/// Ended attempts deleted per writer step, and steps per cleanup round:
/// short steps, so payments are not kept waiting behind a large delete.
const ATTEMPTS_BATCH_LEN_MAX: i64 = 500;
const ATTEMPTS_BATCHES_MAX: usize = 20;

/// Runs the sweeps every `interval` until the process ends; ended
/// payer-first attempts are kept `ended_attempts_keep_s`.
pub async fn run(node: Node, interval: Duration, ended_attempts_keep_s: i64) {
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
            if let Err(e) = forget_spent_passes(state, crate::clock::now()).await {
                tracing::warn!(error = format!("{e:#}"), "tickets and admissions cleanup sweep failed");
            }
            let ended_before = crate::clock::now().saturating_sub(ended_attempts_keep_s);
            if let Err(e) = forget_ended_attempts(state, ended_before).await {
                tracing::warn!(error = format!("{e:#}"), "payer-first cleanup sweep failed");
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

/// How long a used ticket is remembered after its validity ended: a day
/// of margin for clocks that disagree (validity is judged first, so past
/// this nobody can present it again).
pub const USED_TICKET_KEEP_S: i64 = 24 * 3600;
/// How long an admission is kept after its exit was paid: for the
/// merchant's questions about a visit. An exited admission presented
/// again after that is refused as unknown (`invalid_admission`), since an
/// exit needs the admission's row.
pub const EXITED_ADMISSION_KEEP_S: i64 = 30 * 24 * 3600;

/// Forgets used tickets past their validity and admissions whose exit was
/// paid long ago (see the constants); returns how many rows went.
pub async fn forget_spent_passes(state: &Node, now: i64) -> anyhow::Result<u64> {
    state
        .writer
        .run(move |conn| {
            Box::pin(async move {
                let tickets = conn
                    .execute(
                        "DELETE FROM used_tickets WHERE valid_until < $1",
                        args![now - USED_TICKET_KEEP_S],
                    )
                    .await?;
                let admissions = conn
                    .execute(
                        "DELETE FROM admissions WHERE exit_txn_id IN (SELECT id FROM terminal_transactions
                         WHERE status = 'succeeded' AND updated_at < $1)",
                        args![now - EXITED_ADMISSION_KEEP_S],
                    )
                    .await?;
                Ok(tickets + admissions)
            })
        })
        .await
        .map_err(|e| anyhow::Error::new(e).context("forgetting spent tickets and admissions"))
}

/// Deletes payer-first attempts that ended without the shop before
/// `ended_before`, in short steps; returns how many.
pub async fn forget_ended_attempts(state: &Node, ended_before: i64) -> anyhow::Result<u64> {
    let mut deleted = 0;
    for _ in 0..ATTEMPTS_BATCHES_MAX {
        let n = state
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    crate::settlements::payer_first::delete_ended(conn, ended_before, ATTEMPTS_BATCH_LEN_MAX).await
                })
            })
            .await
            .map_err(|e| anyhow::Error::new(e).context("deleting ended payer-first attempts"))?;
        deleted += n;
        if n < ATTEMPTS_BATCH_LEN_MAX as u64 {
            break;
        }
    }
    Ok(deleted)
}
