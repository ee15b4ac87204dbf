//! The test vectors in `tests/vectors/`, produced with independent libraries
//! (Python `jcs`, PyJWT, `standardwebhooks`, `cryptography`, `crcmod`). The wire
//! reference (`docs/PROTOCOL.md`) requires the implementation to reproduce
//! every one of them. They are copies of the project's shared vectors;
//! `copies_equal_the_shared_vectors` (ignored unless asked for, with
//! `KESSAI_SHARED_VECTORS`) checks that the copies are current.

#![allow(clippy::unwrap_used)]

use kessai_protocol::jws::{self, JwsError, PayerClaims, ResultClaims};
use kessai_protocol::keys::{self, RESULT_KEY_PREFIX, USER_KEY_PREFIX};
use kessai_protocol::{jcs, webhooks, Order};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    serde_json::from_str(&text).unwrap()
}

fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {field} is not a string"))
}

/// Every vector file the contract names is copied into this repository.
const VECTOR_FILES: [&str; 5] = [
    "order_digest.json",
    "jws.json",
    "webhook.json",
    "institution_jws.json",
    "emv_qr.json",
];

#[test]
fn every_vector_file_is_copied_here() {
    for name in VECTOR_FILES {
        load(name);
    }
}

/// The copies equal the shared originals: a maintenance check, run where
/// the shared vectors are at hand, e.g.
/// `KESSAI_SHARED_VECTORS=/path/to/shared/vectors cargo test -p
/// kessai-protocol --test vectors -- --ignored`. A clone of this repository
/// has no such folder, so it is not part of the regular suite (every other
/// test here reads the copies).
#[test]
#[ignore = "needs KESSAI_SHARED_VECTORS, the shared vectors' folder"]
fn copies_equal_the_shared_vectors() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared =
        std::env::var_os("KESSAI_SHARED_VECTORS").expect("set KESSAI_SHARED_VECTORS to the shared vectors' folder");
    let shared = std::path::PathBuf::from(shared);
    for name in VECTOR_FILES {
        let (original, copy) = (shared.join(name), root.join("tests/vectors").join(name));
        let original_bytes = std::fs::read(&original).unwrap_or_else(|e| panic!("{}: {e}", original.display()));
        let copied = std::fs::read(&copy).unwrap_or_else(|e| panic!("{}: {e}", copy.display()));
        assert_eq!(
            copied,
            original_bytes,
            "{} differs from {}",
            copy.display(),
            original.display()
        );
    }
}

/// Order digest: JCS bytes, digest and validity of every case.
mod order_digest {
    use super::*;

    fn cases() -> Vec<Value> {
        let vectors = load("order_digest.json");
        let cases = vectors["cases"].as_array().unwrap().clone();
        assert!(cases.len() >= 4, "the vector file lost cases");
        cases
    }

    #[test]
    fn generic_jcs_reproduces_every_case() {
        for case in cases() {
            assert_eq!(jcs::canonicalize(&case["order"]).unwrap(), text(&case, "jcs"));
        }
    }

    #[test]
    fn order_canonical_json_and_digest_reproduce_every_case() {
        for case in cases() {
            let order: Order = serde_json::from_value(case["order"].clone()).unwrap();
            assert_eq!(order.canonical_json(), text(&case, "jcs"));
            assert_eq!(order.digest(), text(&case, "order_digest"));
            kessai_protocol::order::check_digest_format(&order.digest(), "order_digest").unwrap();
        }
    }

    #[test]
    fn validity_matches_every_case() {
        for case in cases() {
            let order: Order = serde_json::from_value(case["order"].clone()).unwrap();
            let valid = case["valid"].as_bool().unwrap();
            assert_eq!(order.validate("order").is_ok(), valid, "{:?}", order.validate("order"));
        }
    }
}

/// JWS: PyJWT's tokens are reproduced by `sign` and accepted by `verify`.
mod jws_vectors {
    use super::*;

    fn key(case: &Value, prefix: &str) -> [u8; 32] {
        keys::parse_key(prefix, text(case, "key")).unwrap()
    }

    #[test]
    fn keys_parse_and_format_round_trip() {
        let vectors = load("jws.json");
        for (name, prefix) in [
            ("result_token", RESULT_KEY_PREFIX),
            ("payer_authenticator", USER_KEY_PREFIX),
        ] {
            let case = &vectors[name];
            let bytes = key(case, prefix);
            assert_eq!(keys::format_key(prefix, &bytes), text(case, "key"));
        }
    }

