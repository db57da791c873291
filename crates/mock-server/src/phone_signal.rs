//! The mock phone as a Signal peer of its account's companions: what a real primary phone sends
//! a companion right after pairing — the app-state sync key share, then the history — encrypted
//! end to end like any peer message (phone_sync.rs decides what is sent and when), and what the
//! companions send the phone (peer data operation requests, phone_pdo.rs), decrypted.
//!
//! Why this exists: on its first login after pairing whatsapp-rust 0.7 waits up to 10 s
//! (`KEY_SHARE_GRACE_SECS`) for the phone's `APP_STATE_SYNC_KEY_SHARE` before it reports
//! `Connected`; Baileys stores the same keys when it gets them. A real phone sends it at once.
//!
//! Design choice: the mock phone is a *different party* from the client under test, so it runs
//! its own Signal endpoint with wacore-libsignal's protocol primitives (X3DH from the companion's
//! uploaded pre-key bundle, then the session cipher) on its own in-memory store, kept with the
//! account. This is the peer side of the protocol, not shared client logic: the clients decrypt
//! it with their own code, so a wrong envelope, padding or key would make the tests fail.

use std::collections::HashMap;

use async_trait::async_trait;
use futures_util::FutureExt as _;
use wacore_libsignal::protocol::{
    message_decrypt, message_encrypt, process_prekey_bundle, CiphertextMessage, DeviceId, Direction, GenericSignedPreKey as _,
    IdentityChange, IdentityKey, IdentityKeyPair, IdentityKeyStore, KeyPair, PreKeyBundle, PreKeyId, PreKeyRecord, PreKeySignalMessage,
    PreKeyStore, ProtocolAddress, PublicKey, SessionRecord, SessionStore, SignalMessage, SignalProtocolError, SignedPreKeyId,
    SignedPreKeyRecord, SignedPreKeyStore, Timestamp, UsePQRatchet,
};
use waproto::buffa::{self, Message as _};
use waproto::whatsapp as wa;

use crate::accounts::{AppStateKey, KeyBundle, UploadedKey};

type SignalResult<T> = std::result::Result<T, SignalProtocolError>;

/// The phone's sessions with its account's companions, kept for the life of the account: the
/// session the phone opens with its first burst is the one a companion answers on. Keyed by
/// the companion's device id only — the companion may address the phone by phone number or by
/// LID, and it is the same session either way.
#[derive(Default)]
pub struct PhoneSessions {
    by_device: HashMap<u32, SessionRecord>,
}

impl PhoneSessions {
    fn has(&self, device: u16) -> bool {
        self.by_device.contains_key(&u32::from(device))
    }
}

#[async_trait]
impl SessionStore for PhoneSessions {
    async fn load_session(&self, address: &ProtocolAddress) -> SignalResult<Option<SessionRecord>> {
        Ok(self.by_device.get(&u32::from(address.device_id())).cloned())
    }

    async fn has_session(&self, address: &ProtocolAddress) -> SignalResult<bool> {
        Ok(self.by_device.contains_key(&u32::from(address.device_id())))
    }

    async fn store_session(&mut self, address: &ProtocolAddress, record: SessionRecord) -> SignalResult<()> {
        self.by_device.insert(address.device_id().into(), record);
        Ok(())
    }
}

/// The phone's identity, for one operation.
struct PhoneIdentity {
    identity: IdentityKeyPair,
    registration_id: u32,
    identities: HashMap<String, IdentityKey>,
}

impl PhoneIdentity {
    fn new(phone_identity: &KeyPair, registration_id: u32) -> Self {
        Self { identity: IdentityKeyPair::from(phone_identity.clone()), registration_id, identities: HashMap::new() }
    }
}

#[async_trait]
impl IdentityKeyStore for PhoneIdentity {
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

/// The phone's pre-keys: its one signed pre-key (id 1), no one-time keys (its bundle has none).
struct PhonePreKeys {
    signed: SignedPreKeyRecord,
}

#[async_trait]
impl PreKeyStore for PhonePreKeys {
    async fn get_pre_key(&self, prekey_id: PreKeyId) -> SignalResult<PreKeyRecord> {
        let _ = prekey_id;
        Err(SignalProtocolError::InvalidPreKeyId)
    }

    async fn save_pre_key(&mut self, _prekey_id: PreKeyId, _record: &PreKeyRecord) -> SignalResult<()> {
        Ok(())
    }

    async fn remove_pre_key(&mut self, _prekey_id: PreKeyId) -> SignalResult<()> {
        Ok(())
    }
}

#[async_trait]
impl SignedPreKeyStore for PhonePreKeys {
    async fn get_signed_pre_key(&self, signed_prekey_id: SignedPreKeyId) -> SignalResult<SignedPreKeyRecord> {
        if u32::from(signed_prekey_id) == PHONE_SIGNED_PRE_KEY_ID {
            Ok(self.signed.clone())
        } else {
            Err(SignalProtocolError::InvalidSignedPreKeyId)
        }
    }

