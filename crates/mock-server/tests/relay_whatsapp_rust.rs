//! Message relay between two whatsapp-rust 0.7.0 clients paired to two different accounts:
//! A → B text, B → A reply, a delivery receipt back to A, and the offline queue (B shut down,
//! A sends, B comes back over the same store and gets the message exactly once).
//!
//! Every wait is bounded, so a broken relay fails the test instead of hanging it.
//! `MOCK_TEST_LOG=debug cargo test -p baileys-shard-mock --test relay_whatsapp_rust` for logs.

use std::sync::Arc;
use std::time::Duration;

#[macro_use]
mod common;

use baileys_shard_mock::MockServer;
use common::{bot_builder, pair_by_qr, shutdown_bot, spawn_bot, start_mock, user_jid, user_of, wait_for, Observed};
use tokio::sync::mpsc::UnboundedReceiver;
use wacore::proto_helpers::MessageExt as _;
use wacore::store::InMemoryBackend;
use whatsapp_rust::bot::BotHandle;
use whatsapp_rust::store::traits::Backend;
use whatsapp_rust::types::events::Event;

#[derive(Debug)]
enum Seen {
    Qr(String),
    PairSuccess,
    Connected,
    /// (chat, sender, id, text, offline)
    Text(String, String, String, String, bool),
    /// (from, ids, type)
    Receipt(String, Vec<String>, String),
    Undecryptable(String),
    LoggedOut,
}

