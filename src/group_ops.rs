//! `sock.group*`: argument checks and result objects; the work (and the one `GroupMetadata`
//! builder) is in `shard_core::group_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use shard_core::group_ops::{GroupSetting, ParticipantAction};

use crate::args::{kind_of, one_of, optional_string, string};
use crate::errors::{self as js, invalid_argument, settle};
use crate::js_value::JsBValue;
use crate::shard::NativeShard;

type Result<T> = std::result::Result<T, shard_core::ShardError>;

/// An array of jid strings.
pub(crate) fn jid_list(call: &str, v: Option<Value>) -> Result<Vec<String>> {
    let v = v.unwrap_or(Value::Null);
    let Value::Array(items) = v else {
        return Err(invalid_argument(format!(
            "{call}: participants must be an array of jids (\"<number>@s.whatsapp.net\"), got {}",
            kind_of(&v)
        )));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => Ok(s),
            other => Err(invalid_argument(format!("{call}: participants[{i}] must be a jid string, got {}", kind_of(&other)))),
        })
        .collect()
}

#[napi]
impl NativeShard {
    /// `sock.groupCreate(subject, participants)` → `GroupMetadata`.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>", catch_unwind)]
    pub fn group_create<'env>(
        &self,
        env: &'env Env,
        subject: Option<Value>,
        participants: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let subject = string("groupCreate", "subject", subject)?;
            let participants = jid_list("groupCreate", participants)?;
            shard.group_create(&subject, &participants).await.map(JsBValue)
        })
    }

    /// `sock.groupMetadata(jid)` → `GroupMetadata`.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>", catch_unwind)]
    pub fn group_metadata<'env>(&self, env: &'env Env, jid: Option<Value>) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("groupMetadata", "jid", jid)?;
            shard.group_metadata(&jid).await.map(JsBValue)
        })
    }

    /// `sock.groupParticipantsUpdate(jid, participants, action)` → `[{ status, jid, content }]`.
    #[napi(ts_return_type = "Promise<Record<string, unknown>[]>", catch_unwind)]
    pub fn group_participants_update<'env>(
        &self,
        env: &'env Env,
        jid: Option<Value>,
        participants: Option<Value>,
        action: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("groupParticipantsUpdate", "jid", jid)?;
            let participants = jid_list("groupParticipantsUpdate", participants)?;
            let action: ParticipantAction = one_of("groupParticipantsUpdate", "action", action, &ParticipantAction::ALL)?;
            shard.group_participants_update(&jid, &participants, action).await.map(JsBValue)
        })
    }

    /// `sock.groupUpdateSubject(jid, subject)`.
    #[napi(catch_unwind)]
    pub fn group_update_subject<'env>(
        &self,
        env: &'env Env,
        jid: Option<Value>,
        subject: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("groupUpdateSubject", "jid", jid)?;
            let subject = string("groupUpdateSubject", "subject", subject)?;
            shard.group_update_subject(&jid, &subject).await
        })
    }

    /// `sock.groupUpdateDescription(jid, description?)`: none (or '') deletes it.
    #[napi(catch_unwind)]
    pub fn group_update_description<'env>(
        &self,
        env: &'env Env,
        jid: Option<Value>,
        description: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("groupUpdateDescription", "jid", jid)?;
            let description = optional_string("groupUpdateDescription", "description", description)?;
            shard.group_update_description(&jid, description.as_deref()).await
        })
    }

    /// `sock.groupSettingUpdate(jid, 'announcement' | 'not_announcement' | 'locked' | 'unlocked')`.
    #[napi(catch_unwind)]
    pub fn group_setting_update<'env>(
        &self,
        env: &'env Env,
        jid: Option<Value>,
        setting: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("groupSettingUpdate", "jid", jid)?;
            let setting: GroupSetting = one_of("groupSettingUpdate", "setting", setting, &GroupSetting::ALL)?;
            shard.group_setting_update(&jid, setting).await
        })
    }

    /// `sock.groupInviteCode(jid)` → the code.
    #[napi(catch_unwind)]
    pub fn group_invite_code<'env>(&self, env: &'env Env, jid: Option<Value>) -> js::Result<PromiseRaw<'env, String>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("groupInviteCode", "jid", jid)?;
            shard.group_invite_code(&jid).await
        })
    }

    /// `sock.groupRevokeInvite(jid)` → the new code.
    #[napi(catch_unwind)]
    pub fn group_revoke_invite<'env>(&self, env: &'env Env, jid: Option<Value>) -> js::Result<PromiseRaw<'env, String>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("groupRevokeInvite", "jid", jid)?;
            shard.group_revoke_invite(&jid).await
        })
    }

    /// `sock.groupAcceptInvite(code)` → the group's jid (null while awaiting approval).
    #[napi(catch_unwind)]
    pub fn group_accept_invite<'env>(&self, env: &'env Env, code: Option<Value>) -> js::Result<PromiseRaw<'env, Option<String>>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let code = string("groupAcceptInvite", "code", code)?;
            shard.group_accept_invite(&code).await
        })
    }

    /// `sock.groupGetInviteInfo(code)` → `GroupMetadata`.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>", catch_unwind)]
    pub fn group_get_invite_info<'env>(&self, env: &'env Env, code: Option<Value>) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let code = string("groupGetInviteInfo", "code", code)?;
            shard.group_get_invite_info(&code).await.map(JsBValue)
        })
    }

    /// `sock.groupLeave(jid)`.
    #[napi(catch_unwind)]
    pub fn group_leave<'env>(&self, env: &'env Env, jid: Option<Value>) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("groupLeave", "jid", jid)?;
            shard.group_leave(&jid).await
        })
    }

    /// `sock.groupFetchAllParticipating()` → `{ [jid]: GroupMetadata }`.
    #[napi(ts_return_type = "Promise<Record<string, Record<string, unknown>>>", catch_unwind)]
    pub fn group_fetch_all_participating<'env>(&self, env: &'env Env) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.group_fetch_all_participating().await.map(JsBValue) })
    }

    /// `sock.groupToggleEphemeral(jid, expiration)`: seconds, 0 = off.
    #[napi(catch_unwind)]
    pub fn group_toggle_ephemeral<'env>(
        &self,
        env: &'env Env,
        jid: Option<Value>,
        expiration: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("groupToggleEphemeral", "jid", jid)?;
            let expiration = match expiration.unwrap_or(Value::Null) {
                // Baileys treats a falsy expiration as "off".
                Value::Null => 0,
                Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
                    invalid_argument(format!(
                        "groupToggleEphemeral: expiration must be a whole number of seconds (0 turns it off), got {n}"
                    ))
                })?,
                other => {
                    return Err(invalid_argument(format!(
                        "groupToggleEphemeral: expiration must be a number of seconds, got {}",
                        kind_of(&other)
                    )))
                }
            };
            shard.group_toggle_ephemeral(&jid, expiration).await
        })
    }
}
