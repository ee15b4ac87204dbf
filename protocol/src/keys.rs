//! Keys as people see them: a prefix and the key's bytes in base64.
//!
//! Result keys (`rk_`), user keys (`uk_`) and secret keys (`sk_`) are 32
//! random bytes in base64url without padding (PROTOCOL section 7). Webhook
//! secrets follow Standard Webhooks instead: `whsec_` and standard base64
//! with padding.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

/// Prefix of a merchant's result key (verifies result tokens).
pub const RESULT_KEY_PREFIX: &str = "rk_";
/// Prefix of a wallet user's key (signs payer authenticators).
pub const USER_KEY_PREFIX: &str = "uk_";
/// Prefix of a merchant's secret API key.
pub const SECRET_KEY_PREFIX: &str = "sk_";
/// Prefix of a webhook signing secret.
pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

/// Most bytes a webhook secret may decode to; generous, it only bounds input.
const WEBHOOK_SECRET_BYTES_MAX: usize = 1024;

/// Standard base64 that accepts the secret with or without its `=` padding,
/// as Standard Webhooks libraries do.
const STANDARD_PADDING_OPTIONAL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// prefix + base64url of the 32 bytes, without padding.
pub fn format_key(prefix: &str, bytes: &[u8; 32]) -> String {
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The 32 bytes of a key written by [`format_key`] with `prefix`; `None` for
/// any other prefix, length or encoding.
pub fn parse_key(prefix: &str, text: &str) -> Option<[u8; 32]> {
    let encoded = text.strip_prefix(prefix)?;
    if encoded.len() != 43 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
    bytes.try_into().ok()
}

/// "whsec_" + standard base64 with padding.
pub fn format_webhook_secret(bytes: &[u8; 32]) -> String {
    format!("{WEBHOOK_SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The bytes of a `whsec_…` secret of any non-zero length (padding optional).
pub fn parse_webhook_secret(text: &str) -> Option<Vec<u8>> {
    let encoded = text.strip_prefix(WEBHOOK_SECRET_PREFIX)?;
    if encoded.is_empty() || encoded.len() > WEBHOOK_SECRET_BYTES_MAX * 4 / 3 + 4 {
        return None;
    }
    STANDARD_PADDING_OPTIONAL.decode(encoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting(start: u8) -> [u8; 32] {
        std::array::from_fn(|index| start + u8::try_from(index).unwrap())
    }

    #[test]
    fn format_and_parse_round_trip() {
        let bytes = counting(0);
        let text = format_key(RESULT_KEY_PREFIX, &bytes);
        assert_eq!(text, "rk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
        assert_eq!(parse_key(RESULT_KEY_PREFIX, &text), Some(bytes));
    }

    #[test]
    fn parse_key_refuses_wrong_prefix_length_and_alphabet() {
        let text = format_key(USER_KEY_PREFIX, &counting(100));
        assert_eq!(parse_key(RESULT_KEY_PREFIX, &text), None);
        assert_eq!(parse_key(USER_KEY_PREFIX, &text[..text.len() - 1]), None);
        assert_eq!(parse_key(USER_KEY_PREFIX, &format!("{text}A")), None);
        assert_eq!(parse_key(USER_KEY_PREFIX, &format!("{text}=")), None);
        assert_eq!(parse_key(USER_KEY_PREFIX, &text.replace('-', "+")), None);
        assert_eq!(parse_key(SECRET_KEY_PREFIX, "sk_"), None);
    }

    #[test]
    fn webhook_secret_round_trips_with_padding() {
        let bytes = counting(200);
        let text = format_webhook_secret(&bytes);
        assert_eq!(text, "whsec_yMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5uc=");
        assert_eq!(parse_webhook_secret(&text), Some(bytes.to_vec()));
        assert_eq!(parse_webhook_secret(text.trim_end_matches('=')), Some(bytes.to_vec()));
    }

    #[test]
    fn webhook_secret_of_other_lengths() {
        assert_eq!(parse_webhook_secret("whsec_AQID"), Some(vec![1, 2, 3]));
        assert_eq!(parse_webhook_secret("whsec_"), None);
        assert_eq!(parse_webhook_secret("AQID"), None);
        assert_eq!(parse_webhook_secret("whsec_!!!!"), None);
    }
}
