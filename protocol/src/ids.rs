//! Object identifiers: a type prefix and 128 random bits in base32.
//!
//! `stl_` + 26 characters of lowercase RFC 4648 base32 (`a-z2-7`) without
//! padding. The caller supplies the random bytes (this crate has no
//! randomness source, so that it builds for any target).

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

/// exact shape check: prefix + 26 chars of [a-z2-7]
pub fn is_id(prefix: &str, text: &str) -> bool {
    text.strip_prefix(prefix).is_some_and(|random| {
        random.len() == ID_RANDOM_CHARS
            && random
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || (b'2'..=b'7').contains(&byte))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_encodings() {
        assert_eq!(
            format_id(SETTLEMENT, &[0; 16]),
            "stl_aaaaaaaaaaaaaaaaaaaaaaaaaa"
        );
        assert_eq!(
            format_id(MERCHANT, &[0xff; 16]),
            "mch_77777777777777777777777774"
        );
        // RFC 4648 test vector "foobar" is MZXW6YTBOI; padded to 16 bytes here.
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(b"foobar");
        assert!(format_id("", &bytes).starts_with("mzxw6ytboi"));
    }

    #[test]
    fn ids_have_the_exact_shape() {
        for seed in 0u8..=20 {
            let bytes: [u8; 16] = std::array::from_fn(|i| {
                seed.wrapping_mul(37)
                    .wrapping_add(u8::try_from(i).unwrap() * 13)
            });
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
}
