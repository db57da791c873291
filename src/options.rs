//! JS option objects → shard-core types. Baileys' option names; unknown keys are ignored.

use std::time::Duration;

use serde_json::Value;
use shard_core::pairing_code::PhoneNumber;
use shard_core::proxy::Proxy;
use shard_core::reconnect::ReconnectPolicy;
use shard_core::{ShardOptions, SocketConfig};

use crate::errors::invalid_argument;

type Result<T> = std::result::Result<T, shard_core::ShardError>;

fn opt_string(obj: &Value, key: &str) -> Result<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid_argument(format!("{key} must be a string, got {other}"))),
    }
}

fn opt_ms(obj: &Value, key: &str) -> Result<Option<Duration>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map(|n| Some(Duration::from_millis(n as u64)))
            .ok_or_else(|| invalid_argument(format!("{key} must be a number of milliseconds, got {v}"))),
    }
}

fn opt_bool(obj: &Value, key: &str) -> Result<Option<bool>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(invalid_argument(format!("{key} must be a boolean, got {other}"))),
    }
}

/// Baileys `SocketConfig` subset (see shard_core::SocketConfig for what each does).
pub fn socket_config(value: Option<&Value>) -> Result<SocketConfig> {
    let Some(obj) = value.filter(|v| !v.is_null()) else { return Ok(SocketConfig::default()) };
    if !obj.is_object() {
        return Err(invalid_argument("socket options must be an object"));
    }
    let version = match obj.get("version") {
        None | Some(Value::Null) => None,
        Some(Value::Array(parts)) if parts.len() == 3 => {
            let nums: Option<Vec<u32>> = parts.iter().map(|p| p.as_u64().and_then(|n| u32::try_from(n).ok())).collect();
            let nums = nums.ok_or_else(|| invalid_argument("version must be three whole numbers, e.g. [2, 3000, 1023223821]"))?;
            Some([nums[0], nums[1], nums[2]])
        }
        Some(_) => return Err(invalid_argument("version must be [major, minor, patch], e.g. [2, 3000, 1023223821]")),
    };
    let browser = match obj.get("browser") {
        None | Some(Value::Null) => None,
        Some(Value::Array(parts)) if parts.len() == 3 && parts.iter().all(Value::is_string) => {
            let s = |i: usize| parts[i].as_str().unwrap_or_default().to_owned();
            Some([s(0), s(1), s(2)])
        }
        Some(_) => return Err(invalid_argument("browser must be [os, browser, version], e.g. Browsers.ubuntu('Chrome')")),
    };
    let wa_web_socket_url = opt_string(obj, "waWebSocketUrl")?;
    if let Some(url) = &wa_web_socket_url {
        shard_core::ws_dial::parse_ws_url(url).map_err(invalid_argument)?;
    }
    Ok(SocketConfig {
        wa_web_socket_url,
        version,
        browser,
        qr_timeout: opt_ms(obj, "qrTimeout")?,
        connect_timeout: opt_ms(obj, "connectTimeoutMs")?,
        keep_alive_interval: opt_ms(obj, "keepAliveIntervalMs")?,
        mark_online_on_connect: opt_bool(obj, "markOnlineOnConnect")?,
        sync_full_history: opt_bool(obj, "syncFullHistory")?,
        // Set by lib/manager.js when the `shouldSyncHistoryMessage` function is given.
        history_filter: opt_bool(obj, "historyFilter")?,
        emit_own_events: opt_bool(obj, "emitOwnEvents")?,
        proxy: opt_proxy(obj, "proxy")?,
        media_proxy: opt_proxy(obj, "mediaProxy")?,
    })
}

/// A proxy URL (`lib/manager.js` gives `proxy` for the chat socket and `mediaProxy` for media,
/// read from the `proxy` option or Baileys' `agent` / `fetchAgent`).
fn opt_proxy(obj: &Value, key: &str) -> Result<Option<Proxy>> {
    opt_string(obj, key)?.map(|url| Proxy::parse(&url).map_err(invalid_argument)).transpose()
}

/// `createShard({ id?, phoneNumber?, socket? })`.
pub fn shard_options(value: Option<&Value>) -> Result<ShardOptions> {
    let Some(obj) = value.filter(|v| !v.is_null()) else { return Ok(ShardOptions::default()) };
    if !obj.is_object() {
        return Err(invalid_argument("createShard options must be an object"));
    }
    let phone_number = match obj.get("phoneNumber") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => return Err(invalid_argument(format!("phoneNumber must be a string of digits, got {other}"))),
    };
    // Checked (and normalised to digits) here, before createShard touches the session folder.
    let phone_number = phone_number.map(|raw| PhoneNumber::parse(&raw).map(|p| p.as_str().to_owned())).transpose()?;
    Ok(ShardOptions { id: opt_string(obj, "id")?, phone_number, socket: socket_config(obj.get("socket"))? })
}

/// A limit option (`maxConcurrentHandshakes`, `maxPendingMessages`): a whole number ≥ 1, or
/// absent for the default.
pub fn limit(name: &str, value: Option<&Value>) -> Result<Option<usize>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .filter(|n| *n >= 1)
            .map(|n| Some(n as usize))
            .ok_or_else(|| invalid_argument(format!("{name} must be a whole number of at least 1, got {v}"))),
    }
}

/// A duration option in milliseconds (`handlerTimeoutMs`): a whole number ≥ 0, or absent for
/// the default.
pub fn milliseconds(name: &str, value: Option<&Value>) -> Result<Option<u64>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid_argument(format!("{name} must be a whole number of milliseconds (0 or more), got {v}"))),
    }
}

/// `reconnect: { initialDelayMs, maxDelayMs, stableAfterMs, jitter }`: the backoff after
/// transient closes; every field optional.
pub fn reconnect_policy(value: Option<&Value>) -> Result<Option<ReconnectPolicy>> {
    let Some(obj) = value.filter(|v| !v.is_null()) else { return Ok(None) };
    if !obj.is_object() {
        return Err(invalid_argument("reconnect must be an object, e.g. { initialDelayMs: 1000, maxDelayMs: 120000 }"));
    }
    let mut policy = ReconnectPolicy::default();
    if let Some(d) = opt_ms(obj, "initialDelayMs")? {
        policy.initial = d;
    }
    if let Some(d) = opt_ms(obj, "maxDelayMs")? {
        policy.max = d;
    }
    if let Some(d) = opt_ms(obj, "stableAfterMs")? {
        policy.stable_after = d;
    }
    match obj.get("jitter") {
        None | Some(Value::Null) => {}
        Some(v) => {
            policy.jitter = v
                .as_f64()
                .filter(|j| (0.0..=1.0).contains(j))
                .ok_or_else(|| invalid_argument(format!("reconnect.jitter must be a fraction between 0 and 1, got {v}")))?
        }
    }
    if policy.initial.is_zero() || policy.max < policy.initial {
        return Err(invalid_argument("reconnect needs 0 < initialDelayMs <= maxDelayMs"));
    }
    Ok(Some(policy))
}
