//! Creating, joining and leaving groups, and changing who is in them: `<create>`,
//! `<add|remove|promote|demote>`, `<leave>`, invite codes and add requests (invites v4). Each
//! returns the requester's reply and the notifications its members get ([`Outcome`]).

use std::collections::HashSet;

use wacore_binary::builder::NodeBuilder;
use wacore_binary::Node;

use super::communities;
use super::model::{
    content_text, group_id_of, new_code, new_stanza_id, participants_node, pn, CommunityPart, Description, Fanout, Group, GroupDirectory,
    Outcome, Role,
};
use crate::accounts::{resolve_jid, Directory};
use crate::clock::unix_now;
use crate::jid::DeviceAddr;
use crate::stanza::{attr, error, kids, result};

/// Resolves a participant JID (PN or LID, device part ignored) to an account's phone.
pub(super) fn phone_of(dir: &Directory, jid: &str) -> Option<String> {
    resolve_jid(dir, jid).map(|(phone, _, _)| phone)
}

pub(super) fn create(dir: &Directory, groups: &mut GroupDirectory, me: &DeviceAddr, iq: &Node, create: &Node) -> Outcome {
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
pub(super) fn participants_change(
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
pub(super) fn leave(groups: &mut GroupDirectory, me: &DeviceAddr, iq: &Node, leave: &Node) -> Outcome {
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

fn invite_code_of(node: &Node) -> Option<String> {
    attr(node, "code").filter(|c| !c.is_empty())
}

/// `<invite code/>` set on `@g.us`: join. `<group jid/>` on success; `304` already a member,
/// `410` a revoked code, `404` an unknown one.
pub(super) fn accept_invite(groups: &mut GroupDirectory, me: &DeviceAddr, iq: &Node, invite: &Node) -> Outcome {
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
        let reply = result(iq, vec![NodeBuilder::new("membership_approval_request").attr("jid", group.jid()).build()]);
        if group.join_requests.iter().any(|(p, _)| *p == me.phone) {
            return Outcome::reply(reply);
        }
        group.join_requests.push((me.phone.clone(), unix_now()));
        // The admins are told, as WhatsApp tells them (`created_membership_requests`).
        let action = NodeBuilder::new("created_membership_requests")
            .attr("request_method", "invite_link")
            .children([NodeBuilder::new("requested_user").attr("jid", pn(&me.phone)).build()])
            .build();
        let fanout = vec![Fanout { group_jid: group.jid(), actor: me.phone.clone(), recipients: group.admin_phones(), action }];
        return Outcome { reply, fanout };
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
pub(super) fn accept_invite_v4(group: &mut Group, me: &DeviceAddr, iq: &Node, accept: &Node) -> Outcome {
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
pub(super) fn revoke_invites_v4(dir: &Directory, group: &mut Group, my_role: Role, iq: &Node, revoke: &Node) -> Outcome {
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
pub(super) fn invite_info(groups: &GroupDirectory, iq: &Node, invite: &Node) -> Outcome {
    let Some(code) = invite_code_of(invite) else {
        return Outcome::reply(error(iq, 400, "bad-request"));
    };
    match groups.by_code(&code) {
        Some(g) => Outcome::reply(result(iq, vec![g.to_node()])),
        None if groups.revoked_codes.contains_key(&code) => Outcome::reply(error(iq, 410, "gone")),
        None => Outcome::reply(error(iq, 404, "item-not-found")),
    }
}
