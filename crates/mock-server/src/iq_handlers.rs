//! Answers to the `<iq>` queries clients send after login.
//!
//! Both clients block on some of these before they report "connected"/"open" (Baileys: the
//! pre-key `count`, the pre-key upload and `passive active`; whatsapp-rust: `passive active`
//! followed by the `<ib><offline/></ib>` we push, then app-state sync of the critical
//! collections). Anything we do not recognise still gets an empty result, never silence, so a
//! client never waits on a timeout because of the mock.

use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Node, NodeContent};

use crate::accounts::{KeyBundle, UploadedKey};
use crate::jid::{split_jid, DeviceAddr};
use crate::locking::lock;
use crate::stanza::{attr, error, result, SERVER};
use crate::state::ServerState;

fn child<'a>(node: &'a Node, tag: &str) -> Option<&'a Node> {
    node.get_optional_child(tag)
}

fn children<'a>(node: &'a Node, tag: &'a str) -> impl Iterator<Item = &'a Node> {
    node.children().unwrap_or(&[]).iter().filter(move |c| c.tag == tag)
}

fn bytes(node: &Node) -> Option<&[u8]> {
    match &node.content {
        Some(NodeContent::Bytes(b)) => Some(b),
        Some(NodeContent::String(s)) => Some(s.as_bytes()),
        _ => None,
    }
}

fn text(node: &Node) -> Option<String> {
    node.content_as_string().map(|s| s.to_string())
}

fn be_u32(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |acc, x| acc.wrapping_shl(8) | u32::from(*x))
}

/// Handles one `<iq type="get"|"set">` from a client. Returns the nodes to send back, reply
/// first. `me` is `None` while the connection is still pairing.
pub fn handle(state: &ServerState, me: Option<&DeviceAddr>, iq: &Node) -> Vec<Node> {
    let xmlns = attr(iq, "xmlns").unwrap_or_default();
    let kind = attr(iq, "type").unwrap_or_default();
    let first = iq.children().and_then(|c| c.first()).map(|c| c.tag.to_string());
    match (xmlns.as_str(), kind.as_str(), first.as_deref()) {
        // Keepalive.
        ("w:p", _, _) => vec![result(iq, vec![])],
        // Leave passive mode: after the result, tell the client its offline queue is empty —
        // whatsapp-rust waits for this (60 s timeout otherwise) and Baileys flushes its event
        // buffer on it.
        ("passive", "set", Some("active")) => vec![
            result(iq, vec![]),
            NodeBuilder::new("ib").attr("from", SERVER).children([NodeBuilder::new("offline").attr("count", "0").build()]).build(),
        ],
        ("encrypt", "get", Some("count")) => vec![prekey_count(state, me, iq)],
        ("encrypt", "set", _) => vec![prekey_upload(state, me, iq)],
        ("encrypt", "get", Some("key")) => vec![prekey_fetch(state, iq)],
        ("w", "get", Some("props")) | ("abt", "get", Some("props")) => vec![props(iq)],
        // Profile pictures, about text, privacy, blocklists (profile.rs).
        (ns, _, _) if crate::profile::handles(ns) => crate::profile::handle_iq(state, me, iq),
        ("w:sync:app:state", "set", Some("sync")) => vec![crate::app_state::handle_iq(state, me, iq)],
        ("w:biz", "get", Some("business_profile")) => vec![crate::business::handle_iq(state, iq)],
        ("w:biz:catalog" | "fb:thrift_iq", _, _) => vec![crate::catalog::handle_iq(state, me, iq)],
        // Channels: GraphQL (`w:mex`) and message history / live updates (newsletters.rs).
        (ns, _, _) if crate::newsletters::handles(ns) => crate::newsletters::handle_iq(state, me, iq),
        ("usync", "get", Some("usync")) => vec![usync(state, iq)],
        ("bot", "get", Some("bot")) => vec![bot_list(iq)],
        ("w:m", "set", Some("media_conn")) | ("w:m", "get", Some("media_conn")) => {
            vec![media_conn(state, iq)]
        }
        _ => {
            log::debug!("unhandled iq xmlns={xmlns} type={kind} child={}; answering with an empty result", first.as_deref().unwrap_or("-"));
            vec![result(iq, vec![])]
        }
    }
}

fn prekey_count(state: &ServerState, me: Option<&DeviceAddr>, iq: &Node) -> Node {
    let count = me.and_then(|me| lock(&state.directory).device(&me.phone, me.device).map(|d| d.bundle.pre_keys.len())).unwrap_or(0);
    result(iq, vec![NodeBuilder::new("count").attr("value", count.to_string()).build()])
}

fn uploaded_key(node: &Node) -> Option<UploadedKey> {
    Some(UploadedKey {
        id: be_u32(bytes(child(node, "id")?)?),
        public: bytes(child(node, "value")?)?.to_vec(),
        signature: child(node, "signature").and_then(bytes).map(<[u8]>::to_vec),
    })
}

