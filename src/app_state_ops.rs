//! `sock.appPatch` (under `chatModify`, `star`, the label and contact calls, built in
//! lib/app-patch.js) and `sock.resyncAppState`; the work is in `shard_core::app_state_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{self as js, settle};
use crate::js_to_bvalue::JsInput;
use crate::shard::NativeShard;

#[napi]
impl NativeShard {
    /// `sock.appPatch(patch)` with Baileys' `WAPatchCreate`
    /// `{ syncAction, index, type, apiVersion, operation }`.
    #[napi(ts_args_type = "patch: Record<string, any>", catch_unwind)]
    pub fn app_patch<'env>(&self, env: &'env Env, patch: JsInput) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.app_patch(&patch.0).await })
    }

    /// `sock.resyncAppState(collections, isInitialSync)`.
    #[napi(catch_unwind)]
    pub fn resync_app_state<'env>(
        &self,
        env: &'env Env,
        collections: Vec<String>,
        is_initial_sync: bool,
    ) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move { shard.resync_app_state(&collections, is_initial_sync).await })
    }
}