    #[test]
    fn result_token_is_reproduced_and_verifies() {
        let case = &load("jws.json")["result_token"];
        let key = key(case, RESULT_KEY_PREFIX);
        let claims: ResultClaims = serde_json::from_value(case["claims"].clone()).unwrap();
        assert_eq!(jws::sign(&key, &claims), text(case, "token"));
        assert_eq!(jws::verify::<ResultClaims>(&key, text(case, "token")), Ok(claims));
        // As generic JSON too, so a claim this crate does not model would show up.
        assert_eq!(jws::verify::<Value>(&key, text(case, "token")).unwrap(), case["claims"]);
    }

    #[test]
    fn payer_authenticator_is_reproduced_and_verifies() {
        let case = &load("jws.json")["payer_authenticator"];
        let key = key(case, USER_KEY_PREFIX);
        let claims: PayerClaims = serde_json::from_value(case["claims"].clone()).unwrap();
        assert_eq!(claims.sid.as_deref(), Some("stl_test"));
        assert_eq!(jws::sign(&key, &claims), text(case, "token"));
        assert_eq!(jws::verify::<PayerClaims>(&key, text(case, "token")), Ok(claims));
    }

    #[test]
    fn tampered_token_fails_signature() {
        let case = &load("jws.json")["tampered_result_token"];
        assert!(!case["valid"].as_bool().unwrap());
        let key = key(case, RESULT_KEY_PREFIX);
        assert_eq!(
            jws::verify::<ResultClaims>(&key, text(case, "token")),
            Err(JwsError::Signature)
        );
    }

    #[test]
    fn token_under_another_key_fails_signature() {
        let vectors = load("jws.json");
        let user_key = key(&vectors["payer_authenticator"], USER_KEY_PREFIX);
        let token = text(&vectors["result_token"], "token");
        assert_eq!(jws::verify::<ResultClaims>(&user_key, token), Err(JwsError::Signature));
    }
}

/// Webhooks: the standardwebhooks signature verifies with the clock at 1700000000.
mod webhook_vectors {
    use super::*;
    use kessai_protocol::webhooks::WebhookError;

    const NOW: i64 = 1_700_000_000;

    struct Case {
        secret: String,
        id: String,
        timestamp: String,
        signature: String,
        body: String,
    }

    fn case() -> Case {
        let vector = load("webhook.json");
        let headers = &vector["headers"];
        Case {
            secret: text(&vector, "secret").to_owned(),
            id: text(headers, "webhook-id").to_owned(),
            timestamp: text(headers, "webhook-timestamp").to_owned(),
            signature: text(headers, "webhook-signature").to_owned(),
            body: text(&vector, "body").to_owned(),
        }
    }

    #[test]
    fn sign_reproduces_the_signature() {
        let c = case();
        let secret = keys::parse_webhook_secret(&c.secret).unwrap();
        assert_eq!(secret.len(), 32);
        assert_eq!(
            keys::format_webhook_secret(&secret.clone().try_into().unwrap()),
            c.secret
        );
        let timestamp: i64 = c.timestamp.parse().unwrap();
        assert_eq!(webhooks::sign(&secret, &c.id, timestamp, &c.body), c.signature);
    }

    #[test]
    fn verify_accepts_the_vector() {
        let c = case();
        assert_eq!(
            webhooks::verify(&c.secret, &c.id, &c.timestamp, &c.signature, &c.body, NOW),
            Ok(())
        );
    }

    #[test]
    fn verify_refuses_another_body() {
        let c = case();
        let body = c.body.replace("1155", "1156");
        assert_eq!(
            webhooks::verify(&c.secret, &c.id, &c.timestamp, &c.signature, &body, NOW),
            Err(WebhookError::Signature)
        );
    }

    #[test]
    fn verify_refuses_a_stale_or_future_timestamp() {
        let c = case();
        for now in [NOW + 3600, NOW - 3600, 0] {
            assert_eq!(
                webhooks::verify(&c.secret, &c.id, &c.timestamp, &c.signature, &c.body, now),
                Err(WebhookError::Timestamp)
            );
        }
        // A timestamp header changed to fit the clock breaks the signature instead.
        assert_eq!(
            webhooks::verify(&c.secret, &c.id, "1700000001", &c.signature, &c.body, NOW),
            Err(WebhookError::Signature)
        );
    }

