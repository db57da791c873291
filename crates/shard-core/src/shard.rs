//! One shard: a whatsapp-rust client over its session folder, with its events turned into
//! the manager's `ShardEvent`s.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use wacore::net::DisconnectReason as EngineDisconnect;
use wacore::store::DevicePropsOverride;
use wacore::types::events::Event;
use wacore::types::events::Subscription;
use wacore_binary::{Jid, JidExt as _};
use waproto::whatsapp as wa;
use whatsapp_rust::bot::Bot;
use whatsapp_rust::Client;

use crate::baileys_events;
use crate::baileys_value::BValue;
use crate::close_reason::CloseKind;
use crate::config::SocketConfig;
use crate::engine_scope::{in_scope, EngineLog, EngineScope, ScopedRuntime};
use crate::error::{ErrorCode, Result, ShardError};
use crate::events::{disconnect_reason as dr, ConnectionUpdate, EventSink, LoginUpdate, Settled, Settlement, ShardEvent};
use crate::handshake_gate::{GatedTransportFactory, HandshakeGate, HandshakeSlot};
use crate::inbound_gate::{InboundGate, PendingMessages};
use crate::pairing_code::{PairingCodeLogin, PhoneNumber};
use crate::recent_keys::{MessageKey, RecentKeys};
use crate::reconnect::{self, ReconnectPolicy, RunEnd, RunWatcher, StopSignal};
use crate::server_acks::{NotAcked, PendingAcks, ACK_TIMEOUT};
use crate::session_aside::{move_aside, LOGGED_OUT_BIN};
use crate::session_store::session_lock::{LockError, SessionLock};
use crate::session_store::status::check_session_status;
use crate::session_store::FileStore;
use crate::wa_message::{inbound_wa_message, undecryptable_wa_message, UpsertType, NO_MESSAGE_FOUND_ERROR_TEXT};
use crate::ws_dial::NoDelayWebSocketFactory;

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

