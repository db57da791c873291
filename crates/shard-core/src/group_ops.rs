//! Baileys' group calls (`groupCreate`, `groupMetadata`, `groupParticipantsUpdate`, ...) with
//! Baileys 6.7.21's arguments and results, over whatsapp-rust's `client.groups()`.
//!
//! [`baileys_group_metadata`] is the one place that builds Baileys' `GroupMetadata`; the group
//! events (`groups.upsert`) use it too. As in `socket_ops`, arguments are checked before the
//! connection (`INVALID_ARGUMENT` even on a stopped shard), a shard that is not connected gives
//! `NOT_CONNECTED`, and a request the server refuses (not an admin, unknown group, revoked
//! code, ...) is `INVALID_ARGUMENT` naming the server's code.

use std::str::FromStr;

use wacore::iq::groups::GroupInfoResponse;
use wacore_binary::{Jid, Server};
use whatsapp_rust::features::{
    GroupCreateOptions, GroupDescription, GroupError, GroupMetadata, GroupParticipantOptions, GroupSubject, JoinGroupResult, MemberAddMode,
    ParticipantChangeResponse, ParticipantType, PreviousDescription,
};

use crate::baileys_value::BValue;
use crate::content::parse_jid;
use crate::error::{ErrorCode, Result, ShardError};
use crate::group_query;
use crate::shard::Shard;
use crate::stanza_ops::iq_failure;

/// `groupParticipantsUpdate`'s `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipantAction {
    Add,
    Remove,
    Promote,
    Demote,
}

impl ParticipantAction {
    pub const ALL: [&'static str; 4] = ["add", "remove", "promote", "demote"];

    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantAction::Add => "add",
            ParticipantAction::Remove => "remove",
            ParticipantAction::Promote => "promote",
            ParticipantAction::Demote => "demote",
        }
    }
}

impl FromStr for ParticipantAction {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "add" => ParticipantAction::Add,
            "remove" => ParticipantAction::Remove,
            "promote" => ParticipantAction::Promote,
            "demote" => ParticipantAction::Demote,
            other => {
                return Err(invalid(format!(
                    "groupParticipantsUpdate: unknown action {other:?}: expected one of {}",
                    ParticipantAction::ALL.map(|a| format!("'{a}'")).join(", ")
                )))
            }
        })
    }
}

/// `groupSettingUpdate`'s `setting`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupSetting {
    /// Only admins send messages.
    Announcement,
    NotAnnouncement,
    /// Only admins edit the group's info.
    Locked,
    Unlocked,
}

impl GroupSetting {
    pub const ALL: [&'static str; 4] = ["announcement", "not_announcement", "locked", "unlocked"];
}

impl FromStr for GroupSetting {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "announcement" => GroupSetting::Announcement,
            "not_announcement" => GroupSetting::NotAnnouncement,
            "locked" => GroupSetting::Locked,
            "unlocked" => GroupSetting::Unlocked,
            other => {
                return Err(invalid(format!(
                    "groupSettingUpdate: unknown setting {other:?}: expected one of {}",
                    GroupSetting::ALL.map(|a| format!("'{a}'")).join(", ")
                )))
            }
        })
    }
}

fn invalid(message: impl Into<String>) -> ShardError {
    ShardError::new(ErrorCode::InvalidArgument, message)
}

fn opt_str(value: Option<impl ToString>) -> Option<BValue> {
    value.map(|v| BValue::String(v.to_string()))
}

fn push(fields: &mut Vec<(String, BValue)>, key: &str, value: Option<BValue>) {
    if let Some(value) = value {
        fields.push((key.to_owned(), value));
    }
}

/// Baileys' `jidNormalizedUser`: the user's jid without a device.
fn normalized(jid: &Jid) -> BValue {
    BValue::String(jid.to_non_ad_string())
}

