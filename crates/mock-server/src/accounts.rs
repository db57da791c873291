//! Accounts (a phone number, its LID, its mock phone's signing key) and their companion devices.
//!
//! Everything lives in memory for the life of the server. A push name maps deterministically to
//! a phone number, so two clients pairing with the same push name become two devices of one
//! account (device ids 1, 2, ...). The connection registry (device JID → sender) is here too,
//! because it is what a message router will need: "deliver this to every device of user X".

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use wacore_binary::Node;
use wacore_libsignal::protocol::KeyPair;

use crate::jid::split_jid;
use crate::phone_signal::PhoneSessions;

/// Something to push down one client connection.
#[derive(Debug)]
pub enum Outbound {
    Node(Node),
    /// Send this node (usually a `<stream:error>` or `<failure>`), then close the socket.
    CloseAfter(Node),
}

pub type ConnSender = mpsc::UnboundedSender<Outbound>;

/// Deterministic phone number for a push name: `1555` followed by 7 digits of SHA-256.
/// Pure, so the same push name gives the same number across server restarts too.
pub fn phone_for_push_name(push_name: &str) -> String {
    let n = hash_u64(b"phone", push_name.as_bytes()) % 10_000_000;
    format!("1555{n:07}")
}

/// Deterministic LID user for a phone number (15 digits, like WhatsApp's).
pub fn lid_for_phone(phone: &str) -> String {
    let n = hash_u64(b"lid", phone.as_bytes()) % 900_000_000_000_000;
    format!("{}", 100_000_000_000_000 + n)
}

/// The account key for a client that sent no push name (Baileys never does): derived from its
/// identity key, so each such client is an account of its own, stable across its reconnects.
pub fn anonymous_account_name(identity_pub: &[u8]) -> String {
    format!("anon-{:016x}", hash_u64(b"anon", identity_pub))
}

/// Name of the account a registering client joins: its push name, or (no push name, as with
/// Baileys) a name derived from its identity key.
pub fn account_name_for(push_name: Option<&str>, identity_pub: &[u8]) -> String {
    match push_name {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => anonymous_account_name(identity_pub),
    }
}

fn hash_u64(domain: &[u8], data: &[u8]) -> u64 {
    let mut h = Sha256::new();
    h.update(domain);
    h.update([0u8]);
    h.update(data);
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
}

/// A signed pre-key or one-time pre-key as uploaded by a device.
#[derive(Clone, Debug)]
pub struct UploadedKey {
    pub id: u32,
    pub public: Vec<u8>,
    pub signature: Option<Vec<u8>>,
}

/// What a device uploaded with its `encrypt` iq: enough to hand out pre-key bundles later.
#[derive(Clone, Debug, Default)]
pub struct KeyBundle {
    pub registration_id: Vec<u8>,
    pub identity: Vec<u8>,
    pub signed_pre_key: Option<UploadedKey>,
    pub pre_keys: Vec<UploadedKey>,
}

/// A companion's `DeviceProps` as the phone shows it in its linked-devices list: the OS name
/// and the platform (browser) type, e.g. `CHROME`.
#[derive(Clone, Debug, Default)]
pub struct CompanionProps {
    pub os: Option<String>,
    pub platform_type: Option<String>,
    /// `requireFullSync`: the device asked for the full history (Baileys' `syncFullHistory`).
    pub require_full_sync: bool,
}

/// One linked companion device.
#[derive(Clone, Debug)]
pub struct DeviceRecord {
    pub id: u16,
    /// Static Noise key the device logs in with; a login with another key is refused.
    pub noise_pub: [u8; 32],
    pub identity_pub: [u8; 32],
    pub key_index: u32,
    /// The `ADVSignedDeviceIdentity` the device returned in `pair-device-sign`; handed out
    /// with its pre-key bundle (`<device-identity>`) so peers can ADV-validate the bundle.
    pub signed_identity: Vec<u8>,
    pub bundle: KeyBundle,
    /// Whether the mock phone has sent this device the account's app-state sync key
    /// (once, after pairing, as a real phone does).
    pub key_shared: bool,
    pub props: CompanionProps,
}

#[cfg(test)]
impl Account {
    /// Links a device with no keys (for tests that only route stanzas to it); returns its id.
    pub fn link_placeholder_device(&mut self) -> u16 {
        let (id, key_index) = self.reserve_device();
        let record = DeviceRecord {
            id,
            noise_pub: [0; 32],
            identity_pub: [0; 32],
            key_index,
            signed_identity: Vec::new(),
            bundle: KeyBundle::default(),
            key_shared: true,
            props: CompanionProps::default(),
        };
        self.devices.insert(id, record);
        id
    }
}