impl Observed for Seen {
    fn from_event(event: &Event) -> Vec<Self> {
        match event {
            Event::PairingQrCode(q) => vec![Seen::Qr(q.code.clone())],
            Event::PairSuccess(_) => vec![Seen::PairSuccess],
            Event::Connected(_) => vec![Seen::Connected],
            // Text messages only: the mock phone's own (app-state key share, history) are not.
            Event::Messages(batch) => batch
                .iter()
                .filter_map(|m| {
                    Some(Seen::Text(
                        m.info.source.chat.to_string(),
                        m.info.source.sender.to_string(),
                        m.info.id.to_string(),
                        m.message.text_content()?.to_owned(),
                        m.info.is_offline,
                    ))
                })
                .collect(),
            Event::Receipt(r) => vec![Seen::Receipt(
                r.source.sender.to_string(),
                r.message_ids.iter().map(|i| i.to_string()).collect(),
                format!("{:?}", r.r#type),
            )],
            Event::UndecryptableMessage(u) => vec![Seen::Undecryptable(format!("{u:?}"))],
            Event::LoggedOut(_) => vec![Seen::LoggedOut],
            _ => vec![],
        }
    }
    lifecycle_from_seen!();
}

async fn start_bot(url: &str, name: &str, backend: Arc<dyn Backend>) -> (BotHandle, UnboundedReceiver<Seen>) {
    spawn_bot(bot_builder(url, backend).with_push_name(name)).await
}

/// Pairs a fresh bot under `name` and waits until it is connected.
async fn paired_bot(mock: &MockServer, name: &str, backend: Arc<dyn Backend>) -> (BotHandle, UnboundedReceiver<Seen>) {
    let (bot, mut rx) = start_bot(&mock.url(), name, backend).await;
    pair_by_qr(mock, &mut rx).await;
    (bot, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_exchange_messages_receipts_and_offline_delivery() {
    let mock = start_mock().await;
    let a_phone = MockServer::phone_for_push_name("relay-alice");
    let b_phone = MockServer::phone_for_push_name("relay-bob");
    let a_jid = user_jid("relay-alice");
    let b_jid = user_jid("relay-bob");

    let (bot_a, mut rx_a) = paired_bot(&mock, "relay-alice", Arc::new(InMemoryBackend::new())).await;
    let b_backend: Arc<dyn Backend> = Arc::new(InMemoryBackend::new());
    let (bot_b, mut rx_b) = paired_bot(&mock, "relay-bob", b_backend.clone()).await;
    let client_a = bot_a.client();
    let client_b = bot_b.client();

    // A → B.
    let sent = tokio::time::timeout(Duration::from_secs(30), client_a.send_text(b_jid.clone(), "hello bob"))
        .await
        .expect("send A→B timed out")
        .expect("send A→B");
    let got = wait_for(&mut rx_b, "B to receive A's text", 30, |s| matches!(s, Seen::Text(..))).await;
    let Seen::Text(chat, sender, id, text, offline) = got else { unreachable!() };
    assert_eq!(text, "hello bob");
    assert_eq!(id, sent.message_id);
    assert_eq!(user_of(&chat), a_phone, "chat is A: {chat}");
    assert_eq!(user_of(&sender), a_phone, "sender is A's device: {sender}");
    assert!(!offline);

    // B's delivery receipt reaches A.
    let receipt = wait_for(
        &mut rx_a,
        "A to get B's delivery receipt",
        30,
        |s| matches!(s, Seen::Receipt(_, ids, kind) if ids.contains(&sent.message_id) && kind == "Delivered"),
    )
    .await;
    let Seen::Receipt(from, ..) = receipt else { unreachable!() };
    assert_eq!(user_of(&from), b_phone, "receipt from B: {from}");

    // B → A (reply over the session A's pkmsg set up, or a new one: either must decrypt).
    let reply = tokio::time::timeout(Duration::from_secs(30), client_b.send_text(a_jid.clone(), "hi alice"))
        .await
        .expect("send B→A timed out")
        .expect("send B→A");
    let got = wait_for(&mut rx_a, "A to receive B's reply", 30, |s| matches!(s, Seen::Text(..))).await;
    let Seen::Text(chat, _, id, text, _) = got else { unreachable!() };
    assert_eq!((text.as_str(), id.as_str()), ("hi alice", reply.message_id.as_str()));
    assert_eq!(user_of(&chat), b_phone);
    // A second A → B message rides the established session (msg, not pkmsg).
    let sent2 = client_a.send_text(b_jid.clone(), "second").await.expect("send A→B #2");
    let got = wait_for(&mut rx_b, "B to receive A's second text", 30, |s| matches!(s, Seen::Text(..))).await;
    let Seen::Text(_, _, id, text, _) = got else { unreachable!() };
    assert_eq!((text.as_str(), id.as_str()), ("second", sent2.message_id.as_str()));
    // Give B's acks a moment to reach the mock before B goes away.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Offline: B goes away, A sends, B comes back over the same store.
    drop(client_b);
    shutdown_bot(bot_b).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while mock.online_device_count() > 1 {
        assert!(tokio::time::Instant::now() < deadline, "B never went offline at the mock");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let offline_msg = client_a.send_text(b_jid.clone(), "while you were away").await.expect("send to offline B");
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (bot_b2, mut rx_b2) = start_bot(&mock.url(), "relay-bob", b_backend).await;
    let got = wait_for(
        &mut rx_b2,
        "B (restarted) to receive the queued text",
        30,
        |s| matches!(s, Seen::Text(_, _, id, ..) if *id == offline_msg.message_id),
    )
    .await;
    let Seen::Text(_, _, _, text, offline) = got else { unreachable!() };
    assert_eq!(text, "while you were away");
    assert!(offline, "a queued message is delivered marked offline");
    // The queued message's delivery receipt reaches A too.
    wait_for(
        &mut rx_a,
        "A to get the receipt for the queued message",
        30,
        |s| matches!(s, Seen::Receipt(_, ids, kind) if ids.contains(&offline_msg.message_id) && kind == "Delivered"),
    )
    .await;

    // Exactly once: a reconnect of B must not get it again (it was acked).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut again = Vec::new();
    while let Ok(s) = rx_b2.try_recv() {
        if let Seen::Text(_, _, id, ..) = &s {
            again.push(id.clone());
        }
    }
    assert!(!again.contains(&offline_msg.message_id), "queued message delivered twice: {again:?}");
    let _ = client_a;
    for bot in [bot_a, bot_b2] {
        shutdown_bot(bot).await;
    }
    mock.shutdown().await;
}
