//! `sock.fetchMessageHistory` and `sock.requestPlaceholderResend`; the work is in
//! `shard_core::peer_data_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shard_core::peer_data_ops::MessageKeyArg;

use crate::errors::{self as js, settle};
use crate::shard::NativeShard;

/// A Baileys `WAMessageKey` (the JS layer passes only string / boolean fields through).
#[napi(object)]
pub struct JsMessageKey {
    pub remote_jid: Option<String>,
    pub from_me: Option<bool>,
    pub id: Option<String>,
    pub participant: Option<String>,
}

impl From<JsMessageKey> for MessageKeyArg {
    fn from(k: JsMessageKey) -> Self {
        MessageKeyArg { remote_jid: k.remote_jid, from_me: k.from_me, id: k.id, participant: k.participant }
    }
}

#[napi]
impl NativeShard {
    /// `sock.fetchMessageHistory(count, oldestMsgKey, oldestMsgTimestamp)` → the request's id.
    #[napi(catch_unwind)]
    pub fn fetch_message_history<'env>(
        &self,
        env: &'env Env,
        count: f64,
        oldest_msg_key: JsMessageKey,
        oldest_msg_timestamp: f64,
    ) -> js::Result<PromiseRaw<'env, String>> {
        let shard = self.shard.clone();
        let key = MessageKeyArg::from(oldest_msg_key);
        settle(env, async move { shard.fetch_message_history(count, &key, oldest_msg_timestamp).await })
    }

    /// `sock.requestPlaceholderResend(messageKey)`.
    #[napi(catch_unwind)]
    pub fn request_placeholder_resend<'env>(&self, env: &'env Env, message_key: JsMessageKey) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        let key = MessageKeyArg::from(message_key);
        settle(env, async move { shard.request_placeholder_resend(&key).await })
    }
}
