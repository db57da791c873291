//! Channels (newsletters): the `w:mex` GraphQL operations clients run on them (create, fetch,
//! update, follow, unfollow, mute, subscribers, admins, owner, delete), the `newsletter` IQs
//! (message history, live updates), and what devices send to a channel: plaintext posts from
//! its admins (acked with the post's `server_id` and pushed to every follower's devices) and
//! reactions to a post.
//!
//! GraphQL operations are persisted queries named by `query_id`; the server answers
//! `<result>{"data": {"<field>": …}}</result>`. Both whatsapp-rust 0.7.0's ids and Baileys
//! 6.7.21's are known here (they differ for most operations), each answered in the field its
//! client reads. A request the mock cannot serve is a GraphQL error, as WhatsApp sends them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde_json::{json, Value};
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Node, NodeContent};

use crate::accounts::{ConnSender, Directory, Outbound};
use crate::clock::unix_now;
use crate::jid::{split_jid, DeviceAddr};
use crate::locking::lock;
use crate::router::Router;
use crate::stanza::{attr, error, kids, result};

/// What channels need of the server: its accounts, the router to push posts through, and the
/// channels themselves.
pub trait NewslettersState {
    fn directory(&self) -> &Mutex<Directory>;
    fn router(&self) -> &Mutex<Router>;
    fn channels(&self) -> &Mutex<ChannelDirectory>;
}

pub const NEWSLETTER_SERVER: &str = "newsletter";

/// What a GraphQL operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Create,
    Update,
    Fetch,
    Follow,
    Unfollow,
    Mute,
    Unmute,
    /// whatsapp-rust's mute: `{ input: { newsletter_id, type, value: "ON" | "OFF" } }`.
    UserSetting,
    Subscribers,
    AdminCount,
    ChangeOwner,
    Demote,
    Delete,
}

/// `query_id` → the operation and the `data` field its client reads.
const OPERATIONS: [(&str, Op, &str); 19] = [
    // whatsapp-rust 0.7.0 (wacore::iq::mex_operations)
    ("25149874324715067", Op::Create, "xwa2_newsletter_create"),
    ("24250201037901610", Op::Update, "xwa2_newsletter_update"),
    ("27456920720571478", Op::Fetch, "xwa2_newsletter"),
    ("24404358912487870", Op::Follow, "xwa2_newsletter_join_v2"),
    ("9767147403369991", Op::Unfollow, "xwa2_newsletter_leave_v2"),
    ("31938993655691868", Op::UserSetting, "xwa2_newsletter_update_user_setting"),
    ("9546742745432473", Op::ChangeOwner, "xwa2_newsletter_change_owner"),
    ("9880997548630971", Op::Demote, "xwa2_newsletter_admin_demote"),
    ("30062808666639665", Op::Delete, "xwa2_newsletter_delete_v2"),
    // Baileys 6.7.21 (Types/Newsletter QueryIds; UPDATE_METADATA and DELETE are the same ids)
    ("8823471724422422", Op::Create, "xwa2_newsletter_create"),
    ("6563316087068696", Op::Fetch, "xwa2_newsletter"),
    ("9783111038412085", Op::Subscribers, "xwa2_newsletter_subscribers"),
    ("7871414976211147", Op::Follow, "xwa2_newsletter_follow"),
    ("7238632346214362", Op::Unfollow, "xwa2_newsletter_unfollow"),
    ("29766401636284406", Op::Mute, "xwa2_newsletter_mute_v2"),
    ("9864994326891137", Op::Unmute, "xwa2_newsletter_unmute_v2"),
    ("7130823597031706", Op::AdminCount, "xwa2_newsletter_admin"),
    ("7341777602580933", Op::ChangeOwner, "xwa2_newsletter_change_owner"),
    ("6551828931592903", Op::Demote, "xwa2_newsletter_demote"),
];

/// One post of a channel.
#[derive(Clone, Debug)]
pub struct Post {
    pub server_id: u64,
    pub id: String,
    pub t: u64,
    /// `text`, `media`, ... as the sender's stanza said.
    pub kind: String,
    /// The `Message` protobuf, as sent.
    pub plaintext: Vec<u8>,
    /// Reaction code → who reacted with it.
    pub reactions: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Clone, Debug)]
