//! `BValue` → JS value: THE place that builds JS message objects.
//!
//! Every WhatsApp message this package hands to JS is converted by `shard_core::proto_to_baileys`
//! into a `BValue` and turned into JS here, directly through N-API (no JSON text in between):
//! `Bytes` become `Buffer`s (copied into a Node-owned buffer, so no external memory outlives
//! Rust), objects keep their key order, and 64-bit integers become plain numbers while they
//! are exact (|v| <= Number.MAX_SAFE_INTEGER = 2^53 - 1) and `BigInt`s beyond. (Baileys gives
//! protobufjs `Long` objects for 64-bit fields; plain numbers are what bots usually convert
//! those to anyway.)

use napi::bindgen_prelude::{BigInt, BufferSlice, Null, Object, ToNapiValue};
use napi::{sys, Env, Result};
use napi_derive::napi;
use shard_core::baileys_value::BValue;
use shard_core::proto_to_baileys;

use crate::errors::{self as js, invalid_argument, js_error};

/// Number.MAX_SAFE_INTEGER: the largest integer a JS number holds exactly.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A `BValue` on its way to JS: return it from a `#[napi]` function, or set it as a property.
pub struct JsBValue(pub BValue);

impl ToNapiValue for JsBValue {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        to_napi(env, &val.0)
    }
}

/// A borrowed `BValue`, for recursion without cloning subtrees.
struct JsBValueRef<'a>(&'a BValue);

impl ToNapiValue for JsBValueRef<'_> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        to_napi(env, val.0)
    }
}

unsafe fn to_napi(raw_env: sys::napi_env, value: &BValue) -> Result<sys::napi_value> {
    let env = Env::from_raw(raw_env);
    match value {
        BValue::Null => Null::to_napi_value(raw_env, Null),
        BValue::Bool(b) => bool::to_napi_value(raw_env, *b),
        BValue::Int(v) if v.unsigned_abs() <= MAX_SAFE_INTEGER => f64::to_napi_value(raw_env, *v as f64),
        BValue::Int(v) => BigInt::to_napi_value(raw_env, BigInt::from(*v)),
        BValue::Uint(v) if *v <= MAX_SAFE_INTEGER => f64::to_napi_value(raw_env, *v as f64),
        BValue::Uint(v) => BigInt::to_napi_value(raw_env, BigInt::from(*v)),
        BValue::Float(f) => f64::to_napi_value(raw_env, *f),
        BValue::String(s) => <&str>::to_napi_value(raw_env, s.as_str()),
        BValue::Bytes(bytes) => {
            let buffer = BufferSlice::copy_from(&env, bytes)?;
            <&BufferSlice>::to_napi_value(raw_env, &buffer)
        }
        BValue::Array(items) => {
            let len = u32::try_from(items.len()).map_err(|_| napi::Error::from_reason("array too long for JS"))?;
            let mut array = env.create_array(len)?;
            for (i, item) in (0..len).zip(items) {
                array.set(i, JsBValueRef(item))?;
            }
            napi::bindgen_prelude::Array::to_napi_value(raw_env, array)
        }
        BValue::Object(fields) => {
            let mut object = Object::new(&env)?;
            for (key, item) in fields {
                object.set(key, JsBValueRef(item))?;
            }
            Object::to_napi_value(raw_env, object)
        }
    }
}

/// `decodeProtoMessage(bytes)`: WhatsApp `Message` protobuf bytes → the object Baileys'
/// `proto.Message.decode(bytes)` gives (`proto.IMessage`), with plain numbers (or BigInt past
/// 2^53) instead of `Long`s. Throws `INVALID_ARGUMENT` on malformed bytes.
#[napi(ts_return_type = "Record<string, any>", catch_unwind)]
pub fn decode_proto_message(bytes: napi::bindgen_prelude::Buffer) -> js::Result<JsBValue> {
    proto_to_baileys::decode(proto_to_baileys::MESSAGE, &bytes).map(JsBValue).map_err(|e| js_error(invalid_argument(e.to_string())))
}
