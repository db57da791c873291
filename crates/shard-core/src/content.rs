//! `sendMessage` content (Baileys' `AnyMessageContent`) → `wa::Message`.
//!
//! Each kind is built the way Baileys' `generateWAMessageContent` builds it — as a Baileys-shaped
//! object — and then encoded by `baileys_to_proto`, so the proto we send is the one Baileys
//! would send. Parsing and checks happen first: bad content is refused before anything is sent.

use rand::Rng;
use waproto::whatsapp as wa;
use wacore_binary::Jid;

use crate::baileys_to_proto::message_from_baileys;
use crate::baileys_value::BValue;
use crate::error::{ErrorCode, Result, ShardError};

/// What a bot can send.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageContent {
    /// `{ text, mentions?, edit? }` → `extendedTextMessage`, or with `edit` a MESSAGE_EDIT
    /// protocol message carrying it.
    Text { text: String, mentions: Vec<Jid>, edit: Option<BValue> },
    /// `{ react: { text, key } }`; empty text removes the reaction.
    React { key: BValue, text: String },
    /// `{ delete: key }` → REVOKE.
    Delete { key: BValue },
    /// `{ location: { degreesLatitude, degreesLongitude, name?, ... } }`.
    Location { location: BValue, mentions: Vec<Jid> },
    /// `{ contacts: { displayName?, contacts: [{ displayName?, vcard }] } }`.
    Contacts { contacts: BValue },
    /// `{ poll: { name, values, selectableCount?, messageSecret? } }`.
    Poll { name: String, values: Vec<String>, selectable_count: u32, message_secret: Option<Vec<u8>> },
    /// `{ forward: WAMessage, force? }`.
    Forward { message: BValue, from_me: bool, force: bool },
    /// `{ image | video | audio | document | sticker, caption?, ... }`: uploaded by the shard
    /// before the message is built (`crate::media`).
    Media(crate::media::MediaContent),
}

/// `sendMessage` options that shape the message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SendOptions {
    pub message_id: Option<String>,
    /// `quoted`: the `WAMessage` being replied to.
    pub quoted: Option<BValue>,
    /// The content's own `contextInfo` (`externalAdReply`, `isForwarded`, `mentionedJid`, ...),
    /// set with [`SendOptions::with_context_info_of`]: merged over what the content builder put
    /// there, as Baileys' `generateWAMessageContent` does.
    pub context_info: Option<BValue>,
}

impl SendOptions {
    /// Reads Baileys' `MiscMessageGenerationOptions`: `messageId` and `quoted` are used; other
    /// options Baileys has (e.g. `ephemeralExpiration`) are accepted and ignored for now.
    pub fn from_baileys(options: Option<&BValue>) -> Result<SendOptions> {
        let Some(options) = options.filter(|o| **o != BValue::Null) else { return Ok(SendOptions::default()) };
        if !matches!(options, BValue::Object(_)) {
            return Err(invalid("sendMessage options must be an object"));
        }
        let message_id = match options.get("messageId") {
            None | Some(BValue::Null) => None,
            Some(v) => Some(v.as_str().ok_or_else(|| invalid("options.messageId must be a string"))?.to_owned()),
        };
        let quoted = match options.get("quoted") {
            None | Some(BValue::Null) => None,
            Some(q @ BValue::Object(_)) => Some(q.clone()),
            Some(_) => return Err(invalid("options.quoted must be the WAMessage being replied to")),
        };
        Ok(SendOptions { message_id, quoted, context_info: None })
    }

    /// Takes `content.contextInfo` (any kind of content may carry one).
    pub fn with_context_info_of(mut self, content: &BValue) -> Result<SendOptions> {
        self.context_info = match content.get("contextInfo") {
            None | Some(BValue::Null) => None,
            Some(c @ BValue::Object(_)) => Some(c.clone()),
            Some(_) => return Err(invalid("content.contextInfo must be an object (proto.IContextInfo)")),
        };
        Ok(self)
    }
}

