//! Fault injection: what the admin API can make the mock do wrong on purpose, so that clients'
//! reconnect and robustness logic can be tested against it.
//!
//! - drop connections abruptly (no `<stream:error>`, no WebSocket close frame), one device, one
//!   number, or all; or at random, while messages are in flight;
//! - send a `<stream:error>` shaped exactly as WhatsApp sends it (515, 440 conflict, 401, 503, ...);
//! - answer the next N logins with `<failure reason=..>`;
//! - answer the next N pairing-code requests with an `<iq type="error">`;
//! - hold frames to clients (all, or IQ responses only) for a while;
//! - send one malformed frame to one connection;
//! - refuse WebSocket connections for a while; "restart" (drop all + refuse, keeping all state);
//! - count handshakes (`GET /admin/stats`), including the peak of concurrent ones.
//!
//! Connections register here when they start ([`Faults::register`]) and get two handles: a
//! [`ConnFaults`] for the read side (it resolves when the connection must die) and a
//! [`WriterFaults`] the write loop pulls its frames through (it applies delays and random drops,
//! and hands over malformed frames to write).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::sync::mpsc::WeakUnboundedSender;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::Node;

use crate::accounts::{ConnSender, Outbound};
use crate::http_response::Response;
use crate::jid::split_jid;
use crate::locking::lock;
use crate::noise_server::FrameCrypto;
use crate::router::DevKey;
use crate::server::ServerState;

/// How long a restart refuses new connections when the request does not say.
pub const DEFAULT_RESTART_DOWN: Duration = Duration::from_millis(1000);
/// After a connection has been sent a final stanza (`<stream:error>`, `<failure>`), how long
/// the client gets to close its side before the mock closes the socket itself, as WhatsApp
/// does. Without it, a client that abandons the socket without closing it (whatsapp-rust after
/// a `<stream:error>`) would stay "online" at the mock and keep receiving targeted faults.
const FINAL_STANZA_GRACE: Duration = Duration::from_millis(1500);
/// Upper bound on any duration the API accepts, so a typo cannot wedge a test run for hours.
const MAX_DURATION: Duration = Duration::from_secs(3600);

/// Which connections a fault applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every connection, including ones still pairing or in their handshake where that makes sense.
    All,
    /// Every logged-in device of this phone number.
    Phone(String),
    /// One logged-in device.
    Device(DevKey),
}

impl Target {
    fn matches(&self, device: Option<&DevKey>) -> bool {
        match (self, device) {
            (Target::All, _) => true,
            (Target::Phone(p), Some((phone, _))) => p == phone,
            (Target::Device(want), Some(have)) => want == have,
            _ => false,
        }
    }

    fn describe(&self) -> Value {
        match self {
            Target::All => json!("all"),
            Target::Phone(p) => json!({ "phone": p }),
            Target::Device((p, d)) => json!({ "phone": p, "device": d }),
        }
    }
}

/// A `<stream:error>` as WhatsApp sends it, and how clients classify it:
/// Baileys reads `code`, else maps a `<conflict>` child to 440 (`connectionReplaced`);
/// whatsapp-rust looks at a `<conflict type>` child first, then at `code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamErrorKind {
    /// `code="515"`: restart required (Baileys `restartRequired`; whatsapp-rust reconnects at once).
    RestartRequired,
    /// `<conflict type="replaced"/>` without a code: another connection took the device's slot
    /// (Baileys 440 `connectionReplaced`; whatsapp-rust `StreamReplaced`, no reconnect).
    Replaced,
    /// `code="401"` with `<conflict type="device_removed"/>`: the device was unlinked
    /// (Baileys 401 `loggedOut`; whatsapp-rust `LoggedOut`, no reconnect).
    LoggedOut,
    /// `code="503"`: service unavailable (Baileys 503 `unavailableService`; whatsapp-rust reconnects
    /// with backoff). The mock closes the socket after it, as the real server does.
    ServiceUnavailable,
    /// Any other code (400..=599), sent as a bare `code` attribute.
    Other(u16),
}

impl StreamErrorKind {
    pub fn from_code(code: u16) -> Result<Self, String> {
        Ok(match code {
            515 => Self::RestartRequired,
            440 => Self::Replaced,
            401 => Self::LoggedOut,
            503 => Self::ServiceUnavailable,
            400..=599 => Self::Other(code),
            _ => return Err(format!("stream error code {code} is outside 400..=599")),
        })
    }

    /// The status code Baileys reports for it.
    pub fn code(self) -> u16 {
        match self {
            Self::RestartRequired => 515,
            Self::Replaced => 440,
            Self::LoggedOut => 401,
            Self::ServiceUnavailable => 503,
            Self::Other(c) => c,
        }
    }

    pub fn node(self) -> Node {
        let conflict = |kind: &str| NodeBuilder::new("conflict").attr("type", kind.to_owned()).build();
        match self {
            Self::Replaced => NodeBuilder::new("stream:error").children([conflict("replaced")]).build(),
            Self::LoggedOut => NodeBuilder::new("stream:error").attr("code", "401").children([conflict("device_removed")]).build(),
            other => NodeBuilder::new("stream:error").attr("code", other.code().to_string()).build(),
        }
    }
}

