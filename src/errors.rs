//! `ShardError` → a JS exception the JS layer turns back into a `ShardError`.
//!
//! napi exceptions carry a message only; the code travels as a `[CODE] ` prefix that
//! `lib/errors.js` strips (the one other place that knows this format).

use shard_core::{ErrorCode, ShardError};

pub fn to_napi(err: ShardError) -> napi::Error {
    napi::Error::from_reason(format!("[{}] {}", err.code, err.message))
}

pub fn invalid_argument(message: impl Into<String>) -> napi::Error {
    to_napi(ShardError::new(ErrorCode::InvalidArgument, message))
}
