//! The fault endpoints of the admin API: parsing `POST /admin/faults/<action>` bodies into a
//! [`Fault`] (every field checked, so a typo is a 400, never a silent no-op), and routing
//! `/admin/faults` and `/admin/stats` to the runtime.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Map, Value};

use super::model::{
    AppStateFault, AppStateSpoil, Delay, DelayScope, DropOn, DropPoint, DropRate, Fault, LoginFailure, MalformedFrame, MalformedKind,
    PairingCodeRefusal, RefuseHow, StreamErrorKind, Target, PAIRING_CODE_REFUSALS,
};
use super::registry::Faults;
use crate::accounts::Directory;
use crate::http_response::Response;
use crate::jid::split_jid;
use crate::locking::lock;

/// What the fault endpoints need of the server: its faults, and its accounts (to resolve a LID
/// target).
pub trait FaultsState {
    fn faults(&self) -> &Faults;
    fn directory(&self) -> &Mutex<Directory>;
}

/// How long a restart refuses new connections when the request does not say.
pub const DEFAULT_RESTART_DOWN: Duration = Duration::from_millis(1000);
/// Interval used by `on: "interval"` when the request does not say.
const DEFAULT_DROP_INTERVAL: Duration = Duration::from_millis(1000);
/// Upper bound on any duration the API accepts, so a typo cannot wedge a test run for hours.
const MAX_DURATION: Duration = Duration::from_secs(3600);

/// A JSON object body; an empty body is `{}`.
fn body_object(body: &[u8]) -> Result<Map<String, Value>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("body must be a JSON object".into()),
        Err(e) => Err(format!("body is not JSON: {e}")),
    }
}

/// Rejects fields the endpoint does not know (a typo must not silently do nothing).
fn only_fields(obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("unknown field {k:?} (expected one of {allowed:?})")),
        None => Ok(()),
    }
}

fn opt_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{key:?} must be a string")),
    }
}

fn opt_u64(obj: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| format!("{key:?} must be a non-negative integer")),
    }
}

fn opt_bool(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(format!("{key:?} must be true or false")),
    }
}

fn opt_ms(obj: &Map<String, Value>, key: &str) -> Result<Option<Duration>, String> {
    let Some(ms) = opt_u64(obj, key)? else {
        return Ok(None);
    };
    let d = Duration::from_millis(ms);
    if d > MAX_DURATION {
        return Err(format!("{key:?} must be at most {} ms", MAX_DURATION.as_millis()));
    }
    Ok(Some(d))
}

fn phone_digits(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(format!("{s:?} is not a phone number (digits only, no +)"))
    }
}

/// `{}` → all, `{"phone": "1555..."}`, or `{"jid": "1555...:1@s.whatsapp.net"}` (or a LID jid).
/// `phone_for_lid` resolves a LID jid's user to the account's phone number.
fn target(obj: &Map<String, Value>, phone_for_lid: &dyn Fn(&str) -> Option<String>) -> Result<Target, String> {
    match (opt_str(obj, "phone")?, opt_str(obj, "jid")?) {
        (Some(_), Some(_)) => Err("give either \"phone\" or \"jid\", not both".into()),
        (Some(p), None) => Ok(Target::Phone(phone_digits(p)?)),
        (None, Some(jid)) => {
            let (user, device, is_lid) = split_jid(jid)
                .filter(|_| jid.ends_with("@s.whatsapp.net") || jid.ends_with("@lid"))
                .ok_or_else(|| format!("{jid:?} is not a device jid (user:device@s.whatsapp.net or @lid)"))?;
            let phone =
                if is_lid { phone_for_lid(&user).ok_or_else(|| format!("no account has the LID {user}"))? } else { phone_digits(&user)? };
            Ok(Target::Device((phone, device)))
        }
        (None, None) => Ok(Target::All),
    }
}

