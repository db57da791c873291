//! Baileys' group events from the engine's `Event::GroupUpdate` (one per action of a `w:gp2`
//! notification), as Baileys 6.7.21 derives them: `handleGroupNotification` turns the
//! notification into a stub message (upserted as `messages.upsert` `append`), then
//! `processMessage` turns the stub into `group-participants.update` / `groups.update` /
//! `group.join-request`;
//! a `create` also gives `chats.upsert` and `groups.upsert`, an ephemeral change a
//! `protocolMessage` and `chats.update`.

use wacore::stanza::groups::{GroupNotificationAction, GroupParticipantInfo, MembershipRequestMethod};
use wacore::types::events::GroupUpdate;

use crate::baileys_events::messages_upsert;
use crate::baileys_value::BValue;
use crate::group_ops::metadata_of_create_node;
use crate::shard::Shard;
use crate::wa_message::UpsertType;

/// `proto.WebMessageInfo.StubType` values Baileys gives group notifications.
mod stub {
    pub const GROUP_CREATE: i64 = 20;
    pub const GROUP_CHANGE_SUBJECT: i64 = 21;
    pub const GROUP_CHANGE_INVITE_LINK: i64 = 23;
    pub const GROUP_CHANGE_DESCRIPTION: i64 = 24;
    pub const GROUP_CHANGE_RESTRICT: i64 = 25;
    pub const GROUP_CHANGE_ANNOUNCE: i64 = 26;
    pub const GROUP_PARTICIPANT_ADD: i64 = 27;
    pub const GROUP_PARTICIPANT_REMOVE: i64 = 28;
    pub const GROUP_PARTICIPANT_PROMOTE: i64 = 29;
    pub const GROUP_PARTICIPANT_DEMOTE: i64 = 30;
    pub const GROUP_PARTICIPANT_LEAVE: i64 = 32;
    pub const GROUP_PARTICIPANT_CHANGE_NUMBER: i64 = 33;
    pub const GROUP_MEMBERSHIP_JOIN_APPROVAL_MODE: i64 = 145;
    pub const GROUP_MEMBER_ADD_MODE: i64 = 171;
    pub const GROUP_MEMBERSHIP_JOIN_APPROVAL_REQUEST_NON_ADMIN_ADD: i64 = 172;
}

/// `proto.Message.ProtocolMessage.Type.EPHEMERAL_SETTING`.
const EPHEMERAL_SETTING: i64 = 3;

/// Baileys' `areJidsSameUser`.
fn same_user(a: &str, b: &str) -> bool {
    let user = |j: &str| j.split(['@', ':']).next().unwrap_or_default().to_owned();
    !a.is_empty() && user(a) == user(b)
}

/// What a notification says, before it becomes events.
struct Stub {
    stub_type: Option<i64>,
    params: Vec<String>,
    message: Option<BValue>,
    /// Overrides the key's `participant` (a `create` names the group's owner there).
    key_participant: Option<String>,
}

impl Stub {
    fn new(stub_type: i64, params: Vec<String>) -> Self {
        Stub { stub_type: Some(stub_type), params, message: None, key_participant: None }
    }
}

fn jids(participants: &[GroupParticipantInfo]) -> Vec<String> {
    participants.iter().map(|p| p.jid.to_string()).collect()
}

/// A join request's `request_method` as WhatsApp writes it.
fn request_method(method: &MembershipRequestMethod) -> &'static str {
    match method {
        MembershipRequestMethod::InviteLink => "invite_link",
        MembershipRequestMethod::LinkedGroupJoin => "linked_group_join",
        MembershipRequestMethod::NonAdminAdd => "non_admin_add",
    }
}

fn on_off(on: bool) -> String {
    if on { "on" } else { "off" }.to_owned()
}

