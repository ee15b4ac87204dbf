//! Idempotency keys for merchant POSTs (PROTOCOL section 2): the same key
//! with the same body replays the first answer; with another body it is a
//! 409. The key is claimed (inserted) first, inside the same writer step as
//! the operation itself, so two concurrent retries cannot both act, even on
//! two servers sharing one PostgreSQL database.

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

/// What claiming a key found.
#[derive(Debug, Clone)]
pub enum Claim {
    /// The key is this step's: do the work, then [`complete`] it.
    New,
    /// An earlier request with this key and body succeeded: answer this.
    Replay(Replay),
}

/// `status_code` of a claimed key whose work has not committed yet. Only a
/// reader inside the claiming transaction could see it; anyone else waits
/// for that transaction (the row is locked) or sees the finished answer.
const IN_FLIGHT: i64 = 0;

/// Claims the key for this step, before the work it guards. The INSERT is
/// the claim: on PostgreSQL a concurrent step with the same key (on this or
/// another server) blocks on the uncommitted row until the claiming
/// transaction ends, then replays its answer, or takes the key if that
/// transaction rolled back. A check-then-store instead lets both act.
/// A step that fails is rolled back with its claim: errors are not stored.
pub async fn claim(conn: &mut Conn, key: &Key, now: i64) -> Result<Claim> {
    let inserted = conn
        .execute(
            "INSERT INTO idempotency_keys (merchant_id, idem_key, request_hash, status_code, response_body, created_at)
             VALUES ($1, $2, $3, $4, '', $5) ON CONFLICT DO NOTHING",
            args![&key.merchant_id, &key.key, &key.request_hash, IN_FLIGHT, now],
        )
        .await?;
    if inserted == 1 {
        return Ok(Claim::New);
    }
    lookup(conn, key).await.map(Claim::Replay)
}

/// The stored answer of a key someone else claimed.
async fn lookup(conn: &mut Conn, key: &Key) -> Result<Replay> {
    let row = conn
        .fetch_optional(
            "SELECT request_hash, status_code, response_body FROM idempotency_keys WHERE merchant_id = $1 AND idem_key = $2",
            args![&key.merchant_id, &key.key],
        )
        .await?;
    // The INSERT found the row, and rows are deleted only after 48 h.
    let row = row.ok_or_else(|| Error::internal("idempotency key conflicted but is not there"))?;
    let hash: String = row.try_get("request_hash")?;
    if hash != key.request_hash {
        return Err(Error::Conflict {
            code: "idempotency_key_reused",
            message: "This Idempotency-Key was used with a different request; use a new key for a new request.".into(),
            param: Some("Idempotency-Key".into()),
        });
    }
    let code: i64 = row.try_get("status_code")?;
    if code == IN_FLIGHT {
        return Err(in_use());
    }
    let status = u16::try_from(code)
        .ok()
        .filter(|c| (200..600).contains(c))
        .unwrap_or(200);
    Ok(Replay {
        status,
        body: row.try_get("response_body")?,
    })
}

/// A request with this key is still being worked on (Stripe's answer too).
fn in_use() -> Error {
    Error::Conflict {
        code: "idempotency_key_in_use",
        message: "A request with this Idempotency-Key is still in progress; retry it shortly.".into(),
        param: Some("Idempotency-Key".into()),
    }
}

/// Stores the successful answer on the key this step claimed.
pub async fn complete(conn: &mut Conn, key: &Key, status: u16, body: &str) -> Result<()> {
    let updated = conn
        .execute(
            "UPDATE idempotency_keys SET status_code = $3, response_body = $4 WHERE merchant_id = $1 AND idem_key = $2",
            args![&key.merchant_id, &key.key, i64::from(status), body],
        )
        .await?;
    crate::invariant!(updated == 1, "idempotency key completed without its claim");
    Ok(())
}
