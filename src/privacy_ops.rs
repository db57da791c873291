//! `sock.fetchPrivacySettings`, the `update*Privacy` setters, `updateDefaultDisappearingMode`,
//! `removeProfilePicture` and `getBusinessProfile`; the work is in `shard_core::privacy_ops` / `profile_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{Map, Value};

use crate::errors::{invalid_argument, to_napi};
use crate::js_value::JsBValue;
use crate::manager::{not_found, NativeShardManager};

#[napi]
impl NativeShardManager {
    /// `sock.fetchPrivacySettings()` → `{ [category]: value }`.
    #[napi]
    pub async fn fetch_privacy_settings(&self, id: String) -> Result<Value> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let settings = shard.fetch_privacy_settings().await.map_err(to_napi)?;
        Ok(Value::Object(settings.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<Map<_, _>>()))
    }

    /// One of the `update*Privacy(value)` calls: `what` names it in errors, `category` is the
    /// privacy category's wire name.
    #[napi]
    pub async fn update_privacy(&self, id: String, what: String, category: String, value: Option<String>) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let value = value.ok_or_else(|| invalid_argument(format!("{what}: the value must be a string")))?;
        shard.update_privacy(&what, &category, &value).await.map_err(to_napi)
    }

    /// `sock.updateDefaultDisappearingMode(seconds)`.
    #[napi]
    pub async fn update_default_disappearing_mode(&self, id: String, seconds: f64) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        if !(seconds.is_finite() && seconds >= 0.0 && seconds.fract() == 0.0 && seconds <= u32::MAX as f64) {
            return Err(invalid_argument(format!("updateDefaultDisappearingMode: duration must be whole seconds (0 = off), got {seconds}")));
        }
        shard.update_default_disappearing_mode(seconds as u32).await.map_err(to_napi)
    }

    /// `sock.getBusinessProfile(jid)` → Baileys' `WABusinessProfile`, or null for a non-business.
    #[napi(ts_return_type = "Promise<Record<string, unknown> | null>")]
    pub async fn get_business_profile(&self, id: String, jid: String) -> Result<Option<JsBValue>> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        Ok(shard.get_business_profile(&jid).await.map_err(to_napi)?.map(JsBValue))
    }

    /// `sock.removeProfilePicture(jid)`.
    #[napi]
    pub async fn remove_profile_picture(&self, id: String, jid: String) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.remove_profile_picture(&jid).await.map_err(to_napi)
    }
}
