//! `sock.community*` calls that are not group calls under another name: argument checks; the
//! work (and the community metadata builder) is in `shard_core::community_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use crate::args::{optional_string, string};
use crate::errors::to_napi;
use crate::js_value::JsBValue;
use crate::manager::{not_found, NativeShardManager};

#[napi]
impl NativeShardManager {
    /// `sock.communityCreate(subject, body)` → the community's `GroupMetadata`.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub async fn community_create(&self, id: String, subject: Option<Value>, body: Option<Value>) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let subject = string("communityCreate", "subject", subject)?;
        let body = optional_string("communityCreate", "body", body)?;
        shard.community_create(&subject, body.as_deref()).await.map(JsBValue).map_err(to_napi)
    }

    /// `sock.communityMetadata(jid)` → Baileys' community metadata.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub async fn community_metadata(&self, id: String, jid: Option<Value>) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("communityMetadata", "jid", jid)?;
        shard.community_metadata(&jid).await.map(JsBValue).map_err(to_napi)
    }

    /// `sock.communityGetInviteInfo(code)` → the community's metadata.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub async fn community_get_invite_info(&self, id: String, code: Option<Value>) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let code = string("communityGetInviteInfo", "code", code)?;
        shard.community_get_invite_info(&code).await.map(JsBValue).map_err(to_napi)
    }

    /// `sock.communityFetchAllParticipating()` → `{ [jid]: metadata }`.
    #[napi(ts_return_type = "Promise<Record<string, Record<string, unknown>>>")]
    pub async fn community_fetch_all_participating(&self, id: String) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.community_fetch_all_participating().await.map(JsBValue).map_err(to_napi)
    }

    /// `sock.communityLeave(id)`.
    #[napi]
    pub async fn community_leave(&self, id: String, jid: Option<Value>) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("communityLeave", "id", jid)?;
        shard.community_leave(&jid).await.map_err(to_napi)
    }

    /// `sock.communityJoinApprovalMode(jid, 'on' | 'off')`.
    #[napi]
    pub async fn community_join_approval_mode(&self, id: String, jid: Option<Value>, mode: Option<Value>) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("communityJoinApprovalMode", "jid", jid)?;
        let mode = string("communityJoinApprovalMode", "mode", mode)?;
        shard.community_join_approval_mode(&jid, &mode).await.map_err(to_napi)
    }
}
