//! Conversion of every Baileys 6.7.21 key file type, against folders written by the real
//! Baileys (tests/fixtures/baileys-6.7.21, made by scripts/gen-baileys-fixtures.mjs):
//! Baileys' file → engine record → Baileys' file gives back what Baileys wrote, and the
//! engine decrypts, with the converted records, messages Baileys encrypted afterwards.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;
use shard_core::buffer_json;
use shard_core::session_store::baileys_address::DeviceAddress;
use shard_core::session_store::baileys_session::{self, SessionFile};
use shard_core::session_store::{baileys_app_state, baileys_sender_key, FileStore};
use wacore::store::traits::{AppSyncStore, DeviceInfo, DeviceListRecord, DeviceStore, ProtocolStore, SignalStore};
use wacore_libsignal::protocol::{
    group_decrypt, message_decrypt_signal, DeviceId, Direction, IdentityChange, IdentityKey, IdentityKeyPair, IdentityKeyStore, PrivateKey,
    ProtocolAddress, SenderKeyName, SenderKeyRecord, SenderKeyStore, SessionRecord, SessionStore, SignalMessage,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/baileys-6.7.21")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn vectors() -> Value {
    read_json(&fixtures().join("vectors.json"))
}

/// Files of `peer` whose name starts with `prefix`.
fn files(peer: &str, prefix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(fixtures().join(peer))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    out.sort();
    out
}

fn context(peer: &str) -> wacore_libsignal::protocol::LegacySessionLocalContext {
    let creds = read_json(&fixtures().join(peer).join("creds.json"));
    let identity = buffer_json::decode(&creds["signedIdentityKey"]["public"]).unwrap();
    baileys_session::local_context(&identity, creds["registrationId"].as_u64().unwrap() as u32).unwrap()
}

/// A session file with what the engine does not model (use times) blanked, and v1's "never
/// sent" previous counter (-1) read as the 0 it means.
fn comparable(file: &SessionFile) -> Value {
    let mut v = serde_json::to_value(file).unwrap();
    for (_, entry) in v["_sessions"].as_object_mut().unwrap().iter_mut() {
        entry["indexInfo"]["used"] = Value::Null;
        if entry["currentRatchet"]["previousCounter"] == -1 {
            entry["currentRatchet"]["previousCounter"] = 0.into();
        }
    }
    v
}

#[test]
fn every_session_file_round_trips_through_the_engine() {
    let mut seen = 0;
    for peer in ["a", "b"] {
        for path in files(peer, "session-") {
            let original = SessionFile::parse(&fs::read(&path).unwrap()).unwrap();
            let engine = baileys_session::to_engine(&original, context(peer)).unwrap();
            let back = baileys_session::from_engine(&engine, &original.index_infos(), 1_700_000_000_000).unwrap();
            assert_eq!(comparable(&back), comparable(&original), "{}", path.display());
            // Written in libsignal-node's layout: the open session first, chains in order.
            assert_eq!(SessionFile::parse(&back.to_json()).unwrap(), back);
            seen += 1;
        }
    }
    assert!(seen >= 4, "expected sessions with each other's and own devices, saw {seen}");
}

#[test]
fn session_files_are_named_by_baileys_address() {
    let v = vectors();
    let b_device =
        DeviceAddress::from_engine(&format!("{}.0", v["b"]["id"].as_str().unwrap().replace("@s.whatsapp.net", "@c.us"))).unwrap();
    assert!(fixtures().join("a").join(format!("session-{}.json", b_device.baileys())).exists());
}

/// One session and one identity, enough for a decrypt.
struct OneSession {
    record: Option<SessionRecord>,
    identity: IdentityKeyPair,
    registration_id: u32,
}

#[async_trait::async_trait]
impl SessionStore for OneSession {
    async fn load_session(&self, _: &ProtocolAddress) -> wacore_libsignal::protocol::error::Result<Option<SessionRecord>> {
        Ok(self.record.clone())
    }
    async fn has_session(&self, _: &ProtocolAddress) -> wacore_libsignal::protocol::error::Result<bool> {
        Ok(self.record.is_some())
    }
    async fn store_session(&mut self, _: &ProtocolAddress, record: SessionRecord) -> wacore_libsignal::protocol::error::Result<()> {
        self.record = Some(record);
        Ok(())
    }
}

