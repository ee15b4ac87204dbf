//! Changes announced across servers that share one PostgreSQL database.
//!
//! A long-poll or an event stream waits on its own server's broadcast of
//! changed settlement ids (`Node::changes`). With several servers, the
//! change may be made on another one, so every announcement is also sent
//! with PostgreSQL's NOTIFY, and each server LISTENs and re-broadcasts what
//! the others sent. NOTIFY is not durable: a notification lost while a
//! listener reconnects only makes a waiter wait until its own timeout, and
//! it then reads the settlement anyway; nothing depends on it for money.

use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::Connection;
use tokio::sync::{broadcast, mpsc};

/// The channel every server of one database LISTENs on.
const CHANNEL: &str = "kessai_changes";
/// Ids sent in one NOTIFY: PostgreSQL's payload limit is 8000 bytes, and an
/// id is about 40 characters.
const IDS_PER_NOTIFY_MAX: usize = 100;
/// Ids waiting to be sent; beyond this an announcement is dropped (waiters
/// on other servers then learn of it at their timeout).
const QUEUE_LEN_MAX: usize = 8192;
/// Pause before reconnecting after the database went away.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// The sending half, kept by the node: announcements go out through it.
#[derive(Clone)]
pub struct Fanout {
    sender: mpsc::Sender<String>,
}

impl Fanout {
    /// Starts the notifier and the listener for the database at `url`.
    /// `changes` is the node's local broadcast, which the listener feeds.
    pub fn start(url: &str, changes: broadcast::Sender<String>) -> Self {
        // Each server tells its own notifications from the others' by this:
        // its own were broadcast locally already.
        let instance = crate::ids::new("srv_");
        let (sender, receiver) = mpsc::channel(QUEUE_LEN_MAX);
        tokio::spawn(notify(url.to_string(), instance.clone(), receiver));
        tokio::spawn(listen(url.to_string(), instance, changes));
        Self { sender }
    }

    /// Queues `id` for the other servers; never waits.
    pub fn send(&self, id: &str) {
        if self.sender.try_send(id.to_string()).is_err() {
            tracing::warn!("cross-server change queue full; other servers' waiters will time out instead");
        }
    }
}

/// Sends queued ids, many per NOTIFY, on a connection of its own.
async fn notify(url: String, instance: String, mut receiver: mpsc::Receiver<String>) {
    let mut conn: Option<sqlx::PgConnection> = None;
    let mut ids = Vec::with_capacity(IDS_PER_NOTIFY_MAX);
    while receiver.recv_many(&mut ids, IDS_PER_NOTIFY_MAX).await > 0 {
        let payload = format!("{instance} {}", ids.join(","));
        ids.clear();
        if conn.is_none() {
            conn = sqlx::PgConnection::connect(&url)
                .await
                .map_err(|e| tracing::warn!(error = %e, "cannot connect to send cross-server changes"))
                .ok();
        }
        let Some(c) = conn.as_mut() else { continue };
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(&payload)
            .execute(&mut *c)
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "sending cross-server changes failed; reconnecting");
            conn = None;
        }
    }
}

/// Re-broadcasts the other servers' changes here, reconnecting as needed.
async fn listen(url: String, instance: String, changes: broadcast::Sender<String>) {
    loop {
        let listener = match PgListener::connect(&url).await {
            Ok(mut l) => match l.listen(CHANNEL).await {
                Ok(()) => Some(l),
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN failed");
                    None
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot connect to hear other servers' changes");
                None
            }
        };
        if let Some(listener) = listener {
            relay(listener, &instance, &changes).await;
        }
        tokio::time::sleep(RECONNECT_PAUSE).await;
    }
}

/// Until the listener's connection fails: each notification of another
/// server becomes local announcements.
async fn relay(mut listener: PgListener, instance: &str, changes: &broadcast::Sender<String>) {
    loop {
        let notification = match listener.recv().await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "lost the cross-server change listener");
                return;
            }
        };
        let Some((from, ids)) = notification.payload().split_once(' ') else {
            continue;
        };
        if from == instance {
            continue;
        }
        for id in ids.split(',').filter(|id| !id.is_empty()) {
            // No receiver is fine: nobody here is waiting.
            let _ = changes.send(id.to_string());
        }
    }
}
