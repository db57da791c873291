//! How to start the mock ([`MockConfig`]): port, TLS, QR refs and the adv-secret override, from
//! code or from the environment. Its own module because both the server's lifecycle and the
//! state every connection shares read it.

/// How to start a [`MockServer`](crate::MockServer).
#[derive(Clone, Debug, Default)]
pub struct MockConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Community-mock convention (`ADV_SECRET_KEY`): when set, the mock phone uses this adv
    /// secret instead of the one in a scanned QR whose adv field cannot be decoded. The binary
    /// fills it from the environment; library users set it directly.
    pub adv_secret_override: Option<Vec<u8>>,
    /// How many QR refs a new device is given (`MOCK_QR_REFS`; default 6, as WhatsApp). With 1,
    /// a client's QR runs out after its first ref (60 s), for testing "QR never scanned".
    pub qr_refs: Option<usize>,
    /// Serve the port over TLS (`wss://`, `https://`) with a self-signed certificate made at
    /// start; [`MockServer::certificate_pem`](crate::MockServer::certificate_pem) gives it to
    /// clients that must trust it.
    pub tls: bool,
}

impl MockConfig {
    /// QR refs per new device.
    pub fn qr_refs(&self) -> usize {
        self.qr_refs.unwrap_or(crate::pairing::REF_COUNT).max(1)
    }

    /// Reads `ADV_SECRET_KEY` (base64) from the environment into `adv_secret_override`.
    pub fn with_env(mut self) -> Self {
        use base64::Engine as _;
        let decoded = std::env::var("ADV_SECRET_KEY")
            .ok()
            .and_then(|v| base64::prelude::BASE64_STANDARD.decode(v.trim()).ok())
            .filter(|b| !b.is_empty());
        if decoded.is_some() {
            self.adv_secret_override = decoded;
        }
        if let Some(n) = std::env::var("MOCK_QR_REFS").ok().and_then(|v| v.trim().parse().ok()) {
            self.qr_refs = Some(n);
        }
        self
    }
}
