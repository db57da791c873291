//! `sock.groupJoinApprovalMode`, `groupMemberAddMode`, `groupRequestParticipantsList`,
//! `groupRequestParticipantsUpdate`, `groupAcceptInviteV4`, `groupRevokeInviteV4`: argument
//! checks; the work is in `shard_core::group_admin_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use crate::args::string;
use crate::errors::to_napi;
use crate::group_ops::jid_list;
use crate::js_value::JsBValue;
use crate::manager::{not_found, NativeShardManager};

#[napi]
impl NativeShardManager {
    /// `sock.groupJoinApprovalMode(jid, 'on' | 'off')`.
    #[napi]
    pub async fn group_join_approval_mode(&self, id: String, jid: Option<Value>, mode: Option<Value>) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("groupJoinApprovalMode", "jid", jid)?;
        let mode = string("groupJoinApprovalMode", "mode", mode)?;
        shard.group_join_approval_mode(&jid, &mode).await.map_err(to_napi)
    }

    /// `sock.groupMemberAddMode(jid, 'admin_add' | 'all_member_add')`.
    #[napi]
    pub async fn group_member_add_mode(&self, id: String, jid: Option<Value>, mode: Option<Value>) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("groupMemberAddMode", "jid", jid)?;
        let mode = string("groupMemberAddMode", "mode", mode)?;
        shard.group_member_add_mode(&jid, &mode).await.map_err(to_napi)
    }

    /// `sock.groupRequestParticipantsList(jid)` → each request's attributes.
    #[napi(ts_return_type = "Promise<Record<string, string>[]>")]
    pub async fn group_request_participants_list(&self, id: String, jid: Option<Value>) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("groupRequestParticipantsList", "jid", jid)?;
        Ok(JsBValue(shard.group_request_participants_list(&jid).await.map_err(to_napi)?))
    }

    /// `sock.groupRequestParticipantsUpdate(jid, participants, 'approve' | 'reject')` → `[{ status, jid }]`.
    #[napi(ts_return_type = "Promise<{ status: string, jid: string }[]>")]
    pub async fn group_request_participants_update(&self, id: String, jid: Option<Value>, participants: Option<Value>, action: Option<Value>) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("groupRequestParticipantsUpdate", "jid", jid)?;
        let participants = jid_list("groupRequestParticipantsUpdate", participants)?;
        let action = string("groupRequestParticipantsUpdate", "action", action)?;
        Ok(JsBValue(shard.group_request_participants_update(&jid, &participants, &action).await.map_err(to_napi)?))
    }

    /// The join of `sock.groupAcceptInviteV4(key, inviteMessage)` → the group's jid.
    #[napi]
    pub async fn group_accept_invite_v4(&self, id: String, group_jid: String, code: String, expiration: i64, admin: String) -> Result<String> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.group_accept_invite_v4(&group_jid, &code, expiration, &admin).await.map_err(to_napi)
    }

    /// `sock.groupRevokeInviteV4(groupJid, invitedJid)` → true.
    #[napi]
    pub async fn group_revoke_invite_v4(&self, id: String, group_jid: Option<Value>, invited_jid: Option<Value>) -> Result<bool> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let group_jid = string("groupRevokeInviteV4", "groupJid", group_jid)?;
        let invited_jid = string("groupRevokeInviteV4", "invitedJid", invited_jid)?;
        shard.group_revoke_invite_v4(&group_jid, &invited_jid).await.map_err(to_napi)
    }
}
