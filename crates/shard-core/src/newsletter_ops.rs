//! Baileys 6.7.21's channel (newsletter) calls with its arguments and results, over
//! whatsapp-rust's GraphQL client (`client.mex()`) and newsletter IQs.
//!
//! Baileys gives most results as the server's GraphQL objects (`thread_metadata`,
//! `viewer_metadata`, ...), which the engine's typed `NewsletterMetadata` would narrow, so the
//! operations go through `client.mex()` and come back as they were sent. Where the engine knows
//! an operation it is sent with the engine's (current) persisted-query id; the operations the
//! engine has no equivalent for (channel mute, subscriber and admin counts) use Baileys' ids.

use serde_json::{json, Value};
use wacore::iq::mex_operations as ops;
use wacore::request::InfoQuery;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, NodeContent, Server};
use whatsapp_rust::features::{MexError, MexRequest, NewsletterError};
use whatsapp_rust::IqError;

use crate::baileys_value::BValue;
use crate::binary_node::node_to_baileys;
use crate::content::{invalid, parse_jid};
use crate::error::{Result, ShardError};
use crate::shard::Shard;
use crate::stanza_ops::iq_failure;

/// A persisted GraphQL operation: its name (for logs), id, and the `data` field of its answer.
pub struct Operation {
    name: &'static str,
    id: &'static str,
    field: &'static str,
}

impl Operation {
    const fn new(name: &'static str, id: &'static str, field: &'static str) -> Self {
        Operation { name, id, field }
    }
}

const CREATE: Operation = Operation::new(ops::create_newsletter::NAME, ops::create_newsletter::DOC_ID, "xwa2_newsletter_create");
const UPDATE: Operation = Operation::new(ops::update_newsletter::NAME, ops::update_newsletter::DOC_ID, "xwa2_newsletter_update");
const FETCH: Operation = Operation::new(ops::fetch_newsletter::NAME, ops::fetch_newsletter::DOC_ID, "xwa2_newsletter");
const FOLLOW: Operation = Operation::new(ops::join_newsletter::NAME, ops::join_newsletter::DOC_ID, "xwa2_newsletter_join_v2");
const UNFOLLOW: Operation = Operation::new(ops::leave_newsletter::NAME, ops::leave_newsletter::DOC_ID, "xwa2_newsletter_leave_v2");
const CHANGE_OWNER: Operation =
    Operation::new(ops::change_newsletter_owner::NAME, ops::change_newsletter_owner::DOC_ID, "xwa2_newsletter_change_owner");
const DEMOTE: Operation =
    Operation::new(ops::demote_newsletter_admin::NAME, ops::demote_newsletter_admin::DOC_ID, "xwa2_newsletter_admin_demote");
const DELETE: Operation = Operation::new(ops::delete_newsletter::NAME, ops::delete_newsletter::DOC_ID, "xwa2_newsletter_delete_v2");
// Baileys 6.7.21's ids (Types/Newsletter.ts), for what the engine has no operation for.
const MUTE: Operation = Operation::new("BaileysNewsletterMute", "29766401636284406", "xwa2_newsletter_mute_v2");
const UNMUTE: Operation = Operation::new("BaileysNewsletterUnmute", "9864994326891137", "xwa2_newsletter_unmute_v2");
const SUBSCRIBERS: Operation = Operation::new("BaileysNewsletterSubscribers", "9783111038412085", "xwa2_newsletter_subscribers");
const ADMIN_COUNT: Operation = Operation::new("BaileysNewsletterAdminCount", "7130823597031706", "xwa2_newsletter_admin");

/// A channel jid argument (`<id>@newsletter`).
fn newsletter_jid(what: &str, jid: &str) -> Result<Jid> {
    let parsed = parse_jid(jid).map_err(|e| invalid(format!("{what}: {}", e.message)))?;
    if parsed.server != Server::Newsletter {
        return Err(invalid(format!("{what}: {jid:?} is not a channel jid (\"<id>@newsletter\")")));
    }
    Ok(parsed)
}

