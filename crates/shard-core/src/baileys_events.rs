//! Baileys' socket events (`messages.upsert`, `messages.update`, `presence.update`, ...) built
//! from engine events, as `BValue` payloads in Baileys' exact shape.

use wacore::types::events::{ChatPresenceUpdate, PresenceUpdate, Receipt};
use wacore::types::presence::{ChatPresence, ChatPresenceMedia, ReceiptType};

use crate::baileys_value::BValue;
use crate::wa_message::UpsertType;

/// `proto.WebMessageInfo.Status` values Baileys reports in `messages.update`.
pub mod status {
    pub const PENDING: i64 = 1;
    pub const SERVER_ACK: i64 = 2;
    pub const DELIVERY_ACK: i64 = 3;
    pub const READ: i64 = 4;
    pub const PLAYED: i64 = 5;
}

fn obj<const N: usize>(fields: [(&str, BValue); N]) -> BValue {
    BValue::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

pub fn messages_upsert(messages: Vec<BValue>, kind: UpsertType) -> (&'static str, BValue) {
    ("messages.upsert", obj([("messages", BValue::Array(messages)), ("type", BValue::String(kind.as_str().into()))]))
}

/// A receipt as Baileys reports it: 1:1 receipts as `messages.update` status changes, group
/// receipts as `message-receipt.update`. Receipt kinds Baileys does not report give `None`.
pub fn receipt(r: &Receipt) -> Option<(&'static str, BValue)> {
    let (status, own_device) = match r.r#type {
        ReceiptType::Delivered => (status::DELIVERY_ACK, false),
        ReceiptType::Read => (status::READ, false),
        ReceiptType::ReadSelf => (status::READ, true),
        ReceiptType::Played => (status::PLAYED, false),
        ReceiptType::PlayedSelf => (status::PLAYED, true),
        _ => return None,
    };
    let chat = r.source.chat.to_non_ad_string();
    // A receipt from someone else is about a message we sent; a "self" receipt (another of
    // our devices read it) is about a message we received.
    let from_me = !own_device;
    let key = |id: &str| {
        let mut key = obj([("remoteJid", BValue::String(chat.clone())), ("id", BValue::String(id.to_owned())), ("fromMe", BValue::Bool(from_me))]);
        if r.source.is_group && own_device {
            key.set("participant", BValue::String(r.source.sender.to_non_ad_string()));
        }
        key
    };
    if r.source.is_group && !own_device {
        let ts_field = if status == status::DELIVERY_ACK { "receiptTimestamp" } else { "readTimestamp" };
        let items = r
            .message_ids
            .iter()
            .map(|id| {
                let receipt = obj([
                    ("userJid", BValue::String(r.source.sender.to_non_ad_string())),
                    (ts_field, BValue::Int(r.timestamp.timestamp())),
                ]);
                obj([("key", key(id)), ("receipt", receipt)])
            })
            .collect();
        return Some(("message-receipt.update", BValue::Array(items)));
    }
    let items = r.message_ids.iter().map(|id| obj([("key", key(id)), ("update", obj([("status", BValue::Int(status))]))])).collect();
    Some(("messages.update", BValue::Array(items)))
}

/// `presence.update` for a contact's online/offline presence.
pub fn presence(p: &PresenceUpdate) -> (&'static str, BValue) {
    let jid = p.from.to_non_ad_string();
    let mut entry = obj([("lastKnownPresence", BValue::String(if p.unavailable { "unavailable" } else { "available" }.into()))]);
    if let Some(seen) = p.last_seen {
        entry.set("lastSeen", BValue::Int(seen.timestamp()));
    }
    ("presence.update", obj([("id", BValue::String(jid.clone())), ("presences", BValue::Object(vec![(jid, entry)]))]))
}

/// `presence.update` for typing / recording in a chat.
pub fn chat_presence(c: &ChatPresenceUpdate) -> (&'static str, BValue) {
    let state = match (c.state, c.media) {
        (ChatPresence::Composing, ChatPresenceMedia::Audio) => "recording",
        (ChatPresence::Composing, _) => "composing",
        (ChatPresence::Paused, _) => "paused",
    };
    let participant = c.source.sender.to_non_ad_string();
    (
        "presence.update",
        obj([
            ("id", BValue::String(c.source.chat.to_non_ad_string())),
            ("presences", BValue::Object(vec![(participant, obj([("lastKnownPresence", BValue::String(state.into()))]))])),
        ]),
    )
}
