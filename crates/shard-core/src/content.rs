//! `sendMessage` arguments read and checked: the content (Baileys' `AnyMessageContent`) and
//! its options (`MiscMessageGenerationOptions`). Bad content is refused here, by the name of
//! the bad field, before anything is uploaded or sent; `crate::message_builder` builds it.

use wacore_binary::Jid;

use crate::baileys_value::BValue;
use crate::error::{ErrorCode, Result, ShardError};

/// `proto.Message.PinInChatMessage.Type`.
pub(crate) const PIN_FOR_ALL: i64 = 1;
pub(crate) const UNPIN_FOR_ALL: i64 = 2;

/// What a bot can send.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageContent {
    /// `{ text, mentions?, edit?, linkPreview? }` → `extendedTextMessage`, or with `edit` a
    /// MESSAGE_EDIT protocol message carrying it. `link_preview` is Baileys' `urlInfo`
    /// (`{ 'matched-text', title, description, jpegThumbnail, highQualityThumbnail? }`).
    Text { text: String, mentions: Vec<Jid>, edit: Option<BValue>, link_preview: Option<BValue> },
    /// `{ react: { text, key } }`; empty text removes the reaction.
    React { key: BValue, text: String },
    /// `{ delete: key }` → REVOKE.
    Delete { key: BValue },
    /// `{ location: { degreesLatitude, degreesLongitude, name?, ... } }`.
    Location { location: BValue, mentions: Vec<Jid> },
    /// `{ contacts: { displayName?, contacts: [{ displayName?, vcard }] } }`.
    Contacts { contacts: BValue },
    /// `{ poll: { name, values, selectableCount?, messageSecret?, toAnnouncementGroup? } }`.
    Poll { name: String, values: Vec<String>, selectable_count: u32, message_secret: Option<Vec<u8>>, to_announcement_group: bool },
    /// `{ forward: WAMessage, force? }`.
    Forward { message: BValue, from_me: bool, force: bool },
    /// `{ disappearingMessagesInChat: boolean | seconds }`: a group's timer is set with
    /// `groupToggleEphemeral`; in a 1:1 chat it is an EPHEMERAL_SETTING protocol message.
    DisappearingMessages { expiration: u32 },
    /// `{ groupInvite: { inviteCode, inviteExpiration?, text?, jid, subject? } }`.
    GroupInvite { invite: BValue },
    /// `{ pin: key, type: 1 (pin) | 2 (unpin), time?: 86400 | 604800 | 2592000 }`.
    Pin { key: BValue, pin_type: i64, duration_secs: i64 },
    /// `{ buttonReply: { displayText, id, index? }, type: 'template' | 'plain' }`.
    ButtonReply { reply: BValue, template: bool },
    /// `{ listReply: proto.Message.IListResponseMessage }`.
    ListReply { reply: BValue },
    /// `{ sharePhoneNumber: true }`: shares our number with the chat (a LID contact).
    SharePhoneNumber,
    /// `{ requestPhoneNumber: true }`: asks the chat to share theirs.
    RequestPhoneNumber,
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
    /// `content.viewOnce`: the message is wrapped in `viewOnceMessage`.
    pub view_once: bool,
    /// `ephemeralExpiration`: the chat's disappearing timer, put in the content's
    /// `contextInfo.expiration` so the message disappears as the chat's others do.
    pub ephemeral_expiration: Option<u32>,
    /// `backgroundColor` (ARGB) and `font` of a text (status texts use them).
    pub background_argb: Option<u32>,
    pub font: Option<BValue>,
    /// `timestamp`: the `messageTimestamp` (seconds) of the returned and emitted message.
    pub timestamp: Option<i64>,
    /// `statusJidList`: who a post to `status@broadcast` goes to.
    pub status_jid_list: Vec<Jid>,
}

/// Baileys' `WA_DEFAULT_EPHEMERAL`: 7 days, what `true` means for disappearing messages.
pub const WA_DEFAULT_EPHEMERAL: u32 = 7 * 24 * 60 * 60;