#[async_trait::async_trait]
impl IdentityKeyStore for OneSession {
    async fn get_identity_key_pair(&self) -> wacore_libsignal::protocol::error::Result<IdentityKeyPair> {
        Ok(self.identity.clone())
    }
    async fn get_local_registration_id(&self) -> wacore_libsignal::protocol::error::Result<u32> {
        Ok(self.registration_id)
    }
    async fn save_identity(&mut self, _: &ProtocolAddress, _: &IdentityKey) -> wacore_libsignal::protocol::error::Result<IdentityChange> {
        Ok(IdentityChange::NewOrUnchanged)
    }
    async fn is_trusted_identity(
        &self,
        _: &ProtocolAddress,
        _: &IdentityKey,
        _: Direction,
    ) -> wacore_libsignal::protocol::error::Result<bool> {
        Ok(true)
    }
    async fn get_identity(&self, _: &ProtocolAddress) -> wacore_libsignal::protocol::error::Result<Option<IdentityKey>> {
        Ok(None)
    }
}

fn identity(peer: &str) -> (IdentityKeyPair, u32) {
    let creds = read_json(&fixtures().join(peer).join("creds.json"));
    let private = PrivateKey::deserialize(&buffer_json::decode(&creds["signedIdentityKey"]["private"]).unwrap()).unwrap();
    let public = IdentityKey::new(private.public_key().unwrap());
    (IdentityKeyPair::new(public, private), creds["registrationId"].as_u64().unwrap() as u32)
}

/// `1555…:1@s.whatsapp.net` → Baileys' `1555….1`.
fn baileys_address(jid: &str) -> String {
    let (user, _) = jid.split_once('@').unwrap();
    let (user, device) = user.split_once(':').unwrap_or((user, "0"));
    format!("{user}.{device}")
}

#[tokio::test]
async fn the_engine_decrypts_with_a_converted_baileys_session() {
    let v = vectors();
    let direct = &v["direct"];
    assert_eq!(direct["type"], "msg", "the vector is a message on an established session");
    let path = fixtures().join("b").join(format!("session-{}.json", baileys_address(direct["from"].as_str().unwrap())));
    let file = SessionFile::parse(&fs::read(&path).unwrap()).unwrap();
    let record = SessionRecord::deserialize(&baileys_session::to_engine(&file, context("b")).unwrap()).unwrap();
    let (identity, registration_id) = identity("b");
    let mut store = OneSession { record: Some(record), identity, registration_id };
    let ciphertext = B64.decode(direct["ciphertext"].as_str().unwrap()).unwrap();
    let message = SignalMessage::try_from(ciphertext.as_slice()).unwrap();
    let address = ProtocolAddress::new("peer", DeviceId::new(0));
    let mut identities = OneSession { record: None, identity: store.identity.clone(), registration_id };
    let result = message_decrypt_signal(&message, &address, &mut store, &mut identities, &mut rand::rng()).await.unwrap();
    assert_eq!(String::from_utf8(result.plaintext).unwrap(), direct["plaintext"].as_str().unwrap());

    // And the moved-on ratchet goes back to a file Baileys reads, with the counter advanced.
    let moved = baileys_session::from_engine(&store.record.unwrap().serialize().unwrap(), &file.index_infos(), 1).unwrap();
    assert_ne!(comparable(&moved), comparable(&file));
}

#[derive(Default)]
struct SenderKeys(HashMap<String, SenderKeyRecord>);

#[async_trait::async_trait]
impl SenderKeyStore for SenderKeys {
    async fn store_sender_key(&mut self, name: &SenderKeyName, record: SenderKeyRecord) -> wacore_libsignal::protocol::error::Result<()> {
        self.0.insert(name.cache_key().to_owned(), record);
        Ok(())
    }
    async fn load_sender_key(&self, name: &SenderKeyName) -> wacore_libsignal::protocol::error::Result<Option<SenderKeyRecord>> {
        Ok(self.0.get(name.cache_key()).cloned())
    }
}

