//! Peers (PROTOCOL 11): the other institutions this one pays and is paid
//! by. A peer is added by an operator who gives its URL and the thumbprint
//! of its key, learned out of band: the document fetched from the URL must
//! carry that very key, so nothing is trusted on first use. The key stays
//! pinned; a peer cannot change it by publishing another.

use anyhow::{bail, ensure, Context};
use kessai_protocol::money::Money;
use kessai_protocol::peer::{InstitutionDocument, Jwk, PublicKey};
use serde::Serialize;

use crate::args;
use crate::institution::{self, Institution};
use crate::store::{Conn, Reader, Row};

/// A peer as stored, its key pinned.
#[derive(Debug, Clone)]
pub struct Peer {
    pub id: String,
    pub name: String,
    pub url: String,
    pub brands: Vec<String>,
    pub currencies: Vec<String>,
    pub card_prefix: String,
    pub key: PublicKey,
    pub credit_limits: Vec<Money>,
}

/// What `kessai peer add` prints, and each entry of `kessai peer list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub institution_id: String,
    pub name: String,
    pub brands: Vec<String>,
    pub url: String,
    pub currencies: Vec<String>,
    pub card_prefix: String,
    pub thumbprint: String,
    pub credit_limits: Vec<CreditLimit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditLimit {
    pub currency: String,
    pub credit_limit: u64,
}

impl Peer {
    pub fn summary(&self) -> Summary {
        Summary {
            institution_id: self.id.clone(),
            name: self.name.clone(),
            brands: self.brands.clone(),
            url: self.url.clone(),
            currencies: self.currencies.clone(),
            card_prefix: self.card_prefix.clone(),
            thumbprint: self.key.thumbprint(),
            credit_limits: self
                .credit_limits
                .iter()
                .map(|m| CreditLimit {
                    currency: m.currency().to_string(),
                    credit_limit: m.minor(),
                })
                .collect(),
        }
    }

    /// The credit this institution gives the peer in `currency` (none: 0).
    pub fn credit_limit(&self, currency: &str) -> u64 {
        self.credit_limits
            .iter()
            .find(|m| m.currency() == currency)
            .map_or(0, Money::minor)
    }
}

/// What a peer's document must satisfy before it is stored.
fn check_document(own: &Institution, doc: &InstitutionDocument, thumbprint: &str) -> anyhow::Result<PublicKey> {
    let key = doc
        .signing_key()
        .context("the peer's document has no usable Ed25519 key")?;
    let actual = key.thumbprint();
    ensure!(
        actual == thumbprint,
        "the peer's key has thumbprint {actual}, not the {thumbprint} you gave: nothing was stored"
    );
    ensure!(
        kessai_protocol::ids::is_id(kessai_protocol::ids::INSTITUTION, &doc.institution_id),
        "the peer's institution_id {:?} is not an institution id (ins_…)",
        doc.institution_id
    );
    ensure!(doc.institution_id != own.id, "that is this institution itself");
    ensure!(
        doc.card_prefix != own.card_prefix,
        "the peer issues cards under this institution's own prefix {}: cards could not be told apart",
        own.card_prefix
    );
    ensure!(
        doc.brands.iter().all(|b| institution::is_brand(b)) && !doc.name.trim().is_empty(),
        "the peer's document has an empty name or a malformed brand"
    );
    Ok(key)
}

/// Stores the peer described by `doc`, fetched from `url`, if its key has
/// `thumbprint`. Adding a peer again updates its name, URL, brands and limit;
/// its key can never change this way.
pub async fn add(
    conn: &mut Conn,
    own: &Institution,
    url: &str,
    doc: &InstitutionDocument,
    thumbprint: &str,
    credit_limit: Option<Money>,
) -> anyhow::Result<Summary> {
    let key = check_document(own, doc, thumbprint)?;
    conn.begin().await?;
    let stored = async {
        if let Some(existing) = get(conn, &doc.institution_id).await? {
            if existing.key != key {
                bail!(
                    "{} is already a peer with another key; its key cannot change",
                    existing.id
                );
            }
        }
        let prefix_taken = conn
            .fetch_optional(
                "SELECT id FROM peers WHERE card_prefix = $1 AND id <> $2",
                args![&doc.card_prefix, &doc.institution_id],
            )
            .await?;
        if let Some(row) = prefix_taken {
            bail!(
                "peer {} already issues cards under {}",
                row.try_get::<String>("id")?,
                doc.card_prefix
            );
        }
        upsert(conn, url, doc, &key).await?;
        if let Some(limit) = &credit_limit {
            set_credit_limit(conn, &doc.institution_id, limit).await?;
        }
        get(conn, &doc.institution_id)
            .await?
            .context("the peer just stored is missing")
    }
    .await;
    Ok(conn.finish(stored).await?.summary())
}

