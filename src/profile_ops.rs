//! `sock.profilePictureUrl`, `updateProfilePicture`, `updateProfileStatus`, `updateProfileName`,
//! `fetchStatus`, `updateBlockStatus`, `fetchBlocklist`: argument checks and result objects; the
//! work is in `shard_core::profile_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{self as js, invalid_argument, settle};
use crate::shard::NativeShard;

/// A `fetchStatus` answer: `status` is absent for an account whose about text is hidden.
#[napi(object)]
pub struct StatusEntry {
    pub id: String,
    pub status: Option<AboutText>,
}

/// An about text (null when empty, as Baileys gives it) and when it was set (seconds; the
/// JS layer makes it a `Date`).
#[napi(object, use_nullable = true)]
pub struct AboutText {
    pub status: Option<String>,
    pub set_at: f64,
}

#[napi]
impl NativeShard {
    /// `sock.profilePictureUrl(jid, type)` → the URL, or undefined without a picture.
    #[napi(catch_unwind)]
    pub fn profile_picture_url<'env>(
        &self,
        env: &'env Env,
        jid: String,
        kind: Option<String>,
    ) -> js::Result<PromiseRaw<'env, Option<String>>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let full = match kind.as_deref() {
                None | Some("preview") => false,
                Some("image") => true,
                Some(other) => {
                    return Err(invalid_argument(format!("profilePictureUrl: type must be 'preview' or 'image', got {other:?}")))
                }
            };
            shard.profile_picture_url(&jid, full).await
        })
    }

    /// `sock.updateProfilePicture(jid, image)` with the image bytes (the JS layer reads `{ url }`).
    #[napi(catch_unwind)]
    pub fn update_profile_picture<'env>(&self, env: &'env Env, jid: String, image: Buffer) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.update_profile_picture(&jid, image.to_vec()).await })
    }

    #[napi(catch_unwind)]
    pub fn update_profile_status<'env>(&self, env: &'env Env, status: String) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.update_profile_status(&status).await })
    }

    #[napi(catch_unwind)]
    pub fn update_profile_name<'env>(&self, env: &'env Env, name: String) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.update_profile_name(&name).await })
    }

    /// `sock.fetchStatus(...jids)` → `[{ id, status?: { status, setAt } }]`, `setAt` in
    /// seconds (the JS layer makes it a `Date`).
    #[napi(catch_unwind)]
    pub fn fetch_status<'env>(&self, env: &'env Env, jids: Vec<String>) -> js::Result<PromiseRaw<'env, Vec<StatusEntry>>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let entries = shard.fetch_status(&jids).await?;
            Ok(entries
                .into_iter()
                .map(|e| StatusEntry { id: e.id, status: e.status.map(|s| AboutText { status: s.status, set_at: s.set_at as f64 }) })
                .collect())
        })
    }

    #[napi(catch_unwind)]
    pub fn update_block_status<'env>(&self, env: &'env Env, jid: String, action: String) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.update_block_status(&jid, &action).await })
    }

    #[napi(catch_unwind)]
    pub fn fetch_blocklist<'env>(&self, env: &'env Env) -> js::Result<PromiseRaw<'env, Vec<String>>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.fetch_blocklist().await })
    }
}
