//! `sock.query`, `sendNode`, `sendRawMessage`, `requestPairingCode`, `refreshMediaConn`,
//! `assertSessions`, `getUSyncDevices`, `relayMessage` and `waUploadToServer`: the shard's
//! low-level and bot-built-message calls. The work is in `shard_core::stanza_ops`,
//! `shard_core::signal_ops` and `shard_core::relay`.

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shard_core::relay::RelayOptions;

use crate::errors::{self as js, invalid_argument, settle};
use crate::js_to_bvalue::JsInput;
use crate::js_value::JsBValue;
use crate::shard::NativeShard;
use shard_core::baileys_value::BValue;

/// Baileys' `JidWithDevice`.
#[napi(object)]
pub struct JidWithDevice {
    pub user: String,
    pub device: u32,
}

/// `{ mediaUrl, directPath }`, what Baileys' upload function resolves to.
#[napi(object)]
pub struct UploadedMedia {
    pub media_url: String,
    pub direct_path: String,
}

#[napi]
impl NativeShard {
    /// `sock.query(node, timeoutMs?)` → the reply node.
    #[napi(catch_unwind)]
    pub fn query<'env>(&self, env: &'env Env, node: JsInput, timeout_ms: Option<f64>) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let timeout = match timeout_ms {
                None => None,
                Some(ms) if ms.is_finite() && ms > 0.0 => Some(Duration::from_millis(ms as u64)),
                Some(ms) => return Err(invalid_argument(format!("query: timeoutMs must be a positive number of milliseconds, got {ms}"))),
            };
            Ok(JsBValue(shard.query(&node.0, timeout).await?))
        })
    }

    /// `sock.sendNode(node)`.
    #[napi(catch_unwind)]
    pub fn send_node<'env>(&self, env: &'env Env, node: JsInput) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.send_node(&node.0).await })
    }

    /// `sock.sendRawMessage(data)`: an encoded binary node.
    #[napi(catch_unwind)]
    pub fn send_raw_message<'env>(&self, env: &'env Env, data: Buffer) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.send_raw_message(&data).await })
    }

    /// `sock.requestPairingCode(phoneNumber, customPairingCode?)` → the 8-character code.
    #[napi(catch_unwind)]
    pub fn request_pairing_code<'env>(
        &self,
        env: &'env Env,
        phone_number: String,
        custom_code: Option<String>,
    ) -> js::Result<PromiseRaw<'env, String>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.request_pairing_code(&phone_number, custom_code).await })
    }

    /// `sock.refreshMediaConn(force)` → Baileys' `MediaConnInfo`.
    #[napi(catch_unwind)]
    pub fn refresh_media_conn<'env>(&self, env: &'env Env, force: bool) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move { Ok(JsBValue(shard.refresh_media_conn(force).await?)) })
    }

    /// `sock.assertSessions(jids, force)` → whether a session had to be fetched.
    #[napi(catch_unwind)]
    pub fn assert_sessions<'env>(&self, env: &'env Env, jids: Vec<String>, force: bool) -> js::Result<PromiseRaw<'env, bool>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.assert_sessions(&jids, force).await })
    }

    /// `sock.uploadPreKeys(count)`; without a count `uploadPreKeysToServerIfRequired()`.
    #[napi(catch_unwind)]
    pub fn upload_pre_keys<'env>(&self, env: &'env Env, count: Option<u32>) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.upload_pre_keys(count.map(|c| c as usize)).await })
    }

    /// `sock.getUSyncDevices(jids, useCache, ignoreZeroDevices)` → `[{ user, device }]`.
    #[napi(catch_unwind)]
    pub fn get_usync_devices<'env>(
        &self,
        env: &'env Env,
        jids: Vec<String>,
        ignore_zero_devices: bool,
    ) -> js::Result<PromiseRaw<'env, Vec<JidWithDevice>>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let devices = shard.usync_devices(&jids, ignore_zero_devices).await?;
            Ok(devices.into_iter().map(|(user, device)| JidWithDevice { user, device: device.into() }).collect())
        })
    }

    /// `sock.relayMessage(jid, message, options)` → the message id.
    #[napi(catch_unwind)]
    pub fn relay_message<'env>(
        &self,
        env: &'env Env,
        jid: String,
        message: JsInput,
        options: Option<JsInput>,
    ) -> js::Result<PromiseRaw<'env, String>> {
        let shard = self.shard.clone();
        settle(env, async move {
            if !matches!(message.0, BValue::Object(_)) {
                return Err(invalid_argument("relayMessage: message must be a proto.IMessage object, e.g. { conversation: 'hi' }"));
            }
            let options = RelayOptions::from_baileys(options.as_ref().map(|o| &o.0))?;
            shard.relay_message(&jid, &message.0, options).await
        })
    }

    /// `sock.waUploadToServer(encrypted, { mediaType, fileEncSha256B64 })`.
    #[napi(catch_unwind)]
    pub fn wa_upload_to_server<'env>(
        &self,
        env: &'env Env,
        encrypted: Buffer,
        media_type: String,
        file_enc_sha256_b64: String,
    ) -> js::Result<PromiseRaw<'env, UploadedMedia>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let uploaded = shard.upload_encrypted(encrypted.to_vec(), &media_type, &file_enc_sha256_b64).await?;
            Ok(UploadedMedia { media_url: uploaded.media_url, direct_path: uploaded.direct_path })
        })
    }
}
