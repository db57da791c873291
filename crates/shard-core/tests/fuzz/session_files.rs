//! Baileys' session files one by one, as the file store reads them from a folder Baileys (or
//! anyone) wrote: `session-*.json` (`SessionFile::parse` and the conversion to the engine's
//! record), `sender-key-*.json` and `sender-key-memory-*.json`, `app-state-sync-key-*.json`
//! and `app-state-sync-version-*.json`, and `creds.json`. Inputs: arbitrary bytes and JSON,
//! and the real Baileys 6.7.21 files of `tests/fixtures` mutated at the byte and the JSON level
//! (for sender keys, also the JSON record inside the file's Buffer). Each reads or fails with
//! an error.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::Value;
use shard_core::buffer_json;
use shard_core::session_store::baileys_session::{self, SessionFile};
use shard_core::session_store::{baileys_app_state, baileys_sender_key, creds};
use wacore::appstate::hash::HashState;
use wacore::store::Device;

use crate::support::{bounded, config, json_value, mutated, mutated_json, regressions};

/// Files here are a few KB; reading one (and the engine's key checks) stays far below this.
const LIMIT: usize = 8 * 1024 * 1024;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/baileys-6.7.21")
}

/// The fixture files of both peers whose name starts with `prefix`, as bytes.
fn fixture_files(prefix: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for peer in ["a", "b"] {
        let mut paths: Vec<PathBuf> = fs::read_dir(fixtures().join(peer))
            .expect("fixtures")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix)))
            .collect();
        paths.sort();
        out.extend(paths.iter().map(|p| fs::read(p).expect("fixture")));
    }
    assert!(!out.is_empty(), "no fixture {prefix}*");
    out
}

fn as_json(files: &[Vec<u8>]) -> Vec<Value> {
    files.iter().map(|b| serde_json::from_slice(b).expect("fixture JSON")).collect()
}

static SESSIONS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| fixture_files("session-"));
static SENDER_KEYS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| fixture_files("sender-key-"));
static SYNC_KEYS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| fixture_files("app-state-sync-key-"));
static CREDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| fixture_files("creds.json"));

/// An `app-state-sync-version-*.json` as the store writes it (no fixture has one).
fn sync_version() -> Value {
    let state = HashState { version: 7, hash: [3; 128], ..HashState::default() };
    let macs = [(vec![1u8; 32], vec![2u8; 32]), (vec![4u8; 32], vec![5u8; 32])].into_iter().collect();
    baileys_app_state::version_to_baileys(&state, Some(&macs))
}

fn sender_key_memory() -> Value {
    baileys_sender_key::memory_from_engine(&[("15551234567@s.whatsapp.net".into(), true), ("15557654321:3@s.whatsapp.net".into(), false)])
}

/// The JSON record inside a sender-key file's Buffer, mutated, and wrapped again.
fn mutated_sender_key_record() -> impl Strategy<Value = Value> {
    let records: Vec<Value> = SENDER_KEYS
        .iter()
        .map(|b| {
            let file: Value = serde_json::from_slice(b).expect("fixture JSON");
            serde_json::from_slice(&buffer_json::decode(&file).expect("a Buffer")).expect("the record is JSON")
        })
        .collect();
    mutated_json(records).prop_map(|record| buffer_json::encode(&serde_json::to_vec(&record).expect("serializes")))
}

/// Arbitrary bytes, mutated fixture bytes, arbitrary JSON, mutated fixture JSON.
fn file_bytes(seeds: &'static LazyLock<Vec<Vec<u8>>>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..256),
        3 => mutated(seeds.to_vec()),
        1 => json_value().prop_map(|v| serde_json::to_vec(&v).expect("serializes")),
        4 => mutated_json(as_json(seeds)).prop_map(|v| serde_json::to_vec(&v).expect("serializes")),
    ]
}

fn file_json(seeds: Vec<Value>) -> impl Strategy<Value = Value> {
    prop_oneof![1 => json_value(), 4 => mutated_json(seeds)]
}