#[test]
fn sender_key_files_round_trip_through_the_engine() {
    let mut seen = 0;
    for peer in ["a", "b"] {
        for path in files(peer, "sender-key-") {
            if path.file_name().unwrap().to_string_lossy().starts_with("sender-key-memory-") {
                continue;
            }
            let original = read_json(&path);
            let engine = baileys_sender_key::to_engine(&original).unwrap();
            let back = baileys_sender_key::from_engine(&engine).unwrap();
            let states = |v: &Value| -> Value { serde_json::from_slice(&buffer_json::decode(v).unwrap()).unwrap() };
            assert_eq!(normalize_buffers(states(&back)), normalize_buffers(states(&original)), "{}", path.display());
            seen += 1;
        }
    }
    assert_eq!(seen, 2, "a's own sender key and b's copy of it");
}

/// Node Buffers as plain byte arrays, whichever JSON form they were written in.
fn normalize_buffers(v: Value) -> Value {
    if let Some(bytes) = buffer_json::decode(&v) {
        return Value::from(bytes);
    }
    match v {
        Value::Array(a) => Value::Array(a.into_iter().map(normalize_buffers).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, normalize_buffers(v))).collect()),
        other => other,
    }
}

#[tokio::test]
async fn the_engine_decrypts_a_group_message_with_a_converted_sender_key() {
    let v = vectors();
    let group = v["group"].as_str().unwrap();
    let from = v["groupMessage"]["from"].as_str().unwrap();
    let path = files("b", "sender-key-").into_iter().find(|p| !p.to_string_lossy().contains("memory")).unwrap();
    let record = SenderKeyRecord::deserialize(&baileys_sender_key::to_engine(&read_json(&path)).unwrap()).unwrap();
    let name = SenderKeyName::new(group.to_owned(), format!("{from}.0"));
    let mut store = SenderKeys::default();
    store.0.insert(name.cache_key().to_owned(), record);
    let ciphertext = B64.decode(v["groupMessage"]["ciphertext"].as_str().unwrap()).unwrap();
    let plain = group_decrypt(&ciphertext, &mut store, &name).await.unwrap();
    assert_eq!(String::from_utf8(plain).unwrap(), v["groupMessage"]["plaintext"].as_str().unwrap());
}

#[test]
fn app_state_files_round_trip_through_the_engine() {
    let mut seen = 0;
    for peer in ["a", "b"] {
        for path in files(peer, "app-state-sync-key-") {
            let original = read_json(&path);
            let key = baileys_app_state::sync_key_from_baileys(&original).unwrap();
            assert_eq!(key.key_data.len(), 32);
            let back = baileys_app_state::sync_key_to_baileys(&key).unwrap();
            assert_eq!(normalize_long(back), normalize_long(original), "{}", path.display());
            seen += 1;
        }
        for path in files(peer, "app-state-sync-version-") {
            let original = read_json(&path);
            let (state, macs) = baileys_app_state::version_from_baileys(&original).unwrap();
            let back = baileys_app_state::version_to_baileys(&state, Some(&macs));
            assert_eq!(normalize_buffers(back), normalize_buffers(original), "{}", path.display());
        }
    }
    assert!(seen >= 2, "each device got the account's app-state sync key");
}

/// protobufjs writes int64 as a string, sometimes as a number: compare as numbers.
fn normalize_long(mut v: Value) -> Value {
    if let Some(s) = v["timestamp"].as_str() {
        v["timestamp"] = s.parse::<i64>().unwrap().into();
    }
    v
}