impl SendOptions {
    /// Reads Baileys' `MiscMessageGenerationOptions`: `messageId`, `quoted`,
    /// `ephemeralExpiration`, `backgroundColor`, `font` and `timestamp` (seconds or ms since
    /// the epoch; `lib/socket.js` turns a `Date` into ms). Baileys' caching options are the
    /// engine's business and ignored.
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
        let ephemeral_expiration = match options.get("ephemeralExpiration") {
            None | Some(BValue::Null) => None,
            Some(BValue::String(s)) => {
                Some(s.parse::<u32>().map_err(|_| invalid("options.ephemeralExpiration must be a number of seconds"))?)
            }
            v => Some(
                as_count(v)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| invalid("options.ephemeralExpiration must be a number of seconds"))?,
            ),
        }
        .filter(|s| *s != 0);
        let background_argb = match options.get("backgroundColor") {
            None | Some(BValue::Null) => None,
            Some(BValue::String(hex)) => Some(argb_of_hex(hex)?),
            v => {
                let n = as_count(v)
                    .ok_or_else(|| invalid("options.backgroundColor must be a hex colour such as '#1E6E4F' or an ARGB number"))?;
                // Negative: a signed 32-bit ARGB, as Baileys' assertColor reads it.
                Some(if n > 0 { n as u32 } else { (0xffff_ffff_i64 + n + 1) as u32 })
            }
        };
        let font = options.get("font").filter(|f| **f != BValue::Null).cloned();
        if font.as_ref().is_some_and(|f| as_count(Some(f)).is_none() && f.as_str().is_none()) {
            return Err(invalid("options.font must be a proto.Message.ExtendedTextMessage.FontType"));
        }
        let timestamp = match options.get("timestamp") {
            None | Some(BValue::Null) => None,
            v => {
                let t = as_count(v).ok_or_else(|| invalid("options.timestamp must be a Date or milliseconds since the epoch"))?;
                Some(t / 1000)
            }
        };
        let status_jid_list = status_jid_list(options.get("statusJidList"))?;
        Ok(SendOptions {
            message_id,
            quoted,
            ephemeral_expiration,
            background_argb,
            font,
            timestamp,
            status_jid_list,
            ..SendOptions::default()
        })
    }

    /// Takes what any kind of content may carry besides its own fields: `contextInfo` and
    /// `viewOnce`.
    pub fn with_extras_of(mut self, content: &BValue) -> Result<SendOptions> {
        self.context_info = match content.get("contextInfo") {
            None | Some(BValue::Null) => None,
            Some(c @ BValue::Object(_)) => Some(c.clone()),
            Some(_) => return Err(invalid("content.contextInfo must be an object (proto.IContextInfo)")),
        };
        self.view_once = as_bool(content.get("viewOnce"));
        Ok(self)
    }
}

/// Baileys' `assertColor` for a hex string: `#RGB`-less six digits get an opaque alpha.
fn argb_of_hex(hex: &str) -> Result<u32> {
    let hex = hex.trim().trim_start_matches('#');
    let full = if hex.len() <= 6 { format!("FF{hex:0>6}") } else { hex.to_owned() };
    u32::from_str_radix(&full, 16).map_err(|_| invalid(format!("options.backgroundColor {hex:?} is not a hex colour such as '#1E6E4F'")))
}

pub(crate) fn invalid(message: impl Into<String>) -> ShardError {
    ShardError::new(ErrorCode::InvalidArgument, message)
}

/// `statusJidList`: the users (phone-number or LID jids) a status post goes to.
pub fn status_jid_list(value: Option<&BValue>) -> Result<Vec<Jid>> {
    let bad = || invalid("options.statusJidList must be an array of user jids such as \"6281234567890@s.whatsapp.net\"");
    match value {
        None | Some(BValue::Null) => Ok(Vec::new()),
        Some(BValue::Array(items)) => items
            .iter()
            .map(|j| {
                let jid = parse_jid(j.as_str().ok_or_else(bad)?)?;
                if matches!(jid.server, wacore_binary::Server::Pn | wacore_binary::Server::Lid) {
                    Ok(jid.to_non_ad())
                } else {
                    Err(bad())
                }
            })
            .collect(),
        Some(_) => Err(bad()),
    }
}

