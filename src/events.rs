//! Event delivery to JS and the JS shape of every event: the one place that builds them.
//!
//! Engine threads push events into a queue; the first push into an empty queue wakes JS
//! once, and JS drains everything queued by then in one call. A burst of N events costs
//! one thread hop, not N.

use std::sync::Mutex;

use napi::bindgen_prelude::Unknown;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use serde_json::{json, Value};
use shard_core::{ConnectionUpdate, LoginUpdate, ShardEvent};

/// Weak: a pending wake-up never keeps Node alive (JS holds its own keep-alive while shards run).
pub type WakeFn = ThreadsafeFunction<(), Unknown<'static>, (), Status, false, true>;

pub struct EventQueue {
    pending: Mutex<Vec<ShardEvent>>,
    wake: WakeFn,
}

impl EventQueue {
    pub fn new(wake: WakeFn) -> Self {
        EventQueue { pending: Mutex::default(), wake }
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

    pub fn drain(&self) -> Vec<Value> {
        let events = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        events.iter().map(to_js).collect()
    }
}

/// `{ event, shardId, data }`: `event` is the name the JS layer emits; `data` the payload
/// without `shardId`/`sock` (the JS layer adds those).
fn to_js(event: &ShardEvent) -> Value {
    let shard_id = event.shard_id();
    let (name, data) = match event {
        ShardEvent::Login { update, .. } => ("login.update", login_update(update)),
        ShardEvent::Connection { update, .. } => ("connection.update", connection_update(update)),
        ShardEvent::CredsUpdate { data, .. } => ("creds.update", data.clone()),
        ShardEvent::Error { error, .. } => ("shard.error", json!({ "code": error.code.as_str(), "message": error.message })),
    };
    json!({ "event": name, "shardId": shard_id, "data": data })
}

fn login_update(update: &LoginUpdate) -> Value {
    match update {
        LoginUpdate::Qr { code } => json!({ "state": "connecting", "type": "qr", "code": code }),
        LoginUpdate::Pairing { code } => json!({ "state": "connecting", "type": "pairing", "code": code }),
        LoginUpdate::Connected => json!({ "state": "connected" }),
        LoginUpdate::Disconnected { reason, status_code } => {
            json!({ "state": "disconnected", "reason": reason, "statusCode": status_code })
        }
        LoginUpdate::LoggedOut { reason, status_code } => {
            json!({ "state": "logged_out", "reason": reason, "statusCode": status_code })
        }
        LoginUpdate::CredsSaved => json!({ "state": "creds_saved" }),
    }
}

/// Baileys' `connection.update`; `lastDisconnect.error` is rebuilt as a Boom-like error in JS.
fn connection_update(update: &ConnectionUpdate) -> Value {
    match update {
        ConnectionUpdate::Connecting => json!({ "connection": "connecting" }),
        ConnectionUpdate::Qr { code } => json!({ "qr": code }),
        ConnectionUpdate::NewLogin => json!({ "isNewLogin": true }),
        ConnectionUpdate::Open => json!({ "connection": "open" }),
        ConnectionUpdate::Close { reason, status_code } => json!({
            "connection": "close",
            "lastDisconnect": { "error": { "message": reason, "statusCode": status_code } },
        }),
    }
}
