//! History sync from the mock phone: what a real phone sends a device that just linked to a
//! seeded account (account_seed.rs), in the order and the form it sends it.
//!
//! Chunks: `INITIAL_BOOTSTRAP` (every chat with its newest messages), `PUSH_NAME` (the contacts'
//! own names), then the older messages as `RECENT` — or `FULL` when the device asked for its
//! full history at pairing (`DeviceProps.requireFullSync`). Each chunk is a `HistorySync`
//! protobuf, zlib-compressed, encrypted as media of type `md-msg-hist` ("WhatsApp History
//! Keys") and put on this server's CDN; the device gets a peer `protocolMessage` of type
//! `HISTORY_SYNC_NOTIFICATION` with the blob's keys and direct path, and downloads it.
//!
//! An account that was never seeded gets no history (a fresh account has none), so tests that
//! do not seed see no extra messages.

use std::io::Write as _;

use flate2::write::ZlibEncoder;
use flate2::Compression;
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use waproto::buffa::{self, Message as _};
use waproto::whatsapp as wa;

use crate::account_seed::{AccountSeed, SeedChat, SeedMessage};
use crate::media::MediaStore;

/// Messages per chat in `INITIAL_BOOTSTRAP`; the rest follow in `RECENT` / `FULL`.
const BOOTSTRAP_MESSAGES_PER_CHAT: usize = 5;
/// Chats per `RECENT` / `FULL` chunk.
const CHATS_PER_CHUNK: usize = 50;

type SyncType = wa::history_sync::HistorySyncType;

/// One chunk before it is compressed.
struct Chunk {
    sync: wa::HistorySync,
    notification_type: wa::message::HistorySyncType,
}

/// The chunks a device linking to `seed`'s account gets, in order.
fn chunks(seed: &AccountSeed, full: bool) -> Vec<Chunk> {
    let own_chat = |c: &SeedChat, range: std::ops::Range<usize>| wa::Conversation {
        id: c.id.clone(),
        messages: c.messages[range.start.min(c.messages.len())..range.end.min(c.messages.len())]
            .iter()
            .enumerate()
            .map(|(i, m)| wa::HistorySyncMsg {
                message: buffa::MessageField::some(web_message_info(&c.id, m)),
                msg_order_id: Some((range.start + i + 1) as u64),
            })
            .collect(),
        ..Default::default()
    };
    let mut out = Vec::new();

    let bootstrap = seed
        .chats
        .iter()
        .map(|c| wa::Conversation {
            name: c.name.clone(),
            unread_count: c.unread_count,
            archived: c.archived,
            pinned: c.pinned,
            mute_end_time: c.mute_end_time,
            conversation_timestamp: c.conversation_timestamp,
            ..own_chat(c, 0..BOOTSTRAP_MESSAGES_PER_CHAT)
        })
        .collect();
    out.push(Chunk {
        sync: wa::HistorySync {
            sync_type: SyncType::INITIAL_BOOTSTRAP,
            conversations: bootstrap,
            chunk_order: Some(1),
            progress: Some(100),
            ..Default::default()
        },
        notification_type: wa::message::HistorySyncType::INITIAL_BOOTSTRAP,
    });

    let pushnames: Vec<wa::Pushname> = seed
        .contacts
        .iter()
        .filter_map(|c| c.notify.as_ref().map(|n| wa::Pushname { id: Some(c.id.clone()), pushname: Some(n.clone()) }))
        .collect();
    if !pushnames.is_empty() {
        out.push(Chunk {
            sync: wa::HistorySync {
                sync_type: SyncType::PUSH_NAME,
                pushnames,
                chunk_order: Some(1),
                progress: Some(100),
                ..Default::default()
            },
            notification_type: wa::message::HistorySyncType::PUSH_NAME,
        });
    }

    let older: Vec<&SeedChat> = seed.chats.iter().filter(|c| c.messages.len() > BOOTSTRAP_MESSAGES_PER_CHAT).collect();
    let (sync_type, notification_type) =
        if full { (SyncType::FULL, wa::message::HistorySyncType::FULL) } else { (SyncType::RECENT, wa::message::HistorySyncType::RECENT) };
    let total = older.len().div_ceil(CHATS_PER_CHUNK);
    for (i, group) in older.chunks(CHATS_PER_CHUNK).enumerate() {
        let conversations = group.iter().map(|c| own_chat(c, BOOTSTRAP_MESSAGES_PER_CHAT..c.messages.len())).collect();
        out.push(Chunk {
            sync: wa::HistorySync {
                sync_type,
                conversations,
                chunk_order: Some(i as u32 + 1),
                progress: Some(((i + 1) * 100 / total) as u32),
                ..Default::default()
            },
            notification_type,
        });
    }
    out
}

