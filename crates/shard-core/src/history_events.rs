//! `messaging-history.set` from a history sync chunk, in Baileys 6.7.21's shape.
//!
//! The engine downloads, decrypts and inflates the chunk the phone announced and hands it over
//! as `Event::HistorySync`; this module decodes it into protobufjs-shaped objects (the same
//! decoder as every message, proto_to_baileys.rs) and then does what Baileys'
//! `processHistoryMessage` does with them:
//! - conversation chunks (`INITIAL_BOOTSTRAP`, `RECENT`, `FULL`, `ON_DEMAND`): every chat gives a
//!   contact `{ id, name?, lid?, jid? }`; its messages go to `messages`, and the chat keeps only
//!   its newest one as `messages: [{ message }]`, plus `lastMessageRecvTimestamp` from the newest
//!   message it received; business privacy stubs name a contact's `verifiedName`;
//! - `PUSH_NAME`: contacts `{ id, notify }`;
//! - other chunk types are not reported (Baileys does not process them).
//!
//! Where Baileys puts a key whose value is `undefined` (`name: chat.name || undefined`), the key
//! is left out here: JS reads both as `undefined`, and JSON drops both.

use wacore::types::events::LazyHistorySync;

use crate::baileys_value::BValue;
use crate::engine_scope::EngineLog;
use crate::error::{ErrorCode, ShardError};
use crate::proto_to_baileys;

/// What the engine logs when a history chunk the phone announced cannot be used (it reports no
/// event for it): an error for the shard, or `None` for any other record.
pub fn engine_failure(log: &EngineLog) -> Option<ShardError> {
    if log.target != "whatsapp_rust::history_sync" || log.level != log::Level::Error {
        return None;
    }
    let code = if log.message.starts_with("Failed to download history sync blob") {
        ErrorCode::MediaFailed
    } else if log.message.starts_with("Failed to process HistorySync data") {
        ErrorCode::DecodeFailed
    } else {
        return None;
    };
    Some(ShardError::new(code, format!("a history sync chunk from the phone could not be used; it is not reported ({})", log.message)))
}

/// `proto.HistorySync.HistorySyncType`.
mod sync_type {
    pub const INITIAL_BOOTSTRAP: i32 = 0;
    pub const FULL: i32 = 2;
    pub const RECENT: i32 = 3;
    pub const PUSH_NAME: i32 = 4;
    pub const ON_DEMAND: i32 = 6;
}

/// `WebMessageInfo.StubType` values whose first parameter is a business' verified name.
const BIZ_PRIVACY_MODE_TO_FB: u64 = 128;
const BIZ_PRIVACY_MODE_TO_BSP: u64 = 129;

/// Whether Baileys processes chunks of this type (`PROCESSABLE_HISTORY_TYPES`).
pub fn is_processable(sync_type: i32) -> bool {
    matches!(sync_type, sync_type::INITIAL_BOOTSTRAP | sync_type::FULL | sync_type::RECENT | sync_type::PUSH_NAME | sync_type::ON_DEMAND)
}

pub fn is_on_demand(sync_type: i32) -> bool {
    sync_type == sync_type::ON_DEMAND
}

/// The `messaging-history.set` payload of one chunk. `is_latest`: no history was processed on
/// this device before (Baileys: `!creds.processedHistoryMessages.length`); false for
/// `ON_DEMAND` chunks.
pub fn messaging_history_set(history: &LazyHistorySync, is_latest: bool) -> Result<BValue, ShardError> {
    let bad = |why: String| ShardError::new(ErrorCode::DecodeFailed, format!("a history sync chunk from the phone is unusable: {why}"));
    let raw = history.decompress().map_err(|e| bad(format!("it does not inflate ({e})")))?;
    let sync = proto_to_baileys::decode("whatsapp.HistorySync", &raw).map_err(|e| bad(e.to_string()))?;
    let sync_type = history.sync_type();
    let (chats, contacts, messages) = process(sync, sync_type);
    let progress = history.progress().map_or(BValue::Null, |p| BValue::Uint(u64::from(p)));
    let mut data = BValue::obj([
        ("chats", BValue::Array(chats)),
        ("contacts", BValue::Array(contacts)),
        ("messages", BValue::Array(messages)),
        ("syncType", BValue::Int(i64::from(sync_type))),
        ("progress", progress),
    ]);
    // An ON_DEMAND chunk has no `isLatest` of its own; Baileys' event buffer, which every
    // chunk passes through, reports it as false.
    data.set("isLatest", BValue::Bool(is_latest && !is_on_demand(sync_type)));
    let session = history.peer_data_request_session_id().map_or(BValue::Null, BValue::str);
    data.set("peerDataRequestSessionId", session);
    Ok(data)
}

