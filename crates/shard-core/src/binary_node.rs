//! Baileys' `BinaryNode` (`{ tag, attrs, content? }`) ↔ the engine's `Node`, for the socket
//! members that take or give raw stanzas (`query`, `sendNode`, `sendMessageAck`).
//!
//! As in Baileys: attribute values are strings (one with an `@` that parses as a jid goes on the
//! wire as a jid, as Baileys' encoder does), `content` is a string, a `Buffer` or an array of
//! nodes, and `undefined`/`null` attributes are left out.

use std::borrow::Cow;

use wacore_binary::{Jid, Node, NodeContent, NodeValue};

use crate::baileys_value::BValue;
use crate::error::{ErrorCode, Result, ShardError};

fn invalid(what: impl Into<String>) -> ShardError {
    ShardError::new(ErrorCode::InvalidArgument, what.into())
}

/// A `BinaryNode` from JS → an engine `Node`. `path` names the argument in error messages.
pub fn node_from_baileys(value: &BValue, path: &str) -> Result<Node> {
    let BValue::Object(_) = value else { return Err(invalid(format!("{path} must be a node {{ tag, attrs, content? }}"))) };
    let tag = match value.get("tag") {
        Some(BValue::String(tag)) if !tag.is_empty() => tag.clone(),
        _ => return Err(invalid(format!("{path}.tag must be a non-empty string"))),
    };
    let mut node = Node { tag: Cow::Owned(tag), ..Node::default() };
    match value.get("attrs") {
        None | Some(BValue::Null) => {}
        Some(BValue::Object(attrs)) => {
            for (key, v) in attrs {
                let text = match v {
                    BValue::Null => continue,
                    BValue::String(s) => s.clone(),
                    BValue::Int(n) => n.to_string(),
                    BValue::Uint(n) => n.to_string(),
                    BValue::Float(n) => n.to_string(),
                    BValue::Bool(b) => b.to_string(),
                    _ => return Err(invalid(format!("{path}.attrs.{key} must be a string"))),
                };
                let value = match text.contains('@').then(|| text.parse::<Jid>().ok()).flatten() {
                    Some(jid) => NodeValue::Jid(jid),
                    None => NodeValue::String(text.into()),
                };
                node.attrs.push_value(key.clone(), value);
            }
        }
        Some(_) => return Err(invalid(format!("{path}.attrs must be an object of strings"))),
    }
    node.content = match value.get("content") {
        None | Some(BValue::Null) => None,
        Some(BValue::String(s)) => Some(NodeContent::String(s.as_str().into())),
        Some(BValue::Bytes(b)) => Some(NodeContent::Bytes(b.clone())),
        Some(BValue::Array(children)) => Some(NodeContent::Nodes(
            children
                .iter()
                .enumerate()
                .map(|(i, child)| node_from_baileys(child, &format!("{path}.content[{i}]")))
                .collect::<Result<_>>()?,
        )),
        Some(_) => return Err(invalid(format!("{path}.content must be a string, a Buffer or an array of nodes"))),
    };
    Ok(node)
}

/// An engine `Node` → Baileys' `BinaryNode`, as Baileys' decoder gives it (attribute values as
/// strings, bytes as a `Buffer`, children as an array; no `content` key when there is none).
pub fn node_to_baileys(node: &Node) -> BValue {
    let attrs = node.attrs.iter().map(|(k, v)| (k.to_string(), BValue::String(v.as_str().into_owned()))).collect();
    let mut fields = vec![("tag".to_owned(), BValue::String(node.tag.to_string())), ("attrs".to_owned(), BValue::Object(attrs))];
    match &node.content {
        None => {}
        Some(NodeContent::String(s)) => fields.push(("content".to_owned(), BValue::String(s.to_string()))),
        Some(NodeContent::Bytes(b)) => fields.push(("content".to_owned(), BValue::Bytes(b.clone()))),
        Some(NodeContent::Nodes(children)) => {
            fields.push(("content".to_owned(), BValue::Array(children.iter().map(node_to_baileys).collect())))
        }
    }
    BValue::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(tag: &str, attrs: &[(&str, &str)], content: Option<BValue>) -> BValue {
        let mut fields = vec![
            ("tag".to_owned(), BValue::str(tag)),
            ("attrs".to_owned(), BValue::Object(attrs.iter().map(|(k, v)| (k.to_string(), BValue::str(*v))).collect())),
        ];
        if let Some(c) = content {
            fields.push(("content".to_owned(), c));
        }
        BValue::Object(fields)
    }

    #[test]
    fn a_node_survives_the_round_trip_with_jids_on_the_wire_as_jids() {
        let child = node("picture", &[("type", "preview")], Some(BValue::Bytes(vec![1, 2, 3])));
        let iq = node(
            "iq",
            &[("to", "15551234567@s.whatsapp.net"), ("type", "get"), ("xmlns", "w:profile:picture")],
            Some(BValue::Array(vec![child])),
        );
        let engine = node_from_baileys(&iq, "node").unwrap();
        assert!(matches!(engine.attrs.get("to"), Some(NodeValue::Jid(_))));
        assert!(matches!(engine.attrs.get("type"), Some(NodeValue::String(_))));
        assert_eq!(node_to_baileys(&engine), iq);
    }

    #[test]
    fn malformed_nodes_name_the_bad_part() {
        let no_tag = BValue::obj([("attrs", BValue::object())]);
        assert!(node_from_baileys(&no_tag, "node").unwrap_err().message.contains("node.tag"));
        let bad_child = node("iq", &[], Some(BValue::Array(vec![BValue::Int(3)])));
        assert!(node_from_baileys(&bad_child, "node").unwrap_err().message.contains("node.content[0]"));
        let bad_attr = BValue::obj([("tag", BValue::str("iq")), ("attrs", BValue::obj([("x", BValue::Array(vec![]))]))]);
        assert!(node_from_baileys(&bad_attr, "node").unwrap_err().message.contains("node.attrs.x"));
    }
}
