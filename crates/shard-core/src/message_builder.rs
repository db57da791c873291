//! Content a bot sends ([`MessageContent`] + [`SendOptions`]) → the `wa::Message` to send.
//!
//! Each kind is built as Baileys 6.7.21's `generateWAMessageContent` builds it — as a
//! Baileys-shaped object — then `viewOnce`, `contextInfo`, the reply context (`quoted`) and
//! `ephemeralExpiration` are applied as its `generateWAMessageFromContent` applies them, and
//! the object is encoded by `baileys_to_proto`, so the proto we send is the one Baileys would.
//! One deliberate difference: `mentions` and `contextInfo` always reach the message's content
//! (Baileys' `getContentType` of the normalized message); Baileys 6.7.21 loses them on a
//! poll and inside a `viewOnce` text, where it sets them on a wrapper without that field.

use rand::Rng;
use wacore_binary::Jid;
use waproto::whatsapp as wa;

use crate::baileys_to_proto::message_from_baileys;
use crate::baileys_value::BValue;
use crate::content::{as_bool, as_count, invalid, message_key, MessageContent, SendOptions, PIN_FOR_ALL};
use crate::error::Result;
use crate::proto_to_baileys::message_to_baileys;

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `proto.Message.ProtocolMessage.Type`.
const REVOKE: i64 = 0;
const EPHEMERAL_SETTING: i64 = 3;
const SHARE_PHONE_NUMBER: i64 = 11;
const MESSAGE_EDIT: i64 = 14;

/// Wrappers whose `message` holds the content (Baileys' `normalizeMessageContent`).
const FUTURE_PROOF_WRAPPERS: [&str; 6] = [
    "ephemeralMessage",
    "viewOnceMessage",
    "documentWithCaptionMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "editedMessage",
];

/// The content field of a message and its name (Baileys' `getContentType` of
/// `normalizeMessageContent`): through future-proof wrappers, the first `conversation` or
/// `…Message` field.
pub(crate) fn content_entry(message: &mut BValue) -> Option<(&str, &mut BValue)> {
    let mut message = message;
    for _ in 0..5 {
        let wrapper = FUTURE_PROOF_WRAPPERS.iter().find(|w| message.get(w).and_then(|m| m.get("message")).is_some());
        match wrapper {
            Some(w) => message = message.get_mut(w)?.get_mut("message")?,
            None => break,
        }
    }
    match message {
        BValue::Object(fields) => fields
            .iter_mut()
            .find(|(k, _)| (k == "conversation" || k.contains("Message")) && k != "senderKeyDistributionMessage")
            .map(|(k, v)| (k.as_str(), v)),
        _ => None,
    }
}

pub(crate) fn content_field(message: &mut BValue) -> Option<&mut BValue> {
    content_entry(message).map(|(_, body)| body)
}

/// Merges `extra` over the content's `contextInfo`, as Baileys does with `content.contextInfo`.
fn merge_context_info(message: &mut BValue, extra: &[(String, BValue)]) {
    let Some(body @ BValue::Object(_)) = content_field(message) else { return };
    let mut context = match body.get("contextInfo") {
        Some(existing @ BValue::Object(_)) => existing.clone(),
        _ => BValue::object(),
    };
    for (k, v) in extra {
        context.set(k.clone(), v.clone());
    }
    body.set("contextInfo", context);
}

fn jids(list: &[Jid]) -> BValue {
    BValue::Array(list.iter().map(|j| BValue::String(j.to_string())).collect())
}

