//! The default session store: one folder per shard in Baileys' `useMultiFileAuthState`
//! layout, implementing whatsapp-rust's `Backend`.
//!
//! State is served from an in-memory backend (whatsapp-rust's own `InMemoryBackend`, which
//! holds the query semantics) and every durable write goes to its file first-class:
//! - in Baileys 6.7.21's own files, so Baileys can open the folder whenever the shard is
//!   stopped: `creds.json`, `pre-key-<id>.json`, `session-<user>.<device>.json`,
//!   `sender-key-<group>--<user>--<device>.json`, `app-state-sync-key-<id>.json`,
//!   `app-state-sync-version-<name>.json` (conversions in the `baileys_*` modules);
//! - engine state Baileys has no file for (identities, LID mappings, device lists, ...), or
//!   a record that has no Baileys form, in `rs-<kind>-<key>.json` files, which Baileys ignores.
//!   When both describe one key, the newer file wins (Baileys may have run since).
//!
//! Short-lived caches (retry payloads, message secrets, base keys) stay in memory.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use buffa::Message as _;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::libsignal::protocol::{KeyPair, PrivateKey, PublicKey};
use wacore::libsignal::store::record_helpers::new_pre_key_record;
use wacore::store::error::{Result, StoreError};
use wacore::store::traits::*;
use wacore::store::{Device, InMemoryBackend};

use super::atomic_file::{create_private_dir, remove_if_exists, replace_atomic, write_atomic, write_atomic_batch};
use super::baileys_address::{baileys_file_name, DeviceAddress, SenderKeyAddress};
use super::baileys_session::{self, PreviousIndex, SessionFile};
use super::pending_inbound::{PendingInbound, RecordKey};
use super::{baileys_app_state, baileys_sender_key, creds};
use crate::buffer_json;

pub const CREDS_FILE: &str = "creds.json";
const DEVICE_SIDE_FILE: &str = "rs-device.json";

/// Told about every `creds.json` write: the changed top-level fields, or why it failed.
pub type CredsListener = Arc<dyn Fn(std::result::Result<Value, String>) + Send + Sync>;

/// Engine state kept in `rs-<kind>-<key>.json` side files.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Identity,
    Session,
    SignedPreKey,
    SenderKey,
    SyncKey,
    SyncVersion,
    MutationMacs,
    LidMapping,
    DeviceList,
    SenderKeyDevices,
    TcToken,
    PendingInbound,
}

impl Kind {
    const ALL: [Kind; 12] = [
        Kind::Identity,
        Kind::Session,
        Kind::SignedPreKey,
        Kind::SenderKey,
        Kind::SyncKey,
        Kind::SyncVersion,
        Kind::MutationMacs,
        Kind::LidMapping,
        Kind::DeviceList,
        Kind::SenderKeyDevices,
        Kind::TcToken,
        Kind::PendingInbound,
    ];

    fn tag(self) -> &'static str {
        match self {
            Kind::Identity => "identity",
            Kind::Session => "session",
            Kind::SignedPreKey => "signed-pre-key",
            Kind::SenderKey => "sender-key",
            Kind::SyncKey => "app-state-sync-key",
            Kind::SyncVersion => "app-state-sync-version",
            Kind::MutationMacs => "mutation-macs",
            Kind::LidMapping => "lid-mapping",
            Kind::DeviceList => "device-list",
            Kind::SenderKeyDevices => "sender-key-devices",
            Kind::TcToken => "tc-token",
            Kind::PendingInbound => "pending-inbound",
        }
    }
}

/// A side file's key as a file name: letters, digits and `._@=+,-` as they are, every other
/// byte as `%XX`. One-to-one, so two keys never share a file (`123:4@…` and `123-4@…` did,
/// under the Baileys-like escaping of earlier versions; `migrate_side_file` renames those).
/// The real key is stored inside the file too.
fn file_safe(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"._@=+,-".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn json_bytes(value: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| StoreError::Serialization(Box::new(e)))
}

fn store_err(context: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Validation(format!("{context}: {e}"))
}

/// One app-state collection's mutation MACs, by index MAC.
type MacsByIndex = HashMap<Vec<u8>, Vec<u8>>;

pub struct FileStore {
    dir: PathBuf,
    inner: InMemoryBackend,
    /// App-state mutation MACs per collection; the in-memory backend cannot list them.
    mutation_macs: Mutex<HashMap<String, MacsByIndex>>,
    /// `creds.json` as last written, so Baileys-only fields survive and changes can be told.
    last_creds: Mutex<Option<Value>>,
    creds_listener: Mutex<Option<CredsListener>>,
    /// Files that could not be read at open, with the reason (reported, never deleted).
    skipped: Vec<(String, String)>,
    /// What Baileys' session files know and the engine does not (timestamps, base-key
    /// owner), by Baileys address, carried over on every rewrite.
    session_index: Mutex<HashMap<String, PreviousIndex>>,
    /// The device each of the engine's per-user received sender keys came from (see
    /// `received_sender_key`), so it is written back to that device's Baileys file.
    received_key_devices: Mutex<HashMap<String, Vec<DeviceAddress>>>,
    /// Set when the shard stops. Engine tasks can outlive the client (e.g. a pre-key upload in
    /// flight); after this they get an error instead of writing into a folder that may by
    /// then have been moved aside or reused by a new session of the same id.
    closed: AtomicBool,
    /// Pre-keys whose files have not been read yet: uploaded ones found at open, and every
    /// key the engine stores. A paired folder holds ~812 of them and a message uses one now
    /// and then, so they are read on first use (as Baileys does), not all at start: that was
    /// most of a shard's start-up time and memory.
    /// Async lock: held until the key read is in `inner`, so no caller sees it missing.
    unread_pre_keys: tokio::sync::Mutex<BTreeSet<u32>>,
    /// Received messages not yet handled by the bot (`pending_inbound`).
    pending_inbound: Mutex<PendingInbound>,
}