/// Baileys' `parseNewsletterCreateResponse`: the created channel as `NewsletterMetadata`.
pub fn created_newsletter(created: &Value) -> BValue {
    let thread = &created["thread_metadata"];
    let text = |v: &Value| BValue::String(v["text"].as_str().unwrap_or_default().to_owned());
    let number = |v: &Value| v.as_str().and_then(|s| s.parse::<i64>().ok()).map_or(BValue::Float(f64::NAN), BValue::Int);
    let string_or_null = |v: &Value| v.as_str().map_or(BValue::Null, |s| BValue::String(s.to_owned()));
    BValue::obj([
        ("id", string_or_null(&created["id"])),
        ("name", text(&thread["name"])),
        ("creation_time", number(&thread["creation_time"])),
        ("description", text(&thread["description"])),
        ("invite", string_or_null(&thread["invite"])),
        ("subscribers", number(&thread["subscribers_count"])),
        ("verification", string_or_null(&thread["verification"])),
        (
            "picture",
            BValue::obj([
                ("id", string_or_null(&thread["picture"]["id"])),
                ("directPath", string_or_null(&thread["picture"]["direct_path"])),
            ]),
        ),
        ("mute_state", string_or_null(&created["viewer_metadata"]["mute"])),
    ])
}

impl Shard {
    /// Runs `op` with `variables` and gives the `data` field it answers in, as JSON.
    async fn mex(&self, what: &str, op: &Operation, variables: Value) -> Result<Value> {
        let client = self.connected_client()?;
        let response = client.mex().query(MexRequest::new(op.name, op.id, variables)).await.map_err(|e| match e {
            // A GraphQL error the server answered with: its message says why.
            MexError::Request(IqError::ParseError(refusal)) => {
                invalid(format!("{what} failed on shard {}: the server refused it ({refusal})", self.id())).for_shard(self.id())
            }
            MexError::Request(e) => iq_failure(self.id(), what, &e),
            other => invalid(format!("{what} failed on shard {}: {other}", self.id())).for_shard(self.id()),
        })?;
        if let Some(errors) = response.errors.filter(|e| !e.is_empty()) {
            let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
            return Err(invalid(format!("{what} failed on shard {}: the server refused it ({})", self.id(), messages.join(", ")))
                .for_shard(self.id()));
        }
        match response.data.as_ref().map(|d| &d[op.field]) {
            Some(value) if !value.is_null() => Ok(value.clone()),
            _ => Err(invalid(format!("{what} failed on shard {}: the server sent no {}", self.id(), op.field)).for_shard(self.id())),
        }
    }

    /// An engine newsletter call that failed: a lost connection is `NOT_CONNECTED`, as for
    /// every call; anything else is `INVALID_ARGUMENT` with the engine's reason.
    fn newsletter_failed(&self, what: &str, e: NewsletterError) -> ShardError {
        match e {
            NewsletterError::Iq(e) => iq_failure(self.id(), what, &e),
            other => invalid(format!("{what} failed on shard {}: {other}", self.id())).for_shard(self.id()),
        }
    }

    fn jid_arg(&self, what: &str, jid: &str) -> Result<Jid> {
        newsletter_jid(what, jid).map_err(|e| e.for_shard(self.id()))
    }

    /// Baileys' `sock.newsletterCreate(name, description)`: the new channel as Baileys'
    /// `NewsletterMetadata` (`id`, `name`, `invite`, `subscribers`, `picture`, ...).
    pub async fn newsletter_create(&self, name: &str, description: Option<&str>) -> Result<BValue> {
        if name.trim().is_empty() {
            return Err(invalid("newsletterCreate: name must be a non-empty string").for_shard(self.id()));
        }
        let created = self.mex("newsletterCreate", &CREATE, json!({ "input": { "name": name, "description": description } })).await?;
        Ok(created_newsletter(&created))
    }

