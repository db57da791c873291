//! The mock phone: QR refs handed to registering clients, the scan that links a client to an
//! account, and the ADV device identity a real primary phone would sign.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::prelude::BASE64_STANDARD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use wacore_libsignal::protocol::{KeyPair, PublicKey};
use waproto::buffa::Message as _;
use waproto::whatsapp as wa;

use crate::accounts::ConnSender;

/// How many refs a registering client gets, and how long each lives. Clients show the first for
/// 60 s and each later one for 20 s (both Baileys and whatsapp-rust), then give up.
pub const REF_COUNT: usize = 6;
const FIRST_REF_TTL: Duration = Duration::from_secs(60);
const LATER_REF_TTL: Duration = Duration::from_secs(20);

const ADV_PREFIX_ACCOUNT_SIGNATURE: [u8; 2] = [6, 0];
const ADV_PREFIX_DEVICE_SIGNATURE: [u8; 2] = [6, 1];
const ADV_PREFIX_KEY_INDEX_LIST: [u8; 2] = [6, 2];

/// The fields of a scanned QR string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrData {
    pub pairing_ref: String,
    pub noise_pub: [u8; 32],
    pub identity_pub: [u8; 32],
    pub adv_secret: Vec<u8>,
}

/// Parses `ref,noiseKeyB64,identityKeyB64,advSecretB64[,platform]`, with or without the
/// `https://wa.me/settings/linked_devices#` prefix newer clients add.
pub fn parse_qr(qr: &str) -> Result<QrData, String> {
    let body = qr.trim();
    let body = body.strip_prefix("https://wa.me/settings/linked_devices#").unwrap_or(body);
    let parts: Vec<&str> = body.split(',').collect();
    if parts.len() < 4 {
        return Err(format!("expected `ref,noiseKey,identityKey,advSecret[,platform]`, got {} comma-separated field(s)", parts.len()));
    }
    let key = |field: &str, name: &str| -> Result<[u8; 32], String> {
        let bytes = BASE64_STANDARD.decode(field).map_err(|e| format!("{name} is not base64: {e}"))?;
        bytes.try_into().map_err(|b: Vec<u8>| format!("{name} is {} bytes, not 32", b.len()))
    };
    if parts[0].is_empty() {
        return Err("empty ref".into());
    }
    let adv_secret = BASE64_STANDARD.decode(parts[3]).map_err(|e| format!("advSecret is not base64: {e}"))?;
    if adv_secret.is_empty() {
        return Err("empty advSecret".into());
    }
    Ok(QrData {
        pairing_ref: parts[0].to_owned(),
        noise_pub: key(parts[1], "noiseKey")?,
        identity_pub: key(parts[2], "identityKey")?,
        adv_secret,
    })
}

/// A random ref in the shape WhatsApp uses (opaque printable text).
pub fn new_ref() -> String {
    let bytes: [u8; 18] = rand::random();
    format!("2@{}", BASE64_STANDARD.encode(bytes))
}

/// A registering connection waiting for its QR to be scanned.
pub struct WaitingClient {
    pub conn_id: u64,
    pub sender: ConnSender,
    pub refs: Vec<String>,
    pub issued_at: Instant,
    pub noise_pub: [u8; 32],
    pub identity_pub: [u8; 32],
    /// Push name from the registration payload (whatsapp-rust sends it; Baileys does not).
    pub push_name: Option<String>,
    /// What the companion says it is (`DeviceProps` of the registration), shown on the phone.
    pub props: crate::accounts::CompanionProps,
}

/// Why a scan was refused; maps to the admin API's HTTP status.
#[derive(Debug, PartialEq, Eq)]
pub enum ScanRefusal {
    /// 404: no connection ever got this ref.
    UnknownRef,
    /// 410: the ref existed but is no longer on screen (timed out, superseded, connection gone,
    /// or already paired).
    Gone(String),
    /// 400: the QR does not belong to the connection that owns the ref.
    Mismatch(String),
}

