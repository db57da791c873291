//! Fault injection (`/admin/faults/*`, `/admin/stats`) against real whatsapp-rust 0.7.0 clients:
//! each fault must make the client do what it does against WhatsApp (reconnect, or stop and
//! report), must hit only the connections it targets, and must keep the server's state
//! (accounts, sessions, offline queues).
//!
//! Every wait is bounded, so a broken fault fails the test instead of hanging it.
//! `MOCK_TEST_LOG=debug cargo test -p baileys-shard-mock --test faults` for logs.

use std::sync::Arc;
use std::time::Duration;

#[macro_use]
mod common;

use baileys_shard_mock::MockServer;
use common::{admin_json, bot_builder, drain_for, http, pair_by_qr, shutdown_bot, spawn_bot, start_mock, user_jid, wait_for, Observed};
use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;
use wacore::proto_helpers::MessageExt as _;
use wacore::store::InMemoryBackend;
use wacore_binary::Jid;
use whatsapp_rust::bot::BotHandle;
use whatsapp_rust::store::traits::Backend;
use whatsapp_rust::types::events::Event;

#[derive(Debug)]
enum Seen {
    Qr(String),
    PairSuccess,
    Connected,
    Disconnected,
    LoggedOut,
    StreamReplaced,
    /// (id, text, offline)
    Text(String, String, bool),
    Undecryptable(String),
    /// The server's `<ack class="message">` for a message this client sent.
    ServerAck(String),
}

impl Observed for Seen {
    fn from_event(event: &Event) -> Vec<Self> {
        match event {
            Event::PairingQrCode(q) => vec![Seen::Qr(q.code.clone())],
            Event::PairSuccess(_) => vec![Seen::PairSuccess],
            Event::Connected(_) => vec![Seen::Connected],
            Event::Disconnected(_) => vec![Seen::Disconnected],
            Event::LoggedOut(_) => vec![Seen::LoggedOut],
            Event::StreamReplaced(_) => vec![Seen::StreamReplaced],
            // Text messages only: the mock phone's own (app-state key share, history) are not.
            Event::Messages(batch) => batch
                .iter()
                .filter_map(|m| Some(Seen::Text(m.info.id.to_string(), m.message.text_content()?.to_owned(), m.info.is_offline)))
                .collect(),
            Event::UndecryptableMessage(u) => vec![Seen::Undecryptable(format!("{u:?}"))],
            Event::ServerAck(a) if a.class.as_deref() == Some("message") && a.error.is_none() => {
                vec![Seen::ServerAck(a.id.clone())]
            }
            _ => vec![],
        }
    }
    lifecycle_from_seen!();
    /// A paired session must never be shown a QR; nothing may be undecryptable.
    fn failure(&self) -> Option<String> {
        match self {
            Seen::Undecryptable(u) => Some(format!("undecryptable message ({u})")),
            Seen::Qr(_) => Some("a QR (the session was lost)".to_owned()),
            _ => None,
        }
    }
}

struct Client {
    bot: BotHandle,
    rx: UnboundedReceiver<Seen>,
    backend: Arc<dyn Backend>,
    name: String,
}

async fn start_bot(url: &str, name: &str, backend: Arc<dyn Backend>) -> (BotHandle, UnboundedReceiver<Seen>) {
    spawn_bot(bot_builder(url, backend).with_push_name(name)).await
}

impl Client {
    /// Pairs a fresh client under `name` through the mock phone and waits until it is connected.
    async fn paired(mock: &MockServer, name: &str) -> Client {
        let backend: Arc<dyn Backend> = Arc::new(InMemoryBackend::new());
        let (bot, mut rx) = start_bot(&mock.url(), name, backend.clone()).await;
        pair_by_qr(mock, &mut rx).await;
        Client { bot, rx, backend, name: name.to_owned() }
    }

    fn jid(&self) -> String {
        format!("{}:1@s.whatsapp.net", MockServer::phone_for_push_name(&self.name))
    }