/// What is wrong with a malformed frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MalformedKind {
    /// Encrypted correctly, but the plaintext is not a binary node.
    BadNode,
    /// Fails Noise (AES-GCM) authentication. The mock's send counter still advances, as if a
    /// real frame had been corrupted in transit: whatsapp-rust advances its read counter on a
    /// failed frame too, so its stream stays in step (Baileys does not, and loses the stream).
    BadCipher,
}

impl MalformedKind {
    fn name(self) -> &'static str {
        match self {
            Self::BadNode => "node",
            Self::BadCipher => "cipher",
        }
    }
}

/// One malformed frame for one connection's writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedFrame {
    pub kind: MalformedKind,
    /// Close the socket abruptly right after the frame (default), as a server whose stream is
    /// corrupt would; `false` leaves it to the client to decide what to do.
    pub then_close: bool,
}

/// Uncompressed-flag byte, then a list header whose first item announces 127 bytes of binary
/// data that never come: no decoder can make a node of it.
const NOT_A_NODE: [u8; 5] = [0x00, 0xF8, 0x03, 0xFC, 0x7F];

impl MalformedFrame {
    /// The encrypted frame payload to put on the wire (before the 3-byte length framing).
    pub fn payload(&self, crypto: &mut FrameCrypto) -> Result<Vec<u8>, String> {
        match self.kind {
            MalformedKind::BadNode => crypto.encrypt(&NOT_A_NODE).map_err(|e| e.to_string()),
            MalformedKind::BadCipher => {
                let plain = wacore_binary::marshal(&NodeBuilder::new("ib").build()).map_err(|e| e.to_string())?;
                let mut ct = crypto.encrypt(&plain).map_err(|e| e.to_string())?;
                if let Some(last) = ct.last_mut() {
                    *last ^= 0xFF; // break the GCM tag
                }
                Ok(ct)
            }
        }
    }
}

/// Which outbound frames a random drop is drawn on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropOn {
    /// Live `<message>` stanzas only (not the `offline="1"` redelivery burst after a login, so
    /// every reconnect drains the queue and the test makes progress).
    Message,
    /// Every frame to a logged-in device.
    Frame,
    /// Not per frame: every `interval`, each logged-in connection is dropped with the
    /// probability, at whatever point its traffic is (the socket just dies).
    Interval(Duration),
}

/// Interval used by `on: "interval"` when the request does not say.
const DEFAULT_DROP_INTERVAL: Duration = Duration::from_millis(1000);

/// Whether the frame the drop was drawn on reaches the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropPoint {
    /// Lost: the connection dies before the frame is written (the server must redeliver it).
    Before,
    /// Written, then the connection dies (the client's receipt/ack is likely lost: the server
    /// redelivers and the client must deduplicate).
    After,
    /// Before or after, 50/50 per drop.
    Random,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DropRate {
    pub probability: f64,
    pub on: DropOn,
    pub at: DropPoint,
    /// Stop after this many random drops (None: unlimited).
    pub max_drops: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DelayScope {
    /// Every frame to every client (order kept).
    All,
    /// Only `<iq type="result|error">`: other frames overtake them.
    IqResponses,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delay {
    pub by: Duration,
    pub scope: DelayScope,
}

impl Delay {
    fn applies_to(&self, node: &Node) -> bool {
        match self.scope {
            DelayScope::All => true,
            DelayScope::IqResponses => {
                node.tag == "iq" && node.attrs.get("type").is_some_and(|t| t.as_str() == "result" || t.as_str() == "error")
            }
        }
    }
}

/// How a refused WebSocket connection is turned away (the admin API keeps working).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefuseHow {
    /// Read the upgrade request, then close the TCP connection without a response.
    Close,
    /// Answer the upgrade with `HTTP 503` and close.
    Http503,
}

impl RefuseHow {
    /// What to write before closing, if anything.
    pub fn response(self) -> Option<Response> {
        match self {
            Self::Close => None,
            Self::Http503 => Some(Response::text(503, "mock server is refusing connections (fault injection)\n")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Close => "close",
            Self::Http503 => "http503",
        }
    }
}

/// `<failure reason=..>` for the next `remaining` logins (of `phone`, or of anyone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginFailure {
    pub reason: u16,
    pub remaining: u32,
    pub phone: Option<String>,
}

/// An `<iq type="error">` for the next `remaining` pairing-code requests (`companion_hello`)
/// of `phone`, or of any number, as WhatsApp refuses them when it throttles a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairingCodeRefusal {
    pub code: u16,
    pub remaining: u32,
    pub phone: Option<String>,
}

/// The `code`s WhatsApp answers a refused `companion_hello` with, and the `text` it pairs with
/// each (WA Web rejects a response whose two disagree; whatsapp-rust classifies both).
const PAIRING_CODE_REFUSALS: [(u16, &str); 5] =
    [(400, "bad-request"), (403, "forbidden"), (429, "rate-overlimit"), (452, "feature-not-available"), (500, "internal-server-error")];