/// `extendedTextMessage` with Baileys' link preview fields and status text options.
fn extended_text(text: &str, link_preview: Option<&BValue>, options: &SendOptions) -> BValue {
    let mut ext = BValue::obj([("text", BValue::str(text))]);
    if let Some(info) = link_preview {
        let copy = |ext: &mut BValue, to: &str, from: &str| {
            if let Some(v) = info.get(from).filter(|v| **v != BValue::Null) {
                ext.set(to, v.clone());
            }
        };
        copy(&mut ext, "matchedText", "matched-text");
        copy(&mut ext, "jpegThumbnail", "jpegThumbnail");
        copy(&mut ext, "description", "description");
        copy(&mut ext, "title", "title");
        ext.set("previewType", BValue::Int(0));
        if let Some(img @ BValue::Object(_)) = info.get("highQualityThumbnail") {
            for (to, from) in [
                ("thumbnailDirectPath", "directPath"),
                ("mediaKey", "mediaKey"),
                ("mediaKeyTimestamp", "mediaKeyTimestamp"),
                ("thumbnailWidth", "width"),
                ("thumbnailHeight", "height"),
                ("thumbnailSha256", "fileSha256"),
                ("thumbnailEncSha256", "fileEncSha256"),
            ] {
                if let Some(v) = img.get(from).filter(|v| **v != BValue::Null) {
                    ext.set(to, v.clone());
                }
            }
        }
    }
    if let Some(argb) = options.background_argb {
        ext.set("backgroundArgb", BValue::Uint(argb.into()));
    }
    if let Some(font) = &options.font {
        ext.set("font", font.clone());
    }
    ext
}

/// The Baileys-shaped message object of `content` alone (Baileys' `generateWAMessageContent`
/// up to its `viewOnce` step).
fn baileys_content(content: &MessageContent, options: &SendOptions) -> Result<BValue> {
    Ok(match content {
        MessageContent::Text { text, edit: _, link_preview, .. } => {
            BValue::obj([("extendedTextMessage", extended_text(text, link_preview.as_ref(), options))])
        }
        MessageContent::React { key, text } => BValue::obj([(
            "reactionMessage",
            BValue::obj([("key", key.clone()), ("text", BValue::String(text.clone())), ("senderTimestampMs", BValue::Int(now_ms()))]),
        )]),
        MessageContent::Delete { key } => {
            BValue::obj([("protocolMessage", BValue::obj([("key", key.clone()), ("type", BValue::Int(REVOKE))]))])
        }
        MessageContent::Location { location, .. } => BValue::obj([("locationMessage", location.clone())]),
        MessageContent::Contacts { contacts } => {
            let list = contacts.get("contacts").and_then(BValue::as_array).unwrap_or(&[]);
            match list {
                [one] => BValue::obj([("contactMessage", one.clone())]),
                _ => BValue::obj([("contactsArrayMessage", contacts.clone())]),
            }
        }
        MessageContent::Poll { name, values, selectable_count, message_secret, to_announcement_group } => {
            let secret = message_secret.clone().unwrap_or_else(|| {
                let mut s = vec![0u8; 32];
                rand::rng().fill_bytes(&mut s);
                s
            });
            let options = values.iter().map(|v| BValue::obj([("optionName", BValue::String(v.clone()))])).collect();
            let poll = BValue::obj([
                ("name", BValue::String(name.clone())),
                ("selectableOptionsCount", BValue::Uint((*selectable_count).into())),
                ("options", BValue::Array(options)),
            ]);
            // Baileys: v2 for community announcement groups, v3 for single-select, v1 otherwise.
            let field = match (*to_announcement_group, *selectable_count) {
                (true, _) => "pollCreationMessageV2",
                (false, 1) => "pollCreationMessageV3",
                _ => "pollCreationMessage",
            };
            BValue::obj([("messageContextInfo", BValue::obj([("messageSecret", BValue::Bytes(secret))])), (field, poll)])
        }
        MessageContent::Forward { message, from_me, force } => {
            let mut inner = message.get("message").cloned().unwrap_or(BValue::Null);
            if let Some(text) = inner.get("conversation").cloned() {
                inner = BValue::obj([("extendedTextMessage", BValue::obj([("text", text)]))]);
            }
            let Some(body) = content_field(&mut inner) else {
                return Err(invalid("content.forward.message has no content"));
            };
            let previous = body.get("contextInfo").and_then(|c| as_count(c.get("forwardingScore"))).unwrap_or(0);
            let score = previous + if *from_me && !*force { 0 } else { 1 };
            let context = if score > 0 {
                BValue::obj([("forwardingScore", BValue::Int(score)), ("isForwarded", BValue::Bool(true))])
            } else {
                BValue::object()
            };
            body.set("contextInfo", context);
            inner
        }
        MessageContent::DisappearingMessages { expiration } => BValue::obj([(
            "ephemeralMessage",
            BValue::obj([(
                "message",
                BValue::obj([(
                    "protocolMessage",
                    BValue::obj([("type", BValue::Int(EPHEMERAL_SETTING)), ("ephemeralExpiration", BValue::Uint((*expiration).into()))]),
                )]),
            )]),
        )]),
        MessageContent::GroupInvite { invite } => {
            let mut m = BValue::object();
            for (to, from) in [
                ("inviteCode", "inviteCode"),
                ("inviteExpiration", "inviteExpiration"),
                ("caption", "text"),
                ("groupJid", "jid"),
                ("groupName", "subject"),
            ] {
                if let Some(v) = invite.get(from).filter(|v| **v != BValue::Null) {
                    m.set(to, v.clone());
                }
            }
            BValue::obj([("groupInviteMessage", m)])
        }
        MessageContent::Pin { key, pin_type, duration_secs } => BValue::obj([
            (
                "pinInChatMessage",
                BValue::obj([("key", key.clone()), ("type", BValue::Int(*pin_type)), ("senderTimestampMs", BValue::Int(now_ms()))]),
            ),
            (
                "messageContextInfo",
                BValue::obj([("messageAddOnDurationInSecs", BValue::Int(if *pin_type == PIN_FOR_ALL { *duration_secs } else { 0 }))]),
            ),
        ]),
        MessageContent::ButtonReply { reply, template: true } => BValue::obj([(
            "templateButtonReplyMessage",
            BValue::obj([
                ("selectedDisplayText", reply.get("displayText").cloned().unwrap_or(BValue::Null)),
                ("selectedId", reply.get("id").cloned().unwrap_or(BValue::Null)),
                ("selectedIndex", reply.get("index").cloned().unwrap_or(BValue::Null)),
            ]),
        )]),
        MessageContent::ButtonReply { reply, template: false } => BValue::obj([(
            "buttonsResponseMessage",
            BValue::obj([
                ("selectedButtonId", reply.get("id").cloned().unwrap_or(BValue::Null)),
                ("selectedDisplayText", reply.get("displayText").cloned().unwrap_or(BValue::Null)),
                // proto.Message.ButtonsResponseMessage.Type.DISPLAY_TEXT
                ("type", BValue::Int(1)),
            ]),
        )]),
        MessageContent::ListReply { reply } => BValue::obj([("listResponseMessage", reply.clone())]),
        MessageContent::SharePhoneNumber => BValue::obj([("protocolMessage", BValue::obj([("type", BValue::Int(SHARE_PHONE_NUMBER))]))]),
        MessageContent::RequestPhoneNumber => BValue::obj([("requestPhoneNumberMessage", BValue::object())]),
        MessageContent::Media(media) => media.baileys_message()?,
    })
}

