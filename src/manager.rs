//! `NativeShardManager`: the JS-facing handle on a shard_core `ShardManager` — creating,
//! stopping and listing shards. Calls on one shard go to its `NativeShard` (`shard.rs`).

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use shard_core::{check_session_status, SessionStatus, ShardManager};

use crate::errors::{self as js, js_error, settle};
use crate::events::{EventQueue, WakeFn};
use crate::js_value::JsBValue;
use crate::options::{limit, milliseconds, reconnect_policy, shard_options, socket_config};
use crate::shard::NativeShard;

#[napi]
pub struct NativeShardManager {
    pub(crate) inner: Arc<ShardManager>,
    queue: Arc<EventQueue>,
}

/// `new ShardManager(config)`'s options, as `lib/manager.js` passes them on.
#[napi(object)]
pub struct ManagerOptions {
    /// The folder holding one session folder per shard (absolute).
    pub session: String,
    /// The socket options that are plain values (functions stay in JS).
    #[napi(ts_type = "Record<string, any> | null")]
    pub socket_config: Option<Value>,
    #[napi(ts_type = "number | null")]
    pub max_concurrent_handshakes: Option<Value>,
    #[napi(ts_type = "number | null")]
    pub max_pending_messages: Option<Value>,
    #[napi(ts_type = "number | null")]
    pub handler_timeout_ms: Option<Value>,
    #[napi(ts_type = "{ initialDelayMs?: number, maxDelayMs?: number, stableAfterMs?: number, jitter?: number } | null")]
    pub reconnect: Option<Value>,
}

/// A shard's `ShardInfo` (`lib/shard-info.js` wraps it).
#[napi(object)]
pub struct ShardInfoFields {
    pub id: String,
    pub index: u32,
    pub total: u32,
    pub phone_number: Option<String>,
    /// `initializing`, `connected`, `disconnected`, `logged_out`, `stopped`, …
    pub status: String,
    /// Milliseconds since the epoch of the last status change.
    pub updated_at: f64,
}

impl From<shard_core::ShardInfo> for ShardInfoFields {
    fn from(info: shard_core::ShardInfo) -> Self {
        ShardInfoFields {
            id: info.id,
            index: info.index as u32,
            total: info.total as u32,
            phone_number: info.phone_number,
            status: info.status.as_str().to_owned(),
            updated_at: info.updated_at as f64,
        }
    }
}

/// `checkSessionStatus`'s answer.
#[napi(object)]
pub struct SessionStatusFields {
    pub exists: bool,
    pub registered: bool,
    pub valid: bool,
    pub reason: Option<String>,
}

impl From<SessionStatus> for SessionStatusFields {
    fn from(status: SessionStatus) -> Self {
        SessionStatusFields { exists: status.exists, registered: status.registered, valid: status.valid, reason: status.reason }
    }
}

#[napi]
impl NativeShardManager {
    /// `wake` is called (no arguments) when events are waiting in `drainEvents()`.
    #[napi(constructor, catch_unwind)]
    pub fn new(options: ManagerOptions, wake: WakeFn) -> js::Result<Self> {
        let config = socket_config(options.socket_config.as_ref()).map_err(js_error)?;
        let queue = Arc::new(EventQueue::new(wake));
        let sink_queue = queue.clone();
        let mut manager = ShardManager::new(options.session, config, Arc::new(move |e| sink_queue.push(e)));
        if let Some(limit) = limit("maxConcurrentHandshakes", options.max_concurrent_handshakes.as_ref()).map_err(js_error)? {
            manager = manager.with_max_concurrent_handshakes(limit);
        }
        if let Some(limit) = limit("maxPendingMessages", options.max_pending_messages.as_ref()).map_err(js_error)? {
            manager = manager.with_max_pending_messages(limit);
        }
        if let Some(ms) = milliseconds("handlerTimeoutMs", options.handler_timeout_ms.as_ref()).map_err(js_error)? {
            manager = manager.with_handler_timeout(std::time::Duration::from_millis(ms));
        }
        if let Some(policy) = reconnect_policy(options.reconnect.as_ref()).map_err(js_error)? {
            manager = manager.with_reconnect_policy(policy);
        }
        Ok(NativeShardManager { inner: Arc::new(manager), queue })
    }

    /// Everything queued since the last call, oldest first: `[{ event, shardId, data }]`.
    #[napi(ts_return_type = "{ event: string, shardId: string, data: any }[]", catch_unwind)]
    pub fn drain_events(&self) -> Vec<JsBValue> {
        self.queue.drain()
    }

    /// The handlers of the events drained with these tickets (`ticket` on an event) have
    /// finished: their received messages may now be acknowledged to the server.
    #[napi(catch_unwind)]
    pub fn settle_events(&self, tickets: Vec<u32>) {
        self.queue.settle(&tickets);
    }

