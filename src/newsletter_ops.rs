//! `sock.newsletter*` (channels): argument checks; the work is in `shard_core::newsletter_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use shard_core::newsletter_ops::ChannelCall;

use crate::args::{kind_of, optional_string, string};
use crate::errors::{self as js, invalid_argument, settle};
use crate::js_value::JsBValue;
use crate::shard::NativeShard;

type Result<T> = std::result::Result<T, shard_core::ShardError>;

/// An optional non-negative whole number argument.
fn optional_count(call: &str, name: &str, v: Option<Value>) -> Result<Option<u64>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
        Some(other) => Err(invalid_argument(format!("{call}: {name} must be a whole number ≥ 0, got {}", kind_of(&other)))),
    }
}

#[napi]
impl NativeShard {
    /// `sock.newsletterCreate(name, description?)` → Baileys' `NewsletterMetadata`.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>", catch_unwind)]
    pub fn newsletter_create<'env>(
        &self,
        env: &'env Env,
        name: Option<Value>,
        description: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let name = string("newsletterCreate", "name", name)?;
            let description = optional_string("newsletterCreate", "description", description)?;
            shard.newsletter_create(&name, description.as_deref()).await.map(JsBValue)
        })
    }

    /// `sock.newsletterUpdate(jid, { name?, description?, picture? })` → the server's answer.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>", catch_unwind)]
    pub fn newsletter_update<'env>(
        &self,
        env: &'env Env,
        jid: Option<Value>,
        updates: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("newsletterUpdate", "jid", jid)?;
            let updates = match updates {
                Some(Value::Object(map)) => map,
                other => {
                    let got = other.unwrap_or(Value::Null);
                    return Err(invalid_argument(format!(
                        "newsletterUpdate: updates must be an object {{ name?, description?, picture? }}, got {}",
                        kind_of(&got)
                    )));
                }
            };
            for (key, value) in &updates {
                if !matches!(key.as_str(), "name" | "description" | "picture") || !value.is_string() {
                    return Err(invalid_argument(format!(
                        "newsletterUpdate: updates.{key} is not a string field of name, description, picture"
                    )));
                }
            }
            shard.newsletter_update(&jid, updates).await.map(JsBValue)
        })
    }

    /// `sock.newsletterMetadata('jid' | 'invite', key)` → the channel as the server describes it.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>", catch_unwind)]
    pub fn newsletter_metadata<'env>(
        &self,
        env: &'env Env,
        kind: Option<Value>,
        key: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let kind = string("newsletterMetadata", "type", kind)?;
            let key = string("newsletterMetadata", "key", key)?;
            shard.newsletter_metadata(&kind, &key).await.map(JsBValue)
        })
    }

    /// `newsletterFollow`, `newsletterUnfollow`, `newsletterMute`, `newsletterUnmute`,
    /// `newsletterSubscribers` (`call`: follow, unfollow, mute, unmute, subscribers).
    #[napi(ts_return_type = "Promise<Record<string, unknown>>", catch_unwind)]
    pub fn newsletter_call<'env>(&self, env: &'env Env, call: String, jid: Option<Value>) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let (call, name) = match call.as_str() {
                "follow" => (ChannelCall::Follow, "newsletterFollow"),
                "unfollow" => (ChannelCall::Unfollow, "newsletterUnfollow"),
                "mute" => (ChannelCall::Mute, "newsletterMute"),
                "unmute" => (ChannelCall::Unmute, "newsletterUnmute"),
                "subscribers" => (ChannelCall::Subscribers, "newsletterSubscribers"),
                other => return Err(invalid_argument(format!("no channel call {other:?}"))),
            };
            let jid = string(name, "jid", jid)?;
            shard.newsletter_call(call, &jid).await.map(JsBValue)
        })
    }

    /// `sock.newsletterAdminCount(jid)`.
    #[napi(catch_unwind)]
    pub fn newsletter_admin_count<'env>(&self, env: &'env Env, jid: Option<Value>) -> js::Result<PromiseRaw<'env, u32>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("newsletterAdminCount", "jid", jid)?;
            let count = shard.newsletter_admin_count(&jid).await?;
            Ok(count.min(u32::MAX as u64) as u32)
        })
    }

    /// `sock.newsletterChangeOwner(jid, newOwnerJid)` / `sock.newsletterDemote(jid, userJid)`.
    #[napi(catch_unwind)]
    pub fn newsletter_admin_change<'env>(
        &self,
        env: &'env Env,
        demote: bool,
        jid: Option<Value>,
        user: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let (call, user_name) = if demote { ("newsletterDemote", "userJid") } else { ("newsletterChangeOwner", "newOwnerJid") };
            let jid = string(call, "jid", jid)?;
            let user = string(call, user_name, user)?;
            shard.newsletter_admin_change(demote, &jid, &user).await
        })
    }

    /// `sock.newsletterDelete(jid)`.
    #[napi(catch_unwind)]
    pub fn newsletter_delete<'env>(&self, env: &'env Env, jid: Option<Value>) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("newsletterDelete", "jid", jid)?;
            shard.newsletter_delete(&jid).await
        })
    }

    /// `sock.newsletterReactMessage(jid, serverId, reaction?)`.
    #[napi(catch_unwind)]
    pub fn newsletter_react_message<'env>(
        &self,
        env: &'env Env,
        jid: Option<Value>,
        server_id: Option<Value>,
        reaction: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, ()>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let call = "newsletterReactMessage";
            let jid = string(call, "jid", jid)?;
            let server_id = match server_id {
                Some(Value::Number(n)) if n.as_u64().is_some() => n.to_string(),
                other => string(call, "serverId", other)?,
            };
            let reaction = optional_string(call, "reaction", reaction)?;
            shard.newsletter_react_message(&jid, &server_id, reaction.as_deref()).await
        })
    }

    /// `sock.newsletterFetchMessages(jid, count, since?, after?)` → the reply node.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>", catch_unwind)]
    pub fn newsletter_fetch_messages<'env>(
        &self,
        env: &'env Env,
        jid: Option<Value>,
        count: Option<Value>,
        since: Option<Value>,
        after: Option<Value>,
    ) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let call = "newsletterFetchMessages";
            let jid = string(call, "jid", jid)?;
            let count = match optional_count(call, "count", count)? {
                Some(n) if n > 0 => n.min(u32::MAX as u64) as u32,
                _ => return Err(invalid_argument(format!("{call}: count must be a whole number > 0"))),
            };
            let since = optional_count(call, "since", since)?;
            let after = optional_count(call, "after", after)?;
            shard.newsletter_fetch_messages(&jid, count, since, after).await.map(JsBValue)
        })
    }

    /// `sock.subscribeNewsletterUpdates(jid)` → `{ duration }`.
    #[napi(ts_return_type = "Promise<{ duration: string }>", catch_unwind)]
    pub fn subscribe_newsletter_updates<'env>(&self, env: &'env Env, jid: Option<Value>) -> js::Result<PromiseRaw<'env, JsBValue>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let jid = string("subscribeNewsletterUpdates", "jid", jid)?;
            shard.subscribe_newsletter_updates(&jid).await.map(JsBValue)
        })
    }
}
