//! The fault registry of one server ([`Faults`]): the faults in force, the live connections
//! they can target, and the handshake and fault counters; applying a parsed [`Fault`] and
//! reporting all of it as the admin API's JSON.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc::WeakUnboundedSender;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::Node;

use super::model::{
    AppStateFault, AppStateSpoil, Delay, DelayScope, DropOn, DropPoint, DropRate, Fault, LoginFailure, MalformedFrame, PairingCodeRefusal,
    RefuseHow, Target, PAIRING_CODE_REFUSALS,
};
use crate::accounts::Outbound;
use crate::locking::lock;
use crate::router::DevKey;

/// Faults that stay in force until cleared (or until they run out).
#[derive(Default)]
pub(super) struct Settings {
    pub drop_rate: Option<DropRate>,
    /// Random drops done under the current `drop_rate`.
    pub random_drops: u64,
    /// Bumped on every drop-rate change, so an interval ticker knows it is outdated.
    drop_rate_generation: u64,
    pub delay: Option<Delay>,
    login_failures: Vec<LoginFailure>,
    pairing_code_refusals: Vec<PairingCodeRefusal>,
    app_state: Vec<AppStateFault>,
    refuse: Option<(Instant, RefuseHow)>,
}

#[derive(Default)]
pub(super) struct Stats {
    pub started: u64,
    pub completed: u64,
    pub registrations: u64,
    pub failed: u64,
    pub current: u64,
    pub peak: u64,
    pub dropped: u64,
    pub random_drops: u64,
    stream_errors: u64,
    login_failures: u64,
    pairing_code_refusals: u64,
    app_state_spoiled: u64,
    malformed_frames: u64,
    refused: u64,
}

/// Shared between a connection's reader and writer.
pub(super) struct ConnShared {
    pub kill: watch::Sender<bool>,
    /// Logged in as a device: only such connections are subject to random drops.
    pub is_device: AtomicBool,
    /// A final stanza has been written: the connection is ending and no longer a fault target.
    pub closing: AtomicBool,
}

impl ConnShared {
    pub(super) fn kill(&self) {
        self.kill.send_replace(true);
    }

    /// Still a live connection (not killed, no final stanza sent).
    pub(super) fn is_live(&self) -> bool {
        !*self.kill.borrow() && !self.closing.load(Ordering::Relaxed)
    }
}

pub(super) struct ConnEntry {
    pub device: Option<DevKey>,
    /// Set once the Noise handshake is done (the connection can carry stanzas). Weak: the
    /// write loop ends when the connection drops its last sender, the registry must not keep
    /// it alive.
    pub sender: Option<WeakUnboundedSender<Outbound>>,
    pub shared: Arc<ConnShared>,
    pub malformed: mpsc::UnboundedSender<MalformedFrame>,
}

#[derive(Default)]
pub(super) struct Inner {
    pub settings: Mutex<Settings>,
    pub conns: Mutex<HashMap<u64, ConnEntry>>,
    pub stats: Mutex<Stats>,
}

/// The fault state of one server. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Faults {
    pub(super) inner: Arc<Inner>,
}
impl Faults {
    /// The `<failure>` to answer this login with, if a login-failure fault applies (consumes one).
    pub fn login_failure_for(&self, phone: &str) -> Option<Node> {
        let reason = {
            let mut settings = lock(&self.inner.settings);
            let idx = settings.login_failures.iter().position(|f| f.phone.as_deref().is_none_or(|p| p == phone))?;
            let f = &mut settings.login_failures[idx];
            let reason = f.reason;
            f.remaining = f.remaining.saturating_sub(1);
            if f.remaining == 0 {
                settings.login_failures.remove(idx);
            }
            reason
        };
        lock(&self.inner.stats).login_failures += 1;
        log::info!("fault: answering the login of {phone} with <failure reason={reason}>");
        Some(NodeBuilder::new("failure").attr("reason", reason.to_string()).attr("location", "mock").build())
    }

