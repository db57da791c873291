//! Protobuf bytes → the object Baileys would hand a bot: THE message conversion of the project.
//!
//! Baileys decodes every WhatsApp protobuf with protobufjs static code (`baileys/WAProto`) and
//! emits the decoded instances. Bots depend on their exact shape, so this module reproduces
//! what a protobufjs instance exposes as own properties, field by field:
//!
//! - names are protobufjs' names: the `.proto` name with `_x` turned into `X` (protobufjs'
//!   `util.camelCase`; the WhatsApp schema is already camelCase, so `extendedTextMessage`,
//!   `contextInfo`, `stanzaId`, `fileSha256` come out unchanged);
//! - a field is present iff it was on the wire (proto2: no defaults are filled in), oneof
//!   members are plain fields of their parent (protobufjs' oneof accessor is a prototype
//!   getter, not an own property);
//! - repeated fields are arrays and maps are objects, and — like protobufjs' constructors,
//!   which run `this.mentionedJid = []` for every instance — they are present (empty) on
//!   every decoded message object even when the wire has no element; they come first, in
//!   declaration order, then the set fields in wire order (protobufjs' key order);
//! - `bytes` are [`BValue::Bytes`] (→ `Buffer`), enums are numbers (unknown values kept);
//! - 64-bit integers are exact [`BValue::Int`]/[`BValue::Uint`]. Baileys gives `Long` objects
//!   there; the binding gives a plain JS number instead, or a `BigInt` past 2^53 - 1, where a
//!   number would lose digits;
//! - a message field that occurs twice is replaced, not merged (protobufjs' static decode
//!   does the same).
//!
//! The schema is not hand-written: it is the `FileDescriptorSet` that waproto 0.7.0 generates
//! its Rust types from (located by `build.rs`), so every message type waproto knows is
//! covered, and the names cannot drift from the types we encode with. The wire decoding is done
//! here (it is small); malformed bytes give a [`ProtoDecodeError`], never a panic.

use std::collections::HashMap;
use std::sync::LazyLock;

use buffa::Message as _;
use buffa_descriptor::generated::descriptor::field_descriptor_proto::{Label, Type};
use buffa_descriptor::generated::descriptor::{DescriptorProto, FileDescriptorSet};

use crate::baileys_value::BValue;

/// The schema waproto's types are generated from; see `build.rs` for how it is found.
static DESCRIPTOR_SET: &[u8] = include_bytes!(env!("WAPROTO_DESCRIPTOR_PATH"));

/// Full name of WhatsApp's `Message` (Baileys' `proto.Message`) in waproto's schema.
/// The package of WhatsApp's schema in waproto's descriptors (Baileys calls it `proto`).
const WHATSAPP_PACKAGE: &str = "whatsapp";
pub const MESSAGE: &str = "whatsapp.Message";
/// Full name of `WebMessageInfo` (Baileys' `proto.WebMessageInfo`, i.e. `WAMessage`).
pub const WEB_MESSAGE_INFO: &str = "whatsapp.WebMessageInfo";

/// Nesting limit, the same as buffa's default decode limit: a quoted message quoting a
/// quoted message... from the network must not overflow the stack.
pub(crate) const MAX_DEPTH: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoDecodeError {
    #[error("protobuf: unexpected end of input")]
    Truncated,
    #[error("protobuf: varint longer than 10 bytes")]
    VarintTooLong,
    #[error("protobuf: invalid wire type {0}")]
    InvalidWireType(u8),
    #[error("protobuf: field number 0")]
    FieldNumberZero,
    #[error("protobuf: end-group tag without a start")]
    UnexpectedEndGroup,
    #[error("protobuf: nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("protobuf: unknown message type {0}")]
    UnknownType(String),
    #[error("protobuf schema unusable: {0}")]
    Schema(String),
}

/// Decodes `bytes` as the protobuf message `type_name` (full name such as [`MESSAGE`]) into
/// the object protobufjs would produce (see the module docs).
pub fn decode(type_name: &str, bytes: &[u8]) -> Result<BValue, ProtoDecodeError> {
    let schema = schema()?;
    let index = schema.index_of(type_name).ok_or_else(|| ProtoDecodeError::UnknownType(type_name.to_owned()))?;
    schema.decode_message(index, bytes, 0)
}

/// A waproto `Message` as Baileys' `proto.IMessage` (`msg.message` of a `WAMessage`).
///
/// Errors only if the message nests deeper than 100 levels.
pub fn message_to_baileys(msg: &waproto::whatsapp::Message) -> Result<BValue, ProtoDecodeError> {
    decode(MESSAGE, &waproto::codec::message_to_vec(msg))
}

/// An enum's path and its values (name, number).
pub type SchemaEnum = (String, Vec<(String, i32)>);

/// WhatsApp's schema as Baileys' `proto` namespace sees it: every message type's name and every
/// enum with its values, by path without the package (`Message.ProtocolMessage.Type`).
pub fn whatsapp_schema() -> Result<(Vec<String>, Vec<SchemaEnum>), ProtoDecodeError> {
    let schema = schema()?;
    let prefix = format!("{WHATSAPP_PACKAGE}.");
    let strip = |name: &str| name.strip_prefix(prefix.as_str()).map(str::to_owned);
    let messages = schema.by_name.keys().filter_map(|n| strip(n)).collect();
    let enums = schema.enum_list.iter().filter_map(|(n, values)| Some((strip(n)?, values.clone()))).collect();
    Ok((messages, enums))
}

