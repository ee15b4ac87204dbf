//! Object identifiers: a type prefix and 128 random bits in base32.
//!
//! `stl_` + 26 characters of lowercase RFC 4648 base32 (`a-z2-7`) without
//! padding. The caller supplies the random bytes (this crate has no
//! randomness source, so that it builds for any target).
//!
//! Ids of objects made in volume (settlements, events, refunds) may also
//! carry their creation time first: `stl_` + 10 characters of milliseconds
//! in lowercase base32hex (`0-9a-v`, which sorts like the values it encodes),
//! then the same 26 random characters. Such ids sort by creation time, so the
//! database appends them instead of writing all over its indexes; the
//! random part, and so the protocol's 128 bits of entropy, is unchanged.

/// Prefix of merchant ids.
pub const MERCHANT: &str = "mch_";
/// Prefix of settlement ids.
pub const SETTLEMENT: &str = "stl_";
/// Prefix of wallet user ids.
pub const USER: &str = "usr_";
/// Prefix of terminal ids.
pub const TERMINAL: &str = "trm_";
/// Prefix of event ids (also webhook ids).
pub const EVENT: &str = "evt_";
/// Prefix of refund ids.
pub const REFUND: &str = "ref_";
/// Prefix of ledger account ids.
pub const ACCOUNT: &str = "acc_";
/// Prefix of institution ids (PROTOCOL section 11).
pub const INSTITUTION: &str = "ins_";
/// Prefix of payment authorization ids, the `jti` of a payment authorization.
pub const PAYMENT_AUTHORIZATION: &str = "pau_";

/// Characters after the prefix: ceil(128 / 5).
pub const ID_RANDOM_CHARS: usize = 26;

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// prefix + 26 chars lowercase RFC4648 base32 without padding (a-z2-7), 128 bits
pub fn format_id(prefix: &str, random: &[u8; 16]) -> String {
    let mut id = String::with_capacity(prefix.len() + ID_RANDOM_CHARS);
    id.push_str(prefix);
    let mut buffer: u32 = 0;
    let mut buffered_bits: u32 = 0;
    for &byte in random {
        buffer = (buffer << 8) | u32::from(byte);
        buffered_bits += 8;
        while buffered_bits >= 5 {
            buffered_bits -= 5;
            id.push(symbol(buffer >> buffered_bits));
        }
        buffer &= (1 << buffered_bits) - 1;
    }
    if buffered_bits > 0 {
        id.push(symbol(buffer << (5 - buffered_bits)));
    }
    debug_assert_eq!(id.len(), prefix.len() + ID_RANDOM_CHARS);
    id
}

fn symbol(index: u32) -> char {
    char::from(ALPHABET[usize::try_from(index & 31).unwrap_or(0)])
}

/// Characters of the time part of an ordered id: 50 bits of milliseconds.
pub const ID_TIME_CHARS: usize = 10;

const TIME_ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";

/// prefix + 10 chars of `unix_ms` in base32hex (sortable) + the 26 random chars of [`format_id`].
pub fn format_ordered_id(prefix: &str, unix_ms: u64, random: &[u8; 16]) -> String {
    let mut id = String::with_capacity(prefix.len() + ID_TIME_CHARS + ID_RANDOM_CHARS);
    id.push_str(prefix);
    for i in (0..ID_TIME_CHARS).rev() {
        let index = (unix_ms >> (5 * i)) & 31;
        id.push(char::from(TIME_ALPHABET[usize::try_from(index).unwrap_or(0)]));
    }
    id.push_str(&format_id("", random));
    id
}

fn is_random_part(text: &str) -> bool {
    text.len() == ID_RANDOM_CHARS
        && text
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || (b'2'..=b'7').contains(&byte))
}

/// exact shape check: prefix + 26 chars of [a-z2-7], optionally preceded by
/// the 10 chars of [0-9a-v] of an ordered id
pub fn is_id(prefix: &str, text: &str) -> bool {
    text.strip_prefix(prefix).is_some_and(|rest| match rest.len() {
        ID_RANDOM_CHARS => is_random_part(rest),
        n if n == ID_TIME_CHARS + ID_RANDOM_CHARS => {
            let (time, random) = rest.split_at(ID_TIME_CHARS);
            time.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b)) && is_random_part(random)
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_ids_sort_by_time_and_keep_the_random_part() {
        let early = format_ordered_id(SETTLEMENT, 1_700_000_000_000, &[0xff; 16]);
        let late = format_ordered_id(SETTLEMENT, 1_700_000_000_001, &[0; 16]);
        assert!(early < late, "{early} < {late}");
        assert_eq!(early.len(), SETTLEMENT.len() + ID_TIME_CHARS + ID_RANDOM_CHARS);
        assert!(early.ends_with(&format_id("", &[0xff; 16])));
        assert!(is_id(SETTLEMENT, &early) && is_id(SETTLEMENT, &late));
        assert!(!is_id(SETTLEMENT, &format!("{}x", &early)));
        assert!(
            !is_id(SETTLEMENT, "stl_wwwwwwwwwwaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            "time part out of alphabet"
        );
        // Sorted order holds across the whole range of the time alphabet.
        let mut ids: Vec<String> = [0u64, 9, 10, 31, 32, 1 << 40, (1 << 50) - 1]
            .iter()
            .map(|t| format_ordered_id("", *t, &[7; 16]))
            .collect();
        let sorted = {
            let mut s = ids.clone();
            s.sort();
            s
        };
        assert_eq!(ids, sorted);
        ids.dedup();
        assert_eq!(ids.len(), 7);
    }

    #[test]
    fn known_encodings() {
        assert_eq!(format_id(SETTLEMENT, &[0; 16]), "stl_aaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert_eq!(format_id(MERCHANT, &[0xff; 16]), "mch_77777777777777777777777774");
        // RFC 4648 test vector "foobar" is MZXW6YTBOI; padded to 16 bytes here.
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(b"foobar");
        assert!(format_id("", &bytes).starts_with("mzxw6ytboi"));
    }

    #[test]
    fn ids_have_the_exact_shape() {
        for seed in 0u8..=20 {
            let bytes: [u8; 16] =
                std::array::from_fn(|i| seed.wrapping_mul(37).wrapping_add(u8::try_from(i).unwrap() * 13));
            let id = format_id(USER, &bytes);
            assert!(is_id(USER, &id), "{id}");
            assert!(!is_id(MERCHANT, &id));
        }
    }

    #[test]
    fn is_id_is_strict() {
        assert!(is_id(EVENT, "evt_abcdefghijklmnopqrstuvwxyz"));
        assert!(!is_id(EVENT, "evt_test"));
        assert!(!is_id(EVENT, "evt_abcdefghijklmnopqrstuvwxy"));
        assert!(!is_id(EVENT, "evt_abcdefghijklmnopqrstuvwxyz2"));
        assert!(!is_id(EVENT, "evt_ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
        assert!(!is_id(EVENT, "evt_abcdefghijklmnopqrstuvwx01"));
        assert!(!is_id(EVENT, "ref_abcdefghijklmnopqrstuvwxyz"));
    }

    #[test]
    fn institution_and_payment_authorization_ids() {
        let institution = format_id(INSTITUTION, &[0; 16]);
        assert!(is_id(INSTITUTION, &institution), "{institution}");
        let id = format_id(PAYMENT_AUTHORIZATION, &[1; 16]);
        assert!(is_id(PAYMENT_AUTHORIZATION, &id), "{id}");
        assert!(!is_id(INSTITUTION, &id));
    }
}
