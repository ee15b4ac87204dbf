//! Institution keys and the messages institutions send each other: compact
//! JWS with EdDSA (Ed25519, RFC 8037), PROTOCOL section 11.
//!
//! Every institution signs with one Ed25519 key ([`InstitutionKey`], made
//! from a stored 32-byte seed) and publishes its public half as an OKP JWK
//! ([`Jwk`]) in its [`InstitutionDocument`]. A key is named by its RFC 7638
//! thumbprint ([`PublicKey::thumbprint`]), which is also the `kid` of every
//! token it signs and what an operator pins when adding a peer. Tokens are
//! plain JWTs (header `{"alg":"EdDSA","kid":…,"typ":"JWT"}`), so any JOSE
//! library verifies them; `tests/vectors/institution_jws.json` was made with
//! PyJWT and jwcrypto and is reproduced byte for byte.
//!
//! A receiver first reads the unverified `kid` with [`peek`] to find which
//! pinned key to use, then calls [`PublicKey::verify`]. Verification checks
//! the algorithm from the parsed header (never `none` or HS256, whatever the
//! key), the `kid`, and the signature with the strict Ed25519 rules, and
//! only then parses the claims. Checking the claims' values (`aud`, `exp`,
//! `jti` reuse) is the caller's job.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

/// The JWS `alg` of every peer message and institution key.
const ALG: &str = "EdDSA";
/// The JWK key type of Ed25519 keys (RFC 8037).
const KTY: &str = "OKP";
/// The JWK curve of Ed25519 keys (RFC 8037).
const CRV: &str = "Ed25519";
/// The JWK `use` of a signing key.
const USE_SIG: &str = "sig";

/// Longest token [`PublicKey::verify`] and [`peek`] look at. Peer messages
/// are small, but a status request may list many `jti`s: 64 KiB holds over a
/// thousand; a caller with more sends several requests.
pub const TOKEN_BYTES_MAX: usize = 64 * 1024;

/// The longest a payment authorization may live: 300 s.
pub const AUTHORIZATION_TTL_MAX_S: i64 = 300;

/// Why a key, a document or a token was refused. No message includes key
/// material or claim values (peer messages may carry card data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerJwsError {
    /// Not three base64url parts, the header is not a JSON object, its `kid`
    /// is missing where required or not a string, or it has `crit`.
    #[error("the token is not a compact JWS")]
    Malformed,
    /// The header names an algorithm other than EdDSA (including `none`).
    #[error("the token's algorithm is not EdDSA")]
    UnsupportedAlgorithm,
    /// A `kid` is not the thumbprint of the key it names or is checked with.
    #[error("the key id is not the key's thumbprint")]
    KeyIdMismatch,
    /// The signature does not verify with the key.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// Not an Ed25519 public key: wrong `kty`, `crv` or `x`, a point not on
    /// the curve, a small-order point or a non-canonical encoding.
    #[error("the key is not a valid Ed25519 public key")]
    InvalidKey,
    /// An institution document lists no Ed25519 signing key.
    #[error("the institution document has no Ed25519 signing key")]
    NoSigningKey,
    /// An institution document lists several Ed25519 signing keys, so none
    /// is the one to pin.
    #[error("the institution document has several Ed25519 signing keys")]
    SeveralSigningKeys,
    /// The claims do not serialize, or do not parse as the expected type.
    /// serde's message is dropped because it may quote a claim's value.
    #[error("the claims do not match the expected type (values are not shown)")]
    Claims,
}

/// An institution's Ed25519 signing key. Debug prints only the thumbprint.
///
/// Not `Clone`, so that the secret is not copied around: share it behind an
/// `Arc`. The key is wiped from memory when dropped.
pub struct InstitutionKey {
    signing: SigningKey,
    public: PublicKey,
    // Kept so that signing does not hash the public key every time.
    thumbprint: String,
}

impl InstitutionKey {
    /// The key whose RFC 8032 private key (seed) is `seed`.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(seed);
        // A seed's public key is a clamped, non-zero multiple of the base
        // point: always a canonical point of the prime-order subgroup, so it
        // needs none of the checks of `PublicKey::from_bytes`.
        let public = PublicKey(signing.verifying_key().to_bytes());
        let thumbprint = public.thumbprint();
        Self {
            signing,
            public,
            thumbprint,
        }
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        self.public
    }

    /// Signs `claims` as a compact JWS: header exactly
    /// `{"alg":"EdDSA","kid":<thumbprint>,"typ":"JWT"}`, payload
    /// `serde_json::to_vec(claims)`, all parts base64url without padding.
    /// Ed25519 is deterministic, so the same claims give the same token.
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, PeerJwsError> {
        let payload = serde_json::to_vec(claims).map_err(|_| PeerJwsError::Claims)?;
        // Written out rather than serialized so that the bytes (member order,
        // no spaces) are those of other libraries and the vector. The
        // thumbprint is base64url, which needs no JSON escaping.
        let header = format!(r#"{{"alg":"{ALG}","kid":"{}","typ":"JWT"}}"#, self.thumbprint);
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let signature = self.signing.sign(token.as_bytes());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature.to_bytes()));
        Ok(token)
    }
}

