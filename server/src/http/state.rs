//! The state every handler shares: the core's running parts and the
//! server's configuration.

use std::sync::Arc;

use kessai_core::Node;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;
use crate::peering::PeerClient;

#[derive(Clone)]
pub struct AppState {
    pub node: Node,
    pub config: Arc<Config>,
    /// Calls to peer institutions.
    pub peers: PeerClient,
    /// Long-polls (`?wait=`) and event streams each hold one of these
    /// while they wait (`Limits`); none left means 503 `server_busy`.
    pub long_polls: Arc<Semaphore>,
    pub event_streams: Arc<Semaphore>,
}

impl AppState {
    pub fn new(node: Node, config: Arc<Config>, peers: PeerClient) -> Self {
        Self {
            long_polls: Arc::new(Semaphore::new(config.limits.long_polls_max)),
            event_streams: Arc::new(Semaphore::new(config.limits.event_streams_max)),
            node,
            config,
            peers,
        }
    }
}

/// A permit from `slots`, or 503 `server_busy` naming what ran out.
pub fn slot(slots: &Arc<Semaphore>, what: &str) -> Result<OwnedSemaphorePermit, kessai_core::Error> {
    slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| kessai_core::Error::Unavailable {
            code: "server_busy",
            message: format!("The server has too many {what} open; retry shortly."),
        })
}