pub struct Channel {
    /// The user part of `<id>@newsletter`.
    pub id: String,
    pub name: String,
    pub description: String,
    /// The picture's id, when it has one.
    pub picture: Option<String>,
    pub invite: String,
    pub creation: u64,
    pub owner: String,
    pub admins: Vec<String>,
    pub followers: BTreeSet<String>,
    /// Followers who muted it.
    pub muted: BTreeSet<String>,
    pub posts: Vec<Post>,
}

impl Channel {
    pub fn jid(&self) -> String {
        format!("{}@{NEWSLETTER_SERVER}", self.id)
    }

    fn role_of(&self, phone: &str) -> &'static str {
        if self.owner == phone {
            "OWNER"
        } else if self.admins.iter().any(|a| a == phone) {
            "ADMIN"
        } else if self.followers.contains(phone) {
            "SUBSCRIBER"
        } else {
            "GUEST"
        }
    }

    fn may_post(&self, phone: &str) -> bool {
        matches!(self.role_of(phone), "OWNER" | "ADMIN")
    }

    /// The channel as WhatsApp's GraphQL describes it to `viewer`.
    fn to_json(&self, viewer: &str) -> Value {
        let t = self.creation.to_string();
        let picture = match &self.picture {
            Some(id) => json!({ "id": id, "type": "IMAGE", "direct_path": format!("/v/t61.24694-24/{id}") }),
            None => json!({ "id": "", "type": "IMAGE", "direct_path": "" }),
        };
        json!({
            "id": self.jid(),
            "state": { "type": "ACTIVE" },
            "thread_metadata": {
                "creation_time": t,
                "description": { "id": format!("{}1", self.id), "text": self.description, "update_time": t },
                "handle": null,
                "invite": self.invite,
                "name": { "id": format!("{}0", self.id), "text": self.name, "update_time": t },
                "picture": picture,
                "preview": picture,
                "subscribers_count": self.followers.len().to_string(),
                "verification": "UNVERIFIED",
            },
            "viewer_metadata": {
                "mute": if self.muted.contains(viewer) { "ON" } else { "OFF" },
                "role": self.role_of(viewer),
            },
        })
    }

    /// A post as the `newsletter` IQs list it.
    fn post_node(&self, post: &Post, viewer: &str) -> Node {
        let reactions: Vec<Node> = post
            .reactions
            .iter()
            .filter(|(_, who)| !who.is_empty())
            .map(|(code, who)| NodeBuilder::new("reaction").attr("code", code.clone()).attr("count", who.len().to_string()).build())
            .collect();
        let mut node = NodeBuilder::new("message")
            .attr("server_id", post.server_id.to_string())
            .attr("id", post.id.clone())
            .attr("t", post.t.to_string())
            .attr("type", post.kind.clone());
        if self.may_post(viewer) {
            node = node.attr("is_sender", "true");
        }
        let mut children = vec![NodeBuilder::new("plaintext").bytes(post.plaintext.clone()).build()];
        if !reactions.is_empty() {
            children.push(NodeBuilder::new("reactions").children(reactions).build());
        }
        node.children(children).build()
    }
}

/// Every channel of the server.
#[derive(Default)]
pub struct ChannelDirectory {
    channels: BTreeMap<String, Channel>,
}

impl ChannelDirectory {
    fn by_key(&mut self, key: &str, kind: &str) -> Option<&mut Channel> {
        if kind.eq_ignore_ascii_case("invite") {
            return self.channels.values_mut().find(|c| c.invite == key);
        }
        self.channels.get_mut(key.split('@').next().unwrap_or(key))
    }

    fn new_id(&self) -> String {
        loop {
            let id = format!("120363{:012}", rand::random::<u64>() % 1_000_000_000_000);
            if !self.channels.contains_key(&id) {
                return id;
            }
        }
    }
}

pub fn handles(xmlns: &str) -> bool {
    matches!(xmlns, "w:mex" | "newsletter")
}

/// `<iq xmlns="w:mex">` (GraphQL) and `<iq xmlns="newsletter">` from a logged-in device.
pub fn handle_iq(state: &impl NewslettersState, me: Option<&DeviceAddr>, iq: &Node) -> Vec<Node> {
    let Some(me) = me else {
        return vec![error(iq, 401, "not-authorized")];
    };
    let mut channels = lock(state.channels());
    let reply = match attr(iq, "xmlns").as_deref() {
        Some("w:mex") => mex(&mut channels, me, iq),
        _ => newsletter_iq(&mut channels, me, iq),
    };
    vec![reply]
}