impl fmt::Debug for InstitutionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstitutionKey")
            .field("thumbprint", &self.thumbprint)
            .finish()
    }
}

/// An Ed25519 public key: a canonical encoding of a curve point that is not
/// of small order. Debug prints the thumbprint.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// The key encoded as `bytes` (RFC 8032). Refuses encodings that are not
    /// a point, points of small order (never anyone's real key, and they
    /// make forged signatures verify under lax rules) and non-canonical
    /// encodings (which would give one key two thumbprints).
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, PeerJwsError> {
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| PeerJwsError::InvalidKey)?;
        if key.is_weak() || key.to_edwards().compress().to_bytes() != bytes {
            return Err(PeerJwsError::InvalidKey);
        }
        Ok(Self(bytes))
    }

    /// The 32 bytes of the key (RFC 8032 encoding).
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The key of an OKP JWK: `kty` `OKP`, `crv` `Ed25519`, `x` the key in
    /// base64url without padding. Other members (`kid`, `alg`, `use`) are
    /// not looked at; [`InstitutionDocument::signing_key`] checks them.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, PeerJwsError> {
        if jwk.kty != KTY || jwk.crv != CRV {
            return Err(PeerJwsError::InvalidKey);
        }
        // URL_SAFE_NO_PAD refuses padding and non-zero trailing bits, so each
        // key has exactly one `x`.
        let bytes = URL_SAFE_NO_PAD.decode(&jwk.x).map_err(|_| PeerJwsError::InvalidKey)?;
        let bytes = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| PeerJwsError::InvalidKey)?;
        Self::from_bytes(bytes)
    }

    /// The key as the JWK of an institution document: `kty`, `crv`, `x`,
    /// `kid` (the thumbprint), `alg` `EdDSA` and `use` `sig`.
    pub fn jwk(&self) -> Jwk {
        Jwk {
            kty: KTY.to_owned(),
            crv: CRV.to_owned(),
            x: self.x(),
            kid: Some(self.thumbprint()),
            alg: Some(ALG.to_owned()),
            use_: Some(USE_SIG.to_owned()),
        }
    }

    /// The RFC 7638 JWK thumbprint: SHA-256 over
    /// `{"crv":"Ed25519","kty":"OKP","x":"…"}`, base64url without padding.
    pub fn thumbprint(&self) -> String {
        // RFC 7638: the required members only, in lexicographic order, no
        // whitespace; `x` is base64url and needs no escaping.
        let members = format!(r#"{{"crv":"{CRV}","kty":"{KTY}","x":"{}"}}"#, self.x());
        URL_SAFE_NO_PAD.encode(Sha256::digest(members.as_bytes()))
    }

    /// Verifies a compact JWS made by this key and returns its claims.
    ///
    /// The header is parsed as JSON (member order does not matter): `alg`
    /// must be `EdDSA`, a `kid` must be this key's thumbprint, and `crit` is
    /// refused as no extension is understood. The signature is checked with
    /// the strict rules (no small-order or non-canonical points, canonical
    /// `S`) before the claims are parsed. No claim is checked.
    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<C, PeerJwsError> {
        let payload = self.verified_payload(token)?;
        serde_json::from_slice(&payload).map_err(|_| PeerJwsError::Claims)
    }

    /// The payload of `token` once its header and signature are checked.
    fn verified_payload(&self, token: &str) -> Result<Vec<u8>, PeerJwsError> {
        let parts = Parts::split(token)?;
        if let Some(kid) = parts.kid()? {
            if kid != self.thumbprint() {
                return Err(PeerJwsError::KeyIdMismatch);
            }
        }
        // A signature is always 64 bytes; any other length cannot verify.
        let signature = <[u8; 64]>::try_from(parts.signature.as_slice()).map_err(|_| PeerJwsError::BadSignature)?;
        // The bytes were checked when `self` was made, so this cannot fail.
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| PeerJwsError::InvalidKey)?;
        key.verify_strict(parts.signing_input.as_bytes(), &Signature::from_bytes(&signature))
            .map_err(|_| PeerJwsError::BadSignature)?;
        decode_part(parts.payload_b64)
    }

    /// `x`: the key in base64url without padding.
    fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PublicKey").field(&self.thumbprint()).finish()
    }
}

