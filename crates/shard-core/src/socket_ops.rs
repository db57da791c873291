//! Baileys socket calls beyond `sendMessage`: `readMessages`, `sendPresenceUpdate`,
//! `presenceSubscribe` and `onWhatsApp`, with Baileys 6.7.21's argument and result shapes.
//!
//! Input is checked before the connection, so a malformed argument is `INVALID_ARGUMENT` even on
//! a stopped shard; a shard that is not connected gives `NOT_CONNECTED`. Nothing here changes the
//! shard's state: a failed call leaves it usable.

use std::str::FromStr;

use wacore_binary::Jid;
use whatsapp_rust::features::{ChatStateType, ContactError, PresenceError, PresenceStatus};
use whatsapp_rust::IqError;

use crate::content::parse_jid;
use crate::error::{ErrorCode, Result, ShardError};
use crate::shard::Shard;

/// One `WAMessageKey` passed to `readMessages`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadKey {
    pub remote_jid: String,
    pub id: String,
    /// The sender, for group (and broadcast) messages.
    pub participant: Option<String>,
    /// Keys of our own messages are skipped, as Baileys does.
    pub from_me: bool,
}

/// `sendPresenceUpdate`'s first argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceType {
    Available,
    Unavailable,
    Composing,
    Recording,
    Paused,
}

impl PresenceType {
    pub const ALL: [&'static str; 5] = ["available", "unavailable", "composing", "recording", "paused"];

    /// A chat state (`composing`, `recording`, `paused`) goes to one chat; the others are the
    /// account's presence.
    pub fn is_chatstate(self) -> bool {
        matches!(self, PresenceType::Composing | PresenceType::Recording | PresenceType::Paused)
    }
}

impl FromStr for PresenceType {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "available" => PresenceType::Available,
            "unavailable" => PresenceType::Unavailable,
            "composing" => PresenceType::Composing,
            "recording" => PresenceType::Recording,
            "paused" => PresenceType::Paused,
            other => {
                return Err(invalid(format!(
                    "unknown presence type {other:?}: expected one of {}",
                    PresenceType::ALL.map(|t| format!("'{t}'")).join(", ")
                )))
            }
        })
    }
}

/// One entry of `onWhatsApp`'s result: `{ jid, exists, lid }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnWhatsAppEntry {
    pub jid: String,
    pub exists: bool,
    pub lid: Option<String>,
}

fn invalid(message: impl Into<String>) -> ShardError {
    ShardError::new(ErrorCode::InvalidArgument, message)
}

/// `parse_jid`, with the argument's name in the message.
pub(crate) fn jid_arg(what: &str, jid: &str) -> Result<Jid> {
    parse_jid(jid).map_err(|e| invalid(format!("{what}: {}", e.message)))
}

/// The phone number Baileys' `onWhatsApp` queries for one argument: `+62 812...`,
/// `62812...@s.whatsapp.net` and `62812...:3@s.whatsapp.net` all name `62812...`.
pub fn on_whatsapp_number(input: &str) -> Result<String> {
    let (user, server) = input.split_once('@').unwrap_or((input, ""));
    if !matches!(server, "" | "s.whatsapp.net" | "c.us") {
        return Err(invalid(format!("onWhatsApp: {input:?} is not a phone number or a phone-number jid (\"<digits>@s.whatsapp.net\")")));
    }
    let user = user.split(':').next().unwrap_or_default();
    let digits = user.strip_prefix('+').unwrap_or(user);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!(
            "onWhatsApp: {input:?} is not a phone number: expected digits with an optional '+', e.g. \"+6281234567890\""
        )));
    }
    Ok(digits.to_owned())
}

/// One receipt's chat, participant and message ids.
pub(crate) type ReceiptGroup<'a> = (Jid, Option<Jid>, Vec<&'a str>);

