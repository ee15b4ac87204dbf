//! This settling server as an institution (PROTOCOL 11): its id, name, the
//! brands and currencies it offers, the prefix of the cards it issues, and
//! its Ed25519 key. Made at first start; `kessai institution set` renames it.
//! Peers know it by its public document (`/.well-known/kessai-institution`)
//! and pin its key by thumbprint.

use anyhow::Context;
use kessai_protocol::peer::{InstitutionDocument, InstitutionKey, Jwks};
use rand::Rng;
use serde::Serialize;

use crate::args;
use crate::keyring::Keyring;
use crate::store::{Conn, Reader, Row};

const DEFAULT_NAME: &str = "Kessai";
const DEFAULT_BRAND: &str = "kessai-card";
const DEFAULT_CURRENCY: &str = "JPY";
/// Card prefixes are issuer identification numbers: 6 digits, as card
/// networks give them, which leaves 9 random digits and a check digit.
pub const CARD_PREFIX_LEN: usize = 6;

/// This institution. `Debug` shows the key's thumbprint only.
pub struct Institution {
    pub id: String,
    pub name: String,
    pub brands: Vec<String>,
    pub currencies: Vec<String>,
    pub card_prefix: String,
    pub key: InstitutionKey,
}

impl std::fmt::Debug for Institution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Institution")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("card_prefix", &self.card_prefix)
            .field("thumbprint", &self.key.public().thumbprint())
            .finish_non_exhaustive()
    }
}

/// What `kessai institution set` and `show` print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub institution_id: String,
    pub name: String,
    pub brands: Vec<String>,
    pub currencies: Vec<String>,
    pub card_prefix: String,
    pub thumbprint: String,
}

/// What `kessai institution set` may change; None leaves it as it is.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub name: Option<String>,
    pub brands: Option<Vec<String>>,
    pub currencies: Option<Vec<String>>,
    pub card_prefix: Option<String>,
}

impl Institution {
    pub fn summary(&self) -> Summary {
        Summary {
            institution_id: self.id.clone(),
            name: self.name.clone(),
            brands: self.brands.clone(),
            currencies: self.currencies.clone(),
            card_prefix: self.card_prefix.clone(),
            thumbprint: self.key.public().thumbprint(),
        }
    }

    /// The public document peers fetch and pin.
    pub fn document(&self) -> InstitutionDocument {
        InstitutionDocument {
            institution_id: self.id.clone(),
            name: self.name.clone(),
            brands: self.brands.clone(),
            currencies: self.currencies.clone(),
            card_prefix: self.card_prefix.clone(),
            jwks: Jwks {
                keys: vec![self.key.public().jwk()],
            },
        }
    }

    fn from_row(row: &Row, keyring: &Keyring) -> anyhow::Result<Self> {
        let list = |column: &str| -> anyhow::Result<Vec<String>> {
            let text: String = row.try_get(column)?;
            serde_json::from_str(&text).with_context(|| format!("institution {column} {text:?}"))
        };
        Ok(Self {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            brands: list("brands")?,
            currencies: list("currencies")?,
            card_prefix: row.try_get("card_prefix")?,
            key: InstitutionKey::from_seed(&keyring.institution_seed()),
        })
    }
}

const SELECT: &str = "SELECT id, name, brands, currencies, card_prefix FROM institution WHERE singleton = 1";

/// This institution, made with the defaults on first use. Safe when several
/// processes start at once: one insert wins, every one reads the winner.
pub async fn load_or_create(conn: &mut Conn, keyring: &Keyring) -> anyhow::Result<Institution> {
    if let Some(row) = conn.fetch_optional(SELECT, args![]).await? {
        return Institution::from_row(&row, keyring);
    }
    let now = crate::clock::now();
    let id = crate::ids::new(kessai_protocol::ids::INSTITUTION);
    let prefix = default_card_prefix();
    conn.execute(
        "INSERT INTO institution (singleton, id, name, brands, currencies, card_prefix, created_at, updated_at)
         VALUES (1, $1, $2, $3, $4, $5, $6, $6) ON CONFLICT (singleton) DO NOTHING",
        args![
            &id,
            DEFAULT_NAME,
            serde_json::to_string(&[DEFAULT_BRAND])?,
            serde_json::to_string(&[DEFAULT_CURRENCY])?,
            &prefix,
            now
        ],
    )
    .await?;
    let row = conn.fetch_one(SELECT, args![]).await?;
    Institution::from_row(&row, keyring)
}

/// This institution as it is now, for a request (made at start, so present;
/// read each time so that `kessai institution set` shows without a restart).
pub async fn current(pool: &Reader, keyring: &Keyring) -> crate::Result<Institution> {
    let row = crate::store::pool_optional(pool, SELECT, args![])
        .await?
        .ok_or_else(|| crate::Error::internal("this institution has no identity yet"))?;
    Ok(Institution::from_row(&row, keyring)?)
}

/// This institution's id alone: without deriving its key, for the hot
/// paths that only name it (QR codes).
pub async fn current_id(pool: &Reader) -> crate::Result<String> {
    let row = crate::store::pool_optional(pool, "SELECT id FROM institution WHERE singleton = 1", args![])
        .await?
        .ok_or_else(|| crate::Error::internal("this institution has no identity yet"))?;
    Ok(row.try_get("id")?)
}