/// The header's `kid` and the unverified claims of a token, to find which
/// pinned key to verify it with. Never trust these before
/// [`PublicKey::verify`]. A token without a `kid` or whose `alg` is not
/// EdDSA is refused here already, since no Kessai institution sends one.
pub fn peek<C: DeserializeOwned>(token: &str) -> Result<(String, C), PeerJwsError> {
    let parts = Parts::split(token)?;
    let kid = parts.kid()?.ok_or(PeerJwsError::Malformed)?.to_owned();
    let payload = decode_part(parts.payload_b64)?;
    let claims = serde_json::from_slice(&payload).map_err(|_| PeerJwsError::Claims)?;
    Ok((kid, claims))
}

/// A compact JWS cut in its parts, with its header parsed and checked.
struct Parts<'t> {
    header: Map<String, Value>,
    payload_b64: &'t str,
    signature: Vec<u8>,
    /// `header.payload`, the bytes the signature covers.
    signing_input: &'t str,
}

impl<'t> Parts<'t> {
    /// Splits `token`, checks its header (`alg` EdDSA, no `crit`) and decodes
    /// its signature. The payload is decoded only when needed: after the
    /// signature check in `verify`.
    fn split(token: &'t str) -> Result<Self, PeerJwsError> {
        let [header_b64, payload_b64, signature_b64] =
            crate::jws::split_compact(token, TOKEN_BYTES_MAX).ok_or(PeerJwsError::Malformed)?;
        let header: Map<String, Value> =
            serde_json::from_slice(&decode_part(header_b64)?).map_err(|_| PeerJwsError::Malformed)?;
        if header.get("alg").and_then(Value::as_str) != Some(ALG) {
            return Err(PeerJwsError::UnsupportedAlgorithm);
        }
        if header.contains_key("crit") {
            return Err(PeerJwsError::Malformed);
        }
        let signature = decode_part(signature_b64)?;
        let signing_input = token
            .get(..header_b64.len() + 1 + payload_b64.len())
            .ok_or(PeerJwsError::Malformed)?;
        Ok(Self {
            header,
            payload_b64,
            signature,
            signing_input,
        })
    }

    /// The header's `kid`, if it has one.
    fn kid(&self) -> Result<Option<&str>, PeerJwsError> {
        match self.header.get("kid") {
            None => Ok(None),
            Some(Value::String(kid)) => Ok(Some(kid)),
            Some(_) => Err(PeerJwsError::Malformed),
        }
    }
}

fn decode_part(part: &str) -> Result<Vec<u8>, PeerJwsError> {
    crate::jws::decode_compact_part(part).ok_or(PeerJwsError::Malformed)
}

/// A public key as a JWK (RFC 7517, OKP per RFC 8037).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    /// Key type: `OKP`.
    pub kty: String,
    /// Curve: `Ed25519`.
    pub crv: String,
    /// The public key, base64url without padding.
    pub x: String,
    /// Key id: the RFC 7638 thumbprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Algorithm: `EdDSA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Use: `sig`.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

/// A JWK set (RFC 7517 section 5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// What an institution says about itself:
/// `GET /.well-known/kessai-institution`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstitutionDocument {
    /// The institution id (`ins_…`).
    pub institution_id: String,
    /// Display name.
    pub name: String,
    /// Card and payment brands it issues.
    pub brands: Vec<String>,
    /// ISO 4217 currencies it settles in.
    pub currencies: Vec<String>,
    /// The leading digits of every card it issues.
    pub card_prefix: String,
    /// Its public signing key.
    pub jwks: Jwks,
}

impl InstitutionDocument {
    /// The one Ed25519 key of the document, whose `kid` must be its
    /// thumbprint. Keys of other types are skipped (room for later
    /// algorithms); an Ed25519 key that is invalid, whose `kid` is missing or
    /// lies, or whose `alg` or `use` is not for EdDSA signatures makes the
    /// whole document untrustworthy, so it is an error rather than skipped.
    pub fn signing_key(&self) -> Result<PublicKey, PeerJwsError> {
        let mut found = None;
        for jwk in self.jwks.keys.iter().filter(|jwk| jwk.kty == KTY && jwk.crv == CRV) {
            let key = PublicKey::from_jwk(jwk)?;
            if jwk.kid.as_deref() != Some(key.thumbprint().as_str()) {
                return Err(PeerJwsError::KeyIdMismatch);
            }
            let alg_ok = jwk.alg.as_deref().is_none_or(|alg| alg == ALG);
            let use_ok = jwk.use_.as_deref().is_none_or(|use_| use_ == USE_SIG);
            if !alg_ok || !use_ok {
                return Err(PeerJwsError::InvalidKey);
            }
            if found.replace(key).is_some() {
                return Err(PeerJwsError::SeveralSigningKeys);
            }
        }
        found.ok_or(PeerJwsError::NoSigningKey)
    }
}

