//! Group metadata read from the server with the engine's own requests and parsers, fixing one
//! thing on the way: whatsapp-rust 0.7.0 reads `<member_add_mode>` and `<member_link_mode>`
//! only when their content decodes as a string, but `all_member_add` and its kin are not in
//! WhatsApp's token dictionary, so they arrive as bytes and every group would read as if only
//! admins could add members (Baileys, which reads the bytes, says otherwise). The reply is
//! handed to the engine's parser with those contents as strings. Unlike the engine's
//! `get_metadata`, participants' phone numbers are not filled in from its LID cache: they are
//! what the server sent, as in Baileys.

use wacore::iq::groups::{CommunityParticipatingIq, GetGroupInviteInfoIq, GroupInfoOutcome, GroupParticipatingIq, GroupQueryIq};
use wacore::iq::spec::IqSpec;
use wacore_binary::{Jid, Node, NodeContent};
use whatsapp_rust::features::GroupMetadata;
use whatsapp_rust::{Client, IqError};

/// Children whose text the engine reads only as a string.
const MODE_TAGS: [&str; 2] = ["member_add_mode", "member_link_mode"];

/// `node` with every mode child's bytes content turned into a string, at any depth.
pub fn modes_as_strings(node: &mut Node) {
    if MODE_TAGS.contains(&node.tag.as_ref()) {
        if let Some(NodeContent::Bytes(bytes)) = &node.content {
            node.content = Some(NodeContent::String(String::from_utf8_lossy(bytes).into_owned().into()));
        }
        return;
    }
    if let Some(NodeContent::Nodes(children)) = &mut node.content {
        children.iter_mut().for_each(modes_as_strings);
    }
}

/// Sends `spec`'s request and parses the reply with `spec`'s parser, modes read as strings.
async fn execute<S: IqSpec>(client: &Client, spec: S) -> Result<S::Response, IqError> {
    let reply = client.send_iq(spec.build_iq()).await?;
    let mut node = reply.to_owned_node();
    modes_as_strings(&mut node);
    spec.parse_response(&node.as_node_ref()).map_err(IqError::ParseError)
}

/// The group `jid`'s metadata (`<query request="interactive"/>`).
pub async fn metadata(client: &Client, jid: &Jid) -> Result<GroupMetadata, IqError> {
    match execute(client, GroupQueryIq::new(jid)).await? {
        GroupInfoOutcome::Full(info) => Ok(GroupMetadata::from(*info)),
        // Only a query carrying a participant hash gets "not modified"; ours carries none.
        GroupInfoOutcome::NotModified => Err(IqError::ParseError(anyhow::anyhow!("the server sent no <group> for {jid}"))),
    }
}

/// The metadata of the group the invite `code` leads to.
pub async fn invite_info(client: &Client, code: &str) -> Result<GroupMetadata, IqError> {
    Ok(GroupMetadata::from(execute(client, GetGroupInviteInfoIq::new(code)).await?))
}

/// Every group we are in (communities included, as the server lists them).
pub async fn participating(client: &Client) -> Result<Vec<GroupMetadata>, IqError> {
    Ok(execute(client, GroupParticipatingIq::new()).await?.groups.into_iter().map(GroupMetadata::from).collect())
}

/// Every community (parent group) we are in.
pub async fn communities(client: &Client) -> Result<Vec<GroupMetadata>, IqError> {
    Ok(execute(client, CommunityParticipatingIq::new()).await?.groups.into_iter().map(GroupMetadata::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wacore_binary::builder::NodeBuilder;

    #[test]
    fn mode_bytes_become_strings_at_any_depth_and_nothing_else_changes() {
        let mut reply = NodeBuilder::new("iq")
            .children([NodeBuilder::new("group")
                .children([
                    NodeBuilder::new("member_add_mode").bytes(b"all_member_add".to_vec()).build(),
                    NodeBuilder::new("member_link_mode").bytes(b"all_member_link".to_vec()).build(),
                    NodeBuilder::new("body").bytes(b"kept as bytes".to_vec()).build(),
                ])
                .build()])
            .build();
        modes_as_strings(&mut reply);
        let group = reply.get_optional_child("group").unwrap();
        let content = |tag: &str| group.get_optional_child(tag).unwrap().content.clone();
        assert_eq!(content("member_add_mode"), Some(NodeContent::String("all_member_add".into())));
        assert_eq!(content("member_link_mode"), Some(NodeContent::String("all_member_link".into())));
        assert_eq!(content("body"), Some(NodeContent::Bytes(b"kept as bytes".to_vec())));
    }
}
