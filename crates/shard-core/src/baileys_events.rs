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

pub fn messages_upsert(messages: Vec<BValue>, kind: UpsertType) -> (&'static str, BValue) {
    ("messages.upsert", BValue::obj([("messages", BValue::Array(messages)), ("type", BValue::String(kind.as_str().into()))]))
}

/// Baileys' `upsertMessage`: each received message with a push name updates its sender's
/// contact, `{ id, notify, verifiedName? }` (the sender is the participant in groups, the chat
/// otherwise). `None` when no message names its sender.
pub fn contacts_update_from_push_names(messages: &[BValue]) -> Option<(&'static str, BValue)> {
    let updates: Vec<BValue> = messages
        .iter()
        .filter_map(|m| {
            let key = m.get("key")?;
            if matches!(key.get("fromMe"), Some(BValue::Bool(true))) {
                return None;
            }
            let push_name = m.get("pushName").and_then(BValue::as_str).filter(|n| !n.is_empty())?;
            let sender =
                key.get("participant").and_then(BValue::as_str).filter(|p| !p.is_empty()).or_else(|| key.get("remoteJid")?.as_str())?;
            let mut update = BValue::obj([("id", BValue::str(sender)), ("notify", BValue::str(push_name))]);
            if let Some(verified) = m.get("verifiedBizName") {
                update.set("verifiedName", verified.clone());
            }
            Some(update)
        })
        .collect();
    (!updates.is_empty()).then_some(("contacts.update", BValue::Array(updates)))
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
    // The engine leaves `source.is_group` unset on receipts; the chat says it. Baileys treats
    // status broadcasts like groups here.
    let group_like = r.source.is_group || r.source.chat.server == wacore_binary::Server::Group || chat == "status@broadcast";
    // A receipt from someone else is about a message we sent; a "self" receipt (another of
    // our devices read it) is about a message we received.
    let from_me = !own_device;
    let key = |id: &str| {
        let mut key = BValue::obj([
            ("remoteJid", BValue::String(chat.clone())),
            ("id", BValue::String(id.to_owned())),
            ("fromMe", BValue::Bool(from_me)),
        ]);
        if group_like {
            // Baileys puts the receipt's `participant` attribute there as it came (with the
            // device for someone else's receipt).
            let participant = if own_device { r.source.sender.to_non_ad_string() } else { r.source.sender.to_string() };
            key.set("participant", BValue::String(participant));
        }
        key
    };
    if group_like && !own_device {
        let ts_field = if status == status::DELIVERY_ACK { "receiptTimestamp" } else { "readTimestamp" };
        let items = r
            .message_ids
            .iter()
            .map(|id| {
                let receipt = BValue::obj([
                    ("userJid", BValue::String(r.source.sender.to_non_ad_string())),
                    (ts_field, BValue::Int(r.timestamp.timestamp())),
                ]);
                BValue::obj([("key", key(id)), ("receipt", receipt)])
            })
            .collect();
        return Some(("message-receipt.update", BValue::Array(items)));
    }
    let items = r
        .message_ids
        .iter()
        .map(|id| BValue::obj([("key", key(id)), ("update", BValue::obj([("status", BValue::Int(status))]))]))
        .collect();
    Some(("messages.update", BValue::Array(items)))
}

/// `presence.update` for a contact's online/offline presence.
pub fn presence(p: &PresenceUpdate) -> (&'static str, BValue) {
    let jid = p.from.to_non_ad_string();
    let mut entry = BValue::obj([("lastKnownPresence", BValue::String(if p.unavailable { "unavailable" } else { "available" }.into()))]);
    if let Some(seen) = p.last_seen {
        entry.set("lastSeen", BValue::Int(seen.timestamp()));
    }
    ("presence.update", BValue::obj([("id", BValue::String(jid.clone())), ("presences", BValue::Object(vec![(jid, entry)]))]))
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
        BValue::obj([
            ("id", BValue::String(c.source.chat.to_non_ad_string())),
            ("presences", BValue::Object(vec![(participant, BValue::obj([("lastKnownPresence", BValue::String(state.into()))]))])),
        ]),
    )
}

fn as_i64(v: Option<&BValue>) -> Option<i64> {
    match v {
        Some(BValue::Int(n)) => Some(*n),
        Some(BValue::Uint(n)) => i64::try_from(*n).ok(),
        _ => None,
    }
}

fn user_of(jid: &str) -> &str {
    jid.split(['@', ':']).next().unwrap_or(jid)
}