/// Stores what a device uploads so its bundle can be handed to peers (message relay, later).
fn prekey_upload(state: &ServerState, me: Option<&DeviceAddr>, iq: &Node) -> Node {
    let Some(me) = me else {
        return error(iq, 401, "not-authorized");
    };
    let mut dir = lock(&state.directory);
    let Some(device) = dir.device_mut(&me.phone, me.device) else {
        return error(iq, 404, "item-not-found");
    };
    let b: &mut KeyBundle = &mut device.bundle;
    if let Some(reg) = child(iq, "registration").and_then(bytes) {
        b.registration_id = reg.to_vec();
    }
    if let Some(ident) = child(iq, "identity").and_then(bytes) {
        b.identity = ident.to_vec();
    }
    if let Some(skey) = child(iq, "skey").and_then(uploaded_key) {
        b.signed_pre_key = Some(skey);
    }
    if let Some(list) = child(iq, "list") {
        for key in children(list, "key").filter_map(uploaded_key) {
            b.pre_keys.retain(|k| k.id != key.id);
            b.pre_keys.push(key);
        }
    }
    log::debug!("{}:{} uploaded pre-keys, {} on server", me.phone, me.device, b.pre_keys.len());
    result(iq, vec![])
}

fn key_node(tag: &'static str, key: &UploadedKey) -> Node {
    let id = key.id.to_be_bytes();
    let mut kids =
        vec![NodeBuilder::new("id").bytes(id[1..].to_vec()).build(), NodeBuilder::new("value").bytes(key.public.clone()).build()];
    if let Some(sig) = &key.signature {
        kids.push(NodeBuilder::new("signature").bytes(sig.clone()).build());
    }
    NodeBuilder::new(tag).children(kids).build()
}

/// Pre-key bundles for `<key><user jid/></key>` (one one-time key consumed per fetch).
fn prekey_fetch(state: &ServerState, iq: &Node) -> Node {
    let mut users = Vec::new();
    let mut dir = lock(&state.directory);
    if let Some(key) = child(iq, "key") {
        for user in children(key, "user") {
            let jid = attr(user, "jid").unwrap_or_default();
            let bundle = split_jid(&jid).and_then(|(u, d, is_lid)| {
                let phone = if is_lid { dir.phone_for_lid(&u)? } else { u };
                if d == 0 {
                    // The mock phone: a bundle without one-time keys (optional in Signal).
                    let a = dir.account(&phone)?;
                    let b = KeyBundle {
                        registration_id: a.phone_registration_id.to_be_bytes().to_vec(),
                        identity: a.signing_key.public_key.public_key_bytes().to_vec(),
                        signed_pre_key: Some(a.phone_signed_pre_key.clone()),
                        pre_keys: Vec::new(),
                    };
                    return Some((b, a.phone_signed_pre_key.clone(), None, Vec::new()));
                }
                let dev = dir.device_mut(&phone, d)?;
                let skey = dev.bundle.signed_pre_key.clone()?;
                let one_time = if dev.bundle.pre_keys.is_empty() { None } else { Some(dev.bundle.pre_keys.remove(0)) };
                Some((dev.bundle.clone(), skey, one_time, dev.signed_identity.clone()))
            });
            let node = match bundle {
                Some((b, skey, one_time, signed_identity)) => {
                    let mut kids = vec![
                        NodeBuilder::new("registration").bytes(b.registration_id).build(),
                        NodeBuilder::new("type").bytes(vec![5u8]).build(),
                        NodeBuilder::new("identity").bytes(b.identity).build(),
                        key_node("skey", &skey),
                    ];
                    if let Some(k) = one_time {
                        kids.push(key_node("key", &k));
                    }
                    if !signed_identity.is_empty() {
                        kids.push(NodeBuilder::new("device-identity").bytes(signed_identity).build());
                    }
                    NodeBuilder::new("user").attr("jid", jid).children(kids).build()
                }
                None => NodeBuilder::new("user")
                    .attr("jid", jid)
                    .children([NodeBuilder::new("error").attr("code", "404").attr("text", "item-not-found").build()])
                    .build(),
            };
            users.push(node);
        }
    }
    result(iq, vec![NodeBuilder::new("list").children(users).build()])
}

fn props(iq: &Node) -> Node {
    let protocol = child(iq, "props").and_then(|p| attr(p, "protocol")).unwrap_or_else(|| "1".to_owned());
    result(iq, vec![NodeBuilder::new("props").attr("protocol", protocol).attr("hash", "mock-props-1").build()])
}