/// Makes the folder 0700 where it is looser (Unix): session keys are secrets, and Baileys
/// writes with the process' umask.
fn make_folder_private(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if fs::metadata(dir)?.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Tidies one entry of the folder while it is read at open: a stale temporary file is removed
/// (returns false: it is gone), a file with a looser mode than 0600 gets 0600 (Unix).
fn tidy_entry(path: &Path, name: &str, meta: &fs::Metadata) -> std::io::Result<bool> {
    if !meta.is_file() {
        return Ok(true);
    }
    if super::atomic_file::is_temp_file(name) {
        log::info!("removing {}, left by an interrupted write", path.display());
        fs::remove_file(path)?;
        return Ok(false);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(true)
}

impl FileStore {
    /// Opens (creating if needed) the session folder `dir` and loads its keys. The caller owns
    /// the folder (`SessionLock`): temporary files left by a process killed mid-write are removed
    /// and the folder and files made private, as a Baileys folder adopted as it is may not be
    /// (`load_key_files`, in the same pass that lists the folder).
    pub async fn open(dir: impl Into<PathBuf>) -> std::result::Result<Self, String> {
        let dir = dir.into();
        create_private_dir(&dir).map_err(|e| format!("cannot create session folder {}: {e}", dir.display()))?;
        make_folder_private(&dir).map_err(|e| format!("cannot make session folder {} private: {e}", dir.display()))?;
        let mut store = FileStore {
            dir,
            inner: InMemoryBackend::new(),
            pending_inbound: Mutex::default(),
            mutation_macs: Mutex::default(),
            last_creds: Mutex::default(),
            creds_listener: Mutex::default(),
            skipped: Vec::new(),
            session_index: Mutex::default(),
            received_key_devices: Mutex::default(),
            closed: AtomicBool::new(false),
            unread_pre_keys: tokio::sync::Mutex::default(),
        };
        store.load_key_files().await?;
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Key files that were unreadable at open (name, reason).
    pub fn skipped_files(&self) -> &[(String, String)] {
        &self.skipped
    }

    /// Refuses every later write or delete (see `closed`).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Validation(format!("session store {} is closed: the shard was stopped", self.dir.display())));
        }
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> Result<()> {
        self.check_open()?;
        remove_if_exists(path).map_err(StoreError::Io)
    }

    pub fn set_creds_listener(&self, listener: CredsListener) {
        *self.creds_listener.lock().unwrap_or_else(|p| p.into_inner()) = Some(listener);
    }

    fn pending_inbound(&self) -> std::sync::MutexGuard<'_, PendingInbound> {
        self.pending_inbound.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A side file named by an earlier version's escaping takes its one-to-one name. If a file
    /// of that name exists already, it was written by this version after the old one, so the
    /// old one is stale and removed (read later, it could override newer state).
    fn migrate_side_file(&self, name: &str, wanted: &Path) -> std::result::Result<(), String> {
        if wanted.file_name().is_some_and(|w| w == name) {
            return Ok(());
        }
        let old = self.dir.join(name);
        let result = if wanted.exists() { fs::remove_file(&old) } else { fs::rename(&old, wanted) };
        result.map_err(|e| format!("cannot rename {name} to {}: {e}", wanted.display()))
    }

    fn side_path(&self, kind: Kind, key: &str) -> PathBuf {
        self.dir.join(format!("rs-{}-{}.json", kind.tag(), file_safe(key)))
    }

    fn write_json(&self, path: &Path, value: &Value) -> Result<()> {
        self.write_bytes(path, &json_bytes(value)?)
    }

    fn write_bytes(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.check_open()?;
        write_atomic(path, bytes).map_err(StoreError::Io)
    }

    /// Ratchet state (sessions, sender keys): atomic but not fsynced, see [`replace_atomic`].
    fn write_ratchet_json(&self, path: &Path, value: &Value) -> Result<()> {
        self.write_ratchet_bytes(path, &json_bytes(value)?)
    }

    fn write_ratchet_bytes(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.check_open()?;
        replace_atomic(path, bytes).map_err(StoreError::Io)
    }

    fn put_side(&self, kind: Kind, key: &str, value: Value) -> Result<()> {
        let path = self.side_path(kind, key);
        let value = json!({ "key": key, "value": value });
        match kind {
            Kind::Session | Kind::SenderKey => self.write_ratchet_json(&path, &value),
            _ => self.write_json(&path, &value),
        }
    }

    fn put_side_bytes(&self, kind: Kind, key: &str, bytes: &[u8]) -> Result<()> {
        self.put_side(kind, key, buffer_json::encode(bytes))
    }

    fn put_side_serde<T: Serialize>(&self, kind: Kind, key: &str, value: &T) -> Result<()> {
        let value = serde_json::to_value(value).map_err(|e| StoreError::Serialization(Box::new(e)))?;
        self.put_side(kind, key, value)
    }

    fn remove_side(&self, kind: Kind, key: &str) -> Result<()> {
        self.remove_file(&self.side_path(kind, key))
    }

    fn pre_key_path(&self, id: u32) -> PathBuf {
        self.dir.join(format!("pre-key-{id}.json"))
    }

    fn read_json(path: &Path) -> std::result::Result<Value, String> {
        let text = fs::read(path).map_err(|e| e.to_string())?;
        serde_json::from_slice(&text).map_err(|e| format!("not valid JSON: {e}"))
    }

    /// Reads every key file into memory. A file that cannot be read is skipped and reported,
    /// so one damaged key never makes a whole paired session unusable.
    async fn load_key_files(&mut self) -> std::result::Result<(), String> {
        let entries = fs::read_dir(&self.dir).map_err(|e| format!("cannot read {}: {e}", self.dir.display()))?;
        let creds_json = Self::read_json(&self.dir.join(CREDS_FILE)).ok();
        let first_unuploaded =
            creds_json.as_ref().and_then(|c| c.get("firstUnuploadedPreKeyId").and_then(Value::as_u64)).unwrap_or(0) as u32;
        let mut files: Vec<(String, PathBuf, SystemTime)> = Vec::new();
        // One pass over the folder: it is tidied (`tidy_entry`) as it is listed.
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            // A file renamed or removed since the listing (a temporary file whose write just
            // finished) is simply gone.
            let gone = |err: &std::io::Error| err.kind() == std::io::ErrorKind::NotFound;
            let meta = match e.metadata() {
                Ok(meta) => meta,
                Err(err) if gone(&err) => continue,
                Err(err) => return Err(format!("cannot read {}: {err}", path.display())),
            };
            match tidy_entry(&path, &name, &meta) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(err) if gone(&err) => continue,
                Err(err) => return Err(format!("cannot tidy {}: {err}", path.display())),
            }
            if name.ends_with(".json") && !name.starts_with('.') && name != CREDS_FILE && name != DEVICE_SIDE_FILE {
                files.push((name, path, meta.modified().unwrap_or(UNIX_EPOCH)));
            }
        }
        // LID mappings first: they tell which of Baileys' addresses are LIDs.
        let lid_prefix = format!("rs-{}-", Kind::LidMapping.tag());
        files.sort_by_key(|(name, ..)| !name.starts_with(&lid_prefix));
        let mut load = Load { first_unuploaded, context: creds_json.as_ref().map(session_context), ..Load::default() };
        if let Some(lid) = creds_json.as_ref().and_then(|c| c.pointer("/me/lid")).and_then(Value::as_str) {
            load.lid_users.insert(lid.split(['@', ':']).next().unwrap_or_default().to_owned());
        }
        for field in ["/me/id", "/me/lid"] {
            if let Some(jid) = creds_json.as_ref().and_then(|c| c.pointer(field)).and_then(Value::as_str) {
                load.own_devices.extend(own_device(jid));
            }
        }
        let mut lids_known = false;
        for (name, path, mtime) in files {
            if !lids_known && !name.starts_with(&lid_prefix) {
                lids_known = true;
                let mappings = self.inner.get_all_lid_mappings().await.map_err(|e| e.to_string())?;
                load.lid_users.extend(mappings.into_iter().map(|m| m.lid));
            }
            if let Some(id) = uploaded_pre_key_id(&name, first_unuploaded) {
                self.unread_pre_keys.get_mut().insert(id);
                continue;
            }
            // A file that cannot be read (an I/O error, not bad content) fails the open: left
            // out, the engine would write a new key over it, and the session would lose it.
            let text = match fs::read(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("cannot read {name} in {}: {e}; the session was not opened", self.dir.display())),
            };
            if let Err(reason) = self.load_one(&name, &text, mtime, &mut load).await {
                log::warn!("session {}: skipping {name}: {reason}", self.dir.display());
                self.skipped.push((name, reason));
            }
        }
        self.apply_staged(load).await.map_err(|e| e.to_string())
    }

    /// Reads pre-key `id` into memory if its file has not been read yet. A file that cannot
    /// be read is logged and left as it is: the key is then missing, which the engine
    /// answers with a retry receipt, as for any unknown pre-key.
    async fn read_pre_key_if_unread(&self, id: u32) -> Result<()> {
        let mut unread = self.unread_pre_keys.lock().await;
        if !unread.remove(&id) {
            return Ok(());
        }
        let path = self.pre_key_path(id);
        let record = Self::read_json(&path).and_then(|json| pre_key_record_from_baileys(id, &json));
        match record {
            Ok(record) => self.inner.store_prekey(id, &record, true).await,
            Err(reason) => {
                log::warn!("session {}: skipping pre-key-{id}.json: {reason}", self.dir.display());
                Ok(())
            }
        }
    }

    /// Pre-keys just written to their files wait there for the message that uses one (read
    /// back by `read_pre_key_if_unread`). Kept in memory too, a new device's ~812 records (and
    /// the table that held them, which never shrinks) were most of an idle shard's memory.
    /// A key stored again under the same id replaces what memory had.
    async fn keep_pre_keys_on_disk(&self, ids: &[u32]) -> Result<()> {
        let mut unread = self.unread_pre_keys.lock().await;
        for &id in ids {
            self.inner.remove_prekey(id).await?;
            unread.insert(id);
        }
        Ok(())
    }

    /// Puts what several files may describe (a Baileys file and a side file) once, newest first.
    async fn apply_staged(&self, load: Load) -> Result<()> {
        for (address, (_, record)) in load.sessions {
            self.inner.put_session(&address, &record).await?;
        }
        let mut devices = self.received_key_devices.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for (name, (_, (record, device))) in load.sender_keys {
            if device.is_some() {
                // Every device file that holds this very record (one key may have been
                // written to several, see `baileys_sender_key_devices`).
                let same: Vec<DeviceAddress> =
                    load.received_files.get(&name).into_iter().flatten().filter(|(_, r)| *r == record).map(|(d, _)| d.clone()).collect();
                devices.insert(name.clone(), same);
            }
            self.inner.put_sender_key(&name, &record).await?;
        }
        *self.received_key_devices.lock().unwrap_or_else(|p| p.into_inner()) = devices;
        for (name, (_, (state, macs))) in load.versions {
            self.inner.set_version(&name, state).await?;
            if let Some(macs) = macs {
                self.mutation_macs.lock().unwrap_or_else(|p| p.into_inner()).insert(name, macs);
            }
        }
        for (group, (_, entries)) in load.sender_key_memory {
            let refs: Vec<(&str, bool)> = entries.iter().map(|(j, b)| (j.as_str(), *b)).collect();
            self.inner.set_sender_key_status(&group, &refs).await?;
        }
        Ok(())
    }

    async fn load_one(&self, name: &str, text: &[u8], mtime: SystemTime, load: &mut Load) -> std::result::Result<(), String> {
        let stem = name.strip_suffix(".json").unwrap_or(name);
        let json = || serde_json::from_slice::<Value>(text).map_err(|e| format!("not valid JSON: {e}"));
        if let Some(id) = stem.strip_prefix("pre-key-") {
            let id: u32 = id.parse().map_err(|_| "bad pre-key id".to_string())?;
            let record = pre_key_record_from_baileys(id, &json()?)?;
            return self.inner.store_prekey(id, &record, id < load.first_unuploaded).await.map_err(|e| e.to_string());
        }
        if let Some(id) = stem.strip_prefix("session-") {
            let device = DeviceAddress::from_baileys(id, &load.lid_users).ok_or("not a Baileys session address")?;
            let file = SessionFile::parse(text)?;
            let context = load.context.clone().unwrap_or_else(|| Err("creds.json is missing".into()))?;
            let record = baileys_session::to_engine(&file, context)?;
            self.session_index.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_owned(), file.index_infos());
            offer(&mut load.sessions, device.engine(), mtime, record);
            return Ok(());
        }
        if let Some(group) = stem.strip_prefix("sender-key-memory-") {
            // Which devices already got our sender key: the engine's sender-key device status.
            let entries = baileys_sender_key::memory_to_engine(&json()?)?;
            offer(&mut load.sender_key_memory, group.to_owned(), mtime, entries);
            return Ok(());
        }
        if let Some(id) = stem.strip_prefix("sender-key-") {
            let address = sender_key_from_file_id(id, &load.lid_users).ok_or("not a Baileys sender-key address")?;
            let record = baileys_sender_key::to_engine(&json()?)?;
            let own = load.own_devices.iter().any(|d| d.user == address.sender.user && d.device == address.sender.device);
            if own {
                offer(&mut load.sender_keys, address.engine(), mtime, (record, None));
            } else {
                let (name, device) = received_sender_key(address);
                load.received_files.entry(name.clone()).or_default().push((device.clone(), record.clone()));
                offer(&mut load.sender_keys, name, mtime, (record, Some(device)));
            }
            return Ok(());
        }
        if let Some(id) = stem.strip_prefix("app-state-sync-key-") {
            let key_id = buffer_json::decode_bytes_or_base64(&json!(id.replace("__", "/"))).ok_or("key id is not base64")?;
            let key = baileys_app_state::sync_key_from_baileys(&json()?)?;
            return self.inner.set_sync_key(&key_id, key).await.map_err(|e| e.to_string());
        }
        if let Some(collection) = stem.strip_prefix("app-state-sync-version-") {
            let (state, macs) = baileys_app_state::version_from_baileys(&json()?)?;
            offer(&mut load.versions, collection.to_owned(), mtime, (state, Some(macs)));
            return Ok(());
        }
        let Some(rest) = name.strip_prefix("rs-") else {
            return Ok(()); // A Baileys file the engine has no use for: left as is.
        };
        // The longest tag that fits: `sender-key-devices-…` is not a `sender-key-…`.
        let Some(kind) = Kind::ALL.into_iter().filter(|k| rest.starts_with(&format!("{}-", k.tag()))).max_by_key(|k| k.tag().len()) else {
            return Ok(());
        };
        let value = json()?;
        let key = value.get("key").and_then(Value::as_str).ok_or("no key")?.to_owned();
        self.migrate_side_file(name, &self.side_path(kind, &key))?;
        let value = value.get("value").ok_or("no value")?;
        let bytes = || buffer_json::decode(value).ok_or_else(|| "value is not a Buffer".to_string());
        fn serde<T: DeserializeOwned>(v: &Value) -> std::result::Result<T, String> {
            serde_json::from_value(v.clone()).map_err(|e| e.to_string())
        }
        let inner = &self.inner;
        let r = match kind {
            Kind::Identity => {
                let key_bytes: [u8; 32] = bytes()?.try_into().map_err(|_| "identity is not 32 bytes")?;
                inner.put_identity(&key, key_bytes).await
            }
            Kind::Session => {
                offer(&mut load.sessions, key, mtime, bytes()?);
                Ok(())
            }
            Kind::SignedPreKey => inner.store_signed_prekey(key.parse().map_err(|_| "bad id")?, &bytes()?).await,
            Kind::SenderKey => {
                offer(&mut load.sender_keys, key, mtime, (bytes()?, None));
                Ok(())
            }
            Kind::SyncKey => {
                let id = buffer_json::decode_bytes_or_base64(&json!(key)).ok_or("bad key id")?;
                inner.set_sync_key(&id, serde(value)?).await
            }
            Kind::SyncVersion => {
                // Written by earlier versions; its MACs are in `rs-mutation-macs-*`.
                offer(&mut load.versions, key, mtime, (serde(value)?, None));
                Ok(())
            }
            Kind::MutationMacs => {
                let map: HashMap<String, String> = serde(value)?;
                let mut macs = HashMap::with_capacity(map.len());
                for (k, v) in map {
                    let k = buffer_json::decode_bytes_or_base64(&json!(k)).ok_or("bad index mac")?;
                    let v = buffer_json::decode_bytes_or_base64(&json!(v)).ok_or("bad value mac")?;
                    macs.insert(k, v);
                }
                self.mutation_macs.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_insert(macs);
                Ok(())
            }
            Kind::LidMapping => inner.put_lid_mapping(&serde(value)?).await,
            Kind::DeviceList => inner.update_device_list(serde(value)?).await,
            Kind::SenderKeyDevices => {
                // Written by earlier versions; now kept in Baileys' sender-key-memory file.
                offer(&mut load.sender_key_memory, key, mtime, serde(value)?);
                Ok(())
            }
            Kind::TcToken => inner.put_tc_token(&key, &serde(value)?).await,
            Kind::PendingInbound => {
                let (key, message, written) = PendingInbound::parse(value)?;
                self.pending_inbound().insert(key, message, written);
                Ok(())
            }
        };
        r.map_err(|e| e.to_string())
    }

    fn baileys_path(&self, kind: &str, id: &str) -> PathBuf {
        self.dir.join(baileys_file_name(kind, id))
    }

    /// Baileys 6.7.21 addresses peers by phone number and names their sessions without a
    /// server: a LID device whose number the engine knows is filed under that number, so
    /// Baileys finds the ratchet the engine moved to the LID (the engine moves a peer's
    /// sessions to its LID as soon as it learns it, and back on our next open).
    async fn baileys_device(&self, device: &DeviceAddress) -> DeviceAddress {
        if device.lid {
            if let Ok(Some(m)) = self.inner.get_lid_mapping(&device.user).await {
                return DeviceAddress { user: m.phone_number, device: device.device, lid: false };
            }
        }
        device.clone()
    }

    /// The same device in the other namespace (phone number ⇄ LID), when the mapping is known.
    async fn counterpart(&self, device: &DeviceAddress) -> Option<DeviceAddress> {
        let (user, lid) = if device.lid {
            (self.inner.get_lid_mapping(&device.user).await.ok()??.phone_number, false)
        } else {
            (self.inner.get_pn_mapping(&device.user).await.ok()??.lid, true)
        };
        Some(DeviceAddress { user, device: device.device, lid })
    }

    /// Writes a session in Baileys' file when it has a Baileys form, else in a side file.
    async fn persist_session(&self, address: &str, record: &[u8]) -> Result<()> {
        if let Some(device) = DeviceAddress::from_engine(address) {
            let id = self.baileys_device(&device).await.baileys();
            let before = self.session_index.lock().unwrap_or_else(|p| p.into_inner()).get(&id).cloned().unwrap_or_default();
            match baileys_session::from_engine(record, &before, now_ms()) {
                Ok(file) => {
                    self.write_ratchet_bytes(&self.baileys_path("session", &id), &file.to_json())?;
                    self.session_index.lock().unwrap_or_else(|p| p.into_inner()).insert(id, file.index_infos());
                    return self.remove_side(Kind::Session, address);
                }
                Err(e) => log::warn!(
                    "session {}: the session with {address} has no Baileys form ({e}); kept in a side file, session-{id}.json left as it was",
                    self.dir.display()
                ),
            }
        }
        self.put_side_bytes(Kind::Session, address, record)
    }

    async fn remove_session_files(&self, address: &str) -> Result<()> {
        self.remove_side(Kind::Session, address)?;
        let Some(device) = DeviceAddress::from_engine(address) else {
            return Ok(());
        };
        // The device's session in the other namespace shares the file: it stays, as that one.
        if let Some(other) = self.counterpart(&device).await {
            let other = other.engine();
            if let Some(record) = self.inner.get_session(&other).await? {
                return self.persist_session(&other, &record).await;
            }
        }
        let id = self.baileys_device(&device).await.baileys();
        self.remove_file(&self.baileys_path("session", &id))?;
        self.session_index.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        Ok(())
    }

    /// Our own devices, from `creds.json` as last written or read.
    fn own_devices(&self) -> Vec<DeviceAddress> {
        let mut last = self.last_creds.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none() {
            *last = Self::read_json(&self.dir.join(CREDS_FILE)).ok();
        }
        ["/me/id", "/me/lid"].iter().filter_map(|f| last.as_ref()?.pointer(f)?.as_str().and_then(own_device)).collect()
    }

    /// The Baileys devices whose `sender-key-*` files hold the engine's sender key `name`.
    /// A received key (the engine names it per user, see `received_sender_key`) goes to the
    /// device it was read from; one the engine got itself, to every device it knows of that
    /// user but ours (it cannot tell which one sent it; in another device's file it is only a
    /// key id that device never uses, which Baileys treats as a missing key), else device 0.
    async fn baileys_sender_key_devices(&self, name: &str, address: &SenderKeyAddress) -> Vec<DeviceAddress> {
        let sender = self.baileys_device(&address.sender).await;
        if address.sender.device != 0 {
            return vec![sender];
        }
        let loaded = self.received_key_devices.lock().unwrap_or_else(|p| p.into_inner()).get(name).cloned();
        if let Some(devices) = loaded.filter(|d| !d.is_empty()) {
            return devices;
        }
        let own = self.own_devices();
        let mut devices = Vec::new();
        // The engine files a device list under whichever namespace it learnt (often the LID).
        let other = self.counterpart(&address.sender).await.map(|d| d.user);
        for user in [Some(&address.sender.user), Some(&sender.user), other.as_ref()].into_iter().flatten() {
            if let Ok(Some(list)) = self.inner.get_devices(user).await {
                for d in list.devices.iter().filter(|d| !d.is_hosted) {
                    let device = DeviceAddress { device: d.device_id, ..sender.clone() };
                    let ours = own.iter().any(|o| o.user == device.user && o.device == device.device);
                    if !ours && !devices.contains(&device) {
                        devices.push(device);
                    }
                }
            }
        }
        if devices.is_empty() {
            devices.push(sender);
        }
        devices
    }

    async fn persist_sender_key(&self, name: &str, record: &[u8]) -> Result<()> {
        if let Some(address) = SenderKeyAddress::from_engine(name) {
            match baileys_sender_key::from_engine(record) {
                Ok(value) => {
                    for sender in self.baileys_sender_key_devices(name, &address).await {
                        let file = SenderKeyAddress { group: address.group.clone(), sender };
                        self.write_ratchet_json(&self.baileys_path("sender-key", &file.baileys()), &value)?;
                    }
                    return self.remove_side(Kind::SenderKey, name);
                }
                Err(e) => log::warn!("session {}: sender key {name} has no Baileys form ({e}); kept in a side file", self.dir.display()),
            }
        }
        self.put_side_bytes(Kind::SenderKey, name, record)
    }

    async fn remove_sender_key_files(&self, name: &str) -> Result<()> {
        if let Some(address) = SenderKeyAddress::from_engine(name) {
            for sender in self.baileys_sender_key_devices(name, &address).await {
                let file = SenderKeyAddress { group: address.group.clone(), sender };
                self.remove_file(&self.baileys_path("sender-key", &file.baileys()))?;
            }
        }
        self.remove_side(Kind::SenderKey, name)
    }

    /// `app-state-sync-version-<name>.json` from the collection's state and MACs.
    fn persist_app_state(&self, name: &str, state: &HashState) -> Result<()> {
        let value = {
            let all = self.mutation_macs.lock().unwrap_or_else(|p| p.into_inner());
            baileys_app_state::version_to_baileys(state, all.get(name))
        };
        self.write_json(&self.baileys_path("app-state-sync-version", name), &value)?;
        // Superseded forms written by earlier versions.
        self.remove_side(Kind::SyncVersion, name)?;
        self.remove_side(Kind::MutationMacs, name)
    }

    /// Groups with a sender-key memory file (Baileys' or an earlier version's side file).
    fn sender_key_memory_groups(&self) -> Vec<String> {
        let mut groups = self.side_keys(Kind::SenderKeyDevices);
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(group) = name.strip_prefix("sender-key-memory-").and_then(|n| n.strip_suffix(".json")) {
                    groups.push(group.to_owned());
                }
            }
        }
        groups.sort();
        groups.dedup();
        groups
    }

    /// Baileys' `sender-key-memory-<group>.json` mirrors the engine's record of who has our
    /// sender key: after the engine forgets it (a new key, a retry), Baileys must hand the
    /// key out again too, or its next message would not decrypt there.
    async fn persist_sender_key_devices(&self, group_jid: &str) -> Result<()> {
        let entries = self.inner.get_sender_key_devices(group_jid).await?;
        let path = self.baileys_path("sender-key-memory", group_jid);
        if entries.is_empty() {
            self.remove_file(&path)?;
        } else {
            self.write_json(&path, &baileys_sender_key::memory_from_engine(&entries))?;
        }
        self.remove_side(Kind::SenderKeyDevices, group_jid)
    }

    async fn persist_mutation_macs(&self, name: &str) -> Result<()> {
        let state = self.inner.get_version(name).await?;
        self.persist_app_state(name, &state)
    }

    fn notify_creds(&self, result: std::result::Result<Value, String>) {
        let listener = self.creds_listener.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(listener) = listener {
            listener(result);
        }
    }

    fn save_device(&self, device: &Device) -> Result<Value> {
        let mut last = self.last_creds.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none() {
            *last = Self::read_json(&self.dir.join(CREDS_FILE)).ok();
        }
        let creds_json = creds::device_to_creds(device, last.as_ref());
        // Side file first: if we crash between the two writes, creds.json (the file Baileys
        // and we both trust) still holds the previous identity and the mismatch is detected.
        let side = serde_json::to_value(device).map_err(|e| StoreError::Serialization(Box::new(e)))?;
        self.write_json(&self.dir.join(DEVICE_SIDE_FILE), &side)?;
        self.write_json(&self.dir.join(CREDS_FILE), &creds_json)?;
        let changed = changed_fields(last.as_ref(), &creds_json);
        *last = Some(creds_json);
        Ok(changed)
    }
}