/// Baileys 6.7.21's `GroupMetadata`, as its `extractGroupMetadata` builds it from the same
/// `<group>` node: the same keys in the same order; a key Baileys sets to `undefined` is absent.
pub fn baileys_group_metadata(meta: &GroupMetadata) -> BValue {
    let mut f: Vec<(String, BValue)> = Vec::new();
    push(&mut f, "id", Some(BValue::String(meta.id.to_string())));
    push(&mut f, "addressingMode", Some(BValue::str(meta.addressing_mode.as_str())));
    push(&mut f, "subject", Some(BValue::String(meta.subject.clone())));
    push(&mut f, "subjectOwner", opt_str(meta.subject_owner.as_ref()));
    push(&mut f, "subjectOwnerJid", opt_str(meta.subject_owner_pn.as_ref()));
    push(&mut f, "subjectTime", meta.subject_time.map(BValue::Uint));
    // Baileys counts the participants when the server sends no size.
    let size = meta.size.map(u64::from).unwrap_or(meta.participants.len() as u64);
    push(&mut f, "size", Some(BValue::Uint(size)));
    push(&mut f, "creation", meta.creation_time.map(BValue::Uint));
    push(&mut f, "owner", meta.creator.as_ref().map(normalized));
    push(&mut f, "ownerJid", meta.creator_pn.as_ref().map(normalized));
    push(&mut f, "owner_country_code", opt_str(meta.creator_country_code.as_ref()));
    if meta.description.is_some() || meta.description_id.is_some() {
        push(&mut f, "desc", opt_str(meta.description.as_ref()));
        push(&mut f, "descId", opt_str(meta.description_id.as_ref()));
        push(&mut f, "descOwner", meta.description_owner.as_ref().map(normalized));
        push(&mut f, "descOwnerJid", meta.description_owner_pn.as_ref().map(normalized));
        push(&mut f, "descTime", meta.description_time.map(BValue::Uint));
    }
    push(&mut f, "linkedParent", opt_str(meta.parent_group_jid.as_ref()));
    push(&mut f, "restrict", Some(BValue::Bool(meta.is_locked)));
    push(&mut f, "announce", Some(BValue::Bool(meta.is_announcement)));
    push(&mut f, "isCommunity", Some(BValue::Bool(meta.is_parent_group)));
    push(&mut f, "isCommunityAnnounce", Some(BValue::Bool(meta.is_default_sub_group)));
    push(&mut f, "joinApprovalMode", Some(BValue::Bool(meta.membership_approval)));
    push(&mut f, "memberAddMode", Some(BValue::Bool(meta.member_add_mode == Some(MemberAddMode::AllMemberAdd))));
    let participants = meta
        .participants
        .iter()
        .map(|p| {
            let mut entry = vec![("id".to_owned(), BValue::String(p.jid.to_string()))];
            // Baileys: `jid` is the phone-number jid (or "" when a LID member's number is
            // unknown), `lid` the LID when there is one.
            let jid = if p.jid.server == Server::Pn {
                BValue::String(p.jid.to_string())
            } else {
                p.phone_number.as_ref().map(normalized).unwrap_or_else(|| BValue::str(""))
            };
            entry.push(("jid".to_owned(), jid));
            let lid = if p.jid.server == Server::Lid { Some(&p.jid) } else { p.lid.as_ref() };
            push(&mut entry, "lid", opt_str(lid));
            let admin = match p.participant_type {
                ParticipantType::Admin => BValue::str("admin"),
                ParticipantType::SuperAdmin => BValue::str("superadmin"),
                ParticipantType::Member => BValue::Null,
            };
            entry.push(("admin".to_owned(), admin));
            BValue::Object(entry)
        })
        .collect();
    push(&mut f, "participants", Some(BValue::Array(participants)));
    push(&mut f, "ephemeralDuration", meta.ephemeral.and_then(|e| e.expiration).filter(|&e| e > 0).map(|e| BValue::Uint(e.into())));
    BValue::Object(f)
}

/// `GroupMetadata` from a `<create>` notification's `<group>` child (`None` when it has none or
/// it does not parse).
pub fn metadata_of_create_node(create: &wacore_binary::Node) -> Option<BValue> {
    let mut group = create.get_optional_child("group")?.clone();
    group_query::modes_as_strings(&mut group);
    match <GroupInfoResponse as wacore::protocol::ProtocolNode>::try_from_node(&group) {
        Ok(info) => Some(baileys_group_metadata(&GroupMetadata::from(info))),
        Err(e) => {
            log::warn!("group create notification with an unreadable <group>: {e}");
            None
        }
    }
}