fn mex(channels: &mut ChannelDirectory, me: &DeviceAddr, iq: &Node) -> Node {
    let Some(query) = kids(iq).iter().find(|c| c.tag == "query") else {
        return error(iq, 400, "bad-request");
    };
    let query_id = attr(query, "query_id").unwrap_or_default();
    let body: Value = match &query.content {
        Some(NodeContent::Bytes(b)) => serde_json::from_slice(b).unwrap_or(Value::Null),
        Some(NodeContent::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let vars = &body["variables"];
    let answer = match OPERATIONS.iter().find(|(id, _, _)| *id == query_id) {
        Some((_, op, field)) => match run(channels, me, *op, vars) {
            Ok(data) => json!({ "data": { *field: data } }),
            Err((code, message)) => graphql_error(code, &message),
        },
        None => graphql_error(400, &format!("unknown persisted query {query_id}")),
    };
    result(iq, vec![NodeBuilder::new("result").bytes(answer.to_string().into_bytes()).build()])
}

fn graphql_error(code: u16, message: &str) -> Value {
    json!({ "data": null, "errors": [{ "message": message, "extensions": { "error_code": code, "severity": "CRITICAL" } }] })
}

/// The channel a request names by `newsletter_id` (or `input.newsletter_id`).
fn named<'a>(channels: &'a mut ChannelDirectory, vars: &Value) -> Result<&'a mut Channel, (u16, String)> {
    let id = vars["newsletter_id"].as_str().or_else(|| vars["input"]["newsletter_id"].as_str()).unwrap_or_default();
    channels.by_key(id, "jid").ok_or((404, format!("newsletter {id} not found")))
}

fn run(channels: &mut ChannelDirectory, me: &DeviceAddr, op: Op, vars: &Value) -> Result<Value, (u16, String)> {
    let viewer = me.phone.as_str();
    match op {
        Op::Create => {
            let name = vars["input"]["name"].as_str().unwrap_or_default().trim().to_owned();
            if name.is_empty() {
                return Err((400, "a channel needs a name".into()));
            }
            let id = channels.new_id();
            let channel = Channel {
                id: id.clone(),
                name,
                description: vars["input"]["description"].as_str().unwrap_or_default().to_owned(),
                picture: None,
                invite: format!("0029Va{}", &id[6..]),
                creation: unix_now(),
                owner: viewer.to_owned(),
                admins: Vec::new(),
                followers: BTreeSet::new(),
                muted: BTreeSet::new(),
                posts: Vec::new(),
            };
            let data = channel.to_json(viewer);
            channels.channels.insert(id, channel);
            Ok(data)
        }
        Op::Fetch => {
            let input = &vars["input"];
            let key = input["key"].as_str().unwrap_or_default();
            let kind = input["type"].as_str().unwrap_or("JID");
            let channel = channels.by_key(key, kind).ok_or((404, format!("newsletter {key} not found")))?;
            Ok(channel.to_json(viewer))
        }
        Op::Update => {
            let channel = named(channels, vars)?;
            if !channel.may_post(viewer) {
                return Err((403, "only the channel's admins may change it".into()));
            }
            let updates = &vars["updates"];
            if let Some(name) = updates["name"].as_str() {
                channel.name = name.to_owned();
            }
            if let Some(description) = updates["description"].as_str() {
                channel.description = description.to_owned();
            }
            if let Some(picture) = updates["picture"].as_str() {
                // A base64 JPEG sets the picture; an empty string removes it.
                channel.picture = (!picture.is_empty()).then(|| format!("{:016x}", rand::random::<u64>()));
            }
            Ok(channel.to_json(viewer))
        }
        Op::Follow => {
            let channel = named(channels, vars)?;
            channel.followers.insert(viewer.to_owned());
            Ok(channel.to_json(viewer))
        }
        Op::Unfollow => {
            let channel = named(channels, vars)?;
            channel.followers.remove(viewer);
            channel.muted.remove(viewer);
            Ok(json!({ "id": channel.jid() }))
        }
        Op::Mute | Op::Unmute => {
            let channel = named(channels, vars)?;
            set_mute(channel, viewer, op == Op::Mute);
            Ok(json!({ "id": channel.jid(), "mute": if op == Op::Mute { "ON" } else { "OFF" } }))
        }
        Op::UserSetting => {
            let channel = named(channels, vars)?;
            let on = vars["input"]["value"].as_str() == Some("ON");
            set_mute(channel, viewer, on);
            Ok(json!({ "id": channel.jid() }))
        }
        Op::Subscribers => Ok(json!({ "subscribers": named(channels, vars)?.followers.len() })),
        Op::AdminCount => {
            let channel = named(channels, vars)?;
            Ok(json!({ "admin_count": 1 + channel.admins.len() }))
        }
        Op::ChangeOwner | Op::Demote => {
            let channel = named(channels, vars)?;
            if channel.owner != viewer {
                return Err((403, "only the channel's owner may do that".into()));
            }
            let user = split_jid(vars["user_id"].as_str().unwrap_or_default()).map(|(user, _, _)| user).unwrap_or_default();
            if op == Op::ChangeOwner {
                // WhatsApp hands a channel only to one of its admins, who are invited from the
                // apps; this mock does not model those invitations, so a follower will do. The
                // old owner stays an admin.
                if !channel.admins.contains(&user) && !channel.followers.contains(&user) {
                    return Err((400, "the new owner must follow the channel".into()));
                }
                channel.admins.retain(|a| *a != user);
                channel.followers.remove(&user);
                let old = std::mem::replace(&mut channel.owner, user);
                channel.admins.push(old);
            } else if !channel.admins.contains(&user) {
                return Err((404, "not an admin of the channel".into()));
            } else {
                channel.admins.retain(|a| *a != user);
                channel.followers.insert(user);
            }
            Ok(json!({ "id": channel.jid() }))
        }
        Op::Delete => {
            let id = named(channels, vars)?.id.clone();
            if channels.channels[&id].owner != viewer {
                return Err((403, "only the channel's owner may delete it".into()));
            }
            channels.channels.remove(&id);
            Ok(json!({ "id": format!("{id}@{NEWSLETTER_SERVER}") }))
        }
    }
}