/// A sender-key record as read: the record and, for a received key, the Baileys device it came from.
type SenderKeyRead = (Vec<u8>, Option<DeviceAddress>);

/// What the load of a folder carries between files.
#[derive(Default)]
struct Load {
    first_unuploaded: u32,
    /// Our identity and registration id, from `creds.json` (Baileys' sessions do not hold them).
    context: Option<std::result::Result<wacore_libsignal::protocol::LegacySessionLocalContext, String>>,
    /// Users known to be LIDs: Baileys 6.7.21 names sessions without a server.
    lid_users: HashSet<String>,
    sessions: HashMap<String, (SystemTime, Vec<u8>)>,
    /// Our own devices (phone number and LID), from `creds.json`.
    own_devices: Vec<DeviceAddress>,
    /// Engine name → (record, the Baileys device it was read from, for a received key).
    sender_keys: HashMap<String, (SystemTime, SenderKeyRead)>,
    /// Engine name of a received key → every (Baileys device, record) file read for it.
    received_files: HashMap<String, Vec<(DeviceAddress, Vec<u8>)>>,
    /// Group → (device jid, has our sender key).
    sender_key_memory: HashMap<String, (SystemTime, Vec<(String, bool)>)>,
    versions: HashMap<String, (SystemTime, (HashState, Option<baileys_app_state::MutationMacs>))>,
}