/// The Baileys events for one group notification action, in the order Baileys emits them.
/// `me` are our own jids (phone number, LID), to tell whether we did it (`key.fromMe`).
pub fn from_group_update(u: &GroupUpdate, me: &[String]) -> Vec<(&'static str, BValue)> {
    let group = u.group_jid.to_string();
    let author = u.participant.as_ref().map(|p| p.to_string());
    let timestamp = u.timestamp.timestamp();
    let mut events = Vec::new();
    let author_value = || author.clone().map(BValue::String);
    let group_update = |fields: Vec<(&str, BValue)>| {
        let mut update = BValue::obj([("id", BValue::String(group.clone()))]);
        for (k, v) in fields {
            update.set(k, v);
        }
        if let Some(a) = author_value() {
            update.set("author", a);
        }
        ("groups.update", BValue::Array(vec![update]))
    };
    let participants_update = |participants: Vec<String>, action: &str| {
        let mut update = BValue::obj([("id", BValue::String(group.clone()))]);
        if let Some(a) = author_value() {
            update.set("author", a);
        }
        update.set("participants", BValue::Array(participants.into_iter().map(BValue::String).collect()));
        update.set("action", BValue::str(action));
        ("group-participants.update", update)
    };
    let mut derived = Vec::new();
    let stub = match &u.action {
        GroupNotificationAction::Create { raw } => {
            let Some(meta) = metadata_of_create_node(raw) else {
                return events;
            };
            let subject = meta.get("subject").and_then(BValue::as_str).unwrap_or_default().to_owned();
            let mut chat =
                BValue::obj([("id", meta.get("id").cloned().unwrap_or(BValue::Null)), ("name", BValue::String(subject.clone()))]);
            if let Some(creation) = meta.get("creation") {
                chat.set("conversationTimestamp", creation.clone());
            }
            events.push(("chats.upsert", BValue::Array(vec![chat])));
            let owner = meta.get("owner").and_then(BValue::as_str).map(str::to_owned);
            let mut upserted = meta;
            if let Some(a) = author_value() {
                upserted.set("author", a);
            }
            events.push(("groups.upsert", BValue::Array(vec![upserted])));
            Stub { key_participant: owner, ..Stub::new(stub::GROUP_CREATE, vec![subject]) }
        }
        GroupNotificationAction::Add { participants, .. } => {
            derived.push(participants_update(jids(participants), "add"));
            Stub::new(stub::GROUP_PARTICIPANT_ADD, jids(participants))
        }
        GroupNotificationAction::Remove { participants, .. } => {
            let removed = jids(participants);
            // Someone removing only themself left the group.
            let left = removed.len() == 1 && author.as_deref().is_some_and(|a| same_user(&removed[0], a));
            derived.push(participants_update(removed.clone(), "remove"));
            Stub::new(if left { stub::GROUP_PARTICIPANT_LEAVE } else { stub::GROUP_PARTICIPANT_REMOVE }, removed)
        }
        GroupNotificationAction::Promote { participants } => {
            derived.push(participants_update(jids(participants), "promote"));
            Stub::new(stub::GROUP_PARTICIPANT_PROMOTE, jids(participants))
        }
        GroupNotificationAction::Demote { participants } => {
            derived.push(participants_update(jids(participants), "demote"));
            Stub::new(stub::GROUP_PARTICIPANT_DEMOTE, jids(participants))
        }
        GroupNotificationAction::Modify { participants } => {
            derived.push(participants_update(jids(participants), "modify"));
            Stub::new(stub::GROUP_PARTICIPANT_CHANGE_NUMBER, jids(participants))
        }
        GroupNotificationAction::Subject { subject, .. } => {
            derived.push(group_update(vec![("subject", BValue::String(subject.clone()))]));
            Stub::new(stub::GROUP_CHANGE_SUBJECT, vec![subject.clone()])
        }
        GroupNotificationAction::Description { description, .. } => {
            let desc = description.clone().filter(|d| !d.is_empty());
            derived.push(group_update(desc.iter().map(|d| ("desc", BValue::String(d.clone()))).collect()));
            Stub::new(stub::GROUP_CHANGE_DESCRIPTION, desc.into_iter().collect())
        }
        GroupNotificationAction::Locked { .. } | GroupNotificationAction::Unlocked => {
            let on = matches!(u.action, GroupNotificationAction::Locked { .. });
            derived.push(group_update(vec![("restrict", BValue::Bool(on))]));
            Stub::new(stub::GROUP_CHANGE_RESTRICT, vec![on_off(on)])
        }
        GroupNotificationAction::Announce | GroupNotificationAction::NotAnnounce => {
            let on = matches!(u.action, GroupNotificationAction::Announce);
            derived.push(group_update(vec![("announce", BValue::Bool(on))]));
            Stub::new(stub::GROUP_CHANGE_ANNOUNCE, vec![on_off(on)])
        }
        GroupNotificationAction::Invite { code } => {
            derived.push(group_update(vec![("inviteCode", BValue::String(code.clone()))]));
            Stub::new(stub::GROUP_CHANGE_INVITE_LINK, vec![code.clone()])
        }
        GroupNotificationAction::MemberAddMode { mode } => {
            derived.push(group_update(vec![("memberAddMode", BValue::Bool(mode == "all_member_add"))]));
            Stub::new(stub::GROUP_MEMBER_ADD_MODE, vec![mode.clone()])
        }
        GroupNotificationAction::MembershipApprovalMode { enabled } => {
            derived.push(group_update(vec![("joinApprovalMode", BValue::Bool(*enabled))]));
            Stub::new(stub::GROUP_MEMBERSHIP_JOIN_APPROVAL_MODE, vec![on_off(*enabled)])
        }
        GroupNotificationAction::Ephemeral { expiration, .. } => {
            // Baileys reports the new timer on the chat, not on the group.
            let expiration_value = if *expiration == 0 { BValue::Null } else { BValue::Uint((*expiration).into()) };
            derived.push((
                "chats.update",
                BValue::Array(vec![BValue::obj([
                    ("id", BValue::String(group.clone())),
                    ("ephemeralSettingTimestamp", BValue::Int(timestamp)),
                    ("ephemeralExpiration", expiration_value),
                ])]),
            ));
            let protocol =
                BValue::obj([("type", BValue::Int(EPHEMERAL_SETTING)), ("ephemeralExpiration", BValue::Uint((*expiration).into()))]);
            Stub { stub_type: None, params: Vec::new(), message: Some(BValue::obj([("protocolMessage", protocol)])), key_participant: None }
        }
        // Join requests (to admins). Baileys names the requester from a `<participant>` child,
        // else from the notification's `participant` (the one who asked, or the admin who
        // rejected); a request withdrawn by its own requester is `revoked`, else `rejected`.
        GroupNotificationAction::CreatedMembershipRequests { request_method: method, requests, .. } => {
            let Some(requester) = author.clone().or_else(|| requests.first().map(|r| r.jid.to_string())) else {
                return events;
            };
            let method = request_method(method);
            derived.push(join_request(&group, author.as_deref(), &requester, "created", Some(method)));
            Stub::new(stub::GROUP_MEMBERSHIP_JOIN_APPROVAL_REQUEST_NON_ADMIN_ADD, vec![requester, "created".into(), method.into()])
        }
        GroupNotificationAction::RevokedMembershipRequests { participants } => {
            let Some(requester) = participants.first().map(ToString::to_string).or_else(|| author.clone()) else {
                return events;
            };
            let action = if author.as_deref().is_some_and(|a| same_user(&requester, a)) { "revoked" } else { "rejected" };
            derived.push(join_request(&group, author.as_deref(), &requester, action, None));
            Stub::new(stub::GROUP_MEMBERSHIP_JOIN_APPROVAL_REQUEST_NON_ADMIN_ADD, vec![requester, action.into()])
        }
        // Community, moderation and other notifications have no Baileys 6.7.21 event.
        _ => return events,
    };
    let from_me = author.as_deref().is_some_and(|a| me.iter().any(|m| same_user(a, m)));
    let mut key = BValue::obj([("remoteJid", BValue::String(group.clone())), ("fromMe", BValue::Bool(from_me))]);
    if let Some(p) = stub.key_participant.clone().or_else(|| author.clone()) {
        key.set("participant", BValue::String(p));
    }
    key.set("id", BValue::String(u.notification_id.clone().unwrap_or_default()));
    let mut message = BValue::obj([("key", key)]);
    if let Some(content) = stub.message {
        message.set("message", content);
    }
    message.set("messageTimestamp", BValue::Int(timestamp));
    if let Some(a) = author_value() {
        message.set("participant", a);
    }
    if let Some(stub_type) = stub.stub_type {
        message.set("messageStubType", BValue::Int(stub_type));
        message.set("messageStubParameters", BValue::Array(stub.params.into_iter().map(BValue::String).collect()));
    }
    events.push(messages_upsert(vec![message], UpsertType::Append));
    events.extend(derived);
    events
}