    /// How many received messages wait in handlers now (each holds its acknowledgement).
    #[napi(catch_unwind)]
    pub fn pending_messages(&self) -> u32 {
        self.inner.pending_messages().in_handlers() as u32
    }

    /// Resolves to the shard once it is starting (not when it has logged in).
    #[napi(ts_args_type = "options: Record<string, any> | null", catch_unwind)]
    pub fn create_shard<'env>(&self, env: &'env Env, options: Option<Value>) -> js::Result<PromiseRaw<'env, NativeShard>> {
        let manager = self.inner.clone();
        // Taken now, in call order: a close() called after this keeps the shard from starting.
        let closes = manager.closes();
        settle(env, async move {
            let options = shard_options(options.as_ref())?;
            Ok(NativeShard::new(manager.create_shard_since(options, closes).await?))
        })
    }

    /// The running (or stopped) shard with this id, or null.
    #[napi(catch_unwind)]
    pub fn shard(&self, id: String) -> Option<NativeShard> {
        self.inner.get(&id).map(NativeShard::new)
    }

    #[napi(catch_unwind)]
    pub fn stop_shard<'env>(&self, env: &'env Env, id: String) -> js::Result<PromiseRaw<'env, bool>> {
        let manager = self.inner.clone();
        settle(env, async move { manager.stop_shard(&id).await })
    }

    #[napi(catch_unwind)]
    pub fn close<'env>(&self, env: &'env Env) -> js::Result<PromiseRaw<'env, ()>> {
        let manager = self.inner.clone();
        // At once, in call order: creates and loads called before this start nothing more.
        manager.begin_close();
        settle(env, async move {
            manager.stop_all().await;
            Ok(())
        })
    }

    /// `loadAllShards`: starts every saved session, `stagger_ms` apart; resolves to the shards.
    #[napi(catch_unwind)]
    pub fn load_all_shards<'env>(&self, env: &'env Env, stagger_ms: Option<u32>) -> js::Result<PromiseRaw<'env, Vec<NativeShard>>> {
        let manager = self.inner.clone();
        let stagger = std::time::Duration::from_millis(stagger_ms.unwrap_or(0).into());
        let closes = manager.closes();
        settle(env, async move {
            let ids = manager.load_all_shards_since(stagger, closes).await?;
            Ok(ids.iter().filter_map(|id| manager.get(id)).map(NativeShard::new).collect())
        })
    }

    /// `recreateShard`: restart a shard on its folder (or on a fresh one with `clear_session`).
    #[napi(catch_unwind)]
    pub fn recreate_shard<'env>(&self, env: &'env Env, id: String, clear_session: bool) -> js::Result<PromiseRaw<'env, NativeShard>> {
        let manager = self.inner.clone();
        settle(env, async move { Ok(NativeShard::new(manager.recreate_shard(&id, clear_session).await?)) })
    }

    /// `validateAndCleanSession`: where a corrupt folder was moved, or null.
    #[napi(catch_unwind)]
    pub fn validate_and_clean_session(&self, dir: String) -> js::Result<Option<String>> {
        let moved = self.inner.validate_and_clean_session(std::path::Path::new(&dir)).map_err(js_error)?;
        Ok(moved.map(|p| p.display().to_string()))
    }
    /// `cleanupCorruptSessions`: the ids of the folders moved aside.
    #[napi(catch_unwind)]
    pub fn cleanup_corrupt_sessions(&self) -> Vec<String> {
        self.inner
            .cleanup_corrupt_sessions()
            .into_iter()
            .filter_map(|(id, result)| match result {
                Ok(Some(_)) => Some(id),
                Ok(None) => None,
                Err(e) => {
                    log::warn!("cleanupCorruptSessions: {id}: {e}");
                    None
                }
            })
            .collect()
    }

    #[napi(catch_unwind)]
    pub fn get_shard_info(&self, id: String) -> Option<ShardInfoFields> {
        self.inner.shard_info(&id).map(ShardInfoFields::from)
    }

    #[napi(catch_unwind)]
    pub fn get_all_shard_info(&self) -> Vec<ShardInfoFields> {
        self.inner.all_shard_info().into_iter().map(ShardInfoFields::from).collect()
    }

    /// Shards still holding or seeking a connection (the JS layer keeps Node alive while > 0).
    #[napi(catch_unwind)]
    pub fn active_count(&self) -> u32 {
        self.inner.active_count() as u32
    }

    #[napi(catch_unwind)]
    pub fn get_session_info(&self, id: String) -> js::Result<SessionStatusFields> {
        self.inner.session_info(&id).map(SessionStatusFields::from).map_err(js_error)
    }
}

/// `checkSessionStatus(dir)` for any folder.
#[napi(catch_unwind)]
pub fn check_session_dir(dir: String) -> SessionStatusFields {
    check_session_status(std::path::Path::new(&dir)).into()
}