    /// The `(code, text)` to refuse this pairing-code request of `phone` with, if a
    /// pairing-code refusal applies (consumes one).
    pub fn pairing_code_refusal_for(&self, phone: &str) -> Option<(u16, &'static str)> {
        let code = {
            let mut settings = lock(&self.inner.settings);
            let idx = settings.pairing_code_refusals.iter().position(|r| r.phone.as_deref().is_none_or(|p| p == phone))?;
            let r = &mut settings.pairing_code_refusals[idx];
            let code = r.code;
            r.remaining = r.remaining.saturating_sub(1);
            if r.remaining == 0 {
                settings.pairing_code_refusals.remove(idx);
            }
            code
        };
        let text = PAIRING_CODE_REFUSALS.iter().find(|(c, _)| *c == code).map_or("bad-request", |(_, t)| t);
        lock(&self.inner.stats).pairing_code_refusals += 1;
        log::info!("fault: refusing the pairing-code request of {phone} with {code} {text}");
        Some((code, text))
    }

    /// How to spoil an app-state answer with patches to `device`, if an app-state fault
    /// targets it (consumes one).
    pub fn app_state_spoil_for(&self, device: &DevKey) -> Option<AppStateSpoil> {
        let spoil = {
            let mut settings = lock(&self.inner.settings);
            let idx = settings.app_state.iter().position(|f| f.target.matches(Some(device)))?;
            let f = &mut settings.app_state[idx];
            let spoil = f.spoil;
            f.remaining = f.remaining.saturating_sub(1);
            if f.remaining == 0 {
                settings.app_state.remove(idx);
            }
            spoil
        };
        lock(&self.inner.stats).app_state_spoiled += 1;
        log::info!("fault: spoiling an app-state answer to {}:{} ({})", device.0, device.1, spoil.name());
        Some(spoil)
    }

    /// Whether a WebSocket upgrade must be refused now, and how (counts it).
    pub fn refusal(&self) -> Option<RefuseHow> {
        let mut settings = lock(&self.inner.settings);
        let (until, how) = settings.refuse?;
        if Instant::now() >= until {
            settings.refuse = None;
            return None;
        }
        drop(settings);
        lock(&self.inner.stats).refused += 1;
        Some(how)
    }

    /// Applies a fault; returns the JSON the admin API answers with.
    pub fn apply(&self, fault: Fault) -> Value {
        match fault {
            Fault::Drop(target) => {
                json!({ "dropped": self.drop_where(&target), "target": target.describe() })
            }
            Fault::DropRate(rate) => {
                let mut settings = lock(&self.inner.settings);
                settings.drop_rate = rate.clone();
                settings.random_drops = 0;
                settings.drop_rate_generation += 1;
                if let Some(DropOn::Interval(every)) = rate.map(|r| r.on) {
                    tokio::spawn(self.clone().interval_drops(every, settings.drop_rate_generation));
                }
                json!({ "dropRate": drop_rate_json(&settings) })
            }
            Fault::StreamError(target, kind) => {
                let node = kind.node();
                let mut sent = 0u64;
                for entry in lock(&self.inner.conns).values() {
                    let targeted = entry.shared.is_live() && target.matches(entry.device.as_ref());
                    if let Some(tx) = entry.sender.as_ref().filter(|_| targeted).and_then(|w| w.upgrade()) {
                        if tx.send(Outbound::CloseAfter(node.clone())).is_ok() {
                            sent += 1;
                        }
                    }
                }
                lock(&self.inner.stats).stream_errors += sent;
                log::info!("fault: stream error {} to {sent} connection(s)", kind.code());
                json!({ "sent": sent, "code": kind.code(), "target": target.describe() })
            }
            Fault::FailLogins(f) => {
                let mut settings = lock(&self.inner.settings);
                settings.login_failures.push(f);
                json!({ "loginFailures": login_failures_json(&settings) })
            }
            Fault::RefusePairingCodes(r) => {
                let mut settings = lock(&self.inner.settings);
                settings.pairing_code_refusals.push(r);
                json!({ "pairingCodeRefusals": pairing_code_refusals_json(&settings) })
            }
            Fault::AppState(f) => {
                let mut settings = lock(&self.inner.settings);
                settings.app_state.push(f);
                json!({ "appState": app_state_json(&settings) })
            }
            Fault::Delay(delay) => {
                let mut settings = lock(&self.inner.settings);
                settings.delay = delay;
                json!({ "delay": delay_json(&settings) })
            }
            Fault::Malformed(target, frame) => {
                let mut sent = 0u64;
                for entry in lock(&self.inner.conns).values() {
                    // Only connections past the handshake: before it there is no cipher to misuse.
                    if entry.sender.is_some()
                        && entry.shared.is_live()
                        && target.matches(entry.device.as_ref())
                        && entry.malformed.send(frame).is_ok()
                    {
                        sent += 1;
                    }
                }
                lock(&self.inner.stats).malformed_frames += sent;
                log::info!("fault: malformed frame ({}) to {sent} connection(s)", frame.kind.name());
                json!({
                    "sent": sent,
                    "kind": frame.kind.name(),
                    "close": frame.then_close,
                    "target": target.describe(),
                })
            }
            Fault::Refuse(duration, how) => {
                lock(&self.inner.settings).refuse = Some((Instant::now() + duration, how));
                json!({ "refusingMs": duration.as_millis() as u64, "how": how.name() })
            }
            Fault::Restart(down) => {
                // Refuse first, so nothing reconnects between the drop and the refusal.
                lock(&self.inner.settings).refuse = Some((Instant::now() + down, RefuseHow::Close));
                let dropped = self.drop_where(&Target::All);
                log::info!("fault: restart: dropped {dropped} connection(s), down for {down:?}");
                json!({ "dropped": dropped, "downMs": down.as_millis() as u64 })
            }
            Fault::Clear => {
                *lock(&self.inner.settings) = Settings::default();
                json!({ "cleared": true })
            }
        }
    }

