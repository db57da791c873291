//! whatsapp-rust 0.7.0 (built with `danger-skip-cert-chain-verify`) as a real client of the mock:
//! QR pairing through the mock phone, the 515 restart, login, and a second bot over the same
//! store logging in without any QR (by then the client has cached our certificate: Noise IK).
//!
//! Every wait is bounded, so a broken server fails the test instead of hanging it.

use std::sync::Arc;
use std::time::Duration;

mod common;

use baileys_shard_mock::{MockConfig, MockServer};
use common::{http, init_logging};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use wacore::store::InMemoryBackend;
use whatsapp_rust::bot::{Bot, BotHandle};
use whatsapp_rust::http::UreqHttpClient;
use whatsapp_rust::store::traits::Backend;
use whatsapp_rust::transport::TokioWebSocketTransportFactory;
use whatsapp_rust::types::events::Event;
use whatsapp_rust::TokioRuntime;


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


async fn start_bot(url: &str, backend: Arc<dyn Backend>, tx: mpsc::UnboundedSender<Seen>) -> BotHandle {
    let bot = Bot::builder()
        .with_backend_arc(backend)
        .with_transport_factory(TokioWebSocketTransportFactory::new().with_url(url))
        .with_http_client(UreqHttpClient::new())
        .with_runtime(TokioRuntime)
        .with_version((2, 3000, 1))
        .with_push_name("alice")
        .on_event(move |event, _client| {
            let tx = tx.clone();
            async move {
                let seen = match &*event {
                    Event::PairingQrCode(q) => Seen::Qr(q.code.clone()),
                    Event::PairSuccess(p) => Seen::PairSuccess(p.id.to_string()),
                    Event::PairError(e) => Seen::PairError(e.error.clone()),
                    Event::Connected(_) => Seen::Connected,
                    Event::LoggedOut(_) => Seen::LoggedOut,
                    Event::UndecryptableMessage(u) => Seen::Undecryptable(format!("{u:?}")),
                    _ => return,
                };
                let _ = tx.send(seen);
            }
        })
        .build()
        .await
        .expect("bot builds");
    bot.spawn()
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Seen>, what: &str, secs: u64) -> Seen {
    match tokio::time::timeout(Duration::from_secs(secs), rx.recv()).await {
        Ok(Some(seen)) => seen,
        Ok(None) => panic!("event channel closed while waiting for {what}"),
        Err(_) => panic!("timed out after {secs}s waiting for {what}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairs_by_qr_then_reconnects_from_the_same_store_without_qr() {
    init_logging();
    let mock = MockServer::start(MockConfig::default()).await.expect("mock starts");
    let url = mock.url();
    let backend: Arc<dyn Backend> = Arc::new(InMemoryBackend::new());

    // First bot: fresh store → registration → QR.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let bot = start_bot(&url, backend.clone(), tx).await;
    let qr = match next(&mut rx, "the first QR", 20).await {
        Seen::Qr(code) => code,
        other => panic!("expected a QR first, got {other:?}"),
    };
    let (status, body) = http(mock.port(), "POST", "/admin/mock-phone/scan-qr", qr.as_bytes()).await;
    assert_eq!(status, 200, "scan-qr refused: {body}");
    let expected_phone = MockServer::phone_for_push_name("alice");
    assert!(body.contains(&expected_phone), "push name must decide the number: {body}");

    // PairSuccess, then (after the 515 restart and a login) Connected. whatsapp-rust's first
    // login after pairing waits up to 10 s for the phone's app-state key share before it syncs
    // and reports Connected; the mock phone sends it, so Connected must come well within 5 s.
    loop {
        match next(&mut rx, "PairSuccess", 20).await {
            Seen::PairSuccess(jid) => {
                assert!(jid.starts_with(&expected_phone), "paired as {jid}");
                break;
            }
            Seen::Qr(_) => continue, // a rotation may race the scan; harmless
            Seen::PairError(e) => panic!("the client rejected the mock phone's pair-success: {e}"),
            other => panic!("expected PairSuccess, got {other:?}"),
        }
    }
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
    tokio::time::timeout(Duration::from_secs(20), bot.shutdown())
        .await
        .expect("first bot shuts down");

    // Second bot over the SAME store: logs in directly, no QR.
    let (tx2, mut rx2) = mpsc::unbounded_channel();
    let bot2 = start_bot(&url, backend.clone(), tx2).await;
    match next(&mut rx2, "Connected from the saved session", 30).await {
        Seen::Connected => {}
        Seen::Qr(_) => panic!("a paired store must not be shown a QR"),
        other => panic!("expected Connected, got {other:?}"),
    }
    assert_eq!(mock.online_device_count(), 1);
    tokio::time::timeout(Duration::from_secs(20), bot2.shutdown())
        .await
        .expect("second bot shuts down");
    mock.shutdown().await;

    // A fresh mock knows nothing of this device (and has another Noise key, so the client's
    // cached IK attempt must fall back to XX): the login gets 401, i.e. logged out.
    let other = MockServer::start(MockConfig::default()).await.expect("second mock starts");
    let (tx3, mut rx3) = mpsc::unbounded_channel();
    let bot3 = start_bot(&other.url(), backend, tx3).await;
    match next(&mut rx3, "LoggedOut from a server that does not know the device", 30).await {
        Seen::LoggedOut => {}
        other => panic!("expected LoggedOut, got {other:?}"),
    }
    tokio::time::timeout(Duration::from_secs(20), bot3.shutdown())
        .await
        .expect("third bot shuts down");
    other.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_push_name_gives_two_devices_of_one_account() {
    init_logging();
    let mock = MockServer::start(MockConfig::default()).await.expect("mock starts");
    let mut bots = Vec::new();
    let mut jids = Vec::new();
    for _ in 0..2 {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let bot = start_bot(&mock.url(), Arc::new(InMemoryBackend::new()), tx).await;
        let qr = match next(&mut rx, "a QR", 20).await {
            Seen::Qr(code) => code,
            other => panic!("expected a QR, got {other:?}"),
        };
        let (status, body) = http(mock.port(), "POST", "/admin/mock-phone/scan-qr", qr.as_bytes()).await;
        assert_eq!(status, 200, "scan-qr refused: {body}");
        loop {
            match next(&mut rx, "PairSuccess", 20).await {
                Seen::PairSuccess(jid) => {
                    jids.push(jid);
                    break;
                }
                Seen::Qr(_) => continue,
                other => panic!("expected PairSuccess, got {other:?}"),
            }
        }
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
        tokio::time::timeout(Duration::from_secs(20), bot.shutdown())
            .await
            .expect("bot shuts down");
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
