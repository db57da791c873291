//! Checks of loosely typed JS arguments (`serde_json::Value`) shared by the socket methods:
//! each failure is an `INVALID_ARGUMENT` naming the call, the argument and what it got.

use std::str::FromStr;

use serde_json::Value;
use shard_core::ShardError;

use crate::errors::invalid_argument;

type Result<T> = std::result::Result<T, ShardError>;

/// "a string", "an array", … for messages.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A required string argument.
pub fn string(call: &str, name: &str, v: Option<Value>) -> Result<String> {
    match v.unwrap_or(Value::Null) {
        Value::String(s) => Ok(s),
        other => Err(invalid_argument(format!("{call}: {name} must be a string, got {}", kind_of(&other)))),
    }
}

/// An optional string argument (`undefined` or `null`: none).
pub fn optional_string(call: &str, name: &str, v: Option<Value>) -> Result<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(other) => string(call, name, Some(other)).map(Some),
    }
}

/// A string argument naming one of `all` (parsed into `T`).
pub fn one_of<T: FromStr<Err = ShardError>>(call: &str, name: &str, v: Option<Value>, all: &[&str]) -> Result<T> {
    match v.unwrap_or(Value::Null) {
        Value::String(s) => s.parse(),
        other => Err(invalid_argument(format!(
            "{call}: {name} must be one of {}, got {}",
            all.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", "),
            kind_of(&other)
        ))),
    }
}
