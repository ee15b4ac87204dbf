//! Transaction numbers (D1): 8 random decimal digits, unique among the
//! institution's open transactions and short-lived, so that guessing one
//! is hopeless: with a few thousand open at once, a guess hits one in tens
//! of thousands of tries, and a user gets 5 wrong numbers per 10 minutes.

use rand::Rng as _;

use crate::args;
use crate::error::{Error, Result};
use crate::store::{Conn, Reader};

/// Wrong numbers one user may send within the window (section 13).
pub const FAILURES_MAX: i64 = 5;
/// The window wrong numbers are counted over.
pub const FAILURE_WINDOW_S: i64 = 10 * 60;

/// A new random number, leading zeros kept.
pub fn random() -> String {
    let n: u32 = rand::rngs::OsRng.gen_range(0..100_000_000);
    format!("{n:08}")
}

/// A string a payer typed, as a number: spaces and dashes between digit
/// groups are dropped ("4821 3907"); None unless 8 digits remain.
pub fn normalize(typed: &str) -> Option<String> {
    let digits: String = typed.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let ok = digits.len() == kessai_protocol::terminal::NUMBER_DIGITS && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(digits)
}

/// Refuses (429) a user who sent too many wrong numbers lately.
pub async fn check_throttle(pool: &Reader, user_id: &str, now: i64) -> Result<()> {
    let rows = crate::store::pool_all(
        pool,
        "SELECT at FROM number_failures WHERE user_id = $1 AND at > $2 ORDER BY at DESC LIMIT $3",
        args![user_id, now - FAILURE_WINDOW_S, FAILURES_MAX],
    )
    .await?;
    if (rows.len() as i64) < FAILURES_MAX {
        return Ok(());
    }
    // The oldest of the last FAILURES_MAX leaves the window first.
    let oldest: i64 = rows.last().map(|r| r.try_get("at")).transpose()?.unwrap_or(now);
    Err(Error::RateLimited {
        retry_after_s: u64::try_from(oldest + FAILURE_WINDOW_S - now).unwrap_or(1).max(1),
        message: "Too many wrong transaction numbers; try again later.".into(),
    })
}

/// Records a wrong number (in a writer step); old ones are pruned.
pub async fn record_failure(conn: &mut Conn, user_id: &str, now: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO number_failures (user_id, at) VALUES ($1, $2)",
        args![user_id, now],
    )
    .await?;
    conn.execute(
        "DELETE FROM number_failures WHERE user_id = $1 AND at <= $2",
        args![user_id, now - FAILURE_WINDOW_S],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_eight_digits() {
        for _ in 0..1000 {
            let n = random();
            assert_eq!(normalize(&n).as_deref(), Some(n.as_str()));
        }
    }

    #[test]
    fn typed_numbers_are_normalized_or_refused() {
        assert_eq!(normalize("4821 3907").as_deref(), Some("48213907"));
        assert_eq!(normalize("4821-3907").as_deref(), Some("48213907"));
        assert_eq!(normalize("00731562").as_deref(), Some("00731562"));
        for bad in ["", "1234567", "123456789", "4821390a", "４８２１３９０７"] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }
}