/// Claims of a payment authorization (PROTOCOL section 11): the issuer `iss`
/// guarantees `total` to the acquirer `aud` for settlement `sub`. Field order
/// is the vector's, so that signing the vector claims reproduces its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentAuthorization {
    /// The issuer's institution id (`ins_…`), the signer.
    pub iss: String,
    /// The acquirer's institution id (`ins_…`).
    pub aud: String,
    /// The settlement id at the acquirer.
    pub sub: String,
    /// The digest of the order being paid.
    pub order_digest: String,
    /// The guaranteed amount in minor units.
    pub total: u64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// The issuer's brand the buyer pays with.
    pub brand: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expiry, Unix seconds: at most [`AUTHORIZATION_TTL_MAX_S`] after `iat`.
    pub exp: i64,
    /// The authorization id (`pau_…`); the acquirer accepts each once.
    pub jti: String,
}

/// The body of every request between institutions: all of it is the
/// signed token, so no part of a request can disagree with its signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeerRequest {
    pub request: String,
}

/// What every signed request between institutions says about itself.
pub trait PeerClaims {
    /// The sending institution.
    fn iss(&self) -> &str;
    /// The receiving institution.
    fn aud(&self) -> &str;
    fn iat(&self) -> i64;
    fn exp(&self) -> i64;
}

/// How long a peer request may live: long enough for clocks a little apart
/// and a slow network, short enough that a captured one is soon useless.
pub const REQUEST_TTL_MAX_S: i64 = 60;

macro_rules! peer_claims {
    ($name:ident) => {
        impl PeerClaims for $name {
            fn iss(&self) -> &str {
                &self.iss
            }
            fn aud(&self) -> &str {
                &self.aud
            }
            fn iat(&self) -> i64 {
                self.iat
            }
            fn exp(&self) -> i64 {
                self.exp
            }
        }
    };
}

/// Card data as the acquirer passes it to the issuer (seed 002 claim 36).
/// `Debug` shows the last four digits only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerCard {
    pub number: String,
    pub exp_month: u32,
    pub exp_year: u32,
    pub cvc: String,
}

impl core::fmt::Debug for PeerCard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let last4 = self.number.get(self.number.len().saturating_sub(4)..).unwrap_or("");
        f.debug_struct("PeerCard")
            .field("number", &format_args!("…{last4}"))
            .field("exp_month", &self.exp_month)
            .field("exp_year", &self.exp_year)
            .field("cvc", &format_args!("***"))
            .finish()
    }
}

/// `POST /v1/peer/card-authorizations`: the acquirer asks the card's issuer
/// to authenticate the card and guarantee the payment of settlement `sub`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardAuthorizationRequest {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// Unique per request, so that a captured request cannot be told apart
    /// from a replay only by its time.
    pub jti: String,
    /// The settlement id at the acquirer.
    pub sub: String,
    pub order_digest: String,
    pub total: u64,
    pub currency: String,
    pub card: PeerCard,
}
peer_claims!(CardAuthorizationRequest);

/// The issuer's answer: a payment authorization, or a decline code. The
/// card's brand and last four digits come back for the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardAuthorizationAnswer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<crate::api::DeclineCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last4: Option<String>,
}

/// `POST /v1/peer/authorizations/status`: the issuer asks what became of
/// authorizations it issued to the acquirer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub jtis: Vec<String>,
}
peer_claims!(StatusRequest);

/// The most authorizations one status request may ask about.
pub const STATUS_JTIS_MAX: usize = 100;