/// One admin request, parsed.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    Drop(Target),
    /// `None` clears it.
    DropRate(Option<DropRate>),
    StreamError(Target, StreamErrorKind),
    FailLogins(LoginFailure),
    RefusePairingCodes(PairingCodeRefusal),
    /// `None` clears it.
    Delay(Option<Delay>),
    Malformed(Target, MalformedFrame),
    Refuse(Duration, RefuseHow),
    Restart(Duration),
    Clear,
}

/// Faults that stay in force until cleared (or until they run out).
#[derive(Default)]
struct Settings {
    drop_rate: Option<DropRate>,
    /// Random drops done under the current `drop_rate`.
    random_drops: u64,
    /// Bumped on every drop-rate change, so an interval ticker knows it is outdated.
    drop_rate_generation: u64,
    delay: Option<Delay>,
    login_failures: Vec<LoginFailure>,
    pairing_code_refusals: Vec<PairingCodeRefusal>,
    refuse: Option<(Instant, RefuseHow)>,
}

#[derive(Default)]
struct Stats {
    started: u64,
    completed: u64,
    registrations: u64,
    failed: u64,
    current: u64,
    peak: u64,
    dropped: u64,
    random_drops: u64,
    stream_errors: u64,
    login_failures: u64,
    pairing_code_refusals: u64,
    malformed_frames: u64,
    refused: u64,
}

/// Shared between a connection's reader and writer.
struct ConnShared {
    kill: watch::Sender<bool>,
    /// Logged in as a device: only such connections are subject to random drops.
    is_device: AtomicBool,
    /// A final stanza has been written: the connection is ending and no longer a fault target.
    closing: AtomicBool,
}

impl ConnShared {
    fn kill(&self) {
        self.kill.send_replace(true);
    }

    /// Still a live connection (not killed, no final stanza sent).
    fn is_live(&self) -> bool {
        !*self.kill.borrow() && !self.closing.load(Ordering::Relaxed)
    }
}

struct ConnEntry {
    device: Option<DevKey>,
    /// Set once the Noise handshake is done (the connection can carry stanzas). Weak: the
    /// write loop ends when the connection drops its last sender, the registry must not keep
    /// it alive.
    sender: Option<WeakUnboundedSender<Outbound>>,
    shared: Arc<ConnShared>,
    malformed: mpsc::UnboundedSender<MalformedFrame>,
}

#[derive(Default)]
struct Inner {
    settings: Mutex<Settings>,
    conns: Mutex<HashMap<u64, ConnEntry>>,
    stats: Mutex<Stats>,
}

