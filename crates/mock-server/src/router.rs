//! Where stanzas for a device go: its live connection, and its queue of stanzas it has not
//! acknowledged yet (the server's "offline queue").
//!
//! A stanza for a device is always queued; if the device is live it is also sent at once. It
//! leaves the queue only when the device acks it (`<ack class=.. id=..>`), so a device that
//! drops before acking gets it again on its next login, marked `offline`, like on WhatsApp.
//!
//! A device becomes live when it leaves passive mode (`<iq xmlns="passive"><active/>`), not at
//! login: that is when both clients are ready for messages, and when the real server drains the
//! offline queue, followed by `<ib><offline count=N/></ib>`.

use std::collections::{HashMap, HashSet};

use wacore_binary::Node;

use crate::accounts::{ConnSender, Outbound};

/// `(phone, device)`.
pub type DevKey = (String, u16);

/// More than this many unacked stanzas for one device and the oldest are dropped.
const MAX_QUEUE: usize = 5_000;

struct Pending {
    class: String,
    id: String,
    /// Phone number of the account the stanza comes from (its `from` may be PN or LID).
    from_phone: String,
    node: Node,
}

struct Live {
    conn_id: u64,
    sender: ConnSender,
}

#[derive(Default)]
pub struct Router {
    live: HashMap<DevKey, Live>,
    queues: HashMap<DevKey, Vec<Pending>>,
    /// Phone → devices subscribed to its presence.
    subscribers: HashMap<String, HashSet<DevKey>>,
    /// Phone → last presence it announced (`available` / `unavailable`) and when.
    presence: HashMap<String, (String, u64)>,
    /// Phone → push name from `<presence name=..>` (Baileys' only way of telling us).
    push_names: HashMap<String, String>,
}

impl Router {
    /// Queues `node` for `to` until acked, and sends it now if `to` is live.
    pub fn deliver(&mut self, to: &DevKey, class: &str, id: &str, from_phone: &str, node: Node) {
        if let Some(live) = self.live.get(to) {
            let _ = live.sender.send(Outbound::Node(node.clone()));
        }
        let q = self.queues.entry(to.clone()).or_default();
        // A stanza with the same class and id replaces the older copy (a resend).
        q.retain(|p| !(p.class == class && p.id == id && same_from(&p.node, &node)));
        q.push(Pending { class: class.to_owned(), id: id.to_owned(), from_phone: from_phone.to_owned(), node });
        if q.len() > MAX_QUEUE {
            let excess = q.len() - MAX_QUEUE;
            q.drain(..excess);
        }
    }

    /// Sends `node` to `to` only if it is live (presence, chatstate: never queued).
    pub fn send_if_live(&self, to: &DevKey, node: Node) -> bool {
        match self.live.get(to) {
            Some(live) => live.sender.send(Outbound::Node(node)).is_ok(),
            None => false,
        }
    }

    /// Live devices of a phone number.
    pub fn live_devices_of(&self, phone: &str) -> Vec<DevKey> {
        self.live.keys().filter(|(p, _)| p == phone).cloned().collect()
    }

    pub fn is_live(&self, key: &DevKey) -> bool {
        self.live.contains_key(key)
    }

