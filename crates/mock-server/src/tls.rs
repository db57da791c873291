//! `--tls`: the port speaks TLS (rustls, ring) with a self-signed certificate made at start for
//! `localhost` and `127.0.0.1`. Clients trust it by its PEM (Node: `NODE_EXTRA_CA_CERTS` or
//! `ca`), so they can follow the real `wss://` and `https://` URLs, media CDN included.

use std::sync::Arc;

use anyhow::Context as _;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The server side of TLS: what accepts handshakes, and the certificate clients must trust.
#[derive(Clone)]
pub struct TlsIdentity {
    pub acceptor: TlsAcceptor,
    /// The self-signed certificate, PEM.
    pub cert_pem: String,
}

impl TlsIdentity {
    /// A fresh key pair and self-signed certificate (valid for `localhost` and `127.0.0.1`).
    pub fn self_signed() -> anyhow::Result<Self> {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let rcgen::CertifiedKey { cert, key_pair } =
            rcgen::generate_simple_self_signed(names).context("generating the self-signed certificate")?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], key)
            .context("TLS server certificate")?;
        // WebSocket upgrades need HTTP/1.1, the only protocol the front speaks.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { acceptor: TlsAcceptor::from(Arc::new(config)), cert_pem: cert.pem() })
    }
}
