//! Idempotency keys for merchant POSTs (PROTOCOL section 2): the same key
//! with the same body replays the first answer; with another body it is a
//! 409. The key is looked up and stored inside the same writer step as the
//! operation itself, so two concurrent retries cannot both act.

use crate::args;
use crate::store::Conn;

use crate::error::{Error, Result};

pub const HEADER: &str = "idempotency-key";

/// A request's key and the fingerprint of what it asked.
#[derive(Debug, Clone)]
pub struct Key {
    pub merchant_id: String,
    pub key: String,
    pub request_hash: String,
}

impl Key {
    /// The key a request sent (`value`: the header's bytes), with the
    /// fingerprint of the request it came with.
    pub fn new(value: &[u8], merchant_id: &str, method_path: &str, body: &[u8]) -> Result<Key> {
        let key = std::str::from_utf8(value)
            .ok()
            .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| (0x20..0x7f).contains(&b)))
            .ok_or_else(|| {
                Error::field(
                    "idempotency_key_invalid",
                    "Idempotency-Key",
                    "Idempotency-Key must be 1 to 255 visible ASCII characters.",
                )
            })?;
        let mut fingerprint = method_path.as_bytes().to_vec();
        fingerprint.push(0);
        fingerprint.extend_from_slice(body);
        Ok(Key {
            merchant_id: merchant_id.to_string(),
            key: key.to_string(),
            request_hash: crate::keyring::sha256_hex(&fingerprint),
        })
    }
}

/// A stored answer to replay.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The HTTP status of the first answer.
    pub status: u16,
    pub body: String,
}

/// Looks the key up inside a writer step.
pub async fn lookup(conn: &mut Conn, key: &Key) -> Result<Option<Replay>> {
    let row = conn.fetch_optional("SELECT request_hash, status_code, response_body FROM idempotency_keys WHERE merchant_id = $1 AND idem_key = $2", args![&key.merchant_id, &key.key])
    .await?;
    let Some(row) = row else { return Ok(None) };
    let hash: String = row.try_get("request_hash")?;
    if hash != key.request_hash {
        return Err(Error::Conflict {
            code: "idempotency_key_reused",
            message: "This Idempotency-Key was used with a different request; use a new key for a new request.".into(),
            param: Some("Idempotency-Key".into()),
        });
    }
    let code: i64 = row.try_get("status_code")?;
    let status = u16::try_from(code)
        .ok()
        .filter(|c| (200..600).contains(c))
        .unwrap_or(200);
    Ok(Some(Replay {
        status,
        body: row.try_get("response_body")?,
    }))
}

/// Stores a successful answer with the step that produced it.
pub async fn store(conn: &mut Conn, key: &Key, status: u16, body: &str, now: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO idempotency_keys (merchant_id, idem_key, request_hash, status_code, response_body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        args![
            &key.merchant_id,
            &key.key,
            &key.request_hash,
            i64::from(status),
            body,
            now
        ],
    )
    .await?;
    Ok(())
}
