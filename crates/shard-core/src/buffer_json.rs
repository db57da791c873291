//! Baileys' `BufferJSON`: bytes in JSON as `{ "type": "Buffer", "data": "<base64>" }`.
//! Node's own `Buffer#toJSON` form (`data` as an array of numbers) is accepted on read too.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

pub fn encode(bytes: &[u8]) -> Value {
    json!({ "type": "Buffer", "data": B64.encode(bytes) })
}

/// Reads a BufferJSON value, either form. `None` when `value` is not a Buffer.
pub fn decode(value: &Value) -> Option<Vec<u8>> {
    let obj = value.as_object()?;
    if obj.get("type")?.as_str()? != "Buffer" {
        return None;
    }
    match obj.get("data")? {
        Value::String(s) => B64.decode(s).ok(),
        Value::Array(items) => items.iter().map(|n| n.as_u64().and_then(|n| u8::try_from(n).ok())).collect(),
        _ => None,
    }
}

/// Reads bytes that Baileys stores either as a Buffer or as a plain base64 string
/// (protobuf objects such as `creds.account` are written through their `toJSON`).
pub fn decode_bytes_or_base64(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::String(s) => B64.decode(s).ok(),
        other => decode(other),
    }
}

pub fn base64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_node_form() {
        let v = encode(&[1, 2, 250]);
        assert_eq!(v["data"], "AQL6");
        assert_eq!(decode(&v).unwrap(), vec![1, 2, 250]);
        assert_eq!(decode(&json!({"type":"Buffer","data":[1,2,250]})).unwrap(), vec![1, 2, 250]);
        assert!(decode(&json!({"type":"Buffer","data":[1,2,999]})).is_none());
        assert!(decode(&json!("AQL6")).is_none());
        assert_eq!(decode_bytes_or_base64(&json!("AQL6")).unwrap(), vec![1, 2, 250]);
    }
}