/// Baileys' `group.join-request` `{ id, author, participant, action, method }`.
fn join_request(group: &str, author: Option<&str>, participant: &str, action: &str, method: Option<&str>) -> (&'static str, BValue) {
    let mut request = BValue::obj([("id", BValue::str(group))]);
    if let Some(author) = author {
        request.set("author", BValue::str(author));
    }
    request.set("participant", BValue::str(participant));
    request.set("action", BValue::str(action));
    if let Some(method) = method {
        request.set("method", BValue::str(method));
    }
    ("group.join-request", request)
}

impl Shard {
    /// Reports one engine `GroupUpdate` as the Baileys events above.
    pub(crate) fn on_group_update(&self, u: &GroupUpdate) {
        let me: Vec<String> = self.user().map(|u| std::iter::once(u.id).chain(u.lid).collect()).unwrap_or_default();
        self.baileys_together(from_group_update(u, &me));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wacore::types::events::GroupUpdate;
    use wacore_binary::builder::NodeBuilder;
    use wacore_binary::Jid;

    const ALICE: &str = "15550000001@s.whatsapp.net";
    const BOB: &str = "15550000002@s.whatsapp.net";

    fn update(action: GroupNotificationAction, actor: &str) -> GroupUpdate {
        GroupUpdate::builder()
            .group_jid(Jid::group("120363000000000001"))
            .notification_id("N1".to_owned())
            .participant(actor.parse().unwrap())
            .timestamp(wacore::time::from_secs(1_700_000_000).unwrap())
            .is_lid_addressing_mode(false)
            .action(action)
            .build()
    }

    fn info(jid: &str) -> GroupParticipantInfo {
        GroupParticipantInfo {
            jid: jid.parse().unwrap(),
            phone_number: None,
            display_name: None,
            r#type: None,
            lid: None,
            username: None,
            join_time: None,
            group_history_sent_state: None,
        }
    }

    fn s(v: &str) -> BValue {
        BValue::String(v.into())
    }

    fn names(events: &[(&'static str, BValue)]) -> Vec<&'static str> {
        events.iter().map(|e| e.0).collect()
    }

    #[test]
    fn participant_changes_are_a_stub_then_group_participants_update() {
        let events = from_group_update(
            &update(GroupNotificationAction::Add { participants: vec![info(BOB)], reason: None }, ALICE),
            &[ALICE.into()],
        );
        assert_eq!(names(&events), ["messages.upsert", "group-participants.update"]);
        assert_eq!(
            events[1].1,
            BValue::obj([
                ("id", s("120363000000000001@g.us")),
                ("author", s(ALICE)),
                ("participants", BValue::Array(vec![s(BOB)])),
                ("action", s("add"))
            ])
        );
        let msg = &events[0].1.get("messages").and_then(BValue::as_array).unwrap()[0];
        assert_eq!(msg.get("messageStubType"), Some(&BValue::Int(27)));
        let key = msg.get("key").unwrap();
        assert_eq!(key.get("fromMe"), Some(&BValue::Bool(true)));
        assert_eq!(key.get("participant"), Some(&s(ALICE)));
        assert_eq!(key.get("id"), Some(&s("N1")));
        assert_eq!(events[0].1.get("type"), Some(&s("append")));
    }

    #[test]
    fn removing_oneself_is_a_leave() {
        let events = from_group_update(
            &update(GroupNotificationAction::Remove { participants: vec![info(BOB)], reason: None }, BOB),
            &[ALICE.into()],
        );
        let msg = &events[0].1.get("messages").and_then(BValue::as_array).unwrap()[0];
        assert_eq!(msg.get("messageStubType"), Some(&BValue::Int(32)));
        assert_eq!(msg.get("key").and_then(|k| k.get("fromMe")), Some(&BValue::Bool(false)));
        assert_eq!(events[1].1.get("action"), Some(&s("remove")));
    }

    #[test]
    fn settings_become_groups_update() {
        let cases = [
            (GroupNotificationAction::Subject { subject: "New".into(), subject_owner: None, subject_time: None }, "subject", s("New")),
            (GroupNotificationAction::Description { id: "D".into(), description: Some("about".into()) }, "desc", s("about")),
            (GroupNotificationAction::Locked { threshold: None }, "restrict", BValue::Bool(true)),
            (GroupNotificationAction::NotAnnounce, "announce", BValue::Bool(false)),
        ];
        for (action, field, value) in cases {
            let events = from_group_update(&update(action, ALICE), &[]);
            assert_eq!(names(&events), ["messages.upsert", "groups.update"]);
            let item = &events[1].1.as_array().unwrap()[0];
            assert_eq!(item.get(field), Some(&value), "{field}");
            assert_eq!(item.get("author"), Some(&s(ALICE)));
        }
    }

    #[test]
    fn ephemeral_is_a_protocol_message_and_a_chat_update() {
        let events = from_group_update(&update(GroupNotificationAction::Ephemeral { expiration: 86400, trigger: None }, ALICE), &[]);
        assert_eq!(names(&events), ["messages.upsert", "chats.update"]);
        let chat = &events[1].1.as_array().unwrap()[0];
        assert_eq!(chat.get("ephemeralExpiration"), Some(&BValue::Uint(86400)));
        let off = from_group_update(&update(GroupNotificationAction::Ephemeral { expiration: 0, trigger: None }, ALICE), &[]);
        assert_eq!(off[1].1.as_array().unwrap()[0].get("ephemeralExpiration"), Some(&BValue::Null));
    }

    #[test]
    fn create_gives_chats_upsert_and_groups_upsert_with_author() {
        let group = NodeBuilder::new("group")
            .attr("id", "120363000000000001")
            .attr("subject", "Team")
            .attr("creator", ALICE)
            .attr("creation", "1700000000")
            .children([NodeBuilder::new("participant").attr("jid", ALICE).attr("type", "superadmin").build()])
            .build();
        let raw = NodeBuilder::new("create").children([group]).build();
        let events = from_group_update(&update(GroupNotificationAction::Create { raw }, ALICE), &[BOB.into()]);
        assert_eq!(names(&events), ["chats.upsert", "groups.upsert", "messages.upsert"]);
        let meta = &events[1].1.as_array().unwrap()[0];
        assert_eq!(meta.get("subject"), Some(&s("Team")));
        assert_eq!(meta.get("author"), Some(&s(ALICE)));
        let msg = &events[2].1.get("messages").and_then(BValue::as_array).unwrap()[0];
        assert_eq!(msg.get("messageStubType"), Some(&BValue::Int(20)));
        assert_eq!(msg.get("messageStubParameters"), Some(&BValue::Array(vec![s("Team")])));
    }
}