/// The account's app-state sync key, which the mock phone shares with every companion (all
/// devices of an account must agree on it).
#[derive(Clone, Debug)]
pub struct AppStateKey {
    pub key_id: [u8; 6],
    pub key_data: [u8; 32],
    /// The account's ADV raw id (the key fingerprint's `rawId`).
    pub raw_id: u32,
    pub timestamp_ms: i64,
}

pub struct Account {
    pub name: String,
    pub phone: String,
    pub lid: String,
    /// The mock phone's account signature key (ADV), kept for the life of the server.
    pub signing_key: KeyPair,
    /// ADV raw id of this account (random, fixed per account).
    pub adv_raw_id: u32,
    pub devices: BTreeMap<u16, DeviceRecord>,
    /// The mock phone (device 0) as a Signal peer: clients fan every message out to it too
    /// (Baileys always includes device 0), so it needs a pre-key bundle. Its identity key is the
    /// ADV account key, as on a real phone. It decrypts what the account's own companions send
    /// it (phone_pdo.rs answers their peer data operation requests); what other accounts send
    /// it is dropped.
    pub phone_signed_pre_key: UploadedKey,
    /// The private half of `phone_signed_pre_key`, for a companion's `pkmsg` to the phone.
    pub phone_signed_pre_key_pair: KeyPair,
    pub phone_registration_id: u32,
    /// The phone's Signal sessions with the account's companions.
    pub phone_sessions: PhoneSessions,
    pub app_state_key: AppStateKey,
    next_device_id: u16,
    next_key_index: u32,
}

impl Account {
    fn new(name: &str, phone: String) -> Self {
        let signing_key = KeyPair::generate(&mut rand::rng());
        let spk = KeyPair::generate(&mut rand::rng());
        let signature = signing_key.calculate_signature(&spk.public_key.serialize(), &mut rand::rng()).map(|s| s.to_vec()).ok();
        let adv_raw_id: u32 = rand::random();
        let app_state_key = AppStateKey {
            key_id: rand::random(),
            key_data: rand::random(),
            raw_id: adv_raw_id,
            timestamp_ms: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0),
        };
        Self {
            name: name.to_owned(),
            lid: lid_for_phone(&phone),
            phone,
            signing_key,
            phone_signed_pre_key: UploadedKey { id: 1, public: spk.public_key.public_key_bytes().to_vec(), signature },
            phone_signed_pre_key_pair: spk,
            phone_sessions: PhoneSessions::default(),
            phone_registration_id: rand::random::<u32>() & 0x3fff,
            adv_raw_id,
            app_state_key,
            devices: BTreeMap::new(),
            next_device_id: 1,
            next_key_index: 1,
        }
    }

    /// Reserves a device id and ADV key index for a device being paired now.
    pub fn reserve_device(&mut self) -> (u16, u32) {
        let id = self.next_device_id;
        self.next_device_id = self.next_device_id.saturating_add(1);
        let key_index = self.next_key_index;
        self.next_key_index = self.next_key_index.saturating_add(1);
        (id, key_index)
    }

    pub fn pn_jid(&self, device: u16) -> String {
        format!("{}:{}@s.whatsapp.net", self.phone, device)
    }

    pub fn lid_jid(&self, device: u16) -> String {
        format!("{}:{}@lid", self.lid, device)
    }

    /// Device JID as the server writes it in `from`: device 0 has no `:0`.
    pub fn device_jid(&self, device: u16, lid: bool) -> String {
        let (user, server) = if lid { (&self.lid, "lid") } else { (&self.phone, "s.whatsapp.net") };
        if device == 0 {
            format!("{user}@{server}")
        } else {
            format!("{user}:{device}@{server}")
        }
    }

    /// The account's push name as peers see it (`notify`), if it has a real one.
    pub fn push_name(&self) -> Option<&str> {
        (!self.name.starts_with("anon-")).then_some(self.name.as_str())
    }
}

/// A live, logged-in connection.
#[derive(Clone)]
pub struct OnlineDevice {
    pub conn_id: u64,
    pub sender: ConnSender,
}

/// All accounts by phone number plus the live connections by device.
#[derive(Default)]
pub struct Directory {
    accounts: HashMap<String, Account>,
    /// `(phone, device)` → the connection currently logged in as that device.
    online: HashMap<(String, u16), OnlineDevice>,
}

