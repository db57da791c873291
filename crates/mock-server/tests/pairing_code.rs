//! Pairing-code login against the mock: whatsapp-rust 0.7.0 asks for a code for a phone
//! number, the mock phone's user types it (`POST /admin/mock-phone/pair-code`), and the client is
//! linked as a device of that number. A wrong code is refused and links nothing; a number no
//! companion waits for is 404. With the `refuse-pairing-code` fault armed, the request is
//! answered with an IQ error as WhatsApp throttles it: the client reports `PairingCodeError`
//! with the server's rejection, and gets a code once the fault is used up.

use std::sync::Arc;

mod common;

use common::{admin_json, bot_builder, http, next, shutdown_bot, spawn_bot, start_mock, Observed};
use tokio::sync::mpsc::UnboundedReceiver;
use wacore::store::InMemoryBackend;
use whatsapp_rust::bot::BotHandle;
use whatsapp_rust::pair_code::{PairCodeOptions, PairCodeRejection};
use whatsapp_rust::store::traits::Backend;
use whatsapp_rust::types::events::Event;

const PHONE: &str = "15557654321";

/// The events this test cares about (the strings are shown when a wait fails).
#[derive(Debug)]
#[allow(dead_code)]
enum Seen {
    Code(String),
    CodeError(String, Option<PairCodeRejection>),
    PairSuccess(String),
    PairError(String),
    Connected,
}

impl Observed for Seen {
    fn from_event(event: &Event) -> Vec<Self> {
        vec![match event {
            Event::PairingCode(c) => Seen::Code(c.code.clone()),
            Event::PairingCodeError(e) => Seen::CodeError(e.error.clone(), e.rejection),
            Event::PairSuccess(p) => Seen::PairSuccess(p.id.to_string()),
            Event::PairError(e) => Seen::PairError(e.error.clone()),
            Event::Connected(_) => Seen::Connected,
            _ => return vec![],
        }]
    }
}

/// A fresh bot that asks for a pairing code for `PHONE`.
async fn start_bot(url: &str) -> (BotHandle, UnboundedReceiver<Seen>) {
    let backend: Arc<dyn Backend> = Arc::new(InMemoryBackend::new());
    let builder = bot_builder(url, backend).with_pair_code(PairCodeOptions { phone_number: PHONE.to_owned(), ..Default::default() });
    spawn_bot(builder).await
}

/// The mock phone's user types `code` for `phone`; returns (status, body).
async fn type_code(port: u16, phone: &str, code: &str) -> (u16, String) {
    http(port, "POST", "/admin/mock-phone/pair-code", &entry(phone, code)).await
}

/// Arms the `refuse-pairing-code` fault with `body`; returns (status, body).
async fn arm_refusal(port: u16, body: &[u8]) -> (u16, String) {
    http(port, "POST", "/admin/faults/refuse-pairing-code", body).await
}

fn entry(phone: &str, code: &str) -> Vec<u8> {
    serde_json::json!({ "phone": phone, "code": code }).to_string().into_bytes()
}

/// Another valid code: the first character moved one place along the Crockford alphabet.
fn other_code(code: &str) -> String {
    const ALPHABET: &str = "123456789ABCDEFGHJKLMNPQRSTVWXYZ";
    let first = code.chars().next().unwrap();
    let i = ALPHABET.find(first).unwrap();
    let replacement = ALPHABET.chars().nth((i + 1) % ALPHABET.len()).unwrap();
    format!("{replacement}{}", &code[1..])
}

