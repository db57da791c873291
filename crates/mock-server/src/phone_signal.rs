//! The mock phone as a Signal *sender*: what a real primary phone sends a companion right after
//! pairing — the app-state sync key share, then the history — encrypted end to end like any
//! peer message (phone_sync.rs decides what is sent and when).
//!
//! Why this exists: on its first login after pairing whatsapp-rust 0.7 waits up to 10 s
//! (`KEY_SHARE_GRACE_SECS`) for the phone's `APP_STATE_SYNC_KEY_SHARE` before it reports
//! `Connected`; Baileys stores the same keys when it gets them. A real phone sends it at once.
//!
//! Design choice: the mock phone is a *different party* from the client under test, so it runs
//! its own Signal endpoint with wacore-libsignal's protocol primitives (X3DH from the companion's
//! uploaded pre-key bundle, then the session cipher), on a throw-away in-memory store. This is
//! the peer side of the protocol, not shared client logic: the clients decrypt it with their own
//! code, so a wrong envelope, padding or key would make the tests fail. The phone sends one burst
//! per companion, right after it links, so a session lives only as long as that burst.

use std::collections::HashMap;

use async_trait::async_trait;
use futures_util::FutureExt as _;
use wacore_libsignal::protocol::{
    message_encrypt, process_prekey_bundle, CiphertextMessage, DeviceId, Direction, IdentityChange, IdentityKey, IdentityKeyPair,
    IdentityKeyStore, KeyPair, PreKeyBundle, ProtocolAddress, PublicKey, SessionRecord, SessionStore, SignalProtocolError, UsePQRatchet,
};
use waproto::buffa::{self, Message as _};
use waproto::whatsapp as wa;

use crate::accounts::{AppStateKey, KeyBundle, UploadedKey};

type SignalResult<T> = std::result::Result<T, SignalProtocolError>;
/// In-memory session + identity store for the phone's side of one session.
struct PhoneStore {
    identity: IdentityKeyPair,
    registration_id: u32,
    sessions: HashMap<String, SessionRecord>,
    identities: HashMap<String, IdentityKey>,
}

#[async_trait]
impl SessionStore for PhoneStore {
    async fn load_session(&self, address: &ProtocolAddress) -> SignalResult<Option<SessionRecord>> {
        Ok(self.sessions.get(address.as_str()).cloned())
    }

    async fn has_session(&self, address: &ProtocolAddress) -> SignalResult<bool> {
        Ok(self.sessions.contains_key(address.as_str()))
    }

    async fn store_session(&mut self, address: &ProtocolAddress, record: SessionRecord) -> SignalResult<()> {
        self.sessions.insert(address.as_str().to_owned(), record);
        Ok(())
    }
}

#[async_trait]
impl IdentityKeyStore for PhoneStore {
    async fn get_identity_key_pair(&self) -> SignalResult<IdentityKeyPair> {
        Ok(self.identity.clone())
    }

    async fn get_local_registration_id(&self) -> SignalResult<u32> {
        Ok(self.registration_id)
    }

    async fn save_identity(&mut self, address: &ProtocolAddress, identity: &IdentityKey) -> SignalResult<IdentityChange> {
        let changed = self.identities.insert(address.as_str().to_owned(), *identity).is_some_and(|old| old != *identity);
        Ok(IdentityChange::from_changed(changed))
    }

    async fn is_trusted_identity(&self, _address: &ProtocolAddress, _identity: &IdentityKey, _direction: Direction) -> SignalResult<bool> {
        // The companion's identity comes from its own pairing, which the phone just verified.
        Ok(true)
    }

    async fn get_identity(&self, address: &ProtocolAddress) -> SignalResult<Option<IdentityKey>> {
        Ok(self.identities.get(address.as_str()).copied())
    }
}

/// WhatsApp's plaintext padding (version 2): 1–16 random bytes, each equal to the pad length
/// (what wacore's `MessageUtils::pad_message_v2` writes and `unpad_message_ref` checks, and
/// Baileys' `unpadRandomMax16` strips).
pub fn pad_v2(mut plaintext: Vec<u8>) -> Vec<u8> {
    let pad = (rand::random::<u8>() & 0x0f) + 1;
    plaintext.resize(plaintext.len() + usize::from(pad), pad);
    plaintext
}

