//! Relaying group messages, status posts and their receipts.
//!
//! A member sends `<message to="ID@g.us" id type addressing_mode><participants><to jid=DEVICE>
//! <enc type="pkmsg|msg"/></to>…</participants><enc type="skmsg"/>[<device-identity/>]</message>`:
//! the `skmsg` is the message under the sender's sender key (one ciphertext for everybody), the
//! per-device `pkmsg`/`msg` carry the sender-key distribution to devices that do not have it yet.
//! Every device of every member except the sending one gets, as from the real server,
//! `<message from="ID@g.us" participant=SENDER_DEVICE id t type addressing_mode="pn" [notify]>`
//! with its own `pkmsg`/`msg` (if any) first, then the `skmsg`. A `participant` attribute on the
//! sent stanza (a retry for one device) limits delivery to that device.
//!
//! Devices of accounts that are no longer members get nothing, even if a stale sender still
//! encrypted for them. A non-member's message, or a non-admin's in an announcement group, is
//! refused with `<ack class="message" error="403">` and relayed to nobody.

use wacore_binary::builder::NodeBuilder;
use wacore_binary::Node;

use crate::accounts::Directory;
use crate::accounts::{resolve_jid, ConnSender, Outbound};
use crate::clock::unix_now;
use crate::jid::DeviceAddr;
use crate::locking::lock;
use crate::stanza::attr;
use crate::state::ServerState;

/// Attributes of the sent stanza passed on to recipients.
const PASSED_ATTRS: [&str; 3] = ["edit", "category", "mediatype"];

fn children<'a>(node: &'a Node, tag: &'a str) -> impl Iterator<Item = &'a Node> {
    node.children().unwrap_or(&[]).iter().filter(move |c| c.tag == tag)
}

fn group_id(jid: &str) -> &str {
    jid.split('@').next().unwrap_or(jid)
}

fn pn_device_jid(phone: &str, device: u16) -> String {
    if device == 0 {
        format!("{phone}@s.whatsapp.net")
    } else {
        format!("{phone}:{device}@s.whatsapp.net")
    }
}

fn ack(node: &Node, t: u64, error: Option<&str>) -> Node {
    let mut b =
        NodeBuilder::new("ack").attr("class", "message").attr("from", attr(node, "to").unwrap_or_default()).attr("t", t.to_string());
    if let Some(id) = attr(node, "id") {
        b = b.attr("id", id);
    }
    if let Some(e) = error {
        b = b.attr("error", e);
    }
    b.build()
}

/// `<message to="…@g.us">` from a logged-in device.
pub fn message(state: &ServerState, me: &DeviceAddr, tx: &ConnSender, node: &Node) -> bool {
    let t = unix_now();
    let (Some(id), Some(to)) = (attr(node, "id"), attr(node, "to")) else {
        return tx.send(Outbound::Node(ack(node, t, Some("400")))).is_ok();
    };
    let dir = lock(&state.directory);
    let members = {
        let groups = lock(&state.groups);
        match groups.get(group_id(&to)) {
            None => Err("404"),
            Some(g) => match g.role_of(&me.phone) {
                None => Err("403"),
                Some(role) if g.announce && !role.is_admin() => Err("403"),
                Some(_) => Ok(g.member_phones()),
            },
        }
    };
    let members = match members {
        Ok(m) => m,
        Err(code) => {
            log::info!("{}:{}: message {id} to {to} refused ({code})", me.phone, me.device);
            return tx.send(Outbound::Node(ack(node, t, Some(code)))).is_ok();
        }
    };
    if tx.send(Outbound::Node(ack(node, t, None))).is_err() {
        return false;
    }
    fan_out(state, &dir, me, node, &members, t);
    true
}

/// `<message to="status@broadcast">`: a status post. Its audience is every account the sender
/// has distributed its status sender key to (the `<participants>` of this and earlier posts,
/// i.e. the `statusJidList`s it used) and its own other devices; each of their devices gets the
/// post as a member's device gets a group message, `from="status@broadcast"`.
pub fn status_message(state: &ServerState, me: &DeviceAddr, tx: &ConnSender, node: &Node) -> bool {
    let t = unix_now();
    if attr(node, "id").is_none() {
        return tx.send(Outbound::Node(ack(node, t, Some("400")))).is_ok();
    }
    let dir = lock(&state.directory);
    let members: Vec<String> = {
        let mut audiences = lock(&state.status_audiences);
        let audience = audiences.entry(me.phone.clone()).or_default();
        audience.insert(me.phone.clone());
        if let Some(parts) = node.get_optional_child("participants") {
            for p in children(parts, "to") {
                if let Some((phone, _, _)) = attr(p, "jid").and_then(|j| resolve_jid(&dir, &j)) {
                    audience.insert(phone);
                }
            }
        }
        audience.iter().cloned().collect()
    };
    if tx.send(Outbound::Node(ack(node, t, None))).is_err() {
        return false;
    }
    fan_out(state, &dir, me, node, &members, t);
    true
}