/// Merges `extra` over the `contextInfo` of the message's first field, as Baileys does (it
/// takes `Object.keys(m)[0]`, so for a poll that is `messageContextInfo`, whose schema has no
/// `contextInfo`: the encoder drops it there, as protobufjs' `fromObject` does).
fn apply_context_info(message: &mut BValue, extra: &BValue) {
    let BValue::Object(fields) = message else { return };
    let Some((_, body)) = fields.first_mut() else { return };
    let mut context = match body.get("contextInfo") {
        Some(existing @ BValue::Object(_)) => existing.clone(),
        _ => BValue::object(),
    };
    if let BValue::Object(extra_fields) = extra {
        for (k, v) in extra_fields {
            context.set(k.clone(), v.clone());
        }
    }
    body.set("contextInfo", context);
}

fn invalid(message: impl Into<String>) -> ShardError {
    ShardError::new(ErrorCode::InvalidArgument, message)
}

/// Parses a user-supplied jid (`123@s.whatsapp.net`, `123-456@g.us`, `123@lid`).
pub fn parse_jid(jid: &str) -> Result<Jid> {
    let bad = || invalid(format!("invalid jid {jid:?}: expected e.g. \"6281234567890@s.whatsapp.net\" or \"<id>@g.us\""));
    if !jid.contains('@') || jid.starts_with('@') {
        return Err(bad());
    }
    jid.parse::<Jid>().map_err(|_| bad())
}

fn string_field(obj: &BValue, path: &str, key: &str) -> Result<String> {
    obj.get(key).and_then(BValue::as_str).map(str::to_owned).ok_or_else(|| invalid(format!("{path}.{key} must be a string")))
}

/// A message key: `{ remoteJid, fromMe?, id, participant? }`.
fn message_key(value: Option<&BValue>, path: &str) -> Result<BValue> {
    let key = value.filter(|v| matches!(v, BValue::Object(_))).ok_or_else(|| invalid(format!("{path} must be a message key {{ remoteJid, id, fromMe }}")))?;
    string_field(key, path, "remoteJid")?;
    string_field(key, path, "id")?;
    Ok(key.clone())
}

fn mentions(content: &BValue) -> Result<Vec<Jid>> {
    match content.get("mentions") {
        None | Some(BValue::Null) => Ok(Vec::new()),
        Some(BValue::Array(items)) => items
            .iter()
            .map(|j| j.as_str().ok_or_else(|| invalid("content.mentions must be an array of jid strings")).and_then(parse_jid))
            .collect(),
        Some(_) => Err(invalid("content.mentions must be an array of jid strings")),
    }
}

fn as_bool(v: Option<&BValue>) -> bool {
    matches!(v, Some(BValue::Bool(true)))
}

fn as_count(v: Option<&BValue>) -> Option<i64> {
    match v {
        Some(BValue::Int(n)) => Some(*n),
        Some(BValue::Uint(n)) => i64::try_from(*n).ok(),
        Some(BValue::Float(f)) if f.fract() == 0.0 => Some(*f as i64),
        _ => None,
    }
}

