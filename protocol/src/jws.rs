//! Authenticators: compact JWS with HS256 (PROTOCOL section 7).
//!
//! Every authenticator is a JWT any library verifies: header
//! `{"alg":"HS256","typ":"JWT"}`, claims as JSON, HMAC-SHA256 over
//! `header.payload` with the 32 bytes of a result key or user key
//! ([`crate::keys`]). [`sign`] and [`verify`] are the only two operations;
//! [`ResultClaims`] and [`PayerClaims`] are the two claim sets.
//!
//! [`verify`] checks the algorithm from the parsed header (never trusting
//! `none` or another algorithm), compares the MAC in constant time, and only
//! then parses the claims. Checking the claims' values (`aud`, `sub`, expiry,
//! `jti` reuse) is the caller's job.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The one header this crate signs with.
const HEADER_JSON: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Longest token [`verify`] looks at; real authenticators are well under 1 KiB.
const TOKEN_BYTES_MAX: usize = 16 * 1024;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// Not three base64url parts, or the header is not a JSON object.
    #[error("the token is not a compact JWS")]
    Malformed,
    /// The header names an algorithm other than HS256 (including `none`).
    #[error("the token's algorithm is not HS256")]
    Algorithm,
    /// The MAC does not match the key.
    #[error("the token's signature does not verify")]
    Signature,
    /// The signature holds but the claims do not parse as the expected type.
    #[error("the token's claims are not as expected: {0}")]
    Claims(String),
}

/// Signs `claims` as a compact JWS with HS256; header exactly
/// `{"alg":"HS256","typ":"JWT"}`, all parts base64url without padding.
///
/// # Panics
///
/// If `claims` cannot be serialized as JSON, which is a programmer error:
/// it never happens for structs of strings and integers such as
/// [`ResultClaims`] and [`PayerClaims`]. Use [`try_sign`] for other types.
pub fn sign<C: Serialize>(key: &[u8; 32], claims: &C) -> String {
    match try_sign(key, claims) {
        Ok(token) => token,
        Err(error) => panic!("JWS claims must serialize to JSON: {error}"),
    }
}

/// [`sign`] for claim types whose serialization can fail (such as maps with
/// non-string keys).
pub fn try_sign<C: Serialize>(key: &[u8; 32], claims: &C) -> Result<String, serde_json::Error> {
    let payload = serde_json::to_vec(claims)?;
    let mut signing_input = URL_SAFE_NO_PAD.encode(HEADER_JSON);
    signing_input.push('.');
    signing_input.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let signature = mac(key, signing_input.as_bytes()).finalize().into_bytes();
    signing_input.push('.');
    signing_input.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(signing_input)
}

/// Verifies an HS256 compact JWS made with `key` and returns its claims.
///
/// The header is parsed as JSON (key order does not matter) and must say
/// `"alg":"HS256"`; a `crit` header is refused as no extension is
/// understood. The MAC is compared in constant time before the claims are
/// parsed.
pub fn verify<C: DeserializeOwned>(key: &[u8; 32], token: &str) -> Result<C, JwsError> {
    let [header_b64, payload_b64, signature_b64] = split_compact(token, TOKEN_BYTES_MAX).ok_or(JwsError::Malformed)?;
    check_header(&decode_part(header_b64)?)?;
    let payload = decode_part(payload_b64)?;
    let signature = decode_part(signature_b64)?;

    let signing_input_len = header_b64.len() + 1 + payload_b64.len();
    let signing_input = &token.as_bytes()[..signing_input_len];
    mac(key, signing_input)
        .verify_slice(&signature)
        .map_err(|_| JwsError::Signature)?;

    serde_json::from_slice(&payload).map_err(|error| JwsError::Claims(error.to_string()))
}

fn decode_part(part: &str) -> Result<Vec<u8>, JwsError> {
    decode_compact_part(part).ok_or(JwsError::Malformed)
}

/// The three parts of a compact JWS (RFC 7515 §7.1), or None when it is
/// longer than `len_max` or has not exactly three. Shared by the HS256 and
/// the EdDSA (peer) tokens.
pub(crate) fn split_compact(token: &str, len_max: usize) -> Option<[&str; 3]> {
    if token.len() > len_max {
        return None;
    }
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None) => Some([header, payload, signature]),
        _ => None,
    }
}

/// One base64url part (no padding) decoded; None when empty or not base64url.
pub(crate) fn decode_compact_part(part: &str) -> Option<Vec<u8>> {
    if part.is_empty() {
        return None;
    }
    URL_SAFE_NO_PAD.decode(part).ok()
}

fn check_header(header: &[u8]) -> Result<(), JwsError> {
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(header).map_err(|_| JwsError::Malformed)?;
    if header.get("alg").and_then(serde_json::Value::as_str) != Some("HS256") {
        return Err(JwsError::Algorithm);
    }
    if header.contains_key("crit") {
        return Err(JwsError::Malformed);
    }
    Ok(())
}

fn mac(key: &[u8; 32], message: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this arm is unreachable; it keeps
    // the function total without a panic.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts a key of any length"),
    };
    mac.update(message);
    mac
}

/// Result token claims (PROTOCOL §7). Field order matters: it must equal the vector so that signing the vector claims reproduces the vector token exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResultClaims {
    /// Always `"kessai"`.
    pub iss: String,
    /// The merchant id for a result token; the user id for a payer token.
    pub aud: String,
    /// The settlement id.
    pub sub: String,
    /// The shop's order id.
    pub order_id: String,
    /// The settlement's status when the token was issued.
    pub status: String,
    /// The settled total in minor units.
    pub total: u64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// The order digest both requests agreed on.
    pub order_digest: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Unique token id.
    pub jti: String,
}