async fn linked_devices(port: u16) -> usize {
    let json = admin_json(port, "GET", "/admin/accounts", b"").await;
    json["accounts"].as_array().unwrap().iter().filter(|a| a["phone"] == PHONE).map(|a| a["devices"].as_array().unwrap().len()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairs_by_code_and_refuses_a_wrong_one() {
    let mock = start_mock().await;
    let port = mock.port();

    // Nobody asked for a code for this number yet.
    let (status, body) = type_code(port, PHONE, "ABCD1234").await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains(PHONE), "the refusal names the number: {body}");
    // Malformed entries are 400.
    let (status, _) = type_code(port, PHONE, "short").await;
    assert_eq!(status, 400);
    let (status, _) = http(port, "POST", "/admin/mock-phone/pair-code", b"{").await;
    assert_eq!(status, 400);

    let (bot, mut rx) = start_bot(&mock.url()).await;
    let code = match next(&mut rx, "the pairing code", 30).await {
        Seen::Code(code) => code,
        other => panic!("expected a pairing code, got {other:?}"),
    };
    assert_eq!(code.len(), 8);

    // A wrong code: the companion's bundle does not open, nothing is linked.
    let (status, body) = type_code(port, PHONE, &other_code(&code)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("wrong pairing code"), "{body}");
    assert_eq!(linked_devices(port).await, 0);
    assert!(rx.try_recv().is_err(), "a wrong code must not pair the client");

    // The right code (typed in lower case, with a dash, as people do): linked.
    let typed = format!("{}-{}", code[..4].to_lowercase(), &code[4..]);
    let (status, body) = type_code(port, &format!("+{PHONE}"), &typed).await;
    assert_eq!(status, 200, "{body}");
    let linked: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(linked["phone"], PHONE);

    match next(&mut rx, "PairSuccess", 20).await {
        Seen::PairSuccess(jid) => assert!(jid.starts_with(&format!("{PHONE}:")), "paired as {jid}"),
        other => panic!("expected PairSuccess, got {other:?}"),
    }
    match next(&mut rx, "Connected", 20).await {
        Seen::Connected => {}
        other => panic!("expected Connected, got {other:?}"),
    }
    assert_eq!(linked_devices(port).await, 1);
    assert_eq!(mock.online_device_count(), 1);

    // The request was used up: the code cannot link a second device.
    let (status, _) = type_code(port, PHONE, &code).await;
    assert_eq!(status, 404);

    shutdown_bot(bot).await;
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_code_request_is_reported_and_the_next_one_after_the_fault_gets_a_code() {
    let mock = start_mock().await;
    let port = mock.port();

    // Malformed arming requests are refused with a reason.
    let (status, body) = arm_refusal(port, br#"{"code": 401}"#).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("rate-overlimit"), "lists the codes: {body}");

    // Armed for another number: not this one's business.
    let (status, body) = arm_refusal(port, br#"{"phone": "15550000000", "code": 400}"#).await;
    assert_eq!(status, 200, "{body}");
    // Armed for this number, once.
    let (status, body) = arm_refusal(port, format!(r#"{{"phone": "{PHONE}", "count": 1}}"#).as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    let armed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(armed["pairingCodeRefusals"][1], serde_json::json!({ "code": 429, "remaining": 1, "phone": PHONE }));

    let (bot, mut rx) = start_bot(&mock.url()).await;
    match next(&mut rx, "the refusal", 30).await {
        Seen::CodeError(error, rejection) => {
            assert_eq!(rejection, Some(PairCodeRejection::RateOverlimit), "classified from code and text: {error}");
            assert!(rejection.unwrap().is_throttled());
        }
        other => panic!("expected PairingCodeError, got {other:?}"),
    }
    // Nothing was remembered for the refused request: the phone has no code to confirm.
    let (status, _) = type_code(port, PHONE, "ABCD1234").await;
    assert_eq!(status, 404);
    let stats = admin_json(port, "GET", "/admin/stats", b"").await;
    assert_eq!(stats["faults"]["pairingCodeRefusals"], 1);
    let faults = admin_json(port, "GET", "/admin/faults", b"").await;
    assert_eq!(
        faults["pairingCodeRefusals"],
        serde_json::json!([{ "code": 400, "remaining": 1, "phone": "15550000000" }]),
        "this number's refusal is used up, the other number's is left"
    );

    // Asked again on the same connection: the fault is used up, a code comes and pairs.
    let client = bot.client();
    let code = client
        .pair_with_code(PairCodeOptions { phone_number: PHONE.to_owned(), ..Default::default() })
        .await
        .expect("a code once the refusal is used up");
    match next(&mut rx, "the pairing code", 10).await {
        Seen::Code(announced) => assert_eq!(announced, code),
        other => panic!("expected a pairing code, got {other:?}"),
    }
    let (status, body) = type_code(port, PHONE, &code).await;
    assert_eq!(status, 200, "{body}");
    match next(&mut rx, "PairSuccess", 20).await {
        Seen::PairSuccess(jid) => assert!(jid.starts_with(&format!("{PHONE}:")), "paired as {jid}"),
        other => panic!("expected PairSuccess, got {other:?}"),
    }

    // `clear` disarms what is left.
    let (status, _) = http(port, "POST", "/admin/faults/clear", b"{}").await;
    assert_eq!(status, 200);
    let faults = admin_json(port, "GET", "/admin/faults", b"").await;
    assert_eq!(faults["pairingCodeRefusals"], serde_json::json!([]));

    shutdown_bot(bot).await;
    mock.shutdown().await;
}
