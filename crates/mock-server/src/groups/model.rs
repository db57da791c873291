//! The groups the server keeps: a [`Group`] (subject, description, settings, members and their
//! [`Role`]s, invite codes, community links) and the [`GroupDirectory`] of them all, with the
//! small helpers the `w:g2` handlers and communities share to name groups and members and to
//! describe a change ([`Fanout`], [`Outcome`]), and where a group stands in a community
//! ([`CommunityPart`]). Plain data: no locks, no delivery.

use std::collections::{BTreeMap, HashMap};

use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Node, NodeContent};

use crate::jid::split_jid;
use crate::stanza::{attr, kids};

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

    pub(super) fn wire(self) -> Option<&'static str> {
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

    /// The admins' phones (join requests are told to them only).
    pub fn admin_phones(&self) -> Vec<String> {
        self.participants.iter().filter(|(_, r)| r.is_admin()).map(|(p, _)| p.clone()).collect()
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
    pub(super) groups: BTreeMap<String, Group>,
    /// Invite codes that were revoked → their group (joining with one is `410 gone`).
    pub(super) revoked_codes: HashMap<String, String>,
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

    pub(super) fn by_code(&self, code: &str) -> Option<&Group> {
        self.groups.values().find(|g| g.invite_code == code)
    }
}

pub(crate) fn pn(phone: &str) -> String {
    format!("{phone}@s.whatsapp.net")
}

pub(super) fn new_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..22).map(|_| ALPHABET[rand::random::<u32>() as usize % ALPHABET.len()] as char).collect()
}

pub(super) fn new_stanza_id() -> String {
    format!("{:020X}", rand::random::<u128>() >> 48)
}

pub(super) fn content_text(node: &Node) -> Option<String> {
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
    pub(super) fn participant_phones(&self) -> Vec<String> {
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

/// `<add|remove|…><participant jid/>…</…>`: the action of a membership notification.
pub(crate) fn participants_node(tag: &str, phones: &[String]) -> Node {
    NodeBuilder::new_dynamic(tag.to_owned())
        .children(phones.iter().map(|p| NodeBuilder::new("participant").attr("jid", pn(p)).build()))
        .build()
}

/// Where a group stands in a community.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CommunityPart {
    /// A plain group.
    #[default]
    None,
    /// The community itself (its parent group).
    Parent {
        /// Joining needs an admin's approval (`default_membership_approval_mode`).
        closed: bool,
        /// Members who are not admins may create groups in it.
        non_admin_subgroups: bool,
    },
    /// A group of the community whose parent group is `parent` (user part of its jid).
    Linked { parent: String, kind: LinkedKind },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkedKind {
    /// The announcements group made with the community.
    Announcements,
    /// The general chat made with the community when asked.
    General,
    /// A group created in (or linked to) the community.
    Subgroup,
}

impl CommunityPart {
    pub fn parent_id(&self) -> Option<&str> {
        match self {
            CommunityPart::Linked { parent, .. } => Some(parent),
            _ => None,
        }
    }

    /// The children of the `<group>` node that say where the group stands, as WhatsApp writes
    /// them (and both clients read them: `isCommunity`, `linkedParent`, `isCommunityAnnounce`).
    pub fn nodes(&self) -> Vec<Node> {
        match self {
            CommunityPart::None => Vec::new(),
            CommunityPart::Parent { closed, non_admin_subgroups } => {
                let mut parent = NodeBuilder::new("parent");
                if *closed {
                    parent = parent.attr("default_membership_approval_mode", "request_required");
                }
                let mut nodes = vec![parent.build()];
                if *non_admin_subgroups {
                    nodes.push(NodeBuilder::new("allow_non_admin_sub_group_creation").build());
                }
                nodes
            }
            CommunityPart::Linked { parent, kind } => {
                let mut nodes = vec![NodeBuilder::new("linked_parent").attr("jid", format!("{parent}@g.us")).build()];
                match kind {
                    LinkedKind::Announcements => nodes.push(NodeBuilder::new("default_sub_group").build()),
                    LinkedKind::General => nodes.push(NodeBuilder::new("general_chat").build()),
                    LinkedKind::Subgroup => {}
                }
                nodes
            }
        }
    }
}