async fn upsert(conn: &mut Conn, url: &str, doc: &InstitutionDocument, key: &PublicKey) -> anyhow::Result<()> {
    let now = crate::clock::now();
    let x = key.jwk().x;
    conn.execute(
        "INSERT INTO peers (id, name, url, brands, currencies, card_prefix, public_key, thumbprint, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
         ON CONFLICT (id) DO UPDATE SET name = $2, url = $3, brands = $4, currencies = $5, card_prefix = $6,
             updated_at = $9",
        args![
            &doc.institution_id,
            &doc.name,
            url,
            serde_json::to_string(&doc.brands)?,
            serde_json::to_string(&doc.currencies)?,
            &doc.card_prefix,
            x,
            key.thumbprint(),
            now
        ],
    )
    .await?;
    Ok(())
}

async fn set_credit_limit(conn: &mut Conn, peer_id: &str, limit: &Money) -> anyhow::Result<()> {
    conn.execute(
        "INSERT INTO peer_credit_limits (peer_id, currency, credit_limit) VALUES ($1, $2, $3)
         ON CONFLICT (peer_id, currency) DO UPDATE SET credit_limit = $3",
        args![peer_id, limit.currency(), limit.minor_i64()],
    )
    .await?;
    Ok(())
}

const COLUMNS: &str = "id, name, url, brands, currencies, card_prefix, public_key";

fn from_row(row: &Row, credit_limits: Vec<Money>) -> anyhow::Result<Peer> {
    let list = |column: &str| -> anyhow::Result<Vec<String>> {
        let text: String = row.try_get(column)?;
        serde_json::from_str(&text).with_context(|| format!("peer {column} {text:?}"))
    };
    let jwk = Jwk {
        kty: "OKP".into(),
        crv: "Ed25519".into(),
        x: row.try_get("public_key")?,
        kid: None,
        alg: None,
        use_: None,
    };
    Ok(Peer {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        url: row.try_get("url")?,
        brands: list("brands")?,
        currencies: list("currencies")?,
        card_prefix: row.try_get("card_prefix")?,
        key: PublicKey::from_jwk(&jwk).context("a stored peer key")?,
        credit_limits,
    })
}

async fn credit_limits(conn: &mut Conn, peer_id: &str) -> anyhow::Result<Vec<Money>> {
    let rows = conn
        .fetch_all(
            "SELECT currency, credit_limit FROM peer_credit_limits WHERE peer_id = $1 ORDER BY currency",
            args![peer_id],
        )
        .await?;
    limits_of(&rows)
}

fn limits_of(rows: &[Row]) -> anyhow::Result<Vec<Money>> {
    rows.iter()
        .map(|r| {
            let currency: String = r.try_get("currency")?;
            let limit = u64::try_from(r.try_get::<i64>("credit_limit")?)?;
            Money::new(limit, &currency, "credit_limit").map_err(|e| anyhow::anyhow!(e.message))
        })
        .collect()
}

/// The peer with this institution id.
pub async fn get(conn: &mut Conn, id: &str) -> anyhow::Result<Option<Peer>> {
    let row = conn
        .fetch_optional(&format!("SELECT {COLUMNS} FROM peers WHERE id = $1"), args![id])
        .await?;
    match row {
        Some(row) => Ok(Some(from_row(&row, credit_limits(conn, id).await?)?)),
        None => Ok(None),
    }
}