/// Parses a user-supplied jid (`123@s.whatsapp.net`, `123-456@g.us`, `123@lid`).
pub fn parse_jid(jid: &str) -> Result<Jid> {
    let bad = || invalid(format!("invalid jid {jid:?}: expected e.g. \"6281234567890@s.whatsapp.net\" or \"<id>@g.us\""));
    if !jid.contains('@') || jid.starts_with('@') {
        return Err(bad());
    }
    jid.parse::<Jid>().map_err(|_| bad())
}

pub(crate) fn string_field(obj: &BValue, path: &str, key: &str) -> Result<String> {
    obj.get(key).and_then(BValue::as_str).map(str::to_owned).ok_or_else(|| invalid(format!("{path}.{key} must be a string")))
}

/// A message key: `{ remoteJid, fromMe?, id, participant? }`.
pub(crate) fn message_key(value: Option<&BValue>, path: &str) -> Result<BValue> {
    let key = value
        .filter(|v| matches!(v, BValue::Object(_)))
        .ok_or_else(|| invalid(format!("{path} must be a message key {{ remoteJid, id, fromMe }}")))?;
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

pub(crate) fn as_bool(v: Option<&BValue>) -> bool {
    matches!(v, Some(BValue::Bool(true)))
}

pub(crate) fn as_count(v: Option<&BValue>) -> Option<i64> {
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
            let link_preview = match content.get("linkPreview") {
                None | Some(BValue::Null) => None,
                Some(p @ BValue::Object(_)) => Some(p.clone()),
                Some(_) => {
                    return Err(invalid(
                        "content.linkPreview must be an object { 'matched-text', title, description, jpegThumbnail } or null",
                    ))
                }
            };
            return Ok(MessageContent::Text { text, mentions: mentions(content)?, edit, link_preview });
        }
        if has("react") {
            let react = content.get("react").unwrap_or(&BValue::Null);
            let text = match react.get("text") {
                None | Some(BValue::Null) => String::new(),
                Some(t) => {
                    t.as_str().ok_or_else(|| invalid("content.react.text must be a string (empty removes the reaction)"))?.to_owned()
                }
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
            let to_announcement_group = as_bool(poll.get("toAnnouncementGroup"));
            return Ok(MessageContent::Poll { name, values, selectable_count: count as u32, message_secret, to_announcement_group });
        }
        if has("forward") {
            let message = content.get("forward").cloned().unwrap_or(BValue::Null);
            if !matches!(message.get("message"), Some(BValue::Object(_))) {
                return Err(invalid("content.forward must be a WAMessage with a message"));
            }
            let from_me = message.get("key").is_some_and(|k| as_bool(k.get("fromMe")));
            return Ok(MessageContent::Forward { message, from_me, force: as_bool(content.get("force")) });
        }
        if let Some(setting) = content.get("disappearingMessagesInChat").filter(|v| **v != BValue::Null) {
            let expiration = match setting {
                BValue::Bool(on) => {
                    if *on {
                        WA_DEFAULT_EPHEMERAL
                    } else {
                        0
                    }
                }
                v => as_count(Some(v))
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| invalid("content.disappearingMessagesInChat must be true, false or a number of seconds"))?,
            };
            return Ok(MessageContent::DisappearingMessages { expiration });
        }
        if has("groupInvite") {
            let invite = content.get("groupInvite").cloned().unwrap_or(BValue::Null);
            string_field(&invite, "content.groupInvite", "inviteCode")?;
            parse_jid(&string_field(&invite, "content.groupInvite", "jid")?)?;
            for (k, is_ok) in [
                ("text", invite.get("text").is_none_or(|v| v.as_str().is_some() || *v == BValue::Null)),
                ("subject", invite.get("subject").is_none_or(|v| v.as_str().is_some() || *v == BValue::Null)),
                ("inviteExpiration", invite.get("inviteExpiration").is_none_or(|v| *v == BValue::Null || as_count(Some(v)).is_some())),
            ] {
                if !is_ok {
                    return Err(invalid(format!("content.groupInvite.{k} has the wrong type")));
                }
            }
            return Ok(MessageContent::GroupInvite { invite });
        }
        if has("pin") {
            let key = message_key(content.get("pin"), "content.pin")?;
            let pin_type = match as_count(content.get("type")) {
                Some(t @ (PIN_FOR_ALL | UNPIN_FOR_ALL)) => t,
                _ => return Err(invalid("content.type must be 1 (pin for all) or 2 (unpin for all) with content.pin")),
            };
            let duration_secs = match content.get("time") {
                None | Some(BValue::Null) => 86_400,
                v => match as_count(v) {
                    Some(t @ (86_400 | 604_800 | 2_592_000)) => t,
                    _ => return Err(invalid("content.time must be 86400 (24 h), 604800 (7 days) or 2592000 (30 days)")),
                },
            };
            let duration_secs = if pin_type == PIN_FOR_ALL { duration_secs } else { 0 };
            return Ok(MessageContent::Pin { key, pin_type, duration_secs });
        }
        if has("buttonReply") {
            let reply = content.get("buttonReply").cloned().unwrap_or(BValue::Null);
            string_field(&reply, "content.buttonReply", "id")?;
            let template = match content.get("type").and_then(BValue::as_str) {
                Some("template") => true,
                Some("plain") => false,
                _ => return Err(invalid("content.type must be 'template' or 'plain' with content.buttonReply")),
            };
            return Ok(MessageContent::ButtonReply { reply, template });
        }
        if has("product") {
            return Err(ShardError::new(
                ErrorCode::NotSupported,
                "product messages are not built by this version; send one with relayMessage and Baileys' generateWAMessageFromContent",
            ));
        }
        if has("listReply") {
            let reply = content.get("listReply").cloned().unwrap_or(BValue::Null);
            if !matches!(reply, BValue::Object(_)) {
                return Err(invalid("content.listReply must be an object (proto.Message.IListResponseMessage)"));
            }
            return Ok(MessageContent::ListReply { reply });
        }
        if content.get("sharePhoneNumber").is_some() {
            return Ok(MessageContent::SharePhoneNumber);
        }
        if content.get("requestPhoneNumber").is_some() {
            return Ok(MessageContent::RequestPhoneNumber);
        }
        // Last, as in Baileys' generateWAMessageContent: anything else with a media key is media.
        if let Some(kind) = crate::media::MediaKind::of_content(content) {
            return Ok(MessageContent::Media(crate::media::MediaContent::from_baileys(kind, content, mentions(content)?)?));
        }
        Err(invalid(format!(
            "unsupported message content with keys {:?}; expected one of Baileys' kinds: text, image, video, audio, document, sticker, react, delete, edit, location, contacts, poll, forward, pin, groupInvite, buttonReply, listReply, disappearingMessagesInChat, sharePhoneNumber, requestPhoneNumber",
            content.keys()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> BValue {
        BValue::String(v.into())
    }

    #[test]
    fn bad_content_is_refused_by_name() {
        let err = |c: BValue| MessageContent::from_baileys(&c).unwrap_err();
        assert!(err(BValue::obj([("sticker", BValue::Int(1))])).message.contains("sticker"));
        assert!(err(BValue::obj([("text", BValue::Int(1))])).message.contains("content.text"));
        assert!(err(BValue::obj([("react", BValue::obj([("text", s("x"))]))])).message.contains("content.react.key"));
        assert!(err(BValue::obj([(
            "poll",
            BValue::obj([("name", s("n")), ("values", BValue::Array(vec![s("a")])), ("selectableCount", BValue::Int(3))])
        )]))
        .message
        .contains("selectableCount"));
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
