//! What a billing terminal may learn of its payer and ask of them: the
//! name and portrait shown to the clerk (D6), the PIN a challenge asks for
//! (D8), and the birth date an age restriction is judged by (C8), which
//! never leaves the institution.

use crate::args;
use crate::error::{Error, Result};
use crate::instruments;
use crate::store::{Conn, Reader};

/// The longest portrait accepted: a phone photo scaled for a clerk's screen.
pub const PORTRAIT_LEN_MAX: usize = 256 * 1024;
/// Image types a portrait may have: the browser shows them as they are.
const PORTRAIT_TYPES: &[(&str, &[u8])] = &[
    ("image/png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", b"\xff\xd8\xff"),
    ("image/webp", b"RIFF"),
];

/// A payer as the institution holds them.
#[derive(Debug, Clone)]
pub struct Payer {
    pub id: String,
    pub name: String,
    pub account_id: String,
    pub pin_hash: Option<String>,
    pub has_portrait: bool,
    pub birth_date: Option<String>,
}

/// The profile `kessai user create` may set besides name and password.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub pin: Option<String>,
    /// The image file's bytes.
    pub portrait: Option<Vec<u8>>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
}

/// The checks that need no database: a PIN of 4 to 8 digits, a portrait of
/// a known image type within the size, a real calendar date.
pub fn check_profile(profile: &Profile) -> std::result::Result<Option<&'static str>, String> {
    if let Some(pin) = &profile.pin {
        if !(4..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err("--pin must be 4 to 8 digits".into());
        }
    }
    if let Some(date) = &profile.birth_date {
        days_from_date(date).ok_or("--birth-date must be a date YYYY-MM-DD")?;
    }
    let Some(bytes) = &profile.portrait else {
        return Ok(None);
    };
    if bytes.len() > PORTRAIT_LEN_MAX {
        return Err(format!("--portrait must be at most {} KB", PORTRAIT_LEN_MAX / 1024));
    }
    PORTRAIT_TYPES
        .iter()
        .find(|(_, magic)| bytes.starts_with(magic))
        .map(|(t, _)| Some(*t))
        .ok_or_else(|| "--portrait must be a PNG, JPEG or WebP image".to_string())
}

/// Stores the profile of a user (PIN hashed like passwords).
pub async fn set_profile(conn: &mut Conn, user_id: &str, profile: &Profile) -> anyhow::Result<()> {
    let portrait_type = check_profile(profile).map_err(anyhow::Error::msg)?;
    if let Some(pin) = &profile.pin {
        let hash = instruments::hash_secret(pin)?;
        conn.execute("UPDATE users SET pin_hash = $2 WHERE id = $1", args![user_id, hash])
            .await?;
    }
    if let (Some(bytes), Some(kind)) = (&profile.portrait, portrait_type) {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        conn.execute(
            "UPDATE users SET portrait_type = $2, portrait_b64 = $3 WHERE id = $1",
            args![user_id, kind, b64],
        )
        .await?;
    }
    if let Some(date) = &profile.birth_date {
        conn.execute("UPDATE users SET birth_date = $2 WHERE id = $1", args![user_id, date])
            .await?;
    }
    Ok(())
}

/// Checks a birth date as `--birth-date` takes it: a real `YYYY-MM-DD`.
pub fn check_birth_date(date: &str) -> std::result::Result<(), String> {
    days_from_date(date)
        .map(|_| ())
        .ok_or_else(|| "--birth-date must be a date YYYY-MM-DD".into())
}

/// Puts a birth date on a card (`kessai card issue --birth-date`), found by
/// the account it was issued with: an age restriction is judged by it when
/// the card pays (C8).
pub async fn set_card_birth_date(conn: &mut Conn, account_id: &str, date: &str) -> anyhow::Result<()> {
    check_birth_date(date).map_err(anyhow::Error::msg)?;
    let updated = conn
        .execute(
            "UPDATE cards SET birth_date = $2 WHERE account_id = $1",
            args![account_id, date],
        )
        .await?;
    anyhow::ensure!(updated == 1, "no card has account {account_id}");
    Ok(())
}

/// A payer by id.
pub async fn get(pool: &Reader, user_id: &str) -> Result<Option<Payer>> {
    let row = crate::store::pool_optional(
        pool,
        "SELECT id, name, account_id, pin_hash, portrait_type, birth_date FROM users WHERE id = $1",
        args![user_id],
    )
    .await?;
    row.map(|r| {
        let portrait: Option<String> = r.try_get("portrait_type")?;
        Ok(Payer {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            account_id: r.try_get("account_id")?,
            pin_hash: r.try_get("pin_hash")?,
            has_portrait: portrait.is_some(),
            birth_date: r.try_get("birth_date")?,
        })
    })
    .transpose()
}