/// Where a ref stands on its connection's QR rotation at `now`.
fn ref_window(index: usize, issued_at: Instant) -> (Instant, Instant) {
    // Ref 0 is shown at once for 60 s; ref i > 0 from 60 + 20(i-1) s for 20 s.
    let start = if index == 0 { Duration::ZERO } else { FIRST_REF_TTL + LATER_REF_TTL * (index as u32 - 1) };
    let end = if index == 0 { FIRST_REF_TTL } else { start + LATER_REF_TTL };
    (issued_at + start, issued_at + end)
}

/// Refs handed out by this server: live ones by connection, and every ref ever issued (so a
/// stale ref gets 410, not 404).
#[derive(Default)]
pub struct PairingDesk {
    waiting: HashMap<u64, WaitingClient>,
    ref_owner: HashMap<String, u64>,
}

impl PairingDesk {
    pub fn add(&mut self, client: WaitingClient) {
        for r in &client.refs {
            self.ref_owner.insert(r.clone(), client.conn_id);
        }
        self.waiting.insert(client.conn_id, client);
    }

    /// The connection closed (or paired): its refs stop being scannable.
    pub fn remove(&mut self, conn_id: u64) -> Option<WaitingClient> {
        self.waiting.remove(&conn_id)
    }

    /// Finds and removes the client a QR belongs to, or says why not.
    pub fn take_for_scan(&mut self, qr: &QrData, now: Instant) -> Result<WaitingClient, ScanRefusal> {
        let conn_id = *self.ref_owner.get(&qr.pairing_ref).ok_or(ScanRefusal::UnknownRef)?;
        let client = self
            .waiting
            .get(&conn_id)
            .ok_or_else(|| ScanRefusal::Gone("the connection that got this ref has closed or already paired".into()))?;
        let index = client.refs.iter().position(|r| *r == qr.pairing_ref).ok_or(ScanRefusal::UnknownRef)?;
        let (_, end) = ref_window(index, client.issued_at);
        if now >= end {
            return Err(ScanRefusal::Gone(format!(
                "ref #{index} expired {:.1} s ago (superseded by a newer QR)",
                (now - end).as_secs_f32()
            )));
        }
        let (start, _) = ref_window(index, client.issued_at);
        if now < start {
            // The client has not displayed this ref yet; a real phone could not have scanned it.
            return Err(ScanRefusal::Gone(format!("ref #{index} is not on screen yet")));
        }
        if client.noise_pub != qr.noise_pub || client.identity_pub != qr.identity_pub {
            return Err(ScanRefusal::Mismatch("the QR's keys are not those of the connection that owns this ref".into()));
        }
        self.waiting.remove(&conn_id).ok_or_else(|| ScanRefusal::Gone("connection vanished".into()))
    }
}

/// Builds the `ADVSignedDeviceIdentityHMAC` a primary phone puts in `<pair-success>`:
/// details signed by the account key over `[6,0] ‖ details ‖ identityPub`, wrapped in an
/// HMAC-SHA256 keyed with the companion's adv secret (from the QR).
pub fn build_device_identity(
    account_key: &KeyPair,
    raw_id: u32,
    key_index: u32,
    device_identity_pub: &[u8; 32],
    adv_secret: &[u8],
    timestamp: u64,
) -> Result<Vec<u8>, String> {
    let details = wa::ADVDeviceIdentity {
        raw_id: Some(raw_id),
        timestamp: Some(timestamp),
        key_index: Some(key_index),
        account_type: Some(wa::ADVEncryptionType::E2EE),
        device_type: Some(wa::ADVEncryptionType::E2EE),
    }
    .encode_to_vec();
    let mut msg = Vec::with_capacity(2 + details.len() + 32);
    msg.extend_from_slice(&ADV_PREFIX_ACCOUNT_SIGNATURE);
    msg.extend_from_slice(&details);
    msg.extend_from_slice(device_identity_pub);
    let account_signature =
        account_key.private_key.calculate_signature(&msg, &mut rand::rng()).map_err(|e| format!("account signature: {e}"))?;
    let signed = wa::ADVSignedDeviceIdentity {
        details: Some(details),
        account_signature_key: Some(account_key.public_key.public_key_bytes().to_vec()),
        account_signature: Some(account_signature.to_vec()),
        ..Default::default()
    }
    .encode_to_vec();
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(adv_secret).map_err(|e| format!("hmac key: {e}"))?;
    mac.update(&signed);
    let hmac = mac.finalize().into_bytes().to_vec();
    Ok(wa::ADVSignedDeviceIdentityHMAC { details: Some(signed), hmac: Some(hmac), ..Default::default() }.encode_to_vec())
}