    /// `on: "interval"`: every `every`, draws a drop for each logged-in connection, until the
    /// drop rate is changed or cleared.
    async fn interval_drops(self, every: Duration, generation: u64) {
        loop {
            tokio::time::sleep(every).await;
            let mut settings = lock(&self.inner.settings);
            let rate = match &settings.drop_rate {
                Some(r) if settings.drop_rate_generation == generation => r.clone(),
                _ => return,
            };
            let mut dropped = 0u64;
            for (conn_id, entry) in lock(&self.inner.conns).iter() {
                let exhausted = rate.max_drops.is_some_and(|m| settings.random_drops >= m);
                if exhausted || entry.device.is_none() || !entry.shared.is_live() {
                    continue;
                }
                if rand::random_bool(rate.probability) {
                    log::info!("fault: conn {conn_id}: random drop (interval)");
                    entry.shared.kill();
                    settings.random_drops += 1;
                    dropped += 1;
                }
            }
            drop(settings);
            if dropped > 0 {
                let mut s = lock(&self.inner.stats);
                s.dropped += dropped;
                s.random_drops += dropped;
            }
        }
    }

    fn drop_where(&self, target: &Target) -> u64 {
        let mut dropped = 0u64;
        for entry in lock(&self.inner.conns).values() {
            if !target.matches(entry.device.as_ref()) {
                continue;
            }
            // Connections already ending are closed too, but not counted.
            if entry.shared.is_live() {
                dropped += 1;
            }
            entry.shared.kill();
        }
        lock(&self.inner.stats).dropped += dropped;
        dropped
    }

    /// `GET /admin/faults`: the faults in force.
    pub fn settings_json(&self) -> Value {
        let settings = lock(&self.inner.settings);
        let refusing_ms = settings.refuse.map(|(until, _)| until.saturating_duration_since(Instant::now()).as_millis() as u64).unwrap_or(0);
        json!({
            "dropRate": drop_rate_json(&settings),
            "delay": delay_json(&settings),
            "loginFailures": login_failures_json(&settings),
            "pairingCodeRefusals": pairing_code_refusals_json(&settings),
            "appState": app_state_json(&settings),
            "refusingMs": refusing_ms,
        })
    }