    /// Baileys' `sock.newsletterUpdate(jid, { name, description, picture })` (also behind
    /// `newsletterUpdateName/Description/Picture`, `newsletterRemovePicture`): the server's answer.
    pub async fn newsletter_update(&self, jid: &str, updates: serde_json::Map<String, Value>) -> Result<BValue> {
        let jid = self.jid_arg("newsletterUpdate", jid)?;
        let mut updates = updates;
        updates.insert("settings".into(), Value::Null);
        let answer = self.mex("newsletterUpdate", &UPDATE, json!({ "newsletter_id": jid.to_string(), "updates": updates })).await?;
        Ok(BValue::from_buffer_json(&answer))
    }

    /// Baileys' `sock.newsletterMetadata('jid' | 'invite', key)`: the channel as the server
    /// describes it (`id`, `state`, `thread_metadata`, `viewer_metadata`).
    pub async fn newsletter_metadata(&self, kind: &str, key: &str) -> Result<BValue> {
        let what = "newsletterMetadata";
        let kind = match kind {
            "jid" | "JID" => "JID",
            "invite" | "INVITE" => "INVITE",
            other => return Err(invalid(format!("{what}: type must be 'jid' or 'invite', got {other:?}")).for_shard(self.id())),
        };
        if key.trim().is_empty() {
            return Err(invalid(format!("{what}: key must be a channel jid or invite code")).for_shard(self.id()));
        }
        let variables = json!({
            "fetch_creation_time": true,
            "fetch_full_image": true,
            "fetch_viewer_metadata": true,
            "input": { "key": key, "type": kind },
        });
        Ok(BValue::from_buffer_json(&self.mex(what, &FETCH, variables).await?))
    }

    /// `newsletterFollow`, `newsletterUnfollow`, `newsletterMute`, `newsletterUnmute`,
    /// `newsletterSubscribers`: one channel in, the server's answer out.
    pub async fn newsletter_call(&self, call: ChannelCall, jid: &str) -> Result<BValue> {
        let (what, op) = call.operation();
        let jid = self.jid_arg(what, jid)?;
        let answer = self.mex(what, op, json!({ "newsletter_id": jid.to_string() })).await?;
        Ok(BValue::from_buffer_json(&answer))
    }

    /// Baileys' `sock.newsletterAdminCount(jid)`.
    pub async fn newsletter_admin_count(&self, jid: &str) -> Result<u64> {
        let what = "newsletterAdminCount";
        let jid = self.jid_arg(what, jid)?;
        let answer = self.mex(what, &ADMIN_COUNT, json!({ "newsletter_id": jid.to_string() })).await?;
        answer["admin_count"]
            .as_u64()
            .ok_or_else(|| invalid(format!("{what} failed on shard {}: the server sent no admin_count", self.id())).for_shard(self.id()))
    }

    /// Baileys' `sock.newsletterChangeOwner(jid, newOwnerJid)` and `sock.newsletterDemote(jid, userJid)`.
    pub async fn newsletter_admin_change(&self, demote: bool, jid: &str, user: &str) -> Result<()> {
        let (what, op) = if demote { ("newsletterDemote", &DEMOTE) } else { ("newsletterChangeOwner", &CHANGE_OWNER) };
        let jid = self.jid_arg(what, jid)?;
        let user = crate::socket_ops::jid_arg(what, user).map_err(|e| e.for_shard(self.id()))?;
        self.mex(what, op, json!({ "newsletter_id": jid.to_string(), "user_id": user.to_string() })).await?;
        Ok(())
    }

    /// Baileys' `sock.newsletterDelete(jid)`.
    pub async fn newsletter_delete(&self, jid: &str) -> Result<()> {
        let jid = self.jid_arg("newsletterDelete", jid)?;
        self.mex("newsletterDelete", &DELETE, json!({ "newsletter_id": jid.to_string() })).await?;
        Ok(())
    }