/// The account's signed list of valid device key indexes (`<key-index-list>` in usync device
/// lists): WhatsApp's primary signs `[6,2] ‖ details` with the account key. Neither client
/// verifies this signature today, but whatsapp-rust drops a device list with companions that
/// lacks the list.
pub fn build_key_index_list(account_key: &KeyPair, raw_id: u32, valid_indexes: Vec<u32>, timestamp: u64) -> Result<Vec<u8>, String> {
    let details = wa::ADVKeyIndexList {
        raw_id: Some(raw_id),
        timestamp: Some(timestamp),
        current_index: Some(valid_indexes.iter().copied().max().unwrap_or(0)),
        valid_indexes,
        ..Default::default()
    }
    .encode_to_vec();
    let mut msg = Vec::with_capacity(2 + details.len());
    msg.extend_from_slice(&ADV_PREFIX_KEY_INDEX_LIST);
    msg.extend_from_slice(&details);
    let signature =
        account_key.private_key.calculate_signature(&msg, &mut rand::rng()).map_err(|e| format!("key index list signature: {e}"))?;
    Ok(wa::ADVSignedKeyIndexList {
        details: Some(details),
        account_signature: Some(signature.to_vec()),
        account_signature_key: Some(account_key.public_key.public_key_bytes().to_vec()),
    }
    .encode_to_vec())
}

