//! `kessai institution …` and `kessai peer …` (PROTOCOL 11): naming this
//! institution, and pinning the keys of the institutions it deals with.

use std::time::Duration;

use anyhow::{ensure, Context};
use clap::Subcommand;
use kessai_core::institution::{self, Settings};
use kessai_core::peers;
use kessai_protocol::money::Money;
use kessai_protocol::peer::InstitutionDocument;

use super::admin::{open, print_json, DbArgs};

/// Where an institution publishes its document.
pub const DOCUMENT_PATH: &str = "/.well-known/kessai-institution";
/// A peer's document is small; one that is not is not a peer's.
const DOCUMENT_LEN_MAX: usize = 64 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Subcommand)]
pub enum InstitutionCommand {
    /// Name this institution, its brands, currencies and card prefix.
    Set {
        #[arg(long)]
        name: Option<String>,
        /// A brand this institution offers (e.g. sakura-debit); repeat for several.
        #[arg(long = "brand")]
        brands: Vec<String>,
        /// A currency it settles in (ISO 4217); repeat for several.
        #[arg(long = "currency")]
        currencies: Vec<String>,
        /// The 6 digits every card it issues starts with.
        #[arg(long)]
        card_prefix: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print this institution's id, name, brands, card prefix and key thumbprint.
    Show {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum PeerCommand {
    /// Trust another institution: fetch its document from URL and pin its key,
    /// refusing (exit 1, nothing stored) unless the key has THUMBPRINT.
    Add {
        #[arg(long)]
        url: String,
        /// The peer's key thumbprint, learned from its operator (`kessai institution show`).
        /// Base64url: it may start with "-", which is taken as the value here.
        #[arg(long, allow_hyphen_values = true)]
        thumbprint: String,
        /// The most this institution lets the peer owe it, in minor units.
        #[arg(long, requires = "currency")]
        credit_limit: Option<u64>,
        #[arg(long, requires = "credit_limit")]
        currency: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List the peers and their pinned keys.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// What this institution and a peer owe each other, from this ledger.
    Position {
        #[arg(long)]
        peer: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Ask the peer for its view and compare; exit 0 only when both ledgers agree.
    Reconcile {
        #[arg(long)]
        peer: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

pub async fn institution(command: InstitutionCommand) -> anyhow::Result<i32> {
    match command {
        InstitutionCommand::Set {
            name,
            brands,
            currencies,
            card_prefix,
            db,
        } => {
            let settings = Settings {
                name,
                brands: (!brands.is_empty()).then_some(brands),
                currencies: (!currencies.is_empty()).then_some(currencies),
                card_prefix,
            };
            institution::check(&settings)?;
            let (mut conn, keyring) = open(&db).await?;
            print_json(&institution::set(&mut conn, &keyring, settings).await?.summary())?;
        }
        InstitutionCommand::Show { db } => {
            let (mut conn, keyring) = open(&db).await?;
            print_json(&institution::load_or_create(&mut conn, &keyring).await?.summary())?;
        }
    }
    Ok(0)
}

pub async fn peer(command: PeerCommand) -> anyhow::Result<i32> {
    match command {
        PeerCommand::Add {
            url,
            thumbprint,
            credit_limit,
            currency,
            db,
        } => {
            let url = peer_url(&url)?;
            let limit = match (credit_limit, currency) {
                (Some(n), Some(c)) => {
                    Some(Money::new(n, &c, "--credit-limit").map_err(|e| anyhow::anyhow!(e.message))?)
                }
                _ => None,
            };
            let doc = fetch_document(&url).await?;
            let (mut conn, keyring) = open(&db).await?;
            let own = institution::load_or_create(&mut conn, &keyring).await?;
            print_json(&peers::add(&mut conn, &own, &url, &doc, &thumbprint, limit).await?)?;
        }
        PeerCommand::List { db } => {
            let (mut conn, _) = open(&db).await?;
            let list: Vec<peers::Summary> = peers::list(&mut conn).await?.iter().map(|p| p.summary()).collect();
            print_json(&serde_json::json!({ "peers": list }))?;
        }
        PeerCommand::Position { peer, db } => {
            let (_, reader, _) = open_with_reader(&db).await?;
            let positions = peers::positions(&reader, &peer).await?;
            print_json(&serde_json::json!({ "peer": peer, "positions": positions }))?;
        }
        PeerCommand::Reconcile { peer, db } => return reconcile(&peer, &db).await,
    }
    Ok(0)
}

async fn open_with_reader(
    db: &DbArgs,
) -> anyhow::Result<(
    kessai_core::store::Conn,
    kessai_core::store::Reader,
    kessai_core::keyring::Keyring,
)> {
    let (conn, keyring) = open(db).await?;
    let reader = kessai_core::db::reader(&db.database).await?;
    Ok((conn, reader, keyring))
}

/// Both ledgers agree when what each says the other owes it is what the
/// other says it owes, in every currency either knows.
async fn reconcile(peer_id: &str, db: &DbArgs) -> anyhow::Result<i32> {
    let (mut conn, reader, keyring) = open_with_reader(db).await?;
    let own = institution::load_or_create(&mut conn, &keyring).await?;
    let peer = peers::get(&mut conn, peer_id)
        .await?
        .with_context(|| format!("{peer_id} is not a peer of this institution"))?;
    let mine = peers::positions(&reader, &peer.id).await?;
    let client = crate::peering::PeerClient::new()?;
    let theirs = client.positions(&own, &peer, kessai_core::clock::now()).await?;
    ensure!(
        theirs.institution_id == peer.id,
        "the peer answered as {}",
        theirs.institution_id
    );
    let currencies: std::collections::BTreeSet<&str> = mine
        .iter()
        .chain(&theirs.positions)
        .map(|p| p.currency.as_str())
        .collect();
    let find = |list: &[kessai_protocol::peer::Position], currency: &str| {
        list.iter()
            .find(|p| p.currency == currency)
            .map_or((0, 0), |p| (p.due_to, p.due_from))
    };
    let disagreements: Vec<String> = currencies
        .iter()
        .filter_map(|currency| {
            let (my_to, my_from) = find(&mine, currency);
            let (their_to, their_from) = find(&theirs.positions, currency);
            (my_to != their_from || my_from != their_to).then(|| {
                format!("{currency}: we owe {my_to} and are owed {my_from}; the peer says it owes {their_to} and is owed {their_from}")
            })
        })
        .collect();
    let agree = disagreements.is_empty();
    print_json(&serde_json::json!({
        "peer": peer.id, "agree": agree, "positions": mine, "peer_positions": theirs.positions,
        "disagreements": disagreements,
    }))?;
    Ok(if agree { 0 } else { 1 })
}

/// The peer's base URL: http(s), a host, no credentials, query or fragment;
/// as the WHATWG parser (reqwest's own) reads it, so what is stored is what
/// will be called (`http://2130706433` is `http://127.0.0.1`); without a
/// trailing slash so paths join cleanly.
///
/// Private and loopback addresses are allowed, unlike webhook targets: the
/// operator names the peer on its own command line, nobody outside can
/// choose it, and institutions commonly reach each other on a private
/// network (the demo's run on 127.0.0.1).
fn peer_url(text: &str) -> anyhow::Result<String> {
    const SHAPE: &str = "scheme://host[:port][/path]";
    let url = reqwest::Url::parse(text).with_context(|| format!("--url is not a URL ({SHAPE})"))?;
    ensure!(
        matches!(url.scheme(), "http" | "https"),
        "--url must start with http:// or https://, not {}://",
        url.scheme()
    );
    ensure!(url.host().is_some(), "--url has no host ({SHAPE})");
    ensure!(
        url.username().is_empty() && url.password().is_none(),
        "--url must not carry a user name or password: requests to peers are signed"
    );
    ensure!(
        url.query().is_none(),
        "--url must not have a query (?…): it is a base URL"
    );
    ensure!(url.fragment().is_none(), "--url must not have a fragment (#…)");
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// The peer's public document. Redirects are not followed: the key is
/// pinned to what this URL itself serves.
pub(crate) async fn fetch_document(url: &str) -> anyhow::Result<InstitutionDocument> {
    let client = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Kessai-Peer/1")
        .build()?;
    let address = format!("{url}{DOCUMENT_PATH}");
    let response = client
        .get(&address)
        .send()
        .await
        .with_context(|| format!("fetching {address}"))?;
    ensure!(
        response.status().is_success(),
        "{address} answered {}",
        response.status()
    );
    let body = response.bytes().await.with_context(|| format!("reading {address}"))?;
    ensure!(
        body.len() <= DOCUMENT_LEN_MAX,
        "{address} is not an institution document (too large)"
    );
    serde_json::from_slice(&body).with_context(|| format!("{address} is not an institution document"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_urls_are_plain_http_bases() {
        assert_eq!(peer_url("http://127.0.0.1:8081/").unwrap(), "http://127.0.0.1:8081");
        assert_eq!(
            peer_url("https://bank.example/kessai").unwrap(),
            "https://bank.example/kessai"
        );
        assert_eq!(peer_url("HTTP://2130706433:8081").unwrap(), "http://127.0.0.1:8081");
        assert_eq!(peer_url("http://[::1]:8081/").unwrap(), "http://[::1]:8081");
        for bad in [
            "ftp://x",
            "http://",
            "http://u:p@host",
            "http://u@host",
            "https://host/?q",
            "https://host/?",
            "https://host/#top",
            "host:80",
            "file:///etc/passwd",
            "http://exa mple.com",
        ] {
            assert!(peer_url(bad).is_err(), "{bad}");
        }
    }
}
