//! `NativeShardManager`: the JS-facing handle on a shard_core `ShardManager`.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{json, Value};
use shard_core::{check_session_status, SessionStatus, ShardInfo, ShardManager};

use crate::errors::{invalid_argument, to_napi};
use crate::events::{EventQueue, WakeFn};
use crate::js_value::JsBValue;
use crate::js_to_bvalue::JsInput;
use crate::options::{max_concurrent_handshakes, reconnect_policy, shard_options, socket_config};
use shard_core::baileys_value::BValue;
use shard_core::baileys_to_proto::message_from_baileys;
use shard_core::content::{status_jid_list, MessageContent, SendOptions};
use shard_core::proto_to_baileys::message_to_baileys;
use shard_core::send_ops::PreparedMessage;
use shard_core::session_store::auth_view;

#[napi]
pub struct NativeShardManager {
    pub(crate) inner: Arc<ShardManager>,
    queue: Arc<EventQueue>,
}

fn info_js(info: ShardInfo) -> Value {
    json!({
        "id": info.id,
        "index": info.index,
        "total": info.total,
        "phoneNumber": info.phone_number,
        "status": info.status.as_str(),
        "updatedAt": info.updated_at,
    })
}

fn status_js(status: SessionStatus) -> Value {
    let mut v = json!({ "exists": status.exists, "registered": status.registered, "valid": status.valid });
    if let Some(reason) = status.reason {
        v["reason"] = json!(reason);
    }
    v
}

#[napi]
impl NativeShardManager {
    /// `options`: `{ session, socketConfig, maxConcurrentHandshakes, reconnect }`; `wake` is called (no arguments) when events
    /// are waiting in `drainEvents()`.
    #[napi(constructor)]
    pub fn new(options: Value, wake: WakeFn) -> Result<Self> {
        let session = options.get("session").and_then(Value::as_str).unwrap_or("./sessions").to_owned();
        let config = socket_config(options.get("socketConfig"))?;
        let queue = Arc::new(EventQueue::new(wake));
        let sink_queue = queue.clone();
        let mut manager = ShardManager::new(session, config, Arc::new(move |e| sink_queue.push(e)));
        if let Some(limit) = max_concurrent_handshakes(options.get("maxConcurrentHandshakes"))? {
            manager = manager.with_max_concurrent_handshakes(limit);
        }
        if let Some(policy) = reconnect_policy(options.get("reconnect"))? {
            manager = manager.with_reconnect_policy(policy);
        }
        let inner = Arc::new(manager);
        Ok(NativeShardManager { inner, queue })
    }

    /// Everything queued since the last call, oldest first: `[{ event, shardId, data }]`.
    #[napi]
    pub fn drain_events(&self) -> Vec<JsBValue> {
        self.queue.drain()
    }

    /// Resolves to the shard id once the shard is starting (not when it has logged in).
    #[napi]
    pub async fn create_shard(&self, options: Option<Value>) -> Result<String> {
        let options = shard_options(options.as_ref())?;
        let shard = self.inner.create_shard(options).await.map_err(to_napi)?;
        Ok(shard.id().to_owned())
    }

    #[napi]
    pub async fn stop_shard(&self, id: String) -> Result<bool> {
        self.inner.stop_shard(&id).await.map_err(to_napi)
    }