/// One `groupParticipantsUpdate` result: `{ status, jid, content }`, `content` being the
/// `<participant>` node as Baileys' BinaryNode (`{ tag, attrs }`).
fn participant_result(r: &ParticipantChangeResponse) -> BValue {
    let jid = r.jid.to_string();
    let mut attrs = vec![("jid".to_owned(), BValue::String(jid.clone()))];
    push(&mut attrs, "type", opt_str(r.status.as_ref()));
    push(&mut attrs, "error", opt_str(r.error.as_ref()));
    push(&mut attrs, "phone_number", opt_str(r.phone_number.as_ref()));
    push(&mut attrs, "username", opt_str(r.username.as_ref()));
    let mut content = BValue::obj([("tag", BValue::str("participant")), ("attrs", BValue::Object(attrs))]);
    if let Some(request) = &r.add_request {
        let child = BValue::obj([
            ("tag", BValue::str("add_request")),
            (
                "attrs",
                BValue::obj([
                    ("code", BValue::String(request.code.clone())),
                    ("expiration", BValue::String(request.expiration.to_string())),
                ]),
            ),
        ]);
        content.set("content", BValue::Array(vec![child]));
    }
    BValue::obj([
        ("status", BValue::String(r.error.clone().unwrap_or_else(|| "200".to_owned()))),
        ("jid", BValue::String(jid)),
        ("content", content),
    ])
}

/// Baileys gives the bare code, the engine a `https://chat.whatsapp.com/<code>` link.
fn bare_invite_code(link: String) -> String {
    match link.strip_prefix("https://chat.whatsapp.com/") {
        Some(code) => code.to_owned(),
        None => link,
    }
}

pub(crate) fn group_jid_arg(what: &str, jid: &str) -> Result<Jid> {
    let parsed = parse_jid(jid).map_err(|e| invalid(format!("{what}: {}", e.message)))?;
    if parsed.server != Server::Group {
        return Err(invalid(format!("{what}: {jid:?} is not a group jid (\"<id>@g.us\")")));
    }
    Ok(parsed)
}

pub(crate) fn participant_jids(what: &str, participants: &[String]) -> Result<Vec<Jid>> {
    participants
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let jid = parse_jid(p).map_err(|e| invalid(format!("{what}: participants[{i}]: {}", e.message)))?;
            if !matches!(jid.server, Server::Pn | Server::Lid) {
                return Err(invalid(format!("{what}: participants[{i}] {p:?} is not a user jid (\"<number>@s.whatsapp.net\")")));
            }
            Ok(jid.to_non_ad())
        })
        .collect()
}

pub(crate) fn invite_code_arg(what: &str, code: &str) -> Result<()> {
    if code.trim().is_empty() {
        return Err(invalid(format!("{what}: the invite code must be a non-empty string")));
    }
    Ok(())
}

impl Shard {
    pub(crate) fn group_failed(&self, what: &str, e: GroupError) -> ShardError {
        let (code, why) = match e {
            GroupError::Iq(e) => return crate::stanza_ops::iq_failure(self.id(), what, &e),
            GroupError::DescriptionConflict => {
                (ErrorCode::InvalidArgument, "the description was changed by someone else meanwhile; try again".to_owned())
            }
            other => (ErrorCode::InvalidArgument, other.to_string()),
        };
        ShardError::new(code, format!("{what} failed on shard {}: {why}", self.id())).for_shard(self.id())
    }

    fn arg<T>(&self, result: Result<T>) -> Result<T> {
        result.map_err(|e| e.for_shard(self.id()))
    }

    /// Baileys' `sock.groupCreate(subject, participants)`: creates the group with us as its
    /// super-admin and resolves to its `GroupMetadata`.
    pub async fn group_create(&self, subject: &str, participants: &[String]) -> Result<BValue> {
        self.arg(GroupSubject::new(subject).map(drop).map_err(|e| invalid(format!("groupCreate: {e}"))))?;
        let jids = self.arg(participant_jids("groupCreate", participants))?;
        let client = self.connected_client()?;
        // Only subject and participants, as Baileys sends: the server's defaults apply to the rest.
        let options = GroupCreateOptions {
            subject: subject.to_owned(),
            participants: jids.into_iter().map(GroupParticipantOptions::new).collect(),
            member_link_mode: None,
            member_add_mode: None,
            membership_approval_mode: None,
            ephemeral_expiration: None,
            ..GroupCreateOptions::default()
        };
        let created = client.groups().create_group(options).await.map_err(|e| self.group_failed("groupCreate", e))?;
        Ok(baileys_group_metadata(&created.metadata))
    }