/// The fault state of one server. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Faults {
    inner: Arc<Inner>,
}

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

    /// The `<failure>` to answer this login with, if a login-failure fault applies (consumes one).
    pub fn login_failure_for(&self, phone: &str) -> Option<Node> {
        let reason = {
            let mut settings = lock(&self.inner.settings);
            let idx = settings.login_failures.iter().position(|f| f.phone.as_deref().is_none_or(|p| p == phone))?;
            let f = &mut settings.login_failures[idx];
            let reason = f.reason;
            f.remaining = f.remaining.saturating_sub(1);
            if f.remaining == 0 {
                settings.login_failures.remove(idx);
            }
            reason
        };
        lock(&self.inner.stats).login_failures += 1;
        log::info!("fault: answering the login of {phone} with <failure reason={reason}>");
        Some(NodeBuilder::new("failure").attr("reason", reason.to_string()).attr("location", "mock").build())
    }

    /// The `(code, text)` to refuse this pairing-code request of `phone` with, if a
    /// pairing-code refusal applies (consumes one).
    pub fn pairing_code_refusal_for(&self, phone: &str) -> Option<(u16, &'static str)> {
        let code = {
            let mut settings = lock(&self.inner.settings);
            let idx = settings.pairing_code_refusals.iter().position(|r| r.phone.as_deref().is_none_or(|p| p == phone))?;
            let r = &mut settings.pairing_code_refusals[idx];
            let code = r.code;
            r.remaining = r.remaining.saturating_sub(1);
            if r.remaining == 0 {
                settings.pairing_code_refusals.remove(idx);
            }
            code
        };
        let text = PAIRING_CODE_REFUSALS.iter().find(|(c, _)| *c == code).map_or("bad-request", |(_, t)| t);
        lock(&self.inner.stats).pairing_code_refusals += 1;
        log::info!("fault: refusing the pairing-code request of {phone} with {code} {text}");
        Some((code, text))
    }

    /// Whether a WebSocket upgrade must be refused now, and how (counts it).
    pub fn refusal(&self) -> Option<RefuseHow> {
        let mut settings = lock(&self.inner.settings);
        let (until, how) = settings.refuse?;
        if Instant::now() >= until {
            settings.refuse = None;
            return None;
        }
        drop(settings);
        lock(&self.inner.stats).refused += 1;
        Some(how)
    }

    /// Applies a fault; returns the JSON the admin API answers with.
    pub fn apply(&self, fault: Fault) -> Value {
        match fault {
            Fault::Drop(target) => {
                json!({ "dropped": self.drop_where(&target), "target": target.describe() })
            }
            Fault::DropRate(rate) => {
                let mut settings = lock(&self.inner.settings);
                settings.drop_rate = rate.clone();
                settings.random_drops = 0;
                settings.drop_rate_generation += 1;
                if let Some(DropOn::Interval(every)) = rate.map(|r| r.on) {
                    tokio::spawn(self.clone().interval_drops(every, settings.drop_rate_generation));
                }
                json!({ "dropRate": drop_rate_json(&settings) })
            }
            Fault::StreamError(target, kind) => {
                let node = kind.node();
                let mut sent = 0u64;
                for entry in lock(&self.inner.conns).values() {
                    let targeted = entry.shared.is_live() && target.matches(entry.device.as_ref());
                    if let Some(tx) = entry.sender.as_ref().filter(|_| targeted).and_then(|w| w.upgrade()) {
                        if tx.send(Outbound::CloseAfter(node.clone())).is_ok() {
                            sent += 1;
                        }
                    }
                }
                lock(&self.inner.stats).stream_errors += sent;
                log::info!("fault: stream error {} to {sent} connection(s)", kind.code());
                json!({ "sent": sent, "code": kind.code(), "target": target.describe() })
            }
            Fault::FailLogins(f) => {
                let mut settings = lock(&self.inner.settings);
                settings.login_failures.push(f);
                json!({ "loginFailures": login_failures_json(&settings) })
            }
            Fault::RefusePairingCodes(r) => {
                let mut settings = lock(&self.inner.settings);
                settings.pairing_code_refusals.push(r);
                json!({ "pairingCodeRefusals": pairing_code_refusals_json(&settings) })
            }
            Fault::Delay(delay) => {
                let mut settings = lock(&self.inner.settings);
                settings.delay = delay;
                json!({ "delay": delay_json(&settings) })
            }
            Fault::Malformed(target, frame) => {
                let mut sent = 0u64;
                for entry in lock(&self.inner.conns).values() {
                    // Only connections past the handshake: before it there is no cipher to misuse.
                    if entry.sender.is_some()
                        && entry.shared.is_live()
                        && target.matches(entry.device.as_ref())
                        && entry.malformed.send(frame).is_ok()
                    {
                        sent += 1;
                    }
                }
                lock(&self.inner.stats).malformed_frames += sent;
                log::info!("fault: malformed frame ({}) to {sent} connection(s)", frame.kind.name());
                json!({
                    "sent": sent,
                    "kind": frame.kind.name(),
                    "close": frame.then_close,
                    "target": target.describe(),
                })
            }
            Fault::Refuse(duration, how) => {
                lock(&self.inner.settings).refuse = Some((Instant::now() + duration, how));
                json!({ "refusingMs": duration.as_millis() as u64, "how": how.name() })
            }
            Fault::Restart(down) => {
                // Refuse first, so nothing reconnects between the drop and the refusal.
                lock(&self.inner.settings).refuse = Some((Instant::now() + down, RefuseHow::Close));
                let dropped = self.drop_where(&Target::All);
                log::info!("fault: restart: dropped {dropped} connection(s), down for {down:?}");
                json!({ "dropped": dropped, "downMs": down.as_millis() as u64 })
            }
            Fault::Clear => {
                *lock(&self.inner.settings) = Settings::default();
                json!({ "cleared": true })
            }
        }
    }

    /// `on: "interval"`: every `every`, draws a drop for each logged-in connection, until the
    /// drop rate is changed or cleared.
    async fn interval_drops(self, every: Duration, generation: u64) {
        loop {
            tokio::time::sleep(every).await;
            let mut settings = lock(&self.inner.settings);
            let rate = match &settings.drop_rate {
                Some(r) if settings.drop_rate_generation == generation => r.clone(),
                _ => return,
            };
            let mut dropped = 0u64;
            for (conn_id, entry) in lock(&self.inner.conns).iter() {
                let exhausted = rate.max_drops.is_some_and(|m| settings.random_drops >= m);
                if exhausted || entry.device.is_none() || !entry.shared.is_live() {
                    continue;
                }
                if rand::random_bool(rate.probability) {
                    log::info!("fault: conn {conn_id}: random drop (interval)");
                    entry.shared.kill();
                    settings.random_drops += 1;
                    dropped += 1;
                }
            }
            drop(settings);
            if dropped > 0 {
                let mut s = lock(&self.inner.stats);
                s.dropped += dropped;
                s.random_drops += dropped;
            }
        }
    }

    fn drop_where(&self, target: &Target) -> u64 {
        let mut dropped = 0u64;
        for entry in lock(&self.inner.conns).values() {
            if !target.matches(entry.device.as_ref()) {
                continue;
            }
            // Connections already ending are closed too, but not counted.
            if entry.shared.is_live() {
                dropped += 1;
            }
            entry.shared.kill();
        }
        lock(&self.inner.stats).dropped += dropped;
        dropped
    }

    /// `GET /admin/faults`: the faults in force.
    pub fn settings_json(&self) -> Value {
        let settings = lock(&self.inner.settings);
        let refusing_ms = settings.refuse.map(|(until, _)| until.saturating_duration_since(Instant::now()).as_millis() as u64).unwrap_or(0);
        json!({
            "dropRate": drop_rate_json(&settings),
            "delay": delay_json(&settings),
            "loginFailures": login_failures_json(&settings),
            "pairingCodeRefusals": pairing_code_refusals_json(&settings),
            "refusingMs": refusing_ms,
        })
    }

    /// `GET /admin/stats`.
    pub fn stats_json(&self) -> Value {
        let (live, logged_in, ending) = {
            let conns = lock(&self.inner.conns);
            let live = conns.values().filter(|c| c.shared.is_live());
            let logged_in = live.clone().filter(|c| c.device.is_some()).count();
            (live.count(), logged_in, conns.len() - conns.values().filter(|c| c.shared.is_live()).count())
        };
        let s = lock(&self.inner.stats);
        json!({
            "handshakes": {
                "started": s.started,
                "completed": s.completed,
                "registrations": s.registrations,
                "failed": s.failed,
                "current": s.current,
                "peak": s.peak,
            },
            "connections": { "live": live, "loggedIn": logged_in, "closing": ending },
            "faults": {
                "dropped": s.dropped,
                "randomDrops": s.random_drops,
                "streamErrors": s.stream_errors,
                "loginFailures": s.login_failures,
                "pairingCodeRefusals": s.pairing_code_refusals,
                "malformedFrames": s.malformed_frames,
                "refused": s.refused,
            },
        })
    }

    /// Zeroes the counters; the peak restarts from the handshakes in progress now.
    pub fn reset_stats(&self) {
        let mut s = lock(&self.inner.stats);
        let current = s.current;
        *s = Stats { current, peak: current, ..Stats::default() };
    }
}