/// Baileys' `processHistoryMessage` over the decoded chunk: (chats, contacts, messages).
fn process(mut sync: BValue, sync_type: i32) -> (Vec<BValue>, Vec<BValue>, Vec<BValue>) {
    let (mut chats, mut contacts, mut messages) = (Vec::new(), Vec::new(), Vec::new());
    if sync_type == sync_type::PUSH_NAME {
        for p in take_array(&mut sync, "pushnames") {
            let mut contact = BValue::object();
            contact.set("id", p.get("id").cloned().unwrap_or(BValue::Null));
            contact.set("notify", p.get("pushname").cloned().unwrap_or(BValue::Null));
            contacts.push(contact);
        }
        return (chats, contacts, messages);
    }
    for mut chat in take_array(&mut sync, "conversations") {
        let id = chat.get("id").and_then(BValue::as_str).unwrap_or_default().to_owned();
        let mut contact = BValue::obj([("id", BValue::str(id.clone()))]);
        for (from, to) in [("name", "name"), ("lidJid", "lid")] {
            if let Some(v) = chat.get(from).and_then(BValue::as_str).filter(|s| !s.is_empty()) {
                contact.set(to, BValue::str(v));
            }
        }
        if id.ends_with("@s.whatsapp.net") {
            contact.set("jid", BValue::str(id.clone()));
        }
        contacts.push(contact);

        let items = take_array(&mut chat, "messages");
        remove(&mut chat, "messages");
        for item in items {
            let Some(message) = item.get("message").cloned() else { continue };
            if chat.get("messages").is_none() {
                chat.set("messages", BValue::Array(vec![BValue::obj([("message", message.clone())])]));
            }
            let from_me = matches!(message.get("key").and_then(|k| k.get("fromMe")), Some(BValue::Bool(true)));
            if !from_me && chat.get("lastMessageRecvTimestamp").is_none() {
                if let Some(t) = message.get("messageTimestamp").and_then(as_u64) {
                    chat.set("lastMessageRecvTimestamp", BValue::Uint(t));
                }
            }
            let stub = message.get("messageStubType").and_then(as_u64);
            if matches!(stub, Some(BIZ_PRIVACY_MODE_TO_FB | BIZ_PRIVACY_MODE_TO_BSP)) {
                if let Some(name) = message.get("messageStubParameters").and_then(BValue::as_array).and_then(|p| p.first()).cloned() {
                    let key = message.get("key");
                    let who = key.and_then(|k| k.get("participant")).and_then(BValue::as_str).filter(|p| !p.is_empty());
                    let who = who.or_else(|| key.and_then(|k| k.get("remoteJid")).and_then(BValue::as_str)).unwrap_or_default();
                    contacts.push(BValue::obj([("id", BValue::str(who)), ("verifiedName", name)]));
                }
            }
            messages.push(message);
        }
        chats.push(chat);
    }
    (chats, contacts, messages)
}

fn take_array(value: &mut BValue, key: &str) -> Vec<BValue> {
    match value.get_mut(key) {
        Some(BValue::Array(items)) => std::mem::take(items),
        _ => Vec::new(),
    }
}

fn remove(value: &mut BValue, key: &str) {
    if let BValue::Object(fields) = value {
        fields.retain(|(k, _)| k != key);
    }
}

