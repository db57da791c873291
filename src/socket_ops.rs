//! `sock.readMessages`, `sock.sendPresenceUpdate`, `sock.presenceSubscribe`, `sock.onWhatsApp`,
//! `sock.rejectCall`:
//! argument checks and result objects; the work is in `shard_core::socket_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{json, Value};
use shard_core::socket_ops::{PresenceType, ReadKey};

use crate::args::{kind_of, one_of};
use crate::errors::{invalid_argument, to_napi};
use crate::manager::{not_found, NativeShardManager};

/// Same error as `NativeShardManager`'s other methods give for an unknown shard id.
/// `WAMessageKey[]` → `ReadKey`s, naming the first bad entry.
fn read_keys(what: &str, keys: &Value) -> Result<Vec<ReadKey>> {
    let Value::Array(items) = keys else {
        return Err(invalid_argument(format!("{what}: keys must be an array of message keys ({{ remoteJid, id, fromMe?, participant? }}), got {}", kind_of(keys))));
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

#[napi]
impl NativeShardManager {
    /// `sock.rejectCall(callId, callFrom)`: declines an incoming call.
    #[napi]
    pub async fn reject_call(&self, id: String, call_id: String, call_from: String) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.reject_call(&call_id, &call_from).await.map_err(to_napi)
    }

    /// `sock.readMessages(keys)`: read receipts for received messages (own keys are skipped).
    #[napi]
    pub async fn read_messages(&self, id: String, keys: Option<Value>) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let keys = read_keys("readMessages", &keys.unwrap_or(Value::Null))?;
        shard.read_messages(&keys).await.map_err(to_napi)
    }

    /// `sock.sendReceipts(keys, type)`: receipts of `type` (absent = delivery) for received messages.
    #[napi]
    pub async fn send_receipts(&self, id: String, keys: Option<Value>, kind: Option<String>) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let keys = read_keys("sendReceipts", &keys.unwrap_or(Value::Null))?;
        shard.send_receipts("sendReceipts", &keys, kind.as_deref()).await.map_err(to_napi)
    }

    /// `sock.sendReceipt(jid, participant, messageIds, type)`.
    #[napi]
    pub async fn send_receipt(&self, id: String, jid: String, participant: Option<String>, message_ids: Vec<String>, kind: Option<String>) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.send_receipt(&jid, participant.as_deref(), &message_ids, kind.as_deref()).await.map_err(to_napi)
    }

    /// `sock.sendPresenceUpdate(type, jid?)`: `available` / `unavailable`, or a chat state
    /// (`composing`, `recording`, `paused`) sent to `jid`.
    #[napi]
    pub async fn send_presence_update(&self, id: String, presence: Option<Value>, jid: Option<Value>) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let kind: PresenceType = one_of("sendPresenceUpdate", "type", presence, &PresenceType::ALL)?;
        let jid = match jid {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => return Err(invalid_argument(format!("sendPresenceUpdate: jid must be a string, got {}", kind_of(&other)))),
        };
        shard.send_presence_update(kind, jid.as_deref()).await.map_err(to_napi)
    }

    /// `sock.presenceSubscribe(jid)`: the contact's presence then arrives as `presence.update`.
    #[napi]
    pub async fn presence_subscribe(&self, id: String, jid: Option<Value>) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = jid.unwrap_or(Value::Null);
        let Value::String(jid) = jid else {
            return Err(invalid_argument(format!("presenceSubscribe: jid must be a string, got {}", kind_of(&jid))));
        };
        shard.presence_subscribe(&jid).await.map_err(to_napi)
    }

    /// `sock.onWhatsApp(...numbers)` → `[{ jid, exists: true, lid? }]` for the numbers on
    /// WhatsApp (others are left out, as in Baileys 6.7.21).
    #[napi(js_name = "onWhatsApp")]
    pub async fn on_whatsapp(&self, id: String, numbers: Vec<Value>) -> Result<Vec<Value>> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let numbers = numbers
            .into_iter()
            .enumerate()
            .map(|(i, n)| match n {
                Value::String(s) => Ok(s),
                other => Err(invalid_argument(format!("onWhatsApp: argument {} must be a phone number string, got {}", i + 1, kind_of(&other)))),
            })
            .collect::<Result<Vec<_>>>()?;
        let found = shard.on_whatsapp(&numbers).await.map_err(to_napi)?;
        Ok(found
            .into_iter()
            .map(|e| {
                let mut v = json!({ "jid": e.jid, "exists": e.exists });
                if let Some(lid) = e.lid {
                    v["lid"] = json!(lid);
                }
                v
            })
            .collect())
    }
}
