//! HTTPS with rustls (issue 7, A9): the server's certificate and key from
//! PEM files and, with `--client-ca`, client certificates verified against
//! that CA. Verification is optional at the TLS layer because browsers
//! (payer and wallet endpoints) have no client certificate; the routes that
//! need one refuse requests without it (`http::guards`), and a merchant
//! bound to a certificate is refused with any other (`http::extract`).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;

/// The client certificate a connection presented, as a request extension:
/// the SHA-256 of its DER encoding, lower-case hex (what
/// `merchant create --client-cert-sha256` stores). Only ever set when the
/// certificate verified against the client CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    pub sha256: String,
}

impl ClientCert {
    pub fn of(der: &[u8]) -> Self {
        let digest = Sha256::digest(der);
        Self {
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// The TLS acceptor for `files`; fails at start on unreadable or invalid
/// files, so a misconfigured server never starts serving.
pub fn acceptor(files: &TlsFiles) -> anyhow::Result<TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?;
    let builder = match &files.client_ca {
        Some(ca) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider)
                .allow_unauthenticated()
                .build()
                .context("building the client certificate verifier")?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certificates(&files.cert)?, private_key(&files.key)?)
        .context("the TLS certificate does not match its key")?;
    // HTTP/1.1 only: the slow-client bounds (header read timeout) are HTTP/1's.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn certificates(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading certificates from {}", path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "{} holds no PEM certificate", path.display());
    Ok(certs)
}

fn private_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).with_context(|| format!("reading a private key from {}", path.display()))
}

fn roots(path: &Path) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(path)? {
        roots
            .add(cert)
            .with_context(|| format!("a CA certificate in {} is invalid", path.display()))?;
    }
    Ok(roots)
}
