//! Baileys' `WAMessage` (`proto.IWebMessageInfo`) for messages the engine hands us.
//! The `message` field comes from `proto_to_baileys`, the one protobuf → JS-shape converter.

use wacore::types::events::InboundMessage;
use wacore::types::message::MessageInfo;

use crate::baileys_value::BValue;
use crate::proto_to_baileys::{message_to_baileys, ProtoDecodeError};

/// `messages.upsert`'s `type`: live traffic is `notify`; catch-up and own echoes `append`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertType {
    Notify,
    Append,
}

impl UpsertType {
    pub fn as_str(self) -> &'static str {
        match self {
            UpsertType::Notify => "notify",
            UpsertType::Append => "append",
        }
    }
}

/// The `WAMessage` `sendMessage` resolves to (and echoes as `messages.upsert` `append`):
/// `{ key: { remoteJid, fromMe: true, id }, message, messageTimestamp, status: PENDING }`.
pub fn outgoing_wa_message(
    to: &wacore_binary::Jid,
    id: &str,
    message: &waproto::whatsapp::Message,
    timestamp: i64,
) -> Result<BValue, ProtoDecodeError> {
    let mut key = BValue::object();
    key.set("remoteJid", BValue::String(to.to_non_ad_string()));
    key.set("fromMe", BValue::Bool(true));
    key.set("id", BValue::String(id.to_owned()));
    let mut msg = BValue::object();
    msg.set("key", key);
    msg.set("message", message_to_baileys(message)?);
    msg.set("messageTimestamp", BValue::Int(timestamp));
    // proto.WebMessageInfo.Status.PENDING
    msg.set("status", BValue::Int(1));
    Ok(msg)
}

/// Baileys' `generateWAMessageFromContent` names the sender (our own jid, with device) in
/// `participant` of a message sent to a group.
pub fn set_group_sender(sent: &mut BValue, to: &wacore_binary::Jid, own: Option<&wacore_binary::Jid>) {
    if to.server == wacore_binary::Server::Group {
        if let Some(own) = own {
            sent.set("participant", BValue::String(own.to_string()));
        }
    }
}

/// `{ key: { remoteJid, fromMe, id, participant? }, message, messageTimestamp, pushName?, broadcast }`
/// as Baileys builds it for a received stanza.
pub fn inbound_wa_message(inbound: &InboundMessage) -> Result<BValue, ProtoDecodeError> {
    let mut msg = received_envelope(&inbound.info);
    msg.set("message", message_to_baileys(&inbound.message)?);
    Ok(msg)
}

/// Baileys' `messageStubParameters` text for a stanza that carried nothing to decrypt.
pub const NO_MESSAGE_FOUND_ERROR_TEXT: &str = "Message absent from node";

/// What Baileys reports for a received message it could not decrypt: the envelope with
/// `messageStubType` CIPHERTEXT and the reason, and no `message`.
pub fn undecryptable_wa_message(info: &MessageInfo, reason: &str) -> BValue {
    let mut msg = received_envelope(info);
    // proto.WebMessageInfo.StubType.CIPHERTEXT
    msg.set("messageStubType", BValue::Int(2));
    msg.set("messageStubParameters", BValue::Array(vec![BValue::str(reason)]));
    msg
}

/// `{ key, messageTimestamp, pushName?, broadcast }` of a received stanza.
fn received_envelope(info: &MessageInfo) -> BValue {
    let source = &info.source;
    let mut key = BValue::object();
    key.set("remoteJid", BValue::String(source.chat.to_non_ad_string()));
    key.set("fromMe", BValue::Bool(source.is_from_me));
    key.set("id", BValue::String(info.id.clone()));
    if source.is_group {
        key.set("participant", BValue::String(source.sender.to_non_ad_string()));
        // Baileys adds the sender's other identity from `participant_lid` / `participant_pn`,
        // as the attribute says it (with the device, when it names one).
        if let Some(alt) = &source.sender_alt {
            let name = if alt.is_lid() { "participantLid" } else { "participantPn" };
            key.set(name, BValue::String(alt.to_string()));
        }
    }
    // A channel post carries its server id, which reactions name (`newsletterReactMessage`).
    if source.chat.server == wacore_binary::Server::Newsletter && info.server_id > 0 {
        key.set("server_id", BValue::String(info.server_id.to_string()));
    }
    let mut msg = BValue::object();
    msg.set("key", key);
    msg.set("messageTimestamp", BValue::Int(info.timestamp.timestamp()));
    if !info.push_name.is_empty() {
        msg.set("pushName", BValue::String(info.push_name.clone()));
    }
    msg.set("broadcast", BValue::Bool(source.chat.server.as_str() == "broadcast"));
    msg
}