/// Baileys' `cleanMessage`: a reaction or a poll vote from someone else names its message
/// (the reacted-to one, the poll) from the sender's point of view; turn that key around to ours.
pub fn normalise_foreign_keys(message: &mut BValue, me: Option<&str>) {
    let Some(key) = message.get("key").cloned() else { return };
    if matches!(key.get("fromMe"), Some(BValue::Bool(true))) {
        return;
    }
    let Some(content) = message.get_mut("message") else { return };
    for (field, key_field) in [("reactionMessage", "key"), ("pollUpdateMessage", "pollCreationMessageKey")] {
        if let Some(foreign) = content.get_mut(field).and_then(|r| r.get_mut(key_field)) {
            turn_key_around(foreign, &key, me);
        }
    }
}

fn turn_key_around(foreign: &mut BValue, key: &BValue, me: Option<&str>) {
    let was_from_me = matches!(foreign.get("fromMe"), Some(BValue::Bool(true)));
    let author = foreign.get("participant").or_else(|| foreign.get("remoteJid")).and_then(BValue::as_str).unwrap_or_default().to_owned();
    let from_me = !was_from_me && me.is_some_and(|me| user_of(&author) == user_of(me));
    foreign.set("fromMe", BValue::Bool(from_me));
    if let Some(remote) = key.get("remoteJid") {
        foreign.set("remoteJid", remote.clone());
    }
    if foreign.get("participant").is_none() {
        if let Some(p) = key.get("participant") {
            foreign.set("participant", p.clone());
        }
    }
}

