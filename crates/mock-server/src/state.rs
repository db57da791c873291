//! The state every connection and the admin API share ([`ServerState`]): accounts, pairing
//! desks, the router, each feature's own state, faults and the shutdown signal. It is built once
//! per server by [`ServerState::new`].
//!
//! A feature whose state is kept here does not name `ServerState`: it declares what it needs of
//! it in a trait of its own (`BusinessState`, `GroupsState`, ...), which the `lend!` macro below
//! implements. So this module depends on those features, never the other way round.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tokio::sync::watch;

use crate::account_seed::{AccountSeedState, SeedBook};
use crate::accounts::Directory;
use crate::app_state::{AppStateBook, AppStateState};
use crate::business::{BusinessDirectory, BusinessState};
use crate::calls::{CallLog, CallsState};
use crate::catalog::{CatalogDirectory, CatalogState};
use crate::config::MockConfig;
use crate::faults::admin::FaultsState;
use crate::faults::Faults;
use crate::groups::model::GroupDirectory;
use crate::groups::GroupsState;
use crate::link::{LinkState, PendingLink};
use crate::media::{MediaState, MediaStore};
use crate::newsletters::{ChannelDirectory, NewslettersState};
use crate::noise_server::ServerIdentity;
use crate::pairing::PairingDesk;
use crate::pairing_code::{CodeDesk, PairingCodeState};
use crate::phone_pdo::PhonePdoState;
use crate::phone_sync::PhoneSyncState;
use crate::profile::{ProfileDirectory, ProfileState};
use crate::router::Router;

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
    /// Seeded account state by phone number (account_seed.rs).
    pub seeds: Mutex<SeedBook>,
    /// Each account's app-state collections (app_state/). Lock order: `directory`, `seeds`,
    /// this, `router`.
    pub app_state: Mutex<AppStateBook>,
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
            seeds: Mutex::default(),
            app_state: Mutex::default(),
            media: MediaStore::new(port)?,
            faults: Default::default(),
            next_conn_id: AtomicU64::new(1),
            shutdown,
        })
    }

    pub fn next_conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// Implements each feature's state trait for [`ServerState`]: every method lends the field of
/// the same name.
macro_rules! lend {
    ($($feature:path { $($field:ident: $ty:ty),* $(,)? })*) => {
        $(impl $feature for ServerState {
            $(fn $field(&self) -> &$ty {
                &self.$field
            })*
        })*
    };
}

lend! {
    BusinessState { directory: Mutex<Directory>, business: Mutex<BusinessDirectory> }
    CatalogState { directory: Mutex<Directory>, catalogs: Mutex<CatalogDirectory> }
    CallsState { directory: Mutex<Directory>, router: Mutex<Router>, calls: Mutex<CallLog> }
    NewslettersState { directory: Mutex<Directory>, router: Mutex<Router>, channels: Mutex<ChannelDirectory> }
    ProfileState {
        directory: Mutex<Directory>,
        router: Mutex<Router>,
        profiles: Mutex<ProfileDirectory>,
        groups: Mutex<GroupDirectory>,
        port: u16,
    }
    GroupsState { directory: Mutex<Directory>, router: Mutex<Router>, profiles: Mutex<ProfileDirectory>, groups: Mutex<GroupDirectory> }
    LinkState { directory: Mutex<Directory>, awaiting_sign: Mutex<HashMap<u64, PendingLink>> }
    PairingCodeState { pair_codes: Mutex<CodeDesk>, pairing: Mutex<PairingDesk>, faults: Faults }
    MediaState { media: MediaStore, port: u16 }
    FaultsState { faults: Faults, directory: Mutex<Directory> }
    AccountSeedState { seeds: Mutex<SeedBook> }
    AppStateState { faults: Faults, directory: Mutex<Directory>, router: Mutex<Router>, seeds: Mutex<SeedBook>, app_state: Mutex<AppStateBook> }
    PhoneSyncState { directory: Mutex<Directory>, router: Mutex<Router>, seeds: Mutex<SeedBook>, media: MediaStore }
    PhonePdoState { directory: Mutex<Directory>, router: Mutex<Router>, seeds: Mutex<SeedBook>, media: MediaStore }
}
