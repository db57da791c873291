//! App state end to end with whatsapp-rust 0.7.0: a client linked by pairing code to a seeded
//! account syncs the mock's collections — decrypting them with the key the mock phone shared,
//! checking every MAC and the LTHash — and reports the seed as app-state events; then the mock
//! phone unarchives the chat (`/admin/mock-phone/app-state`) and the client, told by
//! `server_sync`, reports that too.

use std::sync::Arc;

mod common;

use common::{bot_builder, http, next, shutdown_bot, spawn_bot, start_mock, Observed};
use wacore::store::InMemoryBackend;
use whatsapp_rust::pair_code::PairCodeOptions;
use whatsapp_rust::store::traits::Backend;
use whatsapp_rust::types::events::Event;

const PHONE: &str = "15558889999";
const BOB: &str = "15550002222@s.whatsapp.net";
const GROUP: &str = "120363000000000001@g.us";

#[derive(Debug)]
enum Seen {
    Code(String),
    Contact(String, Option<String>),
    Archive(String, Option<bool>),
    Pin(String, Option<bool>),
    Mute(String, Option<i64>),
}

impl Observed for Seen {
    fn from_event(event: &Event) -> Vec<Self> {
        vec![match event {
            Event::PairingCode(c) => Seen::Code(c.code.clone()),
            Event::ContactUpdate(u) => Seen::Contact(u.jid.to_string(), u.action.full_name.clone()),
            Event::ArchiveUpdate(u) => Seen::Archive(u.jid.to_string(), u.action.archived),
            Event::PinUpdate(u) => Seen::Pin(u.jid.to_string(), u.action.pinned),
            Event::MuteUpdate(u) => Seen::Mute(u.jid.to_string(), u.action.mute_end_timestamp),
            _ => return vec![],
        }]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_client_syncs_the_seeded_app_state_and_the_phone_s_changes() {
    let mock = start_mock().await;
    let port = mock.port();
    let seed = serde_json::json!({
        "pushName": "Alice",
        "contacts": [{ "id": BOB, "name": "Bob Builder" }],
        "chats": [{ "id": BOB, "archived": true, "pinned": 1 }, { "id": GROUP, "muteEndTime": 1_900_000_000_000u64 }],
    });
    let (status, body) = http(port, "POST", &format!("/admin/accounts/{PHONE}/seed"), seed.to_string().as_bytes()).await;
    assert_eq!(status, 200, "{body}");

    let backend: Arc<dyn Backend> = Arc::new(InMemoryBackend::new());
    let builder =
        bot_builder(&mock.url(), backend).with_pair_code(PairCodeOptions { phone_number: PHONE.to_owned(), ..Default::default() });
    let (bot, mut rx) = spawn_bot(builder).await;
    let code = match next(&mut rx, "the pairing code", 30).await {
        Seen::Code(code) => code,
        other => panic!("expected a pairing code, got {other:?}"),
    };
    let entry = serde_json::json!({ "phone": PHONE, "code": code }).to_string();
    let (status, body) = http(port, "POST", "/admin/mock-phone/pair-code", entry.as_bytes()).await;
    assert_eq!(status, 200, "{body}");

    let (mut contact, mut archived, mut pinned, mut muted) = (None, None, None, None);
    while contact.is_none() || archived.is_none() || pinned.is_none() || muted.is_none() {
        match next(&mut rx, "the seeded app state", 60).await {
            Seen::Contact(jid, name) if jid == BOB => contact = name,
            Seen::Archive(jid, a) if jid == BOB => archived = a,
            Seen::Pin(jid, p) if jid == BOB => pinned = p,
            Seen::Mute(jid, end) if jid == GROUP => muted = end,
            _ => {}
        }
    }
    assert_eq!(contact.as_deref(), Some("Bob Builder"));
    assert_eq!((archived, pinned, muted), (Some(true), Some(true), Some(1_900_000_000_000)));

    let actions = serde_json::json!({ "phone": PHONE, "actions": [{ "jid": BOB, "archive": false }] }).to_string();
    let (status, body) = http(port, "POST", "/admin/mock-phone/app-state", actions.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"regular_low\":2"), "{body}");
    loop {
        if let Seen::Archive(jid, a) = next(&mut rx, "the phone's unarchive", 30).await {
            if jid == BOB {
                assert_eq!(a, Some(false));
                break;
            }
        }
    }
    shutdown_bot(bot).await;
    mock.shutdown().await;
}
