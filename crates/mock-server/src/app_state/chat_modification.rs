//! What the mock phone's user does, in Baileys' `ChatModification` shapes (plus the chat's
//! `jid`), as the mutations a real phone writes for it. Index, collection, action and
//! per-action version follow Baileys' `chatModificationToAppPatch` (which mirrors WhatsApp
//! Web), so both clients decode them as they decode a phone's:
//!
//! | action | index | collection | version |
//! |---|---|---|---|
//! | `{ pushNameSetting }` | `["setting_pushName"]` | `critical_block` | 1 |
//! | `{ jid, contact }` | `["contact", jid]` (REMOVE for `null`) | `critical_unblock_low` | 2 |
//! | `{ jid, mute }` | `["mute", jid]` | `regular_high` | 2 |
//! | `{ jid, deleteForMe }` | `["deleteMessageForMe", jid, id, fromMe, "0"]` | `regular_high` | 3 |
//! | `{ jid, clear }` | `["clearChat", jid, "1", "0"]` | `regular_high` | 6 |
//! | `{ jid, delete }` | `["deleteChat", jid, "1"]` | `regular_high` | 6 |
//! | `{ jid, archive }` | `["archive", jid]` | `regular_low` | 3 |
//! | `{ jid, pin }` | `["pin_v1", jid]` | `regular_low` | 5 |
//! | `{ jid, markRead }` | `["markChatAsRead", jid]` | `regular_low` | 3 |
//! | `{ jid, star }` | `["star", jid, id, fromMe, "0"]` per message | `regular_low` | 2 |
//! | `{ addLabel }` | `["label_edit", id]` | `regular` | 3 |
//! | `{ jid, addChatLabel \| removeChatLabel }` | `["label_jid", labelId, jid]` | `regular` | 3 |
//! | `{ jid, addMessageLabel \| removeMessageLabel }` | `["label_message", labelId, jid, messageId, "0", "0"]` | `regular` | 3 |
//!
//! `lastMessages` (archive, markRead, clear, delete) becomes the action's `messageRange`. The
//! older `{ contact: { id, fullName?, firstName? } }` / `{ contact: { id, remove: true } }` form
//! is still taken.

use serde_json::{Map, Value};
use waproto::buffa;
use waproto::whatsapp as wa;
use waproto::whatsapp::sync_action_value as sav;
use waproto::whatsapp::syncd_mutation::SyncdOperation;

use super::actions::{archive, contact, mute, pin, set, Placed};

type Obj = Map<String, Value>;

fn field<'a>(o: &'a Obj, k: &str) -> Result<&'a Value, String> {
    o.get(k).ok_or_else(|| format!("`{k}` is required"))
}

fn text(o: &Obj, k: &str) -> Result<String, String> {
    field(o, k)?.as_str().filter(|s| !s.is_empty()).map(str::to_owned).ok_or_else(|| format!("`{k}` must be a non-empty string"))
}

fn opt_text(o: &Obj, k: &str) -> Result<Option<String>, String> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_str().map(|s| Some(s.to_owned())).ok_or_else(|| format!("`{k}` must be a string")),
    }
}

fn opt_bool(o: &Obj, k: &str) -> Result<Option<bool>, String> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_bool().map(Some).ok_or_else(|| format!("`{k}` must be a boolean")),
    }
}

fn opt_i64(o: &Obj, k: &str) -> Result<Option<i64>, String> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| format!("`{k}` must be an integer")),
    }
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Obj, String> {
    v.as_object().ok_or_else(|| format!("`{what}` must be an object"))
}

fn flag(v: &Value, what: &str) -> Result<bool, String> {
    v.as_bool().ok_or_else(|| format!("`{what}` must be a boolean"))
}

/// `"1"` / `"0"`, as the index writes a message's `fromMe`.
fn from_me(key: &Obj) -> Result<&'static str, String> {
    Ok(if opt_bool(key, "fromMe")?.unwrap_or(false) { "1" } else { "0" })
}

