//! A whole session folder, as a shard opens it at start (`FileStore::open`, then `load` for
//! the device and the lazily read pre-keys, and `checkSessionStatus`): a real Baileys 6.7.21
//! folder (`tests/fixtures`) with some files damaged at the byte or the JSON level, replaced by
//! arbitrary bytes, emptied or removed, and extra files (Baileys' and our `rs-*` side files)
//! with arbitrary content. The store opens, skipping and reporting what it cannot read, or
//! fails with an error; it never panics.

use std::fs;
use std::path::PathBuf;
use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::Value;
use shard_core::check_session_status;
use shard_core::session_store::FileStore;
use wacore::store::traits::{DeviceStore, SignalStore};

use crate::session_files::fixtures;
use crate::support::{apply_edits, apply_json_edits, bounded, config, edit, json_edit, json_value, regressions, Edit, JsonEdit};

/// A folder of ~40 small files: opening reads them all and converts every key.
const LIMIT: usize = 32 * 1024 * 1024;

/// Peer a's folder: (file name, content), sorted by name.
static FOLDER: LazyLock<Vec<(String, Vec<u8>)>> = LazyLock::new(|| {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(fixtures().join("a"))
        .expect("fixtures")
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), fs::read(e.path()).expect("fixture")))
        .collect();
    files.sort();
    files
});

#[derive(Debug, Clone)]
enum Damage {
    Bytes(Vec<Edit>),
    Json(Vec<JsonEdit>),
    Arbitrary(Vec<u8>),
    Empty,
    Remove,
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        3 => proptest::collection::vec(edit(), 1..6).prop_map(Damage::Bytes),
        5 => proptest::collection::vec(json_edit(), 1..4).prop_map(Damage::Json),
        1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(Damage::Arbitrary),
        1 => Just(Damage::Empty),
        1 => Just(Damage::Remove),
    ]
}

/// A name the store reads (a Baileys key file or one of our side files), and its content.
fn extra_file() -> impl Strategy<Value = (String, Vec<u8>)> {
    let name = prop_oneof![
        prop::sample::select(vec![
            "session-",
            "pre-key-",
            "sender-key-",
            "sender-key-memory-",
            "app-state-sync-key-",
            "app-state-sync-version-",
            "rs-identity-",
            "rs-session-",
            "rs-signed-pre-key-",
            "rs-sender-key-",
            "rs-app-state-sync-key-",
            "rs-app-state-sync-version-",
            "rs-mutation-macs-",
            "rs-lid-mapping-",
            "rs-device-list-",
            "rs-sender-key-devices-",
            "rs-tc-token-",
        ])
        .prop_flat_map(|prefix| {
            prop_oneof![
                "[0-9]{1,12}(\\.[0-9]{1,2})?",
                "[0-9]{1,15}(_1)?(\\.[0-9]{1,2})?",
                "[0-9]{6,18}@g\\.us--[0-9]{1,15}(_1)?--[0-9]{1,2}",
                "[A-Za-z0-9+=_-]{0,16}",
                ".{0,12}",
            ]
            .prop_map(move |id| format!("{prefix}{}.json", id.replace(['/', '\0'], "_")))
        }),
        Just("rs-device.json".to_string()),
        Just("creds.json".to_string()),
    ];
    let content = prop_oneof![
        // Our side files are `{ key, value }`.
        3 => ("[A-Za-z0-9@.:_-]{0,24}", json_value()).prop_map(|(key, value)| {
            serde_json::to_vec(&serde_json::json!({ "key": key, "value": value })).expect("serializes")
        }),
        2 => json_value().prop_map(|v| serde_json::to_vec(&v).expect("serializes")),
        1 => proptest::collection::vec(any::<u8>(), 0..64),
    ];
    (name, content)
}

fn damaged(file: &[u8], damage: &Damage) -> Option<Vec<u8>> {
    Some(match damage {
        Damage::Bytes(edits) => apply_edits(file.to_vec(), edits),
        Damage::Json(edits) => match serde_json::from_slice::<Value>(file) {
            Ok(v) => serde_json::to_vec(&apply_json_edits(v, edits)).expect("serializes"),
            Err(_) => file.to_vec(),
        },
        Damage::Arbitrary(bytes) => bytes.clone(),
        Damage::Empty => Vec::new(),
        Damage::Remove => return None,
    })
}

/// Writes the folder, opens it as a shard would, and uses what it read.
fn open_and_use(dir: PathBuf) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async {
        let _ = check_session_status(&dir);
        let Ok(store) = FileStore::open(dir.clone()).await else { return };
        let _ = store.skipped_files();
        let _ = store.load().await;
        // Pre-keys are read from their files on first use.
        for id in 0..40 {
            let _ = store.load_prekey(id).await;
        }
        store.close();
    });
}

proptest! {
    #![proptest_config(config(48, regressions!("file_store_open")))]

    #[test]
    fn a_damaged_baileys_folder_opens_or_fails_cleanly(
        damages in proptest::collection::vec((any::<usize>(), damage()), 1..5),
        extra in proptest::collection::vec(extra_file(), 0..4),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut files: std::collections::BTreeMap<String, Vec<u8>> = FOLDER.iter().cloned().collect();
        // Mostly the files the store converts at open, sometimes one of the 29 pre-keys it
        // reads on first use.
        let names: Vec<&String> = FOLDER.iter().map(|(n, _)| n).collect();
        let converted: Vec<&String> = names.iter().copied().filter(|n| !n.starts_with("pre-key-")).collect();
        for (pick, damage) in &damages {
            let name = if pick % 4 == 0 { names[pick / 4 % names.len()] } else { converted[pick / 4 % converted.len()] };
            let Some(file) = files.get(name) else { continue };
            match damaged(file, damage) {
                Some(content) => files.insert(name.clone(), content),
                None => files.remove(name),
            };
        }
        for (name, content) in files.iter().chain(extra.iter().map(|(n, c)| (n, c))) {
            fs::write(dir.path().join(name), content).expect("write");
        }
        let path = dir.path().to_owned();
        bounded(LIMIT, move || open_and_use(path))?;
    }
}

/// The undamaged folder opens with nothing skipped (else the property tests nothing).
#[test]
fn the_seed_folder_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, content) in FOLDER.iter() {
        fs::write(dir.path().join(name), content).expect("write");
    }
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async {
        let store = FileStore::open(dir.path()).await.expect("opens");
        assert!(store.skipped_files().is_empty(), "{:?}", store.skipped_files());
        assert!(store.load().await.expect("loads").is_some());
    });
}