    #[test]
    fn any_of_several_signatures_may_match() {
        let c = case();
        let other = webhooks::sign(&[1; 32], &c.id, NOW, &c.body);
        for header in [
            format!("{other} {}", c.signature),
            format!("{} {other}", c.signature),
            format!("v1a,abc {other}  {}", c.signature),
        ] {
            assert_eq!(
                webhooks::verify(&c.secret, &c.id, &c.timestamp, &header, &c.body, NOW),
                Ok(()),
                "{header}"
            );
        }
        assert_eq!(
            webhooks::verify(&c.secret, &c.id, &c.timestamp, &other, &c.body, NOW),
            Err(WebhookError::Signature)
        );
    }

    #[test]
    fn verify_refuses_a_malformed_secret() {
        let c = case();
        let secret = c.secret.replacen("whsec_", "", 1);
        assert_eq!(
            webhooks::verify(&secret, &c.id, &c.timestamp, &c.signature, &c.body, NOW),
            Err(WebhookError::Secret)
        );
    }
}

/// Institution keys and EdDSA peer messages: jwcrypto's keys and thumbprints
/// are derived from the seeds, PyJWT's token is reproduced byte for byte and
/// verifies, and the two bad tokens are refused.
#[cfg(feature = "peer")]
mod institution_jws {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use kessai_protocol::peer::{self, InstitutionKey, Jwk, PaymentAuthorization, PeerJwsError, PublicKey};
    use serde::ser::SerializeMap as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    fn vectors() -> Value {
        load("institution_jws.json")
    }

    /// The institution `name` ("issuer" or "acquirer") of the vector.
    fn institution(vectors: &Value, name: &str) -> (InstitutionKey, Value) {
        let party = &vectors[name];
        let seed = URL_SAFE_NO_PAD.decode(text(party, "private_seed_b64url")).unwrap();
        (InstitutionKey::from_seed(&seed.try_into().unwrap()), party.clone())
    }

    /// A JSON object that keeps its members in the file's order: serde_json's
    /// `Value` sorts them (this workspace does not enable `preserve_order`),
    /// and the signed payload must have the order PyJWT signed.
    struct OrderedObject(Vec<(String, Value)>);