/// The full name of a WhatsApp message type from its path without the package.
pub fn whatsapp_type(path: &str) -> String {
    format!("{WHATSAPP_PACKAGE}.{path}")
}

/// A waproto `WebMessageInfo` as Baileys' `WAMessage` (`proto.IWebMessageInfo`).
///
/// Errors only if the message nests deeper than 100 levels.
pub fn web_message_info_to_baileys(info: &waproto::whatsapp::WebMessageInfo) -> Result<BValue, ProtoDecodeError> {
    decode(WEB_MESSAGE_INFO, &info.encode_to_vec())
}

// ---------------------------------------------------------------------------------------------
// The schema index, built once from the descriptor set. `baileys_to_proto` encodes with the
// same index, so both directions agree on names and kinds by construction.

/// What a field holds, i.e. how its wire value is read. Groups are absent: WhatsApp's schema
/// has none, and a group on the wire is skipped like an unknown field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Double,
    Float,
    Int64,
    Uint64,
    Int32,
    Fixed64,
    Fixed32,
    Bool,
    String,
    Bytes,
    Uint32,
    Enum,
    Sfixed32,
    Sfixed64,
    Sint32,
    Sint64,
    /// Index of the message type in [`Schema::messages`].
    Message(usize),
}

#[derive(Debug)]
pub(crate) struct Field {
    /// protobufjs' property name.
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) repeated: bool,
    /// A `map<K, V>` field (repeated `MapEntry` message): decoded into an object keyed by K.
    pub(crate) map: bool,
    /// Written as one packed run when encoding: declared `[packed = true]`, or a repeated
    /// scalar of a proto3 file without `[packed = false]` (the decoder accepts either form).
    pub(crate) packed: bool,
    /// For an enum field, its index in [`Schema::enums`] (the encoder accepts value names).
    pub(crate) enum_type: Option<usize>,
}

#[derive(Debug, Default)]
pub(crate) struct MessageType {
    /// By field number.
    pub(crate) fields: HashMap<u32, Field>,
    /// Repeated and map fields in declaration order: every instance starts with them empty.
    collections: Vec<u32>,
    /// Field numbers by protobufjs name, for the encoder (it reads objects by key).
    pub(crate) by_name: HashMap<String, u32>,
}

#[derive(Debug)]
pub(crate) struct Schema {
    pub(crate) messages: Vec<MessageType>,
    by_name: HashMap<String, usize>,
    /// Enum types: value name → number.
    pub(crate) enums: Vec<HashMap<String, i32>>,
    /// Enum types' full names and values in declaration order, for Baileys' `proto` enums.
    enum_list: Vec<(String, Vec<(String, i32)>)>,
}

pub(crate) static SCHEMA: LazyLock<Result<Schema, String>> = LazyLock::new(|| Schema::parse(DESCRIPTOR_SET));

fn schema() -> Result<&'static Schema, ProtoDecodeError> {
    SCHEMA.as_ref().map_err(|e| ProtoDecodeError::Schema(e.clone()))
}

