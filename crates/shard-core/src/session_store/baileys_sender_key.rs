//! `sender-key-<group>--<user>--<device>.json`: Baileys 6.7.21's `SenderKeyRecord` ⇄ the
//! engine's sender key record bytes.
//!
//! Baileys stores a Buffer (BufferJSON) holding the UTF-8 text of
//! `JSON.stringify(record.serialize())`: an array of states, oldest first, each
//! `{ senderKeyId, senderChainKey: { iteration, seed }, senderSigningKey: { public, private? },
//! senderMessageKeys: [{ iteration, seed }] }` with bytes in Node's `Buffer#toJSON` form.
//! The engine keeps its states newest first.
//!
//! `sender-key-memory-<group>.json`: `{ "<device jid>": true }`, the devices Baileys already
//! sent our sender key to ⇄ the engine's `(device jid, has key)` rows (same jid form).

use serde_json::{json, Value};
use wacore_libsignal::protocol::{
    SenderChainKeyComponents, SenderKeyRecord, SenderKeyRecordComponents, SenderKeyStateComponents, SenderMessageKeyComponents,
    SenderSigningKeyComponents,
};

use crate::buffer_json;

/// Node's `Buffer#toJSON`, which is what `JSON.stringify` makes of a Buffer.
fn node_buffer(bytes: &[u8]) -> Value {
    json!({ "type": "Buffer", "data": bytes })
}

fn bytes(v: Option<&Value>, field: &str) -> Result<Vec<u8>, String> {
    v.and_then(buffer_json::decode_bytes_or_base64).ok_or_else(|| format!("{field} missing or not bytes"))
}

fn number(v: Option<&Value>, field: &str) -> Result<u32, String> {
    v.and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()).ok_or_else(|| format!("{field} missing or not a u32"))
}

/// 33-byte Signal form of a signing public key (tolerating a raw 32-byte one).
fn prefixed(key: Vec<u8>) -> Vec<u8> {
    if key.len() == 32 {
        let mut out = Vec::with_capacity(33);
        out.push(5);
        out.extend(key);
        out
    } else {
        key
    }
}

/// The file's value (a BufferJSON Buffer) → the record's states, as Baileys orders them.
fn states_of(file: &Value) -> Result<Vec<Value>, String> {
    let text = buffer_json::decode(file).ok_or("not a Buffer")?;
    let states: Value = serde_json::from_slice(&text).map_err(|e| format!("record is not JSON: {e}"))?;
    match states {
        Value::Array(states) => Ok(states),
        _ => Err("record is not an array of states".into()),
    }
}

/// Baileys' file value → the engine's record bytes.
pub fn to_engine(file: &Value) -> Result<Vec<u8>, String> {
    let mut states = Vec::new();
    for s in states_of(file)?.iter().rev() {
        let chain = s.get("senderChainKey").ok_or("senderChainKey missing")?;
        let signing = s.get("senderSigningKey").ok_or("senderSigningKey missing")?;
        let private = signing.get("private").filter(|v| !v.is_null()).map(|v| bytes(Some(v), "senderSigningKey.private")).transpose()?;
        let message_keys = s
            .get("senderMessageKeys")
            .and_then(Value::as_array)
            .map(|keys| {
                keys.iter()
                    .map(|k| {
                        Ok(SenderMessageKeyComponents {
                            iteration: number(k.get("iteration"), "senderMessageKeys.iteration")?,
                            seed: bytes(k.get("seed"), "senderMessageKeys.seed")?,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()
            })
            .transpose()?
            .unwrap_or_default();
        states.push(SenderKeyStateComponents {
            key_id: number(s.get("senderKeyId"), "senderKeyId")?,
            chain_key: SenderChainKeyComponents {
                iteration: number(chain.get("iteration"), "senderChainKey.iteration")?,
                seed: bytes(chain.get("seed"), "senderChainKey.seed")?,
            },
            signing_key: SenderSigningKeyComponents { public: prefixed(bytes(signing.get("public"), "senderSigningKey.public")?), private },
            message_keys,
        });
    }
    let record = SenderKeyRecord::from_components(SenderKeyRecordComponents { states }).map_err(|e| e.to_string())?;
    record.serialize().map_err(|e| e.to_string())
}

/// The engine's record bytes → Baileys' file value. A reserved but maybe unused iteration is
/// skipped past, as for sessions.
pub fn from_engine(record: &[u8]) -> Result<Value, String> {
    let components = SenderKeyRecord::deserialize(record).and_then(SenderKeyRecord::into_components).map_err(|e| e.to_string())?;
    let states: Vec<Value> = components
        .states
        .iter()
        .rev()
        .map(|s| {
            // Baileys keeps the 33-byte (0x05-prefixed) public key, its own chains' too.
            let mut signing = serde_json::Map::new();
            signing.insert("public".into(), node_buffer(&s.signing_key.public));
            if let Some(private) = &s.signing_key.private {
                signing.insert("private".into(), node_buffer(private));
            }
            json!({
                "senderKeyId": s.key_id,
                "senderChainKey": { "iteration": s.chain_key.iteration, "seed": node_buffer(&s.chain_key.seed) },
                "senderSigningKey": signing,
                "senderMessageKeys": s.message_keys.iter()
                    .map(|k| json!({ "iteration": k.iteration, "seed": node_buffer(&k.seed) }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let text = serde_json::to_vec(&states).map_err(|e| e.to_string())?;
    Ok(buffer_json::encode(&text))
}

/// `sender-key-memory-<group>.json` → the engine's `(device jid, has key)` rows.
pub fn memory_to_engine(file: &Value) -> Result<Vec<(String, bool)>, String> {
    let map = file.as_object().ok_or("sender-key memory is not an object")?;
    map.iter()
        .map(|(jid, has)| {
            let has = has.as_bool().ok_or_else(|| format!("sender-key memory entry {jid} is not a boolean"))?;
            Ok((jid.clone(), has))
        })
        .collect()
}

/// The engine's rows → `sender-key-memory-<group>.json`.
pub fn memory_from_engine(entries: &[(String, bool)]) -> Value {
    Value::Object(entries.iter().map(|(jid, has)| (jid.clone(), Value::Bool(*has))).collect())
}
