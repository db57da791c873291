//! whatsapp-rust 0.7.0 (built with `danger-skip-cert-chain-verify`) as a real client of the mock:
//! QR pairing through the mock phone, the 515 restart, login, and a second bot over the same
//! store logging in without any QR (by then the client has cached our certificate: Noise IK).
//!
//! Every wait is bounded, so a broken server fails the test instead of hanging it.

use std::sync::Arc;
use std::time::Duration;

mod common;

use baileys_shard_mock::{MockConfig, MockServer};
use common::{bot_builder, http, next, scan_qr, shutdown_bot, spawn_bot, start_mock, Observed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedReceiver;
use wacore::store::InMemoryBackend;
use whatsapp_rust::bot::BotHandle;
use whatsapp_rust::store::traits::Backend;
use whatsapp_rust::types::events::Event;

/// The events this test cares about.
#[derive(Debug)]
enum Seen {
    Qr(String),
    PairSuccess(String),
    PairError(String),
    Connected,
    LoggedOut,
    /// A message the client could not decrypt (e.g. a broken key share from the mock phone).
    Undecryptable(#[allow(dead_code)] String),
}

impl Observed for Seen {
    fn from_event(event: &Event) -> Vec<Self> {
        vec![match event {
            Event::PairingQrCode(q) => Seen::Qr(q.code.clone()),
            Event::PairSuccess(p) => Seen::PairSuccess(p.id.to_string()),
            Event::PairError(e) => Seen::PairError(e.error.clone()),
            Event::Connected(_) => Seen::Connected,
            Event::LoggedOut(_) => Seen::LoggedOut,
            Event::UndecryptableMessage(u) => Seen::Undecryptable(format!("{u:?}")),
            _ => return vec![],
        }]
    }
}

async fn start_bot(url: &str, backend: Arc<dyn Backend>) -> (BotHandle, UnboundedReceiver<Seen>) {
    spawn_bot(bot_builder(url, backend).with_push_name("alice")).await
}

/// Waits for the first QR and has the mock phone scan it; returns the admin API's answer.
async fn scan_first_qr(port: u16, rx: &mut UnboundedReceiver<Seen>, what: &str) -> String {
    match next(rx, what, 20).await {
        Seen::Qr(code) => scan_qr(port, &code).await,
        other => panic!("expected a QR first, got {other:?}"),
    }
}

/// The paired JID from PairSuccess (a QR rotation may race the scan; harmless).
async fn pair_success(rx: &mut UnboundedReceiver<Seen>) -> String {
    loop {
        match next(rx, "PairSuccess", 20).await {
            Seen::PairSuccess(jid) => return jid,
            Seen::Qr(_) => continue,
            Seen::PairError(e) => panic!("the client rejected the mock phone's pair-success: {e}"),
            other => panic!("expected PairSuccess, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairs_by_qr_then_reconnects_from_the_same_store_without_qr() {
    let mock = start_mock().await;
    let url = mock.url();
    let backend: Arc<dyn Backend> = Arc::new(InMemoryBackend::new());

    // First bot: fresh store → registration → QR.
    let (bot, mut rx) = start_bot(&url, backend.clone()).await;
    let body = scan_first_qr(mock.port(), &mut rx, "the first QR").await;
    let expected_phone = MockServer::phone_for_push_name("alice");
    assert!(body.contains(&expected_phone), "push name must decide the number: {body}");

    // PairSuccess, then (after the 515 restart and a login) Connected. whatsapp-rust's first
    // login after pairing waits up to 10 s for the phone's app-state key share before it syncs
    // and reports Connected; the mock phone sends it, so Connected must come well within 5 s.
    let jid = pair_success(&mut rx).await;
    assert!(jid.starts_with(&expected_phone), "paired as {jid}");
    let paired_at = std::time::Instant::now();
    match next(&mut rx, "Connected within 5 s of pairing (the phone's app-state key share)", 5).await {
        Seen::Connected => {}
        other => panic!("expected Connected, got {other:?}"),
    }
    let took = paired_at.elapsed();
    assert!(took < Duration::from_secs(5), "Connected {took:?} after PairSuccess");
    assert_eq!(mock.online_device_count(), 1);
    // The key share (and anything else) must have decrypted.
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(seen) = rx.try_recv() {
        assert!(!matches!(seen, Seen::Undecryptable(_)), "client could not decrypt: {seen:?}");
    }
    shutdown_bot(bot).await;

    // Second bot over the SAME store: logs in directly, no QR.
    let (bot2, mut rx2) = start_bot(&url, backend.clone()).await;
    match next(&mut rx2, "Connected from the saved session", 30).await {
        Seen::Connected => {}
        Seen::Qr(_) => panic!("a paired store must not be shown a QR"),
        other => panic!("expected Connected, got {other:?}"),
    }
    assert_eq!(mock.online_device_count(), 1);
    shutdown_bot(bot2).await;
    mock.shutdown().await;

    // A fresh mock knows nothing of this device (and has another Noise key, so the client's
    // cached IK attempt must fall back to XX): the login gets 401, i.e. logged out.
    let other = MockServer::start(MockConfig::default()).await.expect("second mock starts");
    let (bot3, mut rx3) = start_bot(&other.url(), backend).await;
    match next(&mut rx3, "LoggedOut from a server that does not know the device", 30).await {
        Seen::LoggedOut => {}
        other => panic!("expected LoggedOut, got {other:?}"),
    }
    shutdown_bot(bot3).await;
    other.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_push_name_gives_two_devices_of_one_account() {
    let mock = start_mock().await;
    let mut bots = Vec::new();
    let mut jids = Vec::new();
    for _ in 0..2 {
        let (bot, mut rx) = start_bot(&mock.url(), Arc::new(InMemoryBackend::new())).await;
        scan_first_qr(mock.port(), &mut rx, "a QR").await;
        jids.push(pair_success(&mut rx).await);
        bots.push((bot, rx));
    }
    let phone = MockServer::phone_for_push_name("alice");
    assert_eq!(jids, vec![format!("{phone}:1@s.whatsapp.net"), format!("{phone}:2@s.whatsapp.net")]);
    for (_, rx) in bots.iter_mut() {
        loop {
            match next(rx, "Connected", 60).await {
                Seen::Connected => break,
                Seen::Qr(_) => continue,
                other => panic!("expected Connected, got {other:?}"),
            }
        }
    }
    assert_eq!(mock.online_device_count(), 2);
    for (bot, _) in bots {
        shutdown_bot(bot).await;
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn admin_api_refuses_bad_scans_and_survives_garbage() {
    let mock = MockServer::start(MockConfig::default()).await.expect("mock starts");
    let port = mock.port();
    let k = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

    let (status, body) = http(port, "POST", "/admin/mock-phone/scan-qr", format!("2@nope,{k},{k},{k}").as_bytes()).await;
    assert_eq!(status, 404, "unknown ref: {body}");
    let (status, _) = http(port, "POST", "/admin/mock-phone/scan-qr", b"not a qr").await;
    assert_eq!(status, 400);
    let (status, _) = http(port, "GET", "/admin/mock-phone/scan-qr", b"").await;
    assert_eq!(status, 405);
    let (status, _) = http(port, "GET", "/nope", b"").await;
    assert_eq!(status, 404);

    // Garbage on the port, and a WebSocket path without an upgrade: the server stays up.
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(b"\x00\xff\x13garbage\r\n\r\n").await.unwrap();
    let mut sink = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut sink)).await;
    let (status, _) = http(port, "GET", "/ws/chat", b"").await;
    assert_eq!(status, 400);
    let (status, body) = http(port, "GET", "/admin/health", b"").await;
    assert_eq!((status, body.trim()), (200, "ok"));
    mock.shutdown().await;
}
