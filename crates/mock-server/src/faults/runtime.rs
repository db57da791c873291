//! The per-connection fault runtime: a connection registers with the server's [`Faults`] when
//! it starts and gets two handles, [`ConnFaults`] for its read side (it resolves when the
//! connection must die) and [`WriterFaults`] that its write loop pulls every frame through
//! (delays, random drops, malformed frames).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use wacore_binary::Node;

use super::model::{DropOn, DropPoint, MalformedFrame};
use super::registry::{ConnEntry, ConnShared, Faults};
use crate::accounts::{ConnSender, Outbound};
use crate::locking::lock;
use crate::router::DevKey;

/// After a connection has been sent a final stanza (`<stream:error>`, `<failure>`), how long
/// the client gets to close its side before the mock closes the socket itself, as WhatsApp
/// does. Without it, a client that abandons the socket without closing it (whatsapp-rust after
/// a `<stream:error>`) would stay "online" at the mock and keep receiving targeted faults.
const FINAL_STANZA_GRACE: Duration = Duration::from_millis(1500);

/// How a connection's login ended.
pub enum LoginOutcome {
    Device(DevKey),
    Registering,
    Refused,
}

/// The read side's handle on a connection's faults. Dropping it unregisters the connection.
pub struct ConnFaults {
    conn_id: u64,
    faults: Faults,
    killed: watch::Receiver<bool>,
    in_handshake: bool,
}

impl ConnFaults {
    /// Resolves once a fault has ordered this connection dropped.
    pub async fn killed(&mut self) {
        let _ = self.killed.wait_for(|k| *k).await;
    }

    /// The login has been answered: the handshake phase is over. Registers what the
    /// connection is, so faults can target it.
    pub fn login_done(&mut self, tx: &ConnSender, outcome: LoginOutcome) {
        if std::mem::take(&mut self.in_handshake) {
            let mut s = lock(&self.faults.inner.stats);
            s.current = s.current.saturating_sub(1);
            match outcome {
                LoginOutcome::Device(_) => s.completed += 1,
                LoginOutcome::Registering => s.registrations += 1,
                LoginOutcome::Refused => s.failed += 1,
            }
        }
        let mut conns = lock(&self.faults.inner.conns);
        if let Some(entry) = conns.get_mut(&self.conn_id) {
            entry.sender = Some(tx.downgrade());
            if let LoginOutcome::Device(key) = outcome {
                entry.shared.is_device.store(true, Ordering::Relaxed);
                entry.device = Some(key);
            }
        }
    }
}

impl Drop for ConnFaults {
    fn drop(&mut self) {
        if self.in_handshake {
            let mut s = lock(&self.faults.inner.stats);
            s.current = s.current.saturating_sub(1);
            s.failed += 1;
        }
        lock(&self.faults.inner.conns).remove(&self.conn_id);
    }
}

/// What the write loop must do next.
pub enum WriteStep {
    /// Write this; if `then_drop`, close the socket abruptly right after.
    Send { out: Outbound, then_drop: bool },
    /// Write this malformed frame (then close abruptly if it says so).
    Malformed(MalformedFrame),
    /// Close the socket abruptly now (no close frame).
    Drop,
}

enum WriterEvent {
    Killed,
    Malformed(MalformedFrame),
    Due,
    Input(Option<Outbound>),
}

/// The write side's handle: the write loop takes its frames from [`WriterFaults::next`].
pub struct WriterFaults {
    conn_id: u64,
    faults: Faults,
    shared: Arc<ConnShared>,
    killed: watch::Receiver<bool>,
    malformed: mpsc::UnboundedReceiver<MalformedFrame>,
    /// Frames held by a delay, with when they are due, in order.
    held: VecDeque<(Instant, Outbound)>,
    input_closed: bool,
}

fn outbound_node(out: &Outbound) -> &Node {
    match out {
        Outbound::Node(n) | Outbound::CloseAfter(n) => n,
    }
}