    /// `GET /admin/stats`.
    pub fn stats_json(&self) -> Value {
        let (live, logged_in, ending) = {
            let conns = lock(&self.inner.conns);
            let live = conns.values().filter(|c| c.shared.is_live());
            let logged_in = live.clone().filter(|c| c.device.is_some()).count();
            (live.count(), logged_in, conns.len() - conns.values().filter(|c| c.shared.is_live()).count())
        };
        let s = lock(&self.inner.stats);
        json!({
            "handshakes": {
                "started": s.started,
                "completed": s.completed,
                "registrations": s.registrations,
                "failed": s.failed,
                "current": s.current,
                "peak": s.peak,
            },
            "connections": { "live": live, "loggedIn": logged_in, "closing": ending },
            "faults": {
                "dropped": s.dropped,
                "randomDrops": s.random_drops,
                "streamErrors": s.stream_errors,
                "loginFailures": s.login_failures,
                "pairingCodeRefusals": s.pairing_code_refusals,
                "appStateSpoiled": s.app_state_spoiled,
                "malformedFrames": s.malformed_frames,
                "refused": s.refused,
            },
        })
    }

    /// Zeroes the counters; the peak restarts from the handshakes in progress now.
    pub fn reset_stats(&self) {
        let mut s = lock(&self.inner.stats);
        let current = s.current;
        *s = Stats { current, peak: current, ..Stats::default() };
    }
}

fn drop_rate_json(s: &Settings) -> Value {
    match &s.drop_rate {
        None => Value::Null,
        Some(r) => json!({
            "probability": r.probability,
            "on": match r.on {
                DropOn::Message => "message",
                DropOn::Frame => "frame",
                DropOn::Interval(_) => "interval",
            },
            "intervalMs": match r.on { DropOn::Interval(d) => Some(d.as_millis() as u64), _ => None },
            "at": match r.at { DropPoint::Before => "before", DropPoint::After => "after", DropPoint::Random => "random" },
            "maxDrops": r.max_drops,
            "drops": s.random_drops,
        }),
    }
}

fn delay_json(s: &Settings) -> Value {
    match s.delay {
        None => Value::Null,
        Some(d) => json!({
            "ms": d.by.as_millis() as u64,
            "only": match d.scope { DelayScope::All => "all", DelayScope::IqResponses => "iq" },
        }),
    }
}

fn login_failures_json(s: &Settings) -> Value {
    s.login_failures.iter().map(|f| json!({ "reason": f.reason, "remaining": f.remaining, "phone": f.phone })).collect()
}

fn pairing_code_refusals_json(s: &Settings) -> Value {
    s.pairing_code_refusals.iter().map(|r| json!({ "code": r.code, "remaining": r.remaining, "phone": r.phone })).collect()
}

fn app_state_json(s: &Settings) -> Value {
    s.app_state.iter().map(|f| json!({ "kind": f.spoil.name(), "remaining": f.remaining, "target": f.target.describe() })).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_failures_are_consumed_per_matching_login() {
        let faults = Faults::default();
        faults.apply(Fault::FailLogins(LoginFailure { reason: 403, remaining: 2, phone: Some("1555".into()) }));
        assert!(faults.login_failure_for("1666").is_none(), "another number");
        for _ in 0..2 {
            let f = faults.login_failure_for("1555").expect("armed");
            assert_eq!(f.attrs.get("reason").unwrap().as_str(), "403");
        }
        assert!(faults.login_failure_for("1555").is_none(), "used up");
    }

    #[test]
    fn pairing_code_refusals_are_consumed_per_matching_request() {
        let faults = Faults::default();
        faults.apply(Fault::RefusePairingCodes(PairingCodeRefusal { code: 429, remaining: 2, phone: Some("1555".into()) }));
        assert_eq!(faults.pairing_code_refusal_for("1666"), None, "another number");
        for _ in 0..2 {
            assert_eq!(faults.pairing_code_refusal_for("1555"), Some((429, "rate-overlimit")));
        }
        assert_eq!(faults.pairing_code_refusal_for("1555"), None, "used up");
        assert_eq!(faults.stats_json()["faults"]["pairingCodeRefusals"], 2);
        faults.apply(Fault::RefusePairingCodes(PairingCodeRefusal { code: 400, remaining: 1, phone: None }));
        assert_eq!(faults.settings_json()["pairingCodeRefusals"][0]["code"], 400);
        faults.apply(Fault::Clear);
        assert_eq!(faults.pairing_code_refusal_for("1666"), None, "cleared");
    }
}