/// Baileys' `lastMessages` (`[{ key, messageTimestamp }]`) as a `messageRange`.
fn message_range(a: &Obj) -> Result<buffa::MessageField<sav::SyncActionMessageRange>, String> {
    let Some(list) = a.get("lastMessages").filter(|v| !v.is_null()) else { return Ok(buffa::MessageField::none()) };
    let list = list.as_array().ok_or("`lastMessages` must be an array")?;
    let mut messages = Vec::new();
    for m in list {
        let m = object(m, "lastMessages[]")?;
        let key = object(field(m, "key")?, "key")?;
        let timestamp = opt_i64(m, "messageTimestamp")?.ok_or("`lastMessages[].messageTimestamp` must be an integer")?;
        let key = wa::MessageKey {
            remote_jid: Some(text(key, "remoteJid")?),
            from_me: opt_bool(key, "fromMe")?,
            id: Some(text(key, "id")?),
            participant: opt_text(key, "participant")?,
        };
        messages.push(sav::SyncActionMessage { key: buffa::MessageField::some(key), timestamp: Some(timestamp) });
    }
    let last = messages.last().and_then(|m| m.timestamp);
    Ok(buffa::MessageField::some(sav::SyncActionMessageRange { last_message_timestamp: last, messages, ..Default::default() }))
}

fn value(f: impl FnOnce(&mut wa::SyncActionValue)) -> wa::SyncActionValue {
    let mut v = wa::SyncActionValue::default();
    f(&mut v);
    v
}

fn label_association(index: &[&str], labeled: bool) -> Placed {
    let action = sav::LabelAssociationAction { labeled: Some(labeled), ..Default::default() };
    set("regular", index, 3, value(|v| v.label_association_action = buffa::MessageField::some(action)))
}

/// A full JID, or a phone number made one.
fn user_jid(id: &str) -> String {
    if id.contains('@') {
        id.to_owned()
    } else {
        format!("{}@s.whatsapp.net", id.trim_start_matches('+'))
    }
}

/// The older `{ contact: { id, fullName?, firstName? } }` / `{ contact: { id, remove: true } }`.
fn contact_by_id(c: &Obj) -> Result<Vec<Placed>, String> {
    let id = user_jid(&text(c, "id").map_err(|_| "contact.id must be a non-empty string")?);
    if opt_bool(c, "remove")? == Some(true) {
        let (name, mut m) = contact(&id, None, None);
        m.operation = SyncdOperation::REMOVE;
        return Ok(vec![(name, m)]);
    }
    Ok(vec![contact(&id, opt_text(c, "fullName")?, opt_text(c, "firstName")?)])
}

/// Baileys' `{ contact: IContactAction | null }` for chat `jid`.
fn contact_of(jid: &str, c: &Value) -> Result<Placed, String> {
    let Some(c) = c.as_object() else {
        if !c.is_null() {
            return Err("`contact` must be an object or null".into());
        }
        let (name, mut m) = contact(jid, None, None);
        m.operation = SyncdOperation::REMOVE;
        return Ok((name, m));
    };
    let (name, mut m) = contact(jid, opt_text(c, "fullName")?, opt_text(c, "firstName")?);
    if let Some(action) = m.value.contact_action.as_option_mut() {
        action.lid_jid = opt_text(c, "lidJid")?;
        action.pn_jid = opt_text(c, "pnJid")?;
        action.username = opt_text(c, "username")?;
        action.save_on_primary_addressbook = opt_bool(c, "saveOnPrimaryAddressbook")?;
    }
    Ok((name, m))
}