impl Directory {
    /// The account for `name` (a push name or an anonymous name), created on first use.
    pub fn account_for_name(&mut self, name: &str) -> &mut Account {
        let phone = phone_for_push_name(name);
        self.accounts.entry(phone.clone()).or_insert_with(|| Account::new(name, phone))
    }

    /// The account of a given phone number (pairing-code login names its number), created on
    /// first use with `name` as its label.
    pub fn account_for_phone(&mut self, phone: &str, name: &str) -> &mut Account {
        self.accounts.entry(phone.to_owned()).or_insert_with(|| Account::new(name, phone.to_owned()))
    }

    pub fn account(&self, phone: &str) -> Option<&Account> {
        self.accounts.get(phone)
    }

    pub fn account_mut(&mut self, phone: &str) -> Option<&mut Account> {
        self.accounts.get_mut(phone)
    }

    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }

    pub fn device(&self, phone: &str, device: u16) -> Option<&DeviceRecord> {
        self.accounts.get(phone)?.devices.get(&device)
    }

    pub fn device_mut(&mut self, phone: &str, device: u16) -> Option<&mut DeviceRecord> {
        self.accounts.get_mut(phone)?.devices.get_mut(&device)
    }

    /// Marks a device online; returns the connection it replaces, if any.
    pub fn set_online(&mut self, phone: &str, device: u16, conn: OnlineDevice) -> Option<OnlineDevice> {
        self.online.insert((phone.to_owned(), device), conn)
    }

    /// Marks a device offline, but only if `conn_id` is still the connection on record (a newer
    /// connection may already have replaced it).
    pub fn set_offline(&mut self, phone: &str, device: u16, conn_id: u64) {
        let key = (phone.to_owned(), device);
        if self.online.get(&key).is_some_and(|o| o.conn_id == conn_id) {
            self.online.remove(&key);
        }
    }

    pub fn is_online(&self, phone: &str, device: u16) -> bool {
        self.online.contains_key(&(phone.to_owned(), device))
    }

    /// Live connections of every device of `phone` (what a message router fans out to).
    pub fn online_devices_of(&self, phone: &str) -> Vec<(u16, OnlineDevice)> {
        self.online.iter().filter(|((p, _), _)| p == phone).map(|((_, d), o)| (*d, o.clone())).collect()
    }

    /// Phone number of the account with this LID user, if any.
    pub fn phone_for_lid(&self, lid: &str) -> Option<String> {
        self.accounts.values().find(|a| a.lid == lid).map(|a| a.phone.clone())
    }
}

/// `PHONE[:DEV]@s.whatsapp.net` or `LID[:DEV]@lid` of a known account → (phone, device, is_lid).
pub fn resolve_jid(dir: &Directory, jid: &str) -> Option<(String, u16, bool)> {
    let (user, device, is_lid) = split_jid(jid)?;
    let phone = if is_lid { dir.phone_for_lid(&user)? } else { user };
    dir.account(&phone)?;
    Some((phone, device, is_lid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_name_to_phone_is_deterministic() {
        assert_eq!(phone_for_push_name("alice"), phone_for_push_name("alice"));
        assert_ne!(phone_for_push_name("alice"), phone_for_push_name("bob"));
        let p = phone_for_push_name("alice");
        assert_eq!(p.len(), 11);
        assert!(p.starts_with("1555"));
        assert!(p.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(lid_for_phone(&p), lid_for_phone(&p));
        assert_eq!(lid_for_phone(&p).len(), 15);
    }

    #[test]
    fn same_push_name_is_one_account_with_numbered_devices() {
        let mut dir = Directory::default();
        let (d1, _) = dir.account_for_name("carol").reserve_device();
        let (d2, _) = dir.account_for_name("carol").reserve_device();
        assert_eq!((d1, d2), (1, 2));
        assert_eq!(dir.accounts().count(), 1);
        dir.account_for_name("dave");
        assert_eq!(dir.accounts().count(), 2);
    }

    #[test]
    fn offline_only_removes_the_current_connection() {
        let mut dir = Directory::default();
        let (tx, _rx) = mpsc::unbounded_channel();
        dir.set_online("1", 1, OnlineDevice { conn_id: 1, sender: tx.clone() });
        dir.set_online("1", 1, OnlineDevice { conn_id: 2, sender: tx });
        dir.set_offline("1", 1, 1);
        assert!(dir.is_online("1", 1));
        dir.set_offline("1", 1, 2);
        assert!(!dir.is_online("1", 1));
    }
}
