//! Protobuf bytes → Baileys objects (`proto_to_baileys::decode`), what every received message
//! goes through, and what is done next with the result (`baileys_events`): arbitrary bytes for
//! any WhatsApp type, schema-shaped wire data (nested messages at the field numbers the schema
//! uses), and valid messages mutated at the byte level. Whatever decodes must also encode back
//! (`baileys_to_proto::encode`) to bytes that decode to the same object.

use std::sync::LazyLock;

use buffa::MessageField;
use proptest::prelude::*;
use shard_core::baileys_events::{derived_from_message, normalise_foreign_keys};
use shard_core::baileys_to_proto::encode;
use shard_core::proto_to_baileys::{decode, whatsapp_schema, whatsapp_type, MESSAGE, WEB_MESSAGE_INFO};
use shard_core::BValue;
use waproto::whatsapp::{self as wa, message};

use crate::support::{bounded, config, mutated, regressions};

/// Bytes one decode may hold at once per input byte, beyond a fixed [`BASE`]. A decoded
/// object is bigger than its wire form: every nested message object starts with its empty
/// repeated fields (as protobufjs instances do), so a 2-byte empty sub-message becomes an
/// object with several named empty arrays. Linear in the input is what is checked.
const PER_INPUT_BYTE: usize = 2048;
const BASE: usize = 256 * 1024;

fn limit(len: usize) -> usize {
    BASE + PER_INPUT_BYTE * len
}

/// Every WhatsApp message type, by full name.
static TYPES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut names: Vec<String> = whatsapp_schema().expect("schema").0.iter().map(|path| whatsapp_type(path)).collect();
    names.sort();
    names
});

/// Mostly the types that come from the network, sometimes any type of the schema.
fn type_name() -> impl Strategy<Value = String> {
    let common: Vec<String> =
        [MESSAGE, WEB_MESSAGE_INFO, "whatsapp.ContextInfo", "whatsapp.MessageKey", "whatsapp.Message.ExtendedTextMessage"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    prop_oneof![3 => prop::sample::select(common), 2 => prop::sample::select(TYPES.clone())]
}

// ---------------------------------------------------------------------------------------------
// Schema-shaped wire data.

#[derive(Debug, Clone)]
enum Wire {
    Varint(u32, u64),
    I64(u32, u64),
    I32(u32, u32),
    Len(u32, Vec<u8>),
    /// A length-delimited field holding a nested message.
    Nested(u32, Vec<Wire>),
    /// A (deprecated) group, which the decoder skips.
    Group(u32, Vec<Wire>),
    /// A packed run of varints.
    Packed(u32, Vec<u64>),
}

fn field_number() -> impl Strategy<Value = u32> {
    // WhatsApp's field numbers are small: most hits land on real fields.
    prop_oneof![8 => 1u32..=20, 4 => 1u32..=120, 1 => Just(536_870_911u32), 1 => any::<u32>().prop_map(|n| n.max(1) >> 3)]
}

fn varint_value() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..300, any::<u64>(), Just(u64::MAX), Just(u64::from(u32::MAX)), Just(1u64 << 63)]
}

