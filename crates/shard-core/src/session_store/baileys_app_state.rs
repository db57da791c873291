//! App-state files in Baileys 6.7.21's form ⇄ the engine's app-state store.
//!
//! - `app-state-sync-key-<keyIdB64>.json`: the `AppStateSyncKeyData` protobuf through its
//!   `toJSON` (`keyData` base64, `fingerprint { rawId, currentIndex, deviceIndexes }`,
//!   `timestamp` as a string). The engine keeps the fingerprint as encoded protobuf bytes.
//! - `app-state-sync-version-<name>.json`: `{ version, hash, indexValueMap: { <indexMacB64>:
//!   { valueMac } } }` with BufferJSON bytes. The engine keeps the same facts split in two: the
//!   `HashState` (version, hash) and the per-collection mutation MACs.

use std::collections::HashMap;

use buffa::Message as _;
use serde_json::{json, Map, Value};
use wacore::appstate::hash::HashState;
use wacore::store::traits::AppStateSyncKey;
use waproto::whatsapp::message::AppStateSyncKeyFingerprint;

use crate::buffer_json::{self, base64, decode_bytes_or_base64};

/// Engine-only flag, kept in Baileys' file (Baileys ignores and drops unknown fields).
const MAC_MISMATCH_FATAL: &str = "rsMacMismatchFatal";
const HASH_LEN: usize = 128;

/// Index MAC → value MAC of one collection.
pub type MutationMacs = HashMap<Vec<u8>, Vec<u8>>;

pub fn sync_key_to_baileys(key: &AppStateSyncKey) -> Result<Value, String> {
    let fp = AppStateSyncKeyFingerprint::decode_from_slice(&key.fingerprint).map_err(|e| format!("fingerprint: {e}"))?;
    let mut fingerprint = Map::new();
    if let Some(raw_id) = fp.raw_id {
        fingerprint.insert("rawId".into(), json!(raw_id));
    }
    if let Some(current_index) = fp.current_index {
        fingerprint.insert("currentIndex".into(), json!(current_index));
    }
    fingerprint.insert("deviceIndexes".into(), json!(fp.device_indexes));
    Ok(json!({
        "keyData": base64(&key.key_data),
        "fingerprint": fingerprint,
        "timestamp": key.timestamp.to_string(),
    }))
}

pub fn sync_key_from_baileys(value: &Value) -> Result<AppStateSyncKey, String> {
    let key_data = value.get("keyData").and_then(decode_bytes_or_base64).ok_or("keyData missing or not bytes")?;
    let fp = value.get("fingerprint").filter(|v| !v.is_null());
    let u32_of = |k: &str| fp.and_then(|f| f.get(k)).and_then(Value::as_u64).map(|n| n as u32);
    let fingerprint = AppStateSyncKeyFingerprint {
        raw_id: u32_of("rawId"),
        current_index: u32_of("currentIndex"),
        device_indexes: fp
            .and_then(|f| f.get("deviceIndexes"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_u64).map(|n| n as u32).collect())
            .unwrap_or_default(),
    };
    // protobufjs writes int64 as a string; Baileys may also hold a number or a Long object.
    let timestamp = match value.get("timestamp") {
        Some(Value::String(s)) => s.parse().map_err(|_| format!("timestamp {s:?} is not a number"))?,
        Some(Value::Number(n)) => n.as_i64().ok_or("timestamp is not an integer")?,
        Some(Value::Object(long)) => {
            let part = |k: &str| long.get(k).and_then(Value::as_i64).unwrap_or(0);
            (part("high") << 32) | (part("low") & 0xffff_ffff)
        }
        _ => 0,
    };
    Ok(AppStateSyncKey { key_data, fingerprint: fingerprint.encode_to_vec(), timestamp })
}

pub fn version_to_baileys(state: &HashState, macs: Option<&MutationMacs>) -> Value {
    let index_value_map: Map<String, Value> =
        macs.into_iter().flatten().map(|(index, value)| (base64(index), json!({ "valueMac": buffer_json::encode(value) }))).collect();
    let mut out = json!({
        "version": state.version,
        "hash": buffer_json::encode(&state.hash),
        "indexValueMap": index_value_map,
    });
    if state.mac_mismatch_fatal {
        out[MAC_MISMATCH_FATAL] = json!(true);
    }
    out
}

pub fn version_from_baileys(value: &Value) -> Result<(HashState, MutationMacs), String> {
    let version = value.get("version").and_then(Value::as_u64).ok_or("version missing")?;
    let hash = value.get("hash").and_then(decode_bytes_or_base64).ok_or("hash missing or not bytes")?;
    let hash: [u8; HASH_LEN] = hash.try_into().map_err(|h: Vec<u8>| format!("hash is {} bytes, not {HASH_LEN}", h.len()))?;
    let mut macs = MutationMacs::new();
    if let Some(map) = value.get("indexValueMap").and_then(Value::as_object) {
        for (index, entry) in map {
            let index = decode_bytes_or_base64(&json!(index)).ok_or_else(|| format!("index MAC {index:?} is not base64"))?;
            let value_mac = entry.get("valueMac").and_then(decode_bytes_or_base64).ok_or("valueMac missing")?;
            macs.insert(index, value_mac);
        }
    }
    let state = HashState {
        version,
        hash,
        mac_mismatch_fatal: value.get(MAC_MISMATCH_FATAL).and_then(Value::as_bool).unwrap_or(false),
        ..Default::default()
    };
    Ok((state, macs))
}