    async fn save_signed_pre_key(&mut self, _id: SignedPreKeyId, _record: &SignedPreKeyRecord) -> SignalResult<()> {
        Ok(())
    }
}

/// The id of the phone's signed pre-key in its bundle (accounts.rs).
const PHONE_SIGNED_PRE_KEY_ID: u32 = 1;

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
/// key) to one companion device over a fresh session built from its bundle, which replaces any
/// session the phone had with that device. Returns each message's `<enc type>` and serialized
/// Signal message: until the companion answers, every message of the session is a `pkmsg`
/// carrying the same X3DH setup, as libsignal sends them.
// The inputs of one X3DH + encrypt, each from a different place; a struct would be built once.
#[allow(clippy::too_many_arguments)]
pub fn encrypt_to_companion(
    sessions: &mut PhoneSessions,
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
    let mut identity = PhoneIdentity::new(phone_identity, phone_registration_id);
    let mut fresh = PhoneSessions::default();
    let work = async {
        let mut rng = rand::rng();
        process_prekey_bundle(&address, &mut fresh, &mut identity, &pre_key_bundle, &mut rng, UsePQRatchet::No).await?;
        encrypt_all(&address, &mut fresh, &mut identity, plaintexts).await
    };
    let sealed = run_now(work)?;
    sessions.by_device.extend(fresh.by_device);
    Ok(sealed)
}

/// Encrypts `plaintexts` to a companion over the session the phone already has with it (the
/// one it opened after pairing, or the one the companion opened by writing to the phone).
pub fn encrypt_in_session(
    sessions: &mut PhoneSessions,
    phone_identity: &KeyPair,
    phone_registration_id: u32,
    companion_user: &str,
    companion_device: u16,
    plaintexts: &[Vec<u8>],
) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    if !sessions.has(companion_device) {
        return Err(format!("the phone has no session with device {companion_device}"));
    }
    let address = ProtocolAddress::new(companion_user, DeviceId::from(u32::from(companion_device)));
    let mut identity = PhoneIdentity::new(phone_identity, phone_registration_id);
    run_now(encrypt_all(&address, sessions, &mut identity, plaintexts))
}

async fn encrypt_all(
    address: &ProtocolAddress,
    sessions: &mut PhoneSessions,
    identity: &mut PhoneIdentity,
    plaintexts: &[Vec<u8>],
) -> SignalResult<Vec<(&'static str, Vec<u8>)>> {
    let mut out = Vec::with_capacity(plaintexts.len());
    for plaintext in plaintexts {
        let sealed = match message_encrypt(plaintext, address, sessions, identity).await? {
            CiphertextMessage::PreKeySignalMessage(m) => ("pkmsg", m.serialized().to_vec()),
            CiphertextMessage::SignalMessage(m) => ("msg", m.serialized().to_vec()),
            other => return Err(SignalProtocolError::InvalidArgument(format!("unexpected ciphertext kind {:?}", other.message_type()))),
        };
        out.push(sealed);
    }
    Ok(out)
}

/// Decrypts what a companion of the account sent the phone (`<enc type="pkmsg"|"msg">`) and
/// strips the padding: the plaintext `wa::Message` bytes.
pub fn decrypt_from_companion(
    sessions: &mut PhoneSessions,
    phone_identity: &KeyPair,
    phone_registration_id: u32,
    signed_pre_key: (&KeyPair, &[u8]),
    companion: (&str, u16),
    enc_type: &str,
    ciphertext: &[u8],
) -> Result<Vec<u8>, String> {
    let message = match enc_type {
        "pkmsg" => CiphertextMessage::PreKeySignalMessage(PreKeySignalMessage::try_from(ciphertext).map_err(|e| format!("pkmsg: {e}"))?),
        "msg" => CiphertextMessage::SignalMessage(SignalMessage::try_from(ciphertext).map_err(|e| format!("msg: {e}"))?),
        other => return Err(format!("the phone cannot decrypt <enc type={other:?}>")),
    };
    let (spk, signature) = signed_pre_key;
    let mut pre_keys =
        PhonePreKeys { signed: SignedPreKeyRecord::new(PHONE_SIGNED_PRE_KEY_ID.into(), Timestamp::from_epoch_millis(0), spk, signature) };
    let address = ProtocolAddress::new(companion.0, DeviceId::from(u32::from(companion.1)));
    let mut identity = PhoneIdentity::new(phone_identity, phone_registration_id);
    let work = async {
        let signed = PhonePreKeys { signed: pre_keys.signed.clone() };
        let mut rng = rand::rng();
        message_decrypt(&message, &address, sessions, &mut identity, &mut pre_keys, &signed, &mut rng, UsePQRatchet::No).await
    };
    let plain = run_now(work)?.plaintext;
    unpad_v2(&plain).map(<[u8]>::to_vec)
}

/// Strips WhatsApp's version-2 padding (`pad_v2`).
pub fn unpad_v2(plain: &[u8]) -> Result<&[u8], String> {
    let pad = usize::from(*plain.last().ok_or("empty plaintext")?);
    if pad == 0 || pad > plain.len() {
        return Err(format!("bad padding length {pad}"));
    }
    Ok(&plain[..plain.len() - pad])
}

/// Everything is in memory: a Signal operation never waits, so it completes on its first poll.
fn run_now<T>(work: impl std::future::Future<Output = SignalResult<T>>) -> Result<T, String> {
    work.now_or_never().ok_or("signal operation unexpectedly pending")?.map_err(|e| format!("signal: {e}"))
}

/// Encodes and pads a message for the wire.
pub fn plaintext(message: &wa::Message) -> Vec<u8> {
    pad_v2(message.encode_to_vec())
}