fn wire() -> impl Strategy<Value = Wire> {
    let leaf = prop_oneof![
        (field_number(), varint_value()).prop_map(|(f, v)| Wire::Varint(f, v)),
        (field_number(), any::<u64>()).prop_map(|(f, v)| Wire::I64(f, v)),
        (field_number(), any::<u32>()).prop_map(|(f, v)| Wire::I32(f, v)),
        (field_number(), prop_oneof!["[a-z0-9@.:]{0,20}".prop_map(String::into_bytes), proptest::collection::vec(any::<u8>(), 0..24)])
            .prop_map(|(f, b)| Wire::Len(f, b)),
        (field_number(), proptest::collection::vec(varint_value(), 0..8)).prop_map(|(f, v)| Wire::Packed(f, v)),
    ];
    leaf.prop_recursive(8, 96, 6, |inner| {
        prop_oneof![
            6 => (field_number(), proptest::collection::vec(inner.clone(), 0..6)).prop_map(|(f, w)| Wire::Nested(f, w)),
            1 => (field_number(), proptest::collection::vec(inner, 0..3)).prop_map(|(f, w)| Wire::Group(f, w)),
        ]
    })
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_tag(out: &mut Vec<u8>, field: u32, wire_type: u64) {
    put_varint(out, u64::from(field) << 3 | wire_type);
}

fn put_len(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_tag(out, field, 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn serialize(fields: &[Wire], out: &mut Vec<u8>) {
    for w in fields {
        match w {
            Wire::Varint(f, v) => {
                put_tag(out, *f, 0);
                put_varint(out, *v);
            }
            Wire::I64(f, v) => {
                put_tag(out, *f, 1);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Wire::I32(f, v) => {
                put_tag(out, *f, 5);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Wire::Len(f, b) => put_len(out, *f, b),
            Wire::Nested(f, inner) => {
                let mut nested = Vec::new();
                serialize(inner, &mut nested);
                put_len(out, *f, &nested);
            }
            Wire::Group(f, inner) => {
                put_tag(out, *f, 3);
                serialize(inner, out);
                put_tag(out, *f, 4);
            }
            Wire::Packed(f, values) => {
                let mut run = Vec::new();
                values.iter().for_each(|v| put_varint(&mut run, *v));
                put_len(out, *f, &run);
            }
        }
    }
}

fn wire_message() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(wire(), 0..8).prop_map(|fields| {
        let mut out = Vec::new();
        serialize(&fields, &mut out);
        out
    })
}

// ---------------------------------------------------------------------------------------------
// Valid messages to mutate.

fn key(from_me: bool) -> wa::MessageKey {
    wa::MessageKey {
        remote_jid: Some("120363000000000001@g.us".into()),
        from_me: Some(from_me),
        id: Some("3EB0C0FFEE".into()),
        participant: Some("15551234567@s.whatsapp.net".into()),
    }
}

fn seed_messages() -> Vec<wa::Message> {
    let quoted = wa::Message { conversation: Some("original".into()), ..Default::default() };
    let context = wa::ContextInfo {
        stanza_id: Some("QUOTED1".into()),
        participant: Some("15557654321@s.whatsapp.net".into()),
        quoted_message: MessageField::some(quoted),
        mentioned_jid: vec!["1@s.whatsapp.net".into(), "2@s.whatsapp.net".into()],
        expiration: Some(604_800),
        ..Default::default()
    };
    let option = |name: &str| message::poll_creation_message::Option { option_name: Some(name.into()), ..Default::default() };
    vec![
        wa::Message { conversation: Some("hello 👋".into()), ..Default::default() },
        wa::Message {
            extended_text_message: MessageField::some(message::ExtendedTextMessage {
                text: Some("hello @1 @2 https://example.com".into()),
                matched_text: Some("https://example.com".into()),
                context_info: MessageField::some(context.clone()),
                ..Default::default()
            }),
            ..Default::default()
        },
        wa::Message {
            image_message: MessageField::some(message::ImageMessage {
                url: Some("https://mmg.whatsapp.net/x".into()),
                mimetype: Some("image/jpeg".into()),
                caption: Some("cap".into()),
                file_sha256: Some(vec![1; 32]),
                file_length: Some(123_456),
                height: Some(640),
                width: Some(480),
                media_key: Some(vec![9; 32]),
                jpeg_thumbnail: Some(vec![0xff, 0xd8, 0xff, 0xe0]),
                context_info: MessageField::some(context),
                ..Default::default()
            }),
            ..Default::default()
        },
        wa::Message {
            reaction_message: MessageField::some(message::ReactionMessage {
                key: MessageField::some(key(false)),
                text: Some("👍".into()),
                sender_timestamp_ms: Some(1_700_000_000_123),
                ..Default::default()
            }),
            ..Default::default()
        },
        wa::Message {
            protocol_message: MessageField::some(message::ProtocolMessage {
                key: MessageField::some(key(true)),
                r#type: Some(message::protocol_message::Type::MESSAGE_EDIT),
                edited_message: MessageField::some(wa::Message { conversation: Some("edited".into()), ..Default::default() }),
                timestamp_ms: Some(1_700_000_000_999),
                ..Default::default()
            }),
            ..Default::default()
        },
        wa::Message {
            poll_creation_message: MessageField::some(message::PollCreationMessage {
                name: Some("Lunch?".into()),
                options: vec![option("Pizza"), option("Sushi"), option("")],
                selectable_options_count: Some(1),
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
    ]
}

/// `(type, bytes)` of valid messages: each seed as a `Message` and inside a `WebMessageInfo`.
static SEEDS: LazyLock<Vec<(&'static str, Vec<u8>)>> = LazyLock::new(|| {
    use buffa::Message as _;
    let mut out = Vec::new();
    for (i, m) in seed_messages().into_iter().enumerate() {
        out.push((MESSAGE, waproto::codec::message_to_vec(&m)));
        let info = wa::WebMessageInfo {
            key: MessageField::some(key(i % 2 == 0)),
            message: MessageField::some(m),
            message_timestamp: Some(1_700_000_000),
            push_name: Some("Ann".into()),
            ..Default::default()
        };
        out.push((WEB_MESSAGE_INFO, info.encode_to_vec()));
    }
    out
});

fn mutated_seed() -> impl Strategy<Value = (String, Vec<u8>)> {
    (0..SEEDS.len()).prop_flat_map(|i| {
        let (name, bytes) = SEEDS[i].clone();
        mutated(vec![bytes]).prop_map(move |b| (name.to_string(), b))
    })
}

// ---------------------------------------------------------------------------------------------
// The check.

/// Floats compared by bits (a NaN decodes to a NaN), objects whatever their key order (the
/// decoder keeps the wire's order, the encoder writes fields by number), the rest by value.
fn same(a: &BValue, b: &BValue) -> bool {
    match (a, b) {
        (BValue::Float(x), BValue::Float(y)) => x.to_bits() == y.to_bits(),
        (BValue::Array(x), BValue::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (BValue::Object(x), BValue::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(key, a)| y.iter().find(|(k, _)| k == key).is_some_and(|(_, b)| same(a, b)))
        }
        _ => a == b,
    }
}

/// Has a map entry whose message value was absent on the wire (decoded as `null`): the
/// encoder leaves `null` out, so such an entry does not survive a re-encode. Not a bug: the
/// same in protobufjs.
fn has_null_map_value(v: &BValue) -> bool {
    match v {
        BValue::Null => true,
        BValue::Array(items) => items.iter().any(has_null_map_value),
        BValue::Object(fields) => fields.iter().any(|(_, v)| has_null_map_value(v)),
        _ => false,
    }
}

/// Decodes `bytes` as `type_name`; if that works, the object re-encodes and decodes to itself,
/// and a received message's follow-up (`normalise_foreign_keys`, `derived_from_message`) runs.
fn check(type_name: String, bytes: Vec<u8>) -> Result<(), TestCaseError> {
    // The schema is parsed once, on first use: not part of any case's allocation.
    let _ = decode(MESSAGE, &[]);
    let len = bytes.len();
    let outcome = bounded(limit(len), move || {
        let decoded = decode(&type_name, &bytes);
        let Ok(value) = decoded else { return Ok(()) };
        let again = encode(&type_name, &value).map_err(|e| format!("a decoded object does not encode: {e}"))?;
        let back = decode(&type_name, &again).map_err(|e| format!("our own encoding does not decode: {e}"))?;
        if !same(&back, &value) && !has_null_map_value(&value) {
            return Err(format!("decode(encode(v)) != v\n  v    = {value:?}\n  back = {back:?}"));
        }
        if type_name == WEB_MESSAGE_INFO {
            let mut message = value;
            normalise_foreign_keys(&mut message, Some("15551234567@s.whatsapp.net"));
            let _ = derived_from_message(&message);
        }
        Ok(())
    })?;
    outcome.map_err(TestCaseError::fail)
}

proptest! {
    #![proptest_config(config(256, regressions!("proto_decode")))]

    #[test]
    fn arbitrary_bytes_of_any_type_decode_or_fail_cleanly(type_name in type_name(), bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check(type_name, bytes)?;
    }

    #[test]
    fn schema_shaped_wire_data_decodes_or_fails_cleanly(type_name in type_name(), bytes in wire_message()) {
        check(type_name, bytes)?;
    }

    #[test]
    fn mutated_valid_messages_decode_or_fail_cleanly((type_name, bytes) in mutated_seed()) {
        check(type_name, bytes)?;
    }
}

/// The seeds themselves decode (else the mutations above start from nothing useful).
#[test]
fn the_seed_messages_decode() {
    for (type_name, bytes) in SEEDS.iter() {
        decode(type_name, bytes).unwrap_or_else(|e| panic!("{type_name}: {e}"));
    }
}

/// Nesting far past the limit (a quoted message quoting a quoted message...) is an error, not
/// a stack overflow: 10 000 levels of `ContextInfo.quotedMessage.extendedTextMessage...`.
#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // Message.extendedTextMessage (6) → ExtendedTextMessage.contextInfo (17) → ContextInfo.quotedMessage (3) → Message ...
    let mut bytes = b"\x0a\x01x".to_vec(); // conversation = "x"
    for _ in 0..10_000 {
        let mut context = Vec::new();
        put_len(&mut context, 3, &bytes);
        let mut text = Vec::new();
        put_len(&mut text, 17, &context);
        let mut message = Vec::new();
        put_len(&mut message, 6, &text);
        bytes = message;
    }
    let len = bytes.len();
    let result = bounded(limit(len), move || decode(MESSAGE, &bytes).map(drop)).expect("bounded");
    assert!(result.is_err(), "10 000 levels decoded");
}

/// A map with many distinct keys (`SyncActionValue.musicUserIdAction.musicUserIdMap`, field
/// 70 → 2) decodes in time linear in its size: 20 000 entries (~240 KB) well within a second
/// even in a debug build.
#[test]
fn a_large_map_decodes_in_linear_time() {
    let mut action = Vec::new();
    for i in 0..20_000u32 {
        let mut entry = Vec::new();
        put_len(&mut entry, 1, format!("k{i}").as_bytes());
        put_len(&mut entry, 2, b"v");
        put_len(&mut action, 2, &entry);
    }
    let mut bytes = Vec::new();
    put_len(&mut bytes, 70, &action);
    let len = bytes.len();
    let started = std::time::Instant::now();
    let value = bounded(limit(len), move || decode("whatsapp.SyncActionValue", &bytes)).expect("bounded").expect("decodes");
    let map = value.get("musicUserIdAction").and_then(|a| a.get("musicUserIdMap"));
    let map = map.unwrap_or_else(|| panic!("no map in {:?}", value.get("musicUserIdAction").map(|a| a.keys())));
    assert!(matches!(map, BValue::Object(entries) if entries.len() == 20_000));
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
}