/// Keeps `value` for `key` unless a newer file already gave one.
fn offer<T>(map: &mut HashMap<String, (SystemTime, T)>, key: String, mtime: SystemTime, value: T) {
    if map.get(&key).is_none_or(|(seen, _)| *seen <= mtime) {
        map.insert(key, (mtime, value));
    }
}

fn session_context(creds: &Value) -> std::result::Result<wacore_libsignal::protocol::LegacySessionLocalContext, String> {
    let identity = creds.pointer("/signedIdentityKey/public").and_then(buffer_json::decode).ok_or("creds.json has no signedIdentityKey")?;
    let registration_id = creds.get("registrationId").and_then(Value::as_u64).ok_or("creds.json has no registrationId")?;
    baileys_session::local_context(&identity, registration_id as u32)
}

/// `sender-key-<group>--<user>--<device>` names a group jid whose ':' (there are none) became
/// '-': the user and device are the last two `--` parts, the group jid is the rest.
fn sender_key_from_file_id(id: &str, lid_users: &HashSet<String>) -> Option<SenderKeyAddress> {
    let mut parts = id.rsplitn(3, "--");
    let (device, user, group) = (parts.next()?, parts.next()?, parts.next()?);
    SenderKeyAddress::from_baileys(&format!("{group}::{user}::{device}"), lid_users)
}

