//! Idempotency keys for merchant POSTs (PROTOCOL section 2): the same key
//! with the same body replays the first answer; with another body it is a
//! 409. The key is looked up and stored inside the same writer step as the
//! operation itself, so two concurrent retries cannot both act.

use crate::args;
use crate::store::Conn;
use axum::http::{HeaderMap, StatusCode};

use crate::error::{ApiError, ApiResult};

pub const HEADER: &str = "idempotency-key";

/// A request's key and the fingerprint of what it asked.
#[derive(Debug, Clone)]
pub struct Key {
    pub merchant_id: String,
    pub key: String,
    pub request_hash: String,
}

/// Reads the header; None when absent.
pub fn from_headers(headers: &HeaderMap, merchant_id: &str, method_path: &str, body: &[u8]) -> ApiResult<Option<Key>> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::field(
                "idempotency_key_invalid",
                "Idempotency-Key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            )
        })?;
    let mut fingerprint = method_path.as_bytes().to_vec();
    fingerprint.push(0);
    fingerprint.extend_from_slice(body);
    Ok(Some(Key {
        merchant_id: merchant_id.to_string(),
        key: key.to_string(),
        request_hash: crate::keyring::sha256_hex(&fingerprint),
    }))
}

/// A stored answer to replay.
#[derive(Debug, Clone)]
pub struct Replay {
    pub status: StatusCode,
    pub body: String,
}

/// Looks the key up inside a writer step.
pub async fn lookup(conn: &mut Conn, key: &Key) -> ApiResult<Option<Replay>> {
    let row = conn.fetch_optional("SELECT request_hash, status_code, response_body FROM idempotency_keys WHERE merchant_id = $1 AND idem_key = $2", args![&key.merchant_id, &key.key])
    .await?;
    let Some(row) = row else { return Ok(None) };
    let hash: String = row.try_get("request_hash")?;
    if hash != key.request_hash {
        return Err(ApiError::Conflict {
            code: "idempotency_key_reused",
            message: "This Idempotency-Key was used with a different request; use a new key for a new request.".into(),
            param: Some("Idempotency-Key".into()),
        });
    }
    let code: i64 = row.try_get("status_code")?;
    let status = u16::try_from(code)
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::OK);
    Ok(Some(Replay {
        status,
        body: row.try_get("response_body")?,
    }))
}

/// Stores a successful answer with the step that produced it.
pub async fn store(conn: &mut Conn, key: &Key, status: StatusCode, body: &str, now: i64) -> ApiResult<()> {
    conn.execute(
        "INSERT INTO idempotency_keys (merchant_id, idem_key, request_hash, status_code, response_body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        args![
            &key.merchant_id,
            &key.key,
            &key.request_hash,
            i64::from(status.as_u16()),
            body,
            now
        ],
    )
    .await?;
    Ok(())
}
