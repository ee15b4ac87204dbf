//! The settlement writer: one task that owns the write connection and runs
//! every money-moving step, grouping the steps that arrive together into one
//! transaction (group commit, as TigerBeetle batches transfers).
//!
//! A step's answer is released only after its batch has committed, so an
//! acknowledged settlement is durable (`synchronous=FULL`). Each step runs
//! inside its own savepoint: a step that fails rolls back alone and the rest
//! of the batch still commits. With one commit per batch instead of per step,
//! the disk's fsync rate stops being the ceiling on settlements per second.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::store::Conn;
use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};

/// At most this many steps share one transaction: bounds the latency a step
/// can add to the others in its batch.
pub const BATCH_LEN_MAX: usize = 256;
/// Steps waiting beyond this are refused back-pressure style (the sender waits).
const QUEUE_LEN_MAX: usize = 4096;
/// How often a step that hit a deadlock or serialization failure runs at
/// most, in all: bounds the retries of a step that keeps losing.
const TRANSIENT_ATTEMPTS_MAX: u32 = 8;

/// Tells a step's requester how its batch ended: committed, or why not.
type Finish = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;
type Job = Box<dyn for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, (bool, Finish)> + Send>;

#[derive(Clone)]
pub struct Writer {
    sender: mpsc::Sender<Job>,
    stats: Arc<Stats>,
}

/// Counters for the benchmark report and `/healthz`.
#[derive(Default, Debug)]
pub struct Stats {
    pub batches: AtomicU64,
    pub steps: AtomicU64,
    /// Time spent running batches, and the part of it spent in COMMIT
    /// (the fsync): how busy the writer is, and what the disk costs it.
    pub busy_us: AtomicU64,
    pub commit_us: AtomicU64,
}

impl Writer {
    /// Connects to `url` and starts the writer on a thread of its own, with
    /// a single-threaded runtime: each step awaits one database round trip
    /// per statement, and on the shared runtime every one of those wake-ups
    /// would queue behind the HTTP tasks. `url` is also used to reconnect.
    pub async fn start(url: &str) -> anyhow::Result<Self> {
        let (sender, receiver) = mpsc::channel(QUEUE_LEN_MAX);
        let stats = Arc::new(Stats::default());
        let (ready, started) = oneshot::channel::<anyhow::Result<()>>();
        let (url, thread_stats) = (url.to_string(), stats.clone());
        std::thread::Builder::new()
            .name("kessai-writer".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready.send(Err(e.into()));
                        return;
                    }
                };
                // A step that panics (a bug: steps return errors) ends the
                // writer; the panic is logged here, requesters get 503s and
                // /healthz says so, so an operator or supervisor restarts it.
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    runtime.block_on(async move {
                        // Connect here, so the connection belongs to this runtime.
                        match crate::db::connection(&url).await {
                            Ok(conn) => {
                                let _ = ready.send(Ok(()));
                                run(conn, url, receiver, thread_stats).await;
                            }
                            Err(e) => {
                                let _ = ready.send(Err(e));
                            }
                        }
                    })
                }));
                if let Err(panic) = ran {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(panic = %what, "the settlement writer panicked and has stopped");
                }
            })?;
        started
            .await
            .map_err(|_| anyhow::anyhow!("the settlement writer thread died while starting"))??;
        Ok(Self { sender, stats })
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Whether the writer has stopped: nothing can be written any more.
    pub fn is_stopped(&self) -> bool {
        self.sender.is_closed()
    }

    /// Runs `step` in the next batch and returns its result once durable.
    /// An `Err` from the step rolls back everything the step wrote.
    ///
    /// With several servers on one PostgreSQL database, two batches can
    /// wait for each other's rows (each holds what its earlier steps locked
    /// until it commits): PostgreSQL then fails one step with a deadlock
    /// (40P01), or a serialization failure (40001). That step is rolled back
    /// alone and run again here, in a later batch, after this one committed
    /// and released its locks: retrying inside the same batch would meet the
    /// same locks. The client never sees it, unless it keeps happening.
    pub async fn run<T, F>(&self, step: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T>> + Clone + Send + 'static,
    {
        let mut attempt: u32 = 1;
        loop {
            match self.run_once(step.clone()).await {
                Err(e) if e.is_transient() && attempt < TRANSIENT_ATTEMPTS_MAX => {
                    tracing::info!(attempt, error = %e, "step hit a deadlock or serialization failure; running it again");
                    // A little random wait, so two servers that deadlocked
                    // do not meet again in lockstep.
                    let jitter_ms = rand::random::<u64>() % (5 * u64::from(attempt));
                    tokio::time::sleep(std::time::Duration::from_millis(jitter_ms)).await;
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    async fn run_once<T, F>(&self, step: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let result = step(conn).await;
                let ok = result.is_ok();
                let finish: Finish = Box::new(move |committed| {
                    let outcome = match committed {
                        Ok(()) => result,
                        Err(why) => Err(Error::Internal(
                            anyhow::anyhow!(why).context("the batch transaction did not commit"),
                        )),
                    };
                    // The requester may have gone away; the step is durable regardless.
                    let _ = reply.send(outcome);
                });
                (ok, finish)
            })
        });
        self.sender.send(job).await.map_err(|_| stopped())?;
        match answer.await {
            Ok(outcome) => outcome,
            // Dropped unsent: the writer died, or the batch's transaction
            // broke before this step ran (nothing of it was written).
            Err(_) if self.is_stopped() => Err(stopped()),
            Err(_) => Err(Error::internal("the batch transaction failed before this step ran")),
        }
    }
}

