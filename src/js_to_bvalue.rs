//! JS value → `BValue`: the way in for Baileys-shaped objects (the reverse of `js_value`).
//!
//! Bots pass us Baileys' message objects (`{ quoted: msg }`, `{ forward: msg }`): protobufjs
//! instances, their `toObject()` form, JSON revived by `BufferJSON`, literals. They are read
//! here into a `BValue` tree, which `shard_core::baileys_to_proto` encodes by the schema.
//! The walk goes through N-API directly rather than through `serde_json`: JSON has no bytes,
//! no BigInt, and would drop `undefined` keys inconsistently. What it reads:
//!
//! - `null` / `undefined` → `Null` (an absent field);
//! - numbers → `Int` when integer-valued and exact (|v| <= 2^53 - 1), else `Float`;
//! - `BigInt` → `Int` / `Uint` (an error beyond 64 bits);
//! - Buffer / any TypedArray / DataView / ArrayBuffer → `Bytes` (the viewed bytes);
//! - arrays → `Array`; other objects → `Object` of their OWN enumerable string-keyed
//!   properties, in `Object.keys` order. That is also right for protobufjs instances: set
//!   fields are own properties, defaults and oneof getters live on the prototype. `Long`s
//!   arrive as `{ low, high, unsigned }` objects, which the encoder understands;
//! - functions and symbols are skipped (as object properties) or `Null` (as array elements),
//!   like `JSON.stringify` does.
//!
//! Nesting deeper than 100 levels is an error (it also stops cyclic objects), and so is a value
//! of more than a million parts in all: a sparse array (`length = 2**32 - 1`) or objects that
//! share sub-objects (read once per reference) would otherwise take all memory.

use napi::bindgen_prelude::{Buffer, FromNapiValue};
use napi::{check_status, sys, Result};
use napi_derive::napi;
use shard_core::baileys_to_proto;
use shard_core::baileys_value::BValue;

use crate::errors::{self as js, invalid_argument, js_error, unreadable_argument};

/// Deepest nesting read; the same bound as the protobuf decoder and encoder.
const MAX_DEPTH: usize = 100;
/// Most values (array elements, object fields, scalars) one argument may hold in all.
const MAX_PARTS: usize = 1_000_000;
/// Number.MAX_SAFE_INTEGER: beyond it a JS number may not be the integer the user meant.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A JS argument read as a `BValue` (see the module docs). Use it as a `#[napi]` parameter.
pub struct JsInput(pub BValue);

impl FromNapiValue for JsInput {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut budget = MAX_PARTS;
        read(env, value, 0, &mut budget).map(JsInput)
    }
}

/// `budget`: how many more parts the whole argument may have (see `MAX_PARTS`).
unsafe fn read(env: sys::napi_env, value: sys::napi_value, depth: usize, budget: &mut usize) -> Result<BValue> {
    if depth > MAX_DEPTH {
        return Err(unreadable_argument(format!("value nested deeper than {MAX_DEPTH} levels (or cyclic)")));
    }
    spend(budget, 1)?;
    let mut value_type = 0;
    check_status!(sys::napi_typeof(env, value, &mut value_type), "typeof failed")?;
    match value_type {
        sys::ValueType::napi_undefined | sys::ValueType::napi_null => Ok(BValue::Null),
        sys::ValueType::napi_boolean => {
            let mut b = false;
            check_status!(sys::napi_get_value_bool(env, value, &mut b), "reading a boolean failed")?;
            Ok(BValue::Bool(b))
        }
        sys::ValueType::napi_number => {
            let mut n = 0.0;
            check_status!(sys::napi_get_value_double(env, value, &mut n), "reading a number failed")?;
            Ok(number(n))
        }
        sys::ValueType::napi_string => read_string(env, value).map(BValue::String),
        sys::ValueType::napi_bigint => read_bigint(env, value),
        sys::ValueType::napi_object => read_object(env, value, depth, budget),
        // Functions, symbols, externals: nothing a message field can hold.
        _ => Ok(BValue::Null),
    }
}

/// Takes `n` parts from the budget, or fails when the argument would have too many.
fn spend(budget: &mut usize, n: usize) -> Result<()> {
    *budget = budget.checked_sub(n).ok_or_else(|| {
        unreadable_argument(format!("value too large: more than {MAX_PARTS} parts (a sparse array, or objects shared many times?)"))
    })?;
    Ok(())
}