impl MessageContent {
    /// Reads Baileys' `AnyMessageContent`. Unsupported kinds are refused by name.
    pub fn from_baileys(content: &BValue) -> Result<MessageContent> {
        if !matches!(content, BValue::Object(_)) {
            return Err(invalid("message content must be an object such as { text: 'hi' }"));
        }
        let has = |k: &str| content.get(k).is_some_and(|v| *v != BValue::Null);
        if has("text") {
            let text = string_field(content, "content", "text")?;
            let edit = match content.get("edit") {
                None | Some(BValue::Null) => None,
                key => Some(message_key(key, "content.edit")?),
            };
            return Ok(MessageContent::Text { text, mentions: mentions(content)?, edit });
        }
        if has("react") {
            let react = content.get("react").unwrap_or(&BValue::Null);
            let text = match react.get("text") {
                None | Some(BValue::Null) => String::new(),
                Some(t) => t.as_str().ok_or_else(|| invalid("content.react.text must be a string (empty removes the reaction)"))?.to_owned(),
            };
            return Ok(MessageContent::React { key: message_key(react.get("key"), "content.react.key")?, text });
        }
        if has("delete") {
            return Ok(MessageContent::Delete { key: message_key(content.get("delete"), "content.delete")? });
        }
        if has("location") {
            let location = content.get("location").cloned().unwrap_or(BValue::Null);
            for k in ["degreesLatitude", "degreesLongitude"] {
                if !matches!(location.get(k), Some(BValue::Float(_) | BValue::Int(_) | BValue::Uint(_))) {
                    return Err(invalid(format!("content.location.{k} must be a number")));
                }
            }
            return Ok(MessageContent::Location { location, mentions: mentions(content)? });
        }
        if has("contacts") {
            let contacts = content.get("contacts").cloned().unwrap_or(BValue::Null);
            let list = contacts.get("contacts").and_then(BValue::as_array).unwrap_or(&[]);
            if list.is_empty() {
                return Err(invalid("content.contacts.contacts must be a non-empty array of { vcard }"));
            }
            if list.iter().any(|c| c.get("vcard").and_then(BValue::as_str).is_none()) {
                return Err(invalid("every contact in content.contacts.contacts needs a vcard string"));
            }
            return Ok(MessageContent::Contacts { contacts });
        }
        if has("poll") {
            let poll = content.get("poll").unwrap_or(&BValue::Null);
            let name = string_field(poll, "content.poll", "name")?;
            let values: Vec<String> = poll
                .get("values")
                .and_then(BValue::as_array)
                .ok_or_else(|| invalid("content.poll.values must be an array of strings"))?
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| invalid("content.poll.values must be an array of strings")))
                .collect::<Result<_>>()?;
            let count = match poll.get("selectableCount") {
                None | Some(BValue::Null) => 0,
                v => as_count(v).ok_or_else(|| invalid("content.poll.selectableCount must be a whole number"))?,
            };
            if count < 0 || count > values.len() as i64 {
                return Err(invalid(format!("poll.selectableCount in poll should be >= 0 and <= {}", values.len())));
            }
            let message_secret = match poll.get("messageSecret") {
                Some(BValue::Bytes(b)) => Some(b.clone()),
                _ => None,
            };
            return Ok(MessageContent::Poll { name, values, selectable_count: count as u32, message_secret });
        }
        if has("forward") {
            let message = content.get("forward").cloned().unwrap_or(BValue::Null);
            if !matches!(message.get("message"), Some(BValue::Object(_))) {
                return Err(invalid("content.forward must be a WAMessage with a message"));
            }
            let from_me = message.get("key").is_some_and(|k| as_bool(k.get("fromMe")));
            return Ok(MessageContent::Forward { message, from_me, force: as_bool(content.get("force")) });
        }
        // Last, as in Baileys' generateWAMessageContent: anything else with a media key is media.
        if let Some(kind) = crate::media::MediaKind::of_content(content) {
            return Ok(MessageContent::Media(crate::media::MediaContent::from_baileys(kind, content, mentions(content)?)?));
        }
        Err(invalid(format!(
            "unsupported message content with keys {:?}; this build sends text, react, delete, edit, location, contacts, poll, forward, image, video, audio, document and sticker",
            content.keys()
        )))
    }
}


fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `proto.Message.ProtocolMessage.Type`.
const REVOKE: i64 = 0;
const MESSAGE_EDIT: i64 = 14;

/// The one content field of a message object (Baileys' `getContentType` on our own output).
fn content_field(message: &mut BValue) -> Option<&mut BValue> {
    match message {
        BValue::Object(fields) => fields.iter_mut().find(|(k, _)| k != "messageContextInfo").map(|(_, v)| v),
        _ => None,
    }
}

