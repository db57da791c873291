//! Baileys-shaped objects → protobuf bytes: the reverse of [`crate::proto_to_baileys`].
//!
//! Bots hand us Baileys' message objects — `sendMessage(jid, content, { quoted: msg })` carries
//! `msg.message` (a `proto.IMessage`), `{ forward: msg }` a whole `WAMessage` — and we send
//! with whatsapp-rust, which wants `waproto` types. Those objects come in every form Baileys
//! users produce: protobufjs instances, their `toObject()` plain form, JSON revived with
//! `BufferJSON`, hand-written literals. So the encoder accepts what protobufjs'
//! `fromObject` accepts (Baileys itself runs `proto.Message.fromObject` on such input):
//!
//! - keys are protobufjs' property names (the same index as the decoder, so both directions
//!   agree by construction); unknown keys are ignored, as `fromObject` ignores them — Baileys'
//!   schema and waproto's differ a little, and `toObject({ oneofs: true })` adds virtual keys;
//! - `null` / absent = unset; a repeated field's empty array encodes nothing;
//! - integers: numbers (fractions truncated, as `fromObject` does), strings of digits,
//!   `BigInt`s, and for any integer field `Long` objects `{ low, high, unsigned }` (whose bits
//!   are taken as they are, like protobufjs does when it re-flags a Long's signedness);
//! - enums: numbers (unknown numbers kept) or value NAME strings;
//! - bytes: Buffers / typed arrays, arrays of byte numbers, base64 strings, and Node's
//!   `{ type: 'Buffer', data }` JSON form (a stored message parsed without a reviver);
//! - `map<K, V>` fields: objects keyed by the key's text.
//!
//! Unlike `fromObject`, which coerces nearly anything (`String(x)`, `x >>> 0`, `Boolean(x)`),
//! a value of the wrong type for a known field is an error naming the field's path, e.g.
//! `extendedTextMessage.contextInfo.stanzaId: expected string`: silently sending `"[object
//! Object]"` as a quoted message id helps nobody. Encoding follows the schema: proto2
//! (WhatsApp's), so repeated scalars are packed only where declared. Nothing here panics on
//! input; nesting is limited like the decoder's.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use crate::baileys_value::BValue;
use crate::proto_to_baileys::{wire_type_of, Field, Kind, Schema, WireType, MAX_DEPTH, SCHEMA};

pub use crate::proto_to_baileys::{MESSAGE, WEB_MESSAGE_INFO};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoEncodeError {
    /// A value that cannot be the field at `path` (`a.b[2].c`; empty = the top-level value).
    #[error("{}: {problem}", if path.is_empty() { "value" } else { path.as_str() })]
    Invalid { path: String, problem: String },
    #[error("protobuf: unknown message type {0}")]
    UnknownType(String),
    #[error("protobuf schema unusable: {0}")]
    Schema(String),
    /// waproto could not read what we encoded (a schema mismatch; should not happen).
    #[error("protobuf: waproto rejected the encoded message: {0}")]
    Rejected(String),
}

impl ProtoEncodeError {
    fn invalid(problem: impl Into<String>) -> Self {
        ProtoEncodeError::Invalid { path: String::new(), problem: problem.into() }
    }

    /// Prefixes the path with one segment while the error travels up: paths are only built
    /// for errors, so the success path allocates none.
    fn at(mut self, segment: &str) -> Self {
        if let ProtoEncodeError::Invalid { path, .. } = &mut self {
            let separator = if path.is_empty() || path.starts_with('[') { "" } else { "." };
            *path = format!("{segment}{separator}{path}");
        }
        self
    }
}

/// Encodes `value` (a Baileys-shaped object, see the module docs) as the protobuf message
/// `type_name` (a full name such as [`MESSAGE`]).
pub fn encode(type_name: &str, value: &BValue) -> Result<Vec<u8>, ProtoEncodeError> {
    let schema = SCHEMA.as_ref().map_err(|e| ProtoEncodeError::Schema(e.clone()))?;
    let index = schema.index_of(type_name).ok_or_else(|| ProtoEncodeError::UnknownType(type_name.to_owned()))?;
    let mut out = Vec::new();
    Encoder { schema }.message(index, value, 0, &mut out)?;
    Ok(out)
}

