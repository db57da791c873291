//! Server lifecycle: bind, accept, shut down; and the state every connection shares.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::accounts::Directory;
use crate::http_front;
use crate::locking::lock;
use crate::noise_server::ServerIdentity;
use crate::pairing::PairingDesk;
use crate::router::Router;
use crate::tls::TlsIdentity;

/// How to start a [`MockServer`].
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
    /// start; [`MockServer::certificate_pem`] gives it to clients that must trust it.
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

/// A device that has been sent `<pair-success>` and owes us its `pair-device-sign`.
pub struct PendingLink {
    pub iq_id: String,
    pub phone: String,
    pub device: u16,
    pub key_index: u32,
    pub noise_pub: [u8; 32],
    pub identity_pub: [u8; 32],
    pub props: crate::accounts::CompanionProps,
}

/// State shared by all connections and the admin API.
pub struct ServerState {
    pub port: u16,
    pub config: MockConfig,
    pub identity: ServerIdentity,
    pub directory: Mutex<Directory>,
    pub pairing: Mutex<PairingDesk>,
    /// Companions waiting for their pairing code to be typed on the mock phone, by number.
    pub pair_codes: Mutex<crate::pairing_code::CodeDesk>,
    /// conn id → the link it must confirm with `pair-device-sign`.
    pub awaiting_sign: Mutex<HashMap<u64, PendingLink>>,
    /// Live devices and their unacked stanzas. Lock order: `directory` before `router`.
    pub router: Mutex<Router>,
    /// Groups (`w:g2`). Lock order: `directory`, `groups`, `router`.
    pub groups: Mutex<crate::groups::GroupDirectory>,
    /// Profile pictures, about texts and blocklists (profile.rs).
    pub profiles: Mutex<crate::profile::ProfileDirectory>,
    pub business: Mutex<crate::business::BusinessDirectory>,
    /// Business catalogs (catalog.rs).
    pub catalogs: Mutex<crate::catalog::CatalogDirectory>,
    /// Channels (newsletters.rs).
    pub channels: Mutex<crate::newsletters::ChannelDirectory>,
    /// Calls placed through the admin API and what devices answered (calls.rs).
    pub calls: Mutex<crate::calls::CallLog>,
    /// Each account's status audience: the accounts its posts reach (group_relay.rs). Lock
    /// order: `directory` before this.
    pub status_audiences: Mutex<HashMap<String, std::collections::BTreeSet<String>>>,
    /// Uploaded media blobs (the CDN on this port).
    pub media: crate::media::MediaStore,
    /// Injected faults and connection/handshake counters (admin `/admin/faults`, `/admin/stats`).
    pub faults: crate::faults::Faults,
    next_conn_id: AtomicU64,
    pub shutdown: watch::Receiver<bool>,
}

impl ServerState {
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// A running mock server. Dropping it without [`MockServer::shutdown`] leaves the accept loop
/// running until the runtime stops.
pub struct MockServer {
    port: u16,
    state: Arc<ServerState>,
    tls: Option<TlsIdentity>,
    shutdown_tx: watch::Sender<bool>,
    accept_task: JoinHandle<()>,
}

impl MockServer {
    /// Binds 127.0.0.1:`config.port` and starts serving.
    pub async fn start(config: MockConfig) -> anyhow::Result<MockServer> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port))).await?;
        let port = listener.local_addr()?.port();
        let tls = if config.tls { Some(TlsIdentity::self_signed()?) } else { None };
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let state = Arc::new(ServerState {
            port,
            config,
            identity: ServerIdentity::generate(),
            directory: Mutex::new(Directory::default()),
            pairing: Mutex::new(PairingDesk::default()),
            pair_codes: Mutex::default(),
            awaiting_sign: Mutex::new(HashMap::new()),
            router: Mutex::new(Router::default()),
            groups: Mutex::default(),
            profiles: Mutex::default(),
            business: Mutex::default(),
            channels: Mutex::default(),
            catalogs: Mutex::default(),
            calls: Mutex::default(),
            status_audiences: Mutex::default(),
            media: crate::media::MediaStore::new(port)?,
            faults: Default::default(),
            next_conn_id: AtomicU64::new(1),
            shutdown: shutdown_rx,
        });
        let accept_task = tokio::spawn(accept_loop(listener, state.clone(), tls.clone()));
        log::info!("mock server listening on 127.0.0.1:{port}{}", if tls.is_some() { " (TLS)" } else { "" });
        Ok(MockServer { port, state, tls, shutdown_tx, accept_task })
    }

    /// WebSocket URL for clients: `ws://127.0.0.1:PORT/ws/chat` (`wss://` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://127.0.0.1:{}/ws/chat", self.port)
    }

    /// Base URL of the admin API and media CDN: `http://127.0.0.1:PORT` (`https://` with TLS).
    pub fn http_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The self-signed certificate (PEM) clients must trust, when serving TLS.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.cert_pem.as_str())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Phone number the mock assigns to a push name (same function the server uses).
    pub fn phone_for_push_name(push_name: &str) -> String {
        crate::accounts::phone_for_push_name(push_name)
    }

    /// Number of devices currently logged in (for tests).
    pub fn online_device_count(&self) -> usize {
        let dir = lock(&self.state.directory);
        dir.accounts().map(|a| a.devices.keys().filter(|d| dir.is_online(&a.phone, **d)).count()).sum()
    }

    /// Stops accepting, closes every client connection and waits for the accept loop to end.
    pub async fn shutdown(self) {
        let _ = self.shutdown_tx.send(true);
        let _ = self.accept_task.await;
    }
}

/// How long a client may take to finish the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

async fn accept_loop(listener: TcpListener, state: Arc<ServerState>, tls: Option<TlsIdentity>) {
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    log::trace!("accepted {peer}");
                    let _ = stream.set_nodelay(true);
                    let state = state.clone();
                    match &tls {
                        None => { tokio::spawn(http_front::serve_connection(stream, state)); }
                        Some(tls) => {
                            let acceptor = tls.acceptor.clone();
                            tokio::spawn(async move {
                                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                    Ok(Ok(stream)) => http_front::serve_connection(stream, state).await,
                                    Ok(Err(e)) => log::debug!("TLS handshake with {peer} failed: {e}"),
                                    Err(_) => log::debug!("TLS handshake with {peer} timed out"),
                                }
                            });
                        }
                    }
                }
                Err(e) => {
                    // Typically EMFILE; back off a little instead of spinning.
                    log::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
        }
    }
    log::info!("mock server stopped accepting");
}