/// The Baileys-shaped message object for `content` (before `quoted`).
fn baileys_content(content: &MessageContent) -> Result<BValue> {
    let with_mentions = |mut inner: BValue, mentions: &[Jid]| {
        if !mentions.is_empty() {
            let jids = mentions.iter().map(|j| BValue::String(j.to_string())).collect();
            inner.set("contextInfo", BValue::obj([("mentionedJid", BValue::Array(jids))]));
        }
        inner
    };
    Ok(match content {
        MessageContent::Text { text, mentions, edit } => {
            let ext = BValue::obj([("extendedTextMessage", with_mentions(BValue::obj([("text", BValue::String(text.clone()))]), mentions))]);
            match edit {
                None => ext,
                Some(key) => BValue::obj([(
                    "protocolMessage",
                    BValue::obj([
                        ("key", key.clone()),
                        ("editedMessage", ext),
                        ("timestampMs", BValue::Int(now_ms())),
                        ("type", BValue::Int(MESSAGE_EDIT)),
                    ]),
                )]),
            }
        }
        MessageContent::React { key, text } => BValue::obj([(
            "reactionMessage",
            BValue::obj([("key", key.clone()), ("text", BValue::String(text.clone())), ("senderTimestampMs", BValue::Int(now_ms()))]),
        )]),
        MessageContent::Delete { key } => BValue::obj([("protocolMessage", BValue::obj([("key", key.clone()), ("type", BValue::Int(REVOKE))]))]),
        MessageContent::Location { location, mentions } => BValue::obj([("locationMessage", with_mentions(location.clone(), mentions))]),
        MessageContent::Contacts { contacts } => {
            let list = contacts.get("contacts").and_then(BValue::as_array).unwrap_or(&[]);
            match list {
                [one] => BValue::obj([("contactMessage", one.clone())]),
                _ => BValue::obj([("contactsArrayMessage", contacts.clone())]),
            }
        }
        MessageContent::Poll { name, values, selectable_count, message_secret } => {
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
            // Baileys: v3 for single-select polls, v1 otherwise.
            let field = if *selectable_count == 1 { "pollCreationMessageV3" } else { "pollCreationMessage" };
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
        MessageContent::Media(media) => media.baileys_message()?,
    })
}

/// Adds Baileys' reply context: `stanzaId`, `participant`, `quotedMessage` (its own
/// contextInfo removed), and `remoteJid` when the quoted message is from another chat.
fn apply_quoted(message: &mut BValue, quoted: &BValue, to: &Jid, own_jid: Option<&Jid>) -> Result<()> {
    let key = message_key(quoted.get("key"), "options.quoted.key")?;
    let quoted_msg = quoted.get("message").filter(|m| matches!(m, BValue::Object(_))).ok_or_else(|| invalid("options.quoted.message is missing"))?;
    let mut quoted_msg = quoted_msg.clone();
    if let BValue::Object(fields) = &mut quoted_msg {
        fields.retain(|(k, _)| k != "messageContextInfo");
        fields.truncate(1);
    }
    if let Some(body) = content_field(&mut quoted_msg) {
        if let BValue::Object(fields) = body {
            fields.retain(|(k, _)| k != "contextInfo");
        }
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
    let body = content_field(message).ok_or_else(|| invalid("this content cannot quote a message"))?;
    let mut context = body.get("contextInfo").cloned().unwrap_or_else(BValue::object);
    context.set("participant", BValue::String(participant));
    context.set("stanzaId", key.get("id").cloned().unwrap_or(BValue::Null));
    context.set("quotedMessage", quoted_msg);
    if remote != to.to_string() {
        context.set("remoteJid", BValue::String(remote));
    }
    body.set("contextInfo", context);
    Ok(())
}

/// The protobuf message to send for `content` to `to`, with `options` applied.
pub fn build_message(content: &MessageContent, options: &SendOptions, to: &Jid, own_jid: Option<&Jid>) -> Result<wa::Message> {
    let mut message = baileys_content(content)?;
    if let Some(extra) = &options.context_info {
        apply_context_info(&mut message, extra);
    }
    if let Some(quoted) = &options.quoted {
        apply_quoted(&mut message, quoted, to, own_jid)?;
    }
    message_from_baileys(&message).map_err(|e| invalid(format!("message content: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let options = SendOptions::default().with_context_info_of(&content).unwrap();
        let v = message_to_baileys(&build_message(&c, &options, &to, None).unwrap()).unwrap();
        let ctx = v.get("extendedTextMessage").and_then(|e| e.get("contextInfo")).unwrap();
        assert_eq!(ctx.get("mentionedJid"), Some(&BValue::Array(vec![s("1@s.whatsapp.net")])));
        assert_eq!(ctx.get("isForwarded"), Some(&BValue::Bool(true)));
        assert_eq!(ctx.get("externalAdReply").and_then(|a| a.get("title")), Some(&s("Ad")));
        assert!(SendOptions::default().with_context_info_of(&BValue::obj([("contextInfo", s("x"))])).is_err());
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
        let p = built(BValue::obj([("poll", BValue::obj([("name", s("lunch?")), ("values", BValue::Array(vec![s("yes"), s("no")])), ("selectableCount", BValue::Int(1))]))]));
        let poll = p.get("pollCreationMessageV3").unwrap();
        assert_eq!(poll.get("options").and_then(BValue::as_array).map(|o| o.len()), Some(2));
        assert!(matches!(p.get("messageContextInfo").and_then(|m| m.get("messageSecret")), Some(BValue::Bytes(b)) if b.len() == 32));

        let one = BValue::obj([("vcard", s("BEGIN:VCARD\nEND:VCARD"))]);
        let c = built(BValue::obj([("contacts", BValue::obj([("contacts", BValue::Array(vec![one.clone()]))]))]));
        assert!(c.get("contactMessage").is_some());
        let c2 = built(BValue::obj([("contacts", BValue::obj([("displayName", s("two")), ("contacts", BValue::Array(vec![one.clone(), one]))]))]));
        assert_eq!(c2.get("contactsArrayMessage").and_then(|a| a.get("displayName")), Some(&s("two")));

        let l = built(BValue::obj([("location", BValue::obj([("degreesLatitude", BValue::Float(1.5)), ("degreesLongitude", BValue::Int(2))]))]));
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
        let quoted = BValue::obj([("key", key()), ("message", BValue::obj([("extendedTextMessage", BValue::obj([("text", s("question")), ("contextInfo", BValue::obj([("stanzaId", s("OLD"))]))]))]))]);
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

    #[test]
    fn bad_content_is_refused_by_name() {
        let err = |c: BValue| MessageContent::from_baileys(&c).unwrap_err();
        assert!(err(BValue::obj([("sticker", BValue::Int(1))])).message.contains("sticker"));
        assert!(err(BValue::obj([("text", BValue::Int(1))])).message.contains("content.text"));
        assert!(err(BValue::obj([("react", BValue::obj([("text", s("x"))]))])).message.contains("content.react.key"));
        assert!(err(BValue::obj([("poll", BValue::obj([("name", s("n")), ("values", BValue::Array(vec![s("a")])), ("selectableCount", BValue::Int(3))]))])).message.contains("selectableCount"));
        assert!(err(BValue::obj([("contacts", BValue::obj([("contacts", BValue::Array(vec![]))]))])).message.contains("non-empty"));
        assert!(err(BValue::obj([("location", BValue::obj([("degreesLatitude", s("north"))]))])).message.contains("degreesLatitude"));
        assert!(err(s("hello")).message.contains("must be an object"));
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