/// A seeded message as the phone stores it.
pub fn web_message_info(chat: &str, m: &SeedMessage) -> wa::WebMessageInfo {
    use wa::web_message_info::Status;
    wa::WebMessageInfo {
        key: buffa::MessageField::some(wa::MessageKey {
            remote_jid: Some(chat.to_owned()),
            from_me: Some(m.from_me),
            id: Some(m.id.clone()),
            participant: m.participant.clone(),
        }),
        message: buffa::MessageField::some(wa::Message { conversation: Some(m.text.clone()), ..Default::default() }),
        message_timestamp: Some(m.timestamp),
        status: Some(if m.from_me { Status::READ } else { Status::DELIVERY_ACK }),
        push_name: m.push_name.clone(),
        ..Default::default()
    }
}

/// WhatsApp's media encryption: HKDF-SHA256 of the media key (info per media type) gives IV,
/// cipher key and MAC key; the file is AES-256-CBC ciphertext followed by the first 10 bytes of
/// HMAC-SHA256(iv ‖ ciphertext).
pub struct EncryptedMedia {
    pub media_key: [u8; 32],
    pub file: Vec<u8>,
    pub file_sha256: Vec<u8>,
    pub file_enc_sha256: Vec<u8>,
}

pub fn encrypt_media(plain: &[u8], app_info: &str) -> Result<EncryptedMedia, String> {
    use hmac::{KeyInit as _, Mac as _};
    let media_key: [u8; 32] = rand::random();
    let mut expanded = [0u8; 112];
    Hkdf::<Sha256>::new(None, &media_key).expand(app_info.as_bytes(), &mut expanded).map_err(|e| format!("hkdf: {e}"))?;
    let (iv, rest) = expanded.split_at(16);
    let (cipher_key, rest) = rest.split_at(32);
    let mac_key = &rest[..32];
    let mut file = Vec::with_capacity(plain.len() + 32);
    wacore_libsignal::crypto::aes_256_cbc_encrypt_into(plain, cipher_key, iv, &mut file).map_err(|e| format!("aes-cbc: {e}"))?;
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(mac_key).map_err(|e| format!("hmac: {e}"))?;
    mac.update(iv);
    mac.update(&file);
    file.extend_from_slice(&mac.finalize().into_bytes()[..10]);
    Ok(EncryptedMedia { media_key, file_sha256: Sha256::digest(plain).to_vec(), file_enc_sha256: Sha256::digest(&file).to_vec(), file })
}

/// How a history blob is spoiled on purpose (a test of the clients' handling of bad input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobFault {
    None,
    /// The first chunk's compressed payload is cut in half before encryption: it decrypts, but
    /// does not inflate. The other chunks are sent intact.
    Truncated,
}

/// Builds, encrypts and stores every chunk; returns the `protocolMessage`s announcing them.
pub fn notifications(seed: &AccountSeed, full: bool, media: &MediaStore, fault: BlobFault) -> Result<Vec<wa::Message>, String> {
    chunks(seed, full)
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let fault = if i == 0 { fault } else { BlobFault::None };
            announce(&chunk.sync, chunk.notification_type, None, media, fault)
        })
        .collect()
}

/// The `ON_DEMAND` chunk answering a companion's `HISTORY_SYNC_ON_DEMAND` request: up to
/// `count` messages of `chat` older than the one it names (by id, else by timestamp), oldest
/// last as the phone sends them. A chat the phone does not know, or one with nothing older,
/// gives a chunk without conversations.
pub fn on_demand_chunk(seed: Option<&AccountSeed>, chat: &str, oldest: &OldestMessage, count: usize) -> wa::HistorySync {
    let conversation = seed.and_then(|s| s.chats.iter().find(|c| c.id == chat)).and_then(|c| {
        let start = match c.messages.iter().position(|m| m.id == oldest.id) {
            Some(i) => i + 1,
            None => c.messages.iter().position(|m| m.timestamp.saturating_mul(1000) < oldest.timestamp_ms).unwrap_or(c.messages.len()),
        };
        let end = start.saturating_add(count).min(c.messages.len());
        (start < end).then(|| wa::Conversation {
            id: c.id.clone(),
            messages: c.messages[start..end]
                .iter()
                .enumerate()
                .map(|(i, m)| wa::HistorySyncMsg {
                    message: buffa::MessageField::some(web_message_info(&c.id, m)),
                    msg_order_id: Some((start + i + 1) as u64),
                })
                .collect(),
            ..Default::default()
        })
    });
    wa::HistorySync {
        sync_type: SyncType::ON_DEMAND,
        conversations: conversation.into_iter().collect(),
        chunk_order: Some(1),
        progress: Some(100),
        ..Default::default()
    }
}

