//! The server's master key and the keys derived from it.
//!
//! The master key lives in a file beside the database, never inside it, so a
//! copied database file alone reveals no card number (PCI DSS 3.5: a stored
//! PAN is unreadable: here a keyed hash) and no merchant or user key (sealed
//! with XChaCha20-Poly1305).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Keys derived from the master key, one per purpose so that no key is used
/// for two things.
#[derive(Clone)]
pub struct Keyring {
    pan_hash: [u8; 32],
    cvc: [u8; 32],
    client_secret: [u8; 32],
    payer_secret: [u8; 32],
    seal: [u8; 32],
    institution: [u8; 32],
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring([redacted])")
    }
}

/// Where the master key lives for a database URL: `<file>.key` beside an
/// SQLite file, `kessai.key` in the working directory otherwise.
pub fn default_key_path(database_url: &str) -> PathBuf {
    match crate::db::sqlite_path(database_url) {
        Some(path) => PathBuf::from(format!("{path}.key")),
        None => PathBuf::from("kessai.key"),
    }
}

impl Keyring {
    /// Loads the master key, creating it (mode 0600) on first use.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                Self::from_master_text(text.trim()).with_context(|| format!("reading master key {}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut master = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut master);
                let text = URL_SAFE_NO_PAD.encode(master);
                write_new_private_file(path, &text)?;
                // Another process may have won the race to create it: reread.
                let text = std::fs::read_to_string(path)?;
                Self::from_master_text(text.trim())
            }
            Err(e) => Err(e).with_context(|| format!("reading master key {}", path.display())),
        }
    }

    fn from_master_text(text: &str) -> anyhow::Result<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).context("master key is not base64url")?;
        let master: [u8; 32] = match bytes.try_into() {
            Ok(m) => m,
            Err(_) => bail!("master key must be 32 bytes"),
        };
        Ok(Self::from_master(&master))
    }

    pub fn from_master(master: &[u8; 32]) -> Self {
        Self {
            pan_hash: derive(master, "kessai/pan-hash/v1"),
            cvc: derive(master, "kessai/cvc/v1"),
            client_secret: derive(master, "kessai/client-secret/v1"),
            payer_secret: derive(master, "kessai/payer-secret/v1"),
            seal: derive(master, "kessai/seal/v1"),
            institution: derive(master, "kessai/institution-ed25519/v1"),
        }
    }

    /// The seed of the institution's Ed25519 key (PROTOCOL 11). Derived from
    /// the master key, so the private key is kept exactly as the master key
    /// is (a file beside the database, mode 0600) and never in the database.
    pub fn institution_seed(&self) -> [u8; 32] {
        self.institution
    }

    /// Lookup key for a card: HMAC of the full PAN, hex.
    pub fn pan_hash(&self, pan: &str) -> String {
        hex(&mac(&self.pan_hash, pan.as_bytes()))
    }

    /// The card verification code, computed from the PAN and expiry the way
    /// issuers compute CVV2: nothing to store, nothing to leak.
    pub fn cvc(&self, pan: &str, exp_month: u32, exp_year: u32) -> String {
        let tag = mac(&self.cvc, format!("{pan}|{exp_month:02}|{exp_year}").as_bytes());
        let n = u32::from_be_bytes([tag[0], tag[1], tag[2], tag[3]]) % 1000;
        format!("{n:03}")
    }

    /// `stl_…_secret_…`: derived from the settlement id, so it needs no storage.
    pub fn client_secret(&self, settlement_id: &str) -> String {
        let tag = mac(&self.client_secret, settlement_id.as_bytes());
        format!("{settlement_id}_secret_{}", URL_SAFE_NO_PAD.encode(&tag[..18]))
    }

    pub fn payer_secret(&self, settlement_id: &str) -> String {
        let tag = mac(&self.payer_secret, settlement_id.as_bytes());
        format!("{settlement_id}_payer_{}", URL_SAFE_NO_PAD.encode(&tag[..18]))
    }

    /// Constant-time check of a presented secret against the derived one.
    pub fn secret_matches(expected: &str, presented: &str) -> bool {
        let a = Sha256::digest(expected.as_bytes());
        let b = Sha256::digest(presented.as_bytes());
        let mut diff = 0u8;
        for (x, y) in a.iter().zip(b.iter()) {
            diff |= x ^ y;
        }
        diff == 0
    }

    pub fn seal(&self, plaintext: &[u8]) -> anyhow::Result<String> {
        let cipher = XChaCha20Poly1305::new((&self.seal).into());
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext)
            .map_err(|_| anyhow::anyhow!("sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("v1.{}", URL_SAFE_NO_PAD.encode(out)))
    }

    pub fn open(&self, sealed: &str) -> anyhow::Result<Vec<u8>> {
        let body = sealed.strip_prefix("v1.").context("unknown sealed format")?;
        let raw = URL_SAFE_NO_PAD.decode(body).context("sealed value is not base64url")?;
        if raw.len() < 24 {
            bail!("sealed value too short");
        }
        let (nonce, ct) = raw.split_at(24);
        let cipher = XChaCha20Poly1305::new((&self.seal).into());
        cipher
            .decrypt(XNonce::from_slice(nonce), ct)
            .map_err(|_| anyhow::anyhow!("sealed value does not open with this master key"))
    }

    pub fn open_key32(&self, sealed: &str) -> anyhow::Result<[u8; 32]> {
        let bytes = self.open(sealed)?;
        match bytes.try_into() {
            Ok(k) => Ok(k),
            Err(_) => bail!("sealed key is not 32 bytes"),
        }
    }
}

fn derive(master: &[u8; 32], label: &str) -> [u8; 32] {
    mac(master, label.as_bytes())
}

fn mac(key: &[u8; 32], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so new_from_slice cannot fail here.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(data);
    m.finalize().into_bytes().into()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

pub fn random32() -> [u8; 32] {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

fn write_new_private_file(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut f) => {
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating master key {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_master() {
        let a = Keyring::from_master(&[1; 32]);
        let b = Keyring::from_master(&[2; 32]);
        let sealed = a.seal(b"result key").expect("seal");
        assert_eq!(a.open(&sealed).expect("open"), b"result key");
        assert!(b.open(&sealed).is_err());
        assert!(!sealed.contains("result key"));
    }

    #[test]
    fn derived_secrets_are_stable_and_distinct() {
        let k = Keyring::from_master(&[7; 32]);
        assert_eq!(k.client_secret("stl_a"), k.client_secret("stl_a"));
        assert_ne!(k.client_secret("stl_a"), k.client_secret("stl_b"));
        assert!(Keyring::secret_matches(
            &k.client_secret("stl_a"),
            &k.client_secret("stl_a")
        ));
        assert!(!Keyring::secret_matches(&k.client_secret("stl_a"), "stl_a_secret_x"));
        assert_eq!(k.cvc("4242424242424242", 12, 2030).len(), 3);
    }
}
