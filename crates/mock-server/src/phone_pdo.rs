//! The mock phone answering its companions' peer data operation (PDO) requests, as a real
//! primary phone does. A companion sends its own phone (device 0) a peer `protocolMessage` of
//! type `PEER_DATA_OPERATION_REQUEST_MESSAGE`; the relay hands whatever the account's companions
//! address to device 0 here, the phone decrypts it (phone_signal.rs) and answers:
//! - `HISTORY_SYNC_ON_DEMAND` (Baileys' `fetchMessageHistory`): an `ON_DEMAND` history chunk with
//!   up to `onDemandMsgCount` seeded messages of the chat older than the one named, delivered
//!   like every history chunk (blob on the CDN + `historySyncNotification`, history_sync.rs),
//!   its `peerDataRequestSessionId` the request's message id;
//! - `PLACEHOLDER_MESSAGE_RESEND` (Baileys' `requestPlaceholderResend`): a
//!   `peerDataOperationRequestResponseMessage` (`stanzaId` = the request's id) with one
//!   `placeholderMessageResendResponse` holding the `WebMessageInfo` bytes of each requested
//!   message the phone knows (the account's seed); a message it does not know gets no result.
//!
//! The phone decrypts every message its companions send it (a client also fans its ordinary
//! messages out to its own phone), so its sessions follow theirs; only PDO requests get answers.

use std::sync::Mutex;

use wacore_binary::{Node, NodeContent};
use waproto::buffa::{self, Message as _};
use waproto::whatsapp as wa;

use crate::account_seed::SeedBook;
use crate::accounts::Directory;
use crate::history_sync::{self, BlobFault, OldestMessage};
use crate::jid::{split_jid, DeviceAddr};
use crate::locking::lock;
use crate::media::MediaStore;
use crate::phone_signal;
use crate::router::Router;
use crate::stanza::attr;

type RequestType = wa::message::PeerDataOperationRequestType;

/// What the phone needs of the server's state to answer.
pub trait PhonePdoState {
    fn directory(&self) -> &Mutex<Directory>;
    fn router(&self) -> &Mutex<Router>;
    fn seeds(&self) -> &Mutex<SeedBook>;
    fn media(&self) -> &MediaStore;
}

/// `<enc>` from the companion `me` to its own phone, in message `message_id`; `is_lid`: the
/// companion addressed the phone by LID (the answer comes from the phone's LID then, so the
/// companion finds the session it used).
pub fn from_companion(state: &impl PhonePdoState, me: &DeviceAddr, is_lid: bool, message_id: &str, enc: &Node) {
    let Some(plain) = decrypt(state, me, enc) else { return };
    let message = match wa::Message::decode_from_slice(&plain) {
        Ok(m) => m,
        Err(e) => {
            log::warn!("{}:{}: mock phone got a message it cannot decode: {e}", me.phone, me.device);
            return;
        }
    };
    // What a client sends its own devices comes wrapped in a `deviceSentMessage` (Baileys).
    let message = match message.device_sent_message.as_option().and_then(|d| d.message.as_option()) {
        Some(inner) => inner.clone(),
        None => message,
    };
    let Some(request) = message.protocol_message.as_option().and_then(|p| p.peer_data_operation_request_message.as_option()) else {
        log::debug!("{}:{}: mock phone got message {message_id}, no peer data operation request", me.phone, me.device);
        return;
    };
    let answer = match answer(state, &me.phone, message_id, request) {
        Ok(Some(a)) => a,
        Ok(None) => return,
        Err(e) => {
            log::warn!("{}:{}: mock phone could not answer request {message_id}: {e}", me.phone, me.device);
            return;
        }
    };
    send(state, me, is_lid, &answer);
}

fn decrypt(state: &impl PhonePdoState, me: &DeviceAddr, enc: &Node) -> Option<Vec<u8>> {
    let enc_type = attr(enc, "type").unwrap_or_default();
    let Some(NodeContent::Bytes(ciphertext)) = &enc.content else { return None };
    let mut dir = lock(state.directory());
    let acc = dir.account_mut(&me.phone)?;
    let (identity, registration_id) = (acc.signing_key.clone(), acc.phone_registration_id);
    let spk = acc.phone_signed_pre_key_pair.clone();
    let signature = acc.phone_signed_pre_key.signature.clone().unwrap_or_default();
    let result = phone_signal::decrypt_from_companion(
        &mut acc.phone_sessions,
        &identity,
        registration_id,
        (&spk, &signature),
        (&me.phone, me.device),
        &enc_type,
        ciphertext,
    );
    match result {
        Ok(plain) => Some(plain),
        Err(e) => {
            log::warn!("{}:{}: mock phone could not decrypt what the device sent it: {e}", me.phone, me.device);
            None
        }
    }
}