/// The `wa::Message` carrying the account's app-state sync key.
pub fn key_share_message(key: &AppStateKey) -> wa::Message {
    let share = wa::message::AppStateSyncKeyShare {
        keys: vec![wa::message::AppStateSyncKey {
            key_id: buffa::MessageField::some(wa::message::AppStateSyncKeyId { key_id: Some(key.key_id.to_vec()) }),
            key_data: buffa::MessageField::some(wa::message::AppStateSyncKeyData {
                key_data: Some(key.key_data.to_vec()),
                fingerprint: buffa::MessageField::some(wa::message::AppStateSyncKeyFingerprint {
                    raw_id: Some(key.raw_id),
                    current_index: Some(0),
                    device_indexes: vec![0],
                }),
                timestamp: Some(key.timestamp_ms),
            }),
        }],
    };
    wa::Message {
        protocol_message: buffa::MessageField::some(wa::message::ProtocolMessage {
            r#type: Some(wa::message::protocol_message::Type::AppStateSyncKeyShare),
            app_state_sync_key_share: buffa::MessageField::some(share),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn be_u32(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |acc, x| acc.wrapping_shl(8) | u32::from(*x))
}

/// Encrypts `plaintexts` (already padded), in order, from the phone (identity = the account
/// key) to one companion device over one fresh session built from its bundle. Returns each
/// message's `<enc type>` and serialized Signal message: until the companion answers, every
/// message of the session is a `pkmsg` carrying the same X3DH setup, as libsignal sends them.
// The inputs of one X3DH + encrypt, each from a different place; a struct would be built once.
#[allow(clippy::too_many_arguments)]
pub fn encrypt_to_companion(
    phone_identity: &KeyPair,
    phone_registration_id: u32,
    companion_user: &str,
    companion_device: u16,
    companion_identity: &[u8; 32],
    bundle: &KeyBundle,
    one_time: Option<&UploadedKey>,
    plaintexts: &[Vec<u8>],
) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    let spk = bundle.signed_pre_key.as_ref().ok_or("companion has no signed pre-key")?;
    let key = |b: &[u8]| PublicKey::from_djb_public_key_bytes(b).map_err(|e| format!("bad public key: {e}"));
    let registration_id = if bundle.registration_id.is_empty() { 0 } else { be_u32(&bundle.registration_id) };
    let pre_key = match one_time {
        Some(k) => Some((k.id.into(), key(&k.public)?)),
        None => None,
    };
    let pre_key_bundle = PreKeyBundle::new(
        registration_id,
        DeviceId::from(u32::from(companion_device)),
        pre_key,
        spk.id.into(),
        key(&spk.public)?,
        spk.signature.clone().unwrap_or_default(),
        IdentityKey::new(key(companion_identity)?),
    )
    .map_err(|e| format!("pre-key bundle: {e}"))?;
    let address = ProtocolAddress::new(companion_user, DeviceId::from(u32::from(companion_device)));
    let mut store = PhoneStore {
        identity: IdentityKeyPair::from(phone_identity.clone()),
        registration_id: phone_registration_id,
        sessions: HashMap::new(),
        identities: HashMap::new(),
    };
    let work = async {
        let mut rng = rand::rng();
        let mut sessions = PhoneStore {
            identity: store.identity.clone(),
            registration_id: store.registration_id,
            sessions: HashMap::new(),
            identities: HashMap::new(),
        };
        process_prekey_bundle(&address, &mut sessions, &mut store, &pre_key_bundle, &mut rng, UsePQRatchet::No).await?;
        let mut out = Vec::with_capacity(plaintexts.len());
        for plaintext in plaintexts {
            out.push(message_encrypt(plaintext, &address, &mut sessions, &mut store).await?);
        }
        Ok::<_, SignalProtocolError>(out)
    };
    // Everything is in memory: the future never waits, so it completes on its first poll.
    let sealed = work.now_or_never().ok_or("signal encryption unexpectedly pending")?.map_err(|e| format!("signal encryption: {e}"))?;
    sealed
        .into_iter()
        .map(|ct| match ct {
            CiphertextMessage::PreKeySignalMessage(m) => Ok(("pkmsg", m.serialized().to_vec())),
            CiphertextMessage::SignalMessage(m) => Ok(("msg", m.serialized().to_vec())),
            other => Err(format!("unexpected ciphertext kind {:?}", other.message_type())),
        })
        .collect()
}

/// Encodes and pads a message for the wire.
pub fn plaintext(message: &wa::Message) -> Vec<u8> {
    pad_v2(message.encode_to_vec())
}
