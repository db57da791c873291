//! What a shard reports to its owner. The binding turns these into Baileys-shaped JS
//! payloads in one place; nothing here knows about Node.

use serde_json::Value;

use crate::baileys_value::BValue;
use crate::error::ShardError;

/// Baileys' `DisconnectReason` codes.
pub mod disconnect_reason {
    pub const CONNECTION_CLOSED: u16 = 428;
    pub const CONNECTION_LOST: u16 = 408;
    pub const CONNECTION_REPLACED: u16 = 440;
    pub const TIMED_OUT: u16 = 408;
    pub const LOGGED_OUT: u16 = 401;
    pub const BAD_SESSION: u16 = 500;
    pub const RESTART_REQUIRED: u16 = 515;
    pub const MULTIDEVICE_MISMATCH: u16 = 411;
    pub const FORBIDDEN: u16 = 403;
    pub const UNAVAILABLE_SERVICE: u16 = 503;
}

/// `login.update` states of the baileys-shard README.
#[derive(Debug, Clone, PartialEq)]
pub enum LoginUpdate {
    /// A QR to show; `code` is the string to render, `image` a PNG of it (`None` if it could
    /// not be drawn, which a string the engine made never hits).
    Qr {
        code: String,
        image: Option<Vec<u8>>,
    },
    /// A pairing code to type on the phone.
    Pairing {
        code: String,
    },
    Connected,
    Disconnected {
        reason: String,
        status_code: u16,
    },
    LoggedOut {
        reason: String,
        status_code: u16,
    },
    CredsSaved,
}

/// Baileys' `connection.update`, for `sock.ev`.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionUpdate {
    Connecting,
    Qr {
        code: String,
    },
    NewLogin,
    Open,
    /// The server delivered everything queued while the device was offline.
    ReceivedPendingNotifications,
    Close {
        reason: String,
        status_code: u16,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum ShardEvent {
    Login {
        shard_id: String,
        update: LoginUpdate,
    },
    Connection {
        shard_id: String,
        update: ConnectionUpdate,
    },
    /// `creds.update`: the changed top-level fields of `creds.json` (BufferJSON form).
    CredsUpdate {
        shard_id: String,
        data: Value,
    },
    /// `shard.error`.
    Error {
        shard_id: String,
        error: ShardError,
    },
    /// `load.progress`: `loadAllShards` handled one more saved session (`done` of `total`);
    /// `error` says why it was not started.
    LoadProgress {
        shard_id: String,
        done: usize,
        total: usize,
        error: Option<ShardError>,
    },
    /// A warning or error the engine wrote while working for this shard (engine_scope.rs), for
    /// the shard's `logger`.
    EngineLog {
        shard_id: String,
        log: crate::engine_scope::EngineLog,
    },
    /// Baileys socket events (`messages.upsert`, `messages.update`, `presence.update`, ...)
    /// with their payloads already in Baileys' shape (built in `baileys_events`). The events
    /// one engine event caused travel together, so `sock.ev.process` gets them in one map, as
    /// Baileys delivers the events of one stanza.
    Baileys {
        shard_id: String,
        events: Vec<(&'static str, BValue)>,
        /// Set for received messages: the owner settles it once every handler of these events
        /// has finished (`Settlement`); until then the messages are not acknowledged.
        settled: Option<Settlement>,
    },
}

/// The owner's word that the handlers of an event have finished: received messages are
/// acknowledged to the server only then (`inbound_gate`). Dropped unsettled — the event was
/// never delivered, or its owner went away — it counts as not handled.
#[derive(Clone)]
pub struct Settlement(std::sync::Arc<tokio::sync::watch::Sender<bool>>);

/// Waits for a [`Settlement`]; clones wait for the same one.
#[derive(Clone)]
pub struct Settled(tokio::sync::watch::Receiver<bool>);

impl Settlement {
    pub fn new() -> (Settlement, Settled) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (Settlement(std::sync::Arc::new(tx)), Settled(rx))
    }

    pub fn settle(&self) {
        self.0.send_replace(true);
    }
}

impl Settled {
    /// True once settled; false when every copy of the settlement was dropped unsettled.
    pub async fn wait(mut self) -> bool {
        self.0.wait_for(|settled| *settled).await.is_ok()
    }
}

impl std::fmt::Debug for Settlement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Settlement")
    }
}

impl PartialEq for Settlement {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl ShardEvent {
    pub fn shard_id(&self) -> &str {
        match self {
            ShardEvent::Login { shard_id, .. }
            | ShardEvent::Connection { shard_id, .. }
            | ShardEvent::CredsUpdate { shard_id, .. }
            | ShardEvent::Error { shard_id, .. }
            | ShardEvent::LoadProgress { shard_id, .. }
            | ShardEvent::EngineLog { shard_id, .. }
            | ShardEvent::Baileys { shard_id, .. } => shard_id,
        }
    }
}

/// Where a manager's events go. Called from engine threads; must not block.
pub type EventSink = std::sync::Arc<dyn Fn(ShardEvent) + Send + Sync>;