fn drop_rate_json(s: &Settings) -> Value {
    match &s.drop_rate {
        None => Value::Null,
        Some(r) => json!({
            "probability": r.probability,
            "on": match r.on {
                DropOn::Message => "message",
                DropOn::Frame => "frame",
                DropOn::Interval(_) => "interval",
            },
            "intervalMs": match r.on { DropOn::Interval(d) => Some(d.as_millis() as u64), _ => None },
            "at": match r.at { DropPoint::Before => "before", DropPoint::After => "after", DropPoint::Random => "random" },
            "maxDrops": r.max_drops,
            "drops": s.random_drops,
        }),
    }
}

fn delay_json(s: &Settings) -> Value {
    match s.delay {
        None => Value::Null,
        Some(d) => json!({
            "ms": d.by.as_millis() as u64,
            "only": match d.scope { DelayScope::All => "all", DelayScope::IqResponses => "iq" },
        }),
    }
}

fn login_failures_json(s: &Settings) -> Value {
    s.login_failures.iter().map(|f| json!({ "reason": f.reason, "remaining": f.remaining, "phone": f.phone })).collect()
}

fn pairing_code_refusals_json(s: &Settings) -> Value {
    s.pairing_code_refusals.iter().map(|r| json!({ "code": r.code, "remaining": r.remaining, "phone": r.phone })).collect()
}

// ---- Parsing admin requests -------------------------------------------------------------

/// A JSON object body; an empty body is `{}`.
fn body_object(body: &[u8]) -> Result<Map<String, Value>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("body must be a JSON object".into()),
        Err(e) => Err(format!("body is not JSON: {e}")),
    }
}

/// Rejects fields the endpoint does not know (a typo must not silently do nothing).
fn only_fields(obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("unknown field {k:?} (expected one of {allowed:?})")),
        None => Ok(()),
    }
}

fn opt_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{key:?} must be a string")),
    }
}

fn opt_u64(obj: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| format!("{key:?} must be a non-negative integer")),
    }
}

fn opt_bool(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(format!("{key:?} must be true or false")),
    }
}

fn opt_ms(obj: &Map<String, Value>, key: &str) -> Result<Option<Duration>, String> {
    let Some(ms) = opt_u64(obj, key)? else {
        return Ok(None);
    };
    let d = Duration::from_millis(ms);
    if d > MAX_DURATION {
        return Err(format!("{key:?} must be at most {} ms", MAX_DURATION.as_millis()));
    }
    Ok(Some(d))
}

fn phone_digits(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(format!("{s:?} is not a phone number (digits only, no +)"))
    }
}

/// `{}` → all, `{"phone": "1555..."}`, or `{"jid": "1555...:1@s.whatsapp.net"}` (or a LID jid).
/// `phone_for_lid` resolves a LID jid's user to the account's phone number.
fn target(obj: &Map<String, Value>, phone_for_lid: &dyn Fn(&str) -> Option<String>) -> Result<Target, String> {
    match (opt_str(obj, "phone")?, opt_str(obj, "jid")?) {
        (Some(_), Some(_)) => Err("give either \"phone\" or \"jid\", not both".into()),
        (Some(p), None) => Ok(Target::Phone(phone_digits(p)?)),
        (None, Some(jid)) => {
            let (user, device, is_lid) = split_jid(jid)
                .filter(|_| jid.ends_with("@s.whatsapp.net") || jid.ends_with("@lid"))
                .ok_or_else(|| format!("{jid:?} is not a device jid (user:device@s.whatsapp.net or @lid)"))?;
            let phone =
                if is_lid { phone_for_lid(&user).ok_or_else(|| format!("no account has the LID {user}"))? } else { phone_digits(&user)? };
            Ok(Target::Device((phone, device)))
        }
        (None, None) => Ok(Target::All),
    }
}