/// Payer authenticator claims: sid when the settlement exists; order_id + merchant_id when payer-first. Option fields skip_serializing_if none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayerClaims {
    /// The wallet user id (`usr_…`).
    pub sub: String,
    /// The settlement id, when the settlement already exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The shop's order id, when paying before the shop's request (payer-first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The merchant id, when paying payer-first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_id: Option<String>,
    /// The digest of the order being paid.
    pub order_digest: String,
    /// The total being paid in minor units.
    pub total: u64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Unique token id; each is accepted once.
    pub jti: String,
}

/// How long a payer authenticator is valid after its `iat`, in seconds.
pub const PAYER_AUTHENTICATOR_TTL_S: i64 = 300;

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn claims() -> ResultClaims {
        ResultClaims {
            iss: "kessai".into(),
            aud: "mch_a".into(),
            sub: "stl_a".into(),
            order_id: "1".into(),
            status: "succeeded".into(),
            total: 1155,
            currency: "JPY".into(),
            order_digest: "sha256:x".into(),
            iat: 1_700_000_000,
            jti: "j".into(),
        }
    }

    /// A token with `header` and the MAC made with KEY over it.
    fn token_with_header(header: &str) -> String {
        let payload = serde_json::to_vec(&claims()).unwrap();
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
        let signature = mac(&KEY, input.as_bytes()).finalize().into_bytes();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let token = sign(&KEY, &claims());
        assert!(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
        assert_eq!(verify::<ResultClaims>(&KEY, &token), Ok(claims()));
    }

    #[test]
    fn other_key_fails_signature() {
        let token = sign(&KEY, &claims());
        assert_eq!(verify::<ResultClaims>(&[8; 32], &token), Err(JwsError::Signature));
    }

    #[test]
    fn header_key_order_does_not_matter() {
        let token = token_with_header(r#"{"typ":"JWT","alg":"HS256"}"#);
        assert_eq!(verify::<ResultClaims>(&KEY, &token), Ok(claims()));
        let token = token_with_header(r#"{ "alg" : "HS256" }"#);
        assert_eq!(verify::<ResultClaims>(&KEY, &token), Ok(claims()));
    }

    #[test]
    fn other_algorithms_are_refused() {
        for header in [
            r#"{"alg":"none","typ":"JWT"}"#,
            r#"{"alg":"HS512","typ":"JWT"}"#,
            r#"{"alg":"hs256","typ":"JWT"}"#,
            r#"{"typ":"JWT"}"#,
            r#"{"alg":null}"#,
        ] {
            let token = token_with_header(header);
            assert_eq!(
                verify::<ResultClaims>(&KEY, &token),
                Err(JwsError::Algorithm),
                "{header}"
            );
        }
        // An unsigned token ("alg":"none" with an empty signature) too.
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims()).unwrap())
        );
        assert!(verify::<ResultClaims>(&KEY, &unsigned).is_err());
    }

    #[test]
    fn crit_header_is_refused() {
        let token = token_with_header(r#"{"alg":"HS256","crit":["exp"],"exp":1}"#);
        assert_eq!(verify::<ResultClaims>(&KEY, &token), Err(JwsError::Malformed));
    }

    #[test]
    fn garbage_is_malformed() {
        let valid = sign(&KEY, &claims());
        let mut parts = valid.split('.');
        let (header, payload, signature) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        for token in [
            String::new(),
            "garbage".into(),
            "a.b".into(),
            "a.b.c.d".into(),
            "...".into(),
            format!("{header}.{payload}"),
            format!("{header}.{payload}.{signature}.x"),
            format!("{header}.{payload}="),
            format!("{header}.{payload}.{signature}="),
            format!("{header}.!!!.{signature}"),
            format!("{}.{payload}.{signature}", URL_SAFE_NO_PAD.encode("not json")),
            format!("{}.{payload}.{signature}", URL_SAFE_NO_PAD.encode("[\"alg\"]")),
            "x".repeat(TOKEN_BYTES_MAX + 1),
        ] {
            assert_eq!(
                verify::<ResultClaims>(&KEY, &token),
                Err(JwsError::Malformed),
                "{token:?}"
            );
        }
    }

    #[test]
    fn wrong_claims_type_is_a_claims_error() {
        let token = sign(&KEY, &serde_json::json!({"sub": "usr_x"}));
        assert!(matches!(verify::<ResultClaims>(&KEY, &token), Err(JwsError::Claims(_))));
    }

    #[test]
    fn payer_claims_skip_absent_options() {
        let claims = PayerClaims {
            sub: "usr_a".into(),
            sid: None,
            order_id: Some("1".into()),
            merchant_id: Some("mch_a".into()),
            order_digest: "sha256:x".into(),
            total: 1,
            currency: "JPY".into(),
            iat: 1,
            jti: "n".into(),
        };
        let json = serde_json::to_string(&claims).unwrap();
        assert!(!json.contains("sid"));
        assert_eq!(verify::<PayerClaims>(&KEY, &sign(&KEY, &claims)), Ok(claims));
    }

    #[test]
    fn try_sign_reports_unserializable_claims() {
        let mut claims = std::collections::BTreeMap::new();
        claims.insert((1, 2), 3);
        assert!(try_sign(&KEY, &claims).is_err());
    }
}
