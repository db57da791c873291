//! `sendMessage`: build the message (uploading its media first), send it, and describe what was
//! sent as Baileys' `WAMessage`. In two steps when the bot has a `patchMessageBeforeSending`:
//! [`Shard::prepare_message`] builds it, the bot patches it in JS, and
//! [`Shard::send_prepared`] sends the patched message while returning (and echoing) the
//! unpatched one, as Baileys does.

use std::sync::atomic::Ordering;

use wacore_binary::Jid;
use waproto::whatsapp as wa;

use crate::baileys_value::BValue;
use crate::content::{parse_jid, MessageContent, SendOptions};
use crate::error::{ErrorCode, Result, ShardError};
use crate::message_builder::build_message;
use crate::shard::{now_ms, Shard};
use crate::wa_message::{outgoing_wa_message, set_group_sender, UpsertType};

/// A message built for sending (media uploaded), not sent yet.
#[derive(Debug, Clone)]
pub struct PreparedMessage {
    pub id: String,
    pub message: wa::Message,
    /// `messageTimestamp` of the `WAMessage` describing it (seconds).
    pub timestamp: i64,
    /// Who a status post goes to (`statusJidList`).
    pub status_jid_list: Vec<Jid>,
}

impl Shard {
    /// Sends `content` to `to` and returns the `WAMessage` Baileys would return; the same
    /// message is echoed as `messages.upsert` `append`, as Baileys does by default.
    pub async fn send_message(&self, to: &str, content: &MessageContent, options: &SendOptions) -> Result<BValue> {
        match self.prepare_message(to, content, options).await? {
            Some(prepared) => {
                let wire = prepared.message.clone();
                self.send_prepared(to, prepared, wire).await
            }
            None => Ok(BValue::Null),
        }
    }

    /// Builds the message for `content` to `to` without sending it. `None` when there is
    /// nothing to send: a group's disappearing timer is set with `groupToggleEphemeral`, as
    /// Baileys does (its `sendMessage` then resolves to undefined).
    pub async fn prepare_message(&self, to: &str, content: &MessageContent, options: &SendOptions) -> Result<Option<PreparedMessage>> {
        let jid = parse_jid(to)?;
        if let (MessageContent::DisappearingMessages { expiration }, wacore_binary::Server::Group) = (content, &jid.server) {
            self.group_toggle_ephemeral(to, *expiration).await?;
            return Ok(None);
        }
        let client = self.connected_client()?;
        let own = client.persistence_manager().get_device_snapshot().pn.clone();
        // Media is uploaded first; the message then carries its CDN fields.
        let uploaded;
        let content = match content {
            MessageContent::Media(media) => {
                uploaded = MessageContent::Media(media.upload(&client).await.map_err(|e| e.for_shard(self.id()))?);
                &uploaded
            }
            other => other,
        };
        let message = build_message(content, options, &jid, own.as_ref()).map_err(|e| e.for_shard(self.id()))?;
        let id = options.message_id.clone().unwrap_or_else(|| client.generate_message_id());
        let timestamp = options.timestamp.unwrap_or(now_ms() as i64 / 1000);
        Ok(Some(PreparedMessage { id, message, timestamp, status_jid_list: options.status_jid_list.clone() }))
    }

    /// Sends `wire` (the prepared message, or what the bot's patch made of it) and returns
    /// the `WAMessage` of the prepared one, echoing it as `messages.upsert` `append` unless
    /// `emitOwnEvents` is false.
    pub async fn send_prepared(&self, to: &str, prepared: PreparedMessage, wire: wa::Message) -> Result<BValue> {
        let jid: Jid = parse_jid(to)?;
        let client = self.connected_client()?;
        let own = client.persistence_manager().get_device_snapshot().pn.clone();
        let send = whatsapp_rust::SendOptions::default().with_message_id(prepared.id.clone());
        self.deliver(&client, &jid, wire, send, to, &prepared.status_jid_list).await?;
        let mut sent = outgoing_wa_message(&jid, &prepared.id, &prepared.message, prepared.timestamp).map_err(|e| {
            ShardError::new(ErrorCode::InvalidArgument, format!("sent, but could not describe the message: {e}")).for_shard(self.id())
        })?;
        set_group_sender(&mut sent, &jid, own.as_ref());
        if self.emit_own_events.load(Ordering::Acquire) {
            self.upsert(vec![sent.clone()], UpsertType::Append);
        }
        Ok(sent)
    }
}
