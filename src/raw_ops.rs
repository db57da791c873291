//! `sock.query`, `sendNode`, `sendRawMessage`, `requestPairingCode`, `refreshMediaConn`,
//! `assertSessions`, `getUSyncDevices`, `relayMessage` and `waUploadToServer`: the shard's
//! low-level and bot-built-message calls. The work is in `shard_core::stanza_ops`,
//! `shard_core::signal_ops` and `shard_core::relay`.

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shard_core::relay::RelayOptions;

use crate::errors::{invalid_argument, to_napi};
use crate::js_to_bvalue::JsInput;
use crate::js_value::JsBValue;
use crate::manager::{not_found, NativeShardManager};
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
impl NativeShardManager {
    /// `sock.query(node, timeoutMs?)` → the reply node.
    #[napi]
    pub async fn query(&self, id: String, node: JsInput, timeout_ms: Option<f64>) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let timeout = match timeout_ms {
            None => None,
            Some(ms) if ms.is_finite() && ms > 0.0 => Some(Duration::from_millis(ms as u64)),
            Some(ms) => return Err(invalid_argument(format!("query: timeoutMs must be a positive number of milliseconds, got {ms}"))),
        };
        Ok(JsBValue(shard.query(&node.0, timeout).await.map_err(to_napi)?))
    }

    /// `sock.sendNode(node)`.
    #[napi]
    pub async fn send_node(&self, id: String, node: JsInput) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.send_node(&node.0).await.map_err(to_napi)
    }

    /// `sock.sendRawMessage(data)`: an encoded binary node.
    #[napi]
    pub async fn send_raw_message(&self, id: String, data: Buffer) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.send_raw_message(&data).await.map_err(to_napi)
    }

    /// `sock.requestPairingCode(phoneNumber, customPairingCode?)` → the 8-character code.
    #[napi]
    pub async fn request_pairing_code(&self, id: String, phone_number: String, custom_code: Option<String>) -> Result<String> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.request_pairing_code(&phone_number, custom_code).await.map_err(to_napi)
    }

    /// `sock.refreshMediaConn(force)` → Baileys' `MediaConnInfo`.
    #[napi]
    pub async fn refresh_media_conn(&self, id: String, force: bool) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        Ok(JsBValue(shard.refresh_media_conn(force).await.map_err(to_napi)?))
    }

    /// `sock.assertSessions(jids, force)` → whether a session had to be fetched.
    #[napi]
    pub async fn assert_sessions(&self, id: String, jids: Vec<String>, force: bool) -> Result<bool> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.assert_sessions(&jids, force).await.map_err(to_napi)
    }

    /// `sock.uploadPreKeys(count)`; without a count `uploadPreKeysToServerIfRequired()`.
    #[napi]
    pub async fn upload_pre_keys(&self, id: String, count: Option<u32>) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.upload_pre_keys(count.map(|c| c as usize)).await.map_err(to_napi)
    }

    /// `sock.getUSyncDevices(jids, useCache, ignoreZeroDevices)` → `[{ user, device }]`.
    #[napi]
    pub async fn get_usync_devices(&self, id: String, jids: Vec<String>, ignore_zero_devices: bool) -> Result<Vec<JidWithDevice>> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let devices = shard.usync_devices(&jids, ignore_zero_devices).await.map_err(to_napi)?;
        Ok(devices.into_iter().map(|(user, device)| JidWithDevice { user, device: device.into() }).collect())
    }

    /// `sock.relayMessage(jid, message, options)` → the message id.
    #[napi]
    pub async fn relay_message(&self, id: String, jid: String, message: JsInput, options: Option<JsInput>) -> Result<String> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        if !matches!(message.0, BValue::Object(_)) {
            return Err(invalid_argument("relayMessage: message must be a proto.IMessage object, e.g. { conversation: 'hi' }"));
        }
        let options = RelayOptions::from_baileys(options.as_ref().map(|o| &o.0)).map_err(to_napi)?;
        shard.relay_message(&jid, &message.0, options).await.map_err(to_napi)
    }

    /// `sock.waUploadToServer(encrypted, { mediaType, fileEncSha256B64 })`.
    #[napi]
    pub async fn wa_upload_to_server(&self, id: String, encrypted: Buffer, media_type: String, file_enc_sha256_b64: String) -> Result<UploadedMedia> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let uploaded = shard.upload_encrypted(encrypted.to_vec(), &media_type, &file_enc_sha256_b64).await.map_err(to_napi)?;
        Ok(UploadedMedia { media_url: uploaded.media_url, direct_path: uploaded.direct_path })
    }
}