/// The engine keeps the sender keys it receives per user, not per device (it looks them up
/// by the sender's bare jid, as WhatsApp sends `skmsg` with a bare participant), while Baileys
/// files them per device; only our own sending key is named with our device. So another
/// device's key from Baileys is named per user for the engine, and its device is remembered
/// for the way back. Two devices of one user with keys in one group: the newer file wins.
fn received_sender_key(address: SenderKeyAddress) -> (String, DeviceAddress) {
    let device = address.sender.clone();
    let per_user = SenderKeyAddress { group: address.group, sender: DeviceAddress { device: 0, ..address.sender } };
    (per_user.engine(), device)
}

/// Our device in `creds.json`'s `me.id` / `me.lid` (`user:device@server`).
fn own_device(jid: &str) -> Option<DeviceAddress> {
    let (user_device, server) = jid.split_once('@')?;
    let (user, device) = user_device.split_once(':').unwrap_or((user_device, "0"));
    Some(DeviceAddress { user: user.to_owned(), device: device.parse().ok()?, lid: server == "lid" })
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The top-level fields of `new` that differ from `old` (Baileys' `creds.update` payload).
fn changed_fields(old: Option<&Value>, new: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(new) = new.as_object() {
        for (k, v) in new {
            if old.and_then(|o| o.get(k)) != Some(v) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// A 32-byte Curve25519 public key from either the raw form or the 0x05-prefixed one.
fn djb_public_key(bytes: &[u8]) -> std::result::Result<PublicKey, String> {
    let raw = match bytes {
        [5, rest @ ..] if rest.len() == 32 => rest,
        raw => raw,
    };
    PublicKey::from_djb_public_key_bytes(raw).map_err(|e| e.to_string())
}

/// The id of `pre-key-<id>.json` when that key was already uploaded (below
/// `firstUnuploadedPreKeyId`): such files are read on first use, see `unread_pre_keys`.
fn uploaded_pre_key_id(file_name: &str, first_unuploaded: u32) -> Option<u32> {
    let id: u32 = file_name.strip_prefix("pre-key-")?.strip_suffix(".json")?.parse().ok()?;
    (id < first_unuploaded).then_some(id)
}

/// `pre-key-<id>.json` (`{ private, public }`, 32-byte keys) → whatsapp-rust's record bytes.
fn pre_key_record_from_baileys(id: u32, value: &Value) -> std::result::Result<Vec<u8>, String> {
    let private = value.get("private").and_then(buffer_json::decode).ok_or("missing private")?;
    let public = value.get("public").and_then(buffer_json::decode).ok_or("missing public")?;
    let private = PrivateKey::deserialize(&private).map_err(|e| e.to_string())?;
    let key_pair = KeyPair::new(djb_public_key(&public)?, private);
    Ok(new_pre_key_record(id, &key_pair).encode_to_vec())
}

/// whatsapp-rust's prekey record bytes → Baileys' `pre-key-<id>.json` object.
fn pre_key_record_to_baileys(record: &[u8]) -> Result<Value> {
    let rec = waproto::whatsapp::PreKeyRecordStructure::decode_from_slice(record).map_err(|e| store_err("prekey record", e))?;
    let public = rec.public_key.as_deref().ok_or_else(|| store_err("prekey record", "no public key"))?;
    let private = rec.private_key.as_deref().ok_or_else(|| store_err("prekey record", "no private key"))?;
    let public = djb_public_key(public).map_err(|e| store_err("prekey public key", e))?;
    let kp = KeyPair::new(public, PrivateKey::deserialize(private).map_err(|e| store_err("prekey private key", e))?);
    Ok(json!({
        "private": buffer_json::encode(kp.private_key.serialize()),
        "public": buffer_json::encode(kp.public_key.public_key_bytes()),
    }))
}

#[async_trait]
impl SignalStore for FileStore {
    async fn put_identity(&self, address: &str, key: [u8; 32]) -> Result<()> {
        self.put_side_bytes(Kind::Identity, address, &key)?;
        self.inner.put_identity(address, key).await
    }
    async fn load_identity(&self, address: &str) -> Result<Option<[u8; 32]>> {
        self.inner.load_identity(address).await
    }
    async fn delete_identity(&self, address: &str) -> Result<()> {
        self.remove_side(Kind::Identity, address)?;
        self.inner.delete_identity(address).await
    }
    async fn get_session(&self, address: &str) -> Result<Option<Bytes>> {
        self.inner.get_session(address).await
    }
    async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
        self.persist_session(address, session).await?;
        self.inner.put_session(address, session).await
    }
    async fn delete_session(&self, address: &str) -> Result<()> {
        self.remove_session_files(address).await?;
        self.inner.delete_session(address).await
    }
    async fn has_session(&self, address: &str) -> Result<bool> {
        self.inner.has_session(address).await
    }
    async fn has_signal_state_for_user(&self, user: &str) -> Result<bool> {
        self.inner.has_signal_state_for_user(user).await
    }
    async fn store_prekey(&self, id: u32, record: &[u8], _uploaded: bool) -> Result<()> {
        self.write_json(&self.pre_key_path(id), &pre_key_record_to_baileys(record)?)?;
        self.keep_pre_keys_on_disk(&[id]).await
    }
    async fn store_prekeys_batch(&self, keys: &[(u32, Bytes)], _uploaded: bool) -> Result<()> {
        let files = keys
            .iter()
            .map(|(id, record)| {
                let json = json_bytes(&pre_key_record_to_baileys(record)?)?;
                Ok((self.pre_key_path(*id), json))
            })
            .collect::<Result<Vec<_>>>()?;
        self.check_open()?;
        write_atomic_batch(&self.dir, &files).map_err(StoreError::Io)?;
        let ids: Vec<u32> = keys.iter().map(|(id, _)| *id).collect();
        self.keep_pre_keys_on_disk(&ids).await
    }
    async fn load_prekey(&self, id: u32) -> Result<Option<Bytes>> {
        self.read_pre_key_if_unread(id).await?;
        self.inner.load_prekey(id).await
    }
    async fn load_prekeys_batch(&self, ids: &[u32]) -> Result<Vec<(u32, Bytes)>> {
        for id in ids {
            self.read_pre_key_if_unread(*id).await?;
        }
        self.inner.load_prekeys_batch(ids).await
    }
    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        // Durable through creds.firstUnuploadedPreKeyId, which the engine advances itself.
        self.inner.mark_prekeys_uploaded(ids).await?;
        // A key a message read back before its upload was confirmed goes back to disk too.
        // Under the unread lock, so a concurrent read or removal sees one consistent state.
        let mut unread = self.unread_pre_keys.lock().await;
        for &id in ids {
            if self.inner.load_prekey(id).await?.is_some() {
                self.inner.remove_prekey(id).await?;
                unread.insert(id);
            }
        }
        Ok(())
    }
    async fn remove_prekey(&self, id: u32) -> Result<()> {
        self.remove_file(&self.pre_key_path(id))?;
        self.unread_pre_keys.lock().await.remove(&id);
        self.inner.remove_prekey(id).await
    }
    async fn get_max_prekey_id(&self) -> Result<u32> {
        let unread = self.unread_pre_keys.lock().await.last().copied().unwrap_or(0);
        Ok(self.inner.get_max_prekey_id().await?.max(unread))
    }
    async fn store_signed_prekey(&self, id: u32, record: &[u8]) -> Result<()> {
        self.put_side_bytes(Kind::SignedPreKey, &id.to_string(), record)?;
        self.inner.store_signed_prekey(id, record).await
    }
    async fn load_signed_prekey(&self, id: u32) -> Result<Option<Vec<u8>>> {
        self.inner.load_signed_prekey(id).await
    }
    async fn load_all_signed_prekeys(&self) -> Result<Vec<(u32, Vec<u8>)>> {
        self.inner.load_all_signed_prekeys().await
    }
    async fn remove_signed_prekey(&self, id: u32) -> Result<()> {
        self.remove_side(Kind::SignedPreKey, &id.to_string())?;
        self.inner.remove_signed_prekey(id).await
    }
    async fn put_sender_key(&self, address: &str, record: &[u8]) -> Result<()> {
        self.persist_sender_key(address, record).await?;
        self.inner.put_sender_key(address, record).await
    }
    async fn get_sender_key(&self, address: &str) -> Result<Option<Vec<u8>>> {
        self.inner.get_sender_key(address).await
    }
    async fn delete_sender_key(&self, address: &str) -> Result<()> {
        self.remove_sender_key_files(address).await?;
        self.inner.delete_sender_key(address).await
    }
}

#[async_trait]
impl AppSyncStore for FileStore {
    async fn get_sync_key(&self, key_id: &[u8]) -> Result<Option<AppStateSyncKey>> {
        self.inner.get_sync_key(key_id).await
    }
    async fn set_sync_key(&self, key_id: &[u8], key: AppStateSyncKey) -> Result<()> {
        let id = buffer_json::base64(key_id);
        match baileys_app_state::sync_key_to_baileys(&key) {
            Ok(value) => self.write_json(&self.baileys_path("app-state-sync-key", &id), &value)?,
            Err(e) => {
                log::warn!("session {}: app-state sync key {id} has no Baileys form ({e}); kept in a side file", self.dir.display());
                self.put_side_serde(Kind::SyncKey, &id, &key)?;
            }
        }
        self.inner.set_sync_key(key_id, key).await
    }
    async fn get_version(&self, name: &str) -> Result<HashState> {
        self.inner.get_version(name).await
    }
    async fn set_version(&self, name: &str, state: HashState) -> Result<()> {
        self.persist_app_state(name, &state)?;
        self.inner.set_version(name, state).await
    }
    async fn put_mutation_macs(&self, name: &str, _version: u64, mutations: &[AppStateMutationMAC]) -> Result<()> {
        {
            let mut all = self.mutation_macs.lock().unwrap_or_else(|p| p.into_inner());
            let macs = all.entry(name.to_owned()).or_default();
            for m in mutations {
                macs.insert(m.index_mac.clone(), m.value_mac.clone());
            }
        }
        self.persist_mutation_macs(name).await
    }
    async fn get_mutation_mac(&self, name: &str, index_mac: &[u8]) -> Result<Option<Vec<u8>>> {
        let all = self.mutation_macs.lock().unwrap_or_else(|p| p.into_inner());
        Ok(all.get(name).and_then(|m| m.get(index_mac)).cloned())
    }
    async fn delete_mutation_macs(&self, name: &str, index_macs: &[Vec<u8>]) -> Result<()> {
        {
            let mut all = self.mutation_macs.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(macs) = all.get_mut(name) {
                for k in index_macs {
                    macs.remove(k);
                }
            }
        }
        self.persist_mutation_macs(name).await
    }
    async fn clear_mutation_macs(&self, name: &str) -> Result<()> {
        self.mutation_macs.lock().unwrap_or_else(|p| p.into_inner()).remove(name);
        self.persist_mutation_macs(name).await
    }
    async fn get_latest_sync_key_id(&self) -> Result<Option<Vec<u8>>> {
        self.inner.get_latest_sync_key_id().await
    }
}

#[async_trait]
impl ProtocolStore for FileStore {
    async fn get_sender_key_devices(&self, group_jid: &str) -> Result<Vec<(String, bool)>> {
        self.inner.get_sender_key_devices(group_jid).await
    }
    async fn set_sender_key_status(&self, group_jid: &str, entries: &[(&str, bool)]) -> Result<()> {
        self.inner.set_sender_key_status(group_jid, entries).await?;
        self.persist_sender_key_devices(group_jid).await
    }
    async fn clear_sender_key_devices(&self, group_jid: &str) -> Result<()> {
        self.inner.clear_sender_key_devices(group_jid).await?;
        self.persist_sender_key_devices(group_jid).await
    }
    async fn delete_sender_key_device_rows(&self, device_jids: &[&str]) -> Result<()> {
        self.inner.delete_sender_key_device_rows(device_jids).await?;
        // Rows may sit under any group: rewrite every group file we have.
        for group in self.sender_key_memory_groups() {
            self.persist_sender_key_devices(&group).await?;
        }
        Ok(())
    }
    async fn clear_all_sender_key_devices(&self) -> Result<()> {
        self.inner.clear_all_sender_key_devices().await?;
        for group in self.sender_key_memory_groups() {
            self.persist_sender_key_devices(&group).await?;
        }
        Ok(())
    }
    async fn get_lid_mapping(&self, lid: &str) -> Result<Option<LidPnMappingEntry>> {
        self.inner.get_lid_mapping(lid).await
    }
    async fn get_pn_mapping(&self, phone: &str) -> Result<Option<LidPnMappingEntry>> {
        self.inner.get_pn_mapping(phone).await
    }
    async fn put_lid_mapping(&self, entry: &LidPnMappingEntry) -> Result<()> {
        self.put_side_serde(Kind::LidMapping, &entry.lid, entry)?;
        self.inner.put_lid_mapping(entry).await
    }
    async fn get_all_lid_mappings(&self) -> Result<Vec<LidPnMappingEntry>> {
        self.inner.get_all_lid_mappings().await
    }
    async fn save_base_key(&self, address: &str, message_id: &str, base_key: &[u8]) -> Result<()> {
        self.inner.save_base_key(address, message_id, base_key).await
    }
    async fn has_same_base_key(&self, address: &str, message_id: &str, current_base_key: &[u8]) -> Result<bool> {
        self.inner.has_same_base_key(address, message_id, current_base_key).await
    }
    async fn delete_base_key(&self, address: &str, message_id: &str) -> Result<()> {
        self.inner.delete_base_key(address, message_id).await
    }
    async fn update_device_list(&self, record: DeviceListRecord) -> Result<()> {
        self.put_side_serde(Kind::DeviceList, &record.user, &record)?;
        self.inner.update_device_list(record).await
    }
    async fn get_devices(&self, user: &str) -> Result<Option<DeviceListRecord>> {
        self.inner.get_devices(user).await
    }
    async fn delete_devices(&self, user: &str) -> Result<()> {
        self.remove_side(Kind::DeviceList, user)?;
        self.inner.delete_devices(user).await
    }
    async fn get_tc_token(&self, jid: &str) -> Result<Option<TcTokenEntry>> {
        self.inner.get_tc_token(jid).await
    }
    async fn put_tc_token(&self, jid: &str, entry: &TcTokenEntry) -> Result<()> {
        self.put_side_serde(Kind::TcToken, jid, entry)?;
        self.inner.put_tc_token(jid, entry).await
    }
    async fn delete_tc_token(&self, jid: &str) -> Result<()> {
        self.remove_side(Kind::TcToken, jid)?;
        self.inner.delete_tc_token(jid).await
    }
    async fn get_all_tc_token_jids(&self) -> Result<Vec<String>> {
        self.inner.get_all_tc_token_jids().await
    }
    async fn delete_expired_tc_tokens(&self, token_cutoff: i64, sender_cutoff: i64) -> Result<u32> {
        let before = self.inner.get_all_tc_token_jids().await?;
        let n = self.inner.delete_expired_tc_tokens(token_cutoff, sender_cutoff).await?;
        if n > 0 {
            for jid in before {
                if self.inner.get_tc_token(&jid).await?.is_none() {
                    self.remove_side(Kind::TcToken, &jid)?;
                }
            }
        }
        Ok(n)
    }
    async fn store_sent_message(&self, chat_jid: &str, message_id: &str, payload: &[u8]) -> Result<()> {
        self.inner.store_sent_message(chat_jid, message_id, payload).await
    }
    async fn take_sent_message(&self, chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        self.inner.take_sent_message(chat_jid, message_id).await
    }
    async fn delete_expired_sent_messages(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.inner.delete_expired_sent_messages(cutoff_timestamp).await
    }
    async fn store_pending_inbound(&self, chat: &str, sender: &str, id: &str, message: &[u8]) -> Result<()> {
        self.store_pending_inbound_batch(&[PendingInboundRow { chat, sender, id, message }]).await
    }
    async fn store_pending_inbound_batch(&self, rows: &[PendingInboundRow<'_>]) -> Result<()> {
        let written = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let files = rows
            .iter()
            .map(|row| {
                let key = record_key(row.chat, row.sender, row.id);
                let value =
                    json!({ "key": PendingInbound::file_key(&key), "value": PendingInbound::file_value(&key, row.message, written) });
                Ok((self.side_path(Kind::PendingInbound, &PendingInbound::file_key(&key)), json_bytes(&value)?))
            })
            .collect::<Result<Vec<_>>>()?;
        // Written like the ratchet the engine saves next (`replace_atomic`): as durable as it,
        // which is what makes a replay possible — a killed process loses neither.
        for (path, bytes) in &files {
            self.write_ratchet_bytes(path, bytes)?;
        }
        let mut pending = self.pending_inbound();
        for row in rows {
            pending.insert(record_key(row.chat, row.sender, row.id), row.message.to_vec(), written);
        }
        Ok(())
    }
    async fn get_pending_inbound(&self, chat: &str, sender: &str, id: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.pending_inbound().get(&record_key(chat, sender, id)))
    }
    async fn delete_pending_inbound(&self, chat: &str, sender: &str, id: &str) -> Result<()> {
        let key = record_key(chat, sender, id);
        self.remove_side(Kind::PendingInbound, &PendingInbound::file_key(&key))?;
        self.pending_inbound().remove(&key);
        Ok(())
    }
    async fn delete_expired_pending_inbound(&self, cutoff_timestamp: i64) -> Result<u32> {
        let expired = self.pending_inbound().remove_older_than(cutoff_timestamp);
        for key in &expired {
            self.remove_side(Kind::PendingInbound, &PendingInbound::file_key(key))?;
        }
        Ok(expired.len() as u32)
    }
}

fn record_key(chat: &str, sender: &str, id: &str) -> RecordKey {
    (chat.to_owned(), sender.to_owned(), id.to_owned())
}

impl FileStore {
    /// The keys of the side files of `kind` currently on disk.
    fn side_keys(&self, kind: Kind) -> Vec<String> {
        let prefix = format!("rs-{}-", kind.tag());
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .filter_map(|e| Self::read_json(&e.path()).ok())
            .filter_map(|v| v.get("key").and_then(Value::as_str).map(str::to_owned))
            .collect()
    }
}

#[async_trait]
impl MsgSecretStore for FileStore {
    async fn put_msg_secrets(&self, entries: Vec<MsgSecretEntry>) -> Result<usize> {
        self.inner.put_msg_secrets(entries).await
    }
    async fn get_msg_secret(&self, chat: &str, sender: &str, msg_id: &str) -> Result<Option<Vec<u8>>> {
        self.inner.get_msg_secret(chat, sender, msg_id).await
    }
    async fn get_msg_secret_with_ts(&self, chat: &str, sender: &str, msg_id: &str) -> Result<Option<(Vec<u8>, i64)>> {
        self.inner.get_msg_secret_with_ts(chat, sender, msg_id).await
    }
    async fn delete_expired_msg_secrets(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.inner.delete_expired_msg_secrets(cutoff_timestamp).await
    }
}

#[async_trait]
impl DeviceStore for FileStore {
    async fn save(&self, device: &Device) -> Result<()> {
        match self.save_device(device) {
            Ok(changed) => {
                if changed.as_object().is_some_and(|m| !m.is_empty()) {
                    self.notify_creds(Ok(changed));
                }
                Ok(())
            }
            Err(e) => {
                self.notify_creds(Err(format!("{e} ({})", self.dir.join(CREDS_FILE).display())));
                Err(e)
            }
        }
    }

    async fn load(&self) -> Result<Option<Device>> {
        let creds_path = self.dir.join(CREDS_FILE);
        if !creds_path.exists() {
            return Ok(None);
        }
        let creds_json = Self::read_json(&creds_path).map_err(|e| store_err("creds.json", e))?;
        let side: Option<Device> = Self::read_json(&self.dir.join(DEVICE_SIDE_FILE))
            .ok()
            .and_then(|v| serde_json::from_value(v).ok())
            .filter(|d| creds::same_identity(d, &creds_json));
        let mut device = side.unwrap_or_default();
        creds::apply_creds(&creds_json, &mut device).map_err(|e| store_err("creds.json", e))?;
        *self.last_creds.lock().unwrap_or_else(|p| p.into_inner()) = Some(creds_json);
        Ok(Some(device))
    }

    async fn exists(&self) -> Result<bool> {
        Ok(self.dir.join(CREDS_FILE).exists())
    }

    async fn create(&self) -> Result<i32> {
        // One folder is one device; nothing to allocate.
        Ok(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wacore::store::traits::{DeviceStore, SignalStore};

    /// A record exactly as the engine writes it.
    fn prekey_record(id: u32) -> Vec<u8> {
        new_pre_key_record(id, &KeyPair::generate(&mut rand::rng())).encode_to_vec()
    }

    #[tokio::test]
    async fn a_batch_of_pre_keys_is_written_as_baileys_files_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<(u32, Bytes)> = (1..=30).map(|id| (id, Bytes::from(prekey_record(id)))).collect();
        {
            let store = FileStore::open(dir.path()).await.unwrap();
            store.save(&Device::new()).await.unwrap();
            store.store_prekeys_batch(&records, false).await.unwrap();
            store.close();
            assert!(store.store_prekeys_batch(&records[..1], false).await.is_err(), "a closed store refuses the batch");
        }
        for (id, _) in &records {
            let file: Value = serde_json::from_slice(&std::fs::read(dir.path().join(format!("pre-key-{id}.json"))).unwrap()).unwrap();
            assert!(file.get("private").is_some() && file.get("public").is_some(), "Baileys' KeyPair shape: {file}");
        }
        let store = FileStore::open(dir.path()).await.unwrap();
        for (id, record) in &records {
            assert_eq!(&store.load_prekey(*id).await.unwrap().unwrap(), record);
        }
    }

    #[tokio::test]
    async fn uploaded_pre_keys_are_read_on_first_use_and_count_for_the_next_id() {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<(u32, Bytes)> = (1..=5).map(|id| (id, Bytes::from(prekey_record(id)))).collect();
        {
            let store = FileStore::open(dir.path()).await.unwrap();
            store.save(&Device::new()).await.unwrap();
            store.store_prekeys_batch(&records, false).await.unwrap();
        }
        // Keys 1..=4 count as uploaded; 5 is not (read at open as before).
        let creds_path = dir.path().join(CREDS_FILE);
        let mut creds: Value = serde_json::from_slice(&std::fs::read(&creds_path).unwrap()).unwrap();
        creds["firstUnuploadedPreKeyId"] = json!(5);
        std::fs::write(&creds_path, serde_json::to_vec(&creds).unwrap()).unwrap();
        std::fs::write(dir.path().join("pre-key-3.json"), b"{ damaged").unwrap();

        let store = FileStore::open(dir.path()).await.unwrap();
        assert_eq!(*store.unread_pre_keys.lock().await, BTreeSet::from([1, 2, 3, 4]));
        assert_eq!(store.get_max_prekey_id().await.unwrap(), 5);
        let batch = store.load_prekeys_batch(&[1, 2, 3]).await.unwrap();
        assert_eq!(batch.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![1, 2], "the damaged key is missing, not an error");
        assert_eq!(store.load_prekey(4).await.unwrap().unwrap(), records[3].1);
        assert_eq!(store.load_prekey(5).await.unwrap().unwrap(), records[4].1);
        assert!(store.unread_pre_keys.lock().await.is_empty());
        assert_eq!(std::fs::read(dir.path().join("pre-key-3.json")).unwrap(), b"{ damaged", "left as it was");
        store.remove_prekey(4).await.unwrap();
        assert!(store.load_prekey(4).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn stored_keys_wait_on_disk_and_are_read_on_use() {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<(u32, Bytes)> = (1..=4).map(|id| (id, Bytes::from(prekey_record(id)))).collect();
        let store = FileStore::open(dir.path()).await.unwrap();
        store.store_prekeys_batch(&records, false).await.unwrap();
        assert_eq!(*store.unread_pre_keys.lock().await, BTreeSet::from([1, 2, 3, 4]), "a batch is not kept in memory");
        assert_eq!(store.get_max_prekey_id().await.unwrap(), 4);
        store.remove_prekey(2).await.unwrap();
        assert_eq!(store.load_prekey(3).await.unwrap().unwrap(), records[2].1, "read from its file");
        // 3 was read into memory before its upload was confirmed: the mark sends it back to disk.
        store.mark_prekeys_uploaded(&[1, 2, 3]).await.unwrap();
        assert_eq!(*store.unread_pre_keys.lock().await, BTreeSet::from([1, 3, 4]), "2 was consumed and stays gone");
        assert!(store.inner.load_prekey(3).await.unwrap().is_none(), "evicted from memory");
        assert_eq!(store.load_prekey(1).await.unwrap().unwrap(), records[0].1);
        assert!(store.load_prekey(2).await.unwrap().is_none());
        assert_eq!(store.load_prekey(4).await.unwrap().unwrap(), records[3].1);
        store.remove_prekey(3).await.unwrap();
        assert!(store.load_prekey(3).await.unwrap().is_none());
        assert!(!dir.path().join("pre-key-3.json").exists());
    }

    #[tokio::test]
    async fn device_and_keys_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let saved_creds = Arc::new(Mutex::new(Vec::new()));
        let device = Device::new();
        let record7 = prekey_record(7);
        {
            let store = FileStore::open(dir.path()).await.unwrap();
            let sink = saved_creds.clone();
            store.set_creds_listener(Arc::new(move |r| sink.lock().unwrap().push(r)));
            assert!(!store.exists().await.unwrap());
            assert!(store.load().await.unwrap().is_none());
            store.save(&device).await.unwrap();
            store.store_prekey(7, &record7, true).await.unwrap();
            store.put_session("123.0", b"session-bytes").await.unwrap();
            store.put_identity("123.0", [9; 32]).await.unwrap();
            store.put_mutation_macs("regular", 1, &[AppStateMutationMAC { index_mac: vec![1; 32], value_mac: vec![2; 32] }]).await.unwrap();
        }
        let changes = saved_creds.lock().unwrap().clone();
        assert_eq!(changes.len(), 1);
        assert!(changes[0].as_ref().unwrap().get("noiseKey").is_some());

        let store = FileStore::open(dir.path()).await.unwrap();
        assert!(store.skipped_files().is_empty(), "{:?}", store.skipped_files());
        let loaded = store.load().await.unwrap().unwrap();
        assert_eq!(loaded.noise_key.public_key.public_key_bytes(), device.noise_key.public_key.public_key_bytes());
        assert_eq!(loaded.registration_id, device.registration_id);
        // Reloaded from Baileys' file form, byte-identical to what the engine stored.
        assert_eq!(store.load_prekey(7).await.unwrap().unwrap(), Bytes::from(record7));
        assert_eq!(&store.get_session("123.0").await.unwrap().unwrap()[..], b"session-bytes");
        assert_eq!(store.load_identity("123.0").await.unwrap(), Some([9; 32]));
        assert_eq!(store.get_mutation_mac("regular", &[1; 32]).await.unwrap(), Some(vec![2; 32]));

        // Baileys' own format for pre-keys: 32-byte keys, BufferJSON.
        let pre: Value = serde_json::from_slice(&fs::read(dir.path().join("pre-key-7.json")).unwrap()).unwrap();
        assert_eq!(buffer_json::decode(&pre["public"]).unwrap().len(), 32);

        store.remove_prekey(7).await.unwrap();
        store.delete_session("123.0").await.unwrap();
        assert!(!dir.path().join("pre-key-7.json").exists());
        let reopened = FileStore::open(dir.path()).await.unwrap();
        assert!(reopened.load_prekey(7).await.unwrap().is_none());
        assert!(reopened.get_session("123.0").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn open_removes_stale_temp_files_and_makes_an_adopted_folder_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".pre-key-1.json.4242.7.tmp"), b"{ half").unwrap();
        fs::write(dir.path().join("pre-key-2.json"), b"{ not json").unwrap();
        fs::set_permissions(dir.path().join("pre-key-2.json"), fs::Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        FileStore::open(dir.path()).await.unwrap();
        assert!(!dir.path().join(".pre-key-1.json.4242.7.tmp").exists());
        assert_eq!(fs::metadata(dir.path().join("pre-key-2.json")).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777, 0o700);
    }

    #[tokio::test]
    async fn a_key_file_that_cannot_be_read_fails_the_open_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where a key file should be: reading it is an I/O error, not bad content.
        fs::create_dir(dir.path().join("session-123.0.json")).unwrap();
        let err = FileStore::open(dir.path()).await.err().expect("the open must fail");
        assert!(err.contains("cannot read session-123.0.json") && err.contains("not opened"), "{err}");
        assert!(dir.path().join("session-123.0.json").is_dir());
    }

    #[tokio::test]
    async fn a_damaged_key_file_is_skipped_and_reported_not_deleted() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("pre-key-3.json"), b"{ not json").unwrap();
        fs::write(dir.path().join("rs-session-abc.json"), b"{\"key\":\"abc\",\"value\":5}").unwrap();
        let store = FileStore::open(dir.path()).await.unwrap();
        let names: Vec<_> = store.skipped_files().iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"pre-key-3.json") && names.contains(&"rs-session-abc.json"), "{names:?}");
        assert!(dir.path().join("pre-key-3.json").exists());
    }

    /// Baileys' record of who has our sender key and the engine's are one: read at open,
    /// rewritten on every change, and gone when the engine forgets them all (a new key).
    #[tokio::test]
    async fn baileys_sender_key_memory_is_the_engines_sender_key_device_status() {
        let dir = tempfile::tempdir().unwrap();
        let group = "120363000000000001@g.us";
        let file = dir.path().join(format!("sender-key-memory-{group}.json"));
        fs::write(&file, r#"{"15551234567:1@s.whatsapp.net":true,"15551234567@s.whatsapp.net":true}"#).unwrap();
        let store = FileStore::open(dir.path()).await.unwrap();
        let mut entries = store.get_sender_key_devices(group).await.unwrap();
        entries.sort();
        assert_eq!(entries, vec![("15551234567:1@s.whatsapp.net".to_owned(), true), ("15551234567@s.whatsapp.net".to_owned(), true)]);
        store.set_sender_key_status(group, &[("15557654321:2@s.whatsapp.net", true), ("15551234567@s.whatsapp.net", false)]).await.unwrap();
        let written: Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
        assert_eq!(
            written,
            json!({ "15551234567:1@s.whatsapp.net": true, "15551234567@s.whatsapp.net": false, "15557654321:2@s.whatsapp.net": true })
        );
        assert!(!fs::read_dir(dir.path()).unwrap().flatten().any(|e| e.file_name().to_string_lossy().starts_with("rs-")));
        store.clear_sender_key_devices(group).await.unwrap();
        assert!(!file.exists());
    }

    #[tokio::test]
    async fn a_stale_side_file_never_overrides_creds_json() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).await.unwrap();
        store.save(&Device::new()).await.unwrap();
        // Another tool (e.g. Baileys) re-created creds.json for a new identity.
        let other = Device::new();
        fs::write(dir.path().join(CREDS_FILE), creds::device_to_creds(&other, None).to_string()).unwrap();
        let loaded = FileStore::open(dir.path()).await.unwrap().load().await.unwrap().unwrap();
        assert_eq!(loaded.noise_key.public_key.public_key_bytes(), other.noise_key.public_key.public_key_bytes());
        assert_eq!(loaded.identity_key.public_key.public_key_bytes(), other.identity_key.public_key.public_key_bytes());
    }

    #[tokio::test]
    async fn a_closed_store_refuses_writes_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).await.unwrap();
        store.store_prekey(1, &prekey_record(1), false).await.unwrap();
        store.close();
        assert!(store.store_prekey(2, &prekey_record(2), false).await.is_err());
        assert!(store.remove_prekey(1).await.is_err());
        assert!(store.save(&Device::new()).await.is_err());
        let mut names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, vec!["pre-key-1.json"]);
    }

    #[test]
    fn file_names_are_safe_and_one_to_one() {
        assert_eq!(file_safe("123:4@s.whatsapp.net"), "123%3A4@s.whatsapp.net");
        assert_eq!(file_safe("a/b"), "a%2Fb");
        assert_eq!(file_safe("../x"), "..%2Fx");
        assert_eq!(file_safe("é"), "%C3%A9");
        let keys = ["123:4@s.whatsapp.net", "123-4@s.whatsapp.net", "a/b", "a__b", "%2F", "\u{1F600}", "%F0%9F%98%80", "a%3Ab"];
        let names: std::collections::HashSet<String> = keys.iter().map(|k| file_safe(k)).collect();
        assert_eq!(names.len(), keys.len());
    }

    #[tokio::test]
    async fn keys_that_old_names_confused_stay_apart_and_old_names_are_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let entry = |jid: &str| TcTokenEntry { token: jid.as_bytes().to_vec(), token_timestamp: 1, sender_timestamp: None };
        // Written by an earlier version: `:` escaped as `-`.
        let old = dir.path().join("rs-tc-token-123-4@s.whatsapp.net.json");
        fs::write(&old, serde_json::to_vec(&json!({ "key": "123:4@s.whatsapp.net", "value": entry("123:4@s.whatsapp.net") })).unwrap())
            .unwrap();
        {
            let store = FileStore::open(dir.path()).await.unwrap();
            assert!(store.skipped_files().is_empty(), "{:?}", store.skipped_files());
            assert!(!old.exists(), "renamed to its one-to-one name");
            assert!(dir.path().join("rs-tc-token-123%3A4@s.whatsapp.net.json").exists());
            // The key the old name confused it with now has a file of its own.
            store.put_tc_token("123-4@s.whatsapp.net", &entry("123-4@s.whatsapp.net")).await.unwrap();
        }
        let store = FileStore::open(dir.path()).await.unwrap();
        for jid in ["123:4@s.whatsapp.net", "123-4@s.whatsapp.net"] {
            assert_eq!(store.get_tc_token(jid).await.unwrap().unwrap().token, jid.as_bytes());
        }
    }
}
