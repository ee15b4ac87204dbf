//! The state every handler shares: the core's running parts and the
//! server's configuration.

use std::sync::Arc;

use kessai_core::Node;

use crate::config::Config;
use crate::peering::PeerClient;

#[derive(Clone)]
pub struct AppState {
    pub node: Node,
    pub config: Arc<Config>,
    /// Calls to peer institutions.
    pub peers: PeerClient,
}
