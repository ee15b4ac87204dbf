//! One settling server's running parts, as every front end (the HTTP API,
//! the background workers, and later the wallet and terminal APIs) shares
//! them: the reader, the writer, the keyring, the merchant cache, and the
//! signals that wake waiters. It knows nothing about HTTP.

use std::path::Path;
use std::sync::Arc;

use tokio::sync::{broadcast, Notify};

use crate::db::{self, Backend};
use crate::fanout::Fanout;
use crate::keyring::Keyring;
use crate::merchants::MerchantCache;
use crate::store::Reader;
use crate::throttle::PayerThrottles;
use crate::writer::Writer;

/// Settlement ids whose status changed, as many as may queue unread: a
/// waiter that falls further behind re-reads instead.
const CHANGES_LEN_MAX: usize = 4096;

#[derive(Clone)]
pub struct Node {
    /// Reads, and the background workers' bookkeeping queries.
    pub reader: Reader,
    /// Every write that touches a settlement or the ledger goes through here.
    pub writer: Writer,
    pub keyring: Arc<Keyring>,
    pub merchants: MerchantCache,
    /// Ids of settlements whose status changed: wakes long-polls and SSE.
    pub changes: broadcast::Sender<String>,
    /// Wakes the webhook worker when new deliveries are due.
    pub webhook_wake: Arc<Notify>,
    pub backend: Backend,
    /// With PostgreSQL, the other servers on the database hear of changes
    /// through it (and this one of theirs).
    fanout: Option<Fanout>,
    /// Rate limits of the payer endpoints (card testing).
    pub payer_throttles: Arc<PayerThrottles>,
}

impl Node {
    /// Opens the database at `database_url` (migrating it) and the master
    /// key at `key_file`, and starts the writer.
    pub async fn open(database_url: &str, key_file: &Path) -> anyhow::Result<Self> {
        let backend = db::backend(database_url)?;
        let keyring = Keyring::load_or_create(key_file)?;
        let reader = db::reader(database_url).await?;
        let mut conn = db::connection(database_url).await?;
        db::migrate(&mut conn).await?;
        // The institution's identity is made at first start (PROTOCOL 11).
        crate::institution::load_or_create(&mut conn, &keyring).await?;
        drop(conn);
        let writer = Writer::start(database_url).await?;
        let (changes, _) = broadcast::channel(CHANGES_LEN_MAX);
        let fanout = (backend == Backend::Postgres).then(|| Fanout::start(database_url, changes.clone()));
        Ok(Self {
            reader,
            writer,
            keyring: Arc::new(keyring),
            merchants: MerchantCache::default(),
            changes,
            webhook_wake: Arc::new(Notify::new()),
            backend,
            fanout,
            payer_throttles: Arc::new(PayerThrottles::default()),
        })
    }

    /// Tells waiters that these settlements changed. Call only after commit.
    pub fn announce<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        for id in ids {
            // No receiver is fine: nobody is waiting.
            let _ = self.changes.send(id.to_string());
            if let Some(fanout) = &self.fanout {
                fanout.send(id);
            }
        }
    }

    /// Tells the webhook worker that deliveries may be due.
    pub fn wake_webhooks(&self) {
        self.webhook_wake.notify_one();
    }
}
