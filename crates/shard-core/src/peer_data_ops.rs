//! Peer data operations (PDO): requests a companion sends its own phone, and what comes back.
//! - `fetchMessageHistory(count, oldestMsgKey, oldestMsgTimestamp)`: asks the phone for up to
//!   `count` messages of a chat older than the given one; the phone answers with an `ON_DEMAND`
//!   history chunk, reported as `messaging-history.set` (history_events.rs) when the shard
//!   processes history, as Baileys does.
//! - `requestPlaceholderResend(messageKey)`: asks the phone for a message this device could not
//!   read; the phone answers with a `peerDataOperationRequestResponseMessage`, and each message
//!   in it is reported as Baileys reports it: `messages.upsert` `{ messages: [WebMessageInfo],
//!   type: 'notify', requestId }`, straight from the phone's bytes (`resent_messages`).
//!
//! The engine sends both (`Client::fetch_message_history`,
//! `Client::send_pdo_placeholder_resend_request`); this module checks the arguments and shapes
//! the answers.

use std::sync::Arc;

use wacore::types::message::{MessageInfo, MessageSource};
use wacore_binary::{Jid, JidExt};

use crate::baileys_value::BValue;
use crate::content::parse_jid;
use crate::error::{ErrorCode, Result, ShardError};
use crate::proto_to_baileys;
use crate::shard::Shard;

/// `proto.Message.ProtocolMessage.Type.PEER_DATA_OPERATION_REQUEST_RESPONSE_MESSAGE`.
const PDO_RESPONSE: i64 = 17;

/// A Baileys `WAMessageKey` as the bot gave it.
#[derive(Clone, Debug, Default)]
pub struct MessageKeyArg {
    pub remote_jid: Option<String>,
    pub from_me: Option<bool>,
    pub id: Option<String>,
    pub participant: Option<String>,
}

/// A checked key: (chat, fromMe, id, participant).
struct Key {
    chat: Jid,
    from_me: bool,
    id: String,
    participant: Option<Jid>,
}

fn invalid(what: &str, why: String) -> ShardError {
    ShardError::new(ErrorCode::InvalidArgument, format!("{what}: {why}"))
}

fn check_key(what: &str, name: &str, key: &MessageKeyArg) -> Result<Key> {
    let remote = key.remote_jid.as_deref().ok_or_else(|| invalid(what, format!("{name}.remoteJid must be a jid string")))?;
    let chat = parse_jid(remote).map_err(|e| invalid(what, format!("{name}.remoteJid: {}", e.message)))?;
    let id = key.id.clone().filter(|id| !id.is_empty()).ok_or_else(|| invalid(what, format!("{name}.id must be a non-empty string")))?;
    let participant = match key.participant.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(parse_jid(p).map_err(|e| invalid(what, format!("{name}.participant: {}", e.message)))?),
        None => None,
    };
    Ok(Key { chat, from_me: key.from_me.unwrap_or(false), id, participant })
}

/// `count` as the request carries it (`onDemandMsgCount`, an int32): a whole number ≥ 1.
fn check_count(count: f64) -> Result<i32> {
    if count.fract() == 0.0 && (1.0..=f64::from(i32::MAX)).contains(&count) {
        Ok(count as i32)
    } else {
        Err(invalid("fetchMessageHistory", format!("count must be a whole number of messages (at least 1), got {count}")))
    }
}

/// `oldestMsgTimestamp` as the request carries it (`oldestMsgTimestampMs`, an int64), passed on
/// as given, like Baileys.
fn check_timestamp(timestamp: f64) -> Result<i64> {
    if timestamp.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&timestamp) {
        Ok(timestamp as i64)
    } else {
        Err(invalid("fetchMessageHistory", format!("oldestMsgTimestamp must be a whole, non-negative number, got {timestamp}")))
    }
}

impl Shard {
    /// `fetchMessageHistory(count, oldestMsgKey, oldestMsgTimestamp)` → the request's message
    /// id (the answer's `peerDataRequestSessionId`, from a phone that sets it).
    pub async fn fetch_message_history(&self, count: f64, oldest: &MessageKeyArg, oldest_timestamp: f64) -> Result<String> {
        const WHAT: &str = "fetchMessageHistory";
        let checked =
            (|| Ok::<_, ShardError>((check_count(count)?, check_key(WHAT, "oldestMsgKey", oldest)?, check_timestamp(oldest_timestamp)?)))();
        let (count, key, timestamp) = checked.map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        client
            .fetch_message_history(&key.chat, &key.id, key.from_me, timestamp, count)
            .await
            .map_err(|e| self.send_failure(&client, WHAT, &e))
    }

    /// `requestPlaceholderResend(messageKey)`: sends the request (once per message: asking
    /// again while the phone has not answered, or after it has, sends nothing).
    pub async fn request_placeholder_resend(&self, key: &MessageKeyArg) -> Result<()> {
        const WHAT: &str = "requestPlaceholderResend";
        let key = check_key(WHAT, "messageKey", key).map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        let own = client.persistence_manager().get_device_snapshot().pn.clone().map(|j| j.to_non_ad());
        let is_group = key.chat.is_group();
        let sender = match (&key.participant, key.from_me, own) {
            (_, true, Some(own)) => own,
            (Some(p), _, _) => p.clone(),
            _ => key.chat.clone(),
        };
        let info = MessageInfo {
            id: key.id,
            source: MessageSource { chat: key.chat, sender, is_from_me: key.from_me, is_group, ..Default::default() },
            timestamp: wacore::time::now_utc(),
            ..Default::default()
        };
        client.send_pdo_placeholder_resend_request(&Arc::new(info)).await.map_err(|e| self.send_failure(&client, WHAT, &e))
    }

