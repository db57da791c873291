//! Baileys objects → protobuf (`baileys_to_proto`), what every object a bot hands us for a
//! message goes through (`quoted`, `forward`, `relayMessage`): arbitrary `BValue` trees whose
//! keys are real field names, and decoded valid messages with parts replaced by values of any
//! type. Each encodes or fails with an error; what encodes decodes again, and waproto (the
//! engine's types) accepts it.

use proptest::prelude::*;
use shard_core::baileys_to_proto::{encode, message_from_baileys, web_message_info_from_baileys, ProtoEncodeError};
use shard_core::proto_to_baileys::{decode, MESSAGE, WEB_MESSAGE_INFO};
use shard_core::BValue;

use crate::support::{bounded, bvalue_leaf, bvalue_tree, config, regressions};

/// Field names of the message types bots send most, and of protobufjs' `Long` and Node's
/// Buffer JSON, so that generated objects reach real fields.
const KEYS: &[&str] = &[
    "conversation",
    "extendedTextMessage",
    "text",
    "contextInfo",
    "quotedMessage",
    "stanzaId",
    "participant",
    "mentionedJid",
    "remoteJid",
    "fromMe",
    "id",
    "key",
    "message",
    "messageTimestamp",
    "pushName",
    "status",
    "reactionMessage",
    "senderTimestampMs",
    "protocolMessage",
    "type",
    "editedMessage",
    "timestampMs",
    "imageMessage",
    "url",
    "mimetype",
    "caption",
    "fileSha256",
    "fileLength",
    "height",
    "width",
    "mediaKey",
    "jpegThumbnail",
    "pollCreationMessage",
    "name",
    "options",
    "optionName",
    "selectableOptionsCount",
    "locationMessage",
    "degreesLatitude",
    "degreesLongitude",
    "documentMessage",
    "fileName",
    "viewOnceMessage",
    "ephemeralMessage",
    "messageContextInfo",
    "messageSecret",
    "expiration",
    "isForwarded",
    "forwardingScore",
    "buttonsMessage",
    "buttons",
    "listMessage",
    "sections",
    "rows",
    "low",
    "high",
    "unsigned",
    "data",
    "Buffer",
    "messageStubType",
    "messageStubParameters",
    "userReceipt",
    "reactions",
];

fn keys() -> Vec<String> {
    KEYS.iter().map(|s| s.to_string()).collect()
}

fn type_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![MESSAGE, WEB_MESSAGE_INFO, "whatsapp.ContextInfo", "whatsapp.MessageKey"])
}

/// Valid Baileys objects to start from.
fn seeds() -> Vec<(&'static str, BValue)> {
    let key = BValue::obj([
        ("remoteJid", BValue::str("120363000000000001@g.us")),
        ("fromMe", BValue::Bool(false)),
        ("id", BValue::str("3EB0C0FFEE")),
        ("participant", BValue::str("15551234567@s.whatsapp.net")),
    ]);
    let text = BValue::obj([(
        "extendedTextMessage",
        BValue::obj([
            ("text", BValue::str("hi @1")),
            (
                "contextInfo",
                BValue::obj([
                    ("stanzaId", BValue::str("Q1")),
                    ("participant", BValue::str("1@s.whatsapp.net")),
                    ("quotedMessage", BValue::obj([("conversation", BValue::str("original"))])),
                    ("mentionedJid", BValue::Array(vec![BValue::str("1@s.whatsapp.net")])),
                ]),
            ),
        ]),
    )]);
    let image = BValue::obj([(
        "imageMessage",
        BValue::obj([
            ("url", BValue::str("https://mmg.whatsapp.net/x")),
            ("fileSha256", BValue::Bytes(vec![1; 32])),
            ("fileLength", BValue::obj([("low", BValue::Int(5)), ("high", BValue::Int(0)), ("unsigned", BValue::Bool(true))])),
            ("mediaKey", BValue::str("CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=")),
            (
                "jpegThumbnail",
                BValue::obj([("type", BValue::str("Buffer")), ("data", BValue::Array(vec![BValue::Int(255), BValue::Int(216)]))]),
            ),
        ]),
    )]);
    let reaction = BValue::obj([(
        "reactionMessage",
        BValue::obj([("key", key.clone()), ("text", BValue::str("👍")), ("senderTimestampMs", BValue::str("1700000000123"))]),
    )]);
    let revoke = BValue::obj([("protocolMessage", BValue::obj([("key", key.clone()), ("type", BValue::str("REVOKE"))]))]);
    let poll = BValue::obj([(
        "pollCreationMessage",
        BValue::obj([
            ("name", BValue::str("Lunch?")),
            ("options", BValue::Array(vec![BValue::obj([("optionName", BValue::str("Pizza"))])])),
            ("selectableOptionsCount", BValue::Int(1)),
        ]),
    )]);
    let info = BValue::obj([
        ("key", key),
        ("message", text.clone()),
        ("messageTimestamp", BValue::Uint(1_700_000_000)),
        ("pushName", BValue::str("Ann")),
        ("status", BValue::Int(2)),
    ]);
    vec![(MESSAGE, text), (MESSAGE, image), (MESSAGE, reaction), (MESSAGE, revoke), (MESSAGE, poll), (WEB_MESSAGE_INFO, info)]
}