/// Mentions a kind carries (`content.mentions`), as Baileys sets them: `contextInfo.mentionedJid`
/// (media puts its own in with its other fields).
fn mentions_of(content: &MessageContent) -> &[Jid] {
    match content {
        MessageContent::Text { mentions, .. } | MessageContent::Location { mentions, .. } => mentions,
        _ => &[],
    }
}

/// Adds Baileys' reply context: `stanzaId`, `participant`, `quotedMessage` (its own
/// contextInfo removed), and `remoteJid` when the quoted message is from another chat.
fn apply_quoted(message: &mut BValue, quoted: &BValue, to: &Jid, own_jid: Option<&Jid>) -> Result<()> {
    let key = message_key(quoted.get("key"), "options.quoted.key")?;
    let quoted_msg =
        quoted.get("message").filter(|m| matches!(m, BValue::Object(_))).ok_or_else(|| invalid("options.quoted.message is missing"))?;
    let mut quoted_msg = quoted_msg.clone();
    if let BValue::Object(fields) = &mut quoted_msg {
        fields.retain(|(k, _)| k != "messageContextInfo");
        fields.truncate(1);
    }
    if let Some(BValue::Object(fields)) = content_field(&mut quoted_msg) {
        fields.retain(|(k, _)| k != "contextInfo");
    }
    let participant = if as_bool(key.get("fromMe")) {
        own_jid.map(|j| j.to_non_ad_string()).unwrap_or_default()
    } else {
        quoted
            .get("participant")
            .or_else(|| key.get("participant"))
            .or_else(|| key.get("remoteJid"))
            .and_then(BValue::as_str)
            .map(|j| j.parse::<Jid>().map(|j| j.to_non_ad_string()).unwrap_or_else(|_| j.to_owned()))
            .unwrap_or_default()
    };
    let remote = key.get("remoteJid").and_then(BValue::as_str).unwrap_or_default().to_owned();
    let mut context = vec![
        ("participant".to_owned(), BValue::String(participant)),
        ("stanzaId".to_owned(), key.get("id").cloned().unwrap_or(BValue::Null)),
        ("quotedMessage".to_owned(), quoted_msg),
    ];
    if remote != to.to_string() {
        context.push(("remoteJid".to_owned(), BValue::String(remote)));
    }
    if content_field(message).is_none() {
        return Err(invalid("this content cannot quote a message"));
    }
    merge_context_info(message, &context);
    Ok(())
}

