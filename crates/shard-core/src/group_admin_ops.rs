//! Baileys' group admin calls beyond the basic ones: `groupJoinApprovalMode`,
//! `groupMemberAddMode`, `groupRequestParticipantsList`, `groupRequestParticipantsUpdate`, and
//! the group-invite-message ("v4") pair `groupAcceptInviteV4` / `groupRevokeInviteV4`.
//! The two modes go through the engine's group IQs; the join-request calls send the `w:g2`
//! stanzas Baileys sends and give back what Baileys gives (each request's attributes as they
//! are, `{ status, jid }` per participant), which the engine's typed results would narrow.

use wacore::request::InfoQuery;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::NodeContent;
use whatsapp_rust::features::{MemberAddMode, MembershipApprovalMode};

use crate::baileys_value::BValue;
use crate::error::{ErrorCode, Result, ShardError};
use crate::group_ops::{group_jid_arg, participant_jids};
use crate::shard::Shard;
use crate::socket_ops::jid_arg;
use crate::stanza_ops::iq_failure;

fn invalid(message: String) -> ShardError {
    ShardError::new(ErrorCode::InvalidArgument, message)
}

/// A node's attributes as a Baileys `attrs` object (all strings).
fn attrs_of(node: &wacore_binary::NodeRef<'_>) -> BValue {
    BValue::Object(node.attrs.iter().map(|(k, v)| (k.to_string(), BValue::String(v.as_str().into_owned()))).collect())
}

impl Shard {
    /// `groupJoinApprovalMode(jid, 'on' | 'off')`: whether joining by link needs an admin's approval.
    pub async fn group_join_approval_mode(&self, jid: &str, mode: &str) -> Result<()> {
        let group = group_jid_arg("groupJoinApprovalMode", jid).map_err(|e| e.for_shard(self.id()))?;
        let mode = match mode {
            "on" => MembershipApprovalMode::On,
            "off" => MembershipApprovalMode::Off,
            other => return Err(invalid(format!("groupJoinApprovalMode: mode must be 'on' or 'off', got {other:?}")).for_shard(self.id())),
        };
        let client = self.connected_client()?;
        client.groups().set_membership_approval(group, mode).await.map_err(|e| self.group_failed("groupJoinApprovalMode", e))
    }

    /// `groupMemberAddMode(jid, 'admin_add' | 'all_member_add')`: who may add members.
    pub async fn group_member_add_mode(&self, jid: &str, mode: &str) -> Result<()> {
        let group = group_jid_arg("groupMemberAddMode", jid).map_err(|e| e.for_shard(self.id()))?;
        let mode = match mode {
            "admin_add" => MemberAddMode::AdminAdd,
            "all_member_add" => MemberAddMode::AllMemberAdd,
            other => {
                return Err(invalid(format!("groupMemberAddMode: mode must be 'admin_add' or 'all_member_add', got {other:?}"))
                    .for_shard(self.id()))
            }
        };
        let client = self.connected_client()?;
        client.groups().set_member_add_mode(group, mode).await.map_err(|e| self.group_failed("groupMemberAddMode", e))
    }

    /// `groupRequestParticipantsList(jid)`: the pending join requests, each one's attributes
    /// (`jid`, `request_time`, `request_method`, ...) as Baileys gives them.
    pub async fn group_request_participants_list(&self, jid: &str) -> Result<BValue> {
        let group = group_jid_arg("groupRequestParticipantsList", jid).map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        let query = NodeBuilder::new("membership_approval_requests").build();
        let reply = client
            .send_iq(InfoQuery::get("w:g2", group, Some(NodeContent::Nodes(vec![query]))))
            .await
            .map_err(|e| iq_failure(self.id(), "groupRequestParticipantsList", &e))?;
        let reply = reply.get();
        let requests = reply
            .get_optional_child("membership_approval_requests")
            .map(|list| list.get_children_by_tag("membership_approval_request").map(|r| attrs_of(r)).collect())
            .unwrap_or_default();
        Ok(BValue::Array(requests))
    }

    /// `groupRequestParticipantsUpdate(jid, participants, 'approve' | 'reject')`:
    /// `[{ status, jid }]`, `status` `'200'` or the server's error code for that participant.
    pub async fn group_request_participants_update(&self, jid: &str, participants: &[String], action: &str) -> Result<BValue> {
        let what = "groupRequestParticipantsUpdate";
        let group = group_jid_arg(what, jid).map_err(|e| e.for_shard(self.id()))?;
        let jids = participant_jids(what, participants).map_err(|e| e.for_shard(self.id()))?;
        let action: &'static str = match action {
            "approve" => "approve",
            "reject" => "reject",
            other => return Err(invalid(format!("{what}: action must be 'approve' or 'reject', got {other:?}")).for_shard(self.id())),
        };
        let client = self.connected_client()?;
        let people = jids.iter().map(|j| NodeBuilder::new("participant").attr("jid", j.to_string()).build());
        let request = NodeBuilder::new("membership_requests_action").children([NodeBuilder::new(action).children(people).build()]).build();
        let reply = client
            .send_iq(InfoQuery::set("w:g2", group, Some(NodeContent::Nodes(vec![request]))))
            .await
            .map_err(|e| iq_failure(self.id(), what, &e))?;
        let reply = reply.get();
        let results = reply
            .get_optional_child("membership_requests_action")
            .and_then(|a| a.get_optional_child(action))
            .map(|a| {
                a.get_children_by_tag("participant")
                    .map(|p| {
                        let mut attrs = p.attrs();
                        let status = attrs.optional_string("error").map(|s| s.to_string()).unwrap_or_else(|| "200".to_owned());
                        let jid = attrs.optional_string("jid").map(|s| s.to_string()).unwrap_or_default();
                        BValue::obj([("status", BValue::String(status)), ("jid", BValue::String(jid))])
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(BValue::Array(results))
    }
}

impl Shard {
    /// The join half of `groupAcceptInviteV4`: joins `group_jid` with the code and expiry of a
    /// group invite message sent by `admin`; resolves to the group's jid.
    pub async fn group_accept_invite_v4(&self, group_jid: &str, code: &str, expiration: i64, admin: &str) -> Result<String> {
        let what = "groupAcceptInviteV4";
        let group = group_jid_arg(what, group_jid).map_err(|e| e.for_shard(self.id()))?;
        if code.is_empty() {
            return Err(invalid(format!("{what}: inviteMessage.inviteCode is empty (the invite was used or revoked)")).for_shard(self.id()));
        }
        let admin = jid_arg(&format!("{what}: key.remoteJid"), admin).map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        match client.groups().join_with_invite_v4(group, code, expiration, admin).await.map_err(|e| self.group_failed(what, e))? {
            whatsapp_rust::features::JoinGroupResult::Joined(jid) | whatsapp_rust::features::JoinGroupResult::PendingApproval(jid) => {
                Ok(jid.to_string())
            }
        }
    }

    /// `groupRevokeInviteV4(groupJid, invitedJid)`: withdraws the invitation sent to `invited`.
    pub async fn group_revoke_invite_v4(&self, group_jid: &str, invited: &str) -> Result<bool> {
        let what = "groupRevokeInviteV4";
        let group = group_jid_arg(what, group_jid).map_err(|e| e.for_shard(self.id()))?;
        let invited = participant_jids(what, &[invited.to_owned()]).map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        client.groups().revoke_request_code(group, &invited).await.map_err(|e| self.group_failed(what, e))?;
        Ok(true)
    }
}
