//! The account's app state as Baileys 6.7.21 reports it: what another device of the account (or
//! the phone) changed — archive, pin, mute, read marks, contacts, stars, deletes, labels —
//! arrives as app-state mutations, which the engine decrypts, verifies and hands over as one
//! event each. Baileys' `processSyncAction` turns each mutation into one of its events; this
//! module does the same for the engine's events:
//!
//! | engine event | Baileys event |
//! | --- | --- |
//! | `MuteUpdate` | `chats.update [{ id, muteEndTime }]` (`null` when unmuted) |
//! | `ArchiveUpdate` | `chats.update [{ id, archived }]` |
//! | `MarkChatAsReadUpdate` | `chats.update [{ id, unreadCount }]`: 0 read, -1 unread, `null` for "read" in a full sync |
//! | `PinUpdate` | `chats.update [{ id, pinned }]`: the action's time in ms, `null` when unpinned |
//! | `ContactUpdate` | `contacts.upsert [{ id, name, lid?, jid? }]` |
//! | `StarUpdate` | `messages.update [{ key, update: { starred } }]` |
//! | `DeleteMessageForMeUpdate` | `messages.delete { keys: [key] }` |
//! | `DeleteChatUpdate` | `chats.delete [id]`, not in a full sync |
//! | `LabelEditUpdate` | `labels.edit { id, name, color, deleted, predefinedId }` (unset fields `null`, as protobufjs reads them) |
//! | `LabelAssociationUpdate` | `labels.association { type: 'add' \| 'remove', association: { type: 'label_jid', chatId, labelId } }` |
//!
//! Baileys also puts a `conditional` function on each `chats.update` (its event buffer uses it
//! to drop an update older than the chat's messages); a function cannot cross to JS from here,
//! so ours have none. Keys whose value Baileys leaves `undefined` are left out.

use wacore::types::events::Event;
use wacore_binary::Jid;

use crate::baileys_value::BValue;

