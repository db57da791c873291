//! `sock.group*`: argument checks and result objects; the work (and the one `GroupMetadata`
//! builder) is in `shard_core::group_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use shard_core::group_ops::{GroupSetting, ParticipantAction};

use crate::args::{kind_of, one_of, optional_string, string};
use crate::errors::{invalid_argument, to_napi};
use crate::js_value::JsBValue;
use crate::manager::{not_found, NativeShardManager};

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
            other => Err(invalid_argument(format!(
                "{call}: participants[{i}] must be a jid string, got {}",
                kind_of(&other)
            ))),
        })
        .collect()
}

#[napi]
impl NativeShardManager {
    /// `sock.groupCreate(subject, participants)` → `GroupMetadata`.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub async fn group_create(
        &self,
        id: String,
        subject: Option<Value>,
        participants: Option<Value>,
    ) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let subject = string("groupCreate", "subject", subject)?;
        let participants = jid_list("groupCreate", participants)?;
        shard
            .group_create(&subject, &participants)
            .await
            .map(JsBValue)
            .map_err(to_napi)
    }

    /// `sock.groupMetadata(jid)` → `GroupMetadata`.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub async fn group_metadata(&self, id: String, jid: Option<Value>) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("groupMetadata", "jid", jid)?;
        shard
            .group_metadata(&jid)
            .await
            .map(JsBValue)
            .map_err(to_napi)
    }

    /// `sock.groupParticipantsUpdate(jid, participants, action)` → `[{ status, jid, content }]`.
    #[napi(ts_return_type = "Promise<Record<string, unknown>[]>")]
    pub async fn group_participants_update(
        &self,
        id: String,
        jid: Option<Value>,
        participants: Option<Value>,
        action: Option<Value>,
    ) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("groupParticipantsUpdate", "jid", jid)?;
        let participants = jid_list("groupParticipantsUpdate", participants)?;
        let action: ParticipantAction = one_of("groupParticipantsUpdate", "action", action, &ParticipantAction::ALL)?;
        shard
            .group_participants_update(&jid, &participants, action)
            .await
            .map(JsBValue)
            .map_err(to_napi)
    }

    /// `sock.groupUpdateSubject(jid, subject)`.
    #[napi]
    pub async fn group_update_subject(
        &self,
        id: String,
        jid: Option<Value>,
        subject: Option<Value>,
    ) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("groupUpdateSubject", "jid", jid)?;
        let subject = string("groupUpdateSubject", "subject", subject)?;
        shard
            .group_update_subject(&jid, &subject)
            .await
            .map_err(to_napi)
    }

    /// `sock.groupUpdateDescription(jid, description?)`: none (or '') deletes it.
    #[napi]
    pub async fn group_update_description(
        &self,
        id: String,
        jid: Option<Value>,
        description: Option<Value>,
    ) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("groupUpdateDescription", "jid", jid)?;
        let description = optional_string("groupUpdateDescription", "description", description)?;
        shard
            .group_update_description(&jid, description.as_deref())
            .await
            .map_err(to_napi)
    }

    /// `sock.groupSettingUpdate(jid, 'announcement' | 'not_announcement' | 'locked' | 'unlocked')`.
    #[napi]
    pub async fn group_setting_update(
        &self,
        id: String,
        jid: Option<Value>,
        setting: Option<Value>,
    ) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("groupSettingUpdate", "jid", jid)?;
        let setting: GroupSetting = one_of("groupSettingUpdate", "setting", setting, &GroupSetting::ALL)?;
        shard
            .group_setting_update(&jid, setting)
            .await
            .map_err(to_napi)
    }

    /// `sock.groupInviteCode(jid)` → the code.
    #[napi]
    pub async fn group_invite_code(&self, id: String, jid: Option<Value>) -> Result<String> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("groupInviteCode", "jid", jid)?;
        shard.group_invite_code(&jid).await.map_err(to_napi)
    }

    /// `sock.groupRevokeInvite(jid)` → the new code.
    #[napi]
    pub async fn group_revoke_invite(&self, id: String, jid: Option<Value>) -> Result<String> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("groupRevokeInvite", "jid", jid)?;
        shard.group_revoke_invite(&jid).await.map_err(to_napi)
    }

    /// `sock.groupAcceptInvite(code)` → the group's jid (null while awaiting approval).
    #[napi]
    pub async fn group_accept_invite(
        &self,
        id: String,
        code: Option<Value>,
    ) -> Result<Option<String>> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let code = string("groupAcceptInvite", "code", code)?;
        shard.group_accept_invite(&code).await.map_err(to_napi)
    }

    /// `sock.groupGetInviteInfo(code)` → `GroupMetadata`.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub async fn group_get_invite_info(&self, id: String, code: Option<Value>) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let code = string("groupGetInviteInfo", "code", code)?;
        shard
            .group_get_invite_info(&code)
            .await
            .map(JsBValue)
            .map_err(to_napi)
    }

    /// `sock.groupLeave(jid)`.
    #[napi]
    pub async fn group_leave(&self, id: String, jid: Option<Value>) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("groupLeave", "jid", jid)?;
        shard.group_leave(&jid).await.map_err(to_napi)
    }

    /// `sock.groupFetchAllParticipating()` → `{ [jid]: GroupMetadata }`.
    #[napi(ts_return_type = "Promise<Record<string, Record<string, unknown>>>")]
    pub async fn group_fetch_all_participating(&self, id: String) -> Result<JsBValue> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard
            .group_fetch_all_participating()
            .await
            .map(JsBValue)
            .map_err(to_napi)
    }

    /// `sock.groupToggleEphemeral(jid, expiration)`: seconds, 0 = off.
    #[napi]
    pub async fn group_toggle_ephemeral(
        &self,
        id: String,
        jid: Option<Value>,
        expiration: Option<Value>,
    ) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let jid = string("groupToggleEphemeral", "jid", jid)?;
        let expiration = match expiration.unwrap_or(Value::Null) {
            // Baileys treats a falsy expiration as "off".
            Value::Null => 0,
            Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
                invalid_argument(format!("groupToggleEphemeral: expiration must be a whole number of seconds (0 turns it off), got {n}"))
            })?,
            other => {
                return Err(invalid_argument(format!("groupToggleEphemeral: expiration must be a number of seconds, got {}", kind_of(&other))))
            }
        };
        shard
            .group_toggle_ephemeral(&jid, expiration)
            .await
            .map_err(to_napi)
    }
}