    #[napi]
    pub async fn logout(&self, id: String) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.logout().await.map_err(to_napi)
    }

    /// Baileys' `sock.user` (`{ id, name?, lid? }`), or null before pairing.
    #[napi]
    pub fn user(&self, id: String) -> Result<Option<Value>> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        Ok(shard.user().map(|u| {
            let mut v = json!({ "id": u.id });
            if let Some(name) = u.name {
                v["name"] = json!(name);
            }
            if let Some(lid) = u.lid {
                v["lid"] = json!(lid);
            }
            v
        }))
    }

    /// `sock.authState.creds`: the shard's `creds.json` (Buffers revived), or null before
    /// the folder has one.
    #[napi]
    pub fn auth_creds(&self, id: String) -> Result<Option<JsBValue>> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let creds = auth_view::read_creds(shard.dir()).map_err(to_napi)?;
        Ok(creds.map(|c| JsBValue(BValue::from_buffer_json(&c))))
    }

    /// `sock.authState.keys.get(type, ids)` → `{ [id]: value }` for the ids that have a key.
    #[napi]
    pub fn auth_keys(&self, id: String, kind: String, ids: Vec<String>) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let found = auth_view::read_keys(shard.dir(), &kind, &ids).map_err(to_napi)?;
        Ok(JsBValue(BValue::Object(found.into_iter().map(|(id, v)| (id, BValue::from_buffer_json(&v))).collect())))
    }

    /// `sock.ws.close()`: drops the connection; the shard reconnects by its reconnect policy.
    #[napi]
    pub async fn drop_connection(&self, id: String) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.drop_connection().await.map_err(to_napi)
    }

    /// `sock.sendMessage(jid, content, options)` → the sent `WAMessage`.
    #[napi]
    pub async fn send_message(&self, id: String, jid: String, content: JsInput, options: Option<JsInput>) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let content_value = content.0;
        let content = MessageContent::from_baileys(&content_value).map_err(to_napi)?;
        let options = SendOptions::from_baileys(options.as_ref().map(|o| &o.0)).and_then(|o| o.with_extras_of(&content_value)).map_err(to_napi)?;
        let sent = shard.send_message(&jid, &content, &options).await.map_err(to_napi)?;
        Ok(JsBValue(sent))
    }

    /// `patchMessageBeforeSending`, step 1: what `sendMessage` would send, built (its media
    /// uploaded) but not sent — `{ id, message, timestamp, statusJidList }`, or null when there is nothing to
    /// send (a group's disappearing timer, set instead).
    #[napi(ts_return_type = "Promise<{ id: string, message: Record<string, any>, timestamp: number, statusJidList: string[] } | null>")]
    pub async fn prepare_message(&self, id: String, jid: String, content: JsInput, options: Option<JsInput>) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let content_value = content.0;
        let content = MessageContent::from_baileys(&content_value).map_err(to_napi)?;
        let options = SendOptions::from_baileys(options.as_ref().map(|o| &o.0)).and_then(|o| o.with_extras_of(&content_value)).map_err(to_napi)?;
        let Some(prepared) = shard.prepare_message(&jid, &content, &options).await.map_err(to_napi)? else { return Ok(JsBValue(BValue::Null)) };
        let message = message_to_baileys(&prepared.message).map_err(|e| invalid_argument(e.to_string()))?;
        let status_jids = BValue::Array(prepared.status_jid_list.iter().map(|j| BValue::String(j.to_string())).collect());
        Ok(JsBValue(BValue::obj([
            ("id", BValue::String(prepared.id)),
            ("message", message),
            ("timestamp", BValue::Int(prepared.timestamp)),
            ("statusJidList", status_jids),
        ])))
    }

    /// Step 2: sends `wire` (the patched message) and resolves to the `WAMessage` of `prepared`.
    #[napi(ts_args_type = "id: string, jid: string, prepared: { id: string, message: Record<string, any>, timestamp: number, statusJidList: string[] }, wire: Record<string, any>")]
    pub async fn send_prepared(&self, id: String, jid: String, prepared: JsInput, wire: JsInput) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let message_of = |value: Option<&BValue>, what: &str| {
            message_from_baileys(value.unwrap_or(&BValue::Null)).map_err(|e| invalid_argument(format!("{what}: {e}")))
        };
        let prepared = PreparedMessage {
            id: prepared.0.get("id").and_then(BValue::as_str).ok_or_else(|| invalid_argument("prepared.id must be the id prepareMessage gave"))?.to_owned(),
            message: message_of(prepared.0.get("message"), "prepared.message")?,
            timestamp: match prepared.0.get("timestamp") {
                Some(BValue::Int(t)) => *t,
                Some(BValue::Uint(t)) => *t as i64,
                Some(BValue::Float(t)) => *t as i64,
                _ => return Err(invalid_argument("prepared.timestamp must be the timestamp prepareMessage gave")),
            },
            status_jid_list: status_jid_list(prepared.0.get("statusJidList")).map_err(to_napi)?,
        };
        let wire = message_of(Some(&wire.0), "patchMessageBeforeSending returned a message that cannot be sent")?;
        Ok(JsBValue(shard.send_prepared(&jid, prepared, wire).await.map_err(to_napi)?))
    }

    #[napi]
    pub async fn close(&self) -> Result<()> {
        self.inner.close().await;
        Ok(())
    }

    /// `loadAllShards`: starts every saved session, `stagger_ms` apart; resolves to the ids.
    #[napi]
    pub async fn load_all_shards(&self, stagger_ms: Option<u32>) -> Result<Vec<String>> {
        let stagger = std::time::Duration::from_millis(stagger_ms.unwrap_or(0).into());
        self.inner.load_all_shards(stagger).await.map_err(to_napi)
    }

    /// `recreateShard`: restart a shard on its folder (or on a fresh one with `clear_session`).
    #[napi]
    pub async fn recreate_shard(&self, id: String, clear_session: bool) -> Result<String> {
        let shard = self.inner.recreate_shard(&id, clear_session).await.map_err(to_napi)?;
        Ok(shard.id().to_owned())
    }

    /// `validateAndCleanSession`: where a corrupt folder was moved, or null.
    #[napi]
    pub fn validate_and_clean_session(&self, dir: String) -> Result<Option<String>> {
        let moved = self.inner.validate_and_clean_session(std::path::Path::new(&dir)).map_err(to_napi)?;
        Ok(moved.map(|p| p.display().to_string()))
    }

    /// `cleanupCorruptSessions`: the ids of the folders moved aside.
    #[napi]
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

    #[napi]
    pub fn has_shard(&self, id: String) -> bool {
        self.inner.get(&id).is_some()
    }

    #[napi]
    pub fn get_shard_info(&self, id: String) -> Option<Value> {
        self.inner.shard_info(&id).map(info_js)
    }

    #[napi]
    pub fn get_all_shard_info(&self) -> Vec<Value> {
        self.inner.all_shard_info().into_iter().map(info_js).collect()
    }

    /// Shards still holding or seeking a connection (the JS layer keeps Node alive while > 0).
    #[napi]
    pub fn active_count(&self) -> u32 {
        self.inner.active_count() as u32
    }

    #[napi]
    pub fn get_session_info(&self, id: String) -> Result<Value> {
        self.inner.session_info(&id).map(status_js).map_err(to_napi)
    }
}

/// `checkSessionStatus(dir)` for any folder.
#[napi]
pub fn check_session_dir(dir: String) -> Value {
    status_js(check_session_status(std::path::Path::new(&dir)))
}

pub(crate) fn not_found(id: &str) -> napi::Error {
    to_napi(shard_core::ShardError::new(
        shard_core::ErrorCode::ShardNotFound,
        format!("no shard with id {id:?}; create it with createShard first"),
    ))
}