    /// Baileys' `sock.groupMetadata(jid)`.
    pub async fn group_metadata(&self, jid: &str) -> Result<BValue> {
        let jid = self.arg(group_jid_arg("groupMetadata", jid))?;
        let client = self.connected_client()?;
        let meta = group_query::metadata(&client, &jid).await.map_err(|e| iq_failure(self.id(), "groupMetadata", &e))?;
        Ok(baileys_group_metadata(&meta))
    }

    /// Baileys' `sock.groupParticipantsUpdate(jid, participants, action)`: one
    /// `{ status, jid, content }` per participant, `status` `'200'` or the server's error code.
    /// Removing someone rotates our sender key, so they cannot read what we send next.
    pub async fn group_participants_update(&self, jid: &str, participants: &[String], action: ParticipantAction) -> Result<BValue> {
        let group = self.arg(group_jid_arg("groupParticipantsUpdate", jid))?;
        let jids = self.arg(participant_jids("groupParticipantsUpdate", participants))?;
        let client = self.connected_client()?;
        let groups = client.groups();
        let result = match action {
            ParticipantAction::Add => groups.add_participants(group, &jids).await,
            ParticipantAction::Remove => groups.remove_participants(group, &jids).await,
            ParticipantAction::Promote => groups.promote_participants(group, &jids).await,
            ParticipantAction::Demote => groups.demote_participants(group, &jids).await,
        }
        .map_err(|e| self.group_failed("groupParticipantsUpdate", e))?;
        Ok(BValue::Array(result.iter().map(participant_result).collect()))
    }

    /// Baileys' `sock.groupUpdateSubject(jid, subject)`.
    pub async fn group_update_subject(&self, jid: &str, subject: &str) -> Result<()> {
        let group = self.arg(group_jid_arg("groupUpdateSubject", jid))?;
        let subject = self.arg(GroupSubject::new(subject).map_err(|e| invalid(format!("groupUpdateSubject: {e}"))))?;
        let client = self.connected_client()?;
        client.groups().set_subject(group, subject).await.map_err(|e| self.group_failed("groupUpdateSubject", e))
    }

    /// Baileys' `sock.groupUpdateDescription(jid, description?)`: an empty or missing
    /// description deletes it. Reads the current description id first, as Baileys does.
    pub async fn group_update_description(&self, jid: &str, description: Option<&str>) -> Result<()> {
        let group = self.arg(group_jid_arg("groupUpdateDescription", jid))?;
        let description = match description.filter(|d| !d.is_empty()) {
            Some(d) => Some(self.arg(GroupDescription::new(d).map_err(|e| invalid(format!("groupUpdateDescription: {e}"))))?),
            None => None,
        };
        let client = self.connected_client()?;
        client
            .groups()
            .set_description(group, description, PreviousDescription::Resolve)
            .await
            .map_err(|e| self.group_failed("groupUpdateDescription", e))
    }

    /// Baileys' `sock.groupSettingUpdate(jid, setting)`.
    pub async fn group_setting_update(&self, jid: &str, setting: GroupSetting) -> Result<()> {
        let group = self.arg(group_jid_arg("groupSettingUpdate", jid))?;
        let client = self.connected_client()?;
        let groups = client.groups();
        match setting {
            GroupSetting::Announcement => groups.set_announce(group, true).await,
            GroupSetting::NotAnnouncement => groups.set_announce(group, false).await,
            GroupSetting::Locked => groups.set_locked(group, true).await,
            GroupSetting::Unlocked => groups.set_locked(group, false).await,
        }
        .map_err(|e| self.group_failed("groupSettingUpdate", e))
    }