/// protobufjs' `util.camelCase`, which pbjs applies to every field name (Baileys' WAProto is
/// generated without `--keep-case`): the first character is kept, and each `_` followed by a
/// lowercase ASCII letter becomes that letter uppercased. Deliberately not the descriptor's
/// `json_name` (protoc's rule also drops `_` before digits and capitals), since the oracle is
/// protobufjs.
fn protobufjs_name(proto_name: &str) -> String {
    let mut out = String::with_capacity(proto_name.len());
    let mut chars = proto_name.chars().peekable();
    if let Some(first) = chars.next() {
        out.push(first);
    }
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('_', Some(&next)) if next.is_ascii_lowercase() => {
                out.push(next.to_ascii_uppercase());
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

impl Schema {
    fn parse(descriptor_set: &[u8]) -> Result<Schema, String> {
        let set = FileDescriptorSet::decode_from_slice(descriptor_set).map_err(|e| e.to_string())?;
        // Two passes: message types reference each other (and themselves) by name, so first
        // number every type, then build fields with resolved indexes.
        let mut flat: Vec<(String, &DescriptorProto, bool)> = Vec::new();
        let mut enums: Vec<HashMap<String, i32>> = Vec::new();
        let mut enum_by_name: HashMap<String, usize> = HashMap::new();
        let mut enum_list = Vec::new();
        for file in &set.file {
            let package = file.package.as_deref().unwrap_or("");
            // proto3 packs repeated scalars by default; proto2 (WhatsApp's schema) only on request.
            let proto3 = file.syntax.as_deref() == Some("proto3");
            let first_of_file = flat.len();
            for message in &file.message_type {
                collect(package, message, proto3, &mut flat);
            }
            // Enums are only looked up by the encoder (names → numbers), but they are indexed
            // here with the messages so that enum fields resolve in the same single pass.
            let top_level = file.enum_type.iter().map(|e| (package.to_owned(), e));
            let nested = flat[first_of_file..].iter().flat_map(|(scope, d, _)| d.enum_type.iter().map(move |e| (scope.clone(), e)));
            for (scope, descriptor) in top_level.chain(nested) {
                let name = descriptor.name.as_deref().unwrap_or("");
                let full_name = if scope.is_empty() { name.to_owned() } else { format!("{scope}.{name}") };
                let ordered: Vec<(String, i32)> = descriptor.value.iter().filter_map(|v| Some((v.name.clone()?, v.number?))).collect();
                enum_by_name.insert(full_name.clone(), enums.len());
                enums.push(ordered.iter().cloned().collect());
                enum_list.push((full_name, ordered));
            }
        }
        let by_name: HashMap<String, usize> = flat.iter().enumerate().map(|(i, (name, _, _))| (name.clone(), i)).collect();
        let map_entries: Vec<bool> =
            flat.iter().map(|(_, d, _)| d.options.as_option().and_then(|o| o.map_entry).unwrap_or(false)).collect();

        // WhatsApp's messages start with empty collections only where Baileys 6.7.21's schema
        // has them: a bot never sees an empty field Baileys would not give it (issue #13 item 7).
        let baileys: std::collections::HashSet<(&str, &str)> = crate::baileys_collections::BAILEYS_COLLECTIONS.iter().copied().collect();
        let whatsapp_prefix = format!("{WHATSAPP_PACKAGE}.");
        let mut messages = Vec::with_capacity(flat.len());
        for (full_name, descriptor, proto3) in &flat {
            let baileys_path = full_name.strip_prefix(whatsapp_prefix.as_str());
            let mut message = MessageType::default();
            for field in &descriptor.field {
                let (Some(name), Some(number)) = (field.name.as_deref(), field.number) else {
                    return Err(format!("{full_name}: a field without name or number"));
                };
                let number = u32::try_from(number).map_err(|_| format!("{full_name}.{name}: bad number"))?;
                let kind = match field.r#type {
                    Some(Type::TYPE_DOUBLE) => Kind::Double,
                    Some(Type::TYPE_FLOAT) => Kind::Float,
                    Some(Type::TYPE_INT64) => Kind::Int64,
                    Some(Type::TYPE_UINT64) => Kind::Uint64,
                    Some(Type::TYPE_INT32) => Kind::Int32,
                    Some(Type::TYPE_FIXED64) => Kind::Fixed64,
                    Some(Type::TYPE_FIXED32) => Kind::Fixed32,
                    Some(Type::TYPE_BOOL) => Kind::Bool,
                    Some(Type::TYPE_STRING) => Kind::String,
                    Some(Type::TYPE_BYTES) => Kind::Bytes,
                    Some(Type::TYPE_UINT32) => Kind::Uint32,
                    Some(Type::TYPE_ENUM) => Kind::Enum,
                    Some(Type::TYPE_SFIXED32) => Kind::Sfixed32,
                    Some(Type::TYPE_SFIXED64) => Kind::Sfixed64,
                    Some(Type::TYPE_SINT32) => Kind::Sint32,
                    Some(Type::TYPE_SINT64) => Kind::Sint64,
                    Some(Type::TYPE_MESSAGE) => {
                        let type_name = field.type_name.as_deref().unwrap_or("");
                        // Descriptor type names are fully qualified with a leading dot.
                        let target = by_name
                            .get(type_name.trim_start_matches('.'))
                            .ok_or_else(|| format!("{full_name}.{name}: unknown type {type_name}"))?;
                        Kind::Message(*target)
                    }
                    // Groups (none in WhatsApp's schema) and unknown kinds: skip on the wire.
                    _ => continue,
                };
                let repeated = field.label == Some(Label::LABEL_REPEATED);
                let map = repeated && matches!(kind, Kind::Message(i) if map_entries[i]);
                let js_name = protobufjs_name(name);
                if repeated && baileys_path.is_none_or(|path| baileys.contains(&(path, js_name.as_str()))) {
                    message.collections.push(number);
                }
                let declared_packed = field.options.as_option().and_then(|o| o.packed);
                let packed = repeated && is_packable(kind) && declared_packed.unwrap_or(*proto3);
                let enum_type = match kind {
                    Kind::Enum => {
                        let type_name = field.type_name.as_deref().unwrap_or("");
                        let index = enum_by_name
                            .get(type_name.trim_start_matches('.'))
                            .ok_or_else(|| format!("{full_name}.{name}: unknown enum {type_name}"))?;
                        Some(*index)
                    }
                    _ => None,
                };
                message.by_name.insert(js_name.clone(), number);
                message.fields.insert(number, Field { name: js_name, kind, repeated, map, packed, enum_type });
            }
            messages.push(message);
        }
        Ok(Schema { messages, by_name, enums, enum_list })
    }

    /// The default of a map entry's `value` field (number 2) for an entry that omits it.
    fn map_value_default(&self, entry_index: usize) -> BValue {
        let kind = self.messages.get(entry_index).and_then(|m| m.fields.get(&2)).map(|f| f.kind);
        match kind {
            Some(Kind::String) => BValue::String(String::new()),
            Some(Kind::Bytes) => BValue::Bytes(Vec::new()),
            Some(Kind::Bool) => BValue::Bool(false),
            Some(Kind::Double | Kind::Float) => BValue::Float(0.0),
            Some(Kind::Uint32 | Kind::Uint64 | Kind::Fixed32 | Kind::Fixed64) => BValue::Uint(0),
            Some(Kind::Message(_)) | None => BValue::Null,
            Some(_) => BValue::Int(0),
        }
    }

    pub(crate) fn index_of(&self, full_name: &str) -> Option<usize> {
        self.by_name.get(full_name.trim_start_matches('.')).copied()
    }

    fn decode_message(&self, index: usize, bytes: &[u8], depth: usize) -> Result<BValue, ProtoDecodeError> {
        if depth > MAX_DEPTH {
            return Err(ProtoDecodeError::TooDeep);
        }
        let message = self.messages.get(index).ok_or_else(|| ProtoDecodeError::UnknownType(format!("#{index}")))?;
        // Like a protobufjs constructor: collections exist, empty, before anything is read.
        let mut object: Vec<(String, BValue)> = message
            .collections
            .iter()
            .filter_map(|number| message.fields.get(number))
            .map(|f| (f.name.clone(), if f.map { BValue::object() } else { BValue::Array(Vec::new()) }))
            .collect();

        // Where each map field's keys are in its object: a repeated key replaces the value in
        // place, found without a scan of the map (a scan per entry is quadratic in its size).
        let mut map_keys: HashMap<u32, HashMap<String, usize>> = HashMap::new();
        let mut reader = Reader { bytes, pos: 0 };
        while !reader.at_end() {
            let (number, wire_type) = reader.tag()?;
            let Some(field) = message.fields.get(&number) else {
                reader.skip(wire_type, number, 0)?;
                continue;
            };
            if field.map {
                let entry_bytes = match wire_type {
                    WireType::Len => reader.len_delimited()?,
                    _ => {
                        reader.skip(wire_type, number, 0)?;
                        continue;
                    }
                };
                let Kind::Message(entry_index) = field.kind else { continue };
                let entry = self.decode_message(entry_index, entry_bytes, depth + 1)?;
                let key = map_key(entry.get("key"));
                // A missing value is the value type's default, a missing message value is null
                // (what protobufjs' generated map decoding starts from).
                let value = match entry.get("value") {
                    Some(value) => value.clone(),
                    None => self.map_value_default(entry_index),
                };
                if let BValue::Object(map) = collection(&mut object, field) {
                    let positions = map_keys.entry(number).or_default();
                    match positions.get(&key) {
                        Some(&i) => map[i].1 = value,
                        None => {
                            positions.insert(key.clone(), map.len());
                            map.push((key, value));
                        }
                    }
                }
                continue;
            }
            // A packed run of scalars: protobufjs accepts it for any packable repeated field,
            // declared packed or not (and so does the protobuf spec).
            if field.repeated && wire_type == WireType::Len && is_packable(field.kind) {
                let mut packed = Reader { bytes: reader.len_delimited()?, pos: 0 };
                let mut values = Vec::new();
                while !packed.at_end() {
                    values.push(packed.scalar(field.kind)?);
                }
                if let BValue::Array(items) = collection(&mut object, field) {
                    items.extend(values);
                }
                continue;
            }
            if wire_type != wire_type_of(field.kind) {
                // Not what the schema says this field is: treat it as an unknown field.
                reader.skip(wire_type, number, 0)?;
                continue;
            }
            let value = match field.kind {
                Kind::Message(target) => self.decode_message(target, reader.len_delimited()?, depth + 1)?,
                kind => reader.scalar(kind)?,
            };
            if field.repeated {
                if let BValue::Array(items) = collection(&mut object, field) {
                    items.push(value);
                }
            } else {
                match object_field(&mut object, &field.name) {
                    Some(slot) => *slot = value,
                    None => object.push((field.name.clone(), value)),
                }
            }
        }
        Ok(BValue::Object(object))
    }
}

/// Flattens nested message declarations into `(full name, descriptor, file is proto3)`.
fn collect<'a>(scope: &str, message: &'a DescriptorProto, proto3: bool, out: &mut Vec<(String, &'a DescriptorProto, bool)>) {
    let name = message.name.as_deref().unwrap_or("");
    let full_name = if scope.is_empty() { name.to_owned() } else { format!("{scope}.{name}") };
    for nested in &message.nested_type {
        collect(&full_name, nested, proto3, out);
    }
    out.push((full_name, message, proto3));
}

/// The array (map: object) of a repeated field. Objects start with those Baileys' schema has
/// (see `collections`); one it lacks (a newer field) is added when the wire has elements of it,
/// as a newer singular field is, instead of its elements being dropped.
fn collection<'a>(object: &'a mut Vec<(String, BValue)>, field: &Field) -> &'a mut BValue {
    let index = match object.iter().position(|(k, _)| *k == field.name) {
        Some(index) => index,
        None => {
            object.push((field.name.clone(), if field.map { BValue::object() } else { BValue::Array(Vec::new()) }));
            object.len() - 1
        }
    };
    &mut object[index].1
}