/// Keys not from us, grouped as Baileys' `aggregateMessageKeysNotFromMe` does: one receipt per
/// (chat, participant), ids in the order given.
pub(crate) fn aggregate_keys(keys: &[ReadKey]) -> Result<Vec<ReceiptGroup<'_>>> {
    // Keyed by the jids as given, so two spellings of one chat stay apart as in Baileys.
    let mut groups: Vec<((&str, Option<&str>), ReceiptGroup<'_>)> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let chat = jid_arg(&format!("keys[{i}].remoteJid"), &key.remote_jid)?;
        let participant = key.participant.as_deref().map(|p| jid_arg(&format!("keys[{i}].participant"), p)).transpose()?;
        if key.id.is_empty() {
            return Err(invalid(format!("keys[{i}].id must be a non-empty message id")));
        }
        if key.from_me {
            continue;
        }
        let given = (key.remote_jid.as_str(), key.participant.as_deref());
        match groups.iter_mut().find(|(k, _)| *k == given) {
            Some((_, group)) => group.2.push(&key.id),
            None => groups.push((given, (chat, participant, vec![&key.id]))),
        }
    }
    Ok(groups.into_iter().map(|(_, group)| group).collect())
}

impl Shard {
    fn op_failed(&self, what: &str, code: ErrorCode, e: impl std::fmt::Display) -> ShardError {
        ShardError::new(code, format!("{what} failed on shard {}: {e}", self.id())).for_shard(self.id())
    }

    /// Baileys' `sock.readMessages(keys)`: read receipts for messages we received. Keys of our
    /// own messages are skipped; group keys name the sender in `participant`.
    pub async fn read_messages(&self, keys: &[ReadKey]) -> Result<()> {
        self.send_receipts("readMessages", keys, Some("read")).await
    }

    /// Baileys' `sock.sendPresenceUpdate(type, jid?)`: `available` / `unavailable` set the
    /// account's presence; `composing` / `recording` / `paused` are chat states sent to `jid`.
    pub async fn send_presence_update(&self, kind: PresenceType, jid: Option<&str>) -> Result<()> {
        let to = if kind.is_chatstate() {
            let Some(jid) = jid else {
                return Err(invalid("sendPresenceUpdate: composing, recording and paused need the chat's jid as second argument")
                    .for_shard(self.id()));
            };
            Some(jid_arg("sendPresenceUpdate jid", jid).map_err(|e| e.for_shard(self.id()))?)
        } else {
            None
        };
        let client = self.connected_client()?;
        let state = match kind {
            PresenceType::Available | PresenceType::Unavailable => {
                let status = if kind == PresenceType::Available { PresenceStatus::Available } else { PresenceStatus::Unavailable };
                return match client.presence().set(status).await {
                    Ok(()) => Ok(()),
                    // Baileys logs "no name present, ignoring presence update request" and resolves.
                    Err(PresenceError::PushNameEmpty) => {
                        log::warn!("shard {}: no push name, presence update ignored", self.id());
                        Ok(())
                    }
                    Err(e) => Err(self.op_failed("sendPresenceUpdate", ErrorCode::NotConnected, e)),
                };
            }
            PresenceType::Composing => ChatStateType::Composing,
            PresenceType::Recording => ChatStateType::Recording,
            PresenceType::Paused => ChatStateType::Paused,
        };
        let to = to.expect("chat states have a jid");
        client.chatstate().send(&to, state).await.map_err(|e| self.op_failed("sendPresenceUpdate", ErrorCode::NotConnected, e))
    }

    /// Baileys' `sock.presenceSubscribe(jid)`: the contact's presence then arrives as
    /// `presence.update`.
    pub async fn presence_subscribe(&self, jid: &str) -> Result<()> {
        let jid = jid_arg("presenceSubscribe jid", jid).map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        client.presence().subscribe(jid).await.map_err(|e| self.op_failed("presenceSubscribe", ErrorCode::NotConnected, e))
    }

