//! Baileys 6.7.21's community calls that differ from its group calls: `communityCreate`,
//! `communityMetadata`, `communityGetInviteInfo`, `communityFetchAllParticipating`,
//! `communityLeave` and `communityJoinApprovalMode`. A community is a group (its parent group,
//! `<parent>` in its node), so every other `community*` call is the group call of the same
//! name (the JS layer maps them).
//!
//! [`baileys_community_metadata`] is what Baileys' `extractCommunityMetadata` builds. Baileys
//! reads it from a `<community>` child that the server does not send for these requests (it
//! answers with `<group>`, as for any group, which is what the engine reads), so against the
//! server Baileys' own `communityMetadata` fails; ours gives the shape Baileys defines.

use wacore::request::InfoQuery;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Jid, NodeContent, Server};
use whatsapp_rust::features::{GroupCreateOptions, GroupDescription, GroupMetadata, GroupSubject, MemberAddMode, ParticipantType};

use crate::baileys_value::BValue;
use crate::content::invalid;
use crate::error::Result;
use crate::group_ops::{baileys_group_metadata, group_jid_arg, invite_code_arg};
use crate::group_query;
use crate::shard::Shard;
use crate::stanza_ops::iq_failure;

/// Baileys 6.7.21's community metadata (`extractCommunityMetadata`): its keys in its order,
/// a key it leaves `undefined` absent. Unlike `GroupMetadata`, `size` counts the participants
/// and a participant is `{ id, admin }`.
pub fn baileys_community_metadata(meta: &GroupMetadata) -> BValue {
    let mut f: Vec<(&str, BValue)> = vec![("id", BValue::String(meta.id.to_string())), ("subject", BValue::String(meta.subject.clone()))];
    if let Some(owner) = &meta.subject_owner {
        f.push(("subjectOwner", BValue::String(owner.to_string())));
    }
    f.push(("subjectTime", BValue::Uint(meta.subject_time.unwrap_or(0))));
    f.push(("size", BValue::Uint(meta.participants.len() as u64)));
    f.push(("creation", BValue::Uint(meta.creation_time.unwrap_or(0))));
    if let Some(creator) = &meta.creator {
        f.push(("owner", BValue::String(creator.to_non_ad_string())));
    }
    if let Some(desc) = &meta.description {
        f.push(("desc", BValue::String(desc.clone())));
    }
    if let Some(id) = &meta.description_id {
        f.push(("descId", BValue::String(id.clone())));
    }
    if let Some(parent) = &meta.parent_group_jid {
        f.push(("linkedParent", BValue::String(parent.to_string())));
    }
    f.extend([
        ("restrict", BValue::Bool(meta.is_locked)),
        ("announce", BValue::Bool(meta.is_announcement)),
        ("isCommunity", BValue::Bool(meta.is_parent_group)),
        ("isCommunityAnnounce", BValue::Bool(meta.is_default_sub_group)),
        ("joinApprovalMode", BValue::Bool(meta.membership_approval)),
        ("memberAddMode", BValue::Bool(meta.member_add_mode == Some(MemberAddMode::AllMemberAdd))),
    ]);
    let participants = meta
        .participants
        .iter()
        .map(|p| {
            let admin = match p.participant_type {
                ParticipantType::Admin => BValue::str("admin"),
                ParticipantType::SuperAdmin => BValue::str("superadmin"),
                ParticipantType::Member => BValue::Null,
            };
            BValue::obj([("id", BValue::String(p.jid.to_string())), ("admin", admin)])
        })
        .collect();
    f.push(("participants", BValue::Array(participants)));
    if let Some(expiration) = meta.ephemeral.and_then(|e| e.expiration).filter(|&e| e > 0) {
        f.push(("ephemeralDuration", BValue::Uint(expiration.into())));
    }
    // Baileys looks for an `<addressing_mode>` child the server never sends (it is an
    // attribute); the value is kept here, since it is data.
    f.push(("addressingMode", BValue::str(meta.addressing_mode.as_str())));
    BValue::Object(f.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// `@g.us`: where community-wide requests (create, leave) go.
fn groups_server() -> Jid {
    Jid::new("", Server::Group)
}

impl Shard {
    /// Baileys' `sock.communityCreate(subject, body)`: the request Baileys sends (joining needs
    /// approval, members may create groups in it, a general chat beside its announcements
    /// group, the description inline, the server's defaults for the rest), resolving to its
    /// `GroupMetadata` read back from the server, as Baileys does.
    pub async fn community_create(&self, subject: &str, body: Option<&str>) -> Result<BValue> {
        let what = "communityCreate";
        if subject.trim().is_empty() {
            return Err(invalid(format!("{what}: subject must be a non-empty string")).for_shard(self.id()));
        }
        GroupSubject::new(subject).map_err(|e| invalid(format!("{what}: {e}")).for_shard(self.id()))?;
        let description = match body.filter(|b| !b.is_empty()) {
            Some(b) => Some(GroupDescription::new(b).map_err(|e| invalid(format!("{what}: {e}")).for_shard(self.id()))?),
            None => None,
        };
        let client = self.connected_client()?;
        let options = GroupCreateOptions {
            subject: subject.to_owned(),
            is_parent: true,
            closed: true,
            allow_non_admin_sub_group_creation: true,
            create_general_chat: true,
            description,
            member_link_mode: None,
            member_add_mode: None,
            membership_approval_mode: None,
            ephemeral_expiration: None,
            ..GroupCreateOptions::default()
        };
        let created = client.groups().create_group(options).await.map_err(|e| self.group_failed(what, e))?;
        let meta = group_query::metadata(&client, &created.metadata.id).await.map_err(|e| iq_failure(self.id(), what, &e))?;
        Ok(baileys_group_metadata(&meta))
    }

    /// Baileys' `sock.communityMetadata(jid)`.
    pub async fn community_metadata(&self, jid: &str) -> Result<BValue> {
        let jid = group_jid_arg("communityMetadata", jid).map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        let meta = group_query::metadata(&client, &jid).await.map_err(|e| iq_failure(self.id(), "communityMetadata", &e))?;
        Ok(baileys_community_metadata(&meta))
    }

    /// Baileys' `sock.communityGetInviteInfo(code)`: the community's metadata, without joining.
    pub async fn community_get_invite_info(&self, code: &str) -> Result<BValue> {
        invite_code_arg("communityGetInviteInfo", code).map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        let meta = group_query::invite_info(&client, code).await.map_err(|e| iq_failure(self.id(), "communityGetInviteInfo", &e))?;
        Ok(baileys_community_metadata(&meta))
    }

    /// Baileys' `sock.communityFetchAllParticipating()`: `{ [jid]: metadata }` of every community
    /// we are in, also emitted as `groups.update`, as Baileys does.
    pub async fn community_fetch_all_participating(&self) -> Result<BValue> {
        let client = self.connected_client()?;
        let communities =
            group_query::communities(&client).await.map_err(|e| iq_failure(self.id(), "communityFetchAllParticipating", &e))?;
        let mut all: Vec<(String, BValue)> =
            communities.iter().map(|meta| (meta.id.to_string(), baileys_community_metadata(meta))).collect();
        // A stable order makes the result and the event reproducible.
        all.sort_by(|a, b| a.0.cmp(&b.0));
        self.baileys(("groups.update", BValue::Array(all.iter().map(|(_, m)| m.clone()).collect())));
        Ok(BValue::Object(all))
    }

    /// Baileys' `sock.communityLeave(id)` (the jid or the bare id): leaves the community and every
    /// group of it we are in.
    pub async fn community_leave(&self, id: &str) -> Result<()> {
        // Baileys passes `id` through, so bots give the jid or the bare id.
        let jid = if id.contains('@') { id.to_owned() } else { format!("{id}@g.us") };
        let community = group_jid_arg("communityLeave", &jid).map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        let leave = NodeBuilder::new("leave").children([NodeBuilder::new("community").attr("id", community.to_string()).build()]).build();
        client
            .send_iq(InfoQuery::set("w:g2", groups_server(), Some(NodeContent::Nodes(vec![leave]))))
            .await
            .map_err(|e| iq_failure(self.id(), "communityLeave", &e))?;
        Ok(())
    }

    /// Baileys' `sock.communityJoinApprovalMode(jid, 'on' | 'off')`: whether joining the
    /// community needs an admin's approval (`<community_join>`, where groups say `<group_join>`).
    pub async fn community_join_approval_mode(&self, jid: &str, mode: &str) -> Result<()> {
        let what = "communityJoinApprovalMode";
        let community = group_jid_arg(what, jid).map_err(|e| e.for_shard(self.id()))?;
        if mode != "on" && mode != "off" {
            return Err(invalid(format!("{what}: mode must be 'on' or 'off', got {mode:?}")).for_shard(self.id()));
        }
        let client = self.connected_client()?;
        let request = NodeBuilder::new("membership_approval_mode")
            .children([NodeBuilder::new("community_join").attr("state", mode.to_owned()).build()])
            .build();
        client
            .send_iq(InfoQuery::set("w:g2", community, Some(NodeContent::Nodes(vec![request]))))
            .await
            .map_err(|e| iq_failure(self.id(), what, &e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wacore::iq::groups::GroupInfoResponse;
    use wacore::protocol::ProtocolNode;

    fn community_node() -> wacore_binary::Node {
        NodeBuilder::new("group")
            .attr("id", "120363000000000001")
            .attr("subject", "Neighbours")
            .attr("s_o", "15550001111@s.whatsapp.net")
            .attr("s_t", "1700000000")
            .attr("creator", "15550001111@s.whatsapp.net")
            .attr("creation", "1700000000")
            .attr("addressing_mode", "pn")
            .attr("size", "9")
            .children([
                NodeBuilder::new("description")
                    .attr("id", "D1")
                    .children([NodeBuilder::new("body").string_content("street party").build()])
                    .build(),
                NodeBuilder::new("parent").attr("default_membership_approval_mode", "request_required").build(),
                NodeBuilder::new("participant").attr("jid", "15550001111@s.whatsapp.net").attr("type", "superadmin").build(),
                NodeBuilder::new("participant").attr("jid", "15550002222@s.whatsapp.net").build(),
            ])
            .build()
    }

    #[test]
    fn community_metadata_has_baileys_keys_in_order() {
        let info = GroupInfoResponse::try_from_node(&community_node()).expect("parses");
        let meta = baileys_community_metadata(&GroupMetadata::from(info));
        assert_eq!(
            meta.keys(),
            [
                "id",
                "subject",
                "subjectOwner",
                "subjectTime",
                "size",
                "creation",
                "owner",
                "desc",
                "descId",
                "restrict",
                "announce",
                "isCommunity",
                "isCommunityAnnounce",
                "joinApprovalMode",
                "memberAddMode",
                "participants",
                "addressingMode"
            ]
        );
        let get = |k: &str| meta.get(k).cloned().unwrap();
        // `size` counts the participants (Baileys ignores the attribute here).
        assert_eq!(get("size"), BValue::Uint(2));
        assert_eq!(get("isCommunity"), BValue::Bool(true));
        assert_eq!(get("desc"), BValue::str("street party"));
        assert_eq!(
            get("participants"),
            BValue::Array(vec![
                BValue::obj([("id", BValue::str("15550001111@s.whatsapp.net")), ("admin", BValue::str("superadmin"))]),
                BValue::obj([("id", BValue::str("15550002222@s.whatsapp.net")), ("admin", BValue::Null)]),
            ])
        );
    }
}