fn object_field<'a>(object: &'a mut [(String, BValue)], name: &str) -> Option<&'a mut BValue> {
    object.iter_mut().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// JS object keys are strings: a map key becomes its decimal / text form, as in protobufjs.
fn map_key(key: Option<&BValue>) -> String {
    match key {
        Some(BValue::String(s)) => s.clone(),
        Some(BValue::Int(v)) => v.to_string(),
        Some(BValue::Uint(v)) => v.to_string(),
        Some(BValue::Bool(b)) => b.to_string(),
        // An entry without a key has the key type's default.
        _ => String::new(),
    }
}

fn is_packable(kind: Kind) -> bool {
    !matches!(kind, Kind::String | Kind::Bytes | Kind::Message(_))
}

pub(crate) fn wire_type_of(kind: Kind) -> WireType {
    match kind {
        Kind::Double | Kind::Fixed64 | Kind::Sfixed64 => WireType::I64,
        Kind::Float | Kind::Fixed32 | Kind::Sfixed32 => WireType::I32,
        Kind::String | Kind::Bytes | Kind::Message(_) => WireType::Len,
        Kind::Int64 | Kind::Uint64 | Kind::Int32 | Kind::Bool | Kind::Uint32 | Kind::Enum | Kind::Sint32 | Kind::Sint64 => WireType::Varint,
    }
}

