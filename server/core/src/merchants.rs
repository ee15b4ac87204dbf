//! Merchants: their keys, registered origins, and authentication of the
//! shop server by its secret key.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::store::Reader;
use kessai_protocol::keys;
use serde::Serialize;

use crate::args;
use crate::store::Conn;

use crate::error::Error;
use crate::keyring::{self, Keyring};

/// A merchant with its keys opened: kept in memory once loaded (merchants
/// are never modified, so the cache cannot go stale).
#[derive(Clone)]
pub struct Merchant {
    pub id: String,
    pub name: String,
    pub result_key: [u8; 32],
    pub webhook_secret: Vec<u8>,
    pub notify_url: Option<String>,
    pub origins: Vec<String>,
}

impl std::fmt::Debug for Merchant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merchant")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What `kessai merchant create` prints: the only time the keys are shown.
/// `Debug` masks them.
#[derive(Serialize)]
pub struct CreatedMerchant {
    pub merchant_id: String,
    pub secret_key: String,
    pub result_key: String,
    pub webhook_secret: String,
}

impl std::fmt::Debug for CreatedMerchant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedMerchant")
            .field("merchant_id", &self.merchant_id)
            .field("secret_key", &format_args!("sk_***"))
            .field("result_key", &format_args!("rk_***"))
            .field("webhook_secret", &format_args!("whsec_***"))
            .finish()
    }
}

/// `scheme://host[:port]`, lower-case, as browsers send in `Origin`.
pub fn normalize_origin(text: &str) -> Result<String, String> {
    let t = text.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .ok_or_else(|| format!("origin {text:?} must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains('/') || rest.contains('?') || rest.contains('#') || rest.contains('@') {
        return Err(format!("origin {text:?} must be scheme://host[:port] with no path"));
    }
    Ok(t)
}

pub fn check_url(text: &str, param: &str) -> Result<(), Error> {
    let ok = (text.starts_with("https://") || text.starts_with("http://"))
        && text.len() <= 2048
        && text.len() > "http://".len()
        && !text.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::field(
            "url_invalid",
            param,
            format!("{param} must be an http(s) URL of at most 2048 characters"),
        ))
    }
}

/// The checks of [`create`] that need no database, so that `kessai merchant
/// create` refuses bad input before it creates a database or key file.
/// Returns the origins normalized.
pub fn check_new(name: &str, origins: &[String], notify_url: Option<&str>) -> anyhow::Result<Vec<String>> {
    anyhow::ensure!(
        !name.trim().is_empty() && name.len() <= 200,
        "--name must be 1 to 200 characters"
    );
    let origins: Vec<String> = origins
        .iter()
        .map(|o| normalize_origin(o))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    if let Some(url) = notify_url {
        check_url(url, "notify_url").map_err(|e| anyhow::anyhow!("--notify-url: {e}"))?;
    }
    Ok(origins)
}

pub async fn create(
    conn: &mut Conn,
    keyring: &Keyring,
    name: &str,
    origins: &[String],
    notify_url: Option<&str>,
) -> anyhow::Result<CreatedMerchant> {
    let origins = check_new(name, origins, notify_url)?;
    let id = crate::ids::new(kessai_protocol::ids::MERCHANT);
    let secret = keyring::random32();
    let result_key = keyring::random32();
    let webhook_secret = keyring::random32();
    let secret_key = keys::format_key(keys::SECRET_KEY_PREFIX, &secret);
    let now = crate::clock::now();
    let (result_sealed, webhook_sealed) = (keyring.seal(&result_key)?, keyring.seal(&webhook_secret)?);
    conn.begin().await?;
    let written = async {
        conn.execute(
            "INSERT INTO merchants (id, name, secret_key_hash, result_key_sealed, webhook_secret_sealed, notify_url, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            args![&id, name, keyring::sha256_hex(secret_key.as_bytes()), result_sealed, webhook_sealed, notify_url, now],
        )
        .await?;
        for origin in &origins {
            conn.execute(
                "INSERT INTO merchant_origins (merchant_id, origin) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                args![&id, origin],
            )
            .await?;
        }
        Ok(())
    }
    .await;
    conn.finish(written).await?;
    Ok(CreatedMerchant {
        merchant_id: id,
        secret_key,
        result_key: keys::format_key(keys::RESULT_KEY_PREFIX, &result_key),
        webhook_secret: keys::format_webhook_secret(&webhook_secret),
    })
}

