//! Attempts counted per key in fixed windows, in this server's memory: the
//! fast first line against guessing (card testing through the payer
//! endpoints). Each server counts on its own, so N servers allow N times
//! the rate; the durable limits (a card locked after wrong CVCs, failed
//! passwords per user) hold across servers and restarts.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Keys remembered at most; past this, keys of past windows are dropped,
/// and if that is not enough, all: forgetting only lets a few more through.
const KEYS_MAX: usize = 100_000;

/// At most `limit` attempts per key in each window of `window_s` seconds.
pub struct Throttle {
    limit: u32,
    window_s: i64,
    /// Key → (start of its window, attempts in it).
    counts: Mutex<HashMap<String, (i64, u32)>>,
}

impl Throttle {
    pub fn new(limit: u32, window_s: i64) -> Self {
        Self {
            limit,
            window_s: window_s.max(1),
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt for `key` at `now`, or refuses it (429 with the
    /// seconds until the key's window ends) when the window is full.
    pub fn hit(&self, key: &str, now: i64, what: &str) -> Result<()> {
        let window = now - now.rem_euclid(self.window_s);
        // A poisoned lock only means another request panicked mid-count;
        // the counts are still usable.
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.len() >= KEYS_MAX && !counts.contains_key(key) {
            counts.retain(|_, (start, _)| *start == window);
            if counts.len() >= KEYS_MAX {
                counts.clear();
            }
        }
        let entry = counts.entry(key.to_string()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= self.limit {
            let retry_after_s = u64::try_from(window + self.window_s - now).unwrap_or(1);
            return Err(Error::RateLimited {
                retry_after_s,
                message: format!("Too many attempts for this {what}; try again later."),
            });
        }
        entry.1 += 1;
        Ok(())
    }
}

/// The payer endpoints' limits.
pub struct PayerThrottles {
    /// Payment attempts per card number (by its keyed hash).
    pub card: Throttle,
    /// Payer-first requests per merchant: they need only the public
    /// merchant id, so they are the card tester's way in.
    pub payer_first: Throttle,
}

/// Attempts with one card per minute: a buyer retrying typos stays far
/// below it; a CVC search (1,000 values) cannot run.
pub const CARD_ATTEMPTS_PER_MINUTE: u32 = 10;
/// Payer-first requests per merchant per minute.
pub const PAYER_FIRST_PER_MINUTE: u32 = 120;

impl Default for PayerThrottles {
    fn default() -> Self {
        Self {
            card: Throttle::new(CARD_ATTEMPTS_PER_MINUTE, 60),
            payer_first: Throttle::new(PAYER_FIRST_PER_MINUTE, 60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_limit_until_the_window_ends() {
        let t = Throttle::new(2, 60);
        assert!(t.hit("k", 120, "card").is_ok());
        assert!(t.hit("k", 130, "card").is_ok());
        let refused = t.hit("k", 150, "card").unwrap_err();
        assert_eq!((refused.status(), refused.retry_after_s()), (429, Some(30)));
        assert_eq!(refused.body().error.code, "rate_limited");
        assert!(t.hit("other", 150, "card").is_ok(), "keys are counted apart");
        assert!(t.hit("k", 180, "card").is_ok(), "a new window starts afresh");
    }
}