/// The mutations of one action (several for a star of several messages).
pub(super) fn parse_action(a: &Value) -> Result<Vec<Placed>, String> {
    let a = object(a, "an action")?;
    if let Some(name) = a.get("pushNameSetting") {
        let name = name.as_str().ok_or("`pushNameSetting` must be a string")?;
        let action = sav::PushNameSetting { name: Some(name.to_owned()) };
        return Ok(vec![set(
            "critical_block",
            &["setting_pushName"],
            1,
            value(|v| v.push_name_setting = buffa::MessageField::some(action)),
        )]);
    }
    if let Some(label) = a.get("addLabel") {
        let l = object(label, "addLabel")?;
        let action = sav::LabelEditAction {
            name: opt_text(l, "name")?,
            color: opt_i64(l, "color")?.map(|c| i32::try_from(c).map_err(|_| "`addLabel.color` is out of range")).transpose()?,
            // Baileys reports it as a string; either form is taken.
            predefined_id: match l.get("predefinedId") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) => Some(p.parse().map_err(|_| "`addLabel.predefinedId` must be a number")?),
                Some(p) => Some(p.as_i64().and_then(|p| i32::try_from(p).ok()).ok_or("`addLabel.predefinedId` must be a number")?),
            },
            deleted: opt_bool(l, "deleted")?,
            ..Default::default()
        };
        let id = text(l, "id").map_err(|_| "`addLabel.id` must be a non-empty string")?;
        return Ok(vec![set("regular", &["label_edit", &id], 3, value(|v| v.label_edit_action = buffa::MessageField::some(action)))]);
    }
    let jid = match a.get("jid") {
        Some(j) => j.as_str().filter(|s| s.contains('@')).ok_or("`jid` must be a full JID")?,
        None => match a.get("contact") {
            Some(c) => return contact_by_id(object(c, "contact")?),
            None => {
                return Err(
                    "an action needs `jid` (a full JID), or is `{ pushNameSetting }`, `{ addLabel }` or `{ contact: { id } }`".into()
                )
            }
        },
    };
    let placed = if let Some(v) = a.get("archive") {
        let (name, mut m) = archive(jid, flag(v, "archive")?);
        if let Some(action) = m.value.archive_chat_action.as_option_mut() {
            action.message_range = message_range(a)?;
        }
        (name, m)
    } else if let Some(v) = a.get("pin") {
        pin(jid, flag(v, "pin")?)
    } else if let Some(v) = a.get("markRead") {
        let action = sav::MarkChatAsReadAction { read: Some(flag(v, "markRead")?), message_range: message_range(a)? };
        set("regular_low", &["markChatAsRead", jid], 3, value(|v| v.mark_chat_as_read_action = buffa::MessageField::some(action)))
    } else if let Some(m) = a.get("mute") {
        match m {
            Value::Null => mute(jid, None),
            n => n.as_i64().map(|t| mute(jid, Some(t))).ok_or("`mute` must be a number or null")?,
        }
    } else if let Some(c) = a.get("contact") {
        contact_of(jid, c)?
    } else if let Some(star) = a.get("star") {
        let s = object(star, "star")?;
        let starred = flag(field(s, "star")?, "star.star")?;
        let list = field(s, "messages")?.as_array().filter(|l| !l.is_empty()).ok_or("`star.messages` must be a non-empty array")?;
        let mut out = Vec::new();
        for m in list {
            let m = object(m, "star.messages[]")?;
            let id = text(m, "id")?;
            let action = sav::StarAction { starred: Some(starred) };
            out.push(set(
                "regular_low",
                &["star", jid, &id, from_me(m)?, "0"],
                2,
                value(|v| v.star_action = buffa::MessageField::some(action)),
            ));
        }
        return Ok(out);
    } else if let Some(d) = a.get("deleteForMe") {
        let d = object(d, "deleteForMe")?;
        let key = object(field(d, "key")?, "deleteForMe.key")?;
        let id = text(key, "id")?;
        let action =
            sav::DeleteMessageForMeAction { delete_media: opt_bool(d, "deleteMedia")?, message_timestamp: opt_i64(d, "timestamp")? };
        let index = ["deleteMessageForMe", jid, &id, from_me(key)?, "0"];
        set("regular_high", &index, 3, value(|v| v.delete_message_for_me_action = buffa::MessageField::some(action)))
    } else if let Some(v) = a.get("clear") {
        if !flag(v, "clear")? {
            return Err("`clear` must be true".into());
        }
        let action = sav::ClearChatAction { message_range: message_range(a)? };
        set("regular_high", &["clearChat", jid, "1", "0"], 6, value(|v| v.clear_chat_action = buffa::MessageField::some(action)))
    } else if let Some(v) = a.get("delete") {
        if !flag(v, "delete")? {
            return Err("`delete` must be true".into());
        }
        let action = sav::DeleteChatAction { message_range: message_range(a)? };
        set("regular_high", &["deleteChat", jid, "1"], 6, value(|v| v.delete_chat_action = buffa::MessageField::some(action)))
    } else if let Some((kind, labeled)) = [("addChatLabel", true), ("removeChatLabel", false)].into_iter().find(|(k, _)| a.contains_key(*k))
    {
        let label = text(object(&a[kind], kind)?, "labelId")?;
        label_association(&["label_jid", &label, jid], labeled)
    } else if let Some((kind, labeled)) =
        [("addMessageLabel", true), ("removeMessageLabel", false)].into_iter().find(|(k, _)| a.contains_key(*k))
    {
        let body = object(&a[kind], kind)?;
        let (label, message) = (text(body, "labelId")?, text(body, "messageId")?);
        label_association(&["label_message", &label, jid, &message, "0", "0"], labeled)
    } else {
        return Err("unknown action: expected one of archive, pin, mute, markRead, star, deleteForMe, clear, delete, contact, \
                    pushNameSetting, addLabel, addChatLabel, removeChatLabel, addMessageLabel, removeMessageLabel"
            .into());
    };
    Ok(vec![placed])
}
