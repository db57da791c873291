//! Relaying what clients send each other: end-to-end encrypted messages (never decrypted —
//! the mock cannot: they are Signal-encrypted between the clients), receipts, presence and
//! chatstates. Delivery and the offline queue are the [`Router`](crate::router::Router)'s job.
//!
//! What a client sends:
//! `<message to=CHAT id type><participants><to jid=DEVICE><enc/></to>..</participants>
//! [<device-identity/>]</message>` (or `<enc>` directly under a message to one device).
//! What each target device gets, as from the real server:
//! `<message from=SENDER_DEVICE id t type notify [recipient=CHAT for own-device copies]>
//! <enc/>[<device-identity/>]</message>`, `from` in the namespace (PN or LID) the sender
//! addressed the device in. Device 0 of every account is the mock phone: it has a pre-key
//! bundle (clients always encrypt for it); what an account's own companions address to it goes
//! to the mock phone (phone_pdo.rs), what other accounts address to it is dropped.

use wacore_binary::builder::NodeBuilder;
use wacore_binary::Node;

use crate::accounts::{resolve_jid, ConnSender, Outbound};
use crate::clock::unix_now;
use crate::jid::{split_jid, DeviceAddr};
use crate::locking::lock;
use crate::router::DevKey;
use crate::stanza::{attr, result, SERVER};
use crate::state::ServerState;

/// Message attributes the receiving client may need, copied from the sender's stanza.
const PASSED_MESSAGE_ATTRS: [&str; 3] = ["edit", "category", "mediatype"];

fn children<'a>(node: &'a Node, tag: &'a str) -> impl Iterator<Item = &'a Node> {
    node.children().unwrap_or(&[]).iter().filter(move |c| c.tag == tag)
}

fn key(me: &DeviceAddr) -> DevKey {
    (me.phone.clone(), me.device)
}

/// Bare `user@server` of a jid (drops the device).
fn bare(jid: &str) -> String {
    match split_jid(jid) {
        Some((user, _, true)) => format!("{user}@lid"),
        Some((user, _, false)) => format!("{user}@{}", jid.split_once('@').map_or(SERVER, |(_, s)| s)),
        None => jid.to_owned(),
    }
}

fn server_ack(node: &Node, class: &str, t: u64) -> Node {
    let mut ack = NodeBuilder::new("ack")
        .attr("class", class.to_owned())
        .attr("from", attr(node, "to").unwrap_or_else(|| SERVER.to_owned()))
        .attr("t", t.to_string());
    if let Some(id) = attr(node, "id") {
        ack = ack.attr("id", id);
    }
    if let Some(ty) = attr(node, "type") {
        if class != "message" {
            ack = ack.attr("type", ty);
        }
    }
    ack.build()
}

/// `<message>` from a logged-in device: ack it, then fan it out.
pub fn message(state: &ServerState, me: &DeviceAddr, tx: &ConnSender, node: &Node) -> bool {
    match attr(node, "to").as_deref() {
        Some(to) if to.ends_with("@g.us") => return crate::group_relay::message(state, me, tx, node),
        Some("status@broadcast") => return crate::group_relay::status_message(state, me, tx, node),
        Some(to) if to.ends_with("@newsletter") => return crate::newsletters::message(state, me, tx, node),
        _ => {}
    }
    let t = unix_now();
    if tx.send(Outbound::Node(server_ack(node, "message", t))).is_err() {
        return false;
    }
    let (Some(id), Some(to)) = (attr(node, "id"), attr(node, "to")) else {
        log::debug!("{}:{}: message without id or to", me.phone, me.device);
        return true;
    };
    if !(to.ends_with("@s.whatsapp.net") || to.ends_with("@lid")) {
        log::debug!("{}:{}: message to {to} (broadcasts) is not relayed", me.phone, me.device);
        return true;
    }

    // (target device jid as addressed, its <enc> nodes)
    let mut targets: Vec<(String, Vec<Node>)> = Vec::new();
    if let Some(parts) = node.get_optional_child("participants") {
        for p in children(parts, "to") {
            if let Some(jid) = attr(p, "jid") {
                targets.push((jid, children(p, "enc").cloned().collect()));
            }
        }
    } else {
        let encs: Vec<Node> = children(node, "enc").cloned().collect();
        if !encs.is_empty() {
            targets.push((to.clone(), encs));
        }
    }
    let device_identity = node.get_optional_child("device-identity").cloned();
    let kind = attr(node, "type").unwrap_or_else(|| "text".to_owned());

    let dir = lock(&state.directory);
    let Some(sender) = dir.account(&me.phone) else {
        return true;
    };
    let mut router = lock(&state.router);
    let notify = router.notify_name(sender);
    let chat = resolve_jid(&dir, &to);
    let mut delivered = 0usize;
    // What the sender's own phone gets: it decrypts it (and answers a PDO request).
    let mut to_own_phone: Vec<(bool, Node)> = Vec::new();
    for (jid, encs) in targets {
        if encs.is_empty() {
            continue;
        }
        let Some((phone, device, is_lid)) = resolve_jid(&dir, &jid) else {
            log::debug!("message {id}: unknown target {jid}, dropped");
            continue;
        };
        if device == 0 && phone == me.phone {
            to_own_phone.extend(encs.into_iter().filter(|e| e.tag == "enc").map(|e| (is_lid, e)));
            continue;
        }
        if device == 0 || dir.device(&phone, device).is_none() || (phone == me.phone && device == me.device) {
            // The mock phone, an unknown device, or the sender itself.
            continue;
        }
        let mut out = NodeBuilder::new("message")
            .attr("from", sender.device_jid(me.device, is_lid))
            .attr("id", id.clone())
            .attr("t", t.to_string())
            .attr("type", kind.clone());
        if let Some(n) = &notify {
            out = out.attr("notify", n.clone());
        }
        for a in PASSED_MESSAGE_ATTRS {
            if let Some(v) = attr(node, a) {
                out = out.attr(a, v);
            }
        }
        if phone == me.phone {
            // A copy for one of the sender's own devices: `recipient` names the chat.
            let recipient = attr(node, "recipient").or_else(|| match &chat {
                Some((chat_phone, _, _)) if *chat_phone != me.phone => Some(bare(&to)),
                _ => None,
            });
            if let Some(r) = recipient {
                out = out.attr("recipient", r);
            }
        }
        let needs_identity = encs.iter().any(|e| attr(e, "type").as_deref() == Some("pkmsg"));
        let mut kids = encs;
        if needs_identity {
            if let Some(di) = &device_identity {
                kids.push(di.clone());
            }
        }
        router.deliver(&(phone, device), "message", &id, &me.phone, out.children(kids).build());
        delivered += 1;
    }
    log::debug!("{}:{}: message {id} to {to} relayed to {delivered} device(s)", me.phone, me.device);
    drop(router);
    drop(dir);
    for (is_lid, enc) in to_own_phone {
        crate::phone_pdo::from_companion(state, me, is_lid, &id, &enc);
    }
    true
}

