//! Shared by the integration tests: opt-in logging, a minimal HTTP client for the admin API, and
//! whatsapp-rust 0.7.0 bots against the mock (start, pair by QR, wait for events).
#![allow(dead_code)] // each test binary uses its own subset

use std::sync::Arc;
use std::time::Duration;

use baileys_shard_mock::{MockConfig, MockServer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::time::Instant;
use wacore_binary::Jid;
use whatsapp_rust::bot::{Bot, BotBuilder, BotHandle, Provided};
use whatsapp_rust::http::UreqHttpClient;
use whatsapp_rust::store::traits::Backend;
use whatsapp_rust::transport::TokioWebSocketTransportFactory;
use whatsapp_rust::types::events::Event;
use whatsapp_rust::TokioRuntime;

/// `MOCK_TEST_LOG=debug cargo test ...` prints the mock's and the client's logs to stderr.
pub struct TestLogger(log::LevelFilter);

impl log::Log for TestLogger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= self.0
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            eprintln!("[{} {}] {}", r.level(), r.target(), r.args());
        }
    }
    fn flush(&self) {}
}

pub fn init_logging() {
    if let Some(level) = std::env::var("MOCK_TEST_LOG").ok().and_then(|v| v.parse().ok()) {
        if log::set_logger(Box::leak(Box::new(TestLogger(level)))).is_ok() {
            log::set_max_level(level);
        }
    }
}

/// A one-shot HTTP/1.1 request over a raw socket: returns (status, body).
pub async fn http(port: u16, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.expect("connect admin");
    let head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await.expect("admin response timed out").unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// The pairing/login steps and failures a shared helper must recognise in a test's own events.
pub enum Lifecycle<'a> {
    Qr(&'a str),
    PairSuccess,
    Connected,
    Undecryptable(&'a str),
    Other,
}

/// What a test file wants to see of the engine's events (each file has its own `Seen` enum).
pub trait Observed: std::fmt::Debug + Send + Sized + 'static {
    /// The events of interest in `event` (none to ignore it).
    fn from_event(event: &Event) -> Vec<Self>;
    /// Which lifecycle step this is, if any.
    fn lifecycle(&self) -> Lifecycle<'_> {
        Lifecycle::Other
    }
    /// Why seeing this while waiting for something else fails the test: by default an
    /// undecryptable message.
    fn failure(&self) -> Option<String> {
        match self.lifecycle() {
            Lifecycle::Undecryptable(u) => Some(format!("undecryptable message ({u})")),
            _ => None,
        }
    }
    fn qr(&self) -> Option<&str> {
        match self.lifecycle() {
            Lifecycle::Qr(code) => Some(code),
            _ => None,
        }
    }
    fn is_pair_success(&self) -> bool {
        matches!(self.lifecycle(), Lifecycle::PairSuccess)
    }
    fn is_connected(&self) -> bool {
        matches!(self.lifecycle(), Lifecycle::Connected)
    }
}

/// `Observed::lifecycle` for a `Seen` enum with `Qr(String)`, `PairSuccess`, `Connected` and
/// `Undecryptable(String)` variants (use inside `impl Observed for Seen`).
#[allow(unused_macros)] // not every test binary pairs by QR
macro_rules! lifecycle_from_seen {
    () => {
        fn lifecycle(&self) -> common::Lifecycle<'_> {
            match self {
                Seen::Qr(code) => common::Lifecycle::Qr(code),
                Seen::PairSuccess => common::Lifecycle::PairSuccess,
                Seen::Connected => common::Lifecycle::Connected,
                Seen::Undecryptable(u) => common::Lifecycle::Undecryptable(u),
                _ => common::Lifecycle::Other,
            }
        }
    };
}

/// A builder with everything required set, ready for `spawn_bot`.
pub type ReadyBuilder = BotBuilder<Provided, Provided, Provided, Provided>;

/// Starts the mock with the default config (and the opt-in logging).
pub async fn start_mock() -> MockServer {
    init_logging();
    MockServer::start(MockConfig::default()).await.expect("mock starts")
}

