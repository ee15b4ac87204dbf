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
use crate::webhook_targets::{check_notify_url, WebhookPolicy};

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
    /// The SHA-256 (lower-case hex) of the TLS client certificate this
    /// merchant must present with its secret key; None: any the client CA
    /// signed, or none when the server does not ask for one.
    pub client_cert_sha256: Option<String>,
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

/// What `kessai merchant create` is given.
#[derive(Debug, Clone, Copy)]
pub struct NewMerchant<'a> {
    pub name: &'a str,
    pub origins: &'a [String],
    pub notify_url: Option<&'a str>,
    /// Binds the merchant to one TLS client certificate (SHA-256 of its DER, hex).
    pub client_cert_sha256: Option<&'a str>,
    /// Which notify URLs the operator allows (https only, public hosts only, by default).
    pub webhook_policy: WebhookPolicy,
}

/// A new merchant's input, checked and normalized.
pub struct CheckedMerchant {
    pub origins: Vec<String>,
    pub client_cert_sha256: Option<String>,
}

/// The checks of [`create`] that need no database, so that `kessai merchant
/// create` refuses bad input before it creates a database or key file.
pub fn check_new(new: &NewMerchant<'_>) -> anyhow::Result<CheckedMerchant> {
    anyhow::ensure!(
        !new.name.trim().is_empty() && new.name.len() <= 200,
        "--name must be 1 to 200 characters"
    );
    let origins: Vec<String> = new
        .origins
        .iter()
        .map(|o| normalize_origin(o))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    if let Some(url) = new.notify_url {
        check_notify_url(url, "notify_url", new.webhook_policy).map_err(|e| anyhow::anyhow!("--notify-url: {e}"))?;
    }
    let client_cert_sha256 = new.client_cert_sha256.map(normalize_sha256).transpose()?;
    Ok(CheckedMerchant {
        origins,
        client_cert_sha256,
    })
}

/// A SHA-256 fingerprint as 64 lower-case hex digits; colons (as
/// `openssl x509 -fingerprint` prints them) are dropped.
fn normalize_sha256(text: &str) -> anyhow::Result<String> {
    let hex: String = text
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    anyhow::ensure!(
        hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        "--client-cert-sha256 must be the certificate's SHA-256 as 64 hex digits"
    );
    Ok(hex)
}

pub async fn create(conn: &mut Conn, keyring: &Keyring, new: &NewMerchant<'_>) -> anyhow::Result<CreatedMerchant> {
    let checked = check_new(new)?;
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
            "INSERT INTO merchants (id, name, secret_key_hash, result_key_sealed, webhook_secret_sealed, notify_url, created_at, client_cert_sha256)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            args![&id, new.name, keyring::sha256_hex(secret_key.as_bytes()), result_sealed, webhook_sealed, new.notify_url, now, checked.client_cert_sha256.as_deref()],
        )
        .await?;
        for origin in &checked.origins {
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
        let row = crate::store::pool_optional(pool, "SELECT id, name, secret_key_hash, result_key_sealed, webhook_secret_sealed, notify_url, client_cert_sha256 FROM merchants WHERE id = $1", args![id])
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
        let row = crate::store::pool_optional(pool, "SELECT id, name, secret_key_hash, result_key_sealed, webhook_secret_sealed, notify_url, client_cert_sha256 FROM merchants WHERE secret_key_hash = $1", args![&hash])
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
            client_cert_sha256: row.try_get("client_cert_sha256")?,
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
