//! The shard manager: many shards, one session folder each, one event sink.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::config::SocketConfig;
use crate::error::{ErrorCode, Result, ShardError};
use crate::events::{EventSink, ShardEvent};
use crate::handshake_gate::{HandshakeGate, DEFAULT_MAX_CONCURRENT_HANDSHAKES};
use crate::inbound_gate::PendingMessages;
use crate::reconnect::ReconnectPolicy;
use crate::session_aside;
use crate::session_store::status::{check_session_status, SessionStatus, CORRUPT_JSON_REASON, NOT_REGISTERED_REASON};
use crate::shard::{Shard, ShardStatus};
use crate::shard_id::validate_shard_id;

#[derive(Debug, Clone, Default)]
pub struct ShardOptions {
    pub id: Option<String>,
    pub phone_number: Option<String>,
    pub socket: SocketConfig,
}

/// Runtime information about one shard (`ShardInfo`). `index` and `total` are computed when
/// asked, so they are always current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    pub id: String,
    /// 1-based position in creation order.
    pub index: usize,
    pub total: usize,
    pub phone_number: Option<String>,
    pub status: ShardStatus,
    /// Milliseconds since the epoch of the last status change.
    pub updated_at: u64,
}

pub struct ShardManager {
    session_root: PathBuf,
    socket_config: SocketConfig,
    sink: EventSink,
    /// In creation order; a recreated id keeps its place.
    shards: Mutex<Vec<Arc<Shard>>>,
    /// Caps how many shards handshake at once (`maxConcurrentHandshakes`).
    handshakes: Arc<HandshakeGate>,
    reconnect: ReconnectPolicy,
    /// How many times `close` ran: a `loadAllShards` started before a close stops starting shards.
    closes: AtomicU64,
    /// Caps how many received messages wait in handlers at once (`maxPendingMessages`).
    pending_messages: PendingMessages,
}

impl ShardManager {
    pub fn new(session_root: impl Into<PathBuf>, socket_config: SocketConfig, sink: EventSink) -> Self {
        ShardManager {
            session_root: session_root.into(),
            socket_config,
            sink,
            shards: Mutex::default(),
            handshakes: HandshakeGate::new(DEFAULT_MAX_CONCURRENT_HANDSHAKES),
            reconnect: ReconnectPolicy::default(),
            closes: Default::default(),
            pending_messages: PendingMessages::default(),
        }
    }

    /// The backoff after transient closes (`reconnect` option).
    pub fn with_reconnect_policy(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }

    /// At most `limit` shards handshake at the same time (at least 1).
    pub fn with_max_concurrent_handshakes(mut self, limit: usize) -> Self {
        self.handshakes = HandshakeGate::new(limit);
        self
    }

    /// At most `limit` received messages (at least 1) wait in the bot's handlers at once; the
    /// next ones wait, unacknowledged, until handlers finish (`inbound_gate`).
    pub fn with_max_pending_messages(mut self, limit: usize) -> Self {
        let timeout = self.pending_messages.handler_timeout;
        self.pending_messages = PendingMessages::new(limit).with_handler_timeout(timeout);
        self
    }