/// The portrait's type and bytes, if on file.
pub async fn portrait(pool: &Reader, user_id: &str) -> Result<Option<(String, Vec<u8>)>> {
    use base64::Engine as _;
    let row = crate::store::pool_optional(
        pool,
        "SELECT portrait_type, portrait_b64 FROM users WHERE id = $1",
        args![user_id],
    )
    .await?;
    let Some(row) = row else { return Ok(None) };
    let (kind, b64): (Option<String>, Option<String>) = (row.try_get("portrait_type")?, row.try_get("portrait_b64")?);
    match (kind, b64) {
        (Some(kind), Some(b64)) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| Error::internal(format!("portrait of {user_id}: {e}")))?;
            Ok(Some((kind, bytes)))
        }
        _ => Ok(None),
    }
}

/// Whether `pin` is the payer's PIN; false without a PIN on file (after
/// the same work).
pub async fn pin_matches(payer: &Payer, pin: String) -> Result<bool> {
    if pin.len() > 64 {
        return Ok(false);
    }
    instruments::verify_hash(payer.pin_hash.clone(), pin).await
}

/// The birth date on file for the holder of a ledger account: the wallet
/// user's (`kessai user create --birth-date`) or the card's (`kessai card
/// issue --birth-date`). Each of them has its own account.
pub async fn birth_date_of_account(conn: &mut Conn, account_id: &str) -> Result<Option<String>> {
    let row = conn
        .fetch_optional(
            "SELECT birth_date FROM users WHERE account_id = $1 AND birth_date IS NOT NULL
             UNION ALL
             SELECT birth_date FROM cards WHERE account_id = $1 AND birth_date IS NOT NULL",
            args![account_id],
        )
        .await?;
    row.map(|r| r.try_get::<String>("birth_date"))
        .transpose()
        .map_err(Into::into)
}

/// Whether an age restriction refuses the holder of `account` (C8): there
/// is one, and the birth date on file says younger, or there is none on
/// file, or no account of this institution pays.
pub async fn restricted(conn: &mut Conn, min_age: Option<u32>, account: Option<&str>, now: i64) -> Result<bool> {
    let Some(min_age) = min_age else { return Ok(false) };
    let birth_date = match account {
        Some(account) => birth_date_of_account(conn, account).await?,
        None => None,
    };
    Ok(!old_enough(birth_date.as_deref(), min_age, now))
}

/// Whether the payer is at least `min_age` years old at `now` by the birth
/// date on file; no birth date means no (section 13: restricted).
pub fn old_enough(birth_date: Option<&str>, min_age: u32, now: i64) -> bool {
    let Some(date) = birth_date.filter(|d| days_from_date(d).is_some()) else {
        return false;
    };
    let (by, bm, bd) = ymd(date);
    let (ty, tm, td) = civil(now.div_euclid(86_400));
    let mut age = ty - by;
    if (tm, td) < (bm, bd) {
        age -= 1;
    }
    age >= i64::from(min_age)
}

fn ymd(date: &str) -> (i64, i64, i64) {
    let mut parts = date.split('-').map(|p| p.parse::<i64>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// Days since 1970-01-01 of a valid `YYYY-MM-DD`, else None.
fn days_from_date(date: &str) -> Option<i64> {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = ymd(date);
    if !(1900..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    // Howard Hinnant's days_from_civil; valid only if it round-trips.
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (civil(days) == (y, m, d)).then_some(days)
}

/// (year, month, day) of days since 1970-01-01.
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-02 00:00:00 UTC.
    const NOW: i64 = 1_796_169_600;

    #[test]
    fn ages_are_whole_years_from_the_birth_date() {
        assert_eq!(civil(NOW / 86_400), (2026, 12, 2));
        assert!(old_enough(Some("2006-12-02"), 20, NOW), "twenty today");
        assert!(!old_enough(Some("2006-12-03"), 20, NOW), "twenty tomorrow");
        assert!(old_enough(Some("1960-02-29"), 20, NOW));
        assert!(!old_enough(None, 0, NOW), "no birth date on file is restricted");
        assert!(!old_enough(Some("garbage"), 0, NOW));
    }

    #[test]
    fn profiles_are_checked_before_anything_is_stored() {
        let ok = Profile {
            pin: Some("1234".into()),
            portrait: Some(b"\x89PNG\r\n\x1a\nrest".to_vec()),
            birth_date: Some("2000-02-29".into()),
        };
        assert_eq!(check_profile(&ok), Ok(Some("image/png")));
        for bad in [
            Profile {
                pin: Some("12a4".into()),
                ..Default::default()
            },
            Profile {
                pin: Some("123".into()),
                ..Default::default()
            },
            Profile {
                birth_date: Some("2001-02-29".into()),
                ..Default::default()
            },
            Profile {
                birth_date: Some("2001-2-3".into()),
                ..Default::default()
            },
            Profile {
                portrait: Some(b"GIF89a".to_vec()),
                ..Default::default()
            },
            Profile {
                portrait: Some(
                    vec![0xff, 0xd8, 0xff]
                        .into_iter()
                        .chain(std::iter::repeat_n(0, PORTRAIT_LEN_MAX))
                        .collect(),
                ),
                ..Default::default()
            },
        ] {
            assert!(check_profile(&bad).is_err(), "{bad:?}");
        }
    }
}