/// `<receipt id to [type]>` from a device: ack it, relay it to the device(s) it is for.
pub fn receipt(state: &ServerState, me: &DeviceAddr, tx: &ConnSender, node: &Node) -> bool {
    if attr(node, "to").is_some_and(|to| to.ends_with("@g.us") || to == "status@broadcast") {
        return crate::group_relay::receipt(state, me, tx, node);
    }
    let t = unix_now();
    if tx.send(Outbound::Node(server_ack(node, "receipt", t))).is_err() {
        return false;
    }
    let (Some(id), Some(to)) = (attr(node, "id"), attr(node, "to")) else {
        return true;
    };
    // The server consumes these itself. A `peer_msg` receipt is a device's delivery receipt for
    // a message from its own phone (`category="peer"`): the phone is the mock, so the receipt
    // goes nowhere, but it acknowledges the message (it leaves the device's queue).
    let kind = attr(node, "type");
    if kind.as_deref() == Some("peer_msg") {
        let mut router = lock(&state.router);
        router.ack(&key(me), "message", &id, Some(&me.phone));
        if let Some(list) = node.get_optional_child("list") {
            for mid in children(list, "item").filter_map(|i| attr(i, "id")) {
                router.ack(&key(me), "message", &mid, Some(&me.phone));
            }
        }
        return true;
    }
    if kind.as_deref() == Some("server-error") {
        return true;
    }
    let dir = lock(&state.directory);
    let (Some(me_acc), Some((phone, device, is_lid))) = (dir.account(&me.phone), resolve_jid(&dir, &to)) else {
        log::debug!("receipt {id} to unknown {to}, dropped");
        return true;
    };
    let targets: Vec<u16> =
        if device != 0 { vec![device] } else { dir.account(&phone).map(|a| a.devices.keys().copied().collect()).unwrap_or_default() };
    let mut out = NodeBuilder::new("receipt")
        .attr("from", me_acc.device_jid(me.device, is_lid))
        .attr("id", id.clone())
        .attr("t", attr(node, "t").unwrap_or_else(|| t.to_string()));
    // A passive companion's "inactive" receipt reaches the sender as a delivery receipt.
    if let Some(k) = kind.filter(|k| k != "inactive") {
        out = out.attr("type", k);
    }
    for a in ["recipient", "participant"] {
        if let Some(v) = attr(node, a) {
            out = out.attr(a, v);
        }
    }
    if let Some(kids) = node.children() {
        out = out.children(kids.iter().cloned());
    }
    let out = out.build();
    let mut router = lock(&state.router);
    // A receipt is how a device acknowledges the messages it names (whatsapp-rust sends no
    // `<ack>` for 1:1 messages, only the receipt): they leave its queue. Not so a retry receipt:
    // the sender's re-encrypted copy replaces the queued one.
    if !matches!(attr(node, "type").as_deref(), Some("retry") | Some("enc_rekey_retry")) {
        let mut ids = vec![id.clone()];
        if let Some(list) = node.get_optional_child("list") {
            ids.extend(children(list, "item").filter_map(|i| attr(i, "id")));
        }
        for mid in &ids {
            router.ack(&key(me), "message", mid, Some(&phone));
        }
    }
    for d in targets {
        if d == 0 || (phone == me.phone && d == me.device) || dir.device(&phone, d).is_none() {
            continue;
        }
        router.deliver(&(phone.clone(), d), "receipt", &id, &me.phone, out.clone());
    }
    true
}

