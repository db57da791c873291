//! `sock.community*` calls that are not group calls under another name: argument checks; the
//! work (and the community metadata builder) is in `shard_core::community_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use crate::args::{optional_string, string};
use crate::errors::{self as js, settle};
use crate::js_value::JsBValue;
use crate::shard::NativeShard;

#[napi]
impl NativeShard {
    /// `sock.communityCreate(subject, body)` → the community's `GroupMetadata`.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>", catch_unwind)]
    pub fn community_create<'env>(
        &self,
        env: &'env Env,
        subject: Option<Value>,
        body: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let subject = string("communityCreate", "subject", subject)?;
            let body = optional_string("communityCreate", "body", body)?;
            shard.community_create(&subject, body.as_deref()).await.map(JsBValue)
        })
    }

    /// `sock.communityMetadata(jid)` → Baileys' community metadata.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>", catch_unwind)]
    pub fn community_metadata<'env>(&self, env: &'env Env, jid: Option<Value>) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("communityMetadata", "jid", jid)?;
            shard.community_metadata(&jid).await.map(JsBValue)
        })
    }

    /// `sock.communityGetInviteInfo(code)` → the community's metadata.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>", catch_unwind)]
    pub fn community_get_invite_info<'env>(&self, env: &'env Env, code: Option<Value>) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let code = string("communityGetInviteInfo", "code", code)?;
            shard.community_get_invite_info(&code).await.map(JsBValue)
        })
    }

    /// `sock.communityFetchAllParticipating()` → `{ [jid]: metadata }`.
    #[napi(ts_return_type = "Promise<Record<string, Record<string, unknown>>>", catch_unwind)]
    pub fn community_fetch_all_participating<'env>(&self, env: &'env Env) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.community_fetch_all_participating().await.map(JsBValue) })
    }

    /// `sock.communityLeave(id)`.
    #[napi(catch_unwind)]
    pub fn community_leave<'env>(&self, env: &'env Env, jid: Option<Value>) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("communityLeave", "id", jid)?;
            shard.community_leave(&jid).await
        })
    }

    /// `sock.communityJoinApprovalMode(jid, 'on' | 'off')`.
    #[napi(catch_unwind)]
    pub fn community_join_approval_mode<'env>(
        &self,
        env: &'env Env,
        jid: Option<Value>,
        mode: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("communityJoinApprovalMode", "jid", jid)?;
            let mode = string("communityJoinApprovalMode", "mode", mode)?;
            shard.community_join_approval_mode(&jid, &mode).await
        })
    }
}