impl Fault {
    /// Parses `POST /admin/faults/<action>`. `Err` is a message for a 400.
    pub fn parse(action: &str, body: &[u8], phone_for_lid: &dyn Fn(&str) -> Option<String>) -> Result<Fault, String> {
        let obj = body_object(body)?;
        match action {
            "drop" => {
                only_fields(&obj, &["phone", "jid"])?;
                Ok(Fault::Drop(target(&obj, phone_for_lid)?))
            }
            "drop-rate" => {
                only_fields(&obj, &["probability", "on", "at", "maxDrops", "intervalMs"])?;
                let p = match obj.get("probability") {
                    Some(v) => v.as_f64().ok_or("\"probability\" must be a number")?,
                    None => return Err("\"probability\" is required (0 clears the drop rate)".into()),
                };
                if !(0.0..=1.0).contains(&p) {
                    return Err(format!("\"probability\" must be within 0..=1, got {p}"));
                }
                if p == 0.0 {
                    return Ok(Fault::DropRate(None));
                }
                let on = match opt_str(&obj, "on")?.unwrap_or("message") {
                    "message" => DropOn::Message,
                    "frame" => DropOn::Frame,
                    "interval" => {
                        let every = opt_ms(&obj, "intervalMs")?.unwrap_or(DEFAULT_DROP_INTERVAL);
                        if every < Duration::from_millis(10) {
                            return Err("\"intervalMs\" must be at least 10".into());
                        }
                        if obj.contains_key("at") {
                            return Err("\"at\" applies to \"message\" and \"frame\" drops, not \"interval\"".into());
                        }
                        DropOn::Interval(every)
                    }
                    other => return Err(format!("\"on\" must be \"message\", \"frame\" or \"interval\", got {other:?}")),
                };
                if obj.contains_key("intervalMs") && !matches!(on, DropOn::Interval(_)) {
                    return Err("\"intervalMs\" goes with \"on\": \"interval\"".into());
                }
                let at = match opt_str(&obj, "at")?.unwrap_or("random") {
                    "before" => DropPoint::Before,
                    "after" => DropPoint::After,
                    "random" => DropPoint::Random,
                    other => return Err(format!("\"at\" must be \"before\", \"after\" or \"random\", got {other:?}")),
                };
                Ok(Fault::DropRate(Some(DropRate { probability: p, on, at, max_drops: opt_u64(&obj, "maxDrops")? })))
            }
            "stream-error" => {
                only_fields(&obj, &["code", "phone", "jid"])?;
                let code = opt_u64(&obj, "code")?.ok_or("\"code\" is required (515, 440, 401, 503, ...)")?;
                let code = u16::try_from(code).map_err(|_| format!("code {code} is out of range"))?;
                Ok(Fault::StreamError(target(&obj, phone_for_lid)?, StreamErrorKind::from_code(code)?))
            }
            "login-failure" => {
                only_fields(&obj, &["reason", "count", "phone"])?;
                let reason = opt_u64(&obj, "reason")?.ok_or("\"reason\" is required (401, 403, 503, ...)")?;
                if !(400..=599).contains(&reason) {
                    return Err(format!("\"reason\" must be within 400..=599, got {reason}"));
                }
                let count = opt_u64(&obj, "count")?.unwrap_or(1);
                if count == 0 || count > u64::from(u32::MAX) {
                    return Err("\"count\" must be at least 1".into());
                }
                Ok(Fault::FailLogins(LoginFailure {
                    reason: reason as u16,
                    remaining: count as u32,
                    phone: opt_str(&obj, "phone")?.map(phone_digits).transpose()?,
                }))
            }
            "refuse-pairing-code" => {
                only_fields(&obj, &["code", "count", "phone"])?;
                let code = opt_u64(&obj, "code")?.unwrap_or(429);
                let Some(&(code, _)) = PAIRING_CODE_REFUSALS.iter().find(|(c, _)| u64::from(*c) == code) else {
                    let known: Vec<String> = PAIRING_CODE_REFUSALS.iter().map(|(c, t)| format!("{c} {t}")).collect();
                    return Err(format!("\"code\" must be one WhatsApp refuses a pairing code with ({}), got {code}", known.join(", ")));
                };
                let count = opt_u64(&obj, "count")?.unwrap_or(1);
                if count == 0 || count > u64::from(u32::MAX) {
                    return Err("\"count\" must be at least 1".into());
                }
                Ok(Fault::RefusePairingCodes(PairingCodeRefusal {
                    code,
                    remaining: count as u32,
                    phone: opt_str(&obj, "phone")?.map(phone_digits).transpose()?,
                }))
            }
            "app-state" => {
                only_fields(&obj, &["kind", "count", "phone", "jid"])?;
                let kind = opt_str(&obj, "kind")?.ok_or("\"kind\" is required")?;
                let Some(&(spoil, _)) = AppStateSpoil::ALL.iter().find(|(_, n)| *n == kind) else {
                    let known: Vec<&str> = AppStateSpoil::ALL.iter().map(|(_, n)| *n).collect();
                    return Err(format!("\"kind\" must be one of {known:?}, got {kind:?}"));
                };
                let count = opt_u64(&obj, "count")?.unwrap_or(1);
                if count == 0 || count > u64::from(u32::MAX) {
                    return Err("\"count\" must be at least 1".into());
                }
                Ok(Fault::AppState(AppStateFault { spoil, target: target(&obj, phone_for_lid)?, remaining: count as u32 }))
            }
            "delay" => {
                only_fields(&obj, &["ms", "only"])?;
                let by = opt_ms(&obj, "ms")?.ok_or("\"ms\" is required (0 clears the delay)")?;
                let scope = match opt_str(&obj, "only")?.unwrap_or("all") {
                    "all" => DelayScope::All,
                    "iq" => DelayScope::IqResponses,
                    other => return Err(format!("\"only\" must be \"all\" or \"iq\", got {other:?}")),
                };
                Ok(Fault::Delay((!by.is_zero()).then_some(Delay { by, scope })))
            }
            "malformed-frame" => {
                only_fields(&obj, &["phone", "jid", "kind", "close"])?;
                let target = target(&obj, phone_for_lid)?;
                if target == Target::All {
                    return Err("a malformed frame needs a target: \"phone\" or \"jid\"".into());
                }
                let kind = match opt_str(&obj, "kind")?.unwrap_or("node") {
                    "node" => MalformedKind::BadNode,
                    "cipher" => MalformedKind::BadCipher,
                    other => return Err(format!("\"kind\" must be \"node\" or \"cipher\", got {other:?}")),
                };
                let then_close = opt_bool(&obj, "close")?.unwrap_or(true);
                Ok(Fault::Malformed(target, MalformedFrame { kind, then_close }))
            }
            "refuse" => {
                only_fields(&obj, &["ms", "how"])?;
                let ms = opt_ms(&obj, "ms")?.ok_or("\"ms\" is required")?;
                let how = match opt_str(&obj, "how")?.unwrap_or("close") {
                    "close" => RefuseHow::Close,
                    "http503" => RefuseHow::Http503,
                    other => return Err(format!("\"how\" must be \"close\" or \"http503\", got {other:?}")),
                };
                Ok(Fault::Refuse(ms, how))
            }
            "restart" => {
                only_fields(&obj, &["downMs"])?;
                Ok(Fault::Restart(opt_ms(&obj, "downMs")?.unwrap_or(DEFAULT_RESTART_DOWN)))
            }
            "clear" => {
                only_fields(&obj, &[])?;
                Ok(Fault::Clear)
            }
            other => Err(format!("no such fault: {other:?}")),
        }
    }
}