    fn send_failure(&self, client: &whatsapp_rust::Client, what: &str, e: &anyhow::Error) -> ShardError {
        let code = if client.is_connected() { ErrorCode::InvalidArgument } else { ErrorCode::NotConnected };
        ShardError::new(code, format!("{what} failed on shard {}: {e}", self.id())).for_shard(self.id())
    }
}

/// What Baileys' `processMessage` reports for the phone's answer to placeholder resend
/// requests (a `protocolMessage` `PEER_DATA_OPERATION_REQUEST_RESPONSE_MESSAGE`; the engine
/// takes them only from this account's phone): one `messages.upsert` per message it carries, `{ messages: [WebMessageInfo],
/// type: 'notify', requestId }`. Nothing for any other message, nor for an answer without
/// messages (the phone did not know them).
pub fn resent_messages(message: &BValue) -> Vec<(&'static str, BValue)> {
    let Some(protocol) = message.get("message").and_then(|m| m.get("protocolMessage")) else { return Vec::new() };
    let is_response = matches!(protocol.get("type"), Some(BValue::Int(PDO_RESPONSE)) | Some(BValue::Uint(17)));
    let Some(response) = protocol.get("peerDataOperationRequestResponseMessage").filter(|_| is_response) else {
        return Vec::new();
    };
    let request_id = response.get("stanzaId").cloned().unwrap_or(BValue::Null);
    let Some(BValue::Array(results)) = response.get("peerDataOperationResult") else { return Vec::new() };
    results
        .iter()
        .filter_map(|r| match r.get("placeholderMessageResendResponse")?.get("webMessageInfoBytes")? {
            BValue::Bytes(bytes) => match proto_to_baileys::decode("whatsapp.WebMessageInfo", bytes) {
                Ok(info) => Some(info),
                Err(e) => {
                    log::warn!("the phone resent a message that does not decode: {e}");
                    None
                }
            },
            _ => None,
        })
        .map(|info| {
            let upsert =
                BValue::obj([("messages", BValue::Array(vec![info])), ("type", BValue::str("notify")), ("requestId", request_id.clone())]);
            ("messages.upsert", upsert)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(jid: &str, id: &str) -> MessageKeyArg {
        MessageKeyArg { remote_jid: Some(jid.into()), from_me: Some(false), id: Some(id.into()), participant: None }
    }

    #[test]
    fn arguments_are_checked() {
        assert_eq!(check_count(50.0).unwrap(), 50);
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY, 3e9] {
            assert_eq!(check_count(bad).unwrap_err().code, ErrorCode::InvalidArgument, "{bad}");
        }
        assert_eq!(check_timestamp(1_700_000_000_000.0).unwrap(), 1_700_000_000_000);
        assert!(check_timestamp(-1.0).is_err() && check_timestamp(0.5).is_err());
        assert!(check_key("x", "k", &key("1555@s.whatsapp.net", "ABC")).is_ok());
        assert!(check_key("x", "k", &key("not a jid", "ABC")).is_err());
        assert!(check_key("x", "k", &key("1555@s.whatsapp.net", "")).is_err());
        assert!(check_key("x", "k", &MessageKeyArg::default()).is_err());
    }

    fn pdo_answer(from_me: bool, bytes: Option<Vec<u8>>) -> BValue {
        let results = bytes
            .map(|b| vec![BValue::obj([("placeholderMessageResendResponse", BValue::obj([("webMessageInfoBytes", BValue::Bytes(b))]))])])
            .unwrap_or_default();
        BValue::obj([
            ("key", BValue::obj([("remoteJid", BValue::str("1555@s.whatsapp.net")), ("fromMe", BValue::Bool(from_me))])),
            (
                "message",
                BValue::obj([(
                    "protocolMessage",
                    BValue::obj([
                        ("type", BValue::Int(PDO_RESPONSE)),
                        (
                            "peerDataOperationRequestResponseMessage",
                            BValue::obj([("stanzaId", BValue::str("REQ1")), ("peerDataOperationResult", BValue::Array(results))]),
                        ),
                    ]),
                )]),
            ),
        ])
    }

    #[test]
    fn each_resent_message_is_upserted_with_the_request_id() {
        use waproto::buffa::{self, Message as _};
        use waproto::whatsapp as wa;
        let info = wa::WebMessageInfo {
            key: buffa::MessageField::some(wa::MessageKey {
                remote_jid: Some("1666@s.whatsapp.net".into()),
                from_me: Some(false),
                id: Some("M1".into()),
                participant: None,
            }),
            message: buffa::MessageField::some(wa::Message { conversation: Some("hi".into()), ..Default::default() }),
            message_timestamp: Some(1_700_000_000),
            ..Default::default()
        };
        let events = resent_messages(&pdo_answer(true, Some(info.encode_to_vec())));
        assert_eq!(events.len(), 1);
        let (name, data) = &events[0];
        assert_eq!(*name, "messages.upsert");
        assert_eq!(data.get("requestId").and_then(BValue::as_str), Some("REQ1"));
        assert_eq!(data.get("type").and_then(BValue::as_str), Some("notify"));
        let Some(BValue::Array(messages)) = data.get("messages") else { panic!("no messages") };
        assert_eq!(messages[0].get("key").and_then(|k| k.get("id")).and_then(BValue::as_str), Some("M1"));
        assert_eq!(messages[0].get("message").and_then(|m| m.get("conversation")).and_then(BValue::as_str), Some("hi"));
        // No messages: nothing.
        assert!(resent_messages(&pdo_answer(true, None)).is_empty());
    }
}
