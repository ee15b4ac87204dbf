//! The state every handler shares.

use std::sync::Arc;

use crate::store::Reader;
use tokio::sync::{broadcast, Notify};

use crate::keyring::Keyring;
use crate::merchants::MerchantCache;
use crate::writer::Writer;

#[derive(Clone)]
pub struct AppState {
    /// Reads, and the background workers' bookkeeping queries.
    pub pool: Reader,
    /// Every write that touches a settlement or the ledger goes through here.
    pub writer: Writer,
    pub keyring: Arc<Keyring>,
    pub merchants: MerchantCache,
    /// Ids of settlements whose status changed: wakes long-polls and SSE.
    pub changes: broadcast::Sender<String>,
    /// Wakes the webhook worker when new deliveries are due.
    pub webhook_wake: Arc<Notify>,
    pub config: Arc<crate::startup::Config>,
}

impl AppState {
    /// Tells waiters that these settlements changed. Call only after commit.
    pub fn announce<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        for id in ids {
            // No receiver is fine: nobody is waiting.
            let _ = self.changes.send(id.to_string());
        }
    }
}