/// Every peer, by id.
pub async fn list(conn: &mut Conn) -> anyhow::Result<Vec<Peer>> {
    let rows = conn
        .fetch_all(&format!("SELECT {COLUMNS} FROM peers ORDER BY id"), args![])
        .await?;
    let mut peers = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: String = row.try_get("id")?;
        peers.push(from_row(row, credit_limits(conn, &id).await?)?);
    }
    Ok(peers)
}

/// The ids of every peer (through the reader pool).
pub async fn ids_pooled(pool: &Reader) -> anyhow::Result<Vec<String>> {
    let rows = crate::store::pool_all(pool, "SELECT id FROM peers ORDER BY id", args![]).await?;
    rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
}

async fn credit_limits_pooled(pool: &Reader, peer_id: &str) -> anyhow::Result<Vec<Money>> {
    let rows = crate::store::pool_all(
        pool,
        "SELECT currency, credit_limit FROM peer_credit_limits WHERE peer_id = $1 ORDER BY currency",
        args![peer_id],
    )
    .await?;
    limits_of(&rows)
}

/// The peer whose pinned key has this thumbprint: who signed a request.
pub async fn by_thumbprint(pool: &Reader, thumbprint: &str) -> anyhow::Result<Option<Peer>> {
    let sql = format!("SELECT {COLUMNS} FROM peers WHERE thumbprint = $1");
    let Some(row) = crate::store::pool_optional(pool, &sql, args![thumbprint]).await? else {
        return Ok(None);
    };
    let id: String = row.try_get("id")?;
    Ok(Some(from_row(&row, credit_limits_pooled(pool, &id).await?)?))
}

/// The peer with this institution id, read outside the writer.
pub async fn get_pooled(pool: &Reader, id: &str) -> anyhow::Result<Option<Peer>> {
    let sql = format!("SELECT {COLUMNS} FROM peers WHERE id = $1");
    let Some(row) = crate::store::pool_optional(pool, &sql, args![id]).await? else {
        return Ok(None);
    };
    Ok(Some(from_row(&row, credit_limits_pooled(pool, id).await?)?))
}

/// The peer that issues cards starting with `number`'s prefix, if any.
pub async fn by_card_number(pool: &Reader, number: &str) -> anyhow::Result<Option<Peer>> {
    let Some(prefix) = number.get(..crate::institution::CARD_PREFIX_LEN) else {
        return Ok(None);
    };
    let sql = format!("SELECT {COLUMNS} FROM peers WHERE card_prefix = $1");
    let Some(row) = crate::store::pool_optional(pool, &sql, args![prefix]).await? else {
        return Ok(None);
    };
    let id: String = row.try_get("id")?;
    Ok(Some(from_row(&row, credit_limits_pooled(pool, &id).await?)?))
}

/// What this institution and `peer_id` owe each other, per currency, from
/// its own ledger: the due-to and due-from accounts.
pub async fn positions(pool: &Reader, peer_id: &str) -> anyhow::Result<Vec<kessai_protocol::peer::Position>> {
    let rows = crate::store::pool_all(
        pool,
        "SELECT currency, kind, balance FROM accounts WHERE owner = $1 AND kind IN ('due_from', 'due_to')
         ORDER BY currency",
        args![peer_id],
    )
    .await?;
    let mut positions: Vec<kessai_protocol::peer::Position> = Vec::new();
    for row in &rows {
        let currency: String = row.try_get("currency")?;
        let kind: String = row.try_get("kind")?;
        let balance: i64 = row.try_get("balance")?;
        if positions.last().map(|p| p.currency.as_str()) != Some(currency.as_str()) {
            positions.push(kessai_protocol::peer::Position {
                currency: currency.clone(),
                due_to: 0,
                due_from: 0,
                net: 0,
            });
        }
        let Some(position) = positions.last_mut() else { continue };
        // A due-from account goes below zero as the peer comes to owe; a
        // due-to account above zero as this institution does.
        if kind == crate::ledger::kind::DUE_FROM {
            position.due_from = u64::try_from(balance.saturating_neg()).unwrap_or(0);
        } else {
            position.due_to = u64::try_from(balance).unwrap_or(0);
        }
        let (from, to) = (i64::try_from(position.due_from)?, i64::try_from(position.due_to)?);
        position.net = from - to;
    }
    Ok(positions)
}
