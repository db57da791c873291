//! Baileys' profile and blocklist calls: `profilePictureUrl`, `updateProfilePicture`,
//! `updateProfileStatus`, `updateProfileName`, `fetchStatus`, `updateBlockStatus`,
//! `fetchBlocklist`, with Baileys 6.7.21's argument and result shapes. The engine's profile,
//! contacts and usync features do the work; the blocklist goes as Baileys sends it (the jid as
//! given, no LID lookup). `fetchStatus` sends Baileys' status-only usync query itself: the
//! engine's user-info query drops the time the text was set. A successful block / unblock
//! reports `blocklist.update` and `fetchBlocklist` reports `blocklist.set` (profile_events.rs).

use wacore::request::InfoQuery;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, NodeContent};

use crate::baileys_value::BValue;
use crate::content::parse_jid;
use crate::error::{ErrorCode, Result, ShardError};
use crate::shard::Shard;

/// One entry of `fetchStatus`'s list, Baileys' `{ id, status: { status, setAt } }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    pub id: String,
    /// `None` when the server returned no `<status>` for this user (Baileys: no `status` key).
    pub status: Option<AboutText>,
}

/// The parsed `<status>`: the text (`None` when empty, `""` when hidden by privacy, code 401)
/// and when it was set, in seconds (0 when the server gave no `t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AboutText {
    pub status: Option<String>,
    pub set_at: u64,
}

/// Reads one usync `<user>`'s `<status>` as Baileys' USyncStatusProtocol does.
fn about_text(node: &wacore_binary::NodeRef<'_>) -> AboutText {
    let mut attrs = node.attrs();
    let set_at = attrs.optional_u64("t").unwrap_or(0);
    let code = attrs.optional_u64("code");
    let status = match node.content_as_string() {
        Some(text) if !text.is_empty() => Some(text.to_string()),
        _ if code == Some(401) => Some(String::new()),
        _ => None,
    };
    AboutText { status, set_at }
}

/// `s.whatsapp.net`, where these iqs go.
fn server() -> Jid {
    wacore_binary::jid::SERVER_JID.parse().expect("the server jid parses")
}

fn jid_arg(shard: &Shard, what: &str, jid: &str) -> Result<Jid> {
    parse_jid(jid).map_err(|e| ShardError::new(ErrorCode::InvalidArgument, format!("{what}: {}", e.message)).for_shard(shard.id()))
}

impl Shard {
    fn profile_failed(&self, what: &str, e: impl std::fmt::Display) -> ShardError {
        ShardError::new(ErrorCode::NotConnected, format!("{what} failed on shard {}: {e}", self.id())).for_shard(self.id())
    }

    /// `profilePictureUrl(jid, type)`: the picture's URL, or `None` when there is none.
    pub async fn profile_picture_url(&self, jid: &str, full: bool) -> Result<Option<String>> {
        let jid = jid_arg(self, "profilePictureUrl jid", jid)?;
        let client = self.connected_client()?;
        let pic = client
            .contacts()
            .get_profile_picture(&jid.to_non_ad(), !full)
            .await
            .map_err(|e| self.profile_failed("profilePictureUrl", e))?;
        Ok(pic.map(|p| p.url))
    }

    /// `updateProfilePicture(jid, image)`: our own picture, or a group's (`jid` the group).
    pub async fn update_profile_picture(&self, jid: &str, image: Vec<u8>) -> Result<()> {
        let target = jid_arg(self, "updateProfilePicture jid", jid)?;
        if image.is_empty() {
            return Err(ShardError::new(ErrorCode::InvalidArgument, "updateProfilePicture: the image is empty").for_shard(self.id()));
        }
        let client = self.connected_client()?;
        let own = client.persistence_manager().get_device_snapshot().pn.clone().map(|j| j.to_non_ad());
        let query = NodeBuilder::new("picture").attr("type", "image").bytes(image).build();
        let mut iq = InfoQuery::set("w:profile:picture", server(), Some(NodeContent::Nodes(vec![query])));
        // As Baileys: `target` only for someone else (a group); our own picture has none.
        if !own.as_ref().is_some_and(|o| o.user == target.user && o.server == target.server) {
            iq.target = Some(target.to_non_ad());
        }
        client.send_iq(iq).await.map(|_| ()).map_err(|e| self.profile_failed("updateProfilePicture", e))
    }