impl WriterFaults {
    /// The next thing to write; `None` once the connection's sender is gone and nothing is held.
    pub async fn next(&mut self, rx: &mut mpsc::UnboundedReceiver<Outbound>) -> Option<WriteStep> {
        loop {
            if *self.killed.borrow() {
                return Some(WriteStep::Drop);
            }
            if self.input_closed && self.held.is_empty() {
                return None;
            }
            let due = self.held.front().map(|(t, _)| *t);
            // Decide in the select, act after it (the branches borrow fields of `self`).
            let event = tokio::select! {
                biased;
                _ = self.killed.wait_for(|k| *k) => WriterEvent::Killed,
                Some(frame) = self.malformed.recv() => WriterEvent::Malformed(frame),
                _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => WriterEvent::Due,
                out = rx.recv(), if !self.input_closed => WriterEvent::Input(out),
            };
            match event {
                WriterEvent::Killed => return Some(WriteStep::Drop),
                WriterEvent::Malformed(frame) => {
                    if frame.then_close {
                        self.shared.kill();
                    }
                    return Some(WriteStep::Malformed(frame));
                }
                WriterEvent::Due => {
                    if let Some((_, out)) = self.held.pop_front() {
                        return Some(self.maybe_drop(out));
                    }
                }
                WriterEvent::Input(None) => self.input_closed = true,
                WriterEvent::Input(Some(out)) => {
                    let delay = lock(&self.faults.inner.settings).delay.filter(|d| d.applies_to(outbound_node(&out)));
                    match delay {
                        Some(d) => {
                            let mut due = Instant::now() + d.by;
                            if let Some((last, _)) = self.held.back() {
                                due = due.max(*last);
                            }
                            self.held.push_back((due, out));
                        }
                        None => return Some(self.maybe_drop(out)),
                    }
                }
            }
        }
    }