    /// Baileys' `sock.newsletterReactMessage(jid, serverId, reaction)`: reacts to the post
    /// `serverId`; no reaction (or an empty one) takes ours back.
    pub async fn newsletter_react_message(&self, jid: &str, server_id: &str, reaction: Option<&str>) -> Result<()> {
        let what = "newsletterReactMessage";
        let jid = self.jid_arg(what, jid)?;
        let server_id: u64 = server_id.parse().map_err(|_| {
            invalid(format!("{what}: serverId must be a post's server id (digits), got {server_id:?}")).for_shard(self.id())
        })?;
        let client = self.connected_client()?;
        client.newsletter().send_reaction(&jid, server_id, reaction.unwrap_or_default()).await.map_err(|e| self.newsletter_failed(what, e))
    }

    /// Baileys' `sock.newsletterFetchMessages(jid, count, since, after)`: the server's reply
    /// node (`<message_updates>` with the posts), as Baileys gives it.
    pub async fn newsletter_fetch_messages(&self, jid: &str, count: u32, since: Option<u64>, after: Option<u64>) -> Result<BValue> {
        let what = "newsletterFetchMessages";
        let jid = self.jid_arg(what, jid)?;
        let mut request = NodeBuilder::new("message_updates").attr("count", count.to_string());
        if let Some(since) = since {
            request = request.attr("since", since.to_string());
        }
        if let Some(after) = after {
            request = request.attr("after", after.to_string());
        }
        let client = self.connected_client()?;
        let reply = client
            .send_iq(InfoQuery::get("newsletter", jid, Some(NodeContent::Nodes(vec![request.build()]))))
            .await
            .map_err(|e| iq_failure(self.id(), what, &e))?;
        Ok(node_to_baileys(&reply.to_owned_node()))
    }

    /// Baileys' `sock.subscribeNewsletterUpdates(jid)`: `{ duration }` (seconds, as a string).
    pub async fn subscribe_newsletter_updates(&self, jid: &str) -> Result<BValue> {
        let what = "subscribeNewsletterUpdates";
        let jid = self.jid_arg(what, jid)?;
        let client = self.connected_client()?;
        let seconds = client.newsletter().subscribe_live_updates(jid).await.map_err(|e| self.newsletter_failed(what, e))?;
        Ok(BValue::obj([("duration", BValue::String(seconds.to_string()))]))
    }
}

/// The channel calls that take only the channel's jid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelCall {
    Follow,
    Unfollow,
    Mute,
    Unmute,
    Subscribers,
}

impl ChannelCall {
    fn operation(self) -> (&'static str, &'static Operation) {
        match self {
            ChannelCall::Follow => ("newsletterFollow", &FOLLOW),
            ChannelCall::Unfollow => ("newsletterUnfollow", &UNFOLLOW),
            ChannelCall::Mute => ("newsletterMute", &MUTE),
            ChannelCall::Unmute => ("newsletterUnmute", &UNMUTE),
            ChannelCall::Subscribers => ("newsletterSubscribers", &SUBSCRIBERS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_channel_reads_as_baileys_reads_it() {
        let created = json!({
            "id": "120363000000000001@newsletter",
            "thread_metadata": {
                "creation_time": "1700000000", "invite": "0029VaX", "subscribers_count": "0", "verification": "UNVERIFIED",
                "name": { "text": "News" }, "description": { "text": "daily" },
                "picture": { "id": "", "direct_path": "" },
            },
            "viewer_metadata": { "mute": "OFF", "role": "OWNER" },
        });
        let meta = created_newsletter(&created);
        assert_eq!(
            meta.keys(),
            ["id", "name", "creation_time", "description", "invite", "subscribers", "verification", "picture", "mute_state"]
        );
        assert_eq!(meta.get("creation_time"), Some(&BValue::Int(1_700_000_000)));
        assert_eq!(meta.get("name"), Some(&BValue::str("News")));
    }

    #[test]
    fn channel_jids_are_checked() {
        assert!(newsletter_jid("x", "120363000000000001@newsletter").is_ok());
        let err = newsletter_jid("newsletterFollow", "1555@s.whatsapp.net").unwrap_err();
        assert!(err.message.contains("not a channel jid"), "{}", err.message);
    }
}
