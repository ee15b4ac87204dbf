//! The issuer's worker (PROTOCOL 11, step 4): for every payment
//! authorization this institution issued and has not resolved, it asks the
//! acquirer what became of it, then captures the hold into the acquirer's
//! due-to account, releases it, or asks again later. Its work list is the
//! durable `issued_authorizations` table, so it survives restarts.

use std::collections::BTreeMap;
use std::sync::Arc;

use kessai_core::authorizations::{self, Pending, Resolution};
use kessai_core::Node;
use kessai_protocol::peer::AuthorizationState;

use crate::config::Config;
use crate::peering::PeerClient;

pub async fn run(node: Node, peers: PeerClient, config: Arc<Config>) {
    let mut tick = tokio::time::interval(config.authorization_poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = round(&node, &peers).await {
            tracing::warn!(error = format!("{e:#}"), "resolving payment authorizations failed");
        }
    }
}

/// One pass over the authorizations due for a check, peer by peer.
async fn round(node: &Node, peers: &PeerClient) -> anyhow::Result<()> {
    let now = kessai_core::clock::now();
    let due = authorizations::pending_due(&node.reader, now).await?;
    if due.is_empty() {
        return Ok(());
    }
    let own = kessai_core::institution::current(&node.reader, &node.keyring).await?;
    let mut by_peer: BTreeMap<String, Vec<Pending>> = BTreeMap::new();
    for pending in due {
        by_peer.entry(pending.peer_id.clone()).or_default().push(pending);
    }
    for (peer_id, pending) in by_peer {
        let answers = ask(node, peers, &own, &peer_id, &pending, now).await;
        for p in &pending {
            let answer = answers.iter().find(|a| a.jti == p.jti);
            apply(node, p, authorizations::resolution(p, answer, now), now).await?;
        }
    }
    Ok(())
}

/// The acquirer's answers; none when it cannot be reached (asked again later).
async fn ask(
    node: &Node,
    peers: &PeerClient,
    own: &kessai_core::institution::Institution,
    peer_id: &str,
    pending: &[Pending],
    now: i64,
) -> Vec<AuthorizationState> {
    let peer = match kessai_core::peers::get_pooled(&node.reader, peer_id).await {
        Ok(Some(peer)) => peer,
        Ok(None) => return Vec::new(),
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), peer = peer_id, "loading a peer");
            return Vec::new();
        }
    };
    let jtis = pending.iter().map(|p| p.jti.clone()).collect();
    match peers.status(own, &peer, jtis, now).await {
        Ok(answer) => answer.authorizations,
        Err(e) => {
            tracing::warn!(
                error = format!("{e:#}"),
                peer = peer_id,
                "asking a peer about authorizations"
            );
            Vec::new()
        }
    }
}

async fn apply(node: &Node, pending: &Pending, resolution: Resolution, now: i64) -> anyhow::Result<()> {
    let jti = pending.jti.clone();
    let moved = node
        .writer
        .run(move |conn| Box::pin(async move { authorizations::resolve(conn, &jti, resolution, now).await }))
        .await?;
    if moved {
        tracing::info!(authorization = %pending.jti, ?resolution, "payment authorization resolved");
    }
    Ok(())
}