// ---------------------------------------------------------------------------------------------
// The wire format.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireType {
    Varint,
    I64,
    Len,
    StartGroup,
    EndGroup,
    I32,
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoDecodeError> {
        let end = self.pos.checked_add(n).ok_or(ProtoDecodeError::Truncated)?;
        let slice = self.bytes.get(self.pos..end).ok_or(ProtoDecodeError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn varint(&mut self) -> Result<u64, ProtoDecodeError> {
        let mut value = 0u64;
        for i in 0..10 {
            let byte = *self.bytes.get(self.pos).ok_or(ProtoDecodeError::Truncated)?;
            self.pos += 1;
            // The 10th byte only contributes its lowest bit; higher bits fall off, as in
            // every protobuf implementation.
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtoDecodeError::VarintTooLong)
    }

    fn fixed32(&mut self) -> Result<u32, ProtoDecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn fixed64(&mut self) -> Result<u64, ProtoDecodeError> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }

    fn len_delimited(&mut self) -> Result<&'a [u8], ProtoDecodeError> {
        let len = usize::try_from(self.varint()?).map_err(|_| ProtoDecodeError::Truncated)?;
        self.take(len)
    }

    fn tag(&mut self) -> Result<(u32, WireType), ProtoDecodeError> {
        let tag = self.varint()?;
        let number = u32::try_from(tag >> 3).map_err(|_| ProtoDecodeError::Truncated)?;
        if number == 0 {
            return Err(ProtoDecodeError::FieldNumberZero);
        }
        let wire_type = match tag & 7 {
            0 => WireType::Varint,
            1 => WireType::I64,
            2 => WireType::Len,
            3 => WireType::StartGroup,
            4 => WireType::EndGroup,
            5 => WireType::I32,
            other => return Err(ProtoDecodeError::InvalidWireType(other as u8)),
        };
        Ok((number, wire_type))
    }

    /// Skips one field's value. A group is skipped up to its matching end tag.
    fn skip(&mut self, wire_type: WireType, number: u32, depth: usize) -> Result<(), ProtoDecodeError> {
        match wire_type {
            WireType::Varint => self.varint().map(drop),
            WireType::I64 => self.take(8).map(drop),
            WireType::Len => self.len_delimited().map(drop),
            WireType::I32 => self.take(4).map(drop),
            WireType::EndGroup => Err(ProtoDecodeError::UnexpectedEndGroup),
            WireType::StartGroup => {
                if depth > MAX_DEPTH {
                    return Err(ProtoDecodeError::TooDeep);
                }
                loop {
                    if self.at_end() {
                        return Err(ProtoDecodeError::Truncated);
                    }
                    let (inner, inner_type) = self.tag()?;
                    if inner_type == WireType::EndGroup {
                        return if inner == number { Ok(()) } else { Err(ProtoDecodeError::UnexpectedEndGroup) };
                    }
                    self.skip(inner_type, inner, depth + 1)?;
                }
            }
        }
    }

    /// One scalar of `kind`, converted exactly as protobuf defines (truncating varints to 32
    /// bits for 32-bit types, ZigZag for sint).
    fn scalar(&mut self, kind: Kind) -> Result<BValue, ProtoDecodeError> {
        Ok(match kind {
            Kind::Double => BValue::Float(f64::from_bits(self.fixed64()?)),
            Kind::Float => BValue::Float(f64::from(f32::from_bits(self.fixed32()?))),
            Kind::Int64 => BValue::Int(self.varint()? as i64),
            Kind::Uint64 => BValue::Uint(self.varint()?),
            Kind::Int32 | Kind::Enum => BValue::Int(i64::from(self.varint()? as u32 as i32)),
            Kind::Uint32 => BValue::Uint(u64::from(self.varint()? as u32)),
            Kind::Sint32 => {
                let n = self.varint()? as u32;
                BValue::Int(i64::from((n >> 1) as i32 ^ -((n & 1) as i32)))
            }
            Kind::Sint64 => {
                let n = self.varint()?;
                BValue::Int((n >> 1) as i64 ^ -((n & 1) as i64))
            }
            Kind::Fixed32 => BValue::Uint(u64::from(self.fixed32()?)),
            Kind::Sfixed32 => BValue::Int(i64::from(self.fixed32()? as i32)),
            Kind::Fixed64 => BValue::Uint(self.fixed64()?),
            Kind::Sfixed64 => BValue::Int(self.fixed64()? as i64),
            Kind::Bool => BValue::Bool(self.varint()? != 0),
            // protobufjs decodes invalid UTF-8 leniently (replacement characters), not as an error.
            Kind::String => BValue::String(String::from_utf8_lossy(self.len_delimited()?).into_owned()),
            Kind::Bytes => BValue::Bytes(self.len_delimited()?.to_vec()),
            Kind::Message(_) => return Err(ProtoDecodeError::Schema("a message is not a scalar".into())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use buffa::MessageField;
    use waproto::whatsapp::{self as wa, message};

    fn obj(fields: &[(&str, BValue)]) -> BValue {
        BValue::Object(fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }
    fn s(v: &str) -> BValue {
        BValue::String(v.to_owned())
    }
    fn bytes(v: &[u8]) -> BValue {
        BValue::Bytes(v.to_vec())
    }

    /// Drops the empty arrays/maps every decoded object carries for its unset repeated fields
    /// (asserted separately), and sorts keys, so tests state only what was set.
    fn set_fields(v: &BValue) -> BValue {
        match v {
            BValue::Object(fields) => {
                let mut kept: Vec<(String, BValue)> = fields
                    .iter()
                    .filter(|(_, v)| !matches!(v, BValue::Array(a) if a.is_empty()))
                    .filter(|(_, v)| !matches!(v, BValue::Object(o) if o.is_empty()))
                    .map(|(k, v)| (k.clone(), set_fields(v)))
                    .collect();
                kept.sort_by(|a, b| a.0.cmp(&b.0));
                BValue::Object(kept)
            }
            BValue::Array(items) => BValue::Array(items.iter().map(set_fields).collect()),
            other => other.clone(),
        }
    }

    fn assert_shape(msg: &wa::Message, expected: BValue) {
        let actual = message_to_baileys(msg).expect("decodes");
        assert_eq!(set_fields(&actual), set_fields(&expected), "full value: {actual:#?}");
    }

    fn key() -> wa::MessageKey {
        wa::MessageKey {
            remote_jid: Some("123@s.whatsapp.net".into()),
            from_me: Some(true),
            id: Some("3EB0ABC".into()),
            ..Default::default()
        }
    }
    fn key_value() -> BValue {
        obj(&[("remoteJid", s("123@s.whatsapp.net")), ("fromMe", BValue::Bool(true)), ("id", s("3EB0ABC"))])
    }

    #[test]
    fn conversation_only() {
        let msg = wa::Message { conversation: Some("hi".into()), ..Default::default() };
        let actual = message_to_baileys(&msg).unwrap();
        // Exact, unnormalised: Message has no repeated fields, so nothing else is present.
        assert_eq!(actual, obj(&[("conversation", s("hi"))]));
    }

    #[test]
    fn extended_text_with_context_info() {
        let quoted = wa::Message { conversation: Some("original".into()), ..Default::default() };
        let context = wa::ContextInfo {
            stanza_id: Some("QUOTED1".into()),
            participant: Some("456@s.whatsapp.net".into()),
            quoted_message: MessageField::some(quoted),
            mentioned_jid: vec!["1@s.whatsapp.net".into(), "2@s.whatsapp.net".into()],
            ..Default::default()
        };
        let msg = wa::Message {
            extended_text_message: MessageField::some(message::ExtendedTextMessage {
                text: Some("hello @1 @2".into()),
                context_info: MessageField::some(context),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_shape(
            &msg,
            obj(&[(
                "extendedTextMessage",
                obj(&[
                    ("text", s("hello @1 @2")),
                    (
                        "contextInfo",
                        obj(&[
                            ("stanzaId", s("QUOTED1")),
                            ("participant", s("456@s.whatsapp.net")),
                            ("quotedMessage", obj(&[("conversation", s("original"))])),
                            ("mentionedJid", BValue::Array(vec![s("1@s.whatsapp.net"), s("2@s.whatsapp.net")])),
                        ]),
                    ),
                ]),
            )]),
        );
    }

    #[test]
    fn unset_repeated_fields_are_empty_arrays_like_protobufjs_instances() {
        let msg = wa::Message {
            extended_text_message: MessageField::some(message::ExtendedTextMessage {
                context_info: MessageField::some(wa::ContextInfo { stanza_id: Some("X".into()), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let actual = message_to_baileys(&msg).unwrap();
        let context = actual.get("extendedTextMessage").and_then(|m| m.get("contextInfo")).unwrap();
        assert_eq!(context.get("mentionedJid"), Some(&BValue::Array(vec![])));
        assert_eq!(context.get("groupMentions"), Some(&BValue::Array(vec![])));
        assert_eq!(context.get("stanzaId"), Some(&s("X")));
        // Unset singular fields are absent, not null.
        assert_eq!(context.get("participant"), None);
        assert_eq!(actual.get("extendedTextMessage").unwrap().get("text"), None);
        assert!(!context.keys().iter().any(|k| matches!(context.get(k), Some(BValue::Null))));
        // Only the collections Baileys 6.7.21's schema has: not the newer schema's, e.g.
        // `extendedTextMessage.endCardTiles` or `contextInfo.statusAttributions`.
        assert_eq!(actual.get("extendedTextMessage").unwrap().get("endCardTiles"), None);
        assert_eq!(context.get("statusAttributions"), None);
    }

    #[test]
    fn reaction_with_int64_timestamp() {
        let msg = wa::Message {
            reaction_message: MessageField::some(message::ReactionMessage {
                key: MessageField::some(key()),
                text: Some("👍".into()),
                sender_timestamp_ms: Some(1_700_000_000_123),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_shape(
            &msg,
            obj(&[(
                "reactionMessage",
                obj(&[("key", key_value()), ("text", s("👍")), ("senderTimestampMs", BValue::Int(1_700_000_000_123))]),
            )]),
        );
    }

    #[test]
    fn int64_beyond_2_pow_53_stays_exact() {
        let msg = wa::Message {
            reaction_message: MessageField::some(message::ReactionMessage {
                sender_timestamp_ms: Some(-(1 << 60) - 1),
                ..Default::default()
            }),
            ..Default::default()
        };
        let actual = message_to_baileys(&msg).unwrap();
        assert_eq!(actual.get("reactionMessage").unwrap().get("senderTimestampMs"), Some(&BValue::Int(-(1 << 60) - 1)));
    }

    #[test]
    fn protocol_revoke_enum_is_a_number() {
        let msg = wa::Message {
            protocol_message: MessageField::some(message::ProtocolMessage {
                key: MessageField::some(key()),
                r#type: Some(message::protocol_message::Type::REVOKE),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_shape(&msg, obj(&[("protocolMessage", obj(&[("key", key_value()), ("type", BValue::Int(0))]))]));
    }

    #[test]
    fn image_bytes_and_uint64() {
        let msg = wa::Message {
            image_message: MessageField::some(message::ImageMessage {
                url: Some("https://mmg.whatsapp.net/x".into()),
                mimetype: Some("image/jpeg".into()),
                caption: Some("cap".into()),
                file_sha256: Some(vec![1, 2, 3]),
                file_length: Some(123_456),
                height: Some(640),
                width: Some(480),
                media_key: Some(vec![9; 32]),
                jpeg_thumbnail: Some(vec![0xff, 0xd8, 0xff]),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_shape(
            &msg,
            obj(&[(
                "imageMessage",
                obj(&[
                    ("url", s("https://mmg.whatsapp.net/x")),
                    ("mimetype", s("image/jpeg")),
                    ("caption", s("cap")),
                    ("fileSha256", bytes(&[1, 2, 3])),
                    ("fileLength", BValue::Uint(123_456)),
                    ("height", BValue::Uint(640)),
                    ("width", BValue::Uint(480)),
                    ("mediaKey", bytes(&[9; 32])),
                    ("jpegThumbnail", bytes(&[0xff, 0xd8, 0xff])),
                ]),
            )]),
        );
    }

    #[test]
    fn location_doubles() {
        let msg = wa::Message {
            location_message: MessageField::some(message::LocationMessage {
                degrees_latitude: Some(-23.5505),
                degrees_longitude: Some(-46.6333),
                name: Some("São Paulo".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_shape(
            &msg,
            obj(&[(
                "locationMessage",
                obj(&[
                    ("degreesLatitude", BValue::Float(-23.5505)),
                    ("degreesLongitude", BValue::Float(-46.6333)),
                    ("name", s("São Paulo")),
                ]),
            )]),
        );
    }

    #[test]
    fn poll_with_repeated_options() {
        let option = |name: &str| message::poll_creation_message::Option { option_name: Some(name.into()), ..Default::default() };
        let msg = wa::Message {
            poll_creation_message: MessageField::some(message::PollCreationMessage {
                name: Some("Lunch?".into()),
                options: vec![option("Pizza"), option("Sushi")],
                selectable_options_count: Some(1),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_shape(
            &msg,
            obj(&[(
                "pollCreationMessage",
                obj(&[
                    ("name", s("Lunch?")),
                    ("options", BValue::Array(vec![obj(&[("optionName", s("Pizza"))]), obj(&[("optionName", s("Sushi"))])])),
                    ("selectableOptionsCount", BValue::Uint(1)),
                ]),
            )]),
        );
    }

    #[test]
    fn contacts_array() {
        let contact = |name: &str| message::ContactMessage {
            display_name: Some(name.into()),
            vcard: Some(format!("BEGIN:VCARD\nFN:{name}\nEND:VCARD")),
            ..Default::default()
        };
        let msg = wa::Message {
            contacts_array_message: MessageField::some(message::ContactsArrayMessage {
                display_name: Some("2 contacts".into()),
                contacts: vec![contact("Ann"), contact("Bob")],
                ..Default::default()
            }),
            ..Default::default()
        };
        let card = |name: &str| obj(&[("displayName", s(name)), ("vcard", s(&format!("BEGIN:VCARD\nFN:{name}\nEND:VCARD")))]);
        assert_shape(
            &msg,
            obj(&[(
                "contactsArrayMessage",
                obj(&[("displayName", s("2 contacts")), ("contacts", BValue::Array(vec![card("Ann"), card("Bob")]))]),
            )]),
        );
    }

    #[test]
    fn web_message_info_top_level() {
        let info = wa::WebMessageInfo {
            key: MessageField::some(key()),
            message: MessageField::some(wa::Message { conversation: Some("hi".into()), ..Default::default() }),
            message_timestamp: Some(1_700_000_000),
            push_name: Some("Ann".into()),
            ..Default::default()
        };
        let actual = web_message_info_to_baileys(&info).unwrap();
        assert_eq!(actual.get("key"), Some(&key_value()));
        assert_eq!(actual.get("message"), Some(&obj(&[("conversation", s("hi"))])));
        assert_eq!(actual.get("messageTimestamp"), Some(&BValue::Uint(1_700_000_000)));
        assert_eq!(actual.get("pushName"), Some(&s("Ann")));
        assert_eq!(actual.get("status"), None);
    }

    // --- wire-level behaviour, on hand-made bytes ---

    #[test]
    fn packed_and_unpacked_repeated_scalars() {
        // ADVKeyIndexList.validIndexes = 4 [packed = true], as packed [1, 300] then one unpacked 5.
        let bytes = [0x22, 0x03, 0x01, 0xac, 0x02, 0x20, 0x05];
        let v = decode("whatsapp.ADVKeyIndexList", &bytes).unwrap();
        assert_eq!(v.get("validIndexes"), Some(&BValue::Array(vec![BValue::Uint(1), BValue::Uint(300), BValue::Uint(5)])));
    }

    #[test]
    fn unknown_fields_and_groups_are_skipped() {
        // field 1000 varint, field 1001 group containing a varint, then conversation = "a".
        let bytes = [0xc0, 0x3e, 0x07, 0xcb, 0x3e, 0x08, 0x01, 0xcc, 0x3e, 0x0a, 0x01, b'a'];
        assert_eq!(decode(MESSAGE, &bytes).unwrap(), obj(&[("conversation", s("a"))]));
    }

    #[test]
    fn negative_enum_and_int32_from_ten_byte_varints() {
        // ProtocolMessage.type = -1 (10-byte varint) inside Message.protocolMessage (field 12).
        let inner = [0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        let mut bytes = vec![0x62, inner.len() as u8];
        bytes.extend_from_slice(&inner);
        let v = decode(MESSAGE, &bytes).unwrap();
        assert_eq!(v.get("protocolMessage").and_then(|p| p.get("type")), Some(&BValue::Int(-1)));
    }

    #[test]
    fn malformed_bytes_are_errors_not_panics() {
        let cases: &[&[u8]] = &[
            &[0x0a],                                                                   // length missing
            &[0x0a, 0x05, b'a'],                                                       // length past the end
            &[0x08],                                                                   // varint missing
            &[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // 11-byte varint
            &[0x0f],                                                                   // wire type 7
            &[0x00],                                                                   // field number 0
            &[0x0c],                                                                   // end group without start
            &[0xcb, 0x3e, 0x08, 0x01],                                                 // group never closed
            &[0x1a, 0x02, 0x0a],                                                       // imageMessage whose url length is missing
        ];
        for bytes in cases {
            assert!(decode(MESSAGE, bytes).is_err(), "{bytes:02x?} should not decode");
        }
        assert_eq!(decode("whatsapp.NoSuchType", &[]), Err(ProtoDecodeError::UnknownType("whatsapp.NoSuchType".into())));
    }

    #[test]
    fn nesting_is_bounded() {
        // quotedMessage inside contextInfo inside extendedTextMessage, 200 levels deep.
        let mut bytes: Vec<u8> = Vec::new();
        for _ in 0..200 {
            let mut quoted = Vec::new();
            encode_len_field(&mut quoted, 3, &bytes); // ContextInfo.quotedMessage = 3
            let mut ext = Vec::new();
            encode_len_field(&mut ext, 17, &quoted); // ExtendedTextMessage.contextInfo = 17
            let mut msg = Vec::new();
            encode_len_field(&mut msg, 6, &ext); // Message.extendedTextMessage = 6
            bytes = msg;
        }
        assert_eq!(decode(MESSAGE, &bytes), Err(ProtoDecodeError::TooDeep));
    }

    fn encode_len_field(out: &mut Vec<u8>, number: u32, payload: &[u8]) {
        let mut put = |mut v: u64| loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        };
        put(u64::from(number) << 3 | 2);
        put(payload.len() as u64);
        out.extend_from_slice(payload);
    }

    #[test]
    fn map_fields_are_objects_keyed_by_string() {
        // Config.field = map<uint32, Field>: entry {key: 7, value: Field {}}; a Field object
        // carries its own (empty) `subfield` map.
        let entry = [0x08, 0x07, 0x12, 0x00];
        let mut bytes = vec![0x0a, entry.len() as u8];
        bytes.extend_from_slice(&entry);
        let v = decode("whatsapp.Config", &bytes).unwrap();
        assert_eq!(v.get("field"), Some(&obj(&[("7", obj(&[("subfield", BValue::object())]))])));
        // An entry without a value: null for a message value type, as in protobufjs.
        let v = decode("whatsapp.Config", &[0x0a, 0x02, 0x08, 0x07]).unwrap();
        assert_eq!(v.get("field"), Some(&obj(&[("7", BValue::Null)])));
        // An empty Config still has its map, like a protobufjs instance.
        assert_eq!(decode("whatsapp.Config", &[]).unwrap().get("field"), Some(&BValue::object()));
    }

    #[test]
    fn names_follow_protobufjs_camel_case() {
        assert_eq!(protobufjs_name("music_user_id_map"), "musicUserIdMap");
        assert_eq!(protobufjs_name("fileSha256"), "fileSha256");
        assert_eq!(protobufjs_name("foo_1"), "foo_1");
        assert_eq!(protobufjs_name("_x"), "_x");
    }
}