    /// How long a received message waits for its handlers before it is acknowledged anyway
    /// (zero: not at all).
    pub fn with_handler_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.pending_messages = self.pending_messages.with_handler_timeout(timeout);
        self
    }

    /// The cap on messages in handlers, to read how many are there now.
    pub fn pending_messages(&self) -> &PendingMessages {
        &self.pending_messages
    }

    /// The handshake cap, to read how many handshakes run now and at most ran at once.
    pub fn handshakes(&self) -> &HandshakeGate {
        &self.handshakes
    }

    pub fn session_root(&self) -> &Path {
        &self.session_root
    }

    fn shards(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Shard>>> {
        self.shards.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, id: &str) -> Option<Arc<Shard>> {
        self.shards().iter().find(|s| s.id() == id).cloned()
    }

    fn require(&self, id: &str) -> Result<Arc<Shard>> {
        self.get(id).ok_or_else(|| {
            ShardError::new(ErrorCode::ShardNotFound, format!("no shard with id {id:?}; create it with createShard first")).for_shard(id)
        })
    }

    /// The first `shard-N` not taken, N counting from the number of shards + 1.
    fn next_default_id(&self, shards: &[Arc<Shard>]) -> String {
        (shards.len() + 1..)
            .map(|n| format!("shard-{n}"))
            .find(|id| !shards.iter().any(|s| s.id() == id))
            .unwrap_or_else(|| unreachable!("an unbounded range always has a free id"))
    }

    /// How many times `close` was called. Taken when a call is made (`create_shard_since`,
    /// `load_all_shards_since`), it tells whether a close was called after that call.
    pub fn closes(&self) -> u64 {
        self.closes.load(Ordering::Acquire)
    }

    /// The part of `close` that takes effect at once: creates and loads called before it start
    /// nothing from now on (the binding calls it as `close()` is called, before awaiting anything).
    pub fn begin_close(&self) {
        self.closes.fetch_add(1, Ordering::AcqRel);
    }

    /// Creates (or returns the running) shard and starts it; does not wait for the login.
    pub async fn create_shard(&self, options: ShardOptions) -> Result<Arc<Shard>> {
        self.create_shard_since(options, self.closes()).await
    }

    /// `create_shard` as called when `close` had been called `closes` times: a close called
    /// since then (even one whose stop ran before this shard was registered) keeps it from
    /// starting (`CREATE_FAILED`).
    pub async fn create_shard_since(&self, options: ShardOptions, closes: u64) -> Result<Arc<Shard>> {
        let (shard, previous) = {
            let mut shards = self.shards();
            let id = match options.id {
                Some(id) => id,
                None => self.next_default_id(&shards),
            };
            validate_shard_id(&id).map_err(|e| e.for_shard(&id))?;
            // Checked under the lock `close` takes to list the shards: either that list has
            // this shard, or this sees the close.
            if self.closes() != closes {
                return Err(ShardError::new(ErrorCode::CreateFailed, format!("shard {id} not started: close() was called meanwhile"))
                    .for_shard(&id));
            }
            if let Some(existing) = shards.iter().find(|s| s.id() == id) {
                // One being stopped is not handed out: a new shard takes over once it is down.
                if existing.status().0.is_active() && !existing.is_stopping() {
                    return Ok(existing.clone());
                }
            }
            let dir = self.session_root.join(&id);
            let shard = Shard::new(id.clone(), options.phone_number.clone(), dir, self.sink.clone(), self.pending_messages.clone());
            let previous = match shards.iter_mut().find(|s| s.id() == id) {
                Some(slot) => Some(std::mem::replace(slot, shard.clone())),
                None => {
                    shards.push(shard.clone());
                    None
                }
            };
            (shard, previous)
        };
        // The shard this one replaces may still be shutting down (it just logged out or was
        // replaced): its engine must be gone, and its folder moved, before this one opens it.
        if let Some(previous) = previous {
            previous.wait_shut_down().await;
        }
        let config = self.socket_config.merged_with(&options.socket);
        if let Err(e) = shard.start(&config, self.handshakes.clone(), self.reconnect).await {
            let _ = shard.stop().await;
            // A shard that never started is forgotten; its folder (if any) is left as it was.
            self.shards().retain(|s| !Arc::ptr_eq(s, &shard));
            return Err(e);
        }
        Ok(shard)
    }

    /// Stops a shard for good (it does not reconnect). Unknown id → `SHARD_NOT_FOUND`.
    pub async fn stop_shard(&self, id: &str) -> Result<bool> {
        let shard = self.require(id)?;
        shard.stop().await?;
        Ok(true)
    }

    /// Stops every shard, all at once; resolves when all are down and their credentials
    /// flushed. A shard that did not stop in time is reported (`STOP_FAILED`) and its folder
    /// is no longer written either way.
    pub async fn close(&self) {
        self.begin_close();
        self.stop_all().await
    }

    /// `close` after `begin_close`: stops every shard registered now.
    pub async fn stop_all(&self) {
        let all: Vec<_> = self.shards().clone();
        let stops = all.iter().map(|shard| async move { (shard.id().to_owned(), shard.stop().await) });
        for (id, result) in futures::future::join_all(stops).await {
            if let Err(error) = result {
                (self.sink)(crate::events::ShardEvent::Error { shard_id: id, error });
            }
        }
    }

    pub fn shard_info(&self, id: &str) -> Option<ShardInfo> {
        let shards = self.shards();
        let total = shards.len();
        shards.iter().position(|s| s.id() == id).map(|i| info_of(&shards[i], i, total))
    }

    pub fn all_shard_info(&self) -> Vec<ShardInfo> {
        let shards = self.shards();
        let total = shards.len();
        shards.iter().enumerate().map(|(i, s)| info_of(s, i, total)).collect()
    }

    /// Number of shards still holding or seeking a connection.
    pub fn active_count(&self) -> usize {
        self.shards().iter().filter(|s| s.status().0.is_active()).count()
    }

    /// Ids of the session folders under the session root that hold a `creds.json`, sorted.
    pub fn saved_session_ids(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.session_root) else { return Vec::new() };
        let mut ids: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().join(crate::session_store::CREDS_FILE).is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|id| validate_shard_id(id).is_ok())
            .collect();
        ids.sort();
        ids
    }

    /// Starts every saved session (`loadAllShards`), one after another with `stagger` between
    /// starts so a large fleet does not hit the server at once. A folder that cannot be used
    /// is reported as `LOAD_FAILED` (and left where it is); none at all is `NO_SESSIONS`.
    pub async fn load_all_shards(&self, stagger: std::time::Duration) -> Result<Vec<String>> {
        self.load_all_shards_since(stagger, self.closes()).await
    }

    /// `load_all_shards` as called when `close` had been called `closes` times: it stops
    /// starting sessions once a close is called.
    pub async fn load_all_shards_since(&self, stagger: std::time::Duration, closes: u64) -> Result<Vec<String>> {
        let ids = self.saved_session_ids();
        if ids.is_empty() {
            return Err(ShardError::new(ErrorCode::NoSessions, format!("no saved sessions in {}", self.session_root.display())));
        }
        let total = ids.len();
        let mut loaded = Vec::with_capacity(total);
        for (i, id) in ids.into_iter().enumerate() {
            if i > 0 && !stagger.is_zero() {
                tokio::time::sleep(stagger).await;
            }
            if self.closes() != closes {
                log::info!("loadAllShards: the manager was closed; {} of {total} sessions not started", total - i);
                break;
            }
            let status = check_session_status(&self.session_root.join(&id));
            let result = if status.exists && status.reason.as_deref().is_some_and(|r| r != NOT_REGISTERED_REASON) {
                Err(ShardError::new(ErrorCode::LoadFailed, format!("session {id} is not usable: {}", status.reason.unwrap_or_default())))
            } else {
                self.create_shard_since(ShardOptions { id: Some(id.clone()), ..Default::default() }, closes).await
            };
            let error = match result {
                Ok(_) => {
                    loaded.push(id.clone());
                    None
                }
                Err(e) => {
                    let error = ShardError::new(ErrorCode::LoadFailed, e.message).for_shard(&id);
                    (self.sink)(ShardEvent::Error { shard_id: id.clone(), error: error.clone() });
                    Some(error)
                }
            };
            (self.sink)(ShardEvent::LoadProgress { shard_id: id, done: i + 1, total, error });
        }
        Ok(loaded)
    }

    /// Moves a session folder into `<session>/<bin>/` (never deletes it).
    fn move_aside(&self, dir: &Path, bin: &str) -> Result<PathBuf> {
        session_aside::move_aside(&self.session_root, dir, bin)
            .map_err(|e| ShardError::new(ErrorCode::StopFailed, format!("could not move {} aside: {e}", dir.display())))
    }

    /// `validateAndCleanSession`: a folder whose `creds.json` is unreadable JSON is moved to
    /// `<session>/.corrupt/`; anything else — above all a registered session — is left alone.
    /// Returns where it was moved, if it was.
    pub fn validate_and_clean_session(&self, dir: &Path) -> Result<Option<PathBuf>> {
        let status = check_session_status(dir);
        if status.exists && status.reason.as_deref() == Some(CORRUPT_JSON_REASON) && !status.registered {
            return self.move_aside(dir, session_aside::CORRUPT_BIN).map(Some);
        }
        Ok(None)
    }

    /// `cleanupCorruptSessions` over every saved session not currently running.
    pub fn cleanup_corrupt_sessions(&self) -> Vec<(String, Result<Option<PathBuf>>)> {
        self.saved_session_ids()
            .into_iter()
            .filter(|id| self.get(id).is_none_or(|s| !s.status().0.is_active()))
            .map(|id| {
                let result = self.validate_and_clean_session(&self.session_root.join(&id));
                (id, result)
            })
            .collect()
    }

    /// `recreateShard`: stops the shard (if running) and starts it again on its folder. With
    /// `clear_session` the old folder is first moved to `<session>/.cleared/` — kept, not
    /// deleted — so the shard starts fresh with a new QR.
    pub async fn recreate_shard(&self, id: &str, clear_session: bool) -> Result<Arc<Shard>> {
        validate_shard_id(id).map_err(|e| ShardError::new(ErrorCode::RecreateFailed, e.message).for_shard(id))?;
        if let Some(shard) = self.get(id) {
            shard.stop().await.map_err(|e| ShardError::new(ErrorCode::RecreateFailed, e.message).for_shard(id))?;
        }
        let dir = self.session_root.join(id);
        if clear_session && dir.exists() {
            self.move_aside(&dir, session_aside::CLEARED_BIN)
                .map_err(|e| ShardError::new(ErrorCode::RecreateFailed, e.message).for_shard(id))?;
        }
        let phone_number = self.get(id).and_then(|s| s.phone_number().map(str::to_owned));
        self.create_shard(ShardOptions { id: Some(id.to_owned()), phone_number, ..Default::default() })
            .await
            .map_err(|e| ShardError::new(ErrorCode::RecreateFailed, e.message).for_shard(id))
    }

    pub fn session_info(&self, id: &str) -> Result<SessionStatus> {
        validate_shard_id(id).map_err(|e| ShardError::new(ErrorCode::InvalidArgument, e.message).for_shard(id))?;
        Ok(check_session_status(&self.session_root.join(id)))
    }
}