/// The phone's answer to one request, or `None` for a request type it does not serve.
fn answer(
    state: &impl PhonePdoState,
    phone: &str,
    message_id: &str,
    request: &wa::message::PeerDataOperationRequestMessage,
) -> Result<Option<wa::Message>, String> {
    let seed = lock(state.seeds()).get(phone);
    match request.peer_data_operation_request_type {
        Some(RequestType::HISTORY_SYNC_ON_DEMAND) => {
            let Some(req) = request.history_sync_on_demand_request.as_option() else {
                return Err("HISTORY_SYNC_ON_DEMAND without historySyncOnDemandRequest".into());
            };
            let chat = pn_chat(state, req.chat_jid.as_deref().unwrap_or_default());
            let oldest = OldestMessage {
                id: req.oldest_msg_id.clone().unwrap_or_default(),
                timestamp_ms: req.oldest_msg_timestamp_ms.map_or(0, |t| t.max(0) as u64),
            };
            let count = req.on_demand_msg_count.map_or(0, |c| c.max(0) as usize);
            let chunk = history_sync::on_demand_chunk(seed.as_deref(), &chat, &oldest, count);
            let sent = chunk.conversations.first().map_or(0, |c| c.messages.len());
            log::info!("{phone}: mock phone answers on-demand history request {message_id} for {chat} with {sent} message(s)");
            let kind = wa::message::HistorySyncType::ON_DEMAND;
            history_sync::announce(&chunk, kind, Some(message_id.to_owned()), state.media(), BlobFault::None).map(Some)
        }
        Some(RequestType::PLACEHOLDER_MESSAGE_RESEND) => {
            use wa::message::peer_data_operation_request_response_message::peer_data_operation_result::PlaceholderMessageResendResponse;
            use wa::message::peer_data_operation_request_response_message::PeerDataOperationResult;
            let mut results = Vec::new();
            for key in request.placeholder_message_resend_request.iter().filter_map(|r| r.message_key.as_option()) {
                let chat = pn_chat(state, key.remote_jid.as_deref().unwrap_or_default());
                let id = key.id.as_deref().unwrap_or_default();
                let found = seed
                    .as_deref()
                    .and_then(|s| s.chats.iter().find(|c| c.id == chat))
                    .and_then(|c| c.messages.iter().find(|m| m.id == id).map(|m| history_sync::web_message_info(&c.id, m)));
                match found {
                    Some(info) => results.push(PeerDataOperationResult {
                        placeholder_message_resend_response: buffa::MessageField::some(PlaceholderMessageResendResponse {
                            web_message_info_bytes: Some(info.encode_to_vec()),
                        }),
                        ..Default::default()
                    }),
                    None => log::info!("{phone}: mock phone does not know message {id} in {chat}; no result for it"),
                }
            }
            let response = wa::message::PeerDataOperationRequestResponseMessage {
                peer_data_operation_request_type: Some(RequestType::PLACEHOLDER_MESSAGE_RESEND),
                stanza_id: Some(message_id.to_owned()),
                peer_data_operation_result: results,
            };
            Ok(Some(wa::Message {
                protocol_message: buffa::MessageField::some(wa::message::ProtocolMessage {
                    r#type: Some(wa::message::protocol_message::Type::PEER_DATA_OPERATION_REQUEST_RESPONSE_MESSAGE),
                    peer_data_operation_request_response_message: buffa::MessageField::some(response),
                    ..Default::default()
                }),
                ..Default::default()
            }))
        }
        other => {
            log::debug!("{phone}: mock phone does not serve peer data operation {other:?}");
            Ok(None)
        }
    }
}

/// The chat as the seed names it: a LID of a known account becomes its phone-number JID (a
/// client that knows a contact's LID addresses the chat by it; the seed is by phone number).
fn pn_chat(state: &impl PhonePdoState, chat: &str) -> String {
    match split_jid(chat) {
        Some((user, _, true)) => {
            lock(state.directory()).phone_for_lid(&user).map_or_else(|| chat.to_owned(), |p| format!("{p}@s.whatsapp.net"))
        }
        _ => chat.to_owned(),
    }
}

fn send(state: &impl PhonePdoState, me: &DeviceAddr, is_lid: bool, message: &wa::Message) {
    let node = {
        let mut dir = lock(state.directory());
        let Some(acc) = dir.account_mut(&me.phone) else { return };
        let (identity, registration_id) = (acc.signing_key.clone(), acc.phone_registration_id);
        let from = acc.device_jid(0, is_lid);
        let sealed = phone_signal::encrypt_in_session(
            &mut acc.phone_sessions,
            &identity,
            registration_id,
            &me.phone,
            me.device,
            &[phone_signal::plaintext(message)],
        );
        match sealed {
            Ok(mut s) if s.len() == 1 => {
                let (enc_type, ct) = s.remove(0);
                crate::phone_sync::peer_message(&from, enc_type, ct)
            }
            Ok(_) => return,
            Err(e) => {
                log::warn!("{}:{}: mock phone could not encrypt its answer: {e}", me.phone, me.device);
                return;
            }
        }
    };
    let (id, node) = node;
    log::info!("{}:{}: mock phone sends its answer as {id}", me.phone, me.device);
    lock(state.router()).deliver(&(me.phone.clone(), me.device), "message", &id, &me.phone, node);
}