/// Baileys' `proto.IMessage` (e.g. `msg.message` of a quoted `WAMessage`) as a waproto
/// `Message`.
pub fn message_from_baileys(value: &BValue) -> Result<waproto::whatsapp::Message, ProtoEncodeError> {
    let bytes = encode(MESSAGE, value)?;
    waproto::codec::message_decode(&bytes).map_err(|e| ProtoEncodeError::Rejected(e.to_string()))
}

/// [`message_from_baileys`], re-encoded by waproto: the bytes whatsapp-rust would send, for
/// callers (the binding's tests) that have no waproto types.
pub fn message_bytes_from_baileys(value: &BValue) -> Result<Vec<u8>, ProtoEncodeError> {
    message_from_baileys(value).map(|message| waproto::codec::message_to_vec(&message))
}

/// Baileys' `WAMessage` (`proto.IWebMessageInfo`) as a waproto `WebMessageInfo`.
pub fn web_message_info_from_baileys(value: &BValue) -> Result<waproto::whatsapp::WebMessageInfo, ProtoEncodeError> {
    use buffa::Message as _;
    let bytes = encode(WEB_MESSAGE_INFO, value)?;
    waproto::whatsapp::WebMessageInfo::decode_from_slice(&bytes).map_err(|e| ProtoEncodeError::Rejected(e.to_string()))
}

struct Encoder<'s> {
    schema: &'s Schema,
}