    /// Draws a random drop for this frame, if a drop rate is set and applies.
    fn maybe_drop(&mut self, out: Outbound) -> WriteStep {
        let Outbound::Node(node) = &out else {
            if !self.shared.closing.swap(true, Ordering::Relaxed) {
                let shared = self.shared.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(FINAL_STANZA_GRACE).await;
                    shared.kill();
                });
            }
            return WriteStep::Send { out, then_drop: false };
        };
        if !self.shared.is_device.load(Ordering::Relaxed) {
            return WriteStep::Send { out, then_drop: false };
        }
        let point = {
            let mut settings = lock(&self.faults.inner.settings);
            let Some(rate) = settings.drop_rate.clone() else {
                return WriteStep::Send { out, then_drop: false };
            };
            let eligible = match rate.on {
                DropOn::Message => node.tag == "message" && node.attrs.get("offline").is_none(),
                DropOn::Frame => true,
                DropOn::Interval(_) => false,
            };
            let exhausted = rate.max_drops.is_some_and(|m| settings.random_drops >= m);
            if !eligible || exhausted || !rand::random_bool(rate.probability) {
                return WriteStep::Send { out, then_drop: false };
            }
            settings.random_drops += 1;
            rate.at
        };
        {
            let mut s = lock(&self.faults.inner.stats);
            s.dropped += 1;
            s.random_drops += 1;
        }
        self.shared.kill();
        let before = match point {
            DropPoint::Before => true,
            DropPoint::After => false,
            DropPoint::Random => rand::random_bool(0.5),
        };
        log::info!("fault: conn {}: random drop {} a <{}> frame", self.conn_id, if before { "before" } else { "after" }, node.tag);
        if before {
            WriteStep::Drop
        } else {
            WriteStep::Send { out, then_drop: true }
        }
    }
}
impl Faults {
    /// A new connection (its WebSocket is up, its Noise handshake begins). Counts as a handshake
    /// in progress until [`ConnFaults::login_done`] or until the handle is dropped.
    pub fn register(&self, conn_id: u64) -> (ConnFaults, WriterFaults) {
        let (kill, killed) = watch::channel(false);
        let (malformed_tx, malformed_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(ConnShared { kill, is_device: AtomicBool::new(false), closing: AtomicBool::new(false) });
        lock(&self.inner.conns).insert(conn_id, ConnEntry { device: None, sender: None, shared: shared.clone(), malformed: malformed_tx });
        {
            let mut s = lock(&self.inner.stats);
            s.started += 1;
            s.current += 1;
            s.peak = s.peak.max(s.current);
        }
        (
            ConnFaults { conn_id, faults: self.clone(), killed: killed.clone(), in_handshake: true },
            WriterFaults {
                conn_id,
                faults: self.clone(),
                shared,
                killed,
                malformed: malformed_rx,
                held: VecDeque::new(),
                input_closed: false,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wacore_binary::builder::NodeBuilder;

    use crate::faults::model::{Delay, DelayScope, DropOn, DropPoint, DropRate, Fault};

    fn node(tag: &'static str) -> Node {
        NodeBuilder::new(tag).build()
    }

    #[test]
    fn handshake_counters_track_current_and_peak() {
        let faults = Faults::default();
        let (tx, _rx) = mpsc::unbounded_channel();
        let (mut a, _wa) = faults.register(1);
        let (b, _wb) = faults.register(2);
        let (mut c, _wc) = faults.register(3);
        a.login_done(&tx, LoginOutcome::Device(("1".into(), 1)));
        drop(b); // closed mid-handshake
        c.login_done(&tx, LoginOutcome::Refused);
        let s = faults.stats_json();
        assert_eq!(s["handshakes"]["started"], 3);
        assert_eq!(s["handshakes"]["completed"], 1);
        assert_eq!(s["handshakes"]["failed"], 2);
        assert_eq!(s["handshakes"]["current"], 0);
        assert_eq!(s["handshakes"]["peak"], 3);
        assert_eq!(s["connections"]["live"], 2);
        assert_eq!(s["connections"]["loggedIn"], 1);
        let (_d, _wd) = faults.register(4);
        faults.reset_stats();
        let s = faults.stats_json();
        assert_eq!(s["handshakes"]["started"], 0);
        assert_eq!(s["handshakes"]["current"], 1);
        assert_eq!(s["handshakes"]["peak"], 1);
    }

    #[tokio::test]
    async fn delay_holds_frames_in_order_and_iq_only_lets_others_overtake() {
        let faults = Faults::default();
        let (_conn, mut writer) = faults.register(1);
        let (tx, mut rx) = mpsc::unbounded_channel();
        faults.apply(Fault::Delay(Some(Delay { by: Duration::from_millis(300), scope: DelayScope::IqResponses })));
        let iq = NodeBuilder::new("iq").attr("type", "result").build();
        tx.send(Outbound::Node(iq)).unwrap();
        tx.send(Outbound::Node(node("message"))).unwrap();
        let start = Instant::now();
        let tag = |step: Option<WriteStep>| match step {
            Some(WriteStep::Send { out: Outbound::Node(n), then_drop: false }) => n.tag.to_string(),
            _ => panic!("expected a plain send"),
        };
        assert_eq!(tag(writer.next(&mut rx).await), "message");
        assert!(start.elapsed() < Duration::from_millis(300), "the message overtakes the held iq");
        assert_eq!(tag(writer.next(&mut rx).await), "iq");
        assert!(start.elapsed() >= Duration::from_millis(300));
        drop(tx);
        assert!(writer.next(&mut rx).await.is_none());
    }

    #[tokio::test]
    async fn a_certain_drop_on_messages_spares_offline_redelivery_and_respects_max() {
        let faults = Faults::default();
        let (mut conn, mut writer) = faults.register(1);
        let (tx, mut rx) = mpsc::unbounded_channel();
        conn.login_done(&tx, LoginOutcome::Device(("1".into(), 1)));
        faults.apply(Fault::DropRate(Some(DropRate { probability: 1.0, on: DropOn::Message, at: DropPoint::Before, max_drops: Some(1) })));
        let offline = NodeBuilder::new("message").attr("offline", "1").build();
        tx.send(Outbound::Node(offline)).unwrap();
        tx.send(Outbound::Node(node("receipt"))).unwrap();
        tx.send(Outbound::Node(node("message"))).unwrap();
        assert!(matches!(writer.next(&mut rx).await, Some(WriteStep::Send { then_drop: false, .. })));
        assert!(matches!(writer.next(&mut rx).await, Some(WriteStep::Send { then_drop: false, .. })));
        assert!(matches!(writer.next(&mut rx).await, Some(WriteStep::Drop)));
        // The reader side learns of it too.
        tokio::time::timeout(Duration::from_secs(1), conn.killed()).await.expect("reader told");
        assert_eq!(faults.stats_json()["faults"]["randomDrops"], 1);
    }

    #[tokio::test]
    async fn interval_drops_hit_logged_in_connections_until_max_then_stop() {
        let faults = Faults::default();
        let (tx, _rx) = mpsc::unbounded_channel();
        let (mut device, _w1) = faults.register(1);
        device.login_done(&tx, LoginOutcome::Device(("1".into(), 1)));
        let (mut pairing, _w2) = faults.register(2);
        pairing.login_done(&tx, LoginOutcome::Registering);
        let (mut other, _w3) = faults.register(3);
        other.login_done(&tx, LoginOutcome::Device(("2".into(), 1)));
        faults.apply(Fault::DropRate(Some(DropRate {
            probability: 1.0,
            on: DropOn::Interval(Duration::from_millis(20)),
            at: DropPoint::Random,
            max_drops: Some(1),
        })));
        tokio::time::sleep(Duration::from_millis(150)).await;
        let s = faults.stats_json();
        assert_eq!(s["faults"]["randomDrops"], 1, "maxDrops caps it: {s}");
        assert_eq!(s["connections"]["live"], 2, "one device dropped, the pairing one spared: {s}");
        let alive = |c: &ConnFaults| !*c.killed.borrow();
        assert!(alive(&pairing));
        assert!(alive(&device) != alive(&other), "exactly one device connection was dropped");
    }
}