/// Checks the companion's `pair-device-sign` reply: its device signature over
/// `[6,1] ‖ details ‖ identityPub ‖ accountKeyPub`, made with the identity key from its QR.
/// The account key is ours, not taken from the reply (Baileys leaves it out).
pub fn verify_device_signature(signed_identity: &[u8], device_identity_pub: &[u8; 32], account_pub: &[u8]) -> Result<(), String> {
    let signed = wa::ADVSignedDeviceIdentity::decode_from_slice(signed_identity).map_err(|e| format!("ADVSignedDeviceIdentity: {e}"))?;
    let details = signed.details.as_deref().ok_or("no details")?;
    let signature = signed.device_signature.as_deref().ok_or("no deviceSignature")?;
    let mut msg = Vec::with_capacity(2 + details.len() + 64);
    msg.extend_from_slice(&ADV_PREFIX_DEVICE_SIGNATURE);
    msg.extend_from_slice(details);
    msg.extend_from_slice(device_identity_pub);
    msg.extend_from_slice(account_pub);
    let key = PublicKey::from_djb_public_key_bytes(device_identity_pub).map_err(|e| format!("identity key: {e}"))?;
    if key.verify_signature(&msg, signature) {
        Ok(())
    } else {
        Err("device signature does not verify".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a companion checks on `<pair-success>` (same steps as Baileys'
    /// `configureSuccessfulPairing` and wacore's `do_pair_crypto`), written out independently.
    fn companion_checks(identity: &[u8], adv_secret: &[u8], identity_pub: &[u8; 32]) -> Result<(), String> {
        let container = wa::ADVSignedDeviceIdentityHMAC::decode_from_slice(identity).map_err(|e| e.to_string())?;
        let details = container.details.as_deref().ok_or("details")?;
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(adv_secret).unwrap();
        mac.update(details);
        mac.verify_slice(container.hmac.as_deref().ok_or("hmac")?).map_err(|_| "hmac mismatch".to_string())?;
        let signed = wa::ADVSignedDeviceIdentity::decode_from_slice(details).map_err(|e| e.to_string())?;
        let mut msg = vec![6, 0];
        msg.extend_from_slice(signed.details.as_deref().ok_or("inner details")?);
        msg.extend_from_slice(identity_pub);
        let key = PublicKey::from_djb_public_key_bytes(signed.account_signature_key.as_deref().ok_or("key")?).map_err(|e| e.to_string())?;
        if !key.verify_signature(&msg, signed.account_signature.as_deref().ok_or("sig")?) {
            return Err("account signature mismatch".into());
        }
        let inner = wa::ADVDeviceIdentity::decode_from_slice(signed.details.as_deref().unwrap()).map_err(|e| e.to_string())?;
        if inner.key_index != Some(3) {
            return Err("key index lost".into());
        }
        Ok(())
    }

    #[test]
    fn adv_identity_verifies_like_a_companion_would() {
        let account = KeyPair::generate(&mut rand::rng());
        let companion = KeyPair::generate(&mut rand::rng());
        let mut identity_pub = [0u8; 32];
        identity_pub.copy_from_slice(companion.public_key.public_key_bytes());
        let adv = [7u8; 32];
        let blob = build_device_identity(&account, 42, 3, &identity_pub, &adv, 1_700_000_000).unwrap();
        companion_checks(&blob, &adv, &identity_pub).unwrap();
        // A different adv secret (someone else's QR) must fail the HMAC.
        assert!(companion_checks(&blob, &[8u8; 32], &identity_pub).is_err());
        // A different identity key must fail the account signature.
        let other = KeyPair::generate(&mut rand::rng());
        let mut other_pub = [0u8; 32];
        other_pub.copy_from_slice(other.public_key.public_key_bytes());
        assert_eq!(companion_checks(&blob, &adv, &other_pub), Err("account signature mismatch".into()));
    }

    #[test]
    fn device_signature_round_trip() {
        let account = KeyPair::generate(&mut rand::rng());
        let companion = KeyPair::generate(&mut rand::rng());
        let mut identity_pub = [0u8; 32];
        identity_pub.copy_from_slice(companion.public_key.public_key_bytes());
        let details = b"details".to_vec();
        let mut msg = vec![6, 1];
        msg.extend_from_slice(&details);
        msg.extend_from_slice(&identity_pub);
        msg.extend_from_slice(account.public_key.public_key_bytes());
        let sig = companion.private_key.calculate_signature(&msg, &mut rand::rng()).unwrap();
        let reply = wa::ADVSignedDeviceIdentity { details: Some(details), device_signature: Some(sig.to_vec()), ..Default::default() }
            .encode_to_vec();
        verify_device_signature(&reply, &identity_pub, account.public_key.public_key_bytes()).unwrap();
        let wrong_account = KeyPair::generate(&mut rand::rng());
        assert!(verify_device_signature(&reply, &identity_pub, wrong_account.public_key.public_key_bytes()).is_err());
    }

    #[test]
    fn qr_parsing_accepts_both_client_shapes() {
        let k = BASE64_STANDARD.encode([1u8; 32]);
        let baileys = format!("2@abc,{k},{k},{k}");
        let wa_rust = format!("https://wa.me/settings/linked_devices#2@abc,{k},{k},{k},1");
        assert_eq!(parse_qr(&baileys).unwrap().pairing_ref, "2@abc");
        assert_eq!(parse_qr(&wa_rust).unwrap(), parse_qr(&baileys).unwrap());
        assert!(parse_qr("garbage").is_err());
        assert!(parse_qr(&format!("r,{k},short,{k}")).is_err());
    }

    #[test]
    fn ref_lifecycle() {
        let mut desk = PairingDesk::default();
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let t0 = Instant::now();
        let refs: Vec<String> = (0..REF_COUNT).map(|_| new_ref()).collect();
        let k = [1u8; 32];
        desk.add(WaitingClient {
            conn_id: 9,
            sender: tx,
            refs: refs.clone(),
            issued_at: t0,
            noise_pub: k,
            identity_pub: k,
            push_name: None,
            props: Default::default(),
        });
        let qr = |r: &str| QrData { pairing_ref: r.to_owned(), noise_pub: k, identity_pub: k, adv_secret: vec![1] };
        assert_eq!(desk.take_for_scan(&qr("nope"), t0).err(), Some(ScanRefusal::UnknownRef));
        // Ref 0 is superseded after 60 s.
        assert!(matches!(desk.take_for_scan(&qr(&refs[0]), t0 + Duration::from_secs(61)), Err(ScanRefusal::Gone(_))));
        // Ref 1 is on screen then.
        assert!(desk.take_for_scan(&qr(&refs[1]), t0 + Duration::from_secs(61)).is_ok());
        // Once paired, the same ref is gone, not unknown.
        assert!(matches!(desk.take_for_scan(&qr(&refs[1]), t0), Err(ScanRefusal::Gone(_))));
    }
}
