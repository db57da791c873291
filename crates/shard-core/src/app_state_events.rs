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
//! so ours have none. Keys whose value Baileys leaves `undefined` are left out; a field it copies
//! from the action as is (`name`, `color`, `deleted`) is `null` when the action lacks it, as
//! protobufjs decodes an absent proto2 field.
//!
//! The engine reports no event for a REMOVE mutation nor for a message label (`label_message`),
//! so a contact's removal (Baileys: `contacts.upsert [{ id, name: null, jid }]`) and
//! `labels.association` of type `label_message` are not emitted (README, known differences).

use std::str::FromStr as _;
use std::sync::Arc;

use wacore::appstate::patch_decode::WAPatchName;
use wacore::types::events::{AppStateSyncFailed, Event};
use wacore_binary::Jid;
use whatsapp_rust::sync_task::MajorSyncTask;
use whatsapp_rust::Client;

use crate::baileys_value::BValue;
use crate::engine_scope::EngineLog;
use crate::error::{ErrorCode, ShardError};

/// How the engine's log names a failed app-state sync (`Failed <context>: <error>`, written by
/// `Client::log_sync_error`): a patch whose MAC does not verify, an answer it cannot parse, ...
const FAILED_SYNCS: [&str; 4] =
    ["Failed app state sync", "Failed critical app state sync", "Failed app state retry", "Failed app state task retry"];

/// What the engine only logs about app state the server sent that it could not use: an error
/// for the shard, or `None` for any other record. The engine keeps the session and syncs again
/// later (a failed patch is not applied; a diverged LTHash is applied and no longer compared).
pub fn engine_failure(log: &EngineLog) -> Option<ShardError> {
    let failed_sync = log.target.starts_with("whatsapp_rust") && FAILED_SYNCS.iter().any(|p| log.message.starts_with(p));
    let diverged = log.target == "AppState" && log.message.contains("ltHash diverged");
    if !failed_sync && !diverged {
        return None;
    }
    Some(ShardError::new(
        ErrorCode::AppStateFailed,
        format!("app state from the server could not be used; the shard stays connected and syncs it again later ({})", log.message),
    ))
}

/// The engine's report of a sync that left collections unsynced, as an error for the shard:
/// collections the server refused, or ones left to a later sync once the shard is connected.
/// `None` when another sync only held them (`skipped`: [`resync_skipped`] syncs them again) or
/// while the first sync after connecting is still being retried (the engine reconnects for it).
pub fn sync_failed(failed: &AppStateSyncFailed) -> Option<ShardError> {
    if failed.fatal.is_empty() && (failed.retryable.is_empty() || !failed.connected) {
        return None;
    }
    let mut parts = Vec::new();
    if !failed.fatal.is_empty() {
        parts.push(format!("refused by the server: {}", failed.fatal.join(", ")));
    }
    if !failed.retryable.is_empty() {
        parts.push(format!("to be synced again: {}", failed.retryable.join(", ")));
    }
    Some(ShardError::new(ErrorCode::AppStateFailed, format!("app state collections did not sync ({})", parts.join("; "))))
}

/// A proto2 string field as Baileys reads it: protobufjs gives an absent one as `null`.
fn opt_str(field: &Option<String>) -> BValue {
    field.as_ref().map_or(BValue::Null, |s| BValue::str(s.clone()))
}

/// whatsapp-rust 0.7.0 skips a `server_sync` that arrives while a sync of the same collection
/// is in flight ("an equivalent sync holds it"), but that sync may have asked before the change
/// was written: the change would then wait for the next one (Baileys syncs on every
/// notification). So a skipped collection is synced once more, after the holder is done.
pub fn resync_skipped(failed: &AppStateSyncFailed, client: &Arc<Client>) {
    let names: Vec<WAPatchName> =
        failed.skipped.iter().filter_map(|n| WAPatchName::from_str(n).ok()).filter(|n| *n != WAPatchName::Unknown).collect();
    if names.is_empty() {
        return;
    }
    let client = client.clone();
    let task = async move {
        for name in names {
            client.process_sync_task(MajorSyncTask::AppStateSync { name, full_sync: false }).await;
        }
    };
    // In the shard's scope, so what the engine logs during it reaches the shard.
    match crate::engine_scope::current() {
        Some(scope) => drop(tokio::spawn(crate::engine_scope::in_scope(scope, task))),
        None => drop(tokio::spawn(task)),
    }
}

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
        Event::ArchiveUpdate(u) => chat_update(&u.jid, "archived", u.action.archived.map_or(BValue::Null, BValue::Bool)),
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
            let mut contact = BValue::obj([("id", BValue::str(jid.clone())), ("name", opt_str(&u.action.full_name))]);
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
            let mut edit = BValue::obj([
                ("id", BValue::str(u.label_id.clone())),
                ("name", opt_str(&a.name)),
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
    fn app_state_the_engine_could_not_use_is_an_app_state_failed_error() {
        let log = |target: &str, message: &str| EngineLog { level: log::Level::Warn, target: target.into(), message: message.into() };
        let bad_mac =
            engine_failure(&log("whatsapp_rust::client::accessors", "Failed app state sync from server_sync: mismatching content MAC"));
        assert_eq!(bad_mac.map(|e| e.code), Some(ErrorCode::AppStateFailed));
        let diverged = engine_failure(&log("AppState", "Collection regular_low ltHash diverged at v3: the patch is authentic"));
        assert_eq!(diverged.map(|e| e.code), Some(ErrorCode::AppStateFailed));
        assert!(engine_failure(&log("whatsapp_rust::client::accessors", "Failed sync own device list: timeout")).is_none());
        assert!(engine_failure(&log("Client/AppState", "Batched sync: response omitted collection RegularLow")).is_none());

        let failed = |fatal: &[&str], retryable: &[&str], skipped: &[&str]| {
            let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            AppStateSyncFailed::builder().fatal(names(fatal)).retryable(names(retryable)).skipped(names(skipped)).connected(true).build()
        };
        let err = sync_failed(&failed(&["regular"], &["regular_low"], &[])).unwrap();
        assert_eq!(err.code, ErrorCode::AppStateFailed);
        assert!(
            err.message.contains("refused by the server: regular") && err.message.contains("synced again: regular_low"),
            "{}",
            err.message
        );
        assert!(sync_failed(&failed(&[], &[], &["regular_high"])).is_none(), "held by another writer");
        let mut bootstrap = failed(&[], &["critical_block"], &[]);
        bootstrap.connected = false;
        assert!(sync_failed(&bootstrap).is_none(), "the first sync is retried before the shard connects");
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