/// What a `HISTORY_SYNC_ON_DEMAND` request names as the oldest message the companion has.
pub struct OldestMessage {
    pub id: String,
    pub timestamp_ms: u64,
}

/// Compresses, encrypts and stores one chunk on the CDN; returns the `protocolMessage` that
/// announces it. `session_id`: the peer data request the chunk answers.
pub fn announce(
    sync: &wa::HistorySync,
    notification_type: wa::message::HistorySyncType,
    session_id: Option<String>,
    media: &MediaStore,
    fault: BlobFault,
) -> Result<wa::Message, String> {
    let raw = sync.encode_to_vec();
    let mut zlib = ZlibEncoder::new(Vec::with_capacity(raw.len() / 3), Compression::default());
    zlib.write_all(&raw).map_err(|e| format!("zlib: {e}"))?;
    let mut compressed = zlib.finish().map_err(|e| format!("zlib: {e}"))?;
    if fault == BlobFault::Truncated {
        compressed.truncate(compressed.len() / 2);
    }
    let enc = encrypt_media(&compressed, "WhatsApp History Keys")?;
    let direct_path = media.put("md-msg-hist", &enc.file).map_err(|e| format!("storing the history blob: {e}"))?;
    let notification = wa::message::HistorySyncNotification {
        file_sha256: Some(enc.file_sha256),
        file_length: Some(compressed.len() as u64),
        media_key: Some(enc.media_key.to_vec()),
        file_enc_sha256: Some(enc.file_enc_sha256),
        direct_path: Some(direct_path),
        sync_type: Some(notification_type),
        chunk_order: sync.chunk_order,
        progress: sync.progress,
        peer_data_request_session_id: session_id,
        ..Default::default()
    };
    Ok(wa::Message {
        protocol_message: buffa::MessageField::some(wa::message::ProtocolMessage {
            r#type: Some(wa::message::protocol_message::Type::HISTORY_SYNC_NOTIFICATION),
            history_sync_notification: buffa::MessageField::some(notification),
            ..Default::default()
        }),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account_seed::{generate, GenerateSpec};

    fn spec(chats: usize, per_chat: usize) -> GenerateSpec {
        GenerateSpec { contacts: 30, chats, messages_per_chat: per_chat, groups: 2, seed: 3 }
    }

    #[test]
    fn bootstrap_push_names_then_older_messages_in_chunks() {
        let seed = generate(&spec(120, 8), "1").unwrap();
        let recent = chunks(&seed, false);
        let types: Vec<_> = recent.iter().map(|c| c.sync.sync_type).collect();
        assert_eq!(types, [SyncType::INITIAL_BOOTSTRAP, SyncType::PUSH_NAME, SyncType::RECENT, SyncType::RECENT, SyncType::RECENT]);
        assert_eq!(recent[0].sync.conversations.len(), 120);
        assert!(recent[0].sync.conversations.iter().all(|c| c.messages.len() == BOOTSTRAP_MESSAGES_PER_CHAT));
        let older: usize = recent[2..].iter().flat_map(|c| &c.sync.conversations).map(|c| c.messages.len()).sum();
        assert_eq!(older, 120 * 3);
        assert_eq!(recent.last().unwrap().sync.progress, Some(100));
        assert!(chunks(&seed, true)[2..].iter().all(|c| c.sync.sync_type == SyncType::FULL));
    }

    #[test]
    fn media_encryption_round_trips_with_the_documented_layout() {
        use hmac::{KeyInit as _, Mac as _};
        let enc = encrypt_media(b"history", "WhatsApp History Keys").unwrap();
        let mut expanded = [0u8; 112];
        Hkdf::<Sha256>::new(None, &enc.media_key).expand(b"WhatsApp History Keys", &mut expanded).unwrap();
        let (body, mac) = enc.file.split_at(enc.file.len() - 10);
        let mut check = hmac::Hmac::<Sha256>::new_from_slice(&expanded[48..80]).unwrap();
        check.update(&expanded[..16]);
        check.update(body);
        assert_eq!(&check.finalize().into_bytes()[..10], mac);
        let mut plain = Vec::new();
        wacore_libsignal::crypto::aes_256_cbc_decrypt_into(body, &expanded[16..48], &expanded[..16], &mut plain).unwrap();
        assert_eq!(plain, b"history");
        assert_eq!(enc.file_enc_sha256, Sha256::digest(&enc.file).to_vec());
    }
}