/// What Baileys' `processMessage` emits besides `messages.upsert` for a message: revokes and
/// edits as `messages.update`, reactions as `messages.reaction`.
pub fn derived_from_message(message: &BValue) -> Option<(&'static str, BValue)> {
    let key = message.get("key")?;
    let content = message.get("message")?;
    if let Some(protocol) = content.get("protocolMessage") {
        let target_id = protocol.get("key").and_then(|k| k.get("id")).cloned().unwrap_or(BValue::Null);
        let key_with_target = key.clone().with("id", target_id);
        return match as_i64(protocol.get("type")) {
            // REVOKE
            Some(0) => Some((
                "messages.update",
                BValue::Array(vec![BValue::obj([
                    ("key", key_with_target),
                    ("update", BValue::obj([("message", BValue::Null), ("messageStubType", BValue::Int(1)), ("key", key.clone())])),
                ])]),
            )),
            // MESSAGE_EDIT
            Some(14) => {
                let edited = protocol.get("editedMessage").cloned().unwrap_or(BValue::Null);
                let timestamp = as_i64(protocol.get("timestampMs"))
                    .map(|ms| BValue::Int(ms / 1000))
                    .or_else(|| message.get("messageTimestamp").cloned())
                    .unwrap_or(BValue::Null);
                Some((
                    "messages.update",
                    BValue::Array(vec![BValue::obj([
                        ("key", key_with_target),
                        (
                            "update",
                            BValue::obj([
                                ("message", BValue::obj([("editedMessage", BValue::obj([("message", edited)]))])),
                                ("messageTimestamp", timestamp),
                            ]),
                        ),
                    ])]),
                ))
            }
            _ => None,
        };
    }
    let reaction = content.get("reactionMessage")?;
    let reacted_key = reaction.get("key").cloned().unwrap_or(BValue::Null);
    let reaction = reaction.clone().with("key", key.clone());
    Some(("messages.reaction", BValue::Array(vec![BValue::obj([("reaction", reaction), ("key", reacted_key)])])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> BValue {
        BValue::String(v.into())
    }

    fn incoming(content: BValue) -> BValue {
        BValue::obj([
            ("key", BValue::obj([("remoteJid", s("1@s.whatsapp.net")), ("fromMe", BValue::Bool(false)), ("id", s("NEW"))])),
            ("messageTimestamp", BValue::Int(100)),
            ("message", content),
        ])
    }

    #[test]
    fn revoke_and_edit_become_message_updates() {
        let target = BValue::obj([("remoteJid", s("me@s.whatsapp.net")), ("fromMe", BValue::Bool(true)), ("id", s("OLD"))]);
        let revoke = incoming(BValue::obj([("protocolMessage", BValue::obj([("key", target.clone()), ("type", BValue::Int(0))]))]));
        let (name, data) = derived_from_message(&revoke).unwrap();
        assert_eq!(name, "messages.update");
        let u = &data.as_array().unwrap()[0];
        assert_eq!(u.get("key").and_then(|k| k.get("id")), Some(&s("OLD")));
        assert_eq!(u.get("update").and_then(|x| x.get("message")), Some(&BValue::Null));
        assert_eq!(u.get("update").and_then(|x| x.get("messageStubType")), Some(&BValue::Int(1)));

        let edited = BValue::obj([("extendedTextMessage", BValue::obj([("text", s("fixed"))]))]);
        let edit = incoming(BValue::obj([(
            "protocolMessage",
            BValue::obj([
                ("key", target),
                ("type", BValue::Int(14)),
                ("editedMessage", edited.clone()),
                ("timestampMs", BValue::Int(5_000)),
            ]),
        )]));
        let (_, data) = derived_from_message(&edit).unwrap();
        let update = data.as_array().unwrap()[0].get("update").unwrap();
        assert_eq!(update.get("message").and_then(|m| m.get("editedMessage")).and_then(|e| e.get("message")), Some(&edited));
        assert_eq!(update.get("messageTimestamp"), Some(&BValue::Int(5)));
    }

    #[test]
    fn reactions_are_turned_to_our_perspective() {
        // The sender reacted to a message they believed was not theirs, i.e. ours.
        let reacted = BValue::obj([("remoteJid", s("me@s.whatsapp.net")), ("fromMe", BValue::Bool(false)), ("id", s("MINE"))]);
        let mut msg = incoming(BValue::obj([("reactionMessage", BValue::obj([("key", reacted), ("text", s("👍"))]))]));
        normalise_foreign_keys(&mut msg, Some("me:3@s.whatsapp.net"));
        let (name, data) = derived_from_message(&msg).unwrap();
        assert_eq!(name, "messages.reaction");
        let item = &data.as_array().unwrap()[0];
        assert_eq!(item.get("key").and_then(|k| k.get("fromMe")), Some(&BValue::Bool(true)));
        assert_eq!(item.get("key").and_then(|k| k.get("remoteJid")), Some(&s("1@s.whatsapp.net")));
        assert_eq!(item.get("reaction").and_then(|r| r.get("key")).and_then(|k| k.get("id")), Some(&s("NEW")));
        assert_eq!(item.get("reaction").and_then(|r| r.get("text")), Some(&s("👍")));
    }

    #[test]
    fn group_receipts_are_message_receipt_updates_per_member() {
        // As the engine builds it: `source.is_group` unset, the chat is the group.
        let receipt = Receipt::builder()
            .message_ids(vec!["M1".to_owned()])
            .source(wacore::types::message::MessageSource {
                chat: "120363000000000001@g.us".parse().unwrap(),
                sender: "15550000002:3@s.whatsapp.net".parse().unwrap(),
                ..Default::default()
            })
            .timestamp(wacore::time::from_secs(1_700_000_000).unwrap())
            .r#type(ReceiptType::Delivered)
            .offline(false)
            .build();
        let (name, data) = super::receipt(&receipt).unwrap();
        assert_eq!(name, "message-receipt.update");
        assert_eq!(
            data,
            BValue::Array(vec![BValue::obj([
                (
                    "key",
                    BValue::obj([
                        ("remoteJid", s("120363000000000001@g.us")),
                        ("id", s("M1")),
                        ("fromMe", BValue::Bool(true)),
                        ("participant", s("15550000002:3@s.whatsapp.net")),
                    ])
                ),
                ("receipt", BValue::obj([("userJid", s("15550000002@s.whatsapp.net")), ("receiptTimestamp", BValue::Int(1_700_000_000))])),
            ])])
        );
    }

    #[test]
    fn plain_messages_derive_nothing() {
        assert!(derived_from_message(&incoming(BValue::obj([("conversation", s("hi"))]))).is_none());
    }

    #[test]
    fn push_names_update_the_senders_contact_but_never_our_own() {
        let message = |remote: &str, participant: Option<&str>, from_me: bool, push_name: &str| {
            let mut key = BValue::obj([("remoteJid", s(remote)), ("fromMe", BValue::Bool(from_me)), ("id", s("X"))]);
            if let Some(p) = participant {
                key.set("participant", s(p));
            }
            BValue::obj([("key", key), ("pushName", s(push_name))])
        };
        let messages = [
            message("1@s.whatsapp.net", None, false, "Ann"),
            message("9-9@g.us", Some("2@s.whatsapp.net"), false, "Bo"),
            message("3@s.whatsapp.net", None, true, "Me"),
            message("4@s.whatsapp.net", None, false, ""),
        ];
        let (name, updates) = contacts_update_from_push_names(&messages).unwrap();
        assert_eq!(name, "contacts.update");
        assert_eq!(
            updates,
            BValue::Array(vec![
                BValue::obj([("id", s("1@s.whatsapp.net")), ("notify", s("Ann"))]),
                BValue::obj([("id", s("2@s.whatsapp.net")), ("notify", s("Bo"))]),
            ])
        );
        assert!(contacts_update_from_push_names(&messages[2..]).is_none());
    }
}