    fn user_jid(&self) -> Jid {
        user_jid(&self.name)
    }

    async fn shutdown(self) {
        shutdown_bot(self.bot).await;
    }
}

async fn post(mock: &MockServer, path: &str, body: Value) -> Value {
    admin_json(mock.port(), "POST", path, body.to_string().as_bytes()).await
}

async fn stats(mock: &MockServer) -> Value {
    admin_json(mock.port(), "GET", "/admin/stats", b"").await
}

async fn until_online(mock: &MockServer, n: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while mock.online_device_count() != n {
        assert!(Instant::now() < deadline, "{what}: {} online, want {n}", mock.online_device_count());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Status of a bare WebSocket upgrade request to `/ws/chat`.
async fn upgrade_status(mock: &MockServer) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", mock.port())).await.unwrap();
    s.write_all(
        b"GET /ws/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await.expect("no answer").unwrap();
    String::from_utf8_lossy(&buf[..n]).split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_reconnects_and_a_delay_holds_its_frames() {
    let mock = start_mock().await;
    let mut a = Client::paired(&mock, "faults-drop").await;
    let before = stats(&mock).await;

    let r = post(&mock, "/admin/faults/drop", json!({ "jid": a.jid() })).await;
    assert_eq!(r["dropped"], 1, "{r}");
    wait_for(&mut a.rx, "Disconnected after the drop", 10, |s| matches!(s, Seen::Disconnected)).await;
    wait_for(&mut a.rx, "Connected again after the drop", 30, Seen::is_connected).await;
    let after = stats(&mock).await;
    assert_eq!(after["faults"]["dropped"], 1);
    assert_eq!(
        after["handshakes"]["completed"].as_u64().unwrap(),
        before["handshakes"]["completed"].as_u64().unwrap() + 1,
        "one more login: {after}"
    );

    // Every frame held 2.5 s: the next reconnect cannot be Connected sooner than that.
    let r = post(&mock, "/admin/faults/delay", json!({ "ms": 2500 })).await;
    assert_eq!(r["delay"]["ms"], 2500, "{r}");
    let dropped_at = Instant::now();
    post(&mock, "/admin/faults/drop", json!({ "phone": MockServer::phone_for_push_name("faults-drop") })).await;
    wait_for(&mut a.rx, "Connected through the delay", 60, Seen::is_connected).await;
    let took = dropped_at.elapsed();
    assert!(took >= Duration::from_millis(2500), "Connected {took:?} after the drop despite a 2.5 s delay");
    let r = post(&mock, "/admin/faults/clear", json!({})).await;
    assert_eq!(r["cleared"], true);
    let (_, faults) = http(mock.port(), "GET", "/admin/faults", b"").await;
    let faults: Value = serde_json::from_str(&faults).unwrap();
    assert!(faults["delay"].is_null() && faults["dropRate"].is_null(), "{faults}");
    a.shutdown().await;
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_errors_515_reconnects_440_stops_401_logs_out() {
    let mock = start_mock().await;
    let mut a = Client::paired(&mock, "faults-stream").await;

    let r = post(&mock, "/admin/faults/stream-error", json!({ "code": 515, "jid": a.jid() })).await;
    assert_eq!(r["sent"], 1, "{r}");
    wait_for(&mut a.rx, "Connected after 515", 30, Seen::is_connected).await;

    // 440: replaced. whatsapp-rust reports StreamReplaced and must not come back.
    let started = stats(&mock).await["handshakes"]["started"].as_u64().unwrap();
    post(&mock, "/admin/faults/stream-error", json!({ "code": 440 })).await;
    wait_for(&mut a.rx, "StreamReplaced after 440", 10, |s| matches!(s, Seen::StreamReplaced)).await;
    let later = drain_for(&mut a.rx, Duration::from_secs(3)).await;
    assert!(!later.iter().any(Seen::is_connected), "reconnected after being replaced: {later:?}");
    until_online(&mock, 0, "the replaced client stays away").await;
    assert_eq!(stats(&mock).await["handshakes"]["started"].as_u64().unwrap(), started, "no new handshake");
    let Client { bot, backend, .. } = a;
    shutdown_bot(bot).await;

    // The session survives a 440: a new client over the same store logs in without a QR;
    // then 401 (device removed) logs it out.
    let (bot, mut rx) = start_bot(&mock.url(), "faults-stream", backend).await;
    wait_for(&mut rx, "Connected from the saved session", 30, Seen::is_connected).await;
    post(&mock, "/admin/faults/stream-error", json!({ "code": 401 })).await;
    wait_for(&mut rx, "LoggedOut after 401", 10, |s| matches!(s, Seen::LoggedOut)).await;
    let later = drain_for(&mut rx, Duration::from_secs(2)).await;
    assert!(!later.iter().any(Seen::is_connected), "reconnected after 401: {later:?}");
    assert_eq!(stats(&mock).await["faults"]["streamErrors"], 3);
    shutdown_bot(bot).await;
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_failures_503_retries_then_401_logs_out() {
    let mock = start_mock().await;
    let mut a = Client::paired(&mock, "faults-login").await;
    let phone = MockServer::phone_for_push_name("faults-login");
    post(&mock, "/admin/faults/login-failure", json!({ "reason": 503, "phone": phone })).await;
    let r = post(&mock, "/admin/faults/login-failure", json!({ "reason": 401 })).await;
    assert_eq!(r["loginFailures"].as_array().unwrap().len(), 2, "{r}");

    // Next login: 503 (the client retries), then 401 (logged out, no retry).
    post(&mock, "/admin/faults/drop", json!({})).await;
    wait_for(&mut a.rx, "LoggedOut at the second login", 30, |s| matches!(s, Seen::LoggedOut)).await;
    let s = stats(&mock).await;
    assert_eq!(s["faults"]["loginFailures"], 2, "{s}");
    let later = drain_for(&mut a.rx, Duration::from_secs(2)).await;
    assert!(!later.iter().any(Seen::is_connected), "{later:?}");
    let (_, faults) = http(mock.port(), "GET", "/admin/faults", b"").await;
    assert!(faults.contains("\"loginFailures\":[]"), "both used up: {faults}");
    a.shutdown().await;
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_frame_hits_only_its_connection() {
    let mock = start_mock().await;
    let mut a = Client::paired(&mock, "faults-bad-a").await;
    let mut b = Client::paired(&mock, "faults-bad-b").await;

    // A frame that is not a binary node, then the socket closes: A reconnects, B is untouched.
    let r = post(&mock, "/admin/faults/malformed-frame", json!({ "jid": a.jid(), "kind": "node" })).await;
    assert_eq!(r["sent"], 1, "{r}");
    wait_for(&mut a.rx, "A Disconnected", 10, |s| matches!(s, Seen::Disconnected)).await;
    wait_for(&mut a.rx, "A Connected again", 30, Seen::is_connected).await;
    let b_saw = drain_for(&mut b.rx, Duration::from_millis(500)).await;
    assert!(!b_saw.iter().any(|s| matches!(s, Seen::Disconnected)), "B was hit: {b_saw:?}");

    // A frame failing Noise authentication, socket left open: whatsapp-rust skips it and the
    // stream stays usable (the counters stay in step), so A's message still reaches B.
    let r = post(&mock, "/admin/faults/malformed-frame", json!({ "jid": b.jid(), "kind": "cipher", "close": false })).await;
    assert_eq!(r["sent"], 1, "{r}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = tokio::time::timeout(Duration::from_secs(30), a.bot.client().send_text(b.user_jid(), "still there?"))
        .await
        .expect("send timed out")
        .expect("send");
    let got = wait_for(&mut b.rx, "B to receive A's text", 30, |s| matches!(s, Seen::Text(..))).await;
    let Seen::Text(id, text, _) = got else { unreachable!() };
    assert_eq!((id.as_str(), text.as_str()), (sent.message_id.as_str(), "still there?"));
    assert_eq!(stats(&mock).await["faults"]["malformedFrames"], 2);
    a.shutdown().await;
    b.shutdown().await;
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_are_accepted_again_after_the_window() {
    let mock = start_mock().await;
    let mut a = Client::paired(&mock, "faults-refuse").await;
    let r = post(&mock, "/admin/faults/refuse", json!({ "ms": 3000 })).await;
    assert_eq!(r["how"], "close", "{r}");
    let refused_at = Instant::now();
    post(&mock, "/admin/faults/drop", json!({})).await;
    wait_for(&mut a.rx, "Connected after the refusal window", 60, Seen::is_connected).await;
    let took = refused_at.elapsed();
    assert!(took >= Duration::from_secs(3), "Connected {took:?} into a 3 s refusal");
    let s = stats(&mock).await;
    assert!(s["faults"]["refused"].as_u64().unwrap() >= 1, "the client's retries were refused: {s}");
    // The admin API kept working all along (the posts above). The HTTP 503 variant answers the
    // upgrade with 503 until the window ends, then upgrades again.
    post(&mock, "/admin/faults/refuse", json!({ "ms": 1000, "how": "http503" })).await;
    assert_eq!(upgrade_status(&mock).await, 503);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(upgrade_status(&mock).await, 101);
    a.shutdown().await;
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_sessions_and_counts_the_handshake_peak() {
    let mock = start_mock().await;
    let mut a = Client::paired(&mock, "faults-restart-a").await;
    let mut b = Client::paired(&mock, "faults-restart-b").await;
    let reset = post(&mock, "/admin/stats/reset", json!({})).await;
    assert_eq!(reset["handshakes"]["started"], 0, "{reset}");
    assert_eq!(reset["connections"]["loggedIn"], 2, "{reset}");

    let r = post(&mock, "/admin/faults/restart", json!({ "downMs": 1500 })).await;
    assert_eq!(r["dropped"], 2, "{r}");
    until_online(&mock, 0, "everyone dropped").await;
    // Both come back with their sessions (wait_for fails on a QR).
    wait_for(&mut a.rx, "A back after the restart", 60, Seen::is_connected).await;
    wait_for(&mut b.rx, "B back after the restart", 60, Seen::is_connected).await;
    until_online(&mock, 2, "both back").await;

    let s = stats(&mock).await;
    let hs = &s["handshakes"];
    let started = hs["started"].as_u64().unwrap();
    let completed = hs["completed"].as_u64().unwrap();
    let peak = hs["peak"].as_u64().unwrap();
    assert!(completed >= 2, "{s}");
    assert!(started >= completed, "{s}");
    assert!((1..=started).contains(&peak), "{s}");
    assert_eq!(hs["current"], 0, "{s}");
    assert_eq!(s["connections"]["loggedIn"], 2, "{s}");
    assert!(s["faults"]["refused"].as_u64().unwrap() >= 1, "reconnects during the 1.5 s refused: {s}");
    a.shutdown().await;
    b.shutdown().await;
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_lost_in_a_drop_is_redelivered_from_the_offline_queue() {
    let mock = start_mock().await;
    let a = Client::paired(&mock, "faults-rate-a").await;
    let mut b = Client::paired(&mock, "faults-rate-b").await;

    // The next live <message> to any device kills its connection before it is written.
    let r = post(&mock, "/admin/faults/drop-rate", json!({ "probability": 1.0, "on": "message", "at": "before", "maxDrops": 1 })).await;
    assert_eq!(r["dropRate"]["maxDrops"], 1, "{r}");
    let sent = tokio::time::timeout(Duration::from_secs(30), a.bot.client().send_text(b.user_jid(), "in flight"))
        .await
        .expect("send timed out")
        .expect("send");
    wait_for(&mut b.rx, "B dropped with the message in flight", 10, |s| matches!(s, Seen::Disconnected)).await;
    let got = wait_for(&mut b.rx, "B to get the message after reconnecting", 30, |s| matches!(s, Seen::Text(..))).await;
    let Seen::Text(id, text, offline) = got else { unreachable!() };
    assert_eq!((id.as_str(), text.as_str()), (sent.message_id.as_str(), "in flight"));
    assert!(offline, "redelivered from the offline queue");
    let later = drain_for(&mut b.rx, Duration::from_secs(2)).await;
    assert!(!later.iter().any(|s| matches!(s, Seen::Text(..))), "delivered twice: {later:?}");
    let s = stats(&mock).await;
    assert_eq!(s["faults"]["randomDrops"], 1, "{s}");
    assert_eq!(s["connections"]["loggedIn"], 2, "{s}");
    a.shutdown().await;
    b.shutdown().await;
    mock.shutdown().await;
}

#[tokio::test]
async fn bad_fault_requests_get_a_400_and_change_nothing() {
    let mock = start_mock().await;
    let port = mock.port();
    for (path, body, why) in [
        ("/admin/faults/drop", "not json", "not JSON"),
        ("/admin/faults/drop-rate", r#"{"probability": 2}"#, "0..=1"),
        ("/admin/faults/stream-error", r#"{"code": "515"}"#, "integer"),
        ("/admin/faults/login-failure", r#"{"reason": 99}"#, "400..=599"),
        ("/admin/faults/delay", r#"{"ms": 10, "only": "some"}"#, "\"only\""),
        ("/admin/faults/malformed-frame", "{}", "target"),
        ("/admin/faults/refuse", "{}", "required"),
        ("/admin/faults/restart", r#"{"down": 5}"#, "unknown field"),
        ("/admin/faults/drop", r#"{"jid": "nope"}"#, "device jid"),
    ] {
        let (status, text) = http(port, "POST", path, body.as_bytes()).await;
        assert_eq!(status, 400, "{path} {body}: {text}");
        assert!(text.contains(why), "{path} {body}: {text:?} should say {why:?}");
    }
    assert_eq!(http(port, "GET", "/admin/faults/drop", b"").await.0, 405);
    assert_eq!(http(port, "POST", "/admin/faults/explode", b"{}").await.0, 404);
    assert_eq!(http(port, "POST", "/admin/stats", b"").await.0, 405);
    let (status, text) = http(port, "GET", "/admin/faults", b"").await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v["dropRate"].is_null() && v["delay"].is_null() && v["refusingMs"] == 0, "{v}");
    let (status, _) = http(port, "GET", "/admin/health", b"").await;
    assert_eq!(status, 200);
    mock.shutdown().await;
}

/// Random drops while two clients talk: every message the server acked reaches the receiver
/// (redelivered from the offline queue when a drop hit it in flight), and nothing arrives that
/// cannot be decrypted. Duplicates (a redelivery whose receipt was lost) are allowed here —
/// deduplicating is the client's job. A message the sender wrote into a socket that died
/// before the server read it is never acked and never delivered: whatsapp-rust's `send_text`
/// returns Ok without waiting for the ack, so resending those is the caller's job (counted in
/// the log line, not asserted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_interval_drops_lose_no_acknowledged_message() {
    let mock = start_mock().await;
    let mut a = Client::paired(&mock, "faults-storm-a").await;
    let mut b = Client::paired(&mock, "faults-storm-b").await;
    let r = post(&mock, "/admin/faults/drop-rate", json!({ "probability": 0.5, "on": "interval", "intervalMs": 400, "maxDrops": 4 })).await;
    assert_eq!(r["dropRate"]["on"], "interval", "{r}");

    const N: usize = 40;
    let mut written = std::collections::HashSet::new();
    let client_a = a.bot.client();
    for i in 0..N {
        // A send fails while A is reconnecting; retry until the server acks one (a retry is a
        // new message id, so a failed attempt that did get through is an extra, not a dup).
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            assert!(Instant::now() < deadline, "message {i} never acked");
            match tokio::time::timeout(Duration::from_secs(10), client_a.send_text(b.user_jid(), &format!("m{i}"))).await {
                Ok(Ok(sent)) => {
                    written.insert(sent.message_id);
                    break;
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        tokio::time::sleep(Duration::from_millis(80)).await;
    }
    post(&mock, "/admin/faults/drop-rate", json!({ "probability": 0 })).await;
    // The server's acks for what it accepted (the last ones may still be on their way).
    let acked: std::collections::HashSet<String> = drain_for(&mut a.rx, Duration::from_secs(2))
        .await
        .into_iter()
        .filter_map(|s| match s {
            Seen::ServerAck(id) if written.contains(&id) => Some(id),
            _ => None,
        })
        .collect();
    assert!(acked.len() >= N / 2, "only {} of {N} messages acked", acked.len());

    let mut received: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut undecryptable = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !acked.iter().all(|id| received.contains_key(id)) {
        match tokio::time::timeout_at(deadline, b.rx.recv()).await {
            Ok(Some(Seen::Text(id, _, _))) => *received.entry(id).or_default() += 1,
            Ok(Some(Seen::Undecryptable(u))) => undecryptable.push(u),
            Ok(Some(Seen::Qr(_))) => panic!("B lost its session"),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let missing: Vec<_> = acked.iter().filter(|id| !received.contains_key(*id)).collect();
    let dups = received.values().filter(|n| **n > 1).count();
    let s = stats(&mock).await;
    assert!(
        missing.is_empty() && undecryptable.is_empty(),
        "missing {missing:?}, undecryptable {undecryptable:?}, duplicates {dups}, stats {s}"
    );
    assert!(s["faults"]["randomDrops"].as_u64().unwrap() >= 1, "the test must have dropped something: {s}");
    eprintln!(
        "storm: {} drops, {} of {N} written messages never acked (lost with their socket), {} duplicates",
        s["faults"]["randomDrops"],
        written.len() - acked.len(),
        dups
    );
    assert_eq!(s["connections"]["loggedIn"], 2, "both end connected: {s}");
    a.shutdown().await;
    b.shutdown().await;
    mock.shutdown().await;
}

/// A drop right after a message was written: the receiver's receipt is lost with the socket,
/// so the mock redelivers the message at the next login (marked offline), as WhatsApp does.
/// whatsapp-rust recognises the second copy: one message reaches the app, nothing is reported
/// undecryptable, and the receipt it sends again clears the mock's queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_written_just_before_a_drop_reaches_the_app_once() {
    let mock = start_mock().await;
    let a = Client::paired(&mock, "faults-after-a").await;
    let mut b = Client::paired(&mock, "faults-after-b").await;
    post(&mock, "/admin/faults/drop-rate", json!({ "probability": 1.0, "on": "message", "at": "after", "maxDrops": 1 })).await;
    let sent = tokio::time::timeout(Duration::from_secs(30), a.bot.client().send_text(b.user_jid(), "twice?"))
        .await
        .expect("send timed out")
        .expect("send");
    let seen = drain_for(&mut b.rx, Duration::from_secs(6)).await;
    let copies = seen.iter().filter(|s| matches!(s, Seen::Text(id, ..) if *id == sent.message_id)).count();
    assert_eq!(copies, 1, "{seen:?}");
    assert!(!seen.iter().any(|s| matches!(s, Seen::Undecryptable(_))), "{seen:?}");
    let reconnected = seen.iter().skip_while(|s| !matches!(s, Seen::Disconnected)).any(Seen::is_connected);
    assert!(reconnected, "B was dropped and came back: {seen:?}");
    assert_eq!(stats(&mock).await["faults"]["randomDrops"], 1);
    a.shutdown().await;
    b.shutdown().await;
    mock.shutdown().await;
}
