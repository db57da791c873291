//! `NativeShard`: the JS-facing handle on one running shard (`sock` holds it), as LanceDB's
//! Node binding gives each table its own object. Every `sock.*` call goes straight to its
//! shard; the other `*_ops` modules add their `sock` members to this object.
//!
//! A handle stays bound to the shard it was made for: after `recreateShard` (a new shard with
//! the same id) the manager hands JS a new handle, and the old one answers as a stopped shard.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shard_core::baileys_to_proto::message_from_baileys;
use shard_core::baileys_value::BValue;
use shard_core::content::{status_jid_list, MessageContent, SendOptions};
use shard_core::proto_to_baileys::message_to_baileys;
use shard_core::send_ops::PreparedMessage;
use shard_core::session_store::auth_view;
use shard_core::{Shard, ShardError};

use crate::errors::{self as js, invalid_argument, js_error, settle};
use crate::js_to_bvalue::JsInput;
use crate::js_value::JsBValue;

#[napi]
pub struct NativeShard {
    pub(crate) shard: Arc<Shard>,
}

impl NativeShard {
    pub(crate) fn new(shard: Arc<Shard>) -> Self {
        NativeShard { shard }
    }
}

/// Baileys' `sock.user`.
#[napi(object)]
pub struct ShardUser {
    pub id: String,
    pub name: Option<String>,
    pub lid: Option<String>,
}

/// What `sendMessage` would send, built (its media uploaded) but not sent: the first step of
/// `patchMessageBeforeSending`.
#[napi(object, object_from_js = false)]
pub struct PreparedSend {
    pub id: String,
    #[napi(ts_type = "Record<string, any>")]
    pub message: JsBValue,
    pub timestamp: i64,
    pub status_jid_list: Vec<String>,
}

fn content_and_options(content: JsInput, options: Option<JsInput>) -> std::result::Result<(MessageContent, SendOptions), ShardError> {
    let content_value = content.0;
    let content = MessageContent::from_baileys(&content_value)?;
    let options = SendOptions::from_baileys(options.as_ref().map(|o| &o.0)).and_then(|o| o.with_extras_of(&content_value))?;
    Ok((content, options))
}

#[napi]
impl NativeShard {
    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> String {
        self.shard.id().to_owned()
    }

    /// Baileys' `sock.user`, or null before pairing.
    #[napi(catch_unwind)]
    pub fn user(&self) -> Option<ShardUser> {
        self.shard.user().map(|u| ShardUser { id: u.id, name: u.name, lid: u.lid })
    }

    /// `sock.authState.creds`: the shard's `creds.json` (Buffers revived), or null before
    /// the folder has one.
    #[napi(ts_return_type = "Record<string, any> | null", catch_unwind)]
    pub fn auth_creds(&self) -> js::Result<Option<JsBValue>> {
        let creds = auth_view::read_creds(self.shard.dir()).map_err(js_error)?;
        Ok(creds.map(|c| JsBValue(BValue::from_buffer_json(&c))))
    }

    /// `sock.authState.keys.get(type, ids)` → `{ [id]: value }` for the ids that have a key.
    #[napi(ts_return_type = "Record<string, any>", catch_unwind)]
    pub fn auth_keys(&self, kind: String, ids: Vec<String>) -> js::Result<JsBValue> {
        let found = auth_view::read_keys(self.shard.dir(), &kind, &ids).map_err(js_error)?;
        Ok(JsBValue(BValue::Object(found.into_iter().map(|(id, v)| (id, BValue::from_buffer_json(&v))).collect())))
    }

    #[napi(catch_unwind)]
    pub fn logout<'env>(&self, env: &'env Env) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.logout().await })
    }

    /// `sock.ws.close()`: drops the connection; the shard reconnects by its reconnect policy.
    #[napi(catch_unwind)]
    pub fn drop_connection<'env>(&self, env: &'env Env) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.drop_connection().await })
    }

    /// `sock.sendMessage(jid, content, options)` → the sent `WAMessage`.
    #[napi(ts_return_type = "Promise<Record<string, any>>", catch_unwind)]
    pub fn send_message<'env>(
        &self,
        env: &'env Env,
        jid: String,
        content: JsInput,
        options: Option<JsInput>,
    ) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let (content, options) = content_and_options(content, options)?;
            Ok(JsBValue(shard.send_message(&jid, &content, &options).await?))
        })
    }

    /// `patchMessageBeforeSending`, step 1: what `sendMessage` would send, or null when there
    /// is nothing to send (a group's disappearing timer, set instead).
    #[napi(catch_unwind)]
    pub fn prepare_message<'env>(
        &self,
        env: &'env Env,
        jid: String,
        content: JsInput,
        options: Option<JsInput>,
    ) -> js::Result<PromiseRaw<'env, Option<PreparedSend>>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let (content, options) = content_and_options(content, options)?;
            let Some(prepared) = shard.prepare_message(&jid, &content, &options).await? else { return Ok(None) };
            let message = message_to_baileys(&prepared.message).map_err(|e| invalid_argument(e.to_string()))?;
            Ok(Some(PreparedSend {
                id: prepared.id,
                message: JsBValue(message),
                timestamp: prepared.timestamp,
                status_jid_list: prepared.status_jid_list.iter().map(ToString::to_string).collect(),
            }))
        })
    }

    /// Step 2: sends `wire` (the patched message) and resolves to the `WAMessage` of `prepared`.
    #[napi(
        ts_args_type = "jid: string, prepared: PreparedSend, wire: Record<string, any>",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn send_prepared<'env>(
        &self,
        env: &'env Env,
        jid: String,
        prepared: JsInput,
        wire: JsInput,
    ) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let message_of = |value: Option<&BValue>, what: &str| {
                message_from_baileys(value.unwrap_or(&BValue::Null)).map_err(|e| invalid_argument(format!("{what}: {e}")))
            };
            let prepared = PreparedMessage {
                id: prepared
                    .0
                    .get("id")
                    .and_then(BValue::as_str)
                    .ok_or_else(|| invalid_argument("prepared.id must be the id prepareMessage gave"))?
                    .to_owned(),
                message: message_of(prepared.0.get("message"), "prepared.message")?,
                timestamp: match prepared.0.get("timestamp") {
                    Some(BValue::Int(t)) => *t,
                    Some(BValue::Uint(t)) => *t as i64,
                    Some(BValue::Float(t)) => *t as i64,
                    _ => return Err(invalid_argument("prepared.timestamp must be the timestamp prepareMessage gave")),
                },
                status_jid_list: status_jid_list(prepared.0.get("statusJidList"))?,
            };
            let wire = message_of(Some(&wire.0), "patchMessageBeforeSending returned a message that cannot be sent")?;
            Ok(JsBValue(shard.send_prepared(&jid, prepared, wire).await?))
        })
    }
}
