//! Webhook signatures, Standard Webhooks scheme (PROTOCOL section 8).
//!
//! The signed content is `webhook-id.webhook-timestamp.body`; the signature
//! header is `v1,` + standard base64 of its HMAC-SHA256 under the bytes of
//! the `whsec_…` secret. [`sign`] is what the server sends, [`verify`] what a
//! shop (or a test) runs on receipt.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::keys::parse_webhook_secret;

type HmacSha256 = Hmac<Sha256>;

/// Largest allowed distance between `webhook-timestamp` and the receiver's clock.
pub const TIMESTAMP_TOLERANCE_S: i64 = 300;

/// Most signature entries [`verify`] tries; a sender rotating secrets sends two or three.
const SIGNATURES_MAX: usize = 16;

/// "v1," + STANDARD base64(HMAC-SHA256(secret, id.ts.body))
pub fn sign(secret: &[u8], msg_id: &str, timestamp: i64, body: &str) -> String {
    let tag = mac(secret, msg_id, timestamp, body).finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The secret is not `whsec_` + base64.
    #[error("webhook secret is malformed")]
    Secret,
    /// The timestamp header is not an integer or too far from `now`.
    #[error("webhook timestamp is missing, malformed or outside the tolerance")]
    Timestamp,
    /// No `v1` signature in the header matches.
    #[error("no webhook signature matches")]
    Signature,
}

/// `secret` is the "whsec_…" text; `signature_header` may hold several space-separated "v1,…" entries; any match passes (constant-time compare). Timestamp must be within TIMESTAMP_TOLERANCE_S of `now`.
///
/// Entries of other versions (e.g. `v1a,…`) are ignored, as the Standard
/// Webhooks libraries do.
pub fn verify(
    secret: &str,
    msg_id: &str,
    timestamp_header: &str,
    signature_header: &str,
    body: &str,
    now: i64,
) -> Result<(), WebhookError> {
    let key = parse_webhook_secret(secret).ok_or(WebhookError::Secret)?;
    let timestamp = parse_timestamp(timestamp_header)?;
    if now.abs_diff(timestamp) > TIMESTAMP_TOLERANCE_S.unsigned_abs() {
        return Err(WebhookError::Timestamp);
    }
    let expected = mac(&key, msg_id, timestamp, body);
    let matched = signature_header
        .split_ascii_whitespace()
        .take(SIGNATURES_MAX)
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .any(|tag| expected.clone().verify_slice(&tag).is_ok());
    if matched {
        Ok(())
    } else {
        Err(WebhookError::Signature)
    }
}

/// A timestamp header: decimal digits only (no sign, no spaces), as sent by [`sign`].
fn parse_timestamp(header: &str) -> Result<i64, WebhookError> {
    let digits_ok = !header.is_empty() && header.len() <= 19 && header.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok {
        return Err(WebhookError::Timestamp);
    }
    header.parse().map_err(|_| WebhookError::Timestamp)
}

fn mac(secret: &[u8], msg_id: &str, timestamp: i64, body: &str) -> HmacSha256 {
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts a key of any length"),
    };
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::format_webhook_secret;

    const NOW: i64 = 1_700_000_000;
    const BODY: &str = r#"{"type":"settlement.succeeded"}"#;

    fn secret() -> String {
        format_webhook_secret(&[9; 32])
    }

    fn signature() -> String {
        sign(&[9; 32], "evt_1", NOW, BODY)
    }

    #[test]
    fn sign_then_verify() {
        assert_eq!(
            verify(&secret(), "evt_1", "1700000000", &signature(), BODY, NOW),
            Ok(())
        );
    }

    #[test]
    fn tolerance_is_inclusive_of_300_seconds_either_way() {
        let ts = "1700000000";
        assert_eq!(verify(&secret(), "evt_1", ts, &signature(), BODY, NOW + 300), Ok(()));
        assert_eq!(verify(&secret(), "evt_1", ts, &signature(), BODY, NOW - 300), Ok(()));
        assert_eq!(
            verify(&secret(), "evt_1", ts, &signature(), BODY, NOW + 301),
            Err(WebhookError::Timestamp)
        );
        assert_eq!(
            verify(&secret(), "evt_1", ts, &signature(), BODY, NOW - 301),
            Err(WebhookError::Timestamp)
        );
        assert_eq!(
            verify(&secret(), "evt_1", ts, &signature(), BODY, i64::MIN),
            Err(WebhookError::Timestamp)
        );
    }

    #[test]
    fn malformed_timestamps() {
        for ts in [
            "",
            " 1700000000",
            "+1700000000",
            "-1",
            "1.7e9",
            "17000000000000000000000",
            "abc",
        ] {
            assert_eq!(
                verify(&secret(), "evt_1", ts, &signature(), BODY, NOW),
                Err(WebhookError::Timestamp),
                "{ts:?}"
            );
        }
    }

    #[test]
    fn malformed_secret() {
        assert_eq!(
            verify("sk_abc", "evt_1", "1700000000", &signature(), BODY, NOW),
            Err(WebhookError::Secret)
        );
        assert_eq!(
            verify("whsec_", "evt_1", "1700000000", &signature(), BODY, NOW),
            Err(WebhookError::Secret)
        );
    }

    #[test]
    fn other_id_or_version_fails() {
        assert_eq!(
            verify(&secret(), "evt_2", "1700000000", &signature(), BODY, NOW),
            Err(WebhookError::Signature)
        );
        let v1a = signature().replacen("v1,", "v1a,", 1);
        assert_eq!(
            verify(&secret(), "evt_1", "1700000000", &v1a, BODY, NOW),
            Err(WebhookError::Signature)
        );
        assert_eq!(
            verify(&secret(), "evt_1", "1700000000", "", BODY, NOW),
            Err(WebhookError::Signature)
        );
        assert_eq!(
            verify(&secret(), "evt_1", "1700000000", "v1,!!!", BODY, NOW),
            Err(WebhookError::Signature)
        );
    }
}