/// How long `stop` waits for the engine to flush and close.
const STOP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Baileys' `getPlatformType(browser[1])`: the platform named by the browser part of `browser`
/// (`'Chrome'` → CHROME), DESKTOP when it names none. The phone's linked-devices list shows it.
fn platform_type(browser: &str) -> waproto::whatsapp::device_props::PlatformType {
    use buffa::Enumeration as _;
    waproto::whatsapp::device_props::PlatformType::from_proto_name(&browser.to_uppercase())
        .unwrap_or(waproto::whatsapp::device_props::PlatformType::DESKTOP)
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

struct Running {
    /// The connection loop (`reconnect::supervise`); it runs the engine.
    supervisor: tokio::task::JoinHandle<()>,
    stop: Arc<StopSignal>,
    /// Keeps the run watcher and the ack waiters subscribed to the engine's events.
    _watch: [Subscription; 2],
    watcher: Arc<RunWatcher>,
    client: Arc<Client>,
    store: Arc<FileStore>,
    /// The folder is this shard's until the engine is down (dropped with this).
    _lock: SessionLock,
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
    /// Set by the first close that ends the shard (logged out, replaced, ...): it is reported
    /// and cleaned up once.
    ended: AtomicBool,
    /// Serialises engine shutdowns (`stop`, and the clean-up after a close that ends the
    /// shard), so the folder is only moved once nothing writes into it.
    shutdown_lock: tokio::sync::Mutex<()>,
    /// This shard's place in the manager's handshake cap.
    handshake: Arc<HandshakeSlot>,
    /// Sent messages waiting for the server's ack (server_acks.rs).
    acks: Arc<PendingAcks>,
    /// Failed connection attempts since the last stable connection (reconnect.rs).
    reconnect_attempts: Arc<AtomicU32>,
    /// Keys of recently reported messages: a redelivered message is reported once.
    recent: Mutex<RecentKeys>,
    /// Messages handed to the bot's handlers that they have not finished yet (`inbound_gate`):
    /// the same message delivered again meanwhile waits for the first delivery's handlers.
    in_handlers: Mutex<HashMap<MessageKey, Settled>>,
    /// The manager's limit of messages in handlers at once.
    pending_messages: PendingMessages,
    /// `emitOwnEvents`, as of the last start.
    pub(crate) emit_own_events: AtomicBool,
    /// Offer details of recent calls, for their later `call` events (call_events.rs).
    call_offers: crate::call_events::CallOffers,
    /// Whether `open` or the end of the offline queue came first (pending_notifications.rs).
    pending_notifications: crate::pending_notifications::PendingNotifications,
    /// A history chunk (other than on demand) was reported since the shard was created: later
    /// ones are not `isLatest`.
    history_reported: Mutex<bool>,
    sink: EventSink,
}

impl Shard {
    pub(crate) fn new(
        id: String,
        phone_number: Option<String>,
        dir: PathBuf,
        sink: EventSink,
        pending_messages: PendingMessages,
    ) -> Arc<Self> {
        Arc::new(Shard {
            id,
            phone_number,
            dir,
            status: Mutex::new((ShardStatus::Initializing, now_ms())),
            running: Mutex::new(None),
            stopping: AtomicBool::new(false),
            pending_close_code: AtomicU16::new(0),
            ended: AtomicBool::new(false),
            shutdown_lock: tokio::sync::Mutex::new(()),
            handshake: Arc::new(HandshakeSlot::default()),
            recent: Mutex::new(RecentKeys::default()),
            in_handlers: Mutex::default(),
            pending_messages,
            emit_own_events: AtomicBool::new(true),
            call_offers: Default::default(),
            pending_notifications: Default::default(),
            history_reported: Mutex::new(false),
            reconnect_attempts: Arc::default(),
            acks: Arc::default(),
            sink,
        })
    }

    /// The shard's session folder.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
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

    pub(crate) fn baileys(&self, event: (&'static str, BValue)) {
        self.baileys_together(vec![event]);
    }

    /// Events that happened together (one stanza): delivered to JS as one batch.
    pub(crate) fn baileys_together(&self, events: Vec<(&'static str, BValue)>) {
        if !events.is_empty() {
            self.emit(ShardEvent::Baileys { shard_id: self.id.clone(), events, settled: None });
        }
    }

    fn connection(&self, update: ConnectionUpdate) {
        self.emit(ShardEvent::Connection { shard_id: self.id.clone(), update });
    }

    /// Reports why the shard cannot reach its server as `shard.error` `CONNECT_FAILED` (it keeps
    /// retrying): once per distinct reason, again only after a dial succeeded, so a server that
    /// stays down does not flood the handler with the same error at every retry.
    fn dial_failure_reporter(self: &Arc<Self>, url: &str) -> crate::ws_dial::AttemptListener {
        let weak = Arc::downgrade(self);
        let url = url.to_owned();
        let last = std::sync::Mutex::new(None::<String>);
        Arc::new(move |failure| {
            let reason = failure.map(|e| format!("{e:#}"));
            let mut last = last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if *last == reason {
                return;
            }
            last.clone_from(&reason);
            if let (Some(reason), Some(shard)) = (reason, weak.upgrade()) {
                let message = format!("cannot connect to {url} (retrying): {reason}");
                shard.emit(ShardEvent::Error {
                    shard_id: shard.id.clone(),
                    error: ShardError::new(ErrorCode::ConnectFailed, message).for_shard(&shard.id),
                });
            }
        })
    }

    /// The scope the engine works in for this shard: what it only logs reaches the shard —
    /// history chunks and app state it could not use as `shard.error`, every warning and error
    /// for `logger`.
    fn engine_scope(self: &Arc<Self>) -> Arc<EngineScope> {
        let weak = Arc::downgrade(self);
        EngineScope::new(Box::new(move |log: EngineLog| {
            let Some(shard) = weak.upgrade() else { return };
            if let Some(error) = crate::history_events::engine_failure(&log).or_else(|| crate::app_state_events::engine_failure(&log)) {
                shard.emit(ShardEvent::Error { shard_id: shard.id.clone(), error: error.for_shard(&shard.id) });
            }
            shard.emit(ShardEvent::EngineLog { shard_id: shard.id.clone(), log });
        }))
    }

    /// Opens the session folder and starts the client in the background.
    pub(crate) async fn start(self: &Arc<Self>, config: &SocketConfig, gate: Arc<HandshakeGate>, policy: ReconnectPolicy) -> Result<()> {
        let create_failed = |msg: String| ShardError::new(ErrorCode::CreateFailed, msg).for_shard(&self.id);
        let paired = check_session_status(&self.dir).registered;
        // A number logs in by pairing code, unless the session is paired already. Checked
        // before the folder is opened, so a bad number writes nothing.
        let pairing_code = match (&self.phone_number, paired) {
            (Some(phone), false) => Some(PairingCodeLogin::new(&self.id, PhoneNumber::parse(phone).map_err(|e| e.for_shard(&self.id))?)),
            _ => None,
        };
        // The options parser checked the URL already; this is the same check, before any write.
        let invalid = |e: String| ShardError::new(ErrorCode::InvalidArgument, e).for_shard(&self.id);
        let dialer = NoDelayWebSocketFactory::new(config.url(), config.connect_timeout.unwrap_or(crate::ws_dial::DEFAULT_CONNECT_TIMEOUT))
            .map_err(invalid)?
            .through(config.proxy.clone())
            .reporting_to(self.dial_failure_reporter(config.url()));
        let media_http = crate::media::MediaHttpClient::for_chat_server(config.url(), config.media_proxy.as_ref()).map_err(invalid)?;
        // Before anything is read or written: a folder another shard uses is not touched.
        let lock = SessionLock::acquire(&self.dir).map_err(|e| match e {
            LockError::Held { pid } => ShardError::new(
                ErrorCode::SessionLocked,
                format!(
                    "session folder {} is in use by another shard ({}); stop it there first",
                    self.dir.display(),
                    pid.map_or("another manager or process".to_owned(), |pid| format!("process {pid}"))
                ),
            )
            .for_shard(&self.id),
            LockError::Io(e) => create_failed(format!("cannot lock session folder {}: {e}", self.dir.display())),
        })?;
        let store = Arc::new(FileStore::open(&self.dir).await.map_err(create_failed)?);
        let skipped = store.skipped_files();
        if !skipped.is_empty() {
            // One report, however many files: a folder of damaged keys must not flood the handler.
            let shown: Vec<_> = skipped.iter().take(5).map(|(file, reason)| format!("{file} ({reason})")).collect();
            let more = if skipped.len() > shown.len() { format!("; and {} more", skipped.len() - shown.len()) } else { String::new() };
            let message = format!(
                "{} file(s) in {} could not be used and were left out (the files are kept): {}{more}",
                skipped.len(),
                self.dir.display(),
                shown.join("; ")
            );
            self.emit(ShardEvent::Error {
                shard_id: self.id.clone(),
                error: ShardError::new(ErrorCode::SessionDamaged, message).for_shard(&self.id),
            });
        }
        self.emit_own_events.store(config.emit_own_events != Some(false), Ordering::Release);
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
                    error: ShardError::new(ErrorCode::CredsSaveFailed, format!("could not save credentials: {why}")).for_shard(&shard.id),
                }),
            }
        }));

        let [v1, v2, v3] = config.version();
        let scope = self.engine_scope();
        let mut builder = Bot::builder()
            .with_backend_arc(store.clone())
            .with_transport_factory(GatedTransportFactory::new(dialer, gate, self.handshake.clone()))
            .with_http_client(media_http)
            .with_runtime(ScopedRuntime::new(scope.clone()))
            .with_version((v1, v2, v3));
        // `handlerTimeoutMs: 0` asks for Baileys' acknowledge-on-receipt: no hook, and none of
        // its per-message record writes.
        if !self.pending_messages.handler_timeout.is_zero() {
            builder =
                builder.with_inbound_durability_hook(InboundGate { shard: Arc::downgrade(self), pending: self.pending_messages.clone() });
        }
        let mut props = DevicePropsOverride::new();
        if let Some([os, browser, _]) = &config.browser {
            props = props.with_os(os.clone()).with_platform_type(platform_type(browser));
        }
        // Baileys registers with `requireFullSync: syncFullHistory`: the phone then sends
        // the whole history (FULL) instead of the recent part.
        if config.sync_full_history == Some(true) {
            props = props.with_require_full_sync(true);
        }
        if config.browser.is_some() || config.sync_full_history == Some(true) {
            builder = builder.with_device_props(props);
        }
        if !config.processes_history() {
            builder = builder.skip_history_sync();
        }
        if !paired {
            // Never overwrite a paired account's name; a new device announces one so servers
            // (and the mock, which derives a test number from it) can tell shards apart.
            builder = builder.with_push_name(self.phone_number.clone().unwrap_or_else(|| self.id.clone()));
        }
        let weak = Arc::downgrade(self);
        let mark_online = config.mark_online_on_connect != Some(false);
        let bot = builder
            .on_event(move |event, client| {
                let weak = weak.clone();
                let pairing_code = pairing_code.clone();
                async move {
                    if let Some(shard) = weak.upgrade() {
                        shard.on_engine_event(&event);
                        if let Event::AppStateSyncFailed(failed) = &*event {
                            crate::app_state_events::resync_skipped(failed, &client);
                        }
                        if let Some(pairing_code) = pairing_code {
                            pairing_code.on_engine_event(&event, &client);
                        }
                        if !mark_online {
                            stay_unavailable(&shard.id, &event, &client).await;
                        }
                    }
                }
            })
            .build()
            .await
            .map_err(|e| create_failed(format!("could not start the WhatsApp client: {e}")))?;
        let client = bot.client();
        // Our policy decides about reconnecting (reconnect.rs), not the engine's loop.
        client.enable_auto_reconnect.store(false, Ordering::Release);
        let watcher = Arc::new(RunWatcher::default());
        let watch = client.subscribe(RunWatcher::interest(), watcher.clone());
        let acks_watch = client.subscribe(PendingAcks::interest(), self.acks.clone());
        // `stop` (a stopShard or close() while this start awaited) sets `stopping` before it
        // looks for the engine under this lock: seen here, the engine is dropped unstarted;
        // not seen, `stop` finds the engine this installs and shuts it down.
        let mut running = self.running();
        if self.stopping.load(Ordering::Acquire) {
            drop(running);
            store.close();
            log::info!("shard {}: stopped while it was starting; not started", self.id);
            return Ok(());
        }
        self.set_status(ShardStatus::Initializing);
        self.pending_notifications.reset();
        self.connection(ConnectionUpdate::Connecting);
        let stop = Arc::new(StopSignal::default());
        let weak = Arc::downgrade(self);
        let report = move |end: RunEnd| {
            let Some(shard) = weak.upgrade() else { return };
            match end {
                RunEnd::RestartRequired => shard.report_close(CloseKind::RestartRequired, "restart required".into(), dr::RESTART_REQUIRED),
                RunEnd::Panicked(what) => {
                    shard.emit(ShardEvent::Error {
                        shard_id: shard.id.clone(),
                        error: ShardError::new(
                            ErrorCode::Internal,
                            format!("the WhatsApp engine of shard {} panicked ({what}); it reconnects. Please report this", shard.id),
                        )
                        .for_shard(&shard.id),
                    });
                    shard.report_close(CloseKind::Transient, format!("engine panicked: {what}"), dr::BAD_SESSION);
                }
            }
        };
        let supervisor = tokio::spawn(in_scope(
            scope,
            reconnect::supervise(bot.run(), client.clone(), watcher.clone(), policy, stop.clone(), self.reconnect_attempts.clone(), report),
        ));
        *running = Some(Running { supervisor, stop, _watch: [watch, acks_watch], watcher, client, store, _lock: lock });
        Ok(())
    }

    fn close_code(&self, fallback: u16) -> u16 {
        match self.pending_close_code.swap(0, Ordering::AcqRel) {
            0 => fallback,
            code => code,
        }
    }

    fn on_engine_event(self: &Arc<Self>, event: &Event) {
        if ends_handshake(event) {
            self.handshake.release();
        }
        match event {
            Event::PairingQrCode(qr) => {
                self.connection(ConnectionUpdate::Qr { code: qr.code.clone() });
                let image = crate::qr_png::qr_png(&qr.code).map_err(|e| log::warn!("shard {}: no QR image: {e}", self.id)).ok();
                self.login(LoginUpdate::Qr { code: qr.code.clone(), image });
            }
            Event::Messages(batch) => self.on_messages(batch),
            Event::UndecryptableMessage(u) => self.on_undecryptable(u),
            Event::Receipt(r) => {
                if let Some(event) = baileys_events::receipt(r) {
                    self.baileys(event);
                }
            }
            Event::Presence(p) => self.baileys(baileys_events::presence(p)),
            Event::ChatPresence(c) => self.baileys(baileys_events::chat_presence(c)),
            Event::GroupUpdate(u) => self.on_group_update(u),
            Event::PictureUpdate(p) => self.baileys(crate::profile_events::contacts_update(p)),
            Event::IncomingCall(call) => self.baileys(crate::call_events::call_event(call, &self.call_offers)),
            Event::MissedCall(missed) => {
                if let Some(event) = crate::call_events::missed_offline_offer(missed) {
                    self.baileys(event);
                }
            }
            Event::HistorySync(h) => self.on_history_sync(h),
            Event::PairingCode(p) => self.login(LoginUpdate::Pairing { code: p.code.clone() }),
            Event::PairSuccess(_) => self.connection(ConnectionUpdate::NewLogin),
            Event::PairError(e) => self.emit(ShardEvent::Error {
                shard_id: self.id.clone(),
                error: ShardError::new(ErrorCode::PairingFailed, format!("pairing failed: {}", e.error)).for_shard(&self.id),
            }),
            Event::PairingCodeError(e) => self.emit(ShardEvent::Error {
                shard_id: self.id.clone(),
                error: ShardError::new(ErrorCode::PairingFailed, crate::pairing_code::failure_message(e)).for_shard(&self.id),
            }),
            Event::Connected(_) => {
                self.set_status(ShardStatus::Connected);
                self.connection(ConnectionUpdate::Open);
                self.login(LoginUpdate::Connected);
                if self.pending_notifications.opened() {
                    self.connection(ConnectionUpdate::ReceivedPendingNotifications);
                }
            }
            Event::OfflineSyncCompleted(_) => {
                if self.pending_notifications.delivered() {
                    self.connection(ConnectionUpdate::ReceivedPendingNotifications);
                }
            }
            Event::StreamError(e) => {
                self.pending_close_code.store(e.code.parse().unwrap_or(dr::BAD_SESSION), Ordering::Release);
            }
            // The engine stops reconnecting after each of these; the shard ends with it.
            Event::StreamReplaced(_) => {
                self.spawn_end(CloseKind::Replaced, "replaced by another connection".into(), dr::CONNECTION_REPLACED)
            }
            Event::ConnectFailure(f) if f.reason.should_reconnect() => {
                self.pending_close_code.store(f.reason.code() as u16, Ordering::Release)
            }
            Event::ConnectFailure(f) => {
                let code = f.reason.code() as u16;
                let reason =
                    format!("login refused ({:?}{})", f.reason, f.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default());
                let kind = match CloseKind::of_code(code) {
                    CloseKind::Transient => CloseKind::Refused,
                    kind => kind,
                };
                self.spawn_end(kind, reason, code)
            }
            Event::TemporaryBan(b) => self.spawn_end(CloseKind::Refused, format!("temporarily banned ({:?})", b.code), 402),
            Event::ClientOutdated(_) => self.spawn_end(CloseKind::Refused, "client version refused as outdated".into(), 405),
            Event::PairingQrCodesExhausted(q) if q.disconnected => {
                self.spawn_end(CloseKind::QrExpired, "QR refs exhausted: no QR was scanned in time".into(), dr::TIMED_OUT)
            }
            Event::Disconnected(d) => {
                self.pending_notifications.reset();
                let status_code = self.close_code(match d.reason {
                    EngineDisconnect::ReadError(_) => dr::CONNECTION_LOST,
                    _ => dr::CONNECTION_CLOSED,
                });
                match CloseKind::of_code(status_code) {
                    // A stream error that ends the shard (401, 440, ...): reported by `end`, once.
                    kind if !kind.reconnects() => self.spawn_end(kind, d.reason.to_string(), status_code),
                    kind => self.report_close(kind, d.reason.to_string(), status_code),
                }
            }
            Event::LoggedOut(l) => self.spawn_end(CloseKind::LoggedOut, format!("logged out ({:?})", l.reason), l.reason.code() as u16),
            Event::AppStateSyncFailed(f) => {
                if let Some(error) = crate::app_state_events::sync_failed(f) {
                    self.emit(ShardEvent::Error { shard_id: self.id.clone(), error: error.for_shard(&self.id) });
                }
            }
            // What the account's other devices changed (archive, pin, contacts, ...).
            other => {
                if let Some(event) = crate::app_state_events::baileys_event(other) {
                    self.baileys(event);
                }
            }
        }
    }

    /// Sets the status a close leaves the shard in and reports it (`connection.update`
    /// close, `login.update` disconnected / logged_out).
    fn report_close(&self, kind: CloseKind, reason: String, status_code: u16) {
        self.set_status(kind.status());
        self.connection(ConnectionUpdate::Close { reason: reason.clone(), status_code });
        let reason = if kind.reconnects() { reason } else { format!("{reason}: {}", kind.advice()) };
        self.login(match kind {
            CloseKind::LoggedOut => LoginUpdate::LoggedOut { reason, status_code },
            _ => LoginUpdate::Disconnected { reason, status_code },
        });
    }

    fn spawn_end(self: &Arc<Self>, kind: CloseKind, reason: String, status_code: u16) {
        let shard = self.clone();
        tokio::spawn(async move { shard.end(kind, reason, status_code).await });
    }

    /// A close after which the engine does not reconnect: report it once, shut the engine
    /// down, and — when WhatsApp logged the device out — keep the folder aside as a backup
    /// (`<session>/.logged-out/<id>-<ms>/`) so the id starts fresh next time.
    async fn end(self: &Arc<Self>, kind: CloseKind, reason: String, status_code: u16) {
        if !self.ended.swap(true, Ordering::AcqRel) {
            self.finish_end(kind, reason, status_code).await;
        }
    }

    /// Holds the shutdown lock from before the close is reported until the engine is down (and,
    /// logged out, the folder moved): a `createShard` of this id made meanwhile — even from the
    /// handler of this very close — waits for it (`wait_shut_down`), so two engines never share
    /// the folder. `logged_out` is reported only once the folder has moved.
    async fn finish_end(&self, kind: CloseKind, reason: String, status_code: u16) {
        let _guard = self.shutdown_lock.lock().await;
        self.set_status(kind.status());
        let logged_out = kind == CloseKind::LoggedOut;
        if !logged_out {
            self.report_close(kind, reason.clone(), status_code);
        }
        if let Err(e) = self.shutdown_engine_locked().await {
            self.emit(ShardEvent::Error { shard_id: self.id.clone(), error: e });
        }
        if logged_out {
            if let Some(root) = self.dir.parent().filter(|_| self.dir.exists()) {
                match move_aside(root, &self.dir, LOGGED_OUT_BIN) {
                    Ok(to) => log::info!("shard {}: logged out; session kept at {}", self.id, to.display()),
                    Err(e) => log::warn!("shard {}: logged out; could not move {} aside: {e}", self.id, self.dir.display()),
                }
            }
            self.report_close(kind, reason, status_code);
        }
    }

    /// A `stop` was asked for (it may still be shutting the engine down).
    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Resolves once no engine of this shard runs any more (see `finish_end`).
    pub(crate) async fn wait_shut_down(&self) {
        loop {
            drop(self.shutdown_lock.lock().await);
            // `stop` marks the shard before it takes the lock: in that gap the engine still runs.
            let shutting_down = self.is_stopping() || self.ended.load(Ordering::Acquire);
            if self.running().is_none() || !shutting_down {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    fn on_messages(&self, batch: &wacore::types::events::MessageBatch) {
        // Those the durability hook committed were handed over by `hand_over` already.
        if !batch.hook_committed {
            self.report_messages(&batch.messages, None);
        }
    }

    /// A history chunk the engine downloaded: `messaging-history.set`. Decoded in the order
    /// the chunks arrive, off the async workers (a chunk can hold thousands of messages).
    fn on_history_sync(&self, history: &wacore::types::events::LazyHistorySync) {
        let sync_type = history.sync_type();
        if !crate::history_events::is_processable(sync_type) {
            return;
        }
        match crate::blocking::off_the_workers(|| crate::history_events::messaging_history_set(history, false)) {
            Ok(mut data) => {
                // The engine decodes two chunks at once, so the first reported is the latest:
                // decided and emitted under one lock, never at decode start.
                let mut reported = self.history_reported.lock().unwrap_or_else(|p| p.into_inner());
                if !crate::history_events::is_on_demand(sync_type) {
                    data.set("isLatest", BValue::Bool(!*reported));
                    *reported = true;
                }
                self.baileys(("messaging-history.set", data));
            }
            Err(error) => {
                log::warn!("shard {}: {}", self.id, error.message);
                self.emit(ShardEvent::Error { shard_id: self.id.clone(), error: error.for_shard(&self.id) });
            }
        }
    }

    /// As Baileys: a `messages.upsert` of the message as a CIPHERTEXT stub (the engine has asked
    /// the sender to send it again; if it does, the message is reported then), and a
    /// `shard.error` `DECODE_FAILED` naming it — not for a stanza that was meant to carry
    /// nothing for this device (a view-once for a companion, say).
    fn on_undecryptable(&self, u: &wacore::types::events::UndecryptableMessage) {
        let info = &u.info;
        let reason = if u.is_unavailable {
            NO_MESSAGE_FOUND_ERROR_TEXT
        } else {
            "message could not be decrypted; the sender was asked to send it again"
        };
        let kind = if info.is_offline { UpsertType::Append } else { UpsertType::Notify };
        self.upsert(vec![undecryptable_wa_message(info, reason)], kind);
        if !u.is_unavailable {
            let message = format!(
                "message {} in chat {} from {} could not be decrypted; the sender was asked to send it again, and it is reported if it arrives",
                info.id,
                info.source.chat.to_non_ad_string(),
                info.source.sender
            );
            self.emit(ShardEvent::Error {
                shard_id: self.id.clone(),
                error: ShardError::new(ErrorCode::DecodeFailed, message).for_shard(&self.id),
            });
        }
    }

    /// Hands received messages to the bot (`messages.upsert`) and waits until its handlers have
    /// finished with them — and with any of them an earlier delivery is still handling — or
    /// `timeout` has passed. False when the shard stopped first: then they must not be
    /// acknowledged.
    pub(crate) async fn hand_over(&self, messages: &[wacore::types::events::InboundMessage], timeout: std::time::Duration) -> bool {
        let Some(stop) = self.running().as_ref().map(|r| r.stop.clone()) else {
            return false;
        };
        let (settlement, settled) = Settlement::new();
        let Reported { mut waits, in_handlers: reported } = self.report_messages(messages, Some((settlement, settled.clone())));
        if !reported.is_empty() {
            waits.push(settled);
        }
        let all_settled = async {
            for wait in waits {
                if !wait.wait().await {
                    return false;
                }
            }
            true
        };
        let done = tokio::select! {
            done = all_settled => done,
            _ = stop.stopped() => false,
            _ = tokio::time::sleep(timeout) => {
                log::warn!(
                    "shard {}: messages.upsert handlers still running after {timeout:?}; acknowledging their message(s) so the chat is not held (handlerTimeoutMs)",
                    self.id
                );
                true
            }
        };
        let mut in_handlers = self.in_handlers.lock().unwrap_or_else(|p| p.into_inner());
        for key in reported {
            in_handlers.remove(&key);
        }
        done
    }

    /// Reports the messages not reported yet as `messages.upsert`. With a settlement (from
    /// `hand_over`), the reported ones are recorded as in handlers until it is settled.
    fn report_messages(&self, messages: &[wacore::types::events::InboundMessage], settlement: Option<(Settlement, Settled)>) -> Reported {
        let me = self.user().map(|u| u.id);
        let mut notify = Vec::new();
        let mut append = Vec::new();
        let mut earlier = Vec::new();
        let mut recorded = Vec::new();
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let mut in_handlers = self.in_handlers.lock().unwrap_or_else(|p| p.into_inner());
        for inbound in messages {
            if inbound.info.unavailable_request_id.is_some() {
                // A message the phone resent (a placeholder resend answer): reported from the
                // phone's answer itself, as Baileys does (peer_data_ops.rs), not from the
                // engine's rebuilt copy.
                continue;
            }
            let source = &inbound.info.source;
            let key = (
                source.chat.to_string(),
                if source.is_group { source.sender.to_string() } else { String::new() },
                inbound.info.id.to_string(),
            );
            if !recent.first_time(key.clone()) {
                log::debug!("shard {}: message {} delivered again; reported once already", self.id, inbound.info.id);
                if let Some(wait) = in_handlers.get(&key) {
                    earlier.push(wait.clone());
                }
                continue;
            }
            match inbound_wa_message(inbound) {
                Ok(mut msg) => {
                    baileys_events::normalise_foreign_keys(&mut msg, me.as_deref());
                    if let Some((_, settled)) = &settlement {
                        in_handlers.insert(key.clone(), settled.clone());
                        recorded.push(key);
                    }
                    if inbound.info.is_offline {
                        append.push(msg)
                    } else {
                        notify.push(msg)
                    }
                }
                // The engine already decrypted it; a shape we cannot decode is logged, not fatal.
                Err(e) => log::warn!("shard {}: message {} not delivered: {e}", self.id, inbound.info.id),
            }
        }
        drop(in_handlers);
        drop(recent);
        let settlement = settlement.map(|(s, _)| s);
        for (messages, kind) in [(append, UpsertType::Append), (notify, UpsertType::Notify)] {
            if !messages.is_empty() {
                self.upsert_settled(messages, kind, settlement.clone());
            }
        }
        Reported { waits: earlier, in_handlers: recorded }
    }

    /// `messages.upsert`, then what Baileys' `processMessage` derives from each message.
    pub(crate) fn upsert(&self, messages: Vec<BValue>, kind: UpsertType) {
        self.upsert_settled(messages, kind, None);
    }

    /// `upsert`, whose handlers settle `settlement` when they have finished.
    fn upsert_settled(&self, messages: Vec<BValue>, kind: UpsertType, settled: Option<Settlement>) {
        let contacts = baileys_events::contacts_update_from_push_names(&messages);
        let derived: Vec<_> = messages.iter().filter_map(baileys_events::derived_from_message).collect();
        let resent: Vec<_> = messages.iter().flat_map(crate::peer_data_ops::resent_messages).collect();
        let mut events = vec![baileys_events::messages_upsert(messages, kind)];
        events.extend(contacts);
        events.extend(derived);
        self.emit(ShardEvent::Baileys { shard_id: self.id.clone(), events, settled });
        // Each on its own, after the answer that carried it, as Baileys emits it (a batch
        // would fold it into the answer's upsert and lose its `requestId`).
        for event in resent {
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

    /// Drops the connection as if the network had (Baileys' `sock.ws.close()`); the shard
    /// reconnects by its reconnect policy.
    pub async fn drop_connection(&self) -> Result<()> {
        let client = self.connected_client()?;
        if let Some(running) = self.running().as_ref() {
            running.watcher.closed_by_user();
        }
        // The engine reports no drop for a close it was asked for; Baileys reports this one as
        // 428 connectionClosed.
        self.report_close(CloseKind::Transient, "connection closed by sock.ws.close()".into(), dr::CONNECTION_CLOSED);
        client.reconnect().await;
        Ok(())
    }

    /// Sends `message` with `options` (which carry its id) and waits for the server's ack.
    /// `NOT_CONNECTED` when the connection was lost on the way: the caller may resend with the
    /// same id; `INVALID_ARGUMENT` when the engine or the server refused the message.
    /// A post to `status@broadcast` goes to `status_recipients` (Baileys' `statusJidList`).
    pub(crate) async fn deliver(
        &self,
        client: &Client,
        jid: &Jid,
        message: wa::Message,
        options: whatsapp_rust::SendOptions,
        to: &str,
        status_recipients: &[Jid],
    ) -> Result<()> {
        let id = options.message_id.clone().unwrap_or_default();
        if jid.is_status_broadcast() && status_recipients.is_empty() {
            return Err(ShardError::new(ErrorCode::InvalidArgument, "a status post needs options.statusJidList: the users who see it")
                .for_shard(&self.id));
        }
        let ack = self.acks.expect(&id);
        let sent = if jid.is_status_broadcast() {
            // The engine posts to LIDs and knows only those it has learned: learn the others
            // first (a usync query), as WhatsApp Web resolves a status audience.
            let pns: Vec<Jid> = status_recipients.iter().filter(|j| j.is_pn()).cloned().collect();
            if !pns.is_empty() {
                if let Err(e) = client.contacts().is_on_whatsapp(&pns).await {
                    log::debug!("{}: resolving the LIDs of a status audience failed: {e}", self.id);
                }
            }
            let status = whatsapp_rust::features::StatusSendOptions { message_id: Some(id.clone()), ..Default::default() };
            client.status().send_raw(message, status_recipients, status).await.map(drop)
        } else {
            client.send_message_with_options(jid.clone(), message, options).await.map(drop)
        };
        sent.map_err(|e| {
            // Lost the connection while sending (the client may not know it yet, hence the
            // error's kind): the caller may resend with the same id.
            let code = if !client.is_connected() || is_connection_loss(&e) { ErrorCode::NotConnected } else { ErrorCode::InvalidArgument };
            ShardError::new(code, format!("could not send to {to}: {e}")).for_shard(&self.id)
        })?;
        ack.wait().await.map_err(|why| {
            let (code, what) = match why {
                NotAcked::ConnectionLost => {
                    (ErrorCode::NotConnected, "the connection dropped before the server acknowledged it".to_owned())
                }
                NotAcked::TimedOut => (ErrorCode::NotConnected, format!("no server acknowledgement within {} s", ACK_TIMEOUT.as_secs())),
                NotAcked::Refused(code) => (ErrorCode::InvalidArgument, format!("the server refused it (code {code})")),
            };
            let retry = if code == ErrorCode::NotConnected {
                format!("; resend with {{ messageId: '{id}' }} (the receiver reports a repeated id once)")
            } else {
                String::new()
            };
            ShardError::new(code, format!("message {id} to {to} may not have been delivered: {what}{retry}")).for_shard(&self.id)
        })
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
    /// `STOP_FAILED` when the engine did not shut down in time; the shard is stopped anyway
    /// and its folder is no longer written.
    pub async fn stop(&self) -> Result<()> {
        self.stopping.store(true, Ordering::Release);
        let result = self.shutdown_engine().await;
        if self.status().0 != ShardStatus::LoggedOut {
            self.set_status(ShardStatus::Stopped);
        }
        result
    }

    /// Shuts the engine down (it flushes the device) and closes the store: after this,
    /// nothing writes into the session folder.
    async fn shutdown_engine(&self) -> Result<()> {
        let _guard = self.shutdown_lock.lock().await;
        self.shutdown_engine_locked().await
    }

    async fn shutdown_engine_locked(&self) -> Result<()> {
        let running = self.running().take();
        self.handshake.release();
        let Some(Running { mut supervisor, stop, client, store, .. }) = running else { return Ok(()) };
        stop.stop();
        let shutdown = tokio::time::timeout(STOP_TIMEOUT, async {
            // Flushes the device, receipts and message secrets, and ends the current run.
            client.disconnect().await;
            let _ = (&mut supervisor).await;
        })
        .await;
        if shutdown.is_err() {
            supervisor.abort();
        }
        self.acks.fail_all();
        // Closed either way: whatever the engine still does, it no longer writes the folder.
        store.close();
        shutdown.map_err(|_| {
            ShardError::new(
                ErrorCode::StopFailed,
                format!(
                    "shard {} did not shut down within {} s; it is stopped and its session folder is no longer written",
                    self.id,
                    STOP_TIMEOUT.as_secs()
                ),
            )
            .for_shard(&self.id)
        })
    }

    /// Logs the device out at WhatsApp (it leaves the phone's linked devices) and stops.
    /// The session folder is kept, moved to `<session>/.logged-out/`.
    pub async fn logout(self: &Arc<Self>) -> Result<()> {
        let client = self.running().as_ref().map(|r| r.client.clone());
        let Some(client) = client else {
            return Err(ShardError::new(ErrorCode::NotConnected, format!("shard {} is not running", self.id)).for_shard(&self.id));
        };
        // Claimed first, so the LoggedOut event the engine reports during `logout` does not
        // start a second clean-up; this one runs to the end before returning.
        self.ended.store(true, Ordering::Release);
        client.logout().await;
        self.finish_end(CloseKind::LoggedOut, "logged out by sock.logout()".into(), dr::LOGGED_OUT).await;
        Ok(())
    }

    pub fn is_running(&self) -> bool {
        self.running().is_some()
    }

    fn running(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What `report_messages` did with a delivery.
struct Reported {
    /// How to wait for the messages an earlier delivery still has in handlers.
    waits: Vec<Settled>,
    /// The keys it recorded as in handlers (with a settlement), to forget once settled.
    in_handlers: Vec<MessageKey>,
}

/// `markOnlineOnConnect: false`. The engine announces `available` whenever it connects with a
/// known push name (and after the push name arrives by app-state sync) and 0.7.0 has no switch
/// for it, so `unavailable` follows at once, as Baileys sends it instead: the owner's phone
/// keeps its notifications and delivery receipts go out `inactive`.
async fn stay_unavailable(shard_id: &str, event: &Event, client: &Client) {
    if matches!(event, Event::Connected(_) | Event::SelfPushNameUpdated(_)) {
        if let Err(e) = client.presence().set_unavailable().await {
            log::debug!("shard {shard_id}: could not announce unavailable: {e:?}");
        }
    }
}

/// Events after which this shard's handshake no longer needs its slot in the cap: it logged
/// in, waits for a human (QR, pairing code), or the connection ended.
fn ends_handshake(event: &Event) -> bool {
    matches!(
        event,
        Event::Connected(_)
            | Event::PairingQrCode(_)
            | Event::PairingCode(_)
            | Event::Disconnected(_)
            | Event::LoggedOut(_)
            | Event::StreamReplaced(_)
            | Event::ConnectFailure(_)
            | Event::TemporaryBan(_)
            | Event::ClientOutdated(_)
            | Event::StreamError(_)
    )
}

/// Send failures that mean the connection went away under the send (not a bad request).
fn is_connection_loss(error: &whatsapp_rust::SendError) -> bool {
    use whatsapp_rust::{ClientError, SendError};
    matches!(
        error,
        SendError::NotLoggedIn
            | SendError::Client(
                ClientError::NotConnected | ClientError::NotLoggedIn | ClientError::Socket(_) | ClientError::EncryptSend(_)
            )
    )
}

#[cfg(test)]
mod tests {
    use super::platform_type;
    use waproto::whatsapp::device_props::PlatformType;

    #[test]
    fn the_browser_part_names_the_platform_as_baileys_reads_it() {
        assert_eq!(platform_type("Chrome"), PlatformType::CHROME);
        assert_eq!(platform_type("firefox"), PlatformType::FIREFOX);
        assert_eq!(platform_type("Desktop"), PlatformType::DESKTOP);
        assert_eq!(platform_type("Netscape"), PlatformType::DESKTOP);
    }
}
