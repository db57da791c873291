//! Event delivery to JS and the JS shape of every event: the one place that builds them
//! (as `BValue` trees; `js_value` turns those into JS values). `lib/manager.js` adds only
//! what is live on the JS side: the `sock`, Boom errors (`lastDisconnect.error`) and `Date`s.
//!
//! Engine threads push events into a queue; the first push into an empty queue wakes JS
//! once, and JS drains everything queued by then in one call. A burst of N events costs
//! one thread hop, not N.

use std::collections::HashMap;
use std::sync::Mutex;

use napi::bindgen_prelude::Unknown;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use shard_core::events::Settlement;
use shard_core::{BValue, ConnectionUpdate, LoginUpdate, ShardError, ShardEvent};

use crate::js_value::JsBValue;

/// Weak: a pending wake-up never keeps Node alive (JS holds its own keep-alive while shards run).
pub type WakeFn = ThreadsafeFunction<(), Unknown<'static>, (), Status, false, true>;

pub struct EventQueue {
    pending: Mutex<Vec<ShardEvent>>,
    /// Drained events whose handlers JS has not reported finished (`settle`), by ticket.
    unsettled: Mutex<Tickets>,
    wake: WakeFn,
}

#[derive(Default)]
struct Tickets {
    next: u32,
    by_ticket: HashMap<u32, Settlement>,
}

impl EventQueue {
    pub fn new(wake: WakeFn) -> Self {
        EventQueue { pending: Mutex::default(), unsettled: Mutex::default(), wake }
    }

    /// JS finished handling the events with these tickets.
    pub fn settle(&self, tickets: &[u32]) {
        let mut unsettled = self.unsettled.lock().unwrap_or_else(|p| p.into_inner());
        for ticket in tickets {
            if let Some(settlement) = unsettled.by_ticket.remove(ticket) {
                settlement.settle();
            }
        }
    }

    /// A ticket for JS to hand back through `settle`.
    fn ticket(&self, settlement: Settlement) -> u32 {
        let mut unsettled = self.unsettled.lock().unwrap_or_else(|p| p.into_inner());
        unsettled.next = unsettled.next.wrapping_add(1);
        let ticket = unsettled.next;
        unsettled.by_ticket.insert(ticket, settlement);
        ticket
    }

    pub fn push(&self, event: ShardEvent) {
        let was_empty = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.push(event);
            pending.len() == 1
        };
        if was_empty {
            self.wake.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    pub fn drain(&self) -> Vec<JsBValue> {
        let events = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        events
            .into_iter()
            .map(|mut event| {
                let ticket = match &mut event {
                    ShardEvent::Baileys { settled, .. } => settled.take().map(|s| self.ticket(s)),
                    _ => None,
                };
                let mut js = to_js(event);
                if let Some(ticket) = ticket {
                    js.set("ticket", BValue::Uint(ticket.into()));
                }
                JsBValue(js)
            })
            .collect()
    }
}

/// `{ event, shardId, data }`: `event` is the name the JS layer emits; `data` the payload
/// without `shardId`/`sock` (the JS layer adds those). `drain` adds `ticket` to the events
/// whose handlers JS must report finished.
fn to_js(event: ShardEvent) -> BValue {
    let shard_id = event.shard_id().to_owned();
    let (name, data) = match event {
        ShardEvent::Login { update, .. } => ("login.update", login_update(update)),
        ShardEvent::Connection { update, .. } => ("connection.update", connection_update(update)),
        ShardEvent::CredsUpdate { data, .. } => ("creds.update", BValue::from_buffer_json(&data)),
        ShardEvent::Error { error, .. } => ("shard.error", shard_error(error)),
        ShardEvent::LoadProgress { done, total, error, .. } => {
            let mut fields = vec![("done".to_owned(), BValue::Uint(done as u64)), ("total".to_owned(), BValue::Uint(total as u64))];
            if let Some(error) = error {
                fields.push(("error".to_owned(), shard_error(error)));
            }
            ("load.progress", BValue::Object(fields))
        }
        // JS writes it to the shard's `logger` (`sock.logger`).
        ShardEvent::EngineLog { log, .. } => {
            let level = if log.level == log::Level::Error { "error" } else { "warn" };
            (
                "engine.log",
                BValue::obj([
                    ("level", BValue::str(level)),
                    ("target", BValue::String(log.target)),
                    ("message", BValue::String(log.message)),
                ]),
            )
        }
        // `[{ event, data }]`: JS emits them on `sock.ev` as one batch.
        ShardEvent::Baileys { events, .. } => (
            "baileys",
            BValue::Array(events.into_iter().map(|(name, data)| BValue::obj([("event", BValue::str(name)), ("data", data)])).collect()),
        ),
    };
    BValue::obj([("event", BValue::str(name)), ("shardId", BValue::String(shard_id)), ("data", data)])
}

/// `{ code, message }`; JS turns it into a `ShardError`.
fn shard_error(error: ShardError) -> BValue {
    BValue::obj([("code", BValue::str(error.code.as_str())), ("message", BValue::str(error.message))])
}

fn login_update(update: LoginUpdate) -> BValue {
    let connecting = |kind: &str, code: String| {
        BValue::obj([("state", BValue::str("connecting")), ("type", BValue::str(kind)), ("code", BValue::String(code))])
    };
    let closed = |state: &str, reason: String, code: u16| {
        BValue::obj([("state", BValue::str(state)), ("reason", BValue::String(reason)), ("statusCode", BValue::Uint(code.into()))])
    };
    match update {
        LoginUpdate::Qr { code, image } => {
            let mut update = connecting("qr", code);
            if let Some(png) = image {
                update.set("image", BValue::Bytes(png));
            }
            update
        }
        LoginUpdate::Pairing { code } => connecting("pairing", code),
        LoginUpdate::Connected => BValue::obj([("state", BValue::str("connected"))]),
        LoginUpdate::Disconnected { reason, status_code } => closed("disconnected", reason, status_code),
        LoginUpdate::LoggedOut { reason, status_code } => closed("logged_out", reason, status_code),
        LoginUpdate::CredsSaved => BValue::obj([("state", BValue::str("creds_saved"))]),
    }
}

/// Baileys' `connection.update`; `lastDisconnect.error` is rebuilt as a Boom-like error in JS.
fn connection_update(update: ConnectionUpdate) -> BValue {
    match update {
        ConnectionUpdate::Connecting => {
            BValue::obj([("connection", BValue::str("connecting")), ("receivedPendingNotifications", BValue::Bool(false))])
        }
        ConnectionUpdate::Qr { code } => BValue::obj([("qr", BValue::String(code))]),
        ConnectionUpdate::NewLogin => BValue::obj([("isNewLogin", BValue::Bool(true))]),
        ConnectionUpdate::Open => BValue::obj([("connection", BValue::str("open"))]),
        ConnectionUpdate::ReceivedPendingNotifications => BValue::obj([("receivedPendingNotifications", BValue::Bool(true))]),
        ConnectionUpdate::Close { reason, status_code } => BValue::obj([
            ("connection", BValue::str("close")),
            (
                "lastDisconnect",
                BValue::obj([(
                    "error",
                    BValue::obj([("message", BValue::String(reason)), ("statusCode", BValue::Uint(status_code.into()))]),
                )]),
            ),
        ]),
    }
}