/// A whatsapp-rust bot for the mock at `url` over `backend`: the client version the mock
/// accepts, tokio, plain ureq HTTP (`with_http_client` again to replace it).
pub fn bot_builder(url: &str, backend: Arc<dyn Backend>) -> ReadyBuilder {
    Bot::builder()
        .with_backend_arc(backend)
        .with_transport_factory(TokioWebSocketTransportFactory::new().with_url(url))
        .with_http_client(UreqHttpClient::new())
        .with_runtime(TokioRuntime)
        .with_version((2, 3000, 1))
}

/// Builds and spawns `builder`; its events, mapped by `S::from_event`, come out of the channel.
pub async fn spawn_bot<S: Observed>(builder: ReadyBuilder) -> (BotHandle, UnboundedReceiver<S>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let bot = builder
        .on_event(move |event, _client| {
            let tx = tx.clone();
            async move {
                for seen in S::from_event(&event) {
                    let _ = tx.send(seen);
                }
            }
        })
        .build()
        .await
        .expect("bot builds");
    (bot.spawn(), rx)
}

/// The next event, whatever it is (bounded).
pub async fn next<S>(rx: &mut UnboundedReceiver<S>, what: &str, secs: u64) -> S {
    match tokio::time::timeout(Duration::from_secs(secs), rx.recv()).await {
        Ok(Some(seen)) => seen,
        Ok(None) => panic!("event channel closed while waiting for {what}"),
        Err(_) => panic!("timed out after {secs}s waiting for {what}"),
    }
}

/// Waits (bounded) for the first event matching `pred`; an event with a `failure` fails the test.
pub async fn wait_for<S: Observed>(rx: &mut UnboundedReceiver<S>, what: &str, secs: u64, mut pred: impl FnMut(&S) -> bool) -> S {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(seen)) if pred(&seen) => return seen,
            Ok(Some(seen)) => {
                if let Some(why) = seen.failure() {
                    panic!("{why} while waiting for {what}");
                }
            }
            Ok(None) => panic!("event channel closed while waiting for {what}"),
            Err(_) => panic!("timed out after {secs}s waiting for {what}"),
        }
    }
}

/// Everything that arrives within `window` (to prove something does NOT arrive).
pub async fn drain_for<S>(rx: &mut UnboundedReceiver<S>, window: Duration) -> Vec<S> {
    let deadline = Instant::now() + window;
    let mut seen = Vec::new();
    while let Ok(Some(s)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        seen.push(s);
    }
    seen
}

/// The mock phone scans `qr`; returns the admin API's answer (which names the paired account).
pub async fn scan_qr(port: u16, qr: &str) -> String {
    let (status, body) = http(port, "POST", "/admin/mock-phone/scan-qr", qr.as_bytes()).await;
    assert_eq!(status, 200, "scan-qr refused: {body}");
    body
}

/// Pairs a fresh bot through the mock phone (QR, scan, PairSuccess) and waits until connected.
pub async fn pair_by_qr<S: Observed>(mock: &MockServer, rx: &mut UnboundedReceiver<S>) {
    let seen = wait_for(rx, "a QR", 20, |s| s.qr().is_some()).await;
    scan_qr(mock.port(), seen.qr().unwrap()).await;
    wait_for(rx, "PairSuccess", 20, S::is_pair_success).await;
    wait_for(rx, "Connected after pairing", 60, S::is_connected).await;
}

/// Shuts a bot down (bounded).
pub async fn shutdown_bot(bot: BotHandle) {
    tokio::time::timeout(Duration::from_secs(20), bot.shutdown()).await.expect("bot shuts down");
}

/// The user (phone) part of a JID string.
pub fn user_of(jid: &str) -> &str {
    jid.split(['@', ':']).next().unwrap_or(jid)
}

/// The account JID the mock gives the push name `name`.
pub fn user_jid(name: &str) -> Jid {
    format!("{}@s.whatsapp.net", MockServer::phone_for_push_name(name)).parse().unwrap()
}

/// An admin request that must answer 200 with JSON; returns the JSON.
pub async fn admin_json(port: u16, method: &str, path: &str, body: &[u8]) -> Value {
    let (status, text) = http(port, method, path, body).await;
    assert_eq!(status, 200, "{method} {path}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"))
}