    impl<'de> Deserialize<'de> for OrderedObject {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = OrderedObject;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<OrderedObject, A::Error> {
                    let mut members = Vec::new();
                    while let Some(member) = map.next_entry()? {
                        members.push(member);
                    }
                    Ok(OrderedObject(members))
                }
            }
            deserializer.deserialize_map(Visitor)
        }
    }

    impl Serialize for OrderedObject {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(self.0.len()))?;
            for (name, value) in &self.0 {
                map.serialize_entry(name, value)?;
            }
            map.end()
        }
    }

    /// The vector's claims as raw JSON, in the file's member order.
    fn raw_claims() -> OrderedObject {
        #[derive(Deserialize)]
        struct File {
            payment_authorization: Case,
        }
        #[derive(Deserialize)]
        struct Case {
            claims: OrderedObject,
        }
        let path = format!("{}/tests/vectors/institution_jws.json", env!("CARGO_MANIFEST_DIR"));
        let file: File = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        file.payment_authorization.claims
    }

    #[test]
    fn public_jwks_and_thumbprints_derive_from_the_seeds() {
        let vectors = vectors();
        for name in ["issuer", "acquirer"] {
            let (key, party) = institution(&vectors, name);
            let public = key.public();
            let vector_jwk: Jwk = serde_json::from_value(party["public_jwk"].clone()).unwrap();
            let jwk = public.jwk();
            assert_eq!(
                (&jwk.kty, &jwk.crv, &jwk.x),
                (&vector_jwk.kty, &vector_jwk.crv, &vector_jwk.x),
                "{name}"
            );
            assert_eq!(PublicKey::from_jwk(&vector_jwk), Ok(public), "{name}");
            assert_eq!(public.thumbprint(), text(&party, "thumbprint"), "{name}");
            assert_eq!(jwk.kid.as_deref(), Some(text(&party, "thumbprint")), "{name}");
            assert_eq!(
                format!("{key:?}"),
                format!("InstitutionKey {{ thumbprint: {:?} }}", public.thumbprint())
            );
        }
    }

    #[test]
    fn signing_the_claims_reproduces_the_token() {
        let vectors = vectors();
        let case = &vectors["payment_authorization"];
        let (key, _) = institution(&vectors, text(case, "signed_by"));
        let claims: PaymentAuthorization = serde_json::from_value(case["claims"].clone()).unwrap();
        assert_eq!(key.sign(&claims).unwrap(), text(case, "token"));
        // As raw JSON in the file's order too, so the claims struct's field
        // order is not what makes it match.
        let raw = raw_claims();
        let names: Vec<&str> = raw.0.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "iss",
                "aud",
                "sub",
                "order_digest",
                "total",
                "currency",
                "brand",
                "iat",
                "exp",
                "jti"
            ]
        );
        assert_eq!(key.sign(&raw).unwrap(), text(case, "token"));
    }

    #[test]
    fn the_token_verifies_with_the_issuer_key() {
        let vectors = vectors();
        let case = &vectors["payment_authorization"];
        let (key, party) = institution(&vectors, text(case, "signed_by"));
        let token = text(case, "token");
        // The header is exactly the vector's.
        let header = URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&header).unwrap(), case["header"]);
        let claims: PaymentAuthorization = serde_json::from_value(case["claims"].clone()).unwrap();
        assert_eq!(key.public().verify::<PaymentAuthorization>(token), Ok(claims.clone()));
        // As generic JSON too, so a claim this crate does not model would show up.
        assert_eq!(key.public().verify::<Value>(token).unwrap(), case["claims"]);
        // The pinned key is found by the kid, from the issuer's own JWK.
        let vector_key = PublicKey::from_jwk(&serde_json::from_value(party["public_jwk"].clone()).unwrap()).unwrap();
        assert_eq!(vector_key.verify::<PaymentAuthorization>(token), Ok(claims.clone()));
        assert_eq!(
            peer::peek::<PaymentAuthorization>(token),
            Ok((text(&party, "thumbprint").to_owned(), claims.clone()))
        );
        assert!(claims.exp - claims.iat <= peer::AUTHORIZATION_TTL_MAX_S);
        assert!(kessai_protocol::ids::is_id(
            kessai_protocol::ids::INSTITUTION,
            &claims.iss
        ));
        assert!(claims.jti.starts_with(kessai_protocol::ids::PAYMENT_AUTHORIZATION));
    }

    #[test]
    fn the_tampered_token_fails() {
        let vectors = vectors();
        let case = &vectors["tampered_authorization"];
        assert!(!case["valid"].as_bool().unwrap());
        let (key, _) = institution(&vectors, "issuer");
        assert_eq!(
            key.public().verify::<PaymentAuthorization>(text(case, "token")),
            Err(PeerJwsError::BadSignature)
        );
    }

    #[test]
    fn the_token_fails_with_the_wrong_key() {
        let vectors = vectors();
        let case = &vectors["wrong_key"];
        assert!(!case["valid"].as_bool().unwrap());
        let (key, _) = institution(&vectors, text(case, "verify_with"));
        // Its kid names the issuer, so the acquirer key refuses it before the
        // signature is even checked.
        assert_eq!(
            key.public().verify::<PaymentAuthorization>(text(case, "token")),
            Err(PeerJwsError::KeyIdMismatch)
        );
        // The other way round: the acquirer's signature fails the issuer key.
        let (issuer, _) = institution(&vectors, "issuer");
        let by_acquirer = key.sign(&raw_claims()).unwrap();
        assert_eq!(
            issuer.public().verify::<Value>(&by_acquirer),
            Err(PeerJwsError::KeyIdMismatch)
        );
        assert_eq!(
            key.public().verify::<Value>(&by_acquirer).unwrap(),
            vectors["payment_authorization"]["claims"]
        );
    }
}

/// EMVCo merchant-presented QR payloads (PROTOCOL section 13).
mod emv_qr {
    use super::*;
    use kessai_protocol::emv::{self, Fields, CODE_CRC_MISMATCH, CODE_MALFORMED};