    /// Baileys' `sock.onWhatsApp(...numbers)`: `[{ jid, exists: true, lid }]` for the numbers
    /// that are on WhatsApp; numbers that are not are left out, as Baileys 6.7.21 does.
    pub async fn on_whatsapp(&self, numbers: &[String]) -> Result<Vec<OnWhatsAppEntry>> {
        let jids =
            numbers.iter().map(|n| on_whatsapp_number(n).map(Jid::pn)).collect::<Result<Vec<_>>>().map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        if jids.is_empty() {
            return Ok(Vec::new());
        }
        let results = client.contacts().is_on_whatsapp(&jids).await.map_err(|e| {
            let code = match &e {
                ContactError::InvalidJid(_) | ContactError::Iq(IqError::ServerError { .. }) => ErrorCode::InvalidArgument,
                _ => ErrorCode::NotConnected,
            };
            self.op_failed("onWhatsApp", code, e)
        })?;
        Ok(results
            .into_iter()
            .filter(|r| r.is_registered)
            .map(|r| OnWhatsAppEntry { jid: r.jid.to_string(), exists: true, lid: r.lid.map(|l| l.to_string()) })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(jid: &str, id: &str, participant: Option<&str>, from_me: bool) -> ReadKey {
        ReadKey { remote_jid: jid.into(), id: id.into(), participant: participant.map(Into::into), from_me }
    }

    #[test]
    fn presence_types_parse_and_unknown_ones_are_named() {
        assert_eq!("recording".parse::<PresenceType>().unwrap(), PresenceType::Recording);
        assert!(!"available".parse::<PresenceType>().unwrap().is_chatstate());
        let err = "typing".parse::<PresenceType>().unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("\"typing\"") && err.message.contains("'composing'"), "{}", err.message);
    }

    #[test]
    fn on_whatsapp_numbers_as_baileys_reads_them() {
        assert_eq!(on_whatsapp_number("+6281234").unwrap(), "6281234");
        assert_eq!(on_whatsapp_number("6281234@s.whatsapp.net").unwrap(), "6281234");
        assert_eq!(on_whatsapp_number("6281234:3@s.whatsapp.net").unwrap(), "6281234");
        for bad in ["", "+", "abc", "12-34@g.us", "123@lid", "12 34"] {
            assert_eq!(on_whatsapp_number(bad).unwrap_err().code, ErrorCode::InvalidArgument, "{bad:?}");
        }
    }

    #[test]
    fn keys_are_grouped_per_chat_and_participant_without_own_messages() {
        let keys = [
            key("1@s.whatsapp.net", "a", None, false),
            key("1@s.whatsapp.net", "mine", None, true),
            key("9-9@g.us", "b", Some("2@s.whatsapp.net"), false),
            key("1@s.whatsapp.net", "c", None, false),
            key("9-9@g.us", "d", Some("3@s.whatsapp.net"), false),
        ];
        let groups = aggregate_keys(&keys).unwrap();
        let shape: Vec<(String, Option<String>, Vec<&str>)> =
            groups.into_iter().map(|(c, p, ids)| (c.to_string(), p.map(|p| p.to_string()), ids)).collect();
        assert_eq!(
            shape,
            vec![
                ("1@s.whatsapp.net".into(), None, vec!["a", "c"]),
                ("9-9@g.us".into(), Some("2@s.whatsapp.net".into()), vec!["b"]),
                ("9-9@g.us".into(), Some("3@s.whatsapp.net".into()), vec!["d"]),
            ]
        );
    }

    #[test]
    fn malformed_keys_are_refused_with_their_index() {
        let err = aggregate_keys(&[key("1@s.whatsapp.net", "a", None, false), key("nope", "b", None, false)]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.starts_with("keys[1].remoteJid"), "{}", err.message);
        let err = aggregate_keys(&[key("1@s.whatsapp.net", "", None, false)]).unwrap_err();
        assert!(err.message.contains("keys[0].id"), "{}", err.message);
    }
}
