//! Baileys' receipt calls: `readMessages`, `sendReceipt(jid, participant, ids, type)` and
//! `sendReceipts(keys, type)`. Read and played receipts go through the engine (which turns
//! them into `read-self` / `played-self` when the account hides its read receipts, as WhatsApp
//! Web does); any other type is sent as Baileys sends it.

use wacore_binary::builder::NodeBuilder;
use wacore_binary::Jid;

use crate::error::{ErrorCode, Result, ShardError};
use crate::shard::Shard;
use crate::socket_ops::{aggregate_keys, jid_arg, ReadKey};

/// The `<receipt>` Baileys' `sendReceipt` builds: the first id on the stanza, the others in a
/// `<list>`; read types carry the time; a `sender` receipt to a user names the chat in
/// `recipient` and goes to the participant.
fn receipt_node(chat: &Jid, participant: Option<&Jid>, ids: &[&str], kind: Option<&str>, now: u64) -> wacore_binary::Node {
    let mut b = NodeBuilder::new("receipt").attr("id", ids[0]);
    if matches!(kind, Some("read" | "read-self")) {
        b = b.attr("t", now.to_string());
    }
    b = match (kind, participant) {
        (Some("sender"), Some(p)) if chat.is_pn() || chat.is_lid() => b.attr("recipient", chat.to_string()).attr("to", p.to_string()),
        (_, Some(p)) => b.attr("to", chat.to_string()).attr("participant", p.to_string()),
        (_, None) => b.attr("to", chat.to_string()),
    };
    if let Some(kind) = kind {
        b = b.attr("type", kind);
    }
    if ids.len() > 1 {
        let items = ids[1..].iter().map(|id| NodeBuilder::new("item").attr("id", *id).build());
        b = b.children([NodeBuilder::new("list").children(items).build()]);
    }
    b.build()
}

impl Shard {
    /// Receipts of `kind` (`None` = delivery) for messages we received, grouped by chat and
    /// sender as Baileys groups them. Keys of our own messages are skipped.
    pub async fn send_receipts(&self, what: &str, keys: &[ReadKey], kind: Option<&str>) -> Result<()> {
        let groups = aggregate_keys(keys).map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        for (chat, participant, ids) in groups {
            self.send_one_receipt(what, &client, &chat, participant.as_ref(), &ids, kind).await?;
        }
        Ok(())
    }

    /// `sendReceipt(jid, participant, messageIds, type)`.
    pub async fn send_receipt(&self, jid: &str, participant: Option<&str>, ids: &[String], kind: Option<&str>) -> Result<()> {
        let chat = jid_arg("sendReceipt jid", jid).map_err(|e| e.for_shard(self.id()))?;
        let participant = participant.map(|p| jid_arg("sendReceipt participant", p)).transpose().map_err(|e| e.for_shard(self.id()))?;
        if ids.is_empty() || ids.iter().any(|id| id.is_empty()) {
            return Err(ShardError::new(ErrorCode::InvalidArgument, "sendReceipt: messageIds must be a non-empty array of message ids")
                .for_shard(self.id()));
        }
        let client = self.connected_client()?;
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        self.send_one_receipt("sendReceipt", &client, &chat, participant.as_ref(), &ids, kind).await
    }

    async fn send_one_receipt(
        &self,
        what: &str,
        client: &whatsapp_rust::Client,
        chat: &Jid,
        participant: Option<&Jid>,
        ids: &[&str],
        kind: Option<&str>,
    ) -> Result<()> {
        let failed =
            |e: String| ShardError::new(ErrorCode::NotConnected, format!("{what} failed on shard {}: {e}", self.id())).for_shard(self.id());
        match kind {
            Some("read") => client.mark_as_read(chat, participant, ids).await.map_err(|e| failed(e.to_string())),
            Some("played") => client.mark_as_played(chat, participant, ids).await.map_err(|e| failed(e.to_string())),
            _ => {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
                client.send_node(receipt_node(chat, participant, ids, kind, now)).await.map_err(|e| failed(e.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_are_built_as_baileys_builds_them() {
        let chat: Jid = "15550000001@s.whatsapp.net".parse().unwrap();
        let group: Jid = "120363000000000001@g.us".parse().unwrap();
        let node = receipt_node(&group, Some(&chat), &["A", "B", "C"], Some("read-self"), 42);
        assert_eq!(node.attrs.get("id").map(|v| v.as_str().into_owned()).as_deref(), Some("A"));
        assert_eq!(node.attrs.get("t").map(|v| v.as_str().into_owned()).as_deref(), Some("42"));
        assert_eq!(node.attrs.get("participant").map(|v| v.as_str().into_owned()).as_deref(), Some("15550000001@s.whatsapp.net"));
        let list = &node.children().unwrap()[0];
        assert_eq!(list.children().unwrap().len(), 2);
        let sender = receipt_node(&chat, Some(&chat), &["A"], Some("sender"), 42);
        assert!(sender.attrs.get("recipient").is_some());
        let delivery = receipt_node(&chat, None, &["A"], None, 42);
        assert!(delivery.attrs.get("type").is_none() && delivery.attrs.get("t").is_none() && delivery.children().is_none());
    }
}
