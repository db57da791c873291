//! The state every connection and the admin API share ([`ServerState`]): accounts, pairing
//! desks, the router, each feature's own state, faults and the shutdown signal. Features take
//! the parts they need from it; it is built once per server by [`ServerState::new`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tokio::sync::watch;

use crate::accounts::Directory;
use crate::config::MockConfig;
use crate::noise_server::ServerIdentity;
use crate::pairing::PairingDesk;
use crate::router::Router;

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
    /// The state of a server just bound to `port`: no accounts, no groups, no faults.
    pub fn new(port: u16, config: MockConfig, shutdown: watch::Receiver<bool>) -> std::io::Result<ServerState> {
        Ok(ServerState {
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
            shutdown,
        })
    }

    pub fn next_conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }
}