fn number(n: f64) -> BValue {
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER {
        // Exact: the check above bounds it well inside i64, and -0 becomes 0.
        BValue::Int(n as i64)
    } else {
        BValue::Float(n)
    }
}

unsafe fn read_string(env: sys::napi_env, value: sys::napi_value) -> Result<String> {
    let mut len = 0usize;
    check_status!(sys::napi_get_value_string_utf8(env, value, std::ptr::null_mut(), 0, &mut len), "reading a string failed")?;
    // N-API writes a terminating NUL, hence the extra byte.
    let mut buf = vec![0u8; len + 1];
    let mut written = 0usize;
    check_status!(
        sys::napi_get_value_string_utf8(env, value, buf.as_mut_ptr().cast(), buf.len(), &mut written),
        "reading a string failed"
    )?;
    buf.truncate(written);
    // N-API gives UTF-8 (lone surrogates already replaced); lossy only guards the impossible.
    Ok(String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

unsafe fn read_bigint(env: sys::napi_env, value: sys::napi_value) -> Result<BValue> {
    let mut sign = 0;
    let mut count = 0usize;
    // First call: how many 64-bit words the BigInt has (Node answers that only when both the
    // sign and the words pointers are null).
    check_status!(
        sys::napi_get_value_bigint_words(env, value, std::ptr::null_mut(), &mut count, std::ptr::null_mut()),
        "reading a BigInt failed"
    )?;
    let mut words = vec![0u64; count.max(1)];
    let mut count = words.len();
    check_status!(sys::napi_get_value_bigint_words(env, value, &mut sign, &mut count, words.as_mut_ptr()), "reading a BigInt failed")?;
    let too_big = || unreadable_argument("BigInt out of the 64-bit range");
    if words.iter().skip(1).any(|w| *w != 0) {
        return Err(too_big());
    }
    let magnitude = words[0];
    if sign == 0 {
        return Ok(match i64::try_from(magnitude) {
            Ok(v) => BValue::Int(v),
            Err(_) => BValue::Uint(magnitude),
        });
    }
    let negative = -i128::from(magnitude);
    i64::try_from(negative).map(BValue::Int).map_err(|_| too_big())
}

unsafe fn read_object(env: sys::napi_env, value: sys::napi_value, depth: usize, budget: &mut usize) -> Result<BValue> {
    if let Some(bytes) = read_binary(env, value)? {
        return Ok(BValue::Bytes(bytes));
    }
    let mut is_array = false;
    check_status!(sys::napi_is_array(env, value, &mut is_array), "is_array failed")?;
    if is_array {
        let mut len = 0u32;
        check_status!(sys::napi_get_array_length(env, value, &mut len), "reading an array length failed")?;
        // Checked before anything is allocated: every element, even a hole, is one part.
        if len as usize > *budget {
            spend(budget, len as usize)?;
        }
        let mut items = Vec::with_capacity(len as usize);
        for i in 0..len {
            let mut item = std::ptr::null_mut();
            check_status!(sys::napi_get_element(env, value, i, &mut item), "reading an array element failed")?;
            items.push(read(env, item, depth + 1, budget)?);
        }
        return Ok(BValue::Array(items));
    }

    let mut keys = std::ptr::null_mut();
    check_status!(
        sys::napi_get_all_property_names(
            env,
            value,
            sys::KeyCollectionMode::own_only,
            sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
            sys::KeyConversion::numbers_to_strings,
            &mut keys,
        ),
        "listing object keys failed"
    )?;
    let mut len = 0u32;
    check_status!(sys::napi_get_array_length(env, keys, &mut len), "listing object keys failed")?;
    if len as usize > *budget {
        spend(budget, len as usize)?;
    }
    let mut fields = Vec::with_capacity(len as usize);
    for i in 0..len {
        let mut key = std::ptr::null_mut();
        check_status!(sys::napi_get_element(env, keys, i, &mut key), "listing object keys failed")?;
        let mut item = std::ptr::null_mut();
        // May run a getter (and so throw): the pending exception surfaces as this error.
        check_status!(sys::napi_get_property(env, value, key, &mut item), "reading an object property failed")?;
        let mut item_type = 0;
        check_status!(sys::napi_typeof(env, item, &mut item_type), "typeof failed")?;
        if matches!(item_type, sys::ValueType::napi_function | sys::ValueType::napi_symbol) {
            continue;
        }
        let name = read_string(env, key)?;
        fields.push((name, read(env, item, depth + 1, budget)?));
    }
    Ok(BValue::Object(fields))
}

/// The bytes a Buffer, TypedArray, DataView or ArrayBuffer views; `None` for other objects.
unsafe fn read_binary(env: sys::napi_env, value: sys::napi_value) -> Result<Option<Vec<u8>>> {
    let mut data: *mut std::ffi::c_void = std::ptr::null_mut();
    let byte_len;

    let mut is_typed_array = false;
    check_status!(sys::napi_is_typedarray(env, value, &mut is_typed_array), "is_typedarray failed")?;
    let mut is_data_view = false;
    let mut is_array_buffer = false;
    if is_typed_array {
        // Buffers are Uint8Arrays, so they are read here too.
        let mut kind = 0;
        let mut length = 0usize;
        let mut array_buffer = std::ptr::null_mut();
        let mut offset = 0usize;
        check_status!(
            sys::napi_get_typedarray_info(env, value, &mut kind, &mut length, &mut data, &mut array_buffer, &mut offset),
            "reading a typed array failed"
        )?;
        let element_size = match kind {
            sys::TypedarrayType::int16_array | sys::TypedarrayType::uint16_array => 2,
            sys::TypedarrayType::int32_array | sys::TypedarrayType::uint32_array | sys::TypedarrayType::float32_array => 4,
            sys::TypedarrayType::float64_array | sys::TypedarrayType::bigint64_array | sys::TypedarrayType::biguint64_array => 8,
            sys::TypedarrayType::int8_array | sys::TypedarrayType::uint8_array | sys::TypedarrayType::uint8_clamped_array => 1,
            // A kind newer than this N-API version knows (Float16Array): its size is unknown.
            _ => return Err(unreadable_argument("unsupported typed array kind")),
        };
        byte_len = length.checked_mul(element_size).ok_or_else(|| unreadable_argument("typed array too large"))?;
    } else {
        check_status!(sys::napi_is_dataview(env, value, &mut is_data_view), "is_dataview failed")?;
        if is_data_view {
            let mut length = 0usize;
            let mut array_buffer = std::ptr::null_mut();
            let mut offset = 0usize;
            check_status!(
                sys::napi_get_dataview_info(env, value, &mut length, &mut data, &mut array_buffer, &mut offset),
                "reading a DataView failed"
            )?;
            byte_len = length;
        } else {
            check_status!(sys::napi_is_arraybuffer(env, value, &mut is_array_buffer), "is_arraybuffer failed")?;
            if !is_array_buffer {
                return Ok(None);
            }
            let mut length = 0usize;
            check_status!(sys::napi_get_arraybuffer_info(env, value, &mut data, &mut length), "reading an ArrayBuffer failed")?;
            byte_len = length;
        }
    }
    // An empty or detached view may have no data pointer at all.
    if byte_len == 0 || data.is_null() {
        return Ok(Some(Vec::new()));
    }
    // SAFETY: N-API reports `data` as the start of `byte_len` readable bytes of this view,
    // valid while `value` is alive (it is: it is an argument of the current call), and we
    // copy them out before returning to JS.
    Ok(Some(std::slice::from_raw_parts(data.cast::<u8>(), byte_len).to_vec()))
}

/// `encodeProtoMessage(message)`: a Baileys `proto.IMessage`-shaped object (protobufjs
/// instance or plain object) → WhatsApp `Message` protobuf bytes, through the same path as
/// `{ quoted }` / `{ forward }` (JS → BValue → `baileys_to_proto` → waproto `Message` → bytes).
/// Throws `INVALID_ARGUMENT` (`<field path>: expected ...`) on a value of the wrong type.
#[napi(ts_args_type = "message: Record<string, any>", catch_unwind)]
pub fn encode_proto_message(value: JsInput) -> js::Result<Buffer> {
    baileys_to_proto::message_bytes_from_baileys(&value.0).map(Buffer::from).map_err(|e| js_error(invalid_argument(e.to_string())))
}
