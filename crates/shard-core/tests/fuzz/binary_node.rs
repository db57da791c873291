//! Binary nodes (stanzas), both ways in: frames decoded from bytes (the engine's
//! `unmarshal_ref`, as `sendRawMessage` and every reply stanza use it) walked by our code
//! (`node_to_baileys` for `query` replies, `group_query::modes_as_strings` on group replies,
//! `group_ops::metadata_of_create_node` on `<create>` notifications), and Baileys-shaped
//! `BinaryNode` objects from bots (`node_from_baileys` for `query`/`sendNode`,
//! `RelayOptions::from_baileys` for `relayMessage`'s `additionalNodes`). Inputs: arbitrary
//! bytes, generated nodes, and encoded generated nodes mutated at the byte level.

use proptest::prelude::*;
use shard_core::binary_node::{node_from_baileys, node_to_baileys};
use shard_core::group_ops::metadata_of_create_node;
use shard_core::group_query::modes_as_strings;
use shard_core::relay::RelayOptions;
use shard_core::BValue;
use wacore_binary::marshal::{marshal, unmarshal_ref};

use crate::support::{apply_edits, bounded, bvalue_leaf, config, edit, regressions};

/// Frames here are at most a few KB.
const LIMIT: usize = 8 * 1024 * 1024;

fn tag() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "iq", "create", "group", "participant", "description", "body", "member_add_mode", "member_link_mode",
            "announcement", "locked", "ephemeral", "membership_approval_mode", "parent", "linked_parent", "query",
            "picture", "notification", "message", "biz", "list", "user", "status",
        ])
        .prop_map(str::to_owned),
        1 => "[a-z_]{0,10}",
        1 => ".{0,6}",
    ]
}

fn attr_value() -> impl Strategy<Value = BValue> {
    prop_oneof![
        6 => prop_oneof![
            "[0-9]{1,15}(:[0-9]{1,2})?@(s\\.whatsapp\\.net|lid|g\\.us|c\\.us|newsletter|broadcast)",
            "[0-9]{1,12}",
            "(admin|superadmin|get|set|result|error|all_member_add|admin_add|request|true|false)",
            ".{0,12}",
            "@.{0,6}",
        ]
        .prop_map(BValue::String),
        1 => bvalue_leaf(),
    ]
}

fn attr_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "id", "type", "to", "from", "jid", "xmlns", "subject", "creation", "creator", "s_t", "s_o", "t", "participant",
            "phone_number", "lid", "addressing_mode", "size", "creator_pn", "notify", "expiration", "request_method",
        ])
        .prop_map(str::to_owned),
        1 => ".{0,8}",
    ]
}

/// A Baileys `BinaryNode`: `{ tag, attrs, content? }`, mostly well-formed, at most `depth`
/// levels of children.
fn baileys_node(depth: u32) -> impl Strategy<Value = BValue> {
    let leaf_content = prop_oneof![
        3 => Just(None),
        2 => ".{0,24}".prop_map(|s| Some(BValue::String(s))),
        2 => proptest::collection::vec(any::<u8>(), 0..32).prop_map(|b| Some(BValue::Bytes(b))),
        1 => bvalue_leaf().prop_map(Some),
    ];
    let node = |content: BoxedStrategy<Option<BValue>>| {
        (tag(), proptest::collection::vec((attr_key(), attr_value()), 0..6), content).prop_map(|(tag, attrs, content)| {
            let mut fields = vec![("tag".to_owned(), BValue::String(tag)), ("attrs".to_owned(), BValue::Object(attrs))];
            if let Some(content) = content {
                fields.push(("content".to_owned(), content));
            }
            BValue::Object(fields)
        })
    };
    let leaf = node(leaf_content.clone().boxed());
    leaf.prop_recursive(depth, 64, 6, move |inner| {
        let content = prop_oneof![
            2 => leaf_content.clone(),
            3 => proptest::collection::vec(inner, 0..6).prop_map(|children| Some(BValue::Array(children))),
        ];
        node(content.boxed())
    })
}