/// The brand this institution's accounts pay under (its first), without
/// deriving its key.
pub async fn first_brand(pool: &Reader) -> crate::Result<String> {
    let row = crate::store::pool_optional(pool, "SELECT brands FROM institution WHERE singleton = 1", args![])
        .await?
        .ok_or_else(|| crate::Error::internal("this institution has no identity yet"))?;
    let text: String = row.try_get("brands")?;
    let brands: Vec<String> =
        serde_json::from_str(&text).map_err(|e| crate::Error::internal(format!("institution brands {text:?}: {e}")))?;
    Ok(brands.into_iter().next().unwrap_or_default())
}

/// A Visa-range prefix (cards of this institution read as Visa in checkout
/// forms, which know no Kessai brand): 4 and five random digits.
fn default_card_prefix() -> String {
    let mut rng = rand::thread_rng();
    std::iter::once('4')
        .chain((1..CARD_PREFIX_LEN).map(|_| char::from(b'0' + rng.gen_range(0..10u8))))
        .collect()
}

/// Changes what `settings` names, after checking all of it.
pub async fn set(conn: &mut Conn, keyring: &Keyring, settings: Settings) -> anyhow::Result<Institution> {
    check(&settings)?;
    if let Some(prefix) = &settings.card_prefix {
        // Cards route to their issuer by prefix: a prefix a peer issues
        // under would send this institution's own new cards to that peer.
        let taken = conn
            .fetch_optional("SELECT id FROM peers WHERE card_prefix = $1", args![prefix])
            .await?;
        if let Some(row) = taken {
            anyhow::bail!(
                "peer {} issues cards under {prefix}; choose another prefix",
                row.try_get::<String>("id")?
            );
        }
    }
    let mut current = load_or_create(conn, keyring).await?;
    if let Some(name) = settings.name {
        current.name = name;
    }
    if let Some(brands) = settings.brands {
        current.brands = brands;
    }
    if let Some(currencies) = settings.currencies {
        current.currencies = currencies;
    }
    if let Some(prefix) = settings.card_prefix {
        current.card_prefix = prefix;
    }
    conn.execute(
        "UPDATE institution SET name = $1, brands = $2, currencies = $3, card_prefix = $4, updated_at = $5
         WHERE singleton = 1",
        args![
            &current.name,
            serde_json::to_string(&current.brands)?,
            serde_json::to_string(&current.currencies)?,
            &current.card_prefix,
            crate::clock::now()
        ],
    )
    .await?;
    Ok(current)
}

/// Checks `settings` without touching anything, so a command can refuse
/// bad input before it creates a database.
pub fn check(settings: &Settings) -> anyhow::Result<()> {
    if let Some(name) = &settings.name {
        anyhow::ensure!(
            !name.trim().is_empty() && name.chars().count() <= 100,
            "--name must be 1 to 100 characters"
        );
    }
    if let Some(brands) = &settings.brands {
        anyhow::ensure!(
            (1..=20).contains(&brands.len()) && brands.iter().all(|b| is_brand(b)),
            "--brand must be given 1 to 20 times, each 1 to 64 of a-z, 0-9 and -"
        );
    }
    if let Some(currencies) = &settings.currencies {
        anyhow::ensure!(!currencies.is_empty(), "--currency must be given at least once");
        for currency in currencies {
            kessai_protocol::money::check_currency(currency, "--currency").map_err(|e| anyhow::anyhow!(e.message))?;
        }
    }
    if let Some(prefix) = &settings.card_prefix {
        anyhow::ensure!(
            prefix.len() == CARD_PREFIX_LEN && prefix.bytes().all(|b| b.is_ascii_digit()) && !prefix.starts_with('0'),
            "--card-prefix must be {CARD_PREFIX_LEN} digits, not starting with 0"
        );
    }
    Ok(())
}

/// Brand names as the wire carries them: `kessai-card`, `sakura-debit`.
pub fn is_brand(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_before_anything_is_written() {
        let bad = [
            Settings {
                name: Some(" ".into()),
                ..Settings::default()
            },
            Settings {
                brands: Some(vec!["Sakura Debit".into()]),
                ..Settings::default()
            },
            Settings {
                currencies: Some(vec!["yen".into()]),
                ..Settings::default()
            },
            Settings {
                card_prefix: Some("12345".into()),
                ..Settings::default()
            },
            Settings {
                card_prefix: Some("012345".into()),
                ..Settings::default()
            },
        ];
        for settings in bad {
            assert!(check(&settings).is_err(), "{settings:?}");
        }
        let good = Settings {
            name: Some("Sakura Bank".into()),
            brands: Some(vec!["sakura-debit".into()]),
            currencies: Some(vec!["JPY".into(), "USD".into()]),
            card_prefix: Some("412345".into()),
        };
        assert!(check(&good).is_ok());
    }

    #[test]
    fn default_card_prefixes_are_six_digits_in_the_visa_range() {
        for _ in 0..50 {
            let prefix = default_card_prefix();
            assert_eq!(prefix.len(), CARD_PREFIX_LEN);
            assert!(prefix.starts_with('4') && prefix.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