/// The identity and registration id of peer a, which its session files belong to.
fn context() -> wacore_libsignal::protocol::LegacySessionLocalContext {
    let creds: Value = serde_json::from_slice(&CREDS[0]).expect("creds");
    let identity = buffer_json::decode(&creds["signedIdentityKey"]["public"]).expect("identity");
    baileys_session::local_context(&identity, creds["registrationId"].as_u64().expect("id") as u32).expect("context")
}

proptest! {
    #![proptest_config(config(128, regressions!("session_files")))]

    /// `session-*.json`: parse, then everything the store does with a parsed file.
    #[test]
    fn session_files_parse_and_convert_or_fail_cleanly(text in file_bytes(&SESSIONS)) {
        bounded(LIMIT, move || {
            let Ok(file) = SessionFile::parse(&text) else { return };
            let _ = file.index_infos();
            let _ = file.to_legacy();
            if let Ok(record) = baileys_session::to_engine(&file, context()) {
                // The engine's record converts back, as it does on every write.
                let _ = baileys_session::from_engine(&record, &file.index_infos(), 1_700_000_000_000);
            }
            let again = SessionFile::parse(&file.to_json());
            assert!(again.is_ok(), "a parsed file's own JSON does not parse: {again:?}");
        })?;
    }

    #[test]
    fn sender_key_files_convert_or_fail_cleanly(value in prop_oneof![
        2 => file_json(as_json(&SENDER_KEYS)),
        3 => mutated_sender_key_record(),
    ]) {
        bounded(LIMIT, move || {
            if let Ok(record) = baileys_sender_key::to_engine(&value) {
                let back = baileys_sender_key::from_engine(&record);
                assert!(back.is_ok(), "a record read from a file does not convert back: {back:?}");
            }
        })?;
    }

    #[test]
    fn sender_key_memory_files_convert_or_fail_cleanly(value in file_json(vec![sender_key_memory()])) {
        bounded(LIMIT, move || {
            let _ = baileys_sender_key::memory_to_engine(&value);
        })?;
    }

    #[test]
    fn app_state_files_convert_or_fail_cleanly(
        key in file_json(as_json(&SYNC_KEYS)),
        version in file_json(vec![sync_version()]),
    ) {
        bounded(LIMIT, move || {
            if let Ok(key) = baileys_app_state::sync_key_from_baileys(&key) {
                let _ = baileys_app_state::sync_key_to_baileys(&key);
            }
            if let Ok((state, macs)) = baileys_app_state::version_from_baileys(&version) {
                let _ = baileys_app_state::version_to_baileys(&state, Some(&macs));
            }
        })?;
    }

    /// `creds.json`: applied onto a device as the store's `load` does, and written back.
    #[test]
    fn creds_files_apply_or_fail_cleanly(text in file_bytes(&CREDS)) {
        bounded(LIMIT, move || {
            let Ok(json) = serde_json::from_slice::<Value>(&text) else { return };
            let mut device = Device::new();
            if creds::apply_creds(&json, &mut device).is_ok() {
                let _ = creds::same_identity(&device, &json);
                let _ = creds::device_to_creds(&device, Some(&json));
            }
        })?;
    }
}

#[test]
fn the_seed_files_read() {
    for text in SESSIONS.iter() {
        let file = SessionFile::parse(text).expect("a fixture session parses");
        baileys_session::to_engine(&file, context()).expect("and converts");
    }
    for text in SENDER_KEYS.iter() {
        baileys_sender_key::to_engine(&serde_json::from_slice(text).unwrap()).expect("a fixture sender key converts");
    }
    for text in SYNC_KEYS.iter() {
        baileys_app_state::sync_key_from_baileys(&serde_json::from_slice(text).unwrap()).expect("a fixture sync key converts");
    }
    baileys_app_state::version_from_baileys(&sync_version()).expect("a sync version converts");
    baileys_sender_key::memory_to_engine(&sender_key_memory()).expect("a sender-key memory converts");
    for text in CREDS.iter() {
        creds::apply_creds(&serde_json::from_slice(text).unwrap(), &mut Device::new()).expect("fixture creds apply");
    }
}