/// Baileys' `generateWAMessageContent`: the message for `content` on its own — wrapped for
/// `viewOnce` and `edit`, with its mentions and `contextInfo` — before a chat is known.
pub fn content_message(content: &MessageContent, options: &SendOptions) -> Result<BValue> {
    let mut message = baileys_content(content, options)?;
    if options.view_once {
        message = BValue::obj([("viewOnceMessage", BValue::obj([("message", message)]))]);
    }
    let mentions = mentions_of(content);
    if !mentions.is_empty() {
        merge_context_info(&mut message, &[("mentionedJid".to_owned(), jids(mentions))]);
    }
    if let MessageContent::Text { edit: Some(key), .. } = content {
        message = BValue::obj([(
            "protocolMessage",
            BValue::obj([
                ("key", key.clone()),
                ("editedMessage", message),
                ("timestampMs", BValue::Int(now_ms())),
                ("type", BValue::Int(MESSAGE_EDIT)),
            ]),
        )]);
    }
    if let Some(BValue::Object(extra)) = &options.context_info {
        merge_context_info(&mut message, extra);
    }
    Ok(message)
}

/// The Baileys-shaped message for `content` to `to`, with `options` applied: the content's
/// message, then what `generateWAMessageFromContent` adds for the chat (quote, timer).
pub fn baileys_message(content: &MessageContent, options: &SendOptions, to: &Jid, own_jid: Option<&Jid>) -> Result<BValue> {
    let mut message = content_message(content, options)?;
    if let Some(quoted) = &options.quoted {
        apply_quoted(&mut message, quoted, to, own_jid)?;
    }
    if let Some(expiration) = options.ephemeral_expiration {
        // Not on protocol messages (deletes, timer changes) nor newsletters, as in Baileys.
        let is_protocol = content_entry(&mut message).is_some_and(|(kind, _)| kind == "protocolMessage");
        if !is_protocol && to.server != wacore_binary::Server::Newsletter {
            merge_context_info(&mut message, &[("expiration".to_owned(), BValue::Uint(expiration.into()))]);
        }
    }
    Ok(message)
}

/// Baileys' `generateWAMessageContent(content, options)` as the object it encodes to: `content`
/// is `AnyMessageContent`, media already uploaded by `prepareWAMessageMedia` (`prepared_media`,
/// its result); of the options only `backgroundColor` and `font` shape content.
pub fn generate_content(content: &BValue, options: Option<&BValue>, prepared_media: Option<&BValue>) -> Result<BValue> {
    let mut parsed = MessageContent::from_baileys(content)?;
    if let MessageContent::Media(media) = &parsed {
        let prepared = prepared_media.ok_or_else(|| invalid("media content needs its prepareWAMessageMedia result"))?;
        parsed = MessageContent::Media(media.with_prepared(prepared)?);
    }
    let options = SendOptions::from_baileys(options)?.with_extras_of(content)?;
    normalized(&content_message(&parsed, &options)?)
}

