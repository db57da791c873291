//! Groups: the server side of `xmlns="w:g2"` (create, metadata, participants, subject,
//! description, settings, invites, leave, ephemeral, participating) and the `w:gp2`
//! notifications every member device gets about a change.
//!
//! Groups are PN-addressed (`addressing_mode="pn"`): participants are written as
//! `PHONE@s.whatsapp.net`, which both clients accept (Baileys 6.7 reads `attrs.jid` as the
//! participant id, whatsapp-rust handles both modes). A participant may still be named by LID
//! in a request; it is resolved to its account.
//!
//! Errors follow WhatsApp: an unknown group is `404 item-not-found`, a non-member asking about
//! or changing a group `401 not-authorized`, a member without the right `403 forbidden`; a
//! participant operation answers per participant (`error="404"` not a member / not on
//! WhatsApp, `"409"` already a member, `"403"` the creator cannot be removed or demoted by
//! someone else).
//!
//! Lock order: `directory`, then `groups`, then `router`.

use std::collections::{BTreeMap, HashMap, HashSet};

use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Node, NodeContent};

use crate::accounts::{resolve_jid, ConnSender, Directory, Outbound};
use crate::clock::unix_now;
use crate::communities::{self, CommunityPart};
use crate::jid::{split_jid, DeviceAddr};
use crate::locking::lock;
use crate::router::Router;
use crate::stanza::{attr, error, kids, result};
use crate::state::ServerState;

pub const GROUP_SERVER: &str = "g.us";

/// A member's rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Member,
    Admin,
    /// The creator.
    SuperAdmin,
}

impl Role {
    pub fn is_admin(self) -> bool {
        !matches!(self, Role::Member)
    }