/// Whether the acquirer accepted an authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum UseState {
    /// Accepted for a settlement: see its status.
    Used,
    /// Never accepted; after its `exp` it never will be.
    Unused,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthorizationState {
    pub jti: String,
    pub state: UseState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<crate::api::Status>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusAnswer {
    pub authorizations: Vec<AuthorizationState>,
}

/// `POST /v1/peer/positions`: a peer asks this institution for its view of
/// what each owes the other (`kessai peer reconcile`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionsRequest {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}
peer_claims!(PositionsRequest);

/// What one institution and a peer owe each other in one currency, as the
/// institution answering sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Position {
    pub currency: String,
    /// What this institution owes the peer.
    pub due_to: u64,
    /// What the peer owes this institution.
    pub due_from: u64,
    /// `due_from - due_to`.
    pub net: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PositionsAnswer {
    pub institution_id: String,
    pub positions: Vec<Position>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SEED: [u8; 32] = [7; 32];

    fn key() -> InstitutionKey {
        InstitutionKey::from_seed(&SEED)
    }

    fn claims() -> PaymentAuthorization {
        PaymentAuthorization {
            iss: "ins_x".into(),
            aud: "ins_y".into(),
            sub: "stl_a".into(),
            order_digest: "sha256:x".into(),
            total: 1155,
            currency: "JPY".into(),
            brand: "kessai-card".into(),
            iat: 1_700_000_000,
            exp: 1_700_000_300,
            jti: "pau_a".into(),
        }
    }

    fn b64(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A token with `header` and `payload`, signed by KEY over them.
    fn token_with(header: &str, payload: &[u8]) -> String {
        let input = format!("{}.{}", b64(header), b64(payload));
        let signature = key().signing.sign(input.as_bytes());
        format!("{input}.{}", b64(signature.to_bytes()))
    }

    fn token_with_header(header: &str) -> String {
        token_with(header, &serde_json::to_vec(&claims()).unwrap())
    }

    /// The three parts of a token.
    fn parts(token: &str) -> (String, String, String) {
        let mut parts = token.split('.').map(str::to_owned);
        (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap())
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let token = key().sign(&claims()).unwrap();
        let (header, _, _) = parts(&token);
        let header = String::from_utf8(URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        let thumbprint = key().public().thumbprint();
        assert_eq!(header, format!(r#"{{"alg":"EdDSA","kid":"{thumbprint}","typ":"JWT"}}"#));
        assert_eq!(key().public().verify::<PaymentAuthorization>(&token), Ok(claims()));
        assert_eq!(key().sign(&claims()).unwrap(), token, "Ed25519 is deterministic");
        let (kid, peeked) = peek::<PaymentAuthorization>(&token).unwrap();
        assert_eq!((kid, peeked), (thumbprint, claims()));
    }

    #[test]
    fn header_member_order_and_missing_kid_do_not_matter() {
        let thumbprint = key().public().thumbprint();
        for header in [
            format!(r#"{{"typ":"JWT","kid":"{thumbprint}","alg":"EdDSA"}}"#),
            format!(r#"{{ "alg" : "EdDSA", "kid" : "{thumbprint}" }}"#),
            r#"{"alg":"EdDSA"}"#.to_owned(),
        ] {
            let token = token_with_header(&header);
            assert_eq!(
                key().public().verify::<PaymentAuthorization>(&token),
                Ok(claims()),
                "{header}"
            );
        }
        // peek needs the kid to find the key.
        let token = token_with_header(r#"{"alg":"EdDSA"}"#);
        assert_eq!(peek::<Value>(&token), Err(PeerJwsError::Malformed));
    }

    #[test]
    fn tampered_payload_fails_signature() {
        let token = key().sign(&claims()).unwrap();
        let (header, _, signature) = parts(&token);
        let other = PaymentAuthorization {
            total: 1156,
            ..claims()
        };
        let tampered = format!("{header}.{}.{signature}", b64(serde_json::to_vec(&other).unwrap()));
        assert_eq!(
            key().public().verify::<PaymentAuthorization>(&tampered),
            Err(PeerJwsError::BadSignature)
        );
        // peek does not check signatures: its claims are not to be trusted.
        assert_eq!(peek::<PaymentAuthorization>(&tampered).unwrap().1, other);
    }

    #[test]
    fn tampered_signature_fails() {
        let token = key().sign(&claims()).unwrap();
        let (header, payload, signature) = parts(&token);
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        for index in [0, 31, 32, 63] {
            bytes[index] ^= 1;
            let tampered = format!("{header}.{payload}.{}", b64(&bytes));
            assert_eq!(
                key().public().verify::<Value>(&tampered),
                Err(PeerJwsError::BadSignature),
                "byte {index}"
            );
            bytes[index] ^= 1;
        }
        for length in [0, 63, 65] {
            let mut wrong = bytes.clone();
            wrong.resize(length, 0);
            let tampered = format!("{header}.{payload}.{}", b64(&wrong));
            assert!(key().public().verify::<Value>(&tampered).is_err(), "{length} bytes");
        }
        // A signature whose S is not reduced (S + L) is refused too, although
        // the lax rules of some libraries would accept it.
        let mut s_plus_l = bytes.clone();
        add_group_order(&mut s_plus_l[32..]);
        let malleated = format!("{header}.{payload}.{}", b64(&s_plus_l));
        assert_eq!(
            key().public().verify::<Value>(&malleated),
            Err(PeerJwsError::BadSignature)
        );
    }

    /// Adds the order L of the Ed25519 group to a 32-byte little-endian scalar.
    fn add_group_order(scalar: &mut [u8]) {
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for (byte, l) in scalar.iter_mut().zip(L) {
            let sum = u16::from(*byte) + u16::from(l) + carry;
            *byte = u8::try_from(sum & 0xff).unwrap();
            carry = sum >> 8;
        }
    }

    #[test]
    fn another_key_fails() {
        let other = InstitutionKey::from_seed(&[8; 32]);
        let token = other.sign(&claims()).unwrap();
        // With its kid, the token names the other key.
        assert_eq!(key().public().verify::<Value>(&token), Err(PeerJwsError::KeyIdMismatch));
        // Without one, the signature itself fails.
        let input = format!(
            "{}.{}",
            b64(r#"{"alg":"EdDSA"}"#),
            b64(serde_json::to_vec(&claims()).unwrap())
        );
        let token = format!("{input}.{}", b64(other.signing.sign(input.as_bytes()).to_bytes()));
        assert_eq!(other.public().verify::<Value>(&token).map(|_| ()), Ok(()));
        assert_eq!(key().public().verify::<Value>(&token), Err(PeerJwsError::BadSignature));
    }

    #[test]
    fn kid_must_be_the_thumbprint() {
        let other = InstitutionKey::from_seed(&[8; 32]).public().thumbprint();
        let token = token_with_header(&format!(r#"{{"alg":"EdDSA","kid":"{other}","typ":"JWT"}}"#));
        assert_eq!(key().public().verify::<Value>(&token), Err(PeerJwsError::KeyIdMismatch));
        let token = token_with_header(r#"{"alg":"EdDSA","kid":""}"#);
        assert_eq!(key().public().verify::<Value>(&token), Err(PeerJwsError::KeyIdMismatch));
        for header in [r#"{"alg":"EdDSA","kid":1}"#, r#"{"alg":"EdDSA","kid":null}"#] {
            let token = token_with_header(header);
            assert_eq!(
                key().public().verify::<Value>(&token),
                Err(PeerJwsError::Malformed),
                "{header}"
            );
            assert_eq!(peek::<Value>(&token), Err(PeerJwsError::Malformed), "{header}");
        }
    }

    #[test]
    fn other_algorithms_are_refused() {
        let thumbprint = key().public().thumbprint();
        for alg in [
            r#""none""#,
            r#""HS256""#,
            r#""ES256""#,
            r#""eddsa""#,
            r#""Ed25519""#,
            "null",
        ] {
            let header = format!(r#"{{"alg":{alg},"kid":"{thumbprint}","typ":"JWT"}}"#);
            let token = token_with_header(&header);
            assert_eq!(
                key().public().verify::<Value>(&token),
                Err(PeerJwsError::UnsupportedAlgorithm),
                "{header}"
            );
            assert_eq!(peek::<Value>(&token), Err(PeerJwsError::UnsupportedAlgorithm));
        }
        let token = token_with_header(r#"{"kid":"x","typ":"JWT"}"#);
        assert_eq!(
            key().public().verify::<Value>(&token),
            Err(PeerJwsError::UnsupportedAlgorithm)
        );
        // An unsigned token, and an HS256 token whose MAC key is the public key.
        let input = format!(
            "{}.{}",
            b64(r#"{"alg":"none"}"#),
            b64(serde_json::to_vec(&claims()).unwrap())
        );
        let unsigned = format!("{input}.");
        assert_eq!(
            key().public().verify::<Value>(&unsigned),
            Err(PeerJwsError::UnsupportedAlgorithm)
        );
        let hs256 = crate::jws::sign(&key().public().to_bytes(), &claims());
        assert_eq!(
            key().public().verify::<Value>(&hs256),
            Err(PeerJwsError::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn crit_header_is_refused() {
        let token = token_with_header(r#"{"alg":"EdDSA","crit":["exp"],"exp":1}"#);
        assert_eq!(key().public().verify::<Value>(&token), Err(PeerJwsError::Malformed));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let valid = key().sign(&claims()).unwrap();
        let (header, payload, signature) = parts(&valid);
        let not_base64 = format!("{header}.{payload}.{signature}").replace('.', "!.");
        for token in [
            String::new(),
            "garbage".into(),
            "a.b".into(),
            "a.b.c.d".into(),
            "...".into(),
            format!("{header}.{payload}"),
            format!("{header}.{payload}.{signature}.x"),
            format!("{header}.{payload}.{signature}="),
            format!("{header}=.{payload}.{signature}"),
            format!("{header}.{payload}.!!!"),
            format!("!!!.{payload}.{signature}"),
            not_base64,
            format!("{}.{payload}.{signature}", b64("not json")),
            format!("{}.{payload}.{signature}", b64(r#"["alg"]"#)),
            format!("{}.{payload}.{signature}", b64(r#"{"alg":"EdDSA""#)),
            "x".repeat(TOKEN_BYTES_MAX + 1),
        ] {
            assert_eq!(
                key().public().verify::<Value>(&token),
                Err(PeerJwsError::Malformed),
                "{token:?}"
            );
            assert_eq!(peek::<Value>(&token), Err(PeerJwsError::Malformed), "{token:?}");
        }
        // A bad payload under a valid signature (only the signer can make one).
        for payload in [&b"not json"[..], b"[1,2]"] {
            let token = token_with_header_and_kid(payload);
            assert_eq!(
                key().public().verify::<PaymentAuthorization>(&token),
                Err(PeerJwsError::Claims)
            );
        }
        let token = format!("{header}.{payload}.{signature}").replacen(&payload, "!!!", 1);
        assert!(key().public().verify::<Value>(&token).is_err());
    }

    fn token_with_header_and_kid(payload: &[u8]) -> String {
        let thumbprint = key().public().thumbprint();
        token_with(&format!(r#"{{"alg":"EdDSA","kid":"{thumbprint}"}}"#), payload)
    }

    #[test]
    fn wrong_claims_type_is_a_claims_error_without_values() {
        let token = key().sign(&json!({"total": "4242424242424242"})).unwrap();
        let error = key().public().verify::<PaymentAuthorization>(&token).unwrap_err();
        assert_eq!(error, PeerJwsError::Claims);
        assert!(!error.to_string().contains("4242"));
        assert_eq!(peek::<PaymentAuthorization>(&token), Err(PeerJwsError::Claims));
        let mut unserializable = std::collections::BTreeMap::new();
        unserializable.insert((1, 2), 3);
        assert_eq!(key().sign(&unserializable), Err(PeerJwsError::Claims));
    }

    /// RFC 8037 appendix A: the key, its thumbprint and the signature of
    /// "Example of Ed25519 signing", computed independently of this crate.
    #[test]
    fn rfc8037_examples() {
        let seed = URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap();
        let key = InstitutionKey::from_seed(&seed.try_into().unwrap());
        assert_eq!(key.public().x(), "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        assert_eq!(key.public().thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        let token = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.\
            hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
        assert_eq!(
            key.public().verified_payload(token),
            Ok(b"Example of Ed25519 signing".to_vec())
        );
    }

    #[test]
    fn thumbprint_is_stable_and_matches_a_hand_computation() {
        let public = key().public();
        let members = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64(public.to_bytes()));
        let expected = b64(Sha256::digest(members.as_bytes()));
        assert_eq!(public.thumbprint(), expected);
        assert_eq!(key().public().thumbprint(), expected);
        assert_eq!(public.thumbprint().len(), 43);
        assert_ne!(InstitutionKey::from_seed(&[8; 32]).public().thumbprint(), expected);
    }

    #[test]
    fn jwk_round_trips_and_bad_jwks_are_refused() {
        let public = key().public();
        let jwk = public.jwk();
        assert_eq!(
            serde_json::to_value(&jwk).unwrap(),
            json!({"kty": "OKP", "crv": "Ed25519", "x": public.x(), "kid": public.thumbprint(),
                   "alg": "EdDSA", "use": "sig"})
        );
        assert_eq!(PublicKey::from_jwk(&jwk), Ok(public));
        let bad = [
            Jwk {
                kty: "EC".into(),
                ..jwk.clone()
            },
            Jwk {
                crv: "X25519".into(),
                ..jwk.clone()
            },
            Jwk {
                crv: "Ed448".into(),
                ..jwk.clone()
            },
            Jwk {
                x: format!("{}=", jwk.x),
                ..jwk.clone()
            },
            Jwk {
                x: URL_SAFE_NO_PAD.encode([1; 31]),
                ..jwk.clone()
            },
            Jwk {
                x: URL_SAFE_NO_PAD.encode([1; 33]),
                ..jwk.clone()
            },
            Jwk {
                x: base64::engine::general_purpose::STANDARD.encode([0xff; 32]),
                ..jwk.clone()
            },
            Jwk {
                x: String::new(),
                ..jwk.clone()
            },
        ];
        for bad in bad {
            assert_eq!(PublicKey::from_jwk(&bad), Err(PeerJwsError::InvalidKey), "{bad:?}");
        }
    }

    /// p = 2^255 - 19, little-endian, plus `k`: a non-canonical encoding of y = k.
    fn p_plus(k: u8) -> [u8; 32] {
        let mut bytes = [0xff; 32];
        bytes[0] = 0xed + k;
        bytes[31] = 0x7f;
        bytes
    }

    #[test]
    fn from_bytes_refuses_non_points_small_order_and_non_canonical_encodings() {
        let public = key().public();
        assert_eq!(PublicKey::from_bytes(public.to_bytes()), Ok(public));
        // The identity (y = 1) and the point of order 2 (y = -1): small order.
        let mut identity = [0; 32];
        identity[0] = 1;
        let mut minus_one = p_plus(0);
        minus_one[0] -= 1;
        assert_eq!(PublicKey::from_bytes(identity), Err(PeerJwsError::InvalidKey));
        assert_eq!(PublicKey::from_bytes(minus_one), Err(PeerJwsError::InvalidKey));
        // y values with no x on the curve, and y = k above p where y = k is a
        // valid point: both kinds occur among small y.
        let (mut non_points, mut non_canonical) = (0, 0);
        for k in 2..19u8 {
            let mut bytes = [0; 32];
            bytes[0] = k;
            if VerifyingKey::from_bytes(&bytes).is_err() {
                assert_eq!(PublicKey::from_bytes(bytes), Err(PeerJwsError::InvalidKey));
                non_points += 1;
            } else if PublicKey::from_bytes(bytes).is_ok() {
                assert_eq!(PublicKey::from_bytes(p_plus(k)), Err(PeerJwsError::InvalidKey), "{k}");
                non_canonical += 1;
            }
        }
        assert!(non_points > 0 && non_canonical > 0, "{non_points} {non_canonical}");
    }

    fn document(keys: Vec<Jwk>) -> InstitutionDocument {
        InstitutionDocument {
            institution_id: "ins_x".into(),
            name: "X".into(),
            brands: vec!["kessai-card".into()],
            currencies: vec!["JPY".into()],
            card_prefix: "999999".into(),
            jwks: Jwks { keys },
        }
    }

    #[test]
    fn signing_key_is_the_one_honest_ed25519_key() {
        let jwk = key().public().jwk();
        let other = InstitutionKey::from_seed(&[8; 32]).public().jwk();
        let foreign = Jwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            ..jwk.clone()
        };
        let bare = Jwk {
            kid: Some(jwk.kid.clone().unwrap()),
            alg: None,
            use_: None,
            ..jwk.clone()
        };
        for keys in [vec![jwk.clone()], vec![foreign.clone(), jwk.clone()], vec![bare]] {
            assert_eq!(document(keys).signing_key(), Ok(key().public()));
        }
        let cases = [
            (vec![], PeerJwsError::NoSigningKey),
            (vec![foreign], PeerJwsError::NoSigningKey),
            (vec![jwk.clone(), other.clone()], PeerJwsError::SeveralSigningKeys),
            (
                vec![Jwk {
                    kid: other.kid.clone(),
                    ..jwk.clone()
                }],
                PeerJwsError::KeyIdMismatch,
            ),
            (
                vec![Jwk {
                    kid: None,
                    ..jwk.clone()
                }],
                PeerJwsError::KeyIdMismatch,
            ),
            (
                vec![
                    other.clone(),
                    Jwk {
                        kid: None,
                        ..jwk.clone()
                    },
                ],
                PeerJwsError::KeyIdMismatch,
            ),
            (
                vec![Jwk {
                    alg: Some("HS256".into()),
                    ..jwk.clone()
                }],
                PeerJwsError::InvalidKey,
            ),
            (
                vec![Jwk {
                    use_: Some("enc".into()),
                    ..jwk.clone()
                }],
                PeerJwsError::InvalidKey,
            ),
            (
                vec![Jwk {
                    x: "AAAA".into(),
                    ..jwk.clone()
                }],
                PeerJwsError::InvalidKey,
            ),
        ];
        for (keys, error) in cases {
            assert_eq!(document(keys.clone()).signing_key(), Err(error), "{keys:?}");
        }
    }

    #[test]
    fn document_wire_form() {
        let document = document(vec![key().public().jwk()]);
        let json = serde_json::to_value(&document).unwrap();
        assert_eq!(json["jwks"]["keys"][0]["use"], "sig");
        assert_eq!(serde_json::from_value::<InstitutionDocument>(json).unwrap(), document);
        // Absent optional members, and unknown ones, are accepted.
        let jwk: Jwk = serde_json::from_value(json!({"kty": "OKP", "crv": "Ed25519", "x": "a", "ext": true})).unwrap();
        assert_eq!((jwk.kid, jwk.alg, jwk.use_), (None, None, None));
    }

    /// Every encoding of `bytes` that could leak into a log.
    fn encodings(bytes: &[u8; 32]) -> Vec<String> {
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut all = vec![
            hex.to_uppercase(),
            hex,
            URL_SAFE_NO_PAD.encode(bytes),
            URL_SAFE.encode(bytes),
            STANDARD.encode(bytes),
            STANDARD_NO_PAD.encode(bytes),
            format!("{bytes:?}"),
            format!("{bytes:x?}"),
            format!("{bytes:X?}"),
            format!("{bytes:#?}"),
        ];
        // Any 8 consecutive bytes in decimal, as a partial array print shows them.
        all.extend(
            bytes
                .windows(8)
                .map(|window| format!("{window:?}").trim_matches(['[', ']']).to_owned()),
        );
        all
    }

    #[test]
    fn debug_never_shows_the_seed_or_the_key() {
        for seed in [SEED, [0x5a; 32], std::array::from_fn(|i| u8::try_from(i).unwrap())] {
            let key = InstitutionKey::from_seed(&seed);
            let public = key.public();
            let printed = [
                format!("{key:?}"),
                format!("{key:#?}"),
                format!("{public:?}"),
                format!("{public:#?}"),
            ];
            for text in &printed {
                assert!(text.contains(&public.thumbprint()), "{text}");
                for secret in encodings(&seed).iter().chain(&encodings(&public.to_bytes())) {
                    assert!(!text.contains(secret.as_str()), "{text} shows {secret}");
                }
            }
        }
    }
}
