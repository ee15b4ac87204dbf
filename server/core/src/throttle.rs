//! Attempts counted per key in fixed windows, in this server's memory: the
//! fast first line against guessing (card testing through the payer
//! endpoints). Each server counts on its own, so N servers allow N times
//! the rate; the durable limits (a card locked after wrong CVCs, failed
//! passwords per user) hold across servers and restarts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Keys remembered at most; past this, keys of past windows are dropped,
/// and if that is not enough, all: forgetting only lets a few more through.
const KEYS_MAX: usize = 100_000;

/// At most `limit` attempts per key in each window of `window_s` seconds;
/// a `limit` of 0 refuses nothing (a limit the operator turned off).
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

    /// Refuses (429, with the seconds until the key's window ends) when
    /// `key` has used up its window; counts nothing.
    pub fn check(&self, key: &str, now: i64, what: &str) -> Result<()> {
        if self.limit == 0 {
            return Ok(());
        }
        let window = self.window_of(now);
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        match counts.get(key) {
            Some((start, n)) if *start == window && *n >= self.limit => Err(Error::RateLimited {
                retry_after_s: u64::try_from(window + self.window_s - now).unwrap_or(1),
                message: format!("Too many failed attempts for this {what}; try again later."),
            }),
            _ => Ok(()),
        }
    }

    /// Counts one attempt for `key` at `now`.
    pub fn count(&self, key: &str, now: i64) {
        if self.limit == 0 {
            return;
        }
        let window = self.window_of(now);
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
        entry.1 = entry.1.saturating_add(1);
    }

    fn window_of(&self, now: i64) -> i64 {
        now - now.rem_euclid(self.window_s)
    }
}

/// The payer endpoints' limits. Only declined card attempts count: card
/// testing is a stream of declines, and a card that pays (a right number,
/// expiry and CVC) is not being guessed, however often it is used.
pub struct PayerThrottles {
    /// Declined attempts per card number (by its keyed hash).
    pub card: Throttle,
    /// Declined payer-first requests per merchant: they need only the
    /// public merchant id, so they are the card tester's way in, with a new
    /// made-up number each time.
    pub payer_first: Throttle,
    /// Failures (declines, wrong passwords) per source address, keyed by
    /// [`source_key`]: one client trying many cards, many merchants or
    /// many users is refused even though each of those stays under its own
    /// limit.
    pub source: Throttle,
}

/// Declined attempts with one card per minute: a buyer retrying typos
/// stays far below it.
pub const CARD_DECLINES_PER_MINUTE: u32 = 10;
/// Declined payer-first requests per merchant per minute.
pub const PAYER_FIRST_DECLINES_PER_MINUTE: u32 = 120;
/// Failures per source address per minute: a buyer who mistypes a card
/// three times, or a shop's whole NAT of buyers, stays far below it; a
/// card tester on one address is slowed to one guess a second.
pub const SOURCE_FAILURES_PER_MINUTE: u32 = 60;

impl PayerThrottles {
    /// The limits, with `source_failures_per_minute` per source address
    /// (0: none, for a server behind a proxy that all clients seem to
    /// come from).
    pub fn new(source_failures_per_minute: u32) -> Self {
        Self {
            card: Throttle::new(CARD_DECLINES_PER_MINUTE, 60),
            payer_first: Throttle::new(PAYER_FIRST_DECLINES_PER_MINUTE, 60),
            source: Throttle::new(source_failures_per_minute, 60),
        }
    }
}

impl Default for PayerThrottles {
    fn default() -> Self {
        Self::new(SOURCE_FAILURES_PER_MINUTE)
    }
}

/// The key a source address is limited by: an IPv4 address itself, an
/// IPv6 address by its /64, since one host or home is routinely given a
/// whole /64 and could otherwise take a new address for each guess. An
/// IPv4 address mapped into IPv6 (a dual-stack socket) is its IPv4 address.
pub fn source_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let net = u128::from(v6) & (u128::MAX << 64);
                format!("{}/64", std::net::Ipv6Addr::from(net))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_limit_until_the_window_ends() {
        let t = Throttle::new(2, 60);
        t.count("k", 120);
        assert!(t.check("k", 125, "card").is_ok());
        t.count("k", 130);
        let refused = t.check("k", 150, "card").unwrap_err();
        assert_eq!((refused.status(), refused.retry_after_s()), (429, Some(30)));
        assert_eq!(refused.body().error.code, "rate_limited");
        assert!(t.check("other", 150, "card").is_ok(), "keys are counted apart");
        assert!(t.check("k", 180, "card").is_ok(), "a new window starts afresh");
    }

    #[test]
    fn a_limit_of_zero_refuses_nothing() {
        let t = Throttle::new(0, 60);
        for _ in 0..10 {
            t.count("k", 120);
        }
        assert!(t.check("k", 121, "address").is_ok());
    }

    #[test]
    fn ipv6_sources_are_limited_per_64_and_ipv4_per_address() {
        let key = |s: &str| source_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff:1:2:3"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
    }
}