    /// Baileys' `sock.groupInviteCode(jid)`: the bare code (the link is
    /// `https://chat.whatsapp.com/<code>`).
    pub async fn group_invite_code(&self, jid: &str) -> Result<String> {
        let group = self.arg(group_jid_arg("groupInviteCode", jid))?;
        let client = self.connected_client()?;
        let link = client.groups().get_invite_link(group, false).await.map_err(|e| self.group_failed("groupInviteCode", e))?;
        Ok(bare_invite_code(link))
    }

    /// Baileys' `sock.groupRevokeInvite(jid)`: revokes the code and resolves to the new one.
    pub async fn group_revoke_invite(&self, jid: &str) -> Result<String> {
        let group = self.arg(group_jid_arg("groupRevokeInvite", jid))?;
        let client = self.connected_client()?;
        let link = client.groups().get_invite_link(group, true).await.map_err(|e| self.group_failed("groupRevokeInvite", e))?;
        Ok(bare_invite_code(link))
    }

    /// Baileys' `sock.groupAcceptInvite(code)`: joins, resolving to the group's jid; `None`
    /// (Baileys: `undefined`) when the group needs an admin's approval first.
    pub async fn group_accept_invite(&self, code: &str) -> Result<Option<String>> {
        self.arg(invite_code_arg("groupAcceptInvite", code))?;
        let client = self.connected_client()?;
        match client.groups().join_with_invite_code(code).await.map_err(|e| self.group_failed("groupAcceptInvite", e))? {
            JoinGroupResult::Joined(jid) => Ok(Some(jid.to_string())),
            JoinGroupResult::PendingApproval(_) => Ok(None),
        }
    }

    /// Baileys' `sock.groupGetInviteInfo(code)`: the group's metadata, without joining.
    pub async fn group_get_invite_info(&self, code: &str) -> Result<BValue> {
        self.arg(invite_code_arg("groupGetInviteInfo", code))?;
        let client = self.connected_client()?;
        let meta = group_query::invite_info(&client, code).await.map_err(|e| iq_failure(self.id(), "groupGetInviteInfo", &e))?;
        Ok(baileys_group_metadata(&meta))
    }

    /// Baileys' `sock.groupLeave(jid)`.
    pub async fn group_leave(&self, jid: &str) -> Result<()> {
        let group = self.arg(group_jid_arg("groupLeave", jid))?;
        let client = self.connected_client()?;
        client.groups().leave(group).await.map_err(|e| self.group_failed("groupLeave", e))
    }

    /// Baileys' `sock.groupFetchAllParticipating()`: `{ [jid]: GroupMetadata }` of every group
    /// we are in. Like Baileys, it also emits them as `groups.update`.
    pub async fn group_fetch_all_participating(&self) -> Result<BValue> {
        let client = self.connected_client()?;
        let groups = group_query::participating(&client).await.map_err(|e| iq_failure(self.id(), "groupFetchAllParticipating", &e))?;
        let mut all: Vec<(String, BValue)> = groups.iter().map(|meta| (meta.id.to_string(), baileys_group_metadata(meta))).collect();
        // A stable order makes the result and the event reproducible.
        all.sort_by(|a, b| a.0.cmp(&b.0));
        self.baileys(("groups.update", BValue::Array(all.iter().map(|(_, m)| m.clone()).collect())));
        Ok(BValue::Object(all))
    }