/// `message` as protobufjs' `fromObject` leaves it: unknown fields gone, values typed as the
/// schema types them (what the message encodes to, decoded again).
pub fn normalized(message: &BValue) -> Result<BValue> {
    let encoded = message_from_baileys(message).map_err(|e| invalid(format!("message content: {e}")))?;
    message_to_baileys(&encoded).map_err(|e| invalid(format!("message content: {e}")))
}

/// The protobuf message to send for `content` to `to`, with `options` applied.
pub fn build_message(content: &MessageContent, options: &SendOptions, to: &Jid, own_jid: Option<&Jid>) -> Result<wa::Message> {
    let message = baileys_message(content, options, to, own_jid)?;
    message_from_baileys(&message).map_err(|e| invalid(format!("message content: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::parse_jid;
    use crate::proto_to_baileys::message_to_baileys;

    fn s(v: &str) -> BValue {
        BValue::String(v.into())
    }

    fn built(content: BValue) -> BValue {
        let to = parse_jid("2@s.whatsapp.net").unwrap();
        let c = MessageContent::from_baileys(&content).unwrap();
        message_to_baileys(&build_message(&c, &SendOptions::default(), &to, None).unwrap()).unwrap()
    }

    fn key() -> BValue {
        BValue::obj([("remoteJid", s("2@s.whatsapp.net")), ("fromMe", BValue::Bool(false)), ("id", s("ABC"))])
    }

    #[test]
    fn content_context_info_merges_over_mentions_as_baileys_does() {
        let content = BValue::obj([
            ("text", s("hi @1")),
            ("mentions", BValue::Array(vec![s("1@s.whatsapp.net")])),
            ("contextInfo", BValue::obj([("isForwarded", BValue::Bool(true)), ("externalAdReply", BValue::obj([("title", s("Ad"))]))])),
        ]);
        let to = parse_jid("2@s.whatsapp.net").unwrap();
        let c = MessageContent::from_baileys(&content).unwrap();
        let options = SendOptions::default().with_extras_of(&content).unwrap();
        let v = message_to_baileys(&build_message(&c, &options, &to, None).unwrap()).unwrap();
        let ctx = v.get("extendedTextMessage").and_then(|e| e.get("contextInfo")).unwrap();
        assert_eq!(ctx.get("mentionedJid"), Some(&BValue::Array(vec![s("1@s.whatsapp.net")])));
        assert_eq!(ctx.get("isForwarded"), Some(&BValue::Bool(true)));
        assert_eq!(ctx.get("externalAdReply").and_then(|a| a.get("title")), Some(&s("Ad")));
        assert!(SendOptions::default().with_extras_of(&BValue::obj([("contextInfo", s("x"))])).is_err());
    }

    #[test]
    fn text_with_mentions_has_baileys_shape() {
        let v = built(BValue::obj([("text", s("hi @1")), ("mentions", BValue::Array(vec![s("1@s.whatsapp.net")]))]));
        let ext = v.get("extendedTextMessage").unwrap();
        assert_eq!(ext.get("text"), Some(&s("hi @1")));
        assert_eq!(ext.get("contextInfo").and_then(|c| c.get("mentionedJid")), Some(&BValue::Array(vec![s("1@s.whatsapp.net")])));
        assert!(v.get("conversation").is_none());
    }

    #[test]
    fn react_delete_and_edit_are_protocol_shaped() {
        let r = built(BValue::obj([("react", BValue::obj([("text", s("👍")), ("key", key())]))]));
        let reaction = r.get("reactionMessage").unwrap();
        assert_eq!(reaction.get("text"), Some(&s("👍")));
        assert_eq!(reaction.get("key").and_then(|k| k.get("id")), Some(&s("ABC")));
        assert!(matches!(reaction.get("senderTimestampMs"), Some(BValue::Int(_) | BValue::Uint(_))));

        let d = built(BValue::obj([("delete", key())]));
        let p = d.get("protocolMessage").unwrap();
        assert_eq!(p.get("key").and_then(|k| k.get("id")), Some(&s("ABC")));
        // REVOKE is enum value 0: protobufjs leaves a zero enum out of the wire only if unset; Baileys sets it.
        assert!(matches!(p.get("type"), Some(BValue::Int(0)) | Some(BValue::Uint(0))), "{p:?}");

        let e = built(BValue::obj([("text", s("fixed")), ("edit", key())]));
        let p = e.get("protocolMessage").unwrap();
        assert!(matches!(p.get("type"), Some(BValue::Int(14)) | Some(BValue::Uint(14))));
        assert_eq!(p.get("editedMessage").and_then(|m| m.get("extendedTextMessage")).and_then(|t| t.get("text")), Some(&s("fixed")));
    }

    #[test]
    fn poll_contacts_location_and_forward() {
        let p = built(BValue::obj([(
            "poll",
            BValue::obj([("name", s("lunch?")), ("values", BValue::Array(vec![s("yes"), s("no")])), ("selectableCount", BValue::Int(1))]),
        )]));
        let poll = p.get("pollCreationMessageV3").unwrap();
        assert_eq!(poll.get("options").and_then(BValue::as_array).map(|o| o.len()), Some(2));
        assert!(matches!(p.get("messageContextInfo").and_then(|m| m.get("messageSecret")), Some(BValue::Bytes(b)) if b.len() == 32));

        let one = BValue::obj([("vcard", s("BEGIN:VCARD\nEND:VCARD"))]);
        let c = built(BValue::obj([("contacts", BValue::obj([("contacts", BValue::Array(vec![one.clone()]))]))]));
        assert!(c.get("contactMessage").is_some());
        let c2 = built(BValue::obj([(
            "contacts",
            BValue::obj([("displayName", s("two")), ("contacts", BValue::Array(vec![one.clone(), one]))]),
        )]));
        assert_eq!(c2.get("contactsArrayMessage").and_then(|a| a.get("displayName")), Some(&s("two")));

        let l = built(BValue::obj([(
            "location",
            BValue::obj([("degreesLatitude", BValue::Float(1.5)), ("degreesLongitude", BValue::Int(2))]),
        )]));
        assert_eq!(l.get("locationMessage").and_then(|m| m.get("degreesLatitude")), Some(&BValue::Float(1.5)));

        let original = BValue::obj([("key", key()), ("message", BValue::obj([("conversation", s("fwd me"))]))]);
        let f = built(BValue::obj([("forward", original)]));
        let ext = f.get("extendedTextMessage").unwrap();
        assert_eq!(ext.get("text"), Some(&s("fwd me")));
        let ctx = ext.get("contextInfo").unwrap();
        assert_eq!(ctx.get("isForwarded"), Some(&BValue::Bool(true)));
    }

    #[test]
    fn quoted_sets_reply_context() {
        let to = parse_jid("2@s.whatsapp.net").unwrap();
        let quoted = BValue::obj([
            ("key", key()),
            (
                "message",
                BValue::obj([(
                    "extendedTextMessage",
                    BValue::obj([("text", s("question")), ("contextInfo", BValue::obj([("stanzaId", s("OLD"))]))]),
                )]),
            ),
        ]);
        let c = MessageContent::from_baileys(&BValue::obj([("text", s("answer"))])).unwrap();
        let m = build_message(&c, &SendOptions { quoted: Some(quoted), ..SendOptions::default() }, &to, None).unwrap();
        let v = message_to_baileys(&m).unwrap();
        let ctx = v.get("extendedTextMessage").and_then(|t| t.get("contextInfo")).unwrap();
        assert_eq!(ctx.get("stanzaId"), Some(&s("ABC")));
        assert_eq!(ctx.get("participant"), Some(&s("2@s.whatsapp.net")));
        let q = ctx.get("quotedMessage").and_then(|q| q.get("extendedTextMessage")).unwrap();
        assert_eq!(q.get("text"), Some(&s("question")));
        assert!(q.get("contextInfo").is_none(), "the quoted message's own context is stripped");
        assert!(ctx.get("remoteJid").is_none());
    }
}