impl Fault {
    /// Parses `POST /admin/faults/<action>`. `Err` is a message for a 400.
    pub fn parse(action: &str, body: &[u8], phone_for_lid: &dyn Fn(&str) -> Option<String>) -> Result<Fault, String> {
        let obj = body_object(body)?;
        match action {
            "drop" => {
                only_fields(&obj, &["phone", "jid"])?;
                Ok(Fault::Drop(target(&obj, phone_for_lid)?))
            }
            "drop-rate" => {
                only_fields(&obj, &["probability", "on", "at", "maxDrops", "intervalMs"])?;
                let p = match obj.get("probability") {
                    Some(v) => v.as_f64().ok_or("\"probability\" must be a number")?,
                    None => return Err("\"probability\" is required (0 clears the drop rate)".into()),
                };
                if !(0.0..=1.0).contains(&p) {
                    return Err(format!("\"probability\" must be within 0..=1, got {p}"));
                }
                if p == 0.0 {
                    return Ok(Fault::DropRate(None));
                }
                let on = match opt_str(&obj, "on")?.unwrap_or("message") {
                    "message" => DropOn::Message,
                    "frame" => DropOn::Frame,
                    "interval" => {
                        let every = opt_ms(&obj, "intervalMs")?.unwrap_or(DEFAULT_DROP_INTERVAL);
                        if every < Duration::from_millis(10) {
                            return Err("\"intervalMs\" must be at least 10".into());
                        }
                        if obj.contains_key("at") {
                            return Err("\"at\" applies to \"message\" and \"frame\" drops, not \"interval\"".into());
                        }
                        DropOn::Interval(every)
                    }
                    other => return Err(format!("\"on\" must be \"message\", \"frame\" or \"interval\", got {other:?}")),
                };
                if obj.contains_key("intervalMs") && !matches!(on, DropOn::Interval(_)) {
                    return Err("\"intervalMs\" goes with \"on\": \"interval\"".into());
                }
                let at = match opt_str(&obj, "at")?.unwrap_or("random") {
                    "before" => DropPoint::Before,
                    "after" => DropPoint::After,
                    "random" => DropPoint::Random,
                    other => return Err(format!("\"at\" must be \"before\", \"after\" or \"random\", got {other:?}")),
                };
                Ok(Fault::DropRate(Some(DropRate { probability: p, on, at, max_drops: opt_u64(&obj, "maxDrops")? })))
            }
            "stream-error" => {
                only_fields(&obj, &["code", "phone", "jid"])?;
                let code = opt_u64(&obj, "code")?.ok_or("\"code\" is required (515, 440, 401, 503, ...)")?;
                let code = u16::try_from(code).map_err(|_| format!("code {code} is out of range"))?;
                Ok(Fault::StreamError(target(&obj, phone_for_lid)?, StreamErrorKind::from_code(code)?))
            }
            "login-failure" => {
                only_fields(&obj, &["reason", "count", "phone"])?;
                let reason = opt_u64(&obj, "reason")?.ok_or("\"reason\" is required (401, 403, 503, ...)")?;
                if !(400..=599).contains(&reason) {
                    return Err(format!("\"reason\" must be within 400..=599, got {reason}"));
                }
                let count = opt_u64(&obj, "count")?.unwrap_or(1);
                if count == 0 || count > u64::from(u32::MAX) {
                    return Err("\"count\" must be at least 1".into());
                }
                Ok(Fault::FailLogins(LoginFailure {
                    reason: reason as u16,
                    remaining: count as u32,
                    phone: opt_str(&obj, "phone")?.map(phone_digits).transpose()?,
                }))
            }
            "refuse-pairing-code" => {
                only_fields(&obj, &["code", "count", "phone"])?;
                let code = opt_u64(&obj, "code")?.unwrap_or(429);
                let Some(&(code, _)) = PAIRING_CODE_REFUSALS.iter().find(|(c, _)| u64::from(*c) == code) else {
                    let known: Vec<String> = PAIRING_CODE_REFUSALS.iter().map(|(c, t)| format!("{c} {t}")).collect();
                    return Err(format!("\"code\" must be one WhatsApp refuses a pairing code with ({}), got {code}", known.join(", ")));
                };
                let count = opt_u64(&obj, "count")?.unwrap_or(1);
                if count == 0 || count > u64::from(u32::MAX) {
                    return Err("\"count\" must be at least 1".into());
                }
                Ok(Fault::RefusePairingCodes(PairingCodeRefusal {
                    code,
                    remaining: count as u32,
                    phone: opt_str(&obj, "phone")?.map(phone_digits).transpose()?,
                }))
            }
            "delay" => {
                only_fields(&obj, &["ms", "only"])?;
                let by = opt_ms(&obj, "ms")?.ok_or("\"ms\" is required (0 clears the delay)")?;
                let scope = match opt_str(&obj, "only")?.unwrap_or("all") {
                    "all" => DelayScope::All,
                    "iq" => DelayScope::IqResponses,
                    other => return Err(format!("\"only\" must be \"all\" or \"iq\", got {other:?}")),
                };
                Ok(Fault::Delay((!by.is_zero()).then_some(Delay { by, scope })))
            }
            "malformed-frame" => {
                only_fields(&obj, &["phone", "jid", "kind", "close"])?;
                let target = target(&obj, phone_for_lid)?;
                if target == Target::All {
                    return Err("a malformed frame needs a target: \"phone\" or \"jid\"".into());
                }
                let kind = match opt_str(&obj, "kind")?.unwrap_or("node") {
                    "node" => MalformedKind::BadNode,
                    "cipher" => MalformedKind::BadCipher,
                    other => return Err(format!("\"kind\" must be \"node\" or \"cipher\", got {other:?}")),
                };
                let then_close = opt_bool(&obj, "close")?.unwrap_or(true);
                Ok(Fault::Malformed(target, MalformedFrame { kind, then_close }))
            }
            "refuse" => {
                only_fields(&obj, &["ms", "how"])?;
                let ms = opt_ms(&obj, "ms")?.ok_or("\"ms\" is required")?;
                let how = match opt_str(&obj, "how")?.unwrap_or("close") {
                    "close" => RefuseHow::Close,
                    "http503" => RefuseHow::Http503,
                    other => return Err(format!("\"how\" must be \"close\" or \"http503\", got {other:?}")),
                };
                Ok(Fault::Refuse(ms, how))
            }
            "restart" => {
                only_fields(&obj, &["downMs"])?;
                Ok(Fault::Restart(opt_ms(&obj, "downMs")?.unwrap_or(DEFAULT_RESTART_DOWN)))
            }
            "clear" => {
                only_fields(&obj, &[])?;
                Ok(Fault::Clear)
            }
            other => Err(format!("no such fault: {other:?}")),
        }
    }
}

