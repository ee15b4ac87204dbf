//! Wallet sessions: a password login gives a bearer token (`wt_…`) whose
//! SHA-256 alone is stored; failed logins are counted per user and, past a
//! limit, refused before the password is even checked.

use kessai_protocol::wallet::SESSION_TOKEN_PREFIX;

use crate::args;
use crate::error::{Error, Result};
use crate::keyring;
use crate::store::{Conn, Reader};

/// More failed logins than this for one user within the window are refused.
pub const FAILURES_MAX: i64 = 5;
/// The window failed logins are counted over.
pub const FAILURE_WINDOW_S: i64 = 15 * 60;

/// The user a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletUser {
    pub id: String,
    pub name: String,
    pub account_id: String,
}

/// A new random session token.
pub fn new_token() -> String {
    use base64::Engine as _;
    let random = keyring::random32();
    format!(
        "{SESSION_TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    )
}

/// How a token is stored and looked up. Tokens carry 256 random bits, so a
/// plain hash is enough: there is nothing to guess a preimage from.
pub fn token_hash(token: &str) -> String {
    keyring::sha256_hex(token.as_bytes())
}

/// When logins of `user_id` may be tried again, if they are throttled now.
pub async fn throttled_until(pool: &Reader, user_id: &str, now: i64) -> Result<Option<i64>> {
    let rows = crate::store::pool_all(
        pool,
        "SELECT at FROM wallet_login_failures WHERE user_id = $1 AND at > $2 ORDER BY at DESC LIMIT $3",
        args![user_id, now - FAILURE_WINDOW_S, FAILURES_MAX],
    )
    .await?;
    if (rows.len() as i64) < FAILURES_MAX {
        return Ok(None);
    }
    // The oldest of the last FAILURES_MAX failures leaves the window first.
    let oldest: i64 = rows.last().map(|r| r.try_get("at")).transpose()?.unwrap_or(now);
    Ok(Some(oldest + FAILURE_WINDOW_S))
}

/// Records a failed login (in a writer step); old failures are pruned.
pub async fn record_failure(conn: &mut Conn, user_id: &str, now: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO wallet_login_failures (user_id, at) VALUES ($1, $2)",
        args![user_id, now],
    )
    .await?;
    conn.execute(
        "DELETE FROM wallet_login_failures WHERE user_id = $1 AND at <= $2",
        args![user_id, now - FAILURE_WINDOW_S],
    )
    .await?;
    Ok(())
}

/// Starts a session (in a writer step).
pub async fn start(conn: &mut Conn, user_id: &str, token: &str, now: i64, expires_at: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO wallet_sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        args![token_hash(token), user_id, now, expires_at],
    )
    .await?;
    Ok(())
}

/// The user of a live session, or 401: an unknown, ended or expired token
/// all answer alike except that expiry says so (the wallet then asks the
/// user to log in again).
pub async fn authenticate(pool: &Reader, token: &str, now: i64) -> Result<WalletUser> {
    let row = crate::store::pool_optional(
        pool,
        "SELECT s.user_id, s.expires_at, s.ended_at, u.name, u.account_id
         FROM wallet_sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        args![token_hash(token)],
    )
    .await?;
    let Some(row) = row else {
        return Err(Error::unauthorized(
            "session_invalid",
            "The session token is not valid; log in again.",
        ));
    };
    let ended: Option<i64> = row.try_get("ended_at")?;
    let expires_at: i64 = row.try_get("expires_at")?;
    if ended.is_some() || expires_at <= now {
        return Err(Error::unauthorized(
            "session_expired",
            "The session has ended; log in again.",
        ));
    }
    Ok(WalletUser {
        id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        account_id: row.try_get("account_id")?,
    })
}

/// The name of a user, for the login answer.
pub async fn user(pool: &Reader, user_id: &str) -> Result<Option<WalletUser>> {
    let row = crate::store::pool_optional(
        pool,
        "SELECT id, name, account_id FROM users WHERE id = $1",
        args![user_id],
    )
    .await?;
    row.map(|r| {
        Ok(WalletUser {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            account_id: r.try_get("account_id")?,
        })
    })
    .transpose()
}

/// Ends a session (in a writer step). Ending one twice is not an error.
pub async fn end(conn: &mut Conn, token: &str, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE wallet_sessions SET ended_at = $2 WHERE token_hash = $1 AND ended_at IS NULL",
        args![token_hash(token), now],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_stored_only_as_hashes() {
        let (a, b) = (new_token(), new_token());
        assert!(a.starts_with("wt_") && a.len() == 3 + 43, "{a}");
        assert_ne!(a, b);
        let hash = token_hash(&a);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&a[3..]));
        assert_eq!(hash, token_hash(&a));
    }
}
