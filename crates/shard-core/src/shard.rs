//! One shard: a whatsapp-rust client over its session folder, with its events turned into
//! the manager's `ShardEvent`s.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use wacore::net::DisconnectReason as EngineDisconnect;
use wacore::store::DevicePropsOverride;
use wacore::types::events::Event;
use whatsapp_rust::bot::{Bot, BotHandle};
use whatsapp_rust::Client;
use whatsapp_rust::TokioRuntime;
use whatsapp_rust_tokio_transport::TokioWebSocketTransportFactory;
use whatsapp_rust_ureq_http_client::UreqHttpClient;

use crate::config::SocketConfig;
use crate::error::{ErrorCode, Result, ShardError};
use crate::events::{disconnect_reason as dr, ConnectionUpdate, EventSink, LoginUpdate, ShardEvent};
use crate::session_store::status::check_session_status;
use crate::session_store::FileStore;
use crate::baileys_events;
use crate::baileys_value::BValue;
use crate::content::{build_message, parse_jid, MessageContent, SendOptions};
use crate::wa_message::{inbound_wa_message, outgoing_wa_message, UpsertType};

/// `ShardInfo.status` values of the original package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardStatus {
    Initializing,
    Connected,
    Disconnected,
    LoggedOut,
    Stopped,
}

impl ShardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ShardStatus::Initializing => "initializing",
            ShardStatus::Connected => "connected",
            ShardStatus::Disconnected => "disconnected",
            ShardStatus::LoggedOut => "logged_out",
            ShardStatus::Stopped => "stopped",
        }
    }

    /// Still holding (or trying to hold) a connection.
    pub fn is_active(self) -> bool {
        matches!(self, ShardStatus::Initializing | ShardStatus::Connected | ShardStatus::Disconnected)
    }
}

/// The logged-in account, Baileys' `sock.user`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardUser {
    pub id: String,
    pub name: Option<String>,
    pub lid: Option<String>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

struct Running {
    handle: BotHandle,
    client: Arc<Client>,
    store: Arc<FileStore>,
}

pub struct Shard {
    id: String,
    phone_number: Option<String>,
    dir: PathBuf,
    status: Mutex<(ShardStatus, u64)>,
    running: Mutex<Option<Running>>,
    /// Set by `stop`: events arriving after it are not reported and nothing restarts.
    stopping: AtomicBool,
    /// Baileys status code learnt from a stream error / failure, for the next close.
    pending_close_code: AtomicU16,
    sink: EventSink,
}