impl Encoder<'_> {
    fn message(&self, index: usize, value: &BValue, depth: usize, out: &mut Vec<u8>) -> Result<(), ProtoEncodeError> {
        if depth > MAX_DEPTH {
            return Err(ProtoEncodeError::invalid(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let BValue::Object(entries) = value else {
            return Err(ProtoEncodeError::invalid("expected object"));
        };
        let message = self.schema.messages.get(index).ok_or_else(|| ProtoEncodeError::Schema(format!("no message type #{index}")))?;
        // Fields in number order, whatever the object's key order: the canonical encoding,
        // so equal messages give equal bytes.
        let mut present: Vec<(u32, &Field, &BValue)> = entries
            .iter()
            .filter(|(_, v)| !matches!(v, BValue::Null))
            .filter_map(|(key, v)| {
                let number = *message.by_name.get(key)?;
                Some((number, message.fields.get(&number)?, v))
            })
            .collect();
        present.sort_by_key(|(number, _, _)| *number);
        for (number, field, v) in present {
            self.field(number, field, v, depth, out).map_err(|e| e.at(&field.name))?;
        }
        Ok(())
    }

    fn field(&self, number: u32, field: &Field, value: &BValue, depth: usize, out: &mut Vec<u8>) -> Result<(), ProtoEncodeError> {
        if field.map {
            return self.map_field(number, field, value, depth, out);
        }
        if !field.repeated {
            return self.single(number, field, value, depth, out);
        }
        let BValue::Array(items) = value else {
            return Err(ProtoEncodeError::invalid("expected array"));
        };
        if field.packed {
            if items.is_empty() {
                return Ok(()); // protobufjs writes no empty packed run either
            }
            let mut run = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let scalar = scalar(self.schema, field, item).map_err(|e| e.at(&format!("[{i}]")))?;
                scalar.write_value(&mut run);
            }
            write_tag(out, number, WireType::Len);
            write_len_prefixed(out, &run);
            return Ok(());
        }
        for (i, item) in items.iter().enumerate() {
            self.single(number, field, item, depth, out).map_err(|e| e.at(&format!("[{i}]")))?;
        }
        Ok(())
    }

    /// One value of `field` (a singular field, or one element of a repeated one) with its tag.
    fn single(&self, number: u32, field: &Field, value: &BValue, depth: usize, out: &mut Vec<u8>) -> Result<(), ProtoEncodeError> {
        if let Kind::Message(target) = field.kind {
            // Nested messages are written to their own buffer first: the length goes before
            // the content. (Message nesting is shallow in practice; the copy is cheap.)
            let mut nested = Vec::new();
            self.message(target, value, depth + 1, &mut nested)?;
            write_tag(out, number, WireType::Len);
            write_len_prefixed(out, &nested);
            return Ok(());
        }
        let scalar = scalar(self.schema, field, value)?;
        write_tag(out, number, wire_type_of(field.kind));
        scalar.write_value(out);
        Ok(())
    }

    /// A `map<K, V>` field: an object whose keys are the map keys' text (JS object keys are
    /// strings), each written as a `MapEntry { key = 1; value = 2; }` message.
    fn map_field(&self, number: u32, field: &Field, value: &BValue, depth: usize, out: &mut Vec<u8>) -> Result<(), ProtoEncodeError> {
        let BValue::Object(entries) = value else {
            return Err(ProtoEncodeError::invalid("expected object"));
        };
        let Kind::Message(entry_index) = field.kind else {
            return Err(ProtoEncodeError::Schema(format!("map field {} has no entry type", field.name)));
        };
        let entry_type =
            self.schema.messages.get(entry_index).ok_or_else(|| ProtoEncodeError::Schema(format!("no message type #{entry_index}")))?;
        let (Some(key_field), Some(value_field)) = (entry_type.fields.get(&1), entry_type.fields.get(&2)) else {
            return Err(ProtoEncodeError::Schema(format!("map field {} lacks key or value", field.name)));
        };
        for (key, item) in entries {
            if matches!(item, BValue::Null) {
                continue;
            }
            let mut entry = Vec::new();
            let key_value = match key_field.kind {
                // A bool key's text is "true"/"false"; the scalar rules take no strings for bool.
                Kind::Bool => match key.as_str() {
                    "true" => BValue::Bool(true),
                    "false" => BValue::Bool(false),
                    _ => return Err(ProtoEncodeError::invalid("expected key true or false").at(key)),
                },
                _ => BValue::String(key.clone()),
            };
            self.single(1, key_field, &key_value, depth + 1, &mut entry).map_err(|e| e.at(key))?;
            self.single(2, value_field, item, depth + 1, &mut entry).map_err(|e| e.at(key))?;
            write_tag(out, number, WireType::Len);
            write_len_prefixed(out, &entry);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Scalars: BValue → one wire value, with protobufjs' `fromObject` conversions.

enum Scalar<'a> {
    Varint(u64),
    Fixed32(u32),
    Fixed64(u64),
    Bytes(std::borrow::Cow<'a, [u8]>),
}

impl Scalar<'_> {
    fn write_value(&self, out: &mut Vec<u8>) {
        match self {
            Scalar::Varint(v) => write_varint(out, *v),
            Scalar::Fixed32(v) => out.extend_from_slice(&v.to_le_bytes()),
            Scalar::Fixed64(v) => out.extend_from_slice(&v.to_le_bytes()),
            Scalar::Bytes(b) => write_len_prefixed(out, b),
        }
    }
}

/// An integer as given: an exact value, or the raw 64 bits of a `Long`.
enum IntInput {
    Exact(i128),
    LongBits { bits: u64, unsigned: bool },
}

fn scalar<'a>(schema: &Schema, field: &Field, value: &'a BValue) -> Result<Scalar<'a>, ProtoEncodeError> {
    let expected = |what: &str| ProtoEncodeError::invalid(format!("expected {what}"));
    Ok(match field.kind {
        Kind::String => match value {
            BValue::String(s) => Scalar::Bytes(s.as_bytes().into()),
            _ => return Err(expected("string")),
        },
        Kind::Bytes => Scalar::Bytes(bytes(value).ok_or_else(|| expected("bytes (Buffer, Uint8Array or base64 string)"))?),
        Kind::Bool => match value {
            BValue::Bool(b) => Scalar::Varint(u64::from(*b)),
            _ => return Err(expected("bool")),
        },
        Kind::Double => Scalar::Fixed64(float(value).ok_or_else(|| expected("number"))?.to_bits()),
        Kind::Float => Scalar::Fixed32((float(value).ok_or_else(|| expected("number"))? as f32).to_bits()),
        Kind::Enum => {
            let number = match value {
                BValue::String(name) => {
                    let values = field.enum_type.and_then(|i| schema.enums.get(i));
                    *values
                        .and_then(|values| values.get(name))
                        .ok_or_else(|| ProtoEncodeError::invalid(format!("unknown enum value {name:?}")))?
                }
                // Any int32 number, known to the schema or not (protobufjs keeps unknown numbers).
                _ => int32(value).ok_or_else(|| expected("enum number or name"))?,
            };
            // Negative int32s are sign-extended to ten bytes, as protobuf specifies.
            Scalar::Varint(i64::from(number) as u64)
        }
        Kind::Int32 => Scalar::Varint(i64::from(int32(value).ok_or_else(|| expected("int32"))?) as u64),
        Kind::Sint32 => {
            let n = int32(value).ok_or_else(|| expected("sint32"))?;
            Scalar::Varint(u64::from(((n << 1) ^ (n >> 31)) as u32))
        }
        Kind::Sfixed32 => Scalar::Fixed32(int32(value).ok_or_else(|| expected("sfixed32"))? as u32),
        Kind::Uint32 => Scalar::Varint(u64::from(uint32(value).ok_or_else(|| expected("uint32"))?)),
        Kind::Fixed32 => Scalar::Fixed32(uint32(value).ok_or_else(|| expected("fixed32"))?),
        Kind::Int64 => Scalar::Varint(int64_bits(value, true).ok_or_else(|| expected("int64"))?),
        Kind::Uint64 => Scalar::Varint(int64_bits(value, false).ok_or_else(|| expected("uint64"))?),
        Kind::Sfixed64 => Scalar::Fixed64(int64_bits(value, true).ok_or_else(|| expected("sfixed64"))?),
        Kind::Fixed64 => Scalar::Fixed64(int64_bits(value, false).ok_or_else(|| expected("fixed64"))?),
        Kind::Sint64 => {
            let n = int64_bits(value, true).ok_or_else(|| expected("sint64"))? as i64;
            Scalar::Varint(((n << 1) ^ (n >> 63)) as u64)
        }
        Kind::Message(_) => return Err(ProtoEncodeError::Schema("a message is not a scalar".into())),
    })
}

/// protobufjs' base64 decoder: the standard alphabet, padding optional, stray low bits ignored.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent).with_decode_allow_trailing_bits(true),
);