/// A `<create>` notification as the server sends it for a new group, with a `<group>` child
/// that is mostly well-formed (so the engine's parser gets past its first checks).
fn create_node() -> impl Strategy<Value = BValue> {
    let participant = (attr_value(), prop::option::of(prop::sample::select(vec!["admin", "superadmin", "x"]))).prop_map(|(jid, kind)| {
        let mut attrs = vec![("jid".to_owned(), jid)];
        if let Some(kind) = kind {
            attrs.push(("type".to_owned(), BValue::str(kind)));
        }
        BValue::obj([("tag", BValue::str("participant")), ("attrs", BValue::Object(attrs))])
    });
    let extra_child = baileys_node(2);
    (
        "[0-9]{6,18}",
        proptest::collection::vec((attr_key(), attr_value()), 0..6),
        proptest::collection::vec(prop_oneof![3 => participant, 1 => extra_child], 0..8),
        prop::option::of(proptest::collection::vec(any::<u8>(), 0..16)),
    )
        .prop_map(|(id, attrs, mut children, mode)| {
            let mut group_attrs = vec![
                ("id".to_owned(), BValue::String(id)),
                ("subject".to_owned(), BValue::str("A group")),
                ("creation".to_owned(), BValue::str("1700000000")),
                ("creator".to_owned(), BValue::str("15551234567@s.whatsapp.net")),
            ];
            group_attrs.extend(attrs);
            if let Some(mode) = mode {
                children.push(BValue::obj([
                    ("tag", BValue::str("member_add_mode")),
                    ("attrs", BValue::object()),
                    ("content", BValue::Bytes(mode)),
                ]));
            }
            let group =
                BValue::obj([("tag", BValue::str("group")), ("attrs", BValue::Object(group_attrs)), ("content", BValue::Array(children))]);
            BValue::obj([("tag", BValue::str("create")), ("attrs", BValue::object()), ("content", BValue::Array(vec![group]))])
        })
}

/// What our code does with a frame from the network: the engine decodes it, we walk it.
fn walk_frame(frame: &[u8]) {
    let Ok(node) = unmarshal_ref(frame) else { return };
    let mut node = node.to_owned();
    let baileys = node_to_baileys(&node);
    // What we give a bot comes back from it (`sendNode(reply)`): always a node again,
    // unless the engine decoded an empty tag.
    if let Err(e) = node_from_baileys(&baileys, "node") {
        assert!(node.tag.is_empty(), "a decoded node does not read back: {e:?}");
    }
    modes_as_strings(&mut node);
    let _ = metadata_of_create_node(&node);
}

/// What our code does with a node from a bot, and with its encoding.
fn use_baileys_node(value: BValue) {
    let _ = RelayOptions::from_baileys(Some(&BValue::obj([("additionalNodes", BValue::Array(vec![value.clone()]))])));
    let Ok(node) = node_from_baileys(&value, "node") else { return };
    let _ = metadata_of_create_node(&node);
    let Ok(encoded) = marshal(&node) else { return };
    walk_frame(&encoded[1..]);
}

proptest! {
    #![proptest_config(config(256, regressions!("binary_node")))]

    #[test]
    fn arbitrary_frames_are_walked_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        bounded(LIMIT, move || walk_frame(&bytes))?;
    }

    #[test]
    fn generated_baileys_nodes_convert_or_fail_cleanly(value in prop_oneof![3 => baileys_node(5), 1 => create_node()]) {
        bounded(LIMIT, move || use_baileys_node(value))?;
    }

    #[test]
    fn mutated_encoded_nodes_are_walked_without_panic(
        value in prop_oneof![baileys_node(4), create_node()],
        edits in proptest::collection::vec(edit(), 1..8),
    ) {
        bounded(LIMIT, move || {
            let Ok(node) = node_from_baileys(&value, "node") else { return };
            let Ok(encoded) = marshal(&node) else { return };
            walk_frame(&apply_edits(encoded[1..].to_vec(), &edits));
        })?;
    }

    /// `relayMessage`'s options object, any shape.
    #[test]
    fn relay_options_read_or_fail_cleanly(value in crate::support::bvalue_tree(
        ["messageId", "additionalNodes", "statusJidList", "participant", "additionalAttributes", "tag", "attrs", "content"]
            .iter().map(|s| s.to_string()).collect(),
        4,
    )) {
        bounded(LIMIT, move || {
            let _ = RelayOptions::from_baileys(Some(&value));
        })?;
    }
}

/// Nodes nested as deep as a bot's argument can be (the binding refuses deeper than 100)
/// convert without overflowing the stack of a thread with the default size.
#[test]
fn nodes_as_deep_as_the_binding_allows_convert() {
    let mut value = BValue::obj([("tag", BValue::str("leaf")), ("attrs", BValue::object())]);
    for _ in 0..50 {
        value = BValue::obj([("tag", BValue::str("n")), ("attrs", BValue::object()), ("content", BValue::Array(vec![value]))]);
    }
    bounded(LIMIT, move || {
        let node = node_from_baileys(&value, "node").expect("converts");
        let _ = node_to_baileys(&node);
    })
    .expect("bounded");
}
