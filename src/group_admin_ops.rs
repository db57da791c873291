//! `sock.groupJoinApprovalMode`, `groupMemberAddMode`, `groupRequestParticipantsList`,
//! `groupRequestParticipantsUpdate`, `groupAcceptInviteV4`, `groupRevokeInviteV4`: argument
//! checks; the work is in `shard_core::group_admin_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use crate::args::string;
use crate::errors::{self as js, settle};
use crate::group_ops::jid_list;
use crate::js_value::JsBValue;
use crate::shard::NativeShard;

#[napi]
impl NativeShard {
    /// `sock.groupJoinApprovalMode(jid, 'on' | 'off')`.
    #[napi(catch_unwind)]
    pub fn group_join_approval_mode<'env>(
        &self,
        env: &'env Env,
        jid: Option<Value>,
        mode: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("groupJoinApprovalMode", "jid", jid)?;
            let mode = string("groupJoinApprovalMode", "mode", mode)?;
            shard.group_join_approval_mode(&jid, &mode).await
        })
    }

    /// `sock.groupMemberAddMode(jid, 'admin_add' | 'all_member_add')`.
    #[napi(catch_unwind)]
    pub fn group_member_add_mode<'env>(&self, env: &'env Env, jid: Option<Value>, mode: Option<Value>) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("groupMemberAddMode", "jid", jid)?;
            let mode = string("groupMemberAddMode", "mode", mode)?;
            shard.group_member_add_mode(&jid, &mode).await
        })
    }

    /// `sock.groupRequestParticipantsList(jid)` → each request's attributes.
    #[napi(ts_return_type = "Promise<Record<string, string>[]>", catch_unwind)]
    pub fn group_request_participants_list<'env>(&self, env: &'env Env, jid: Option<Value>) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("groupRequestParticipantsList", "jid", jid)?;
            Ok(JsBValue(shard.group_request_participants_list(&jid).await?))
        })
    }

    /// `sock.groupRequestParticipantsUpdate(jid, participants, 'approve' | 'reject')` → `[{ status, jid }]`.
    #[napi(ts_return_type = "Promise<{ status: string, jid: string }[]>", catch_unwind)]
    pub fn group_request_participants_update<'env>(
        &self,
        env: &'env Env,
        jid: Option<Value>,
        participants: Option<Value>,
        action: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("groupRequestParticipantsUpdate", "jid", jid)?;
            let participants = jid_list("groupRequestParticipantsUpdate", participants)?;
            let action = string("groupRequestParticipantsUpdate", "action", action)?;
            Ok(JsBValue(shard.group_request_participants_update(&jid, &participants, &action).await?))
        })
    }

    /// The join of `sock.groupAcceptInviteV4(key, inviteMessage)` → the group's jid.
    #[napi(catch_unwind)]
    pub fn group_accept_invite_v4<'env>(
        &self,
        env: &'env Env,
        group_jid: String,
        code: String,
        expiration: i64,
        admin: String,
    ) -> js::Result<PromiseRaw<'env, String>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.group_accept_invite_v4(&group_jid, &code, expiration, &admin).await })
    }

    /// `sock.groupRevokeInviteV4(groupJid, invitedJid)` → true.
    #[napi(catch_unwind)]
    pub fn group_revoke_invite_v4<'env>(
        &self,
        env: &'env Env,
        group_jid: Option<Value>,
        invited_jid: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, bool>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let group_jid = string("groupRevokeInviteV4", "groupJid", group_jid)?;
            let invited_jid = string("groupRevokeInviteV4", "invitedJid", invited_jid)?;
            shard.group_revoke_invite_v4(&group_jid, &invited_jid).await
        })
    }
}