/// Delivers a sender-key message (a group message or a status post) to every device of
/// `members` but the sending one: each device's own pairwise `<enc>`s (the sender-key
/// distribution) first, then the `skmsg`.
fn fan_out(state: &ServerState, dir: &Directory, me: &DeviceAddr, node: &Node, members: &[String], t: u64) {
    let (Some(id), Some(to)) = (attr(node, "id"), attr(node, "to")) else { return };
    // (phone, device) → that device's own pairwise encs (sender-key distribution).
    let mut pairwise: Vec<((String, u16), Vec<Node>)> = Vec::new();
    if let Some(parts) = node.get_optional_child("participants") {
        for p in children(parts, "to") {
            let Some((phone, device, _)) = attr(p, "jid").and_then(|j| resolve_jid(dir, &j)) else {
                continue;
            };
            pairwise.push(((phone, device), children(p, "enc").cloned().collect()));
        }
    }
    let (group_encs, direct_encs): (Vec<Node>, Vec<Node>) =
        children(node, "enc").cloned().partition(|e| attr(e, "type").as_deref() == Some("skmsg"));
    // A retry for one device: only that device, and a bare pairwise `<enc>` is for it.
    let only = attr(node, "participant").and_then(|j| resolve_jid(dir, &j)).map(|(p, d, _)| (p, d));
    if let Some(target) = &only {
        if !direct_encs.is_empty() {
            pairwise.push((target.clone(), direct_encs));
        }
    }
    let device_identity = node.get_optional_child("device-identity").cloned();
    let Some(sender) = dir.account(&me.phone) else {
        return;
    };
    let mut router = lock(&state.router);
    let notify = router.notify_name(sender);
    let kind = attr(node, "type").unwrap_or_else(|| "text".to_owned());
    let mut delivered = 0usize;
    for phone in members {
        let Some(acc) = dir.account(phone) else {
            continue;
        };
        for &device in acc.devices.keys() {
            let key = (phone.clone(), device);
            if (phone == &me.phone && device == me.device) || only.as_ref().is_some_and(|o| *o != key) {
                continue;
            }
            let mut encs: Vec<Node> = pairwise.iter().filter(|(k, _)| *k == key).flat_map(|(_, e)| e.iter().cloned()).collect();
            let needs_identity = encs.iter().any(|e| attr(e, "type").as_deref() == Some("pkmsg"));
            encs.extend(group_encs.iter().cloned());
            if encs.is_empty() {
                continue;
            }
            if needs_identity {
                if let Some(di) = &device_identity {
                    encs.push(di.clone());
                }
            }
            let mut out = NodeBuilder::new("message")
                .attr("from", to.clone())
                .attr("participant", pn_device_jid(&me.phone, me.device))
                .attr("id", id.clone())
                .attr("t", t.to_string())
                .attr("type", kind.clone())
                .attr("addressing_mode", "pn")
                .attr("participant_lid", format!("{}:{}@lid", sender.lid, me.device));
            if let Some(n) = &notify {
                out = out.attr("notify", n.clone());
            }
            for a in PASSED_ATTRS {
                if let Some(v) = attr(node, a) {
                    out = out.attr(a, v);
                }
            }
            router.deliver(&key, "message", &id, &me.phone, out.children(encs).build());
            delivered += 1;
        }
    }
    log::debug!("{}:{}: message {id} to {to} relayed to {delivered} device(s)", me.phone, me.device);
}

/// `<receipt to="…@g.us" participant=SENDER id [type]>`: acknowledges the message in this
/// device's queue and reaches the sender as `<receipt from=GROUP participant=THIS_DEVICE>`.
pub fn receipt(state: &ServerState, me: &DeviceAddr, tx: &ConnSender, node: &Node) -> bool {
    let t = unix_now();
    let mut server_ack =
        NodeBuilder::new("ack").attr("class", "receipt").attr("from", attr(node, "to").unwrap_or_default()).attr("t", t.to_string());
    for a in ["id", "type", "participant"] {
        if let Some(v) = attr(node, a) {
            server_ack = server_ack.attr(a, v);
        }
    }
    if tx.send(Outbound::Node(server_ack.build())).is_err() {
        return false;
    }
    let (Some(id), Some(to)) = (attr(node, "id"), attr(node, "to")) else {
        return true;
    };
    let dir = lock(&state.directory);
    let Some((phone, device, _)) = attr(node, "participant").and_then(|j| resolve_jid(&dir, &j)) else {
        log::debug!("group receipt {id} without a known participant, dropped");
        return true;
    };
    let kind = attr(node, "type");
    let mut router = lock(&state.router);
    if !matches!(kind.as_deref(), Some("retry") | Some("enc_rekey_retry")) {
        let mut ids = vec![id.clone()];
        if let Some(list) = node.get_optional_child("list") {
            ids.extend(children(list, "item").filter_map(|i| attr(i, "id")));
        }
        for mid in &ids {
            router.ack(&(me.phone.clone(), me.device), "message", mid, Some(&phone));
        }
    }
    let mut out = NodeBuilder::new("receipt")
        .attr("from", to)
        .attr("participant", pn_device_jid(&me.phone, me.device))
        .attr("id", id.clone())
        .attr("t", attr(node, "t").unwrap_or_else(|| t.to_string()));
    if let Some(k) = kind.filter(|k| k != "inactive") {
        out = out.attr("type", k);
    }
    if let Some(kids) = node.children() {
        out = out.children(kids.iter().cloned());
    }
    let out = out.build();
    let targets: Vec<u16> =
        if device != 0 { vec![device] } else { dir.account(&phone).map(|a| a.devices.keys().copied().collect()).unwrap_or_default() };
    for d in targets {
        if (phone == me.phone && d == me.device) || dir.device(&phone, d).is_none() {
            continue;
        }
        router.deliver(&(phone.clone(), d), "receipt", &id, &me.phone, out.clone());
    }
    true
}
