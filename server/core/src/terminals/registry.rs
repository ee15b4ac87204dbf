//! Registered billing terminals (D4): who may open transactions for a
//! merchant. A terminal's key is shown once; only its SHA-256 is stored,
//! and a revoked key is refused like an unknown one.

use kessai_protocol::terminal::{RegisteredTerminal, TerminalKind, LABEL_LEN_MAX, TERMINAL_KEY_PREFIX};
use kessai_protocol::Secret;

use crate::args;
use crate::error::{Error, Result};
use crate::keyring;
use crate::store::{Conn, Reader, Row};

/// A terminal, as its requests are authenticated to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminal {
    pub id: String,
    pub merchant_id: String,
    pub kind: TerminalKind,
    pub name: String,
    pub label: String,
    pub location: Option<String>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, merchant_id, kind, name, label, location, revoked_at";

impl Terminal {
    fn from_row(r: &Row) -> Result<Self> {
        let kind: String = r.try_get("kind")?;
        Ok(Self {
            id: r.try_get("id")?,
            merchant_id: r.try_get("merchant_id")?,
            kind: TerminalKind::parse(&kind)
                .ok_or_else(|| Error::internal(format!("terminal kind {kind:?} in the database")))?,
            name: r.try_get("name")?,
            label: r.try_get("label")?,
            location: r.try_get("location")?,
            revoked_at: r.try_get("revoked_at")?,
        })
    }
}

/// What `kessai terminal register` asks for.
#[derive(Debug, Clone)]
pub struct NewTerminal {
    pub merchant_id: String,
    pub kind: TerminalKind,
    pub name: String,
    pub label: Option<String>,
    pub location: Option<String>,
}

/// A label the QR code and the payer's screen can show: 1 to 25 printable
/// ASCII characters (EMV tag 62/07).
pub fn check_label(label: &str) -> std::result::Result<(), String> {
    let ok = !label.is_empty() && label.len() <= LABEL_LEN_MAX && label.bytes().all(|b| (0x20..0x7f).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!("a label is 1 to {LABEL_LEN_MAX} printable ASCII characters"))
    }
}

/// The checks that need no database, so that the CLI refuses bad input
/// before it creates a database or key file.
pub fn check(new: &NewTerminal) -> std::result::Result<(), String> {
    if new.name.trim().is_empty() || new.name.len() > 200 {
        return Err("--name must be 1 to 200 characters".into());
    }
    if let Some(label) = &new.label {
        check_label(label).map_err(|e| format!("--label: {e}"))?;
    }
    if new.location.as_ref().is_some_and(|l| l.len() > 200) {
        return Err("--location must be at most 200 characters".into());
    }
    if !kessai_protocol::ids::is_id(kessai_protocol::ids::MERCHANT, &new.merchant_id) {
        return Err("--merchant must be a merchant id (mch_…)".into());
    }
    Ok(())
}

/// A new random terminal key.
fn new_key() -> String {
    use base64::Engine as _;
    let random = keyring::random32();
    format!(
        "{TERMINAL_KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    )
}

/// Registers a terminal; the key in the answer is never shown again.
pub async fn register(conn: &mut Conn, new: NewTerminal, now: i64) -> Result<RegisteredTerminal> {
    check(&new).map_err(|e| Error::field("terminal_invalid", "terminal", e))?;
    let known = conn
        .fetch_optional("SELECT id FROM merchants WHERE id = $1", args![&new.merchant_id])
        .await?;
    if known.is_none() {
        return Err(Error::not_found("merchant_not_found", "No such merchant."));
    }
    let id = crate::ids::new(kessai_protocol::ids::TERMINAL);
    let label = new
        .label
        .clone()
        .unwrap_or_else(|| id[id.len().saturating_sub(8)..].to_uppercase());
    let key = new_key();
    conn.execute(
        "INSERT INTO terminals (id, merchant_id, kind, name, label, location, key_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![
            &id,
            &new.merchant_id,
            new.kind.as_str(),
            new.name.trim(),
            &label,
            &new.location,
            keyring::sha256_hex(key.as_bytes()),
            now
        ],
    )
    .await?;
    Ok(RegisteredTerminal {
        terminal_id: id,
        terminal_key: Secret::new(key),
        label,
    })
}

/// Revokes a terminal: its key is refused from then on. False if unknown.
pub async fn revoke(conn: &mut Conn, id: &str, now: i64) -> Result<bool> {
    let known = conn
        .fetch_optional("SELECT id FROM terminals WHERE id = $1", args![id])
        .await?;
    conn.execute(
        "UPDATE terminals SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        args![id, now],
    )
    .await?;
    Ok(known.is_some())
}

/// The live terminal a key belongs to, or 401 (unknown and revoked alike).
pub async fn authenticate(pool: &Reader, key: &str) -> Result<Terminal> {
    let row = crate::store::pool_optional(
        pool,
        &format!("SELECT {COLUMNS} FROM terminals WHERE key_hash = $1"),
        args![keyring::sha256_hex(key.as_bytes())],
    )
    .await?;
    match row.map(|r| Terminal::from_row(&r)).transpose()? {
        Some(t) if t.revoked_at.is_none() => Ok(t),
        _ => Err(Error::unauthorized(
            "terminal_key_invalid",
            "The terminal key is not valid, or the terminal was revoked.",
        )),
    }
}

/// A terminal by id, revoked or not.
pub async fn get(pool: &Reader, id: &str) -> Result<Option<Terminal>> {
    let row = crate::store::pool_optional(
        pool,
        &format!("SELECT {COLUMNS} FROM terminals WHERE id = $1"),
        args![id],
    )
    .await?;
    row.map(|r| Terminal::from_row(&r)).transpose()
}

/// The terminals of a merchant, for `kessai terminal list`.
pub async fn list(pool: &Reader, merchant_id: &str) -> Result<Vec<Terminal>> {
    let rows = crate::store::pool_all(
        pool,
        &format!("SELECT {COLUMNS} FROM terminals WHERE merchant_id = $1 ORDER BY created_at, id"),
        args![merchant_id],
    )
    .await?;
    rows.iter().map(Terminal::from_row).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_short_printable_ascii() {
        assert!(check_label("REGISTER-1").is_ok());
        assert!(check_label("").is_err());
        assert!(check_label(&"X".repeat(26)).is_err());
        assert!(check_label("レジ").is_err());
        assert!(check_label("a\nb").is_err());
    }

    #[test]
    fn keys_are_prefixed_and_random() {
        let (a, b) = (new_key(), new_key());
        assert!(a.starts_with("tk_") && a.len() == 3 + 43, "{a}");
        assert_ne!(a, b);
    }
}