    fn wire(self) -> Option<&'static str> {
        match self {
            Role::Member => None,
            Role::Admin => Some("admin"),
            Role::SuperAdmin => Some("superadmin"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Description {
    pub id: String,
    pub body: String,
    pub owner: String,
    pub t: u64,
}

#[derive(Clone, Debug)]
pub struct Group {
    /// The user part of the group JID (`120363…`).
    pub id: String,
    pub subject: String,
    pub subject_owner: String,
    pub subject_time: u64,
    pub creator: String,
    pub creation: u64,
    pub description: Option<Description>,
    /// Phone → role, in join order.
    pub participants: Vec<(String, Role)>,
    /// Only admins may send.
    pub announce: bool,
    /// Only admins may edit the group info (subject, description, ephemeral).
    pub locked: bool,
    /// Disappearing-messages timer in seconds, 0 = off.
    pub ephemeral: u32,
    /// Any member (not only admins) may add participants.
    pub all_member_add: bool,
    pub invite_code: String,
    /// Joining by invite link needs an admin's approval (`membership_approval_mode`).
    pub join_approval: bool,
    /// Pending join requests: phone and when it asked.
    pub join_requests: Vec<(String, u64)>,
    /// Invitations ("add requests") for people an admin could not add because their privacy
    /// lets only chosen people add them: phone, code, expiry (unix seconds).
    pub v4_invites: Vec<(String, String, u64)>,
    /// Where it stands in a community, if in one.
    pub community: CommunityPart,
}

impl Group {
    /// A new group with `creator` as its only member (super-admin) and every setting off.
    pub(crate) fn new(id: String, subject: String, creator: &str, now: u64) -> Self {
        Group {
            id,
            subject,
            subject_owner: creator.to_owned(),
            subject_time: now,
            creator: creator.to_owned(),
            creation: now,
            description: None,
            participants: vec![(creator.to_owned(), Role::SuperAdmin)],
            announce: false,
            locked: false,
            ephemeral: 0,
            all_member_add: false,
            invite_code: new_code(),
            join_approval: false,
            join_requests: Vec::new(),
            v4_invites: Vec::new(),
            community: CommunityPart::None,
        }
    }

    pub fn jid(&self) -> String {
        format!("{}@{GROUP_SERVER}", self.id)
    }

    pub fn role_of(&self, phone: &str) -> Option<Role> {
        self.participants.iter().find(|(p, _)| p == phone).map(|(_, r)| *r)
    }

    pub fn is_member(&self, phone: &str) -> bool {
        self.role_of(phone).is_some()
    }

    pub fn member_phones(&self) -> Vec<String> {
        self.participants.iter().map(|(p, _)| p.clone()).collect()
    }

    pub(crate) fn set_role(&mut self, phone: &str, role: Role) {
        if let Some(entry) = self.participants.iter_mut().find(|(p, _)| p == phone) {
            entry.1 = role;
        }
    }

    pub(crate) fn remove(&mut self, phone: &str) {
        self.participants.retain(|(p, _)| p != phone);
    }

    /// The `<group>` node both clients parse into their group metadata.
    pub fn to_node(&self) -> Node {
        let mut kids = Vec::new();
        if let Some(d) = &self.description {
            kids.push(
                NodeBuilder::new("description")
                    .attr("id", d.id.clone())
                    .attr("participant", pn(&d.owner))
                    .attr("t", d.t.to_string())
                    .children([NodeBuilder::new("body").string_content(d.body.clone()).build()])
                    .build(),
            );
        }
        if self.locked {
            kids.push(NodeBuilder::new("locked").build());
        }
        if self.announce {
            kids.push(NodeBuilder::new("announcement").build());
        }
        if self.ephemeral > 0 {
            kids.push(NodeBuilder::new("ephemeral").attr("expiration", self.ephemeral.to_string()).build());
        }
        kids.push(
            NodeBuilder::new("member_add_mode").string_content(if self.all_member_add { "all_member_add" } else { "admin_add" }).build(),
        );
        if self.join_approval {
            kids.push(
                NodeBuilder::new("membership_approval_mode").children([NodeBuilder::new("group_join").attr("state", "on").build()]).build(),
            );
        }
        kids.push(NodeBuilder::new("member_link_mode").string_content("admin_link").build());
        kids.extend(self.community.nodes());
        for (phone, role) in &self.participants {
            let mut p = NodeBuilder::new("participant").attr("jid", pn(phone));
            if let Some(t) = role.wire() {
                p = p.attr("type", t);
            }
            kids.push(p.build());
        }
        NodeBuilder::new("group")
            .attr("id", self.id.clone())
            .attr("addressing_mode", "pn")
            .attr("subject", self.subject.clone())
            .attr("s_o", pn(&self.subject_owner))
            .attr("s_t", self.subject_time.to_string())
            .attr("creator", pn(&self.creator))
            .attr("creation", self.creation.to_string())
            .attr("size", self.participants.len().to_string())
            .children(kids)
            .build()
    }
}

/// All groups of the server.
#[derive(Default)]
pub struct GroupDirectory {
    groups: BTreeMap<String, Group>,
    /// Invite codes that were revoked → their group (joining with one is `410 gone`).
    revoked_codes: HashMap<String, String>,
}

impl GroupDirectory {
    pub fn get(&self, id: &str) -> Option<&Group> {
        self.groups.get(id)
    }

    pub fn groups_of(&self, phone: &str) -> impl Iterator<Item = &Group> {
        let phone = phone.to_owned();
        self.groups.values().filter(move |g| g.is_member(&phone))
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Group> {
        self.groups.get_mut(id)
    }

    pub(crate) fn insert(&mut self, group: Group) {
        self.groups.insert(group.id.clone(), group);
    }

    /// The groups linked to the community `parent_id`.
    pub(crate) fn linked_to<'a>(&'a self, parent_id: &'a str) -> impl Iterator<Item = &'a Group> + 'a {
        self.groups.values().filter(move |g| g.community.parent_id() == Some(parent_id))
    }

    pub(crate) fn new_id(&self) -> String {
        loop {
            let id = format!("120363{:012}", rand::random::<u64>() % 1_000_000_000_000);
            if !self.groups.contains_key(&id) {
                return id;
            }
        }
    }

    fn by_code(&self, code: &str) -> Option<&Group> {
        self.groups.values().find(|g| g.invite_code == code)
    }
}

pub(crate) fn pn(phone: &str) -> String {
    format!("{phone}@s.whatsapp.net")
}

fn new_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..22).map(|_| ALPHABET[rand::random::<u32>() as usize % ALPHABET.len()] as char).collect()
}

fn new_stanza_id() -> String {
    format!("{:020X}", rand::random::<u128>() >> 48)
}

fn content_text(node: &Node) -> Option<String> {
    match &node.content {
        Some(NodeContent::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        Some(NodeContent::String(s)) => Some(s.to_string()),
        _ => None,
    }
}

/// User part of `ID@g.us` (or of a bare id).
pub(crate) fn group_id_of(jid: &str) -> String {
    jid.split('@').next().unwrap_or(jid).to_owned()
}

/// A notification to deliver once the iq result has been sent.
pub struct Fanout {
    pub group_jid: String,
    pub actor: String,
    pub recipients: Vec<String>,
    pub action: Node,
}

impl Fanout {
    /// The phones of the `<participant>`s of a membership notification.
    fn participant_phones(&self) -> Vec<String> {
        kids(&self.action).iter().filter_map(|p| attr(p, "jid")).filter_map(|jid| split_jid(&jid).map(|(phone, _, _)| phone)).collect()
    }
}

/// What an iq produced: the reply to the requester, then notifications for members.
pub(crate) struct Outcome {
    pub(crate) reply: Node,
    pub(crate) fanout: Vec<Fanout>,
}

impl Outcome {
    pub(crate) fn reply(reply: Node) -> Self {
        Self { reply, fanout: Vec::new() }
    }
}

/// `<iq xmlns="w:g2">` from a logged-in device: the result goes to the requester first, then
/// the `w:gp2` notifications to every member device (live or queued).
pub fn handle_iq(state: &ServerState, me: &DeviceAddr, tx: &ConnSender, iq: &Node) -> bool {
    let outcome = {
        // Who may only be invited (group-add privacy other than "all"); read before the
        // directory and group locks are taken.
        let invite_only = lock(&state.profiles).phones_without_privacy("groupadd", "all");
        let dir = lock(&state.directory);
        let mut groups = lock(&state.groups);
        dispatch(&dir, &mut groups, &invite_only, me, iq)
    };
    if tx.send(Outbound::Node(outcome.reply)).is_err() {
        return false;
    }
    if !outcome.fanout.is_empty() {
        let dir = lock(&state.directory);
        let mut router = lock(&state.router);
        for f in outcome.fanout {
            deliver_notification(&dir, &mut router, f);
        }
    }
    true
}

/// Sends one `w:gp2` notification to every device of every recipient account.
pub fn deliver_notification(dir: &Directory, router: &mut Router, f: Fanout) {
    let id = new_stanza_id();
    let node = NodeBuilder::new("notification")
        .attr("from", f.group_jid.clone())
        .attr("type", "w:gp2")
        .attr("id", id.clone())
        .attr("t", unix_now().to_string())
        .attr("participant", pn(&f.actor))
        .attr("addressing_mode", "pn")
        .children([f.action])
        .build();
    let mut count = 0;
    for phone in &f.recipients {
        let Some(acc) = dir.account(phone) else {
            continue;
        };
        for dev in acc.devices.keys() {
            router.deliver(&(phone.clone(), *dev), "notification", &id, &f.actor, node.clone());
            count += 1;
        }
    }
    log::debug!(
        "w:gp2 {} on {} to {count} device(s)",
        node.children().and_then(|c| c.first()).map_or("-".into(), |c| c.tag.to_string()),
        f.group_jid
    );
}

fn dispatch(dir: &Directory, groups: &mut GroupDirectory, invite_only: &HashSet<String>, me: &DeviceAddr, iq: &Node) -> Outcome {
    let kind = attr(iq, "type").unwrap_or_default();
    let to = attr(iq, "to").unwrap_or_default();
    let Some(first) = kids(iq).first() else {
        return Outcome::reply(error(iq, 400, "bad-request"));
    };
    let server_level = group_id_of(&to).is_empty() || to == GROUP_SERVER;
    let tag = first.tag.to_string();
    if server_level {
        return match (kind.as_str(), tag.as_str()) {
            ("set", "create") => create(dir, groups, me, iq, first),
            ("get", "participating") => Outcome::reply(result(
                iq,
                vec![NodeBuilder::new("groups").children(groups.groups_of(&me.phone).map(Group::to_node)).build()],
            )),
            ("set", "leave") => leave(groups, me, iq, first),
            ("set", "invite") => accept_invite(groups, me, iq, first),
            ("get", "invite") => invite_info(groups, iq, first),
            _ => Outcome::reply(error(iq, 501, "feature-not-implemented")),
        };
    }

    let id = group_id_of(&to);
    let Some(group) = groups.groups.get_mut(&id) else {
        return Outcome::reply(error(iq, 404, "item-not-found"));
    };
    if (kind.as_str(), tag.as_str()) == ("set", "accept") {
        return accept_invite_v4(group, me, iq, first);
    }
    let Some(my_role) = group.role_of(&me.phone) else {
        return Outcome::reply(error(iq, 401, "not-authorized"));
    };
    let may_edit_info = my_role.is_admin() || !group.locked;
    let notify_all =
        |group: &Group, action: Node| Fanout { group_jid: group.jid(), actor: me.phone.clone(), recipients: group.member_phones(), action };
    match (kind.as_str(), tag.as_str()) {
        ("get", "query") => Outcome::reply(result(iq, vec![group.to_node()])),
        ("set", "add" | "remove" | "promote" | "demote") => {
            let mut outcome = participants_change(dir, group, invite_only, me, my_role, iq, first);
            // Members added to or removed from a community are added to or removed from its
            // announcements group too.
            if let Some(changed) = outcome.fanout.first().map(Fanout::participant_phones) {
                outcome.fanout.extend(communities::mirror_membership(groups, &id, &tag, &changed, &me.phone));
            }
            outcome
        }
        ("set", "revoke") => revoke_invites_v4(dir, group, my_role, iq, first),
        ("set", "subject") => {
            if !may_edit_info {
                return Outcome::reply(error(iq, 403, "forbidden"));
            }
            let subject = content_text(first).unwrap_or_default();
            if subject.trim().is_empty() {
                return Outcome::reply(error(iq, 400, "bad-request"));
            }
            let now = unix_now();
            group.subject = subject.clone();
            group.subject_owner = me.phone.clone();
            group.subject_time = now;
            let action =
                NodeBuilder::new("subject").attr("subject", subject).attr("s_o", pn(&me.phone)).attr("s_t", now.to_string()).build();
            Outcome { reply: result(iq, vec![]), fanout: vec![notify_all(group, action)] }
        }
        ("set", "description") => {
            if !may_edit_info {
                return Outcome::reply(error(iq, 403, "forbidden"));
            }
            // `prev` is an optimistic-concurrency token: it must name the current description.
            let current = group.description.as_ref().map(|d| d.id.clone());
            if attr(first, "prev") != current {
                return Outcome::reply(error(iq, 409, "conflict"));
            }
            let new_id = attr(first, "id").unwrap_or_else(new_stanza_id);
            let body = first.get_optional_child("body").and_then(content_text);
            let deleting = attr(first, "delete").as_deref() == Some("true") || body.is_none();
            let action = if deleting {
                group.description = None;
                NodeBuilder::new("description").attr("id", new_id).children([NodeBuilder::new("delete").build()]).build()
            } else {
                let body = body.unwrap_or_default();
                group.description = Some(Description { id: new_id.clone(), body: body.clone(), owner: me.phone.clone(), t: unix_now() });
                NodeBuilder::new("description").attr("id", new_id).children([NodeBuilder::new("body").string_content(body).build()]).build()
            };
            Outcome { reply: result(iq, vec![]), fanout: vec![notify_all(group, action)] }
        }
        ("set", "announcement" | "not_announcement" | "locked" | "unlocked") => {
            if !my_role.is_admin() {
                return Outcome::reply(error(iq, 403, "forbidden"));
            }
            let (field, on) = match tag.as_str() {
                "announcement" => (&mut group.announce, true),
                "not_announcement" => (&mut group.announce, false),
                "locked" => (&mut group.locked, true),
                _ => (&mut group.locked, false),
            };
            let changed = *field != on;
            *field = on;
            let fanout = if changed { vec![notify_all(group, NodeBuilder::new_dynamic(tag.clone()).build())] } else { Vec::new() };
            Outcome { reply: result(iq, vec![]), fanout }
        }
        ("set", "ephemeral" | "not_ephemeral") => {
            if !may_edit_info {
                return Outcome::reply(error(iq, 403, "forbidden"));
            }
            let expiration = if tag == "ephemeral" {
                match attr(first, "expiration").map(|e| e.parse::<u32>()) {
                    Some(Ok(e)) => e,
                    _ => return Outcome::reply(error(iq, 400, "bad-request")),
                }
            } else {
                0
            };
            group.ephemeral = expiration;
            let action = if expiration > 0 {
                NodeBuilder::new("ephemeral").attr("expiration", expiration.to_string()).build()
            } else {
                NodeBuilder::new("not_ephemeral").build()
            };
            Outcome { reply: result(iq, vec![]), fanout: vec![notify_all(group, action)] }
        }
        ("set", "member_add_mode") => {
            if !my_role.is_admin() {
                return Outcome::reply(error(iq, 403, "forbidden"));
            }
            let mode = content_text(first).unwrap_or_default();
            group.all_member_add = match mode.as_str() {
                "all_member_add" => true,
                "admin_add" => false,
                _ => return Outcome::reply(error(iq, 400, "bad-request")),
            };
            let action = NodeBuilder::new("member_add_mode").string_content(mode).build();
            Outcome { reply: result(iq, vec![]), fanout: vec![notify_all(group, action)] }
        }
        ("set", "membership_approval_mode") => {
            if !my_role.is_admin() {
                return Outcome::reply(error(iq, 403, "forbidden"));
            }
            // Groups say `group_join`, communities (Baileys' communityJoinApprovalMode) `community_join`.
            let state = kids(first).first().filter(|c| c.tag == "group_join" || c.tag == "community_join").and_then(|c| attr(c, "state"));
            group.join_approval = match state.as_deref() {
                Some("on") => true,
                Some("off") => false,
                _ => return Outcome::reply(error(iq, 400, "bad-request")),
            };
            let action = NodeBuilder::new("membership_approval_mode")
                .children([NodeBuilder::new("group_join").attr("state", state.unwrap_or_default()).build()])
                .build();
            Outcome { reply: result(iq, vec![]), fanout: vec![notify_all(group, action)] }
        }
        ("get", "membership_approval_requests") => {
            if !my_role.is_admin() {
                return Outcome::reply(error(iq, 403, "forbidden"));
            }
            let requests = group.join_requests.iter().map(|(phone, t)| {
                NodeBuilder::new("membership_approval_request")
                    .attr("jid", pn(phone))
                    .attr("request_method", "invite_link")
                    .attr("request_time", t.to_string())
                    .build()
            });
            Outcome::reply(result(iq, vec![NodeBuilder::new("membership_approval_requests").children(requests).build()]))
        }
        ("set", "membership_requests_action") => {
            if !my_role.is_admin() {
                return Outcome::reply(error(iq, 403, "forbidden"));
            }
            let Some(decision) = kids(first).first().filter(|c| c.tag == "approve" || c.tag == "reject") else {
                return Outcome::reply(error(iq, 400, "bad-request"));
            };
            let approve = decision.tag == "approve";
            let mut answered = Vec::new();
            let mut added = Vec::new();
            for p in kids(decision) {
                let jid = attr(p, "jid").unwrap_or_default();
                let phone = phone_of(dir, &jid);
                let pending = phone.as_ref().and_then(|ph| group.join_requests.iter().position(|(r, _)| r == ph));
                let mut node = NodeBuilder::new("participant").attr("jid", jid.clone());
                match (pending, phone) {
                    (Some(i), Some(phone)) => {
                        group.join_requests.remove(i);
                        if approve {
                            group.participants.push((phone.clone(), Role::Member));
                            added.push(NodeBuilder::new("participant").attr("jid", pn(&phone)).build());
                        }
                    }
                    _ => node = node.attr("error", "404"),
                }
                answered.push(node.build());
            }
            let mut fanout = if added.is_empty() {
                Vec::new()
            } else {
                vec![notify_all(group, NodeBuilder::new("add").attr("reason", "approval").children(added).build())]
            };
            if let Some(approved) = fanout.first().map(Fanout::participant_phones) {
                fanout.extend(communities::mirror_membership(groups, &id, "add", &approved, &me.phone));
            }
            Outcome {
                reply: result(
                    iq,
                    vec![NodeBuilder::new("membership_requests_action")
                        .children([NodeBuilder::new(if approve { "approve" } else { "reject" }).children(answered).build()])
                        .build()],
                ),
                fanout,
            }
        }
        ("get" | "set", "invite") => {
            if !my_role.is_admin() {
                return Outcome::reply(error(iq, 403, "forbidden"));
            }
            if kind == "set" {
                // Revoke: the old code stops working (410 when used), a new one replaces it.
                let old = std::mem::replace(&mut group.invite_code, new_code());
                let gid = group.id.clone();
                let code = group.invite_code.clone();
                groups.revoked_codes.insert(old, gid);
                return Outcome::reply(result(iq, vec![NodeBuilder::new("invite").attr("code", code).build()]));
            }
            Outcome::reply(result(iq, vec![NodeBuilder::new("invite").attr("code", group.invite_code.clone()).build()]))
        }
        _ => Outcome::reply(error(iq, 501, "feature-not-implemented")),
    }
}

/// Resolves a participant JID (PN or LID, device part ignored) to an account's phone.
fn phone_of(dir: &Directory, jid: &str) -> Option<String> {
    resolve_jid(dir, jid).map(|(phone, _, _)| phone)
}

fn create(dir: &Directory, groups: &mut GroupDirectory, me: &DeviceAddr, iq: &Node, create: &Node) -> Outcome {
    let subject = attr(create, "subject").unwrap_or_default();
    if subject.trim().is_empty() {
        return Outcome::reply(error(iq, 400, "bad-request"));
    }
    let now = unix_now();
    let mut group = Group::new(groups.new_id(), subject, &me.phone, now);
    for c in kids(create) {
        match c.tag.as_ref() {
            "participant" => {
                // Someone who is not on the (mock) WhatsApp is left out, as the real server does
                // not make them members either.
                if let Some(phone) = attr(c, "jid").and_then(|j| phone_of(dir, &j)) {
                    if !group.is_member(&phone) {
                        group.participants.push((phone, Role::Member));
                    }
                }
            }
            "ephemeral" => group.ephemeral = attr(c, "expiration").and_then(|e| e.parse().ok()).unwrap_or(0),
            "member_add_mode" => group.all_member_add = content_text(c).as_deref() == Some("all_member_add"),
            "description" => {
                group.description = c
                    .get_optional_child("body")
                    .and_then(content_text)
                    .filter(|body| !body.is_empty())
                    .map(|body| Description { id: attr(c, "id").unwrap_or_else(new_stanza_id), body, owner: me.phone.clone(), t: now })
            }
            _ => {}
        }
    }
    match communities::part_of_new_group(groups, me, create) {
        Ok(part) => {
            // A closed community asks an admin's approval for every join.
            group.join_approval = matches!(part, CommunityPart::Parent { closed: true, .. });
            group.community = part;
        }
        Err(code) => return Outcome::reply(error(iq, code, if code == 404 { "item-not-found" } else { "forbidden" })),
    }
    log::info!("{}:{} created group {} with {} member(s)", me.phone, me.device, group.jid(), group.participants.len());
    let node = group.to_node();
    let mut fanout = vec![created(&group)];
    let is_parent = matches!(group.community, CommunityPart::Parent { .. });
    groups.groups.insert(group.id.clone(), group.clone());
    if is_parent {
        fanout.extend(communities::create_linked_groups(groups, &group, create, now).iter().map(created));
    }
    Outcome { reply: result(iq, vec![node]), fanout }
}

/// The `<create>` notification of a new group, to its members.
fn created(group: &Group) -> Fanout {
    Fanout {
        group_jid: group.jid(),
        actor: group.creator.clone(),
        recipients: group.member_phones(),
        action: NodeBuilder::new("create").children([group.to_node()]).build(),
    }
}

/// `<add|remove|promote|demote><participant jid/>…</…>`: a result per participant, and one
/// notification with the ones that changed (removed participants get it too).
fn participants_change(
    dir: &Directory,
    group: &mut Group,
    invite_only: &HashSet<String>,
    me: &DeviceAddr,
    my_role: Role,
    iq: &Node,
    action: &Node,
) -> Outcome {
    let tag = action.tag.to_string();
    let allowed = my_role.is_admin() || (tag == "add" && group.all_member_add);
    if !allowed {
        return Outcome::reply(error(iq, 403, "forbidden"));
    }
    let before = group.member_phones();
    let mut results = Vec::new();
    let mut changed = Vec::new();
    for p in kids(action).iter().filter(|c| c.tag == "participant") {
        let Some(jid) = attr(p, "jid") else { continue };
        let phone = phone_of(dir, &jid);
        let mut add_request = None;
        let code: Option<&str> = match (&phone, tag.as_str()) {
            (None, _) => Some("404"),
            (Some(ph), "add") if group.is_member(ph) => Some("409"),
            (Some(ph), "add") if invite_only.contains(ph) => {
                // WhatsApp answers 403 with an add request: the admin may send the person a
                // group invite message (code + expiry) instead.
                let code = new_code();
                let expiration = unix_now() + V4_INVITE_TTL_SECS;
                group.v4_invites.retain(|(p, _, _)| p != ph);
                group.v4_invites.push((ph.clone(), code.clone(), expiration));
                add_request = Some((code, expiration));
                Some("403")
            }
            (Some(ph), "add") => {
                group.participants.push((ph.clone(), Role::Member));
                None
            }
            (Some(ph), _) if !group.is_member(ph) => Some("404"),
            // Only the creator themself may take away the creator's membership or rank.
            (Some(ph), "remove" | "demote") if group.role_of(ph) == Some(Role::SuperAdmin) && *ph != me.phone => Some("403"),
            (Some(ph), "remove") => {
                group.remove(ph);
                None
            }
            (Some(ph), "promote") => {
                if group.role_of(ph) == Some(Role::Member) {
                    group.set_role(ph, Role::Admin);
                }
                None
            }
            (Some(ph), _) => {
                group.set_role(ph, Role::Member);
                None
            }
        };
        let mut out = NodeBuilder::new("participant").attr("jid", jid);
        if let Some((code, expiration)) = add_request.take() {
            out = out.children([NodeBuilder::new("add_request").attr("code", code).attr("expiration", expiration.to_string()).build()]);
        }
        match code {
            Some(c) => out = out.attr("error", c),
            None => {
                if let Some(ph) = phone {
                    changed.push(ph);
                }
            }
        }
        results.push(out.build());
    }
    let reply = result(iq, vec![NodeBuilder::new_dynamic(tag.clone()).children(results).build()]);
    if changed.is_empty() {
        return Outcome::reply(reply);
    }
    // Everyone who was or is a member hears about it: the removed learn of their removal.
    let mut recipients = before;
    for p in group.member_phones() {
        if !recipients.contains(&p) {
            recipients.push(p);
        }
    }
    let action =
        NodeBuilder::new_dynamic(tag).children(changed.iter().map(|p| NodeBuilder::new("participant").attr("jid", pn(p)).build())).build();
    let mut fanout = vec![Fanout { group_jid: group.jid(), actor: me.phone.clone(), recipients, action }];
    fanout.extend(ensure_admin(group, &me.phone));
    Outcome { reply, fanout }
}

/// A group whose last admin left gets a new one (the longest-standing member), as on WhatsApp.
fn ensure_admin(group: &mut Group, actor: &str) -> Option<Fanout> {
    if group.participants.is_empty() || group.participants.iter().any(|(_, r)| r.is_admin()) {
        return None;
    }
    let heir = group.participants[0].0.clone();
    group.set_role(&heir, Role::Admin);
    Some(Fanout {
        group_jid: group.jid(),
        actor: actor.to_owned(),
        recipients: group.member_phones(),
        action: NodeBuilder::new("promote").children([NodeBuilder::new("participant").attr("jid", pn(&heir)).build()]).build(),
    })
}

/// `<leave><group id/>…</leave>`: a `remove` notification with the leaver as actor (clients
/// read that as "left"), to the remaining members and the leaver. `<community id/>` leaves the
/// community and every group of it we are in.
fn leave(groups: &mut GroupDirectory, me: &DeviceAddr, iq: &Node, leave: &Node) -> Outcome {
    let mut ids = Vec::new();
    for c in kids(leave) {
        let Some(id) = attr(c, "id").map(|j| group_id_of(&j)) else {
            continue;
        };
        match c.tag.as_ref() {
            "group" => ids.push(id),
            "community" => {
                ids.extend(groups.linked_to(&id).map(|g| g.id.clone()));
                ids.push(id);
            }
            _ => {}
        }
    }
    let mut fanout = Vec::new();
    for id in ids {
        let Some(group) = groups.groups.get_mut(&id) else {
            continue;
        };
        if !group.is_member(&me.phone) {
            continue;
        }
        let recipients = group.member_phones();
        group.remove(&me.phone);
        fanout.push(Fanout {
            group_jid: group.jid(),
            actor: me.phone.clone(),
            recipients,
            action: participants_node("remove", std::slice::from_ref(&me.phone)),
        });
        fanout.extend(ensure_admin(group, &me.phone));
        if group.participants.is_empty() {
            groups.groups.remove(&id);
        }
    }
    Outcome { reply: result(iq, vec![]), fanout }
}

/// `<add|remove|…><participant jid/>…</…>`: the action of a membership notification.
pub(crate) fn participants_node(tag: &str, phones: &[String]) -> Node {
    NodeBuilder::new_dynamic(tag.to_owned())
        .children(phones.iter().map(|p| NodeBuilder::new("participant").attr("jid", pn(p)).build()))
        .build()
}

fn invite_code_of(node: &Node) -> Option<String> {
    attr(node, "code").filter(|c| !c.is_empty())
}

/// `<invite code/>` set on `@g.us`: join. `<group jid/>` on success; `304` already a member,
/// `410` a revoked code, `404` an unknown one.
fn accept_invite(groups: &mut GroupDirectory, me: &DeviceAddr, iq: &Node, invite: &Node) -> Outcome {
    let Some(code) = invite_code_of(invite) else {
        return Outcome::reply(error(iq, 400, "bad-request"));
    };
    let Some(id) = groups.by_code(&code).map(|g| g.id.clone()) else {
        let gone = groups.revoked_codes.contains_key(&code);
        return Outcome::reply(if gone { error(iq, 410, "gone") } else { error(iq, 404, "item-not-found") });
    };
    let Some(group) = groups.groups.get_mut(&id) else {
        return Outcome::reply(error(iq, 404, "item-not-found"));
    };
    if group.is_member(&me.phone) {
        return Outcome::reply(error(iq, 304, "already-member"));
    }
    if group.join_approval {
        // Waits for an admin (membership_requests_action); asking twice is one request.
        if !group.join_requests.iter().any(|(p, _)| *p == me.phone) {
            group.join_requests.push((me.phone.clone(), unix_now()));
        }
        return Outcome::reply(result(iq, vec![NodeBuilder::new("membership_approval_request").attr("jid", group.jid()).build()]));
    }
    group.participants.push((me.phone.clone(), Role::Member));
    let action = NodeBuilder::new("add")
        .attr("reason", "invite")
        .children([NodeBuilder::new("participant").attr("jid", pn(&me.phone)).build()])
        .build();
    let jid = group.jid();
    let mut fanout = vec![Fanout { group_jid: jid.clone(), actor: me.phone.clone(), recipients: group.member_phones(), action }];
    // Joining a community is joining its announcements group too.
    fanout.extend(communities::mirror_membership(groups, &id, "add", std::slice::from_ref(&me.phone), &me.phone));
    Outcome { reply: result(iq, vec![NodeBuilder::new("group").attr("jid", jid).build()]), fanout }
}

/// How long an add request (group invite message) stays valid: three days, as on WhatsApp.
const V4_INVITE_TTL_SECS: u64 = 3 * 24 * 60 * 60;

/// `<accept code expiration admin/>` to a group: joins with an add request's code
/// (`groupAcceptInviteV4`); a wrong, revoked or expired code is `404` / `410`.
fn accept_invite_v4(group: &mut Group, me: &DeviceAddr, iq: &Node, accept: &Node) -> Outcome {
    let code = attr(accept, "code").unwrap_or_default();
    if group.is_member(&me.phone) {
        return Outcome::reply(error(iq, 304, "already-member"));
    }
    let Some(at) = group.v4_invites.iter().position(|(p, c, _)| *p == me.phone && *c == code) else {
        return Outcome::reply(error(iq, 404, "item-not-found"));
    };
    let (_, _, expiration) = group.v4_invites.remove(at);
    if expiration < unix_now() {
        return Outcome::reply(error(iq, 410, "gone"));
    }
    group.participants.push((me.phone.clone(), Role::Member));
    let action = NodeBuilder::new("add")
        .attr("reason", "invite")
        .children([NodeBuilder::new("participant").attr("jid", pn(&me.phone)).build()])
        .build();
    Outcome {
        reply: result(iq, vec![NodeBuilder::new("group").attr("jid", group.jid()).build()]),
        fanout: vec![Fanout { group_jid: group.jid(), actor: me.phone.clone(), recipients: group.member_phones(), action }],
    }
}

/// `<revoke><participant jid/></revoke>`: an admin withdraws add requests
/// (`groupRevokeInviteV4`); each participant is echoed, `404` where there was none.
fn revoke_invites_v4(dir: &Directory, group: &mut Group, my_role: Role, iq: &Node, revoke: &Node) -> Outcome {
    if !my_role.is_admin() {
        return Outcome::reply(error(iq, 403, "forbidden"));
    }
    let mut results = Vec::new();
    for p in kids(revoke).iter().filter(|c| c.tag == "participant") {
        let Some(jid) = attr(p, "jid") else { continue };
        let phone = phone_of(dir, &jid);
        let before = group.v4_invites.len();
        group.v4_invites.retain(|(ph, _, _)| Some(ph) != phone.as_ref());
        let mut out = NodeBuilder::new("participant").attr("jid", jid);
        if group.v4_invites.len() == before {
            out = out.attr("error", "404");
        }
        results.push(out.build());
    }
    Outcome::reply(result(iq, vec![NodeBuilder::new("revoke").children(results).build()]))
}

/// `<invite code/>` get on `@g.us`: the group's metadata, for anyone holding the code.
fn invite_info(groups: &GroupDirectory, iq: &Node, invite: &Node) -> Outcome {
    let Some(code) = invite_code_of(invite) else {
        return Outcome::reply(error(iq, 400, "bad-request"));
    };
    match groups.by_code(&code) {
        Some(g) => Outcome::reply(result(iq, vec![g.to_node()])),
        None if groups.revoked_codes.contains_key(&code) => Outcome::reply(error(iq, 410, "gone")),
        None => Outcome::reply(error(iq, 404, "item-not-found")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iq(kind: &str, to: &str, child: Node) -> Node {
        NodeBuilder::new("iq")
            .attr("id", "q1")
            .attr("type", kind.to_owned())
            .attr("xmlns", "w:g2")
            .attr("to", to.to_owned())
            .children([child])
            .build()
    }

    fn participants(tag: &str, jids: &[String]) -> Node {
        NodeBuilder::new_dynamic(tag.to_owned())
            .children(jids.iter().map(|j| NodeBuilder::new("participant").attr("jid", j.clone()).build()))
            .build()
    }

    fn me(dir: &mut Directory, name: &str) -> DeviceAddr {
        let acc = dir.account_for_name(name);
        DeviceAddr { phone: acc.phone.clone(), device: 1 }
    }

    fn err_code(n: &Node) -> Option<String> {
        n.get_optional_child("error").and_then(|e| attr(e, "code"))
    }

    #[test]
    fn create_permissions_and_per_participant_codes() {
        let mut dir = Directory::default();
        let mut groups = GroupDirectory::default();
        let (a, b, c) = (me(&mut dir, "ga"), me(&mut dir, "gb"), me(&mut dir, "gc"));
        let create = NodeBuilder::new("create")
            .attr("subject", "club")
            .children([
                NodeBuilder::new("participant").attr("jid", pn(&b.phone)).build(),
                NodeBuilder::new("participant").attr("jid", "19990000000@s.whatsapp.net").build(),
            ])
            .build();
        let out = dispatch(&dir, &mut groups, &HashSet::new(), &a, &iq("set", "@g.us", create));
        let g = out.reply.get_optional_child("group").expect("group node");
        let id = attr(g, "id").unwrap();
        let gjid = format!("{id}@g.us");
        assert_eq!(kids(g).iter().filter(|c| c.tag == "participant").count(), 2, "unknown number left out");
        assert_eq!(out.fanout.len(), 1);
        assert_eq!(out.fanout[0].action.tag, "create");

        // A non-admin may not add; a non-member may not even look.
        let add_c = participants("add", &[pn(&c.phone)]);
        assert_eq!(
            err_code(&dispatch(&dir, &mut groups, &HashSet::new(), &b, &iq("set", &gjid, add_c.clone())).reply).as_deref(),
            Some("403")
        );
        assert_eq!(
            err_code(&dispatch(&dir, &mut groups, &HashSet::new(), &c, &iq("get", &gjid, NodeBuilder::new("query").build())).reply)
                .as_deref(),
            Some("401")
        );
        // The admin adds: 200 for c, 409 for b (already in), 404 for a stranger.
        let add = participants("add", &[pn(&c.phone), pn(&b.phone), "19990000000@s.whatsapp.net".into()]);
        let out = dispatch(&dir, &mut groups, &HashSet::new(), &a, &iq("set", &gjid, add));
        let codes: Vec<Option<String>> = kids(out.reply.get_optional_child("add").unwrap()).iter().map(|p| attr(p, "error")).collect();
        assert_eq!(codes, vec![None, Some("409".into()), Some("404".into())]);
        assert_eq!(out.fanout[0].recipients.len(), 3);

        // Promote b; b cannot remove the creator (403) but can remove c, who hears about it.
        dispatch(&dir, &mut groups, &HashSet::new(), &a, &iq("set", &gjid, participants("promote", &[pn(&b.phone)])));
        let out =
            dispatch(&dir, &mut groups, &HashSet::new(), &b, &iq("set", &gjid, participants("remove", &[pn(&a.phone), pn(&c.phone)])));
        let codes: Vec<Option<String>> = kids(out.reply.get_optional_child("remove").unwrap()).iter().map(|p| attr(p, "error")).collect();
        assert_eq!(codes, vec![Some("403".into()), None]);
        assert!(out.fanout[0].recipients.contains(&c.phone), "the removed participant is told");
        assert!(!groups.get(&id).unwrap().is_member(&c.phone));
    }

    #[test]
    fn settings_description_and_invites() {
        let mut dir = Directory::default();
        let mut groups = GroupDirectory::default();
        let (a, b) = (me(&mut dir, "sa"), me(&mut dir, "sb"));
        let create = NodeBuilder::new("create").attr("subject", "s").build();
        let out = dispatch(&dir, &mut groups, &HashSet::new(), &a, &iq("set", "@g.us", create));
        let id = attr(out.reply.get_optional_child("group").unwrap(), "id").unwrap();
        let gjid = format!("{id}@g.us");

        // Invite: code, join, revoke → the old code is gone (410).
        let out = dispatch(&dir, &mut groups, &HashSet::new(), &a, &iq("get", &gjid, NodeBuilder::new("invite").build()));
        let code = attr(out.reply.get_optional_child("invite").unwrap(), "code").unwrap();
        let invite = NodeBuilder::new("invite").attr("code", code.clone()).build();
        let info = dispatch(&dir, &mut groups, &HashSet::new(), &b, &iq("get", "@g.us", invite.clone()));
        assert_eq!(attr(info.reply.get_optional_child("group").unwrap(), "subject").as_deref(), Some("s"));
        let joined = dispatch(&dir, &mut groups, &HashSet::new(), &b, &iq("set", "@g.us", invite.clone()));
        assert_eq!(attr(joined.reply.get_optional_child("group").unwrap(), "jid"), Some(gjid.clone()));
        assert_eq!(attr(&joined.fanout[0].action, "reason").as_deref(), Some("invite"));
        assert_eq!(
            err_code(&dispatch(&dir, &mut groups, &HashSet::new(), &b, &iq("set", "@g.us", invite.clone())).reply).as_deref(),
            Some("304")
        );
        dispatch(&dir, &mut groups, &HashSet::new(), &a, &iq("set", &gjid, NodeBuilder::new("invite").build()));
        assert_eq!(err_code(&dispatch(&dir, &mut groups, &HashSet::new(), &b, &iq("get", "@g.us", invite)).reply).as_deref(), Some("410"));

        // Settings are admin-only; locked info is admin-only too.
        let ann = NodeBuilder::new("announcement").build();
        assert_eq!(
            err_code(&dispatch(&dir, &mut groups, &HashSet::new(), &b, &iq("set", &gjid, ann.clone())).reply).as_deref(),
            Some("403")
        );
        assert!(dispatch(&dir, &mut groups, &HashSet::new(), &a, &iq("set", &gjid, ann)).fanout.len() == 1);
        dispatch(&dir, &mut groups, &HashSet::new(), &a, &iq("set", &gjid, NodeBuilder::new("locked").build()));
        let subj = NodeBuilder::new("subject").bytes(b"new".to_vec()).build();
        assert_eq!(
            err_code(&dispatch(&dir, &mut groups, &HashSet::new(), &b, &iq("set", &gjid, subj.clone())).reply).as_deref(),
            Some("403")
        );
        dispatch(&dir, &mut groups, &HashSet::new(), &a, &iq("set", &gjid, subj));
        let g = groups.get(&id).unwrap();
        assert!(g.announce && g.locked);
        assert_eq!(g.subject, "new");

        // Description: prev must name the current one.
        let desc = |id: &str, prev: Option<&str>, body: &str| {
            let mut d = NodeBuilder::new("description").attr("id", id.to_owned());
            if let Some(p) = prev {
                d = d.attr("prev", p.to_owned());
            }
            d.children([NodeBuilder::new("body").bytes(body.as_bytes().to_vec()).build()]).build()
        };
        dispatch(&dir, &mut groups, &HashSet::new(), &a, &iq("set", &gjid, desc("D1", None, "one")));
        assert_eq!(
            err_code(&dispatch(&dir, &mut groups, &HashSet::new(), &a, &iq("set", &gjid, desc("D2", None, "two"))).reply).as_deref(),
            Some("409")
        );
        dispatch(&dir, &mut groups, &HashSet::new(), &a, &iq("set", &gjid, desc("D2", Some("D1"), "two")));
        assert_eq!(groups.get(&id).unwrap().description.as_ref().map(|d| d.body.as_str()), Some("two"));

        // The creator leaves: b inherits admin.
        let leave = NodeBuilder::new("leave").children([NodeBuilder::new("group").attr("id", gjid.clone()).build()]).build();
        let out = dispatch(&dir, &mut groups, &HashSet::new(), &a, &iq("set", "@g.us", leave));
        assert_eq!(out.fanout.len(), 2);
        assert_eq!(groups.get(&id).unwrap().role_of(&b.phone), Some(Role::Admin));
    }
}