    pub fn cases() -> Vec<(Fields, String, Value)> {
        let vectors = load("emv_qr.json");
        let cases = vectors["cases"].as_array().unwrap().clone();
        assert!(cases.len() >= 4, "the vector file lost cases");
        cases
            .into_iter()
            .map(|case| (fields(&case), text(&case, "payload").to_owned(), case))
            .collect()
    }

    fn fields(case: &Value) -> Fields {
        Fields {
            institution_id: text(case, "institution_id").into(),
            merchant_id: text(case, "merchant_id").into(),
            mcc: text(case, "mcc").into(),
            currency: text(case, "currency").into(),
            amount: case["total"].as_u64(),
            country: text(case, "country").into(),
            merchant_name: text(case, "merchant_name").into(),
            city: text(case, "city").into(),
            number: text(case, "number").into(),
            terminal_label: text(case, "terminal_label").into(),
        }
    }

    #[test]
    fn crc_check_value() {
        let check = &load("emv_qr.json")["crc_check"];
        let crc = emv::crc16_ccitt_false(text(check, "input").as_bytes());
        assert_eq!(format!("{crc:04X}"), text(check, "crc"));
    }

    #[test]
    fn every_case_builds_byte_for_byte() {
        for (fields, payload, case) in cases() {
            assert_eq!(fields.payload().unwrap(), payload, "{}", case["name"]);
            let amount_text = fields
                .amount
                .map(|amount| emv::amount_text(amount, &fields.currency).unwrap());
            assert_eq!(amount_text.as_deref(), case["amount_text"].as_str(), "{}", case["name"]);
        }
    }

    #[test]
    fn every_case_parses_back_to_its_fields() {
        let mut amounts = Vec::new();
        for (fields, payload, _) in cases() {
            let read = emv::parse(&payload).unwrap();
            amounts.push(read.amount);
            assert_eq!(read, fields);
            assert_eq!(read.payload().unwrap(), payload, "parse and payload are inverses");
        }
        // The vectors cover yen, cents, a small amount and none.
        assert_eq!(amounts, [Some(1155), Some(1050), Some(5), None]);
    }

    #[test]
    fn a_changed_character_fails_the_crc() {
        for (_, payload, case) in cases() {
            // Every digit of the number, each turned into another digit.
            let number = text(&case, "number");
            let at = payload.find(&format!("05{:02}{number}", number.len())).unwrap() + 4;
            for index in at..at + number.len() {
                let mut bytes = payload.clone().into_bytes();
                bytes[index] = if bytes[index] == b'9' { b'0' } else { bytes[index] + 1 };
                let tampered = String::from_utf8(bytes).unwrap();
                assert_eq!(emv::parse(&tampered).unwrap_err().code, CODE_CRC_MISMATCH, "{tampered}");
            }
            // The CRC itself altered.
            let mut bytes = payload.clone().into_bytes();
            let last = bytes.len() - 1;
            bytes[last] = if bytes[last] == b'0' { b'1' } else { b'0' };
            let tampered = String::from_utf8(bytes).unwrap();
            assert_eq!(emv::parse(&tampered).unwrap_err().code, CODE_CRC_MISMATCH);
        }
    }

    #[test]
    fn truncated_or_extended_payloads_are_refused() {
        for (_, payload, _) in cases() {
            for cut in [1, 4, 8, 9, payload.len() / 2, payload.len()] {
                let short = &payload[..payload.len() - cut];
                let code = emv::parse(short).unwrap_err().code;
                assert!(code == CODE_MALFORMED || code == CODE_CRC_MISMATCH, "{short}: {code}");
            }
            assert!(emv::parse(&format!("{payload}0")).is_err());
            assert!(emv::parse(&format!(" {payload}")).is_err());
        }
    }

    #[test]
    fn wrong_lengths_are_refused_even_with_a_matching_crc() {
        for (_, payload, case) in cases() {
            let body = &payload[..payload.len() - 8];
            let name = text(&case, "merchant_name");
            let header = format!("59{:02}", name.len());
            for length in [name.len() - 1, name.len() + 1] {
                let bad = body.replacen(&header, &format!("59{length:02}"), 1);
                let bad = format!("{bad}6304");
                let bad = format!("{bad}{:04X}", emv::crc16_ccitt_false(bad.as_bytes()));
                assert_eq!(emv::parse(&bad).unwrap_err().code, CODE_MALFORMED, "{bad}");
            }
        }
    }
}