/// What a requester gets when the writer is gone.
fn stopped() -> Error {
    Error::Unavailable {
        code: "writer_stopped",
        message: "The server cannot record payments right now; nothing was changed. Retry shortly with the same Idempotency-Key."
            .into(),
    }
}

async fn run(mut conn: Conn, url: String, mut receiver: mpsc::Receiver<Job>, stats: Arc<Stats>) {
    let mut batch: Vec<Job> = Vec::with_capacity(BATCH_LEN_MAX);
    while let Some(first) = receiver.recv().await {
        batch.push(first);
        while batch.len() < BATCH_LEN_MAX {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.steps.fetch_add(batch.len() as u64, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let committed = run_batch(&mut conn, &mut batch, &stats).await;
        stats
            .busy_us
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        debug_assert!(batch.is_empty());
        if !committed && !conn.ping().await {
            // The steps already answered with errors; make the next batch
            // run on a fresh connection instead of failing forever.
            match crate::db::connection(&url).await {
                Ok(fresh) => {
                    tracing::warn!("settlement writer reconnected to the database");
                    conn = fresh;
                }
                Err(e) => tracing::error!(error = %e, "settlement writer could not reconnect; will retry"),
            }
        }
    }
    tracing::info!("settlement writer stopped");
}

/// Runs one batch in one transaction; returns whether it committed.
async fn run_batch(conn: &mut Conn, batch: &mut Vec<Job>, stats: &Stats) -> bool {
    let mut finishes: Vec<Finish> = Vec::with_capacity(batch.len());
    // Why the batch cannot commit, once something broke the transaction.
    let mut broken: Option<String> = conn.begin().await.err().map(|e| {
        tracing::error!(error = %e, "BEGIN failed");
        format!("BEGIN failed: {e}")
    });
    for job in batch.drain(..) {
        if broken.is_some() {
            // The transaction is gone. Running the step now could write in
            // autocommit mode; dropping it makes its requester get an error.
            drop(job);
            continue;
        }
        if let Err(e) = conn.batch("SAVEPOINT step").await {
            tracing::error!(error = %e, "SAVEPOINT failed");
            broken = Some(format!("SAVEPOINT failed: {e}"));
            drop(job);
            continue;
        }
        let (ok, finish) = job(conn).await;
        finishes.push(finish);
        if let Err(why) = end_step(conn, ok).await {
            broken = Some(why);
        }
    }
    let commit_started = std::time::Instant::now();
    let committed = match broken {
        None => conn.commit().await.map_err(|e| {
            tracing::error!(error = %e, "COMMIT failed; the batch is lost and its steps report failure");
            format!("COMMIT failed: {e}")
        }),
        Some(why) => Err(why),
    };
    if committed.is_err() {
        let _ = conn.rollback().await;
    }
    stats
        .commit_us
        .fetch_add(commit_started.elapsed().as_micros() as u64, Ordering::Relaxed);
    let ok = committed.is_ok();
    for finish in finishes {
        finish(committed.clone());
    }
    ok
}

/// Keeps a step's writes (released savepoint) or undoes them (rolled back);
/// an error means the transaction itself is broken.
async fn end_step(conn: &mut Conn, ok: bool) -> std::result::Result<(), String> {
    let end = if ok {
        "RELEASE SAVEPOINT step"
    } else {
        "ROLLBACK TO SAVEPOINT step"
    };
    if let Err(e) = conn.batch(end).await {
        tracing::error!(error = %e, "ending a savepoint failed");
        return Err(format!("{end} failed: {e}"));
    }
    if !ok {
        if let Err(e) = conn.batch("RELEASE SAVEPOINT step").await {
            tracing::error!(error = %e, "releasing a rolled-back savepoint failed");
            return Err(format!("RELEASE SAVEPOINT after a rollback failed: {e}"));
        }
    }
    Ok(())
}