    /// Baileys' `sock.groupToggleEphemeral(jid, expiration)`: disappearing messages after
    /// `expiration` seconds (e.g. 86400, 604800, 7776000); 0 turns them off.
    pub async fn group_toggle_ephemeral(&self, jid: &str, expiration: u32) -> Result<()> {
        let group = self.arg(group_jid_arg("groupToggleEphemeral", jid))?;
        let client = self.connected_client()?;
        client.groups().set_ephemeral(group, expiration).await.map_err(|e| self.group_failed("groupToggleEphemeral", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wacore_binary::builder::NodeBuilder;

    fn s(v: &str) -> BValue {
        BValue::String(v.into())
    }

    fn create_node() -> wacore_binary::Node {
        let group = NodeBuilder::new("group")
            .attr("id", "120363000000000001")
            .attr("addressing_mode", "pn")
            .attr("subject", "Team")
            .attr("s_o", "15550000001@s.whatsapp.net")
            .attr("s_t", "1700000001")
            .attr("creator", "15550000001@s.whatsapp.net")
            .attr("creation", "1700000000")
            .attr("size", "2")
            .children([
                NodeBuilder::new("description")
                    .attr("id", "DESC1")
                    .attr("participant", "15550000001@s.whatsapp.net")
                    .attr("t", "1700000002")
                    .children([NodeBuilder::new("body").string_content("hello").build()])
                    .build(),
                NodeBuilder::new("announcement").build(),
                NodeBuilder::new("ephemeral").attr("expiration", "86400").build(),
                NodeBuilder::new("member_add_mode").string_content("all_member_add").build(),
                NodeBuilder::new("participant").attr("jid", "15550000001@s.whatsapp.net").attr("type", "superadmin").build(),
                NodeBuilder::new("participant").attr("jid", "15550000002@s.whatsapp.net").build(),
            ])
            .build();
        NodeBuilder::new("create").children([group]).build()
    }

    #[test]
    fn metadata_has_baileys_keys_and_values() {
        let meta = metadata_of_create_node(&create_node()).expect("parses");
        assert_eq!(
            meta.keys(),
            vec![
                "id",
                "addressingMode",
                "subject",
                "subjectOwner",
                "subjectTime",
                "size",
                "creation",
                "owner",
                "desc",
                "descId",
                "descOwner",
                "descTime",
                "restrict",
                "announce",
                "isCommunity",
                "isCommunityAnnounce",
                "joinApprovalMode",
                "memberAddMode",
                "participants",
                "ephemeralDuration"
            ]
        );
        assert_eq!(meta.get("id"), Some(&s("120363000000000001@g.us")));
        assert_eq!(meta.get("subjectTime"), Some(&BValue::Uint(1_700_000_001)));
        assert_eq!(meta.get("owner"), Some(&s("15550000001@s.whatsapp.net")));
        assert_eq!(meta.get("desc"), Some(&s("hello")));
        assert_eq!(meta.get("descId"), Some(&s("DESC1")));
        assert_eq!(meta.get("announce"), Some(&BValue::Bool(true)));
        assert_eq!(meta.get("restrict"), Some(&BValue::Bool(false)));
        assert_eq!(meta.get("memberAddMode"), Some(&BValue::Bool(true)));
        assert_eq!(meta.get("ephemeralDuration"), Some(&BValue::Uint(86400)));
        let participants = meta.get("participants").and_then(BValue::as_array).unwrap();
        assert_eq!(
            participants[0],
            BValue::obj([("id", s("15550000001@s.whatsapp.net")), ("jid", s("15550000001@s.whatsapp.net")), ("admin", s("superadmin"))])
        );
        assert_eq!(participants[1].get("admin"), Some(&BValue::Null));
    }

    #[test]
    fn create_without_group_child_gives_nothing() {
        assert!(metadata_of_create_node(&NodeBuilder::new("create").build()).is_none());
    }

    #[test]
    fn actions_and_settings_parse_and_unknown_ones_are_named() {
        assert_eq!("promote".parse::<ParticipantAction>().unwrap(), ParticipantAction::Promote);
        let err = "kick".parse::<ParticipantAction>().unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("\"kick\"") && err.message.contains("'remove'"), "{}", err.message);
        assert_eq!("not_announcement".parse::<GroupSetting>().unwrap(), GroupSetting::NotAnnouncement);
        assert!("open".parse::<GroupSetting>().unwrap_err().message.contains("'locked'"));
    }

    #[test]
    fn arguments_are_checked() {
        assert!(group_jid_arg("groupMetadata", "1203@g.us").is_ok());
        assert!(group_jid_arg("groupMetadata", "1555@s.whatsapp.net").unwrap_err().message.contains("not a group jid"));
        assert!(group_jid_arg("groupMetadata", "nope").is_err());
        let jids = participant_jids("x", &["1555:3@s.whatsapp.net".into()]).unwrap();
        assert_eq!(jids[0].to_string(), "1555@s.whatsapp.net");
        assert!(participant_jids("x", &["1@s.whatsapp.net".into(), "1-2@g.us".into()]).unwrap_err().message.contains("participants[1]"));
        assert!(invite_code_arg("x", "  ").is_err());
        assert_eq!(bare_invite_code("https://chat.whatsapp.com/AbC".into()), "AbC");
    }
}