/// Merchants by id and by secret-key hash, loaded on first use.
#[derive(Default, Clone)]
pub struct MerchantCache {
    by_id: Arc<RwLock<HashMap<String, Arc<Merchant>>>>,
    by_key_hash: Arc<RwLock<HashMap<String, Arc<Merchant>>>>,
}

impl MerchantCache {
    pub async fn by_id(&self, pool: &Reader, keyring: &Keyring, id: &str) -> Result<Option<Arc<Merchant>>, Error> {
        if let Some(m) = self.by_id.read().map_err(poisoned)?.get(id) {
            return Ok(Some(m.clone()));
        }
        let row = crate::store::pool_optional(pool, "SELECT id, name, secret_key_hash, result_key_sealed, webhook_secret_sealed, notify_url FROM merchants WHERE id = $1", args![id])
        .await?;
        match row {
            Some(row) => Ok(Some(self.insert(pool, keyring, row).await?)),
            None => Ok(None),
        }
    }

    pub async fn by_secret_key(
        &self,
        pool: &Reader,
        keyring: &Keyring,
        key: &str,
    ) -> Result<Option<Arc<Merchant>>, Error> {
        let hash = keyring::sha256_hex(key.as_bytes());
        if let Some(m) = self.by_key_hash.read().map_err(poisoned)?.get(&hash) {
            return Ok(Some(m.clone()));
        }
        let row = crate::store::pool_optional(pool, "SELECT id, name, secret_key_hash, result_key_sealed, webhook_secret_sealed, notify_url FROM merchants WHERE secret_key_hash = $1", args![&hash])
        .await?;
        match row {
            Some(row) => Ok(Some(self.insert(pool, keyring, row).await?)),
            None => Ok(None),
        }
    }

    async fn insert(&self, pool: &Reader, keyring: &Keyring, row: crate::store::Row) -> Result<Arc<Merchant>, Error> {
        let id: String = row.try_get("id")?;
        let key_hash: String = row.try_get("secret_key_hash")?;
        let origins = crate::store::pool_all(
            pool,
            "SELECT origin FROM merchant_origins WHERE merchant_id = $1",
            args![&id],
        )
        .await?
        .iter()
        .map(|r| r.try_get::<String>("origin"))
        .collect::<Result<Vec<_>, _>>()?;
        let merchant = Arc::new(Merchant {
            name: row.try_get("name")?,
            result_key: keyring.open_key32(&row.try_get::<String>("result_key_sealed")?)?,
            webhook_secret: keyring.open(&row.try_get::<String>("webhook_secret_sealed")?)?,
            notify_url: row.try_get("notify_url")?,
            origins,
            id: id.clone(),
        });
        self.by_id.write().map_err(poisoned)?.insert(id, merchant.clone());
        self.by_key_hash
            .write()
            .map_err(poisoned)?
            .insert(key_hash, merchant.clone());
        Ok(merchant)
    }

    /// Whether any merchant registered this origin (CORS preflight for
    /// payer-first, where the merchant is only named in the body).
    pub async fn origin_known(&self, pool: &Reader, origin: &str) -> Result<bool, Error> {
        let row = crate::store::pool_optional(
            pool,
            "SELECT merchant_id FROM merchant_origins WHERE origin = $1 LIMIT 1",
            args![origin],
        )
        .await?;
        Ok(row.is_some())
    }
}

fn poisoned<T>(_: T) -> Error {
    Error::Internal(anyhow::anyhow!("merchant cache lock poisoned"))
}