fn bytes(value: &BValue) -> Option<std::borrow::Cow<'_, [u8]>> {
    match value {
        BValue::Bytes(b) => Some(b.as_slice().into()),
        BValue::String(s) => BASE64.decode(s).ok().map(Into::into),
        BValue::Array(items) => byte_array(items).map(Into::into),
        // Node's `Buffer#toJSON` form (and Baileys' BufferJSON's, data as base64).
        BValue::Object(_) if value.get("type").and_then(BValue::as_str) == Some("Buffer") => match value.get("data")? {
            BValue::Array(items) => byte_array(items).map(Into::into),
            BValue::String(s) => BASE64.decode(s).ok().map(Into::into),
            _ => None,
        },
        _ => None,
    }
}

fn byte_array(items: &[BValue]) -> Option<Vec<u8>> {
    items
        .iter()
        .map(|item| match item {
            BValue::Int(v) => u8::try_from(*v).ok(),
            BValue::Uint(v) => u8::try_from(*v).ok(),
            _ => None,
        })
        .collect()
}

fn float(value: &BValue) -> Option<f64> {
    match value {
        BValue::Float(f) => Some(*f),
        BValue::Int(v) => Some(*v as f64),
        BValue::Uint(v) => Some(*v as f64),
        // `fromObject` runs `Number(x)`: numeric strings are numbers.
        BValue::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An integer in any form `fromObject` takes (see the module docs); `None` if it is none.
fn integer(value: &BValue) -> Option<IntInput> {
    match value {
        BValue::Int(v) => Some(IntInput::Exact(i128::from(*v))),
        BValue::Uint(v) => Some(IntInput::Exact(i128::from(*v))),
        // Fractions are truncated like `x >>> 0` / `Long.fromNumber` do; NaN and ±∞ are errors
        // (protobufjs would quietly make them 0). The cast saturates, and a saturated value
        // fails the caller's range check.
        BValue::Float(f) if f.is_finite() => Some(IntInput::Exact(f.trunc() as i128)),
        BValue::String(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok().map(IntInput::Exact)
        }
        BValue::Object(_) => {
            // A `Long`: `low` and `high` are the two 32-bit halves, as int32 or uint32 numbers.
            let half = |key: &str| match value.get(key)? {
                BValue::Int(v) if (i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(v) => Some(*v as u32),
                BValue::Uint(v) => u32::try_from(*v).ok(),
                _ => None,
            };
            let bits = u64::from(half("high")?) << 32 | u64::from(half("low")?);
            let unsigned = matches!(value.get("unsigned"), Some(BValue::Bool(true)));
            Some(IntInput::LongBits { bits, unsigned })
        }
        _ => None,
    }
}

/// The value of an integer input, with a `Long` read according to its own signedness.
fn exact(input: IntInput) -> i128 {
    match input {
        IntInput::Exact(v) => v,
        IntInput::LongBits { bits, unsigned: true } => i128::from(bits),
        IntInput::LongBits { bits, unsigned: false } => i128::from(bits as i64),
    }
}

fn int32(value: &BValue) -> Option<i32> {
    i32::try_from(exact(integer(value)?)).ok()
}

fn uint32(value: &BValue) -> Option<u32> {
    u32::try_from(exact(integer(value)?)).ok()
}

/// The 64 wire bits of a 64-bit integer field. Exact values must fit the field's range; a
/// `Long`'s bits are taken as they are whatever its `unsigned` flag (protobufjs re-flags the
/// Long to the field's signedness without touching its bits).
fn int64_bits(value: &BValue, signed: bool) -> Option<u64> {
    match integer(value)? {
        IntInput::LongBits { bits, .. } => Some(bits),
        IntInput::Exact(v) if signed => i64::try_from(v).ok().map(|v| v as u64),
        IntInput::Exact(v) => u64::try_from(v).ok(),
    }
}

// ---------------------------------------------------------------------------------------------
// The wire format.

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn write_tag(out: &mut Vec<u8>, number: u32, wire_type: WireType) {
    let code = match wire_type {
        WireType::Varint => 0,
        WireType::I64 => 1,
        WireType::Len => 2,
        WireType::StartGroup => 3,
        WireType::EndGroup => 4,
        WireType::I32 => 5,
    };
    write_varint(out, u64::from(number) << 3 | code);
}

fn write_len_prefixed(out: &mut Vec<u8>, payload: &[u8]) {
    write_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto_to_baileys::{decode, message_to_baileys};
    use buffa::MessageField;
    use waproto::whatsapp::{self as wa, message};

    fn obj(fields: &[(&str, BValue)]) -> BValue {
        BValue::Object(fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }
    fn s(v: &str) -> BValue {
        BValue::String(v.to_owned())
    }

    fn key() -> wa::MessageKey {
        wa::MessageKey {
            remote_jid: Some("123@s.whatsapp.net".into()),
            from_me: Some(true),
            id: Some("3EB0ABC".into()),
            ..Default::default()
        }
    }

    /// Decoding to the Baileys shape and encoding back gives the same waproto message.
    fn assert_round_trip(msg: wa::Message) {
        let shaped = message_to_baileys(&msg).expect("decodes");
        let back = message_from_baileys(&shaped).expect("encodes");
        assert_eq!(back, msg, "shape: {shaped:#?}");
        // Both sides write fields in number order, so even the bytes agree.
        assert_eq!(encode(MESSAGE, &shaped).unwrap(), waproto::codec::message_to_vec(&msg));
    }

    fn samples() -> Vec<wa::Message> {
        let quoted = wa::Message { conversation: Some("original".into()), ..Default::default() };
        let option = |name: &str| message::poll_creation_message::Option { option_name: Some(name.into()), ..Default::default() };
        vec![
            wa::Message { conversation: Some("hi".into()), ..Default::default() },
            wa::Message {
                extended_text_message: MessageField::some(message::ExtendedTextMessage {
                    text: Some("hello @1 @2".into()),
                    context_info: MessageField::some(wa::ContextInfo {
                        stanza_id: Some("QUOTED1".into()),
                        participant: Some("456@s.whatsapp.net".into()),
                        quoted_message: MessageField::some(quoted),
                        mentioned_jid: vec!["1@s.whatsapp.net".into(), "2@s.whatsapp.net".into()],
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
            wa::Message {
                image_message: MessageField::some(message::ImageMessage {
                    url: Some("https://mmg.whatsapp.net/x".into()),
                    mimetype: Some("image/jpeg".into()),
                    file_sha256: Some(vec![1, 2, 3]),
                    file_length: Some(u64::MAX - 5),
                    height: Some(640),
                    media_key: Some(vec![9; 32]),
                    jpeg_thumbnail: Some(Vec::new()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            wa::Message {
                reaction_message: MessageField::some(message::ReactionMessage {
                    key: MessageField::some(key()),
                    text: Some("👍".into()),
                    sender_timestamp_ms: Some(-(1 << 60) - 1),
                    ..Default::default()
                }),
                ..Default::default()
            },
            wa::Message {
                protocol_message: MessageField::some(message::ProtocolMessage {
                    key: MessageField::some(key()),
                    r#type: Some(message::protocol_message::Type::EPHEMERAL_SETTING),
                    ephemeral_expiration: Some(86_400),
                    ..Default::default()
                }),
                ..Default::default()
            },
            wa::Message {
                location_message: MessageField::some(message::LocationMessage {
                    degrees_latitude: Some(-23.5505),
                    degrees_longitude: Some(-46.6333),
                    name: Some("São Paulo".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            wa::Message {
                poll_creation_message: MessageField::some(message::PollCreationMessage {
                    name: Some("Lunch?".into()),
                    options: vec![option("Pizza"), option("Sushi")],
                    selectable_options_count: Some(1),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ]
    }

    #[test]
    fn decoded_messages_encode_back_to_the_same_message() {
        for msg in samples() {
            assert_round_trip(msg);
        }
    }

    #[test]
    fn web_message_info_round_trips() {
        let info = wa::WebMessageInfo {
            key: MessageField::some(key()),
            message: MessageField::some(wa::Message { conversation: Some("hi".into()), ..Default::default() }),
            message_timestamp: Some(1_700_000_000),
            push_name: Some("Ann".into()),
            ..Default::default()
        };
        let shaped = crate::proto_to_baileys::web_message_info_to_baileys(&info).unwrap();
        assert_eq!(web_message_info_from_baileys(&shaped).unwrap(), info);
    }

    #[test]
    fn wrong_types_name_the_field_path() {
        let value = obj(&[("extendedTextMessage", obj(&[("text", s("x")), ("contextInfo", obj(&[("stanzaId", BValue::Int(5))]))]))]);
        let err = encode(MESSAGE, &value).unwrap_err();
        assert_eq!(err.to_string(), "extendedTextMessage.contextInfo.stanzaId: expected string");

        let value = obj(&[(
            "extendedTextMessage",
            obj(&[("contextInfo", obj(&[("mentionedJid", BValue::Array(vec![s("1@s.whatsapp.net"), BValue::Bool(true)]))]))]),
        )]);
        assert_eq!(encode(MESSAGE, &value).unwrap_err().to_string(), "extendedTextMessage.contextInfo.mentionedJid[1]: expected string");

        let cases = [
            (obj(&[("conversation", BValue::Bytes(vec![1]))]), "conversation: expected string"),
            (obj(&[("imageMessage", s("x"))]), "imageMessage: expected object"),
            (obj(&[("imageMessage", obj(&[("height", BValue::Int(-1))]))]), "imageMessage.height: expected uint32"),
            (obj(&[("imageMessage", obj(&[("fileLength", s("12x"))]))]), "imageMessage.fileLength: expected uint64"),
            (obj(&[("imageMessage", obj(&[("fileLength", BValue::Float(f64::NAN))]))]), "imageMessage.fileLength: expected uint64"),
            (
                obj(&[("imageMessage", obj(&[("mediaKey", s("not base64!"))]))]),
                "imageMessage.mediaKey: expected bytes (Buffer, Uint8Array or base64 string)",
            ),
            (obj(&[("imageMessage", obj(&[("viewOnce", BValue::Int(1))]))]), "imageMessage.viewOnce: expected bool"),
            (obj(&[("protocolMessage", obj(&[("type", s("NOPE"))]))]), "protocolMessage.type: unknown enum value \"NOPE\""),
            (obj(&[("pollCreationMessage", obj(&[("options", obj(&[]))]))]), "pollCreationMessage.options: expected array"),
            (
                obj(&[("pollCreationMessage", obj(&[("options", BValue::Array(vec![BValue::Null]))]))]),
                "pollCreationMessage.options[0]: expected object",
            ),
            (BValue::Array(vec![]), "value: expected object"),
        ];
        for (value, message) in cases {
            assert_eq!(encode(MESSAGE, &value).unwrap_err().to_string(), message);
        }
        assert_eq!(encode("whatsapp.Nope", &BValue::object()), Err(ProtoEncodeError::UnknownType("whatsapp.Nope".into())));
    }

    fn file_length(value: BValue) -> Option<u64> {
        let msg = message_from_baileys(&obj(&[("imageMessage", obj(&[("fileLength", value)]))])).unwrap();
        msg.image_message.as_option().and_then(|m| m.file_length)
    }

    fn long(low: i64, high: i64, unsigned: bool) -> BValue {
        obj(&[("low", BValue::Int(low)), ("high", BValue::Int(high)), ("unsigned", BValue::Bool(unsigned))])
    }

    #[test]
    fn uint64_from_numbers_strings_and_longs() {
        assert_eq!(file_length(BValue::Int(123_456)), Some(123_456));
        assert_eq!(file_length(BValue::Float(12.9)), Some(12)); // truncated, like fromObject
        assert_eq!(file_length(s("18446744073709551615")), Some(u64::MAX));
        assert_eq!(file_length(long(123_456, 0, true)), Some(123_456));
        // Long halves are int32s: low -1 is 0xffffffff.
        assert_eq!(file_length(long(-1, 1, true)), Some(0x1_ffff_ffff));
        assert_eq!(file_length(long(-1, -1, true)), Some(u64::MAX));
        // A signed Long in an unsigned field keeps its bits, as protobufjs re-flags it.
        assert_eq!(file_length(long(-1, -1, false)), Some(u64::MAX));
        // Without the `unsigned` key (a hand-written literal) it is still a Long.
        assert_eq!(file_length(obj(&[("low", BValue::Int(7)), ("high", BValue::Int(0))])), Some(7));
        let err = encode(MESSAGE, &obj(&[("imageMessage", obj(&[("fileLength", s("-1"))]))])).unwrap_err();
        assert_eq!(err.to_string(), "imageMessage.fileLength: expected uint64");
    }

    #[test]
    fn int64_from_strings_and_longs() {
        let ts = |value: BValue| {
            let msg = message_from_baileys(&obj(&[("reactionMessage", obj(&[("senderTimestampMs", value)]))])).unwrap();
            msg.reaction_message.as_option().and_then(|m| m.sender_timestamp_ms)
        };
        assert_eq!(ts(s("1700000000123")), Some(1_700_000_000_123));
        assert_eq!(ts(s("-5")), Some(-5));
        assert_eq!(ts(BValue::Uint(1_700_000_000_123)), Some(1_700_000_000_123));
        assert_eq!(ts(long(-1, -1, false)), Some(-1));
        assert_eq!(ts(long(0x2345_6789, 0x1, false)), Some(0x1_2345_6789));
    }

    #[test]
    fn enums_by_number_or_name_and_bytes_in_every_form() {
        let revoke = |t: BValue| {
            let msg = message_from_baileys(&obj(&[("protocolMessage", obj(&[("type", t)]))])).unwrap();
            msg.protocol_message.as_option().and_then(|m| m.r#type)
        };
        assert_eq!(revoke(BValue::Int(3)), Some(message::protocol_message::Type::EPHEMERAL_SETTING));
        assert_eq!(revoke(s("EPHEMERAL_SETTING")), Some(message::protocol_message::Type::EPHEMERAL_SETTING));
        assert_eq!(revoke(s("REVOKE")), Some(message::protocol_message::Type::REVOKE));

        let sha = |v: BValue| {
            let msg = message_from_baileys(&obj(&[("imageMessage", obj(&[("fileSha256", v)]))])).unwrap();
            msg.image_message.as_option().and_then(|m| m.file_sha256.clone())
        };
        assert_eq!(sha(BValue::Bytes(vec![1, 2, 250])), Some(vec![1, 2, 250]));
        assert_eq!(sha(s("AQL6")), Some(vec![1, 2, 250]));
        assert_eq!(sha(s("AQL")), Some(vec![1, 2])); // unpadded, as protobufjs reads it
        assert_eq!(sha(BValue::Array(vec![BValue::Int(1), BValue::Uint(2), BValue::Int(250)])), Some(vec![1, 2, 250]));
        let node_json = obj(&[("type", s("Buffer")), ("data", BValue::Array(vec![BValue::Int(1), BValue::Int(2)]))]);
        assert_eq!(sha(node_json), Some(vec![1, 2]));
        assert!(encode(MESSAGE, &obj(&[("imageMessage", obj(&[("fileSha256", BValue::Array(vec![BValue::Int(256)]))]))])).is_err());
    }

    #[test]
    fn unknown_keys_and_nulls_are_ignored() {
        let value = obj(&[
            ("conversation", s("hi")),
            ("notAField", obj(&[("anything", BValue::Bool(true))])),
            ("imageMessage", BValue::Null),
            ("extendedTextMessage", obj(&[("text", BValue::Null), ("contextInfo", obj(&[("mentionedJid", BValue::Array(vec![]))]))])),
        ]);
        let msg = message_from_baileys(&value).unwrap();
        assert_eq!(msg.conversation.as_deref(), Some("hi"));
        assert!(msg.image_message.as_option().is_none());
        let ext = msg.extended_text_message.as_option().unwrap();
        assert_eq!(ext.text, None);
        assert!(ext.context_info.as_option().unwrap().mentioned_jid.is_empty());
    }

    #[test]
    fn packed_only_where_declared_and_maps_from_objects() {
        // ADVKeyIndexList.validIndexes = 4 [packed = true]: one packed run.
        let v = obj(&[("validIndexes", BValue::Array(vec![BValue::Int(1), BValue::Int(300)]))]);
        assert_eq!(encode("whatsapp.ADVKeyIndexList", &v).unwrap(), [0x22, 0x03, 0x01, 0xac, 0x02]);
        // Config.field = map<uint32, Field>: keys are the numbers' text.
        let v = obj(&[("field", obj(&[("7", obj(&[])), ("9", BValue::Null)]))]);
        let bytes = encode("whatsapp.Config", &v).unwrap();
        assert_eq!(bytes, [0x0a, 0x04, 0x08, 0x07, 0x12, 0x00]);
        assert_eq!(decode("whatsapp.Config", &bytes).unwrap().get("field").map(BValue::keys), Some(vec!["7"]));
        let bad = obj(&[("field", obj(&[("x", obj(&[]))]))]);
        assert_eq!(encode("whatsapp.Config", &bad).unwrap_err().to_string(), "field.x: expected uint32");
    }

    #[test]
    fn nesting_is_bounded() {
        let mut value = obj(&[("conversation", s("bottom"))]);
        for _ in 0..200 {
            value = obj(&[("extendedTextMessage", obj(&[("contextInfo", obj(&[("quotedMessage", value)]))]))]);
        }
        match encode(MESSAGE, &value) {
            Err(ProtoEncodeError::Invalid { problem, .. }) => assert!(problem.contains("nested deeper")),
            other => panic!("expected a depth error, got {other:?}"),
        }
    }
}