const ACTIONS: [&str; 10] =
    ["drop", "drop-rate", "stream-error", "login-failure", "refuse-pairing-code", "delay", "malformed-frame", "refuse", "restart", "clear"];

/// Routes `/admin/faults[/..]` and `/admin/stats[/reset]`; `None` for other paths.
pub fn route(method: &str, path: &str, body: &[u8], state: &ServerState) -> Option<Response> {
    let faults = &state.faults;
    let resp = match (method, path) {
        ("GET", "/admin/faults") => Response::json(200, &faults.settings_json()),
        ("GET", "/admin/stats") => Response::json(200, &faults.stats_json()),
        ("POST", "/admin/stats/reset") => {
            faults.reset_stats();
            Response::json(200, &faults.stats_json())
        }
        (_, "/admin/faults" | "/admin/stats") => Response::text(405, "use GET\n"),
        (_, "/admin/stats/reset") => Response::text(405, "use POST\n"),
        (_, p) => {
            let action = p.strip_prefix("/admin/faults/")?;
            if !ACTIONS.contains(&action) {
                return Some(Response::text(404, format!("no such fault endpoint: {path} (known: {})\n", ACTIONS.join(", "))));
            }
            if method != "POST" {
                return Some(Response::text(405, "use POST with a JSON body\n"));
            }
            let phone_for_lid = |lid: &str| lock(&state.directory).phone_for_lid(lid);
            match Fault::parse(action, body, &phone_for_lid) {
                Ok(fault) => Response::json(200, &faults.apply(fault)),
                Err(e) => Response::text(400, format!("{e}\n")),
            }
        }
    };
    Some(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(tag: &'static str) -> Node {
        NodeBuilder::new(tag).build()
    }

    #[test]
    fn stream_errors_are_shaped_as_whatsapp_sends_them() {
        let n = StreamErrorKind::from_code(440).unwrap().node();
        assert!(n.attrs.get("code").is_none(), "Baileys must map the conflict child, whatsapp-rust the type");
        let c = n.get_optional_child("conflict").unwrap();
        assert_eq!(c.attrs.get("type").unwrap().as_str(), "replaced");

        let n = StreamErrorKind::from_code(401).unwrap().node();
        assert_eq!(n.attrs.get("code").unwrap().as_str(), "401");
        assert_eq!(n.get_optional_child("conflict").unwrap().attrs.get("type").unwrap().as_str(), "device_removed");
        for code in [515u16, 503, 500] {
            let n = StreamErrorKind::from_code(code).unwrap().node();
            assert_eq!(n.attrs.get("code").unwrap().as_str(), code.to_string());
            assert!(n.children().is_none_or(|c| c.is_empty()));
        }
        assert!(StreamErrorKind::from_code(200).is_err());
        assert!(StreamErrorKind::from_code(600).is_err());
    }

    #[test]
    fn the_bad_node_payload_does_not_decode() {
        let unpacked = wacore_binary::util::unpack(&NOT_A_NODE).expect("flag byte says uncompressed");
        assert!(wacore_binary::marshal::unmarshal_ref(&unpacked).is_err());
    }

    #[test]
    fn login_failures_are_consumed_per_matching_login() {
        let faults = Faults::default();
        faults.apply(Fault::FailLogins(LoginFailure { reason: 403, remaining: 2, phone: Some("1555".into()) }));
        assert!(faults.login_failure_for("1666").is_none(), "another number");
        for _ in 0..2 {
            let f = faults.login_failure_for("1555").expect("armed");
            assert_eq!(f.attrs.get("reason").unwrap().as_str(), "403");
        }
        assert!(faults.login_failure_for("1555").is_none(), "used up");
    }

    #[test]
    fn pairing_code_refusals_are_consumed_per_matching_request() {
        let faults = Faults::default();
        faults.apply(Fault::RefusePairingCodes(PairingCodeRefusal { code: 429, remaining: 2, phone: Some("1555".into()) }));
        assert_eq!(faults.pairing_code_refusal_for("1666"), None, "another number");
        for _ in 0..2 {
            assert_eq!(faults.pairing_code_refusal_for("1555"), Some((429, "rate-overlimit")));
        }
        assert_eq!(faults.pairing_code_refusal_for("1555"), None, "used up");
        assert_eq!(faults.stats_json()["faults"]["pairingCodeRefusals"], 2);
        faults.apply(Fault::RefusePairingCodes(PairingCodeRefusal { code: 400, remaining: 1, phone: None }));
        assert_eq!(faults.settings_json()["pairingCodeRefusals"][0]["code"], 400);
        faults.apply(Fault::Clear);
        assert_eq!(faults.pairing_code_refusal_for("1666"), None, "cleared");
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

    #[test]
    fn bad_requests_are_refused_with_a_reason() {
        let no_lids = |_: &str| None;
        let lids = |lid: &str| (lid == "100000000000001").then(|| "15550000001".to_owned());
        let parse = |action: &str, body: &str| Fault::parse(action, body.as_bytes(), &no_lids);
        let refused = |action: &str, body: &str, why: &str| {
            let err = parse(action, body).expect_err(body);
            assert!(err.contains(why), "{action} {body}: {err:?} should mention {why:?}");
        };
        refused("drop", "[1]", "JSON object");
        refused("drop", "not json", "not JSON");
        refused("drop", r#"{"phone": "+1555"}"#, "not a phone number");
        refused("drop", r#"{"phone": "1", "jid": "1:1@s.whatsapp.net"}"#, "either");
        refused("drop", r#"{"jid": "123@g.us"}"#, "device jid");
        refused("drop", r#"{"jid": "1:1@lid"}"#, "LID");
        refused("drop", r#"{"typo": 1}"#, "typo");
        refused("drop-rate", "{}", "required");
        refused("drop-rate", r#"{"probability": 1.5}"#, "0..=1");
        refused("drop-rate", r#"{"probability": 0.1, "on": "everything"}"#, "\"on\"");
        refused("drop-rate", r#"{"probability": 0.1, "on": "interval", "at": "before"}"#, "\"at\"");
        refused("drop-rate", r#"{"probability": 0.1, "intervalMs": 100}"#, "intervalMs");
        refused("drop-rate", r#"{"probability": 0.1, "on": "interval", "intervalMs": 1}"#, "at least 10");
        refused("stream-error", "{}", "required");
        refused("stream-error", r#"{"code": 200}"#, "400..=599");
        refused("login-failure", r#"{"reason": 401, "count": 0}"#, "at least 1");
        refused("refuse-pairing-code", r#"{"code": 401}"#, "429 rate-overlimit");
        refused("refuse-pairing-code", r#"{"count": 0}"#, "at least 1");
        refused("refuse-pairing-code", r#"{"phone": "+1555"}"#, "not a phone number");
        assert_eq!(
            parse("refuse-pairing-code", "").unwrap(),
            Fault::RefusePairingCodes(PairingCodeRefusal { code: 429, remaining: 1, phone: None })
        );
        refused("delay", r#"{"ms": -5}"#, "non-negative");
        refused("delay", r#"{"ms": 99999999999}"#, "at most");
        refused("malformed-frame", "{}", "needs a target");
        refused("refuse", r#"{"ms": 10, "how": "politely"}"#, "\"how\"");
        refused("nope", "{}", "no such fault");

        assert_eq!(parse("drop", "").unwrap(), Fault::Drop(Target::All));
        assert_eq!(
            parse("drop", r#"{"jid": "15551234567:2@s.whatsapp.net"}"#).unwrap(),
            Fault::Drop(Target::Device(("15551234567".into(), 2)))
        );
        assert_eq!(
            Fault::parse("drop", br#"{"jid": "100000000000001:3@lid"}"#, &lids).unwrap(),
            Fault::Drop(Target::Device(("15550000001".into(), 3)))
        );
        assert_eq!(parse("drop-rate", r#"{"probability": 0}"#).unwrap(), Fault::DropRate(None));
        assert_eq!(parse("delay", r#"{"ms": 0}"#).unwrap(), Fault::Delay(None));
        assert_eq!(parse("restart", "").unwrap(), Fault::Restart(DEFAULT_RESTART_DOWN));
        assert_eq!(
            parse("malformed-frame", r#"{"phone": "1555"}"#).unwrap(),
            Fault::Malformed(Target::Phone("1555".into()), MalformedFrame { kind: MalformedKind::BadNode, then_close: true })
        );
    }
}