/// The Baileys event of an app-state engine event, or `None` for any other event.
pub fn baileys_event(event: &Event) -> Option<(&'static str, BValue)> {
    let id = |jid: &Jid| BValue::str(jid.to_string());
    let chat_update = |jid: &Jid, field: &str, value: BValue| {
        let mut update = BValue::obj([("id", id(jid))]);
        update.set(field, value);
        ("chats.update", BValue::Array(vec![update]))
    };
    let message_key = |chat: &Jid, message_id: &str, from_me: bool| {
        BValue::obj([("remoteJid", id(chat)), ("id", BValue::str(message_id)), ("fromMe", BValue::Bool(from_me))])
    };
    Some(match event {
        Event::MuteUpdate(u) => {
            let end = match (u.action.muted, u.action.mute_end_timestamp) {
                (Some(true), Some(t)) => BValue::Int(t),
                (Some(true), None) => BValue::Int(0),
                _ => BValue::Null,
            };
            chat_update(&u.jid, "muteEndTime", end)
        }
        Event::ArchiveUpdate(u) => chat_update(&u.jid, "archived", BValue::Bool(u.action.archived.unwrap_or(false))),
        Event::MarkChatAsReadUpdate(u) => {
            let read = u.action.read.unwrap_or(false);
            let unread_count = match (u.from_full_sync && read, read) {
                (true, _) => BValue::Null,
                (false, true) => BValue::Int(0),
                (false, false) => BValue::Int(-1),
            };
            chat_update(&u.jid, "unreadCount", unread_count)
        }
        Event::PinUpdate(u) => {
            let pinned = if u.action.pinned == Some(true) { BValue::Int(u.timestamp.timestamp_millis()) } else { BValue::Null };
            chat_update(&u.jid, "pinned", pinned)
        }
        Event::ContactUpdate(u) => {
            let jid = u.jid.to_string();
            let mut contact = BValue::obj([("id", BValue::str(jid.clone()))]);
            if let Some(name) = &u.action.full_name {
                contact.set("name", BValue::str(name.clone()));
            }
            if let Some(lid) = u.action.lid_jid.as_ref().filter(|l| !l.is_empty()) {
                contact.set("lid", BValue::str(lid.clone()));
            }
            if jid.ends_with("@s.whatsapp.net") {
                contact.set("jid", BValue::str(jid));
            }
            ("contacts.upsert", BValue::Array(vec![contact]))
        }
        Event::StarUpdate(u) => {
            let update = BValue::obj([
                ("key", message_key(&u.chat_jid, &u.message_id, u.from_me)),
                ("update", BValue::obj([("starred", BValue::Bool(u.action.starred.unwrap_or(false)))])),
            ]);
            ("messages.update", BValue::Array(vec![update]))
        }
        Event::DeleteMessageForMeUpdate(u) => {
            ("messages.delete", BValue::obj([("keys", BValue::Array(vec![message_key(&u.chat_jid, &u.message_id, u.from_me)]))]))
        }
        Event::DeleteChatUpdate(u) if !u.from_full_sync => ("chats.delete", BValue::Array(vec![id(&u.jid)])),
        Event::LabelEditUpdate(u) => {
            let a = &u.action;
            // An unset field reads as `null` on Baileys' protobufjs objects.
            let mut edit = BValue::obj([
                ("id", BValue::str(u.label_id.clone())),
                ("name", a.name.clone().map_or(BValue::Null, BValue::String)),
                ("color", a.color.map_or(BValue::Null, |c| BValue::Int(c.into()))),
                ("deleted", a.deleted.map_or(BValue::Null, BValue::Bool)),
            ]);
            if let Some(predefined) = a.predefined_id.filter(|p| *p != 0) {
                edit.set("predefinedId", BValue::str(predefined.to_string()));
            }
            ("labels.edit", edit)
        }
        Event::LabelAssociationUpdate(u) => {
            let kind = if u.action.labeled == Some(true) { "add" } else { "remove" };
            let association = BValue::obj([
                ("type", BValue::str("label_jid")),
                ("chatId", id(&u.chat_jid)),
                ("labelId", BValue::str(u.label_id.clone())),
            ]);
            ("labels.association", BValue::obj([("type", BValue::str(kind)), ("association", association)]))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use wacore::types::events::{ArchiveUpdate, ContactUpdate, MarkChatAsReadUpdate, MuteUpdate, PinUpdate};
    use waproto::whatsapp::sync_action_value as actions;

    fn jid() -> Jid {
        "15550001@s.whatsapp.net".parse().unwrap()
    }

    fn at() -> chrono::DateTime<chrono::Utc> {
        chrono::Utc.timestamp_millis_opt(1_765_000_000_123).unwrap()
    }

    fn update(event: Event) -> BValue {
        let (name, data) = baileys_event(&event).unwrap();
        assert_eq!(name, "chats.update");
        data.as_array().unwrap()[0].clone()
    }

    #[test]
    fn chat_actions_become_chats_update_as_in_baileys() {
        let muted = actions::MuteAction { muted: Some(true), mute_end_timestamp: Some(1_765_100_000), ..Default::default() };
        let m = MuteUpdate::builder().jid(jid()).timestamp(at()).action(Box::new(muted)).from_full_sync(false).build();
        assert_eq!(update(Event::MuteUpdate(m)).get("muteEndTime"), Some(&BValue::Int(1_765_100_000)));

        let archived = actions::ArchiveChatAction { archived: Some(true), ..Default::default() };
        let a = ArchiveUpdate::builder().jid(jid()).timestamp(at()).action(Box::new(archived)).from_full_sync(true).build();
        assert_eq!(
            update(Event::ArchiveUpdate(a)),
            BValue::obj([("id", BValue::str("15550001@s.whatsapp.net")), ("archived", BValue::Bool(true))])
        );

        let pinned = actions::PinAction { pinned: Some(true) };
        let p = PinUpdate::builder().jid(jid()).timestamp(at()).action(Box::new(pinned)).from_full_sync(false).build();
        assert_eq!(update(Event::PinUpdate(p)).get("pinned"), Some(&BValue::Int(1_765_000_000_123)));

        let read = || Box::new(actions::MarkChatAsReadAction { read: Some(true), ..Default::default() });
        let full = MarkChatAsReadUpdate::builder().jid(jid()).timestamp(at()).action(read()).from_full_sync(true).build();
        assert_eq!(update(Event::MarkChatAsReadUpdate(full)).get("unreadCount"), Some(&BValue::Null));
        let live = MarkChatAsReadUpdate::builder().jid(jid()).timestamp(at()).action(read()).from_full_sync(false).build();
        assert_eq!(update(Event::MarkChatAsReadUpdate(live)).get("unreadCount"), Some(&BValue::Int(0)));
    }

    #[test]
    fn a_contact_action_is_a_contacts_upsert() {
        let action = actions::ContactAction { full_name: Some("Bob Builder".into()), first_name: Some("Bob".into()), ..Default::default() };
        let c = ContactUpdate::builder().jid(jid()).timestamp(at()).action(Box::new(action)).from_full_sync(true).build();
        let (name, data) = baileys_event(&Event::ContactUpdate(c)).unwrap();
        assert_eq!(name, "contacts.upsert");
        let want = BValue::obj([
            ("id", BValue::str("15550001@s.whatsapp.net")),
            ("name", BValue::str("Bob Builder")),
            ("jid", BValue::str("15550001@s.whatsapp.net")),
        ]);
        assert_eq!(data, BValue::Array(vec![want]));
    }
}
