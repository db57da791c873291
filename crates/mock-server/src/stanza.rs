//! Small helpers for reading and answering binary-node stanzas: an attribute's value, a
//! node's children, and the `<iq type="result">` / `<iq type="error">` replies every feature
//! sends. A leaf: it imports nothing from the crate, so any module may use it.

use wacore_binary::builder::NodeBuilder;
use wacore_binary::Node;

/// The server's own address, the `from` of what it sends on its own behalf.
pub const SERVER: &str = "s.whatsapp.net";

/// String value of an attribute.
pub fn attr(node: &Node, key: &str) -> Option<String> {
    node.attrs.get(key).map(|v| v.as_str().into_owned())
}

/// A node's children (none for a node with text or bytes content).
pub fn kids(node: &Node) -> &[Node] {
    node.children().unwrap_or(&[])
}

/// `<iq type="result" id=.. from="s.whatsapp.net">children</iq>`.
pub fn result(iq: &Node, children: Vec<Node>) -> Node {
    let mut b = NodeBuilder::new("iq").attr("type", "result").attr("from", attr(iq, "to").unwrap_or_else(|| SERVER.to_owned()));
    if let Some(id) = attr(iq, "id") {
        b = b.attr("id", id);
    }
    if !children.is_empty() {
        b = b.children(children);
    }
    b.build()
}

/// `<iq type="error" id=..><error code text/></iq>`.
pub fn error(iq: &Node, code: u16, text_: &str) -> Node {
    let mut b = NodeBuilder::new("iq").attr("type", "error").attr("from", SERVER);
    if let Some(id) = attr(iq, "id") {
        b = b.attr("id", id);
    }
    b.children([NodeBuilder::new("error").attr("code", code.to_string()).attr("text", text_).build()]).build()
}