impl Shard {
    pub(crate) fn new(id: String, phone_number: Option<String>, dir: PathBuf, sink: EventSink) -> Arc<Self> {
        Arc::new(Shard {
            id,
            phone_number,
            dir,
            status: Mutex::new((ShardStatus::Initializing, now_ms())),
            running: Mutex::new(None),
            stopping: AtomicBool::new(false),
            pending_close_code: AtomicU16::new(0),
            sink,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn phone_number(&self) -> Option<&str> {
        self.phone_number.as_deref()
    }

    pub fn session_dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Current status and when it last changed (ms since the epoch).
    pub fn status(&self) -> (ShardStatus, u64) {
        *self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_status(&self, status: ShardStatus) {
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = (status, now_ms());
    }

    fn emit(&self, event: ShardEvent) {
        if !self.stopping.load(Ordering::Acquire) {
            (self.sink)(event);
        }
    }

    fn login(&self, update: LoginUpdate) {
        self.emit(ShardEvent::Login { shard_id: self.id.clone(), update });
    }

    fn baileys(&self, (name, data): (&'static str, BValue)) {
        self.emit(ShardEvent::Baileys { shard_id: self.id.clone(), name, data });
    }

    fn connection(&self, update: ConnectionUpdate) {
        self.emit(ShardEvent::Connection { shard_id: self.id.clone(), update });
    }

    /// Opens the session folder and starts the client in the background.
    pub(crate) async fn start(self: &Arc<Self>, config: &SocketConfig) -> Result<()> {
        let create_failed = |msg: String| ShardError::new(ErrorCode::CreateFailed, msg).for_shard(&self.id);
        let paired = check_session_status(&self.dir).registered;
        let store = Arc::new(FileStore::open(&self.dir).await.map_err(create_failed)?);
        let weak = Arc::downgrade(self);
        store.set_creds_listener(Arc::new(move |result| {
            let Some(shard) = weak.upgrade() else { return };
            match result {
                Ok(data) => {
                    shard.emit(ShardEvent::CredsUpdate { shard_id: shard.id.clone(), data });
                    shard.login(LoginUpdate::CredsSaved);
                }
                Err(why) => shard.emit(ShardEvent::Error {
                    shard_id: shard.id.clone(),
                    error: ShardError::new(ErrorCode::CredsSaveFailed, format!("could not save credentials: {why}"))
                        .for_shard(&shard.id),
                }),
            }
        }));

        let [v1, v2, v3] = config.version();
        let mut builder = Bot::builder()
            .with_backend_arc(store.clone())
            .with_transport_factory(TokioWebSocketTransportFactory::new().with_url(config.url()))
            .with_http_client(UreqHttpClient::new())
            .with_runtime(TokioRuntime)
            .with_version((v1, v2, v3));
        if let Some([os, _, _]) = &config.browser {
            builder = builder.with_device_props(DevicePropsOverride::new().with_os(os.clone()));
        }
        if config.sync_full_history != Some(true) {
            builder = builder.skip_history_sync();
        }
        if !paired {
            // Never overwrite a paired account's name; a new device announces one so servers
            // (and the mock, which derives a test number from it) can tell shards apart.
            builder = builder.with_push_name(self.phone_number.clone().unwrap_or_else(|| self.id.clone()));
        }
        let weak = Arc::downgrade(self);
        let bot = builder
            .on_event(move |event, _client| {
                let weak = weak.clone();
                async move {
                    if let Some(shard) = weak.upgrade() {
                        shard.on_engine_event(&event);
                    }
                }
            })
            .build()
            .await
            .map_err(|e| create_failed(format!("could not start the WhatsApp client: {e}")))?;
        let client = bot.client();
        self.stopping.store(false, Ordering::Release);
        self.set_status(ShardStatus::Initializing);
        self.connection(ConnectionUpdate::Connecting);
        let handle = bot.spawn();
        *self.running() = Some(Running { handle, client, store });
        Ok(())
    }

    fn close_code(&self, fallback: u16) -> u16 {
        match self.pending_close_code.swap(0, Ordering::AcqRel) {
            0 => fallback,
            code => code,
        }
    }

    fn on_engine_event(&self, event: &Event) {
        match event {
            Event::PairingQrCode(qr) => {
                self.connection(ConnectionUpdate::Qr { code: qr.code.clone() });
                self.login(LoginUpdate::Qr { code: qr.code.clone() });
            }
            Event::Messages(batch) => self.on_messages(batch),
            Event::Receipt(r) => {
                if let Some(event) = baileys_events::receipt(r) {
                    self.baileys(event);
                }
            }
            Event::Presence(p) => self.baileys(baileys_events::presence(p)),
            Event::ChatPresence(c) => self.baileys(baileys_events::chat_presence(c)),
            Event::PairingCode(p) => self.login(LoginUpdate::Pairing { code: p.code.clone() }),
            Event::PairSuccess(_) => self.connection(ConnectionUpdate::NewLogin),
            Event::PairError(e) => self.emit(ShardEvent::Error {
                shard_id: self.id.clone(),
                error: ShardError::new(ErrorCode::PairingFailed, format!("pairing failed: {}", e.error)).for_shard(&self.id),
            }),
            Event::Connected(_) => {
                self.set_status(ShardStatus::Connected);
                self.connection(ConnectionUpdate::Open);
                self.login(LoginUpdate::Connected);
            }
            Event::StreamError(e) => {
                self.pending_close_code.store(e.code.parse().unwrap_or(dr::BAD_SESSION), Ordering::Release);
            }
            Event::StreamReplaced(_) => self.pending_close_code.store(dr::CONNECTION_REPLACED, Ordering::Release),
            Event::ConnectFailure(f) => self.pending_close_code.store(f.reason.code() as u16, Ordering::Release),
            Event::TemporaryBan(_) => self.pending_close_code.store(402, Ordering::Release),
            Event::ClientOutdated(_) => self.pending_close_code.store(405, Ordering::Release),
            Event::PairingQrCodesExhausted(_) => {
                self.set_status(ShardStatus::Disconnected);
                let reason = "QR refs exhausted: no QR was scanned in time".to_string();
                self.connection(ConnectionUpdate::Close { reason: reason.clone(), status_code: dr::TIMED_OUT });
                self.login(LoginUpdate::Disconnected { reason, status_code: dr::TIMED_OUT });
            }
            Event::Disconnected(d) => {
                self.set_status(ShardStatus::Disconnected);
                let status_code = self.close_code(match d.reason {
                    EngineDisconnect::ReadError(_) => dr::CONNECTION_LOST,
                    _ => dr::CONNECTION_CLOSED,
                });
                let reason = d.reason.to_string();
                self.connection(ConnectionUpdate::Close { reason: reason.clone(), status_code });
                self.login(LoginUpdate::Disconnected { reason, status_code });
            }
            Event::LoggedOut(l) => {
                self.set_status(ShardStatus::LoggedOut);
                let status_code = l.reason.code() as u16;
                let reason = format!("logged out ({:?})", l.reason);
                self.connection(ConnectionUpdate::Close { reason: reason.clone(), status_code });
                self.login(LoginUpdate::LoggedOut { reason, status_code });
            }
            _ => {}
        }
    }

    fn on_messages(&self, batch: &wacore::types::events::MessageBatch) {
        let me = self.user().map(|u| u.id);
        let mut notify = Vec::new();
        let mut append = Vec::new();
        for inbound in batch.messages.iter() {
            match inbound_wa_message(inbound) {
                Ok(mut msg) => {
                    baileys_events::normalise_reaction_key(&mut msg, me.as_deref());
                    if inbound.info.is_offline { append.push(msg) } else { notify.push(msg) }
                }
                // The engine already decrypted it; a shape we cannot decode is logged, not fatal.
                Err(e) => log::warn!("shard {}: message {} not delivered: {e}", self.id, inbound.info.id),
            }
        }
        for (messages, kind) in [(append, UpsertType::Append), (notify, UpsertType::Notify)] {
            if !messages.is_empty() {
                self.upsert(messages, kind);
            }
        }
    }

    /// `messages.upsert`, then what Baileys' `processMessage` derives from each message.
    fn upsert(&self, messages: Vec<BValue>, kind: UpsertType) {
        let derived: Vec<_> = messages.iter().filter_map(baileys_events::derived_from_message).collect();
        self.baileys(baileys_events::messages_upsert(messages, kind));
        for event in derived {
            self.baileys(event);
        }
    }

    /// The engine client of a connected shard, or `NOT_CONNECTED`.
    pub(crate) fn connected_client(&self) -> Result<Arc<Client>> {
        let client = self.running().as_ref().map(|r| r.client.clone());
        client.filter(|c| c.is_connected()).ok_or_else(|| {
            ShardError::new(ErrorCode::NotConnected, format!("shard {} is not connected; wait for login.update 'connected'", self.id))
                .for_shard(&self.id)
        })
    }

    /// Sends `content` to `to` and returns the `WAMessage` Baileys would return; the same
    /// message is echoed as `messages.upsert` `append`, as Baileys does by default.
    pub async fn send_message(&self, to: &str, content: &MessageContent, options: &SendOptions) -> Result<BValue> {
        let jid = parse_jid(to)?;
        let client = self.connected_client()?;
        let own = client.persistence_manager().get_device_snapshot().pn.clone();
        let message = build_message(content, options, &jid, own.as_ref()).map_err(|e| e.for_shard(&self.id))?;
        let id = options.message_id.clone().unwrap_or_else(|| client.generate_message_id());
        let options = whatsapp_rust::SendOptions::default().with_message_id(id.clone());
        client.send_message_with_options(jid.clone(), message.clone(), options).await.map_err(|e| {
            ShardError::new(ErrorCode::InvalidArgument, format!("could not send to {to}: {e}")).for_shard(&self.id)
        })?;
        let timestamp = (now_ms() / 1000) as i64;
        let sent = outgoing_wa_message(&jid, &id, &message, timestamp).map_err(|e| {
            ShardError::new(ErrorCode::InvalidArgument, format!("sent, but could not describe the message: {e}")).for_shard(&self.id)
        })?;
        self.upsert(vec![sent.clone()], UpsertType::Append);
        Ok(sent)
    }

    /// The logged-in account, once paired.
    pub fn user(&self) -> Option<ShardUser> {
        let client = self.running().as_ref()?.client.clone();
        let device = client.persistence_manager().get_device_snapshot();
        let pn = device.pn.as_ref()?;
        Some(ShardUser {
            id: pn.to_string(),
            name: Some(device.push_name.clone()).filter(|n| !n.is_empty()),
            lid: device.lid.as_ref().map(|l| l.to_string()),
        })
    }

    /// Stops the client for good: no event is reported and nothing reconnects afterwards.
    pub async fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        let running = self.running().take();
        if let Some(Running { handle, store, .. }) = running {
            // Shutdown flushes the device; after it, nothing may write into the folder.
            handle.shutdown().await;
            store.close();
        }
        self.set_status(ShardStatus::Stopped);
    }

    /// Logs the device out at WhatsApp (it leaves the phone's linked devices), then stops.
    /// The session folder stays where it is.
    pub async fn logout(&self) -> Result<()> {
        let client = self.running().as_ref().map(|r| r.client.clone());
        let Some(client) = client else {
            return Err(ShardError::new(ErrorCode::NotConnected, format!("shard {} is not running", self.id)).for_shard(&self.id));
        };
        client.logout().await;
        self.stop().await;
        self.set_status(ShardStatus::LoggedOut);
        Ok(())
    }

    pub fn is_running(&self) -> bool {
        self.running().is_some()
    }

    fn running(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}
