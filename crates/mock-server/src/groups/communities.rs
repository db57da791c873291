//! Communities: a community is a parent group (`<parent>` in its `<group>` node) with groups
//! linked to it (`<linked_parent jid>`): the announcements group the server makes with it
//! (`<default_sub_group>`: only admins post, every community member is in it), a general chat
//! when the creator asks for one (`<general_chat>`), and groups created inside it. The same
//! `w:g2` requests as for groups act on them (the `groups` module); what differs is here: creating one,
//! where a new group stands, and the parent's membership reaching its announcements group.
//! Leaving a community (`<leave><community id/>`) leaves every group of it (`membership::leave`).

use wacore_binary::Node;

use super::model::{group_id_of, participants_node, CommunityPart, Fanout, Group, GroupDirectory, LinkedKind, Role};
use crate::jid::DeviceAddr;
use crate::stanza::{attr, kids};

/// Where a group made by `<create>` stands: a community (`<parent>`), a group of one
/// (`<linked_parent jid>`, only for its admins unless the community lets every member), or
/// neither. `Err` is the error code: `404` no such community, `403` not allowed.
pub fn part_of_new_group(groups: &GroupDirectory, me: &DeviceAddr, create: &Node) -> Result<CommunityPart, u16> {
    let has = |tag: &str| kids(create).iter().any(|c| c.tag == tag);
    if let Some(linked) = kids(create).iter().find(|c| c.tag == "linked_parent") {
        let parent_id = group_id_of(&attr(linked, "jid").unwrap_or_default());
        let parent = groups.get(&parent_id).ok_or(404u16)?;
        let CommunityPart::Parent { non_admin_subgroups, .. } = parent.community else {
            return Err(404);
        };
        match parent.role_of(&me.phone) {
            Some(role) if role.is_admin() || non_admin_subgroups => {}
            _ => return Err(403),
        }
        return Ok(CommunityPart::Linked { parent: parent_id, kind: LinkedKind::Subgroup });
    }
    let Some(parent) = kids(create).iter().find(|c| c.tag == "parent") else {
        return Ok(CommunityPart::None);
    };
    Ok(CommunityPart::Parent {
        closed: attr(parent, "default_membership_approval_mode").as_deref() == Some("request_required"),
        non_admin_subgroups: has("allow_non_admin_sub_group_creation"),
    })
}

/// The groups the server makes with a new community: its announcements group (same subject,
/// same members, only admins post) and, with `<create_general_chat>`, a general chat.
pub fn create_linked_groups(groups: &mut GroupDirectory, community: &Group, create: &Node, now: u64) -> Vec<Group> {
    let mut made = Vec::new();
    let wants_general = kids(create).iter().any(|c| c.tag == "create_general_chat");
    for (kind, subject) in [(LinkedKind::Announcements, community.subject.clone()), (LinkedKind::General, "General".to_owned())] {
        if kind == LinkedKind::General && !wants_general {
            continue;
        }
        let mut group = Group::new(groups.new_id(), subject, &community.creator, now);
        group.participants = community.participants.clone();
        group.announce = kind == LinkedKind::Announcements;
        group.community = CommunityPart::Linked { parent: community.id.clone(), kind };
        groups.insert(group.clone());
        made.push(group);
    }
    made
}

/// Members added to (`add`) or removed from (`remove`) the community `parent_id` are added to
/// or removed from its announcements group too: the notifications for that group. Nothing for
/// other actions or for a group that is not a community.
pub fn mirror_membership(groups: &mut GroupDirectory, parent_id: &str, action: &str, phones: &[String], actor: &str) -> Vec<Fanout> {
    if action != "add" && action != "remove" {
        return Vec::new();
    }
    let Some(announcements) = groups
        .linked_to(parent_id)
        .find(|g| matches!(g.community, CommunityPart::Linked { kind: LinkedKind::Announcements, .. }))
        .map(|g| g.id.clone())
    else {
        return Vec::new();
    };
    let Some(group) = groups.get_mut(&announcements) else {
        return Vec::new();
    };
    let before = group.member_phones();
    let changed: Vec<String> = phones.iter().filter(|p| group.is_member(p) == (action == "remove")).cloned().collect();
    if changed.is_empty() {
        return Vec::new();
    }
    for phone in &changed {
        if action == "add" {
            group.participants.push((phone.clone(), Role::Member));
        } else {
            group.remove(phone);
        }
    }
    // Those who were and those who are members: the removed learn of their removal.
    let mut recipients = before;
    for p in group.member_phones() {
        if !recipients.contains(&p) {
            recipients.push(p);
        }
    }
    vec![Fanout { group_jid: group.jid(), actor: actor.to_owned(), recipients, action: participants_node(action, &changed) }]
}