fn media_conn(state: &ServerState, iq: &Node) -> Node {
    result(
        iq,
        vec![NodeBuilder::new("media_conn")
            .attr("auth", state.media.auth().to_owned())
            .attr("ttl", "3600")
            .attr("auth_ttl", "3600")
            .attr("max_buckets", "12")
            .children([NodeBuilder::new("host").attr("hostname", format!("127.0.0.1:{}", state.port)).build()])
            .build()],
    )
}

/// usync: answers the `devices`, `lid` and `contact` protocols from the directory; any other
/// requested protocol gets an empty element of its own name so parsers find the slot.
fn usync(state: &ServerState, iq: &Node) -> Node {
    let Some(req) = child(iq, "usync") else {
        return error(iq, 400, "bad-request");
    };
    let protocols: Vec<String> =
        child(req, "query").and_then(|q| q.children()).map(|c| c.iter().map(|p| p.tag.to_string()).collect()).unwrap_or_default();
    let dir = lock(&state.directory);
    let mut users = Vec::new();
    if let Some(list) = child(req, "list") {
        for user in children(list, "user") {
            // A user is named by jid, or (contact lookups) by a phone number in <contact>.
            let jid = attr(user, "jid")
                .or_else(|| child(user, "contact").and_then(text).map(|n| format!("{}@s.whatsapp.net", n.trim_start_matches('+'))));
            let Some(jid) = jid else { continue };
            let account = split_jid(&jid).and_then(|(u, _, is_lid)| {
                let phone = if is_lid { dir.phone_for_lid(&u)? } else { u };
                dir.account(&phone)
            });
            let mut kids = Vec::new();
            for p in &protocols {
                let node = match (p.as_str(), account) {
                    ("devices", Some(a)) => {
                        let mut devs = vec![NodeBuilder::new("device").attr("id", "0").build()];
                        devs.extend(a.devices.values().map(|d| {
                            NodeBuilder::new("device").attr("id", d.id.to_string()).attr("key-index", d.key_index.to_string()).build()
                        }));
                        let mut parts = vec![NodeBuilder::new("device-list").children(devs).build()];
                        if !a.devices.is_empty() {
                            let indexes = a.devices.values().map(|d| d.key_index).collect();
                            let ts = crate::clock::unix_now();
                            match crate::pairing::build_key_index_list(&a.signing_key, a.adv_raw_id, indexes, ts) {
                                Ok(list) => parts.push(NodeBuilder::new("key-index-list").attr("ts", ts.to_string()).bytes(list).build()),
                                Err(e) => log::warn!("key-index-list for {}: {e}", a.phone),
                            }
                        }
                        NodeBuilder::new("devices").children(parts).build()
                    }
                    ("devices", None) => NodeBuilder::new("devices").children([NodeBuilder::new("device-list").build()]).build(),
                    ("lid", Some(a)) => NodeBuilder::new("lid").attr("val", format!("{}@lid", a.lid)).build(),
                    ("contact", Some(_)) => NodeBuilder::new("contact").attr("type", "in").build(),
                    ("contact", None) => NodeBuilder::new("contact").attr("type", "out").build(),
                    // The about text (profile.rs keeps it); `t` = when it was set.
                    ("status", Some(a)) => match lock(&state.profiles).status_of(&a.phone) {
                        Some((text, t)) => NodeBuilder::new("status").attr("t", t.to_string()).string_content(text.clone()).build(),
                        None => NodeBuilder::new("status").build(),
                    },
                    ("picture", a) => lock(&state.profiles).usync_picture(a.map_or("", |a| a.phone.as_str())),
                    ("disappearing_mode", Some(a)) => lock(&state.profiles).usync_disappearing_mode(&a.phone),
                    (other, _) => NodeBuilder::new_dynamic(other.to_owned()).build(),
                };
                kids.push(node);
            }
            users.push(NodeBuilder::new("user").attr("jid", jid).children(kids).build());
        }
    }
    let mut out = NodeBuilder::new("usync");
    for key in ["sid", "mode", "context", "index", "last"] {
        if let Some(v) = attr(req, key) {
            out = out.attr(key, v);
        }
    }
    let result_node = NodeBuilder::new("result").children(protocols.iter().map(|p| NodeBuilder::new_dynamic(p.clone()).build())).build();
    result(iq, vec![out.children([result_node, NodeBuilder::new("list").children(users).build()]).build()])
}

/// `<iq xmlns="bot"><bot v="2"/>`: the bots WhatsApp offers — here Meta AI alone, with the
/// jid and persona id the real server lists it under.
fn bot_list(iq: &Node) -> Node {
    let meta_ai = NodeBuilder::new("bot").attr("jid", "867051314767696@bot").attr("persona_id", "769337008432372").build();
    let all = NodeBuilder::new("section").attr("type", "all").children([meta_ai]).build();
    result(iq, vec![NodeBuilder::new("bot").children([all]).build()])
}
