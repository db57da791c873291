//! `sock.fetchPrivacySettings`, the `update*Privacy` setters, `updateDefaultDisappearingMode`,
//! `removeProfilePicture` and `getBusinessProfile`; the work is in `shard_core::privacy_ops` / `profile_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{Map, Value};

use crate::errors::{self as js, invalid_argument, settle};
use crate::js_value::JsBValue;
use crate::shard::NativeShard;

#[napi]
impl NativeShard {
    /// `sock.fetchPrivacySettings()` → `{ [category]: value }`.
    #[napi(catch_unwind)]
    pub fn fetch_privacy_settings<'env>(&self, env: &'env Env) -> js::Result<PromiseRaw<'env, Value>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let settings = shard.fetch_privacy_settings().await?;
            Ok(Value::Object(settings.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<Map<_, _>>()))
        })
    }

    /// One of the `update*Privacy(value)` calls: `what` names it in errors, `category` is the
    /// privacy category's wire name.
    #[napi(catch_unwind)]
    pub fn update_privacy<'env>(
        &self,
        env: &'env Env,
        what: String,
        category: String,
        value: Option<String>,
    ) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let value = value.ok_or_else(|| invalid_argument(format!("{what}: the value must be a string")))?;
            shard.update_privacy(&what, &category, &value).await
        })
    }

    /// `sock.updateDefaultDisappearingMode(seconds)`.
    #[napi(catch_unwind)]
    pub fn update_default_disappearing_mode<'env>(&self, env: &'env Env, seconds: f64) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            if !(seconds.is_finite() && seconds >= 0.0 && seconds.fract() == 0.0 && seconds <= u32::MAX as f64) {
                return Err(invalid_argument(format!(
                    "updateDefaultDisappearingMode: duration must be whole seconds (0 = off), got {seconds}"
                )));
            }
            shard.update_default_disappearing_mode(seconds as u32).await
        })
    }

    /// `sock.getBusinessProfile(jid)` → Baileys' `WABusinessProfile`, or null for a non-business.
    #[napi(ts_return_type = "Promise<Record<string, unknown> | null>", catch_unwind)]
    pub fn get_business_profile<'env>(&self, env: &'env Env, jid: String) -> js::Result<PromiseRaw<'env, Option<JsBValue>>> {
        let shard = self.shard.clone();
        settle(env, async move { Ok(shard.get_business_profile(&jid).await?.map(JsBValue)) })
    }

    /// `sock.removeProfilePicture(jid)`.
    #[napi(catch_unwind)]
    pub fn remove_profile_picture<'env>(&self, env: &'env Env, jid: String) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.remove_profile_picture(&jid).await })
    }
}