/// Every node's path (indexes into arrays and objects), the root first.
fn paths(v: &BValue, at: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    out.push(at.clone());
    let children: Vec<&BValue> = match v {
        BValue::Array(items) => items.iter().collect(),
        BValue::Object(fields) => fields.iter().map(|(_, v)| v).collect(),
        _ => return,
    };
    for (i, child) in children.into_iter().enumerate() {
        at.push(i);
        paths(child, at, out);
        at.pop();
    }
}

fn node_at<'a>(v: &'a mut BValue, path: &[usize]) -> &'a mut BValue {
    match path.split_first() {
        None => v,
        Some((i, rest)) => match v {
            BValue::Array(items) => node_at(&mut items[*i], rest),
            BValue::Object(fields) => node_at(&mut fields[*i].1, rest),
            _ => unreachable!("paths only lead into arrays and objects"),
        },
    }
}

/// A valid object with 1 to 4 of its parts (or itself) replaced by other values.
fn mutated_seed() -> impl Strategy<Value = (&'static str, BValue)> {
    let all = seeds();
    let replacement = prop_oneof![2 => bvalue_leaf(), 1 => bvalue_tree(keys(), 3)];
    (0..all.len(), proptest::collection::vec((any::<usize>(), replacement), 1..4)).prop_map(move |(i, edits)| {
        let (type_name, mut value) = all[i].clone();
        for (pick, replacement) in edits {
            let mut all_paths = Vec::new();
            paths(&value, &mut Vec::new(), &mut all_paths);
            let path = all_paths[pick % all_paths.len()].clone();
            *node_at(&mut value, &path) = replacement;
        }
        (type_name, value)
    })
}

/// The most one encode may hold allocated at once: its input is at most a few KB here.
const LIMIT: usize = 4 * 1024 * 1024;

fn check(type_name: &'static str, value: BValue) -> Result<(), TestCaseError> {
    let _ = decode(MESSAGE, &[]);
    let outcome = bounded(LIMIT, move || {
        let Ok(bytes) = encode(type_name, &value) else { return Ok(()) };
        decode(type_name, &bytes).map_err(|e| format!("our encoding does not decode: {e}"))?;
        let engine = match type_name {
            MESSAGE => message_from_baileys(&value).map(drop),
            WEB_MESSAGE_INFO => web_message_info_from_baileys(&value).map(drop),
            _ => Ok(()),
        };
        match engine {
            Err(ProtoEncodeError::Rejected(e)) => Err(format!("waproto rejected our encoding: {e}")),
            _ => Ok(()),
        }
    })?;
    outcome.map_err(TestCaseError::fail)
}

proptest! {
    #![proptest_config(config(256, regressions!("proto_encode")))]

    #[test]
    fn arbitrary_objects_encode_or_fail_cleanly(type_name in type_name(), value in bvalue_tree(keys(), 6)) {
        check(type_name, value)?;
    }

    #[test]
    fn mutated_valid_objects_encode_or_fail_cleanly((type_name, value) in mutated_seed()) {
        check(type_name, value)?;
    }
}

#[test]
fn the_seed_objects_encode() {
    for (type_name, value) in seeds() {
        encode(type_name, &value).unwrap_or_else(|e| panic!("{type_name}: {e}"));
    }
}

/// An object nested far past the limit is an error, not a stack overflow.
#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let mut value = BValue::obj([("conversation", BValue::str("x"))]);
    for _ in 0..1_000 {
        value = BValue::obj([("extendedTextMessage", BValue::obj([("contextInfo", BValue::obj([("quotedMessage", value)]))]))]);
    }
    let result = bounded(LIMIT, move || encode(MESSAGE, &value).map(drop)).expect("bounded");
    assert!(result.is_err());
}