fn set_mute(channel: &mut Channel, viewer: &str, on: bool) {
    if on {
        channel.muted.insert(viewer.to_owned());
    } else {
        channel.muted.remove(viewer);
    }
}

/// `<message_updates count since after/>` (Baileys) or `<messages count before/>`
/// (whatsapp-rust): the channel's posts; `<live_updates/>`: how long live updates last.
fn newsletter_iq(channels: &mut ChannelDirectory, me: &DeviceAddr, iq: &Node) -> Node {
    let to = attr(iq, "to").unwrap_or_default();
    let Some(channel) = channels.by_key(&to, "jid") else {
        return error(iq, 404, "item-not-found");
    };
    let Some(request) = kids(iq).first() else {
        return error(iq, 400, "bad-request");
    };
    let num = |name: &str| attr(request, name).and_then(|v| v.parse::<u64>().ok());
    match request.tag.as_ref() {
        "live_updates" => result(iq, vec![NodeBuilder::new("live_updates").attr("duration", "300").build()]),
        tag @ ("message_updates" | "messages") => {
            let count = num("count").unwrap_or(20) as usize;
            let since = num("since").unwrap_or(0);
            let after = num("after").unwrap_or(0);
            let before = num("before").unwrap_or(u64::MAX);
            let mut posts: Vec<&Post> =
                channel.posts.iter().filter(|p| p.t >= since && p.server_id > after && p.server_id < before).collect();
            // The newest `count`, oldest first.
            let skip = posts.len().saturating_sub(count);
            posts.drain(..skip);
            let list = NodeBuilder::new("messages")
                .attr("jid", channel.jid())
                .children(posts.iter().map(|p| channel.post_node(p, &me.phone)))
                .build();
            let reply = if tag == "messages" { list } else { NodeBuilder::new("message_updates").children([list]).build() };
            result(iq, vec![reply])
        }
        _ => error(iq, 501, "feature-not-implemented"),
    }
}