const ACTIONS: [&str; 11] = [
    "drop",
    "drop-rate",
    "stream-error",
    "login-failure",
    "refuse-pairing-code",
    "app-state",
    "delay",
    "malformed-frame",
    "refuse",
    "restart",
    "clear",
];

/// Routes `/admin/faults[/..]` and `/admin/stats[/reset]`; `None` for other paths.
pub fn route(method: &str, path: &str, body: &[u8], state: &impl FaultsState) -> Option<Response> {
    let faults = state.faults();
    let resp = match (method, path) {
        ("GET", "/admin/faults") => Response::json(200, &faults.settings_json()),
        ("GET", "/admin/stats") => Response::json(200, &faults.stats_json()),
        ("POST", "/admin/stats/reset") => {
            faults.reset_stats();
            Response::json(200, &faults.stats_json())
        }
        (_, "/admin/faults" | "/admin/stats") => Response::text(405, "use GET\n"),
        (_, "/admin/stats/reset") => Response::text(405, "use POST\n"),
        (_, p) => {
            let action = p.strip_prefix("/admin/faults/")?;
            if !ACTIONS.contains(&action) {
                return Some(Response::text(404, format!("no such fault endpoint: {path} (known: {})\n", ACTIONS.join(", "))));
            }
            if method != "POST" {
                return Some(Response::text(405, "use POST with a JSON body\n"));
            }
            let phone_for_lid = |lid: &str| lock(state.directory()).phone_for_lid(lid);
            match Fault::parse(action, body, &phone_for_lid) {
                Ok(fault) => Response::json(200, &faults.apply(fault)),
                Err(e) => Response::text(400, format!("{e}\n")),
            }
        }
    };
    Some(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn bad_requests_are_refused_with_a_reason() {
        let no_lids = |_: &str| None;
        let lids = |lid: &str| (lid == "100000000000001").then(|| "15550000001".to_owned());
        let parse = |action: &str, body: &str| Fault::parse(action, body.as_bytes(), &no_lids);
        let refused = |action: &str, body: &str, why: &str| {
            let err = parse(action, body).expect_err(body);
            assert!(err.contains(why), "{action} {body}: {err:?} should mention {why:?}");
        };
        refused("drop", "[1]", "JSON object");
        refused("drop", "not json", "not JSON");
        refused("drop", r#"{"phone": "+1555"}"#, "not a phone number");
        refused("drop", r#"{"phone": "1", "jid": "1:1@s.whatsapp.net"}"#, "either");
        refused("drop", r#"{"jid": "123@g.us"}"#, "device jid");
        refused("drop", r#"{"jid": "1:1@lid"}"#, "LID");
        refused("drop", r#"{"typo": 1}"#, "typo");
        refused("drop-rate", "{}", "required");
        refused("drop-rate", r#"{"probability": 1.5}"#, "0..=1");
        refused("drop-rate", r#"{"probability": 0.1, "on": "everything"}"#, "\"on\"");
        refused("drop-rate", r#"{"probability": 0.1, "on": "interval", "at": "before"}"#, "\"at\"");
        refused("drop-rate", r#"{"probability": 0.1, "intervalMs": 100}"#, "intervalMs");
        refused("drop-rate", r#"{"probability": 0.1, "on": "interval", "intervalMs": 1}"#, "at least 10");
        refused("stream-error", "{}", "required");
        refused("stream-error", r#"{"code": 200}"#, "400..=599");
        refused("login-failure", r#"{"reason": 401, "count": 0}"#, "at least 1");
        refused("refuse-pairing-code", r#"{"code": 401}"#, "429 rate-overlimit");
        refused("refuse-pairing-code", r#"{"count": 0}"#, "at least 1");
        refused("refuse-pairing-code", r#"{"phone": "+1555"}"#, "not a phone number");
        assert_eq!(
            parse("refuse-pairing-code", "").unwrap(),
            Fault::RefusePairingCodes(PairingCodeRefusal { code: 429, remaining: 1, phone: None })
        );
        refused("app-state", "{}", "required");
        refused("app-state", r#"{"kind": "badMac"}"#, "mutationMac");
        refused("app-state", r#"{"kind": "patchMac", "count": 0}"#, "at least 1");
        assert_eq!(
            parse("app-state", r#"{"kind": "snapshotMac", "phone": "1555", "count": 2}"#).unwrap(),
            Fault::AppState(AppStateFault { spoil: AppStateSpoil::SnapshotMac, target: Target::Phone("1555".into()), remaining: 2 })
        );
        refused("delay", r#"{"ms": -5}"#, "non-negative");
        refused("delay", r#"{"ms": 99999999999}"#, "at most");
        refused("malformed-frame", "{}", "needs a target");
        refused("refuse", r#"{"ms": 10, "how": "politely"}"#, "\"how\"");
        refused("nope", "{}", "no such fault");

        assert_eq!(parse("drop", "").unwrap(), Fault::Drop(Target::All));
        assert_eq!(
            parse("drop", r#"{"jid": "15551234567:2@s.whatsapp.net"}"#).unwrap(),
            Fault::Drop(Target::Device(("15551234567".into(), 2)))
        );
        assert_eq!(
            Fault::parse("drop", br#"{"jid": "100000000000001:3@lid"}"#, &lids).unwrap(),
            Fault::Drop(Target::Device(("15550000001".into(), 3)))
        );
        assert_eq!(parse("drop-rate", r#"{"probability": 0}"#).unwrap(), Fault::DropRate(None));
        assert_eq!(parse("delay", r#"{"ms": 0}"#).unwrap(), Fault::Delay(None));
        assert_eq!(parse("restart", "").unwrap(), Fault::Restart(DEFAULT_RESTART_DOWN));
        assert_eq!(
            parse("malformed-frame", r#"{"phone": "1555"}"#).unwrap(),
            Fault::Malformed(Target::Phone("1555".into()), MalformedFrame { kind: MalformedKind::BadNode, then_close: true })
        );
    }
}
