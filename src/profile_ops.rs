//! `sock.profilePictureUrl`, `updateProfilePicture`, `updateProfileStatus`, `updateProfileName`,
//! `fetchStatus`, `updateBlockStatus`, `fetchBlocklist`: argument checks and result objects; the
//! work is in `shard_core::profile_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{json, Value};

use crate::errors::{invalid_argument, to_napi};
use crate::manager::{not_found, NativeShardManager};

#[napi]
impl NativeShardManager {
    /// `sock.profilePictureUrl(jid, type)` → the URL, or undefined without a picture.
    #[napi]
    pub async fn profile_picture_url(&self, id: String, jid: String, kind: Option<String>) -> Result<Option<String>> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let full = match kind.as_deref() {
            None | Some("preview") => false,
            Some("image") => true,
            Some(other) => return Err(invalid_argument(format!("profilePictureUrl: type must be 'preview' or 'image', got {other:?}"))),
        };
        shard.profile_picture_url(&jid, full).await.map_err(to_napi)
    }

    /// `sock.updateProfilePicture(jid, image)` with the image bytes (the JS layer reads `{ url }`).
    #[napi]
    pub async fn update_profile_picture(&self, id: String, jid: String, image: Buffer) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.update_profile_picture(&jid, image.to_vec()).await.map_err(to_napi)
    }

    #[napi]
    pub async fn update_profile_status(&self, id: String, status: String) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.update_profile_status(&status).await.map_err(to_napi)
    }

    #[napi]
    pub async fn update_profile_name(&self, id: String, name: String) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.update_profile_name(&name).await.map_err(to_napi)
    }

    /// `sock.fetchStatus(...jids)` → `[{ id, status?: { status, setAt } }]`, `setAt` in
    /// seconds (the JS layer makes it a `Date`).
    #[napi]
    pub async fn fetch_status(&self, id: String, jids: Vec<String>) -> Result<Vec<Value>> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        let entries = shard.fetch_status(&jids).await.map_err(to_napi)?;
        Ok(entries
            .into_iter()
            .map(|e| match e.status {
                Some(s) => json!({ "id": e.id, "status": { "status": s.status, "setAt": s.set_at } }),
                None => json!({ "id": e.id }),
            })
            .collect())
    }

    #[napi]
    pub async fn update_block_status(&self, id: String, jid: String, action: String) -> Result<()> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.update_block_status(&jid, &action).await.map_err(to_napi)
    }

    #[napi]
    pub async fn fetch_blocklist(&self, id: String) -> Result<Vec<String>> {
        let shard = self.inner.get(&id).ok_or_else(|| not_found(&id))?;
        shard.fetch_blocklist().await.map_err(to_napi)
    }
}