fn info_of(shard: &Shard, index: usize, total: usize) -> ShardInfo {
    let (status, updated_at) = shard.status();
    ShardInfo {
        id: shard.id().to_owned(),
        index: index + 1,
        total,
        phone_number: shard.phone_number().map(str::to_owned),
        status,
        updated_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager(root: &Path) -> ShardManager {
        ShardManager::new(root, SocketConfig::default(), Arc::new(|_| {}))
    }

    #[tokio::test]
    async fn bad_ids_are_refused_and_nothing_is_written_outside() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("sessions");
        let m = manager(&root);
        for id in ["../escape", "a/b", "", "x\u{7}"] {
            let err = m.create_shard(ShardOptions { id: Some(id.into()), ..Default::default() }).await.err().unwrap();
            assert_eq!(err.code, ErrorCode::CreateFailed, "{id:?}");
        }
        assert!(!dir.path().join("escape").exists());
        assert!(!root.exists(), "no folder is created for a refused id");
        assert!(m.all_shard_info().is_empty());
    }

    /// A manager whose server is a port nobody listens on: shards keep trying to connect.
    async fn unreachable(root: &Path) -> Arc<ShardManager> {
        let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
        let config = SocketConfig { wa_web_socket_url: Some(format!("ws://127.0.0.1:{port}/ws/chat")), ..Default::default() };
        Arc::new(ShardManager::new(root, config, Arc::new(|_| {})))
    }

    /// A session folder with thousands of (unusable) key files: opening it takes a while, long
    /// enough for a stop to land while the shard starts.
    fn slow_to_open(root: &Path, id: &str) {
        let dir = root.join(id);
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..4000 {
            std::fs::write(dir.join(format!("pre-key-{i}.json")), "{}").unwrap();
        }
    }

    /// `stop_shard` / `close` while `create_shard` is still opening the folder: the shard stays
    /// stopped; it does not come up once its start resumes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_shard_stopped_or_closed_while_it_starts_stays_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let m = unreachable(dir.path()).await;
        for (id, close) in [("stopped", false), ("closed", true)] {
            slow_to_open(dir.path(), id);
            let creating = tokio::spawn({
                let m = m.clone();
                async move { m.create_shard(ShardOptions { id: Some(id.into()), ..Default::default() }).await.map(|_| ()) }
            });
            while m.get(id).is_none() {
                tokio::task::yield_now().await;
            }
            if close {
                m.close().await;
            } else {
                m.stop_shard(id).await.unwrap();
            }
            creating.await.unwrap().unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(m.active_count(), 0);
        for id in ["stopped", "closed"] {
            assert_eq!(m.get(id).unwrap().status().0, ShardStatus::Stopped, "{id}");
        }
    }

    #[tokio::test]
    async fn unknown_shard_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(dir.path());
        assert_eq!(m.stop_shard("nope").await.unwrap_err().code, ErrorCode::ShardNotFound);
        assert!(m.shard_info("nope").is_none());
    }
}