/// A `<message>` to a channel: a post from an admin (`<plaintext>`), acked with its
/// `server_id`, or a reaction to a post (`type="reaction" server_id`).
pub fn message(state: &impl NewslettersState, me: &DeviceAddr, tx: &ConnSender, node: &Node) -> bool {
    let to = attr(node, "to").unwrap_or_default();
    let t = unix_now();
    let mut ack = NodeBuilder::new("ack").attr("class", "message").attr("from", to.clone()).attr("t", t.to_string());
    if let Some(id) = attr(node, "id") {
        ack = ack.attr("id", id);
    }
    // A new post and who follows the channel, to push it to them once it is acked.
    let mut push = None;
    let outcome = {
        let mut channels = lock(state.channels());
        match channels.by_key(&to, "jid") {
            None => Err("404"),
            Some(channel) => accept(channel, me, node, t).inspect(|posted| {
                if posted.is_some() {
                    let post = channel.posts.last().expect("just posted");
                    push = Some((channel.id.clone(), channel.followers.clone(), pushed_post(channel, post, node)));
                }
            }),
        }
    };
    let ack = match outcome {
        Ok(Some(server_id)) => ack.attr("server_id", server_id.to_string()),
        Ok(None) => ack,
        Err(code) => ack.attr("error", code),
    };
    if tx.send(Outbound::Node(ack.build())).is_err() {
        return false;
    }
    if let Some((channel_id, followers, post)) = push {
        let id = attr(&post, "id").unwrap_or_default();
        let dir = lock(state.directory());
        let mut router = lock(state.router());
        for phone in &followers {
            let Some(account) = dir.account(phone) else { continue };
            // Device 0 is the mock phone: it takes nothing.
            for &device in account.devices.keys().filter(|&&d| d != 0) {
                router.deliver(&(phone.clone(), device), "message", &id, &channel_id, post.clone());
            }
        }
    }
    true
}

/// A post as followers' devices get it: `<message from=ID@newsletter id server_id t type>`
/// with the `<plaintext>` (and its `mediatype`) as the admin sent it.
fn pushed_post(channel: &Channel, post: &Post, sent: &Node) -> Node {
    let mut plaintext = NodeBuilder::new("plaintext").bytes(post.plaintext.clone());
    if let Some(media) = sent.get_optional_child("plaintext").and_then(|p| attr(p, "mediatype")) {
        plaintext = plaintext.attr("mediatype", media);
    }
    NodeBuilder::new("message")
        .attr("from", channel.jid())
        .attr("id", post.id.clone())
        .attr("server_id", post.server_id.to_string())
        .attr("t", post.t.to_string())
        .attr("type", post.kind.clone())
        .children([plaintext.build()])
        .build()
}

/// Stores what `node` brings to `channel`: `Some(server_id)` of a new post.
fn accept(channel: &mut Channel, me: &DeviceAddr, node: &Node, t: u64) -> Result<Option<u64>, &'static str> {
    if attr(node, "type").as_deref() == Some("reaction") {
        let server_id: u64 = attr(node, "server_id").and_then(|s| s.parse().ok()).ok_or("400")?;
        let post = channel.posts.iter_mut().find(|p| p.server_id == server_id).ok_or("404")?;
        let code = node.get_optional_child("reaction").and_then(|r| attr(r, "code")).unwrap_or_default();
        // One reaction per person: a new one replaces theirs, an empty one (or `edit="7"`) removes it.
        for who in post.reactions.values_mut() {
            who.remove(&me.phone);
        }
        if !code.is_empty() && attr(node, "edit").as_deref() != Some("7") {
            post.reactions.entry(code).or_default().insert(me.phone.clone());
        }
        return Ok(None);
    }
    if !channel.may_post(&me.phone) {
        return Err("403");
    }
    let plaintext = match node.get_optional_child("plaintext").map(|p| &p.content) {
        Some(Some(NodeContent::Bytes(b))) => b.clone(),
        _ => return Err("400"),
    };
    let server_id = channel.posts.last().map_or(100, |p| p.server_id + 1);
    channel.posts.push(Post {
        server_id,
        id: attr(node, "id").unwrap_or_default(),
        t,
        kind: attr(node, "type").unwrap_or_else(|| "text".to_owned()),
        plaintext,
        reactions: BTreeMap::new(),
    });
    Ok(Some(server_id))
}
