//! `sock.readMessages`, `sock.sendPresenceUpdate`, `sock.presenceSubscribe`, `sock.onWhatsApp`,
//! `sock.rejectCall`:
//! argument checks and result objects; the work is in `shard_core::socket_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use shard_core::socket_ops::{PresenceType, ReadKey};

use crate::args::{kind_of, one_of};
use crate::errors::{self as js, invalid_argument, settle};
use crate::shard::NativeShard;

type Result<T> = std::result::Result<T, shard_core::ShardError>;

/// `WAMessageKey[]` → `ReadKey`s, naming the first bad entry.
fn read_keys(what: &str, keys: &Value) -> Result<Vec<ReadKey>> {
    let Value::Array(items) = keys else {
        return Err(invalid_argument(format!(
            "{what}: keys must be an array of message keys ({{ remoteJid, id, fromMe?, participant? }}), got {}",
            kind_of(keys)
        )));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let Value::Object(obj) = key else {
                return Err(invalid_argument(format!("{what}: keys[{i}] must be a message key object, got {}", kind_of(key))));
            };
            let string = |name: &str, required: bool| -> Result<Option<String>> {
                match obj.get(name) {
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    None | Some(Value::Null) if !required => Ok(None),
                    other => Err(invalid_argument(format!(
                        "{what}: keys[{i}].{name} must be a string, got {}",
                        other.map(kind_of).unwrap_or("nothing")
                    ))),
                }
            };
            let from_me = match obj.get("fromMe") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => return Err(invalid_argument(format!("{what}: keys[{i}].fromMe must be a boolean, got {}", kind_of(other)))),
            };
            Ok(ReadKey {
                remote_jid: string("remoteJid", true)?.unwrap_or_default(),
                id: string("id", true)?.unwrap_or_default(),
                participant: string("participant", false)?.filter(|p| !p.is_empty()),
                from_me,
            })
        })
        .collect()
}

/// One number `onWhatsApp` found.
#[napi(object)]
pub struct OnWhatsAppEntry {
    pub jid: String,
    pub exists: bool,
    pub lid: Option<String>,
}

#[napi]
impl NativeShard {
    /// `sock.rejectCall(callId, callFrom)`: declines an incoming call.
    #[napi(catch_unwind)]
    pub fn reject_call<'env>(&self, env: &'env Env, call_id: String, call_from: String) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.reject_call(&call_id, &call_from).await })
    }

    /// `sock.readMessages(keys)`: read receipts for received messages (own keys are skipped).
    #[napi(catch_unwind)]
    pub fn read_messages<'env>(&self, env: &'env Env, keys: Option<Value>) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let keys = read_keys("readMessages", &keys.unwrap_or(Value::Null))?;
            shard.read_messages(&keys).await
        })
    }

    /// `sock.sendReceipts(keys, type)`: receipts of `type` (absent = delivery) for received messages.
    #[napi(catch_unwind)]
    pub fn send_receipts<'env>(&self, env: &'env Env, keys: Option<Value>, kind: Option<String>) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let keys = read_keys("sendReceipts", &keys.unwrap_or(Value::Null))?;
            shard.send_receipts("sendReceipts", &keys, kind.as_deref()).await
        })
    }

    /// `sock.sendReceipt(jid, participant, messageIds, type)`.
    #[napi(catch_unwind)]
    pub fn send_receipt<'env>(
        &self,
        env: &'env Env,
        jid: String,
        participant: Option<String>,
        message_ids: Vec<String>,
        kind: Option<String>,
    ) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.send_receipt(&jid, participant.as_deref(), &message_ids, kind.as_deref()).await })
    }

    /// `sock.sendPresenceUpdate(type, jid?)`: `available` / `unavailable`, or a chat state
    /// (`composing`, `recording`, `paused`) sent to `jid`.
    #[napi(catch_unwind)]
    pub fn send_presence_update<'env>(
        &self,
        env: &'env Env,
        presence: Option<Value>,
        jid: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let kind: PresenceType = one_of("sendPresenceUpdate", "type", presence, &PresenceType::ALL)?;
            let jid = match jid {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s),
                Some(other) => return Err(invalid_argument(format!("sendPresenceUpdate: jid must be a string, got {}", kind_of(&other)))),
            };
            shard.send_presence_update(kind, jid.as_deref()).await
        })
    }

    /// `sock.presenceSubscribe(jid)`: the contact's presence then arrives as `presence.update`.
    #[napi(catch_unwind)]
    pub fn presence_subscribe<'env>(&self, env: &'env Env, jid: Option<Value>) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = jid.unwrap_or(Value::Null);
            let Value::String(jid) = jid else {
                return Err(invalid_argument(format!("presenceSubscribe: jid must be a string, got {}", kind_of(&jid))));
            };
            shard.presence_subscribe(&jid).await
        })
    }

    /// `sock.onWhatsApp(...numbers)` → `[{ jid, exists: true, lid? }]` for the numbers on
    /// WhatsApp (others are left out, as in Baileys 6.7.21).
    #[napi(js_name = "onWhatsApp", catch_unwind)]
    pub fn on_whatsapp<'env>(&self, env: &'env Env, numbers: Vec<Value>) -> js::Result<PromiseRaw<'env, Vec<OnWhatsAppEntry>>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let numbers = numbers
                .into_iter()
                .enumerate()
                .map(|(i, n)| match n {
                    Value::String(s) => Ok(s),
                    other => Err(invalid_argument(format!(
                        "onWhatsApp: argument {} must be a phone number string, got {}",
                        i + 1,
                        kind_of(&other)
                    ))),
                })
                .collect::<Result<Vec<_>>>()?;
            let found = shard.on_whatsapp(&numbers).await?;
            Ok(found.into_iter().map(|e| OnWhatsAppEntry { jid: e.jid, exists: e.exists, lid: e.lid }).collect())
        })
    }
}
