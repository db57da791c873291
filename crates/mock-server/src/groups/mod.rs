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
//!
//! The groups themselves are in [`model`], creating, joining and leaving them in
//! [`membership`], what communities add in [`communities`]; this module answers the iqs and
//! delivers the notifications.

pub mod communities;
mod membership;
pub mod model;

use std::collections::HashSet;
use std::sync::Mutex;

use wacore_binary::builder::NodeBuilder;
use wacore_binary::Node;

use crate::accounts::{ConnSender, Directory, Outbound};
use crate::clock::unix_now;
use crate::jid::DeviceAddr;
use crate::locking::lock;
use crate::profile::ProfileDirectory;
use crate::router::Router;
use crate::stanza::{attr, error, kids, result};

use membership::{accept_invite, accept_invite_v4, create, invite_info, leave, participants_change, phone_of, revoke_invites_v4};
use model::{content_text, group_id_of, new_code, new_stanza_id, pn, Outcome};
pub use model::{CommunityPart, Description, Fanout, Group, GroupDirectory, LinkedKind, Role, GROUP_SERVER};

/// What groups need of the server: its accounts, the router to notify members through, the
/// profiles (group-add privacy) and the groups themselves.
pub trait GroupsState {
    fn directory(&self) -> &Mutex<Directory>;
    fn router(&self) -> &Mutex<Router>;
    fn profiles(&self) -> &Mutex<ProfileDirectory>;
    fn groups(&self) -> &Mutex<GroupDirectory>;
}

/// `<iq xmlns="w:g2">` from a logged-in device: the result goes to the requester first, then
/// the `w:gp2` notifications to every member device (live or queued).
pub fn handle_iq(state: &impl GroupsState, me: &DeviceAddr, tx: &ConnSender, iq: &Node) -> bool {
    let outcome = {
        // Who may only be invited (group-add privacy other than "all"); read before the
        // directory and group locks are taken.
        let invite_only = lock(state.profiles()).phones_without_privacy("groupadd", "all");
        let dir = lock(state.directory());
        let mut groups = lock(state.groups());
        dispatch(&dir, &mut groups, &invite_only, me, iq)
    };
    if tx.send(Outbound::Node(outcome.reply)).is_err() {
        return false;
    }
    if !outcome.fanout.is_empty() {
        let dir = lock(state.directory());
        let mut router = lock(state.router());
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
            let mut rejected = Vec::new();
            for p in kids(decision) {
                let jid = attr(p, "jid").unwrap_or_default();
                let phone = phone_of(dir, &jid);
                let pending = phone.as_ref().and_then(|ph| group.join_requests.iter().position(|(r, _)| r == ph));
                let mut node = NodeBuilder::new("participant").attr("jid", jid.clone());
                match (pending, phone) {
                    (Some(i), Some(phone)) => {
                        group.join_requests.remove(i);
                        let participant = NodeBuilder::new("participant").attr("jid", pn(&phone)).build();
                        if approve {
                            group.participants.push((phone.clone(), Role::Member));
                            added.push(participant);
                        } else {
                            rejected.push(participant);
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
            if !rejected.is_empty() {
                // The admins learn that the requests are gone (`revoked_membership_requests`).
                let action = NodeBuilder::new("revoked_membership_requests").children(rejected).build();
                fanout.push(Fanout { group_jid: group.jid(), actor: me.phone.clone(), recipients: group.admin_phones(), action });
            }
            if let Some(approved) = fanout.first().filter(|_| approve).map(Fanout::participant_phones) {
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