/// The whole folder, through the file store: opened without a skipped file, every session
/// served to the engine under its engine address, and written back in Baileys' form.
#[tokio::test]
async fn a_baileys_folder_opens_in_the_file_store_and_is_written_back_in_baileys_form() {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(fixtures().join("a")).unwrap().flatten() {
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let store = FileStore::open(dir.path()).await.unwrap();
    assert!(store.skipped_files().is_empty(), "{:?}", store.skipped_files());
    let device = store.load().await.unwrap().unwrap();
    assert!(device.pn.is_some() && device.account.is_some());

    let v = vectors();
    let b = v["b"]["id"].as_str().unwrap();
    let engine_address = format!("{}.0", b.replace("@s.whatsapp.net", "@c.us"));
    let record = store.get_session(&engine_address).await.unwrap().expect("a's session with b");
    let file_name = format!("session-{}.json", baileys_address(b));
    let before = fs::read(dir.path().join(&file_name)).unwrap();
    store.put_session(&engine_address, &record).await.unwrap();
    let after = SessionFile::parse(&fs::read(dir.path().join(&file_name)).unwrap()).unwrap();
    assert_eq!(comparable(&after), comparable(&SessionFile::parse(&before).unwrap()));
    assert!(!fs::read_dir(dir.path()).unwrap().flatten().any(|e| e.file_name().to_string_lossy().starts_with("rs-session-")));

    for path in files("a", "app-state-sync-key-") {
        let id = path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_start_matches("app-state-sync-key-")
            .trim_end_matches(".json")
            .replace("__", "/");
        assert!(store.get_sync_key(&B64.decode(id).unwrap()).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn a_baileys_file_that_cannot_be_converted_is_reported_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(fixtures().join("a")).unwrap().flatten() {
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let session = files("a", "session-").remove(0);
    let name = session.file_name().unwrap().to_string_lossy().into_owned();
    let mut broken = read_json(&session);
    broken["version"] = "v0".into();
    let text = serde_json::to_vec(&broken).unwrap();
    fs::write(dir.path().join(&name), &text).unwrap();

    let store = FileStore::open(dir.path()).await.unwrap();
    let skipped: Vec<_> = store.skipped_files().iter().map(|(n, reason)| (n.as_str(), reason.as_str())).collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].0, name);
    assert!(skipped[0].1.contains("version"), "{skipped:?}");
    assert_eq!(fs::read(dir.path().join(&name)).unwrap(), text);
}

#[test]
fn a_folder_paired_by_baileys_is_registered_although_creds_registered_is_false() {
    for peer in ["a", "b"] {
        let dir = fixtures().join(peer);
        assert_eq!(read_json(&dir.join("creds.json"))["registered"], false);
        let status = shard_core::check_session_status(&dir);
        assert!(status.exists && status.registered && status.valid, "{peer}: {status:?}");
    }
}

/// The engine moves a peer's sessions to its LID once it learns it; Baileys 6.7.21 keeps
/// addressing the peer by phone number, so the moved session stays in the phone-number file.
#[tokio::test]
async fn a_session_moved_to_the_peers_lid_stays_in_its_phone_number_file() {
    use wacore::store::traits::{LidPnMappingEntry, ProtocolStore};
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(fixtures().join("a")).unwrap().flatten() {
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let v = vectors();
    let (b_pn, b_lid) = (v["b"]["id"].as_str().unwrap(), v["b"]["lid"].as_str().unwrap());
    let phone = b_pn.split([':', '@']).next().unwrap();
    let lid = b_lid.split([':', '@']).next().unwrap();
    let pn_address = format!("{}.0", b_pn.replace("@s.whatsapp.net", "@c.us"));
    let lid_address = format!("{b_lid}.0");
    let file = dir.path().join(format!("session-{}.json", baileys_address(b_pn)));
    let original = SessionFile::parse(&fs::read(&file).unwrap()).unwrap();

    let store = FileStore::open(dir.path()).await.unwrap();
    let entry = LidPnMappingEntry {
        lid: lid.to_owned(),
        phone_number: phone.to_owned(),
        created_at: 0,
        updated_at: 0,
        learning_source: "test".into(),
    };
    store.put_lid_mapping(&entry).await.unwrap();
    // The engine's migration: the record under the LID address, then the phone-number one gone.
    let record = store.get_session(&pn_address).await.unwrap().unwrap();
    store.put_session(&lid_address, &record).await.unwrap();
    store.delete_session(&pn_address).await.unwrap();
    let lid_file = dir.path().join(format!("session-{}.json", baileys_address(b_lid)));
    assert!(!lid_file.exists());
    assert_eq!(comparable(&SessionFile::parse(&fs::read(&file).unwrap()).unwrap()), comparable(&original));

    // Reopened, it is served under the phone number (the engine migrates it again itself);
    // deleting the last form of the session removes the file.
    let reopened = FileStore::open(dir.path()).await.unwrap();
    assert!(reopened.get_session(&pn_address).await.unwrap().is_some());
    store.delete_session(&lid_address).await.unwrap();
    assert!(!file.exists());
}

/// The engine looks a received sender key up by the sender's bare jid (`{group}:{user}@c.us.0`)
/// and its own sending key by its device; Baileys files both per device. A key b holds for
/// a's device 1 is served under a's bare name and written back to a's device-1 file; a's own
/// key stays under a's device.
#[tokio::test]
async fn sender_keys_are_named_as_the_engine_looks_them_up_and_written_back_to_their_device_file() {
    let v = vectors();
    let group = v["group"].as_str().unwrap();
    let a = v["a"]["id"].as_str().unwrap();
    let (a_user, a_device) = a.split_once('@').unwrap().0.split_once(':').unwrap();
    let baileys_file = format!("sender-key-{group}--{a_user}--{a_device}.json");
    let bare = format!("{group}:{a_user}@c.us.0");
    let own = format!("{group}:{a_user}:{a_device}@c.us.0");

    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(fixtures().join("b")).unwrap().flatten() {
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let store = FileStore::open(dir.path()).await.unwrap();
    assert!(store.skipped_files().is_empty(), "{:?}", store.skipped_files());
    let record = store.get_sender_key(&bare).await.unwrap().expect("a's key under a's bare jid");
    assert!(store.get_sender_key(&own).await.unwrap().is_none());
    let before = read_json(&dir.path().join(&baileys_file));
    store.put_sender_key(&bare, &record).await.unwrap();
    let states = |v: &Value| -> Value { normalize_buffers(serde_json::from_slice(&buffer_json::decode(v).unwrap()).unwrap()) };
    assert_eq!(states(&read_json(&dir.path().join(&baileys_file))), states(&before));
    let names: Vec<String> = fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n == &format!("sender-key-{group}--{a_user}--0.json") || n.starts_with("rs-sender-key-")), "{names:?}");
    store.close();

    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(fixtures().join("a")).unwrap().flatten() {
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let store = FileStore::open(dir.path()).await.unwrap();
    assert!(store.get_sender_key(&own).await.unwrap().is_some(), "a's own key under its device");
    assert!(store.get_sender_key(&bare).await.unwrap().is_none());
}

/// A key the engine received itself (no Baileys file named its device) goes to the file of
/// every device the engine knows for that user, so Baileys finds it whichever device sent it;
/// reopened, the key is served again and later changes go to the same files.
#[tokio::test]
async fn a_sender_key_the_engine_received_goes_to_every_device_file_of_its_user() {
    let v = vectors();
    let group = v["group"].as_str().unwrap();
    let record = baileys_sender_key::to_engine(&read_json(
        &files("b", "sender-key-").into_iter().find(|p| !p.to_string_lossy().contains("memory")).unwrap(),
    ))
    .unwrap();
    let user = "15557654321";
    let bare = format!("{group}:{user}@c.us.0");
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).await.unwrap();
    let devices = [0u32, 2].iter().map(|&device_id| DeviceInfo { device_id, key_index: None, is_hosted: false }).collect();
    store.update_device_list(DeviceListRecord { user: user.to_owned(), devices, timestamp: 0, phash: None, raw_id: None }).await.unwrap();
    store.put_sender_key(&bare, &record).await.unwrap();
    let file = |d: u32| dir.path().join(format!("sender-key-{group}--{user}--{d}.json"));
    assert!(file(0).exists() && file(2).exists());
    store.close();

    let store = FileStore::open(dir.path()).await.unwrap();
    assert_eq!(store.get_sender_key(&bare).await.unwrap().as_deref(), Some(&record[..]));
    fs::remove_file(file(0)).unwrap();
    fs::remove_file(file(2)).unwrap();
    store.put_sender_key(&bare, &record).await.unwrap();
    assert!(file(0).exists() && file(2).exists());
}
