//! Messages a bot builds itself: Baileys' `relayMessage` (send a ready `proto.IMessage`) and
//! `waUploadToServer` (put already-encrypted media on the CDN). Bots use the pair with
//! Baileys' `generateWAMessageFromContent` and `prepareWAMessageMedia` for the kinds
//! `sendMessage` does not build (interactive and list messages, templates, view-once wrappers).

use base64::Engine as _;
use wacore::upload::EncryptedMediaInfo;

use crate::baileys_to_proto::{message_from_baileys, BASE64};
use crate::baileys_value::BValue;
use crate::binary_node::node_from_baileys;
use crate::content::{parse_jid, status_jid_list};
use crate::error::{ErrorCode, Result, ShardError};
use crate::media::media_type_named;
use crate::shard::Shard;

fn invalid(message: impl Into<String>) -> ShardError {
    ShardError::new(ErrorCode::InvalidArgument, message.into())
}

/// `relayMessage`'s options that this side honours.
#[derive(Debug, Default)]
pub struct RelayOptions {
    /// `messageId`: the stanza id (Baileys generates one when absent).
    pub message_id: Option<String>,
    /// `additionalNodes`: extra children of the `<message>` stanza (e.g. `biz` for buttons).
    pub additional_nodes: Vec<wacore_binary::Node>,
    /// `statusJidList`: who a post to `status@broadcast` goes to.
    pub status_jid_list: Vec<wacore_binary::Jid>,
}

impl RelayOptions {
    /// Reads Baileys' `MessageRelayOptions`. `participant` (resend to one device) and
    /// `additionalAttributes` have no counterpart in the engine's send path; they are refused
    /// rather than silently dropped.
    pub fn from_baileys(value: Option<&BValue>) -> Result<RelayOptions> {
        let mut options = RelayOptions::default();
        let Some(value) = value.filter(|v| !matches!(v, BValue::Null)) else { return Ok(options) };
        let BValue::Object(fields) = value else { return Err(invalid("relayMessage options must be an object")) };
        for (key, v) in fields {
            match (key.as_str(), v) {
                (_, BValue::Null) => {}
                ("messageId", BValue::String(id)) if !id.is_empty() => options.message_id = Some(id.clone()),
                ("messageId", _) => return Err(invalid("options.messageId must be a non-empty string")),
                ("additionalNodes", BValue::Array(nodes)) => {
                    options.additional_nodes = nodes
                        .iter()
                        .enumerate()
                        .map(|(i, n)| node_from_baileys(n, &format!("options.additionalNodes[{i}]")))
                        .collect::<Result<_>>()?
                }
                ("additionalNodes", _) => return Err(invalid("options.additionalNodes must be an array of nodes")),
                ("statusJidList", list) => options.status_jid_list = status_jid_list(Some(list))?,
                ("participant" | "additionalAttributes", _) => {
                    return Err(ShardError::new(
                        ErrorCode::NotSupported,
                        format!("relayMessage option {key} is not supported: the engine addresses every device of the chat itself"),
                    ))
                }
                // useUserDevicesCache, useCachedGroupMetadata: the engine keeps its own caches.
                _ => {}
            }
        }
        Ok(options)
    }
}

/// `{ mediaUrl, directPath }`, as Baileys' upload function resolves.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadedMedia {
    pub media_url: String,
    pub direct_path: String,
}

impl Shard {
    /// `relayMessage(jid, message, options)`: sends a message the bot built, as it is, and
    /// resolves to its id once the server acknowledged it. Unlike `sendMessage` it emits nothing.
    pub async fn relay_message(&self, to: &str, message: &BValue, options: RelayOptions) -> Result<String> {
        let jid = parse_jid(to).map_err(|e| e.for_shard(self.id()))?;
        let message = message_from_baileys(message).map_err(|e| invalid(format!("message: {e}")).for_shard(self.id()))?;
        let client = self.connected_client()?;
        let id = options.message_id.unwrap_or_else(|| client.generate_message_id());
        let send = whatsapp_rust::SendOptions::default().with_message_id(id.clone()).with_extra_stanza_nodes(options.additional_nodes);
        self.deliver(&client, &jid, message, send, to, &options.status_jid_list).await?;
        Ok(id)
    }

    /// `waUploadToServer(encrypted, { mediaType, fileEncSha256B64 })`: uploads media the bot
    /// encrypted already (Baileys' `prepareWAMessageMedia` does) to the CDN.
    pub async fn upload_encrypted(&self, encrypted: Vec<u8>, media: &str, file_enc_sha256_b64: &str) -> Result<UploadedMedia> {
        let media_type = media_type_named(media).map_err(|e| e.for_shard(self.id()))?;
        // Baileys passes standard or URL-safe base64, padded or not.
        let digest = BASE64
            .decode(file_enc_sha256_b64.replace('-', "+").replace('_', "/"))
            .ok()
            .and_then(|d| <[u8; 32]>::try_from(d).ok())
            .ok_or_else(|| invalid("fileEncSha256B64 must be the base64 of a 32-byte SHA-256").for_shard(self.id()))?;
        let client = self.connected_client()?;
        // Only the encrypted hash names the upload; the key and plain hash stay with the bot.
        let info = EncryptedMediaInfo {
            media_key: [0; 32],
            file_sha256: [0; 32],
            file_enc_sha256: digest,
            file_length: encrypted.len() as u64,
            streaming_sidecar: None,
        };
        let uploaded = client
            .upload_stream(bytes::Bytes::from(encrypted), info, media_type)
            .await
            .map_err(|e| ShardError::new(ErrorCode::MediaFailed, format!("upload failed: {e}")).for_shard(self.id()))?;
        Ok(UploadedMedia { media_url: uploaded.url, direct_path: uploaded.direct_path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_options_take_an_id_and_extra_nodes_and_refuse_what_cannot_be_honoured() {
        let biz = BValue::obj([("tag", BValue::str("biz")), ("attrs", BValue::object())]);
        let options = RelayOptions::from_baileys(Some(&BValue::obj([
            ("messageId", BValue::str("3EB0ABC")),
            ("additionalNodes", BValue::Array(vec![biz])),
            ("useUserDevicesCache", BValue::Bool(true)),
        ])))
        .unwrap();
        assert_eq!(options.message_id.as_deref(), Some("3EB0ABC"));
        assert_eq!(options.additional_nodes[0].tag, "biz");
        let err =
            RelayOptions::from_baileys(Some(&BValue::obj([("participant", BValue::obj([("jid", BValue::str("x@s.whatsapp.net"))]))])))
                .unwrap_err();
        assert_eq!(err.code, ErrorCode::NotSupported);
        assert_eq!(
            RelayOptions::from_baileys(Some(&BValue::obj([("messageId", BValue::Int(3))]))).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
    }
}
