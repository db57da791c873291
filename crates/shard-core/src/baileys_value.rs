//! `BValue`: a JS-shaped value tree for objects that must look exactly like Baileys' ones.
//!
//! Messages reach bots as Baileys' protobufjs objects: `bytes` fields are `Buffer`s, 64-bit
//! integers may exceed what a JS number holds, and the set of present keys matters (unset
//! fields are absent). JSON text can say none of that without side conventions, and printing
//! then re-parsing JSON for every message is wasted work on the hot path. So the converters
//! build this tree, and the binding turns it into JS values directly (the napi crate's
//! `js_value` module): `Bytes` becomes a `Buffer`, `Int`/`Uint` become numbers (or `BigInt`s
//! past 2^53), `Object` keeps its key order.

/// One JS value. `Object` is an ordered list of `(key, value)` pairs: key order is the order
/// fields were produced in (the protobuf wire order for decoded messages), and keys are unique
/// by construction of the producers (use [`BValue::set`] to keep them unique).
#[derive(Debug, Clone, PartialEq)]
pub enum BValue {
    Null,
    Bool(bool),
    /// Exact signed integer. The JS side gives a number when |v| <= 2^53 - 1, else a BigInt.
    Int(i64),
    /// Exact unsigned integer. The JS side gives a number when v <= 2^53 - 1, else a BigInt.
    Uint(u64),
    Float(f64),
    String(String),
    /// Becomes a Node `Buffer`.
    Bytes(Vec<u8>),
    Array(Vec<BValue>),
    Object(Vec<(String, BValue)>),
}

impl BValue {
    /// An empty object.
    pub fn object() -> BValue {
        BValue::Object(Vec::new())
    }

    /// An object with these fields, in this order: `BValue::obj([("text", BValue::str("hi"))])`.
    pub fn obj<const N: usize>(fields: [(&str, BValue); N]) -> BValue {
        BValue::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// A string value.
    pub fn str(s: impl Into<String>) -> BValue {
        BValue::String(s.into())
    }

    /// The value of `key` if this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&BValue> {
        match self {
            BValue::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Mutable access to the value of `key` if this is an object that has it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut BValue> {
        match self {
            BValue::Object(fields) => fields.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets `key` on an object, replacing an existing value in place (its position is kept).
    /// Does nothing on a non-object.
    pub fn set(&mut self, key: impl Into<String>, value: BValue) {
        let key = key.into();
        if let BValue::Object(fields) = self {
            match fields.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => fields.push((key, value)),
            }
        }
    }

    /// Builder form of [`BValue::set`].
    pub fn with(mut self, key: impl Into<String>, value: BValue) -> BValue {
        self.set(key, value);
        self
    }

    /// The keys of an object, in order (empty for a non-object).
    pub fn keys(&self) -> Vec<&str> {
        match self {
            BValue::Object(fields) => fields.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            BValue::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[BValue]> {
        match self {
            BValue::Array(items) => Some(items),
            _ => None,
        }
    }
}

impl From<&str> for BValue {
    fn from(s: &str) -> Self {
        BValue::String(s.to_owned())
    }
}

impl From<String> for BValue {
    fn from(s: String) -> Self {
        BValue::String(s)
    }
}

impl From<bool> for BValue {
    fn from(b: bool) -> Self {
        BValue::Bool(b)
    }
}

impl From<i64> for BValue {
    fn from(v: i64) -> Self {
        BValue::Int(v)
    }
}

impl From<u64> for BValue {
    fn from(v: u64) -> Self {
        BValue::Uint(v)
    }
}

impl From<Vec<u8>> for BValue {
    fn from(v: Vec<u8>) -> Self {
        BValue::Bytes(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_in_place_and_keeps_order() {
        let mut v = BValue::object().with("a", 1i64.into()).with("b", "x".into());
        v.set("a", BValue::Bool(true));
        assert_eq!(v.keys(), ["a", "b"]);
        assert_eq!(v.get("a"), Some(&BValue::Bool(true)));
        assert_eq!(v.get("missing"), None);
    }
}

impl BValue {
    /// A JSON value as a `BValue`, with Baileys' BufferJSON objects (`{ type: 'Buffer', data }`)
    /// turned into `Bytes`, as Baileys' `BufferJSON.reviver` does.
    pub fn from_buffer_json(value: &serde_json::Value) -> BValue {
        use serde_json::Value;
        if let Some(bytes) = crate::buffer_json::decode(value) {
            return BValue::Bytes(bytes);
        }
        match value {
            Value::Null => BValue::Null,
            Value::Bool(b) => BValue::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => BValue::Int(i),
                (None, Some(u)) => BValue::Uint(u),
                _ => BValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => BValue::String(s.clone()),
            Value::Array(items) => BValue::Array(items.iter().map(BValue::from_buffer_json).collect()),
            Value::Object(map) => BValue::Object(map.iter().map(|(k, v)| (k.clone(), BValue::from_buffer_json(v))).collect()),
        }
    }
}

#[cfg(test)]
mod buffer_json_tests {
    use super::*;

    #[test]
    fn revives_buffers_and_keeps_the_rest() {
        let v = serde_json::json!({ "a": { "type": "Buffer", "data": "AQI=" }, "n": 5, "s": "x", "l": [true, null] });
        let b = BValue::from_buffer_json(&v);
        assert_eq!(b.get("a"), Some(&BValue::Bytes(vec![1, 2])));
        assert_eq!(b.get("n"), Some(&BValue::Int(5)));
        assert_eq!(b.get("l"), Some(&BValue::Array(vec![BValue::Bool(true), BValue::Null])));
    }
}