    /// `removeProfilePicture(jid)`: our own picture, or a group's (`jid` the group).
    pub async fn remove_profile_picture(&self, jid: &str) -> Result<()> {
        let target = jid_arg(self, "removeProfilePicture jid", jid)?;
        let client = self.connected_client()?;
        let own = client.persistence_manager().get_device_snapshot().pn.clone().map(|j| j.to_non_ad());
        if own.as_ref().is_some_and(|o| o.user == target.user && o.server == target.server) {
            client.profile().remove_profile_picture().await.map(|_| ()).map_err(|e| self.profile_failed("removeProfilePicture", e))
        } else {
            client
                .groups()
                .remove_profile_picture(target.to_non_ad())
                .await
                .map(|_| ())
                .map_err(|e| self.profile_failed("removeProfilePicture", e))
        }
    }

    /// `getBusinessProfile(jid)`: Baileys' `WABusinessProfile` (`wid`, `address`, `description`,
    /// `website`, `email`, `category`, `business_hours`), read from the server's answer as
    /// Baileys reads it; `None` for an account that is no business.
    pub async fn get_business_profile(&self, jid: &str) -> Result<Option<BValue>> {
        let target = jid_arg(self, "getBusinessProfile jid", jid)?;
        let client = self.connected_client()?;
        let profile = NodeBuilder::new("profile").attr("jid", target.to_non_ad().to_string()).build();
        let query = NodeBuilder::new("business_profile").attr("v", "244").children([profile]).build();
        let reply = client
            .send_iq(InfoQuery::get("w:biz", server(), Some(NodeContent::Nodes(vec![query]))))
            .await
            .map_err(|e| self.profile_failed("getBusinessProfile", e))?;
        let reply = reply.to_owned_node();
        let Some(p) = reply.get_optional_child("business_profile").and_then(|b| b.get_optional_child("profile")) else { return Ok(None) };
        let text = |tag: &str| p.get_optional_child(tag).and_then(|n| n.content_as_string()).map(|s| s.to_string());
        let category =
            p.get_optional_child("categories").and_then(|c| c.get_optional_child("category")).and_then(|n| n.content_as_string());
        let hours = p.get_optional_child("business_hours");
        let mut business_hours = BValue::object();
        if let Some(tz) = hours.and_then(|h| h.attrs.get("timezone")) {
            business_hours.set("timezone", BValue::String(tz.as_str().into_owned()));
        }
        if let Some(h) = hours {
            let days = h
                .get_children_by_tag("business_hours_config")
                .map(|d| BValue::Object(d.attrs.iter().map(|(k, v)| (k.to_string(), BValue::String(v.as_str().into_owned()))).collect()))
                .collect();
            business_hours.set("business_config", BValue::Array(days));
        }
        // Baileys' key order; absent where Baileys has `undefined`.
        let string = |v: Option<String>| v.map(BValue::String);
        let fields = [
            ("wid", string(p.attrs.get("jid").map(|j| j.as_str().into_owned()))),
            ("address", string(text("address"))),
            ("description", string(Some(text("description").unwrap_or_default()))),
            ("website", Some(BValue::Array(text("website").into_iter().map(BValue::String).collect()))),
            ("email", string(text("email"))),
            ("category", string(category.map(|c| c.to_string()))),
            ("business_hours", Some(business_hours)),
        ];
        let out = BValue::Object(fields.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v))).collect());
        Ok(Some(out))
    }

    /// `updateProfileStatus(status)`: the about text.
    pub async fn update_profile_status(&self, status: &str) -> Result<()> {
        let client = self.connected_client()?;
        client.profile().set_status_text(status).await.map_err(|e| self.profile_failed("updateProfileStatus", e))
    }

    /// `updateProfileName(name)`: the push name.
    pub async fn update_profile_name(&self, name: &str) -> Result<()> {
        if name.is_empty() {
            return Err(ShardError::new(ErrorCode::InvalidArgument, "updateProfileName: the name must not be empty").for_shard(self.id()));
        }
        let client = self.connected_client()?;
        client.profile().set_push_name(name).await.map_err(|e| self.profile_failed("updateProfileName", e))
    }

    /// `fetchStatus(...jids)`: the about text of each user, in the server's order.
    pub async fn fetch_status(&self, jids: &[String]) -> Result<Vec<StatusEntry>> {
        if jids.is_empty() {
            return Err(ShardError::new(ErrorCode::InvalidArgument, "fetchStatus: give at least one jid").for_shard(self.id()));
        }
        let parsed = jids.iter().map(|j| jid_arg(self, "fetchStatus jid", j).map(|j| j.to_non_ad())).collect::<Result<Vec<_>>>()?;
        let client = self.connected_client()?;
        let users = parsed.iter().map(|j| NodeBuilder::new("user").attr("jid", j.to_string()).build());
        let usync = NodeBuilder::new("usync")
            .attr("context", "interactive")
            .attr("mode", "query")
            .attr("sid", client.generate_message_id())
            .attr("last", "true")
            .attr("index", "0")
            .children([
                NodeBuilder::new("query").children([NodeBuilder::new("status").build()]).build(),
                NodeBuilder::new("list").children(users).build(),
            ])
            .build();
        let iq = InfoQuery::get("usync", server(), Some(NodeContent::Nodes(vec![usync])));
        let reply = client.send_iq(iq).await.map_err(|e| self.profile_failed("fetchStatus", e))?;
        let reply = reply.get();
        let Some(list) = reply.get_optional_child("usync").and_then(|u| u.get_optional_child("list")) else {
            return Err(self.profile_failed("fetchStatus", "the server's answer has no <usync><list>"));
        };
        Ok(list
            .get_children_by_tag("user")
            .filter_map(|u| {
                let id = u.attrs().optional_string("jid")?.to_string();
                Some(StatusEntry { id, status: u.get_optional_child("status").map(about_text) })
            })
            .collect())
    }

    /// `updateBlockStatus(jid, 'block' | 'unblock')`.
    pub async fn update_block_status(&self, jid: &str, action: &str) -> Result<()> {
        let target = jid_arg(self, "updateBlockStatus jid", jid)?;
        if !matches!(action, "block" | "unblock") {
            return Err(ShardError::new(
                ErrorCode::InvalidArgument,
                format!("updateBlockStatus: action must be 'block' or 'unblock', got {action:?}"),
            )
            .for_shard(self.id()));
        }
        let client = self.connected_client()?;
        let target = target.to_non_ad().to_string();
        let item = NodeBuilder::new("item").attr("action", action).attr("jid", target.clone()).build();
        let iq = InfoQuery::set("blocklist", server(), Some(NodeContent::Nodes(vec![item])));
        client.send_iq(iq).await.map_err(|e| self.profile_failed("updateBlockStatus", e))?;
        // The server tells only our other devices; this one learns it from the answer.
        self.baileys(crate::profile_events::blocklist_update(&target, action == "block"));
        Ok(())
    }

    /// `fetchBlocklist()`: the blocked jids.
    pub async fn fetch_blocklist(&self) -> Result<Vec<String>> {
        let client = self.connected_client()?;
        let iq = InfoQuery::get("blocklist", server(), None);
        let reply = client.send_iq(iq).await.map_err(|e| self.profile_failed("fetchBlocklist", e))?;
        let reply = reply.get();
        let jids: Vec<String> = match reply.get_optional_child("list") {
            Some(list) => {
                list.get_children_by_tag("item").filter_map(|i| i.attrs().optional_string("jid").map(|s| s.to_string())).collect()
            }
            None => Vec::new(),
        };
        self.baileys(crate::profile_events::blocklist_set(&jids));
        Ok(jids)
    }
}