fn as_u64(v: &BValue) -> Option<u64> {
    match v {
        BValue::Uint(n) => Some(*n),
        BValue::Int(n) => u64::try_from(*n).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use buffa::Message as _;
    use std::io::Write as _;
    use waproto::whatsapp as wa;

    fn lazy(sync: &wa::HistorySync, sync_type: i32) -> LazyHistorySync {
        let raw = sync.encode_to_vec();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&raw).unwrap();
        LazyHistorySync::new(z.finish().unwrap().into(), raw.len(), sync_type, Some(1), Some(40))
    }

    fn msg(chat: &str, id: &str, from_me: bool, t: u64) -> wa::HistorySyncMsg {
        wa::HistorySyncMsg {
            message: buffa::MessageField::some(wa::WebMessageInfo {
                key: buffa::MessageField::some(wa::MessageKey {
                    remote_jid: Some(chat.into()),
                    from_me: Some(from_me),
                    id: Some(id.into()),
                    participant: None,
                }),
                message: buffa::MessageField::some(wa::Message { conversation: Some(id.into()), ..Default::default() }),
                message_timestamp: Some(t),
                ..Default::default()
            }),
            msg_order_id: None,
        }
    }

    #[test]
    fn a_bootstrap_chunk_gives_chats_contacts_and_messages_as_baileys_does() {
        let chat = "15550001@s.whatsapp.net";
        let sync = wa::HistorySync {
            sync_type: wa::history_sync::HistorySyncType::INITIAL_BOOTSTRAP,
            conversations: vec![
                wa::Conversation {
                    id: chat.into(),
                    name: Some("Bob".into()),
                    unread_count: Some(2),
                    messages: vec![msg(chat, "NEW", true, 30), msg(chat, "MID", false, 20), msg(chat, "OLD", false, 10)],
                    ..Default::default()
                },
                wa::Conversation { id: "1203@g.us".into(), ..Default::default() },
            ],
            ..Default::default()
        };
        let data = messaging_history_set(&lazy(&sync, 0), true).unwrap();
        let chats = data.get("chats").unwrap().as_array().unwrap();
        assert_eq!(chats.len(), 2);
        let first = &chats[0];
        assert_eq!(first.get("unreadCount"), Some(&BValue::Uint(2)));
        let kept = first.get("messages").unwrap().as_array().unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].get("message").unwrap().get("key").unwrap().get("id").unwrap().as_str(), Some("NEW"));
        assert_eq!(first.get("lastMessageRecvTimestamp"), Some(&BValue::Uint(20)));
        assert!(chats[1].get("messages").is_none());
        let contacts = data.get("contacts").unwrap().as_array().unwrap();
        assert_eq!(contacts[0], BValue::obj([("id", BValue::str(chat)), ("name", BValue::str("Bob")), ("jid", BValue::str(chat))]));
        assert_eq!(contacts[1], BValue::obj([("id", BValue::str("1203@g.us"))]));
        assert_eq!(data.get("messages").unwrap().as_array().unwrap().len(), 3);
        assert_eq!(data.get("isLatest"), Some(&BValue::Bool(true)));
        assert_eq!(data.get("progress"), Some(&BValue::Uint(40)));
    }

    #[test]
    fn push_names_become_notify_and_on_demand_is_never_the_latest() {
        let sync = wa::HistorySync {
            sync_type: wa::history_sync::HistorySyncType::PUSH_NAME,
            pushnames: vec![wa::Pushname { id: Some("1@s.whatsapp.net".into()), pushname: Some("One".into()) }],
            ..Default::default()
        };
        let data = messaging_history_set(&lazy(&sync, 4), false).unwrap();
        let contacts = data.get("contacts").unwrap().as_array().unwrap();
        assert_eq!(contacts[0], BValue::obj([("id", BValue::str("1@s.whatsapp.net")), ("notify", BValue::str("One"))]));
        let demand = messaging_history_set(&lazy(&wa::HistorySync::default(), 6), true).unwrap();
        // Baileys' event buffer reports an ON_DEMAND chunk with `isLatest: false`.
        assert_eq!(demand.get("isLatest"), Some(&BValue::Bool(false)));
    }

    #[test]
    fn the_engines_history_failures_are_shard_errors() {
        let log = |target: &str, message: &str| EngineLog { level: log::Level::Error, target: target.into(), message: message.into() };
        let failed = engine_failure(&log("whatsapp_rust::history_sync", "Failed to process HistorySync data: corrupt deflate stream"));
        assert_eq!(failed.unwrap().code, ErrorCode::DecodeFailed);
        let download = engine_failure(&log("whatsapp_rust::history_sync", "Failed to download history sync blob: 404"));
        assert_eq!(download.unwrap().code, ErrorCode::MediaFailed);
        assert!(engine_failure(&log("whatsapp_rust::client", "Failed to process HistorySync data")).is_none());
    }

    #[test]
    fn a_chunk_that_does_not_inflate_is_a_decode_error() {
        let broken = LazyHistorySync::new(bytes::Bytes::from_static(&[0x78, 0x9c, 0xff, 0x00]), 100, 0, None, None);
        let err = messaging_history_set(&broken, true).unwrap_err();
        assert_eq!(err.code, ErrorCode::DecodeFailed);
    }
}