    /// Makes the device live on this connection and returns its queue, each stanza marked
    /// `offline`, to be sent (in order) before `<ib><offline count/>`. The caller sends them
    /// while still holding the router lock, so a live delivery cannot overtake them.
    pub fn activate(&mut self, key: &DevKey, conn_id: u64, sender: ConnSender) -> Vec<Node> {
        self.live.insert(key.clone(), Live { conn_id, sender });
        self.queues
            .get(key)
            .map(|q| {
                q.iter()
                    .map(|p| {
                        let mut n = p.node.clone();
                        n.attrs.insert("offline", "1");
                        n
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The connection ended: the device is no longer live (if `conn_id` is still its
    /// connection) and its presence subscriptions end.
    pub fn deactivate(&mut self, key: &DevKey, conn_id: u64) {
        if self.live.get(key).is_some_and(|l| l.conn_id == conn_id) {
            self.live.remove(key);
            for subs in self.subscribers.values_mut() {
                subs.remove(key);
            }
        }
    }

    /// The device acked a stanza: drop it from the queue. `peer_phone` is the account the ack
    /// is addressed to (who the stanza came from); when given, it must match.
    pub fn ack(&mut self, key: &DevKey, class: &str, id: &str, peer_phone: Option<&str>) -> bool {
        let Some(q) = self.queues.get_mut(key) else {
            return false;
        };
        let before = q.len();
        q.retain(|p| {
            let hit = p.class == class && p.id == id && peer_phone.is_none_or(|peer| p.from_phone == peer);
            !hit
        });
        before != q.len()
    }

    /// Number of stanzas waiting for an ack from this device.
    pub fn queued(&self, key: &DevKey) -> usize {
        self.queues.get(key).map_or(0, Vec::len)
    }

    pub fn subscribe(&mut self, target_phone: &str, subscriber: DevKey) {
        self.subscribers.entry(target_phone.to_owned()).or_default().insert(subscriber);
    }

    pub fn subscribers_of(&self, phone: &str) -> Vec<DevKey> {
        self.subscribers.get(phone).map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }

    pub fn set_presence(&mut self, phone: &str, kind: &str, t: u64) {
        self.presence.insert(phone.to_owned(), (kind.to_owned(), t));
    }

    pub fn presence(&self, phone: &str) -> Option<&(String, u64)> {
        self.presence.get(phone)
    }

    pub fn set_push_name(&mut self, phone: &str, name: &str) {
        self.push_names.insert(phone.to_owned(), name.to_owned());
    }

    pub fn push_name(&self, phone: &str) -> Option<&str> {
        self.push_names.get(phone).map(String::as_str)
    }

    /// The `notify` name a message from `sender` carries: the name its devices announced last,
    /// else the account's own.
    pub fn notify_name(&self, sender: &crate::accounts::Account) -> Option<String> {
        self.push_name(&sender.phone).or_else(|| sender.push_name()).map(str::to_owned)
    }
}

fn same_from(a: &Node, b: &Node) -> bool {
    a.attrs.get("from").map(|v| v.as_str().into_owned()) == b.attrs.get("from").map(|v| v.as_str().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;
    use wacore_binary::builder::NodeBuilder;

    fn msg(id: &str, from: &str) -> Node {
        NodeBuilder::new("message").attr("id", id.to_owned()).attr("from", from.to_owned()).build()
    }

    #[test]
    fn queued_until_acked_and_marked_offline_on_activation() {
        let mut r = Router::default();
        let b: DevKey = ("2".into(), 1);
        r.deliver(&b, "message", "m1", "1", msg("m1", "1:1@s.whatsapp.net"));
        r.deliver(&b, "message", "m2", "1", msg("m2", "1:1@s.whatsapp.net"));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let drained = r.activate(&b, 7, tx);
        assert_eq!(drained.len(), 2);
        assert!(drained.iter().all(|n| n.attrs.get("offline").is_some()));
        // Live now: a new stanza is sent at once, and queued until acked.
        r.deliver(&b, "message", "m3", "1", msg("m3", "1:1@s.whatsapp.net"));
        assert!(matches!(rx.try_recv(), Ok(Outbound::Node(_))));
        assert_eq!(r.queued(&b), 3);
        assert!(!r.ack(&b, "message", "m1", Some("9")), "wrong peer");
        assert!(r.ack(&b, "message", "m1", Some("1")));
        assert!(r.ack(&b, "message", "m2", None));
        assert!(!r.ack(&b, "receipt", "m3", None), "wrong class");
        assert_eq!(r.queued(&b), 1);
        // A stale connection's end does not take the device offline.
        r.deactivate(&b, 6);
        assert!(r.is_live(&b));
        r.deactivate(&b, 7);
        assert!(!r.is_live(&b));
    }
}