/// A device acked something we delivered: it leaves that device's queue.
pub fn client_ack(state: &ServerState, me: &DeviceAddr, node: &Node) {
    let (Some(class), Some(id)) = (attr(node, "class"), attr(node, "id")) else {
        return;
    };
    let peer = {
        let dir = lock(&state.directory);
        attr(node, "to").and_then(|to| resolve_jid(&dir, &to)).map(|(phone, _, _)| phone)
    };
    let removed = lock(&state.router).ack(&key(me), &class, &id, peer.as_deref());
    log::trace!("{}:{} acked {class} {id} (queued: {removed})", me.phone, me.device);
}

/// `<iq xmlns="passive"><active/></iq>`: the result, then the device's queue (marked
/// `offline`), then `<ib><offline count=N/></ib>`; from now on it gets stanzas live.
pub fn go_active(state: &ServerState, conn_id: u64, me: &DeviceAddr, tx: &ConnSender, iq: &Node) -> bool {
    let mut router = lock(&state.router);
    if tx.send(Outbound::Node(result(iq, vec![]))).is_err() {
        return false;
    }
    let queued = router.activate(&key(me), conn_id, tx.clone());
    let count = queued.len();
    for n in queued {
        let _ = tx.send(Outbound::Node(n));
    }
    if count > 0 {
        log::info!("{}:{}: delivered {count} offline stanza(s)", me.phone, me.device);
    }
    let ib = NodeBuilder::new("ib")
        .attr("from", SERVER)
        .children([NodeBuilder::new("offline").attr("count", count.to_string()).build()])
        .build();
    tx.send(Outbound::Node(ib)).is_ok()
}

/// The connection ended.
pub fn disconnected(state: &ServerState, conn_id: u64, me: &DeviceAddr) {
    lock(&state.router).deactivate(&key(me), conn_id);
}

/// `<presence type=available|unavailable [name]>` and `<presence type=subscribe to=..>`.
pub fn presence(state: &ServerState, me: &DeviceAddr, tx: &ConnSender, node: &Node) -> bool {
    let kind = attr(node, "type").unwrap_or_else(|| "available".to_owned());
    let dir = lock(&state.directory);
    let mut router = lock(&state.router);
    if kind == "subscribe" {
        let Some(to) = attr(node, "to") else { return true };
        let Some((phone, _, is_lid)) = resolve_jid(&dir, &to) else {
            return true;
        };
        router.subscribe(&phone, key(me));
        let Some(acc) = dir.account(&phone) else { return true };
        let (state_now, last) = router.presence(&phone).cloned().unwrap_or_else(|| ("unavailable".to_owned(), 0));
        let mut out = NodeBuilder::new("presence").attr("from", acc.device_jid(0, is_lid)).attr("type", state_now.clone());
        if state_now == "unavailable" && last > 0 {
            out = out.attr("last", last.to_string());
        }
        return tx.send(Outbound::Node(out.build())).is_ok();
    }
    if kind != "available" && kind != "unavailable" {
        return true;
    }
    if let Some(name) = attr(node, "name").filter(|n| !n.is_empty()) {
        router.set_push_name(&me.phone, &name);
    }
    let t = unix_now();
    router.set_presence(&me.phone, &kind, t);
    let Some(acc) = dir.account(&me.phone) else { return true };
    let mut out = NodeBuilder::new("presence").attr("from", acc.device_jid(0, false)).attr("type", kind.clone());
    if kind == "unavailable" {
        out = out.attr("last", t.to_string());
    }
    let out = out.build();
    for sub in router.subscribers_of(&me.phone) {
        if sub.0 != me.phone {
            router.send_if_live(&sub, out.clone());
        }
    }
    true
}

/// `<chatstate to=..><composing/>|<paused/></chatstate>` → `<chatstate from=..>` to the other
/// party's live devices (never queued).
pub fn chatstate(state: &ServerState, me: &DeviceAddr, node: &Node) -> bool {
    let Some(to) = attr(node, "to") else { return true };
    let dir = lock(&state.directory);
    let Some((phone, _, is_lid)) = resolve_jid(&dir, &to) else {
        return true;
    };
    let Some(acc) = dir.account(&me.phone) else { return true };
    let mut out = NodeBuilder::new("chatstate").attr("from", acc.device_jid(0, is_lid));
    if let Some(kids) = node.children() {
        out = out.children(kids.iter().cloned());
    }
    let out = out.build();
    let router = lock(&state.router);
    for dev in router.live_devices_of(&phone) {
        if !(dev.0 == me.phone && dev.1 == me.device) {
            router.send_if_live(&dev, out.clone());
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_jids() {
        assert_eq!(bare("1555:3@s.whatsapp.net"), "1555@s.whatsapp.net");
        assert_eq!(bare("123:1@lid"), "123@lid");
        assert_eq!(bare("1555@s.whatsapp.net"), "1555@s.whatsapp.net");
    }
}
