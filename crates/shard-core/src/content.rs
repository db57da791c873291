//! `sendMessage` content (Baileys' `AnyMessageContent`) as a typed value, and the
//! `wa::Message` each kind becomes. The binding parses JS objects into `MessageContent`;
//! nothing here knows about JS.

use buffa::MessageField;
use waproto::whatsapp as wa;
use wacore_binary::Jid;

use crate::error::{ErrorCode, Result, ShardError};

/// What a bot can send. Kinds are added milestone by milestone; anything else is refused
/// with a clear `INVALID_ARGUMENT` before anything is sent.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageContent {
    /// `{ text, mentions? }` → `extendedTextMessage` (Baileys never sends `conversation`).
    Text { text: String, mentions: Vec<Jid> },
}

/// Parses a user-supplied jid (`123@s.whatsapp.net`, `123-456@g.us`, `123@lid`).
pub fn parse_jid(jid: &str) -> Result<Jid> {
    let invalid = || {
        ShardError::new(
            ErrorCode::InvalidArgument,
            format!("invalid jid {jid:?}: expected e.g. \"6281234567890@s.whatsapp.net\" or \"<id>@g.us\""),
        )
    };
    if !jid.contains('@') || jid.starts_with('@') {
        return Err(invalid());
    }
    jid.parse::<Jid>().map_err(|_| invalid())
}

/// The protobuf message for `content`.
pub fn build_message(content: &MessageContent) -> wa::Message {
    match content {
        MessageContent::Text { text, mentions } => {
            let context_info = if mentions.is_empty() {
                MessageField::none()
            } else {
                MessageField::some(wa::ContextInfo {
                    mentioned_jid: mentions.iter().map(|j| j.to_string()).collect(),
                    ..Default::default()
                })
            };
            wa::Message {
                extended_text_message: MessageField::some(wa::message::ExtendedTextMessage {
                    text: Some(text.clone()),
                    context_info,
                    ..Default::default()
                }),
                ..Default::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baileys_value::BValue;
    use crate::proto_to_baileys::message_to_baileys;

    #[test]
    fn text_with_mentions_has_baileys_shape() {
        let content = MessageContent::Text { text: "hi @1".into(), mentions: vec![parse_jid("1@s.whatsapp.net").unwrap()] };
        let v = message_to_baileys(&build_message(&content)).unwrap();
        let ext = v.get("extendedTextMessage").unwrap();
        assert_eq!(ext.get("text"), Some(&BValue::String("hi @1".into())));
        let mentioned = ext.get("contextInfo").and_then(|c| c.get("mentionedJid")).unwrap();
        assert_eq!(mentioned, &BValue::Array(vec![BValue::String("1@s.whatsapp.net".into())]));
        assert!(v.get("conversation").is_none());
    }

    #[test]
    fn plain_text_has_no_context_info() {
        let v = message_to_baileys(&build_message(&MessageContent::Text { text: "x".into(), mentions: vec![] })).unwrap();
        assert!(v.get("extendedTextMessage").unwrap().get("contextInfo").is_none());
    }

    #[test]
    fn malformed_jids_are_refused() {
        for bad in ["", "12345", "@s.whatsapp.net", "abc@", "a@b@c"] {
            assert_eq!(parse_jid(bad).unwrap_err().code, ErrorCode::InvalidArgument, "{bad:?}");
        }
        assert!(parse_jid("123@s.whatsapp.net").is_ok());
        assert!(parse_jid("123-456@g.us").is_ok());
    }
}
