//! Voice and video calls, signalling only (no media): the mock phone of one account rings
//! another, and the server's side of the call follows as WhatsApp's does.
//!
//! - `POST /admin/mock-phone/call` (or `POST /admin/calls`) `{ from, to, video?, timeoutMs? }`
//!   → `{ id, devices }`: every device of `to` (a phone number or its jid) gets
//!   `<call from><offer call-id call-creator>…</offer></call>` (queued for devices that are
//!   offline, then marked `offline`). With `timeoutMs`, a call nobody answered by then ends as
//!   it does when the caller's phone gives up ringing: `<terminate reason="timeout">` to each
//!   device.
//! - `POST /admin/calls/:id/end`: the caller hangs up — `<terminate>` without a reason.
//! - What the devices answer (`<call to><reject call-id call-creator count/></call>` and the
//!   like) is acknowledged and logged. A reject or an accept (not a `busy` reject, which speaks
//!   for one device only) settles the call: the callee's other devices stop ringing with
//!   `<terminate reason="rejected_elsewhere"|"accepted_elsewhere">`, as the real server does.
//! - `GET /admin/calls/:id`: the call, its outcome, what each device answered and what the
//!   server sent each device.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::Node;

use crate::accounts::{resolve_jid, ConnSender, Directory, Outbound};
use crate::clock::unix_now;
use crate::http_response::Response;
use crate::jid::DeviceAddr;
use crate::locking::lock;
use crate::router::Router;
use crate::stanza::attr;

/// What calls need of the server: its accounts, the router to ring devices through, and the
/// call log.
pub trait CallsState: Send + Sync + 'static {
    fn directory(&self) -> &Mutex<Directory>;
    fn router(&self) -> &Mutex<Router>;
    fn calls(&self) -> &Mutex<CallLog>;
}

/// How a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ringing,
    Rejected,
    Accepted,
    TimedOut,
    /// The caller hung up.
    Ended,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Ringing => "ringing",
            Outcome::Rejected => "rejected",
            Outcome::Accepted => "accepted",
            Outcome::TimedOut => "timeout",
            Outcome::Ended => "ended",
        }
    }
}

/// What a device did about a call.
#[derive(Debug, Clone)]
struct Answer {
    device: String,
    action: String,
    attrs: Vec<(String, String)>,
}

/// What the server sent one of the callee's devices.
#[derive(Debug, Clone)]
struct Sent {
    device: u16,
    action: &'static str,
    reason: Option<&'static str>,
}

struct Call {
    from: String,
    to: String,
    video: bool,
    /// The callee's devices the offer went to.
    devices: Vec<u16>,
    outcome: Outcome,
    answers: Vec<Answer>,
    sent: Vec<Sent>,
}

/// Calls placed through the admin API, by call id.
#[derive(Default)]
pub struct CallLog {
    calls: HashMap<String, Call>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RingCall {
    from: String,
    to: String,
    #[serde(default)]
    video: bool,
    timeout_ms: Option<u64>,
}

fn pn(phone: &str) -> String {
    format!("{phone}@s.whatsapp.net")
}

/// `<call from id t>action</call>` from `from`'s phone, as the server relays a call action.
fn call_stanza(from_phone: &str, action: Node) -> (String, Node) {
    let stanza_id = format!("{:020X}", rand::random::<u128>() >> 48);
    let node = NodeBuilder::new("call")
        .attr("from", pn(from_phone))
        .attr("id", stanza_id.clone())
        .attr("t", unix_now().to_string())
        .children([action])
        .build();
    (stanza_id, node)
}

fn offer(call_id: &str, from_phone: &str, video: bool) -> Node {
    let mut media = vec![
        NodeBuilder::new("audio").attr("enc", "opus").attr("rate", "16000").build(),
        NodeBuilder::new("audio").attr("enc", "opus").attr("rate", "8000").build(),
        NodeBuilder::new("net").attr("medium", "3").build(),
        NodeBuilder::new("encopt").attr("keygen", "2").build(),
    ];
    if video {
        media.push(
            NodeBuilder::new("video")
                .attr("enc", "vp8")
                .attr("dec", "vp8")
                .attr("orientation", "0")
                .attr("screen_width", "1080")
                .attr("screen_height", "1920")
                .build(),
        );
    }
    NodeBuilder::new("offer").attr("call-id", call_id).attr("call-creator", pn(from_phone)).children(media).build()
}

fn terminate(call_id: &str, from_phone: &str, reason: Option<&str>) -> Node {
    let mut node = NodeBuilder::new("terminate").attr("call-id", call_id).attr("call-creator", pn(from_phone));
    if let Some(reason) = reason {
        node = node.attr("reason", reason);
    }
    node.build()
}

/// The phone number of `to`: a number, or a user's PN or LID jid.
fn callee_phone(dir: &Directory, to: &str) -> Option<String> {
    if to.contains('@') {
        resolve_jid(dir, to).map(|(phone, _, _)| phone)
    } else {
        dir.account(to).map(|a| a.phone.clone())
    }
}

/// `POST /admin/mock-phone/call` and `POST /admin/calls`: rings every device of `to` from
/// `from`'s phone; with `timeoutMs`, the call times out unless a device settles it first.
pub fn ring<S: CallsState>(body: &[u8], state: &Arc<S>) -> Response {
    let req: RingCall = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return Response::text(400, format!("expected {{ from, to, video?, timeoutMs? }}: {e}\n")),
    };
    let dir = lock(state.directory());
    let Some(to) = callee_phone(&dir, &req.to) else {
        return Response::text(404, format!("no account {}\n", req.to));
    };
    let devices: Vec<u16> = dir.account(&to).map(|a| a.devices.keys().copied().collect()).unwrap_or_default();
    let call_id = format!("{:032X}", rand::random::<u128>());
    let (stanza_id, node) = call_stanza(&req.from, offer(&call_id, &req.from, req.video));
    // Logged before any device can answer it.
    let sent = devices.iter().map(|&device| Sent { device, action: "offer", reason: None }).collect();
    lock(state.calls()).calls.insert(
        call_id.clone(),
        Call {
            from: req.from.clone(),
            to: to.clone(),
            video: req.video,
            devices: devices.clone(),
            outcome: Outcome::Ringing,
            answers: Vec::new(),
            sent,
        },
    );
    {
        let mut router = lock(state.router());
        for device in &devices {
            router.deliver(&(to.clone(), *device), "call", &stanza_id, &req.from, node.clone());
        }
    }
    drop(dir);
    if let Some(ms) = req.timeout_ms {
        let state = Arc::clone(state);
        let id = call_id.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            // Answered or hung up meanwhile: nothing to time out.
            let _ = settle(&*state, &id, Outcome::TimedOut, Some("timeout"), None);
        });
    }
    Response::json(200, &json!({ "id": call_id, "devices": devices.len() }))
}

/// `POST /admin/calls/:id/end`: the caller hangs up a call that still rings.
pub fn end(id: &str, state: &impl CallsState) -> Response {
    match settle(state, id, Outcome::Ended, None, None) {
        Ok(devices) => Response::json(200, &json!({ "id": id, "devices": devices })),
        Err(None) => Response::text(404, format!("no call with id {id}\n")),
        Err(Some(outcome)) => Response::text(409, format!("call {id} is already over ({})\n", outcome.name())),
    }
}

/// Ends a ringing call with `outcome`: each of the callee's devices but `except` gets a
/// `<terminate>` with `reason`. Returns how many devices were told, or why nothing was done
/// (`None`: no such call; `Some`: it was already over).
fn settle(
    state: &impl CallsState,
    id: &str,
    outcome: Outcome,
    reason: Option<&'static str>,
    except: Option<u16>,
) -> Result<usize, Option<Outcome>> {
    let (from, to, targets) = {
        let mut log = lock(state.calls());
        let call = log.calls.get_mut(id).ok_or(None)?;
        if call.outcome != Outcome::Ringing {
            return Err(Some(call.outcome));
        }
        call.outcome = outcome;
        let targets: Vec<u16> = call.devices.iter().copied().filter(|d| Some(*d) != except).collect();
        call.sent.extend(targets.iter().map(|&device| Sent { device, action: "terminate", reason }));
        (call.from.clone(), call.to.clone(), targets)
    };
    let (stanza_id, node) = call_stanza(&from, terminate(id, &from, reason));
    let mut router = lock(state.router());
    for device in &targets {
        router.deliver(&(to.clone(), *device), "call", &stanza_id, &from, node.clone());
    }
    Ok(targets.len())
}

/// `GET /admin/calls/:id`: the call, its outcome, what each device answered and what the
/// server sent.
pub fn show(id: &str, state: &impl CallsState) -> Response {
    let log = lock(state.calls());
    let Some(call) = log.calls.get(id) else {
        return Response::text(404, format!("no call with id {id}\n"));
    };
    let answers: Vec<_> = call
        .answers
        .iter()
        .map(|a| json!({ "device": a.device, "action": a.action, "attrs": a.attrs.iter().cloned().collect::<HashMap<_, _>>() }))
        .collect();
    let sent: Vec<_> = call
        .sent
        .iter()
        .map(|s| json!({ "device": format!("{}:{}", call.to, s.device), "action": s.action, "reason": s.reason }))
        .collect();
    Response::json(
        200,
        &json!({
            "id": id, "from": call.from, "to": call.to, "video": call.video,
            "status": call.outcome.name(), "answers": answers, "sent": sent,
        }),
    )
}

/// A `<call>` from a device: acknowledged as the server does, and logged on its call. A
/// callee's reject or accept settles a ringing call for the callee's other devices.
pub fn from_device(state: &impl CallsState, me: &DeviceAddr, tx: &ConnSender, node: &Node) -> bool {
    if let Some(action) = node.children().and_then(|c| c.first()) {
        if let Some(call_id) = attr(action, "call-id") {
            record_answer(state, me, action, &call_id);
        }
    }
    let mut ack =
        NodeBuilder::new("ack").attr("class", "call").attr("from", attr(node, "to").unwrap_or_else(|| "s.whatsapp.net".to_owned()));
    if let Some(id) = attr(node, "id") {
        ack = ack.attr("id", id);
    }
    if let Some(kind) = node.children().and_then(|c| c.first()) {
        ack = ack.attr("type", kind.tag.to_string());
    }
    tx.send(Outbound::Node(ack.build())).is_ok()
}

fn record_answer(state: &impl CallsState, me: &DeviceAddr, action: &Node, call_id: &str) {
    let attrs: Vec<(String, String)> = action.attrs.iter().filter_map(|(k, _)| attr(action, k).map(|v| (k.to_string(), v))).collect();
    let is_callee = {
        let mut log = lock(state.calls());
        let Some(call) = log.calls.get_mut(call_id) else { return };
        call.answers.push(Answer { device: format!("{}:{}", me.phone, me.device), action: action.tag.to_string(), attrs });
        call.to == me.phone
    };
    if !is_callee {
        return;
    }
    // A `busy` reject means only that this device cannot take the call; the others ring on.
    let settled = match action.tag.as_ref() {
        "reject" if attr(action, "reason").as_deref() != Some("busy") => Some((Outcome::Rejected, "rejected_elsewhere")),
        "accept" => Some((Outcome::Accepted, "accepted_elsewhere")),
        _ => None,
    };
    if let Some((outcome, reason)) = settled {
        let _ = settle(state, call_id, outcome, Some(reason), Some(me.device));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALLER: &str = "15550001111";
    const CALLEE: &str = "15550002222";

    #[derive(Default)]
    struct TestState {
        directory: Mutex<Directory>,
        router: Mutex<Router>,
        calls: Mutex<CallLog>,
    }

    impl CallsState for TestState {
        fn directory(&self) -> &Mutex<Directory> {
            &self.directory
        }
        fn router(&self) -> &Mutex<Router> {
            &self.router
        }
        fn calls(&self) -> &Mutex<CallLog> {
            &self.calls
        }
    }

    /// The callee's account with two devices, neither live (what they get stays queued).
    fn state() -> (Arc<TestState>, Vec<u16>) {
        let state = TestState::default();
        let mut ids = Vec::new();
        {
            let mut dir = lock(&state.directory);
            let account = dir.account_for_phone(CALLEE, "callee");
            for _ in 0..2 {
                ids.push(account.link_placeholder_device());
            }
        }
        (Arc::new(state), ids)
    }

    fn call_id(response: &Response) -> String {
        assert_eq!(response.status, 200, "{}", response.body);
        let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// What device `device` of the callee has been sent: (action, reason) per `<call>`.
    fn received(state: &TestState, device: u16) -> Vec<(String, Option<String>)> {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        lock(&state.router)
            .activate(&(CALLEE.to_owned(), device), 1, tx)
            .iter()
            .filter_map(|n| n.children().and_then(|c| c.first()).map(|a| (a.tag.to_string(), attr(a, "reason"))))
            .collect()
    }

    fn reject(call_id: &str, reason: Option<&str>) -> Node {
        let mut action = NodeBuilder::new("reject").attr("call-id", call_id).attr("call-creator", pn(CALLER)).attr("count", "0");
        if let Some(reason) = reason {
            action = action.attr("reason", reason);
        }
        NodeBuilder::new("call").attr("to", pn(CALLER)).attr("id", "S1").children([action.build()]).build()
    }

    #[tokio::test]
    async fn a_reject_stops_the_other_devices_ringing_and_the_call_is_over() {
        let (state, devices) = state();
        let id = call_id(&ring(format!(r#"{{"from":"{CALLER}","to":"{CALLEE}@s.whatsapp.net"}}"#).as_bytes(), &state));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        // A busy device speaks for itself only: the call rings on.
        let busy = DeviceAddr { phone: CALLEE.into(), device: devices[0] };
        assert!(from_device(&*state, &busy, &tx, &reject(&id, Some("busy"))));
        assert!(matches!(rx.try_recv(), Ok(Outbound::Node(ack)) if ack.tag == "ack"));
        assert_eq!(lock(&state.calls).calls[&id].outcome, Outcome::Ringing);

        assert!(from_device(&*state, &busy, &tx, &reject(&id, None)));
        assert_eq!(lock(&state.calls).calls[&id].outcome, Outcome::Rejected);
        assert_eq!(received(&state, devices[0]), vec![("offer".to_owned(), None)]);
        assert_eq!(
            received(&state, devices[1]),
            vec![("offer".to_owned(), None), ("terminate".to_owned(), Some("rejected_elsewhere".to_owned()))]
        );
        assert_eq!(end(&id, &*state).status, 409);
        assert_eq!(end("NOPE", &*state).status, 404);
    }

    #[tokio::test]
    async fn an_unanswered_call_times_out_and_a_hung_up_one_ends() {
        let (state, devices) = state();
        let body = format!(r#"{{"from":"{CALLER}","to":"{CALLEE}","video":true,"timeoutMs":50}}"#);
        let timed = call_id(&ring(body.as_bytes(), &state));
        let hung_up = call_id(&ring(format!(r#"{{"from":"{CALLER}","to":"{CALLEE}"}}"#).as_bytes(), &state));
        assert_eq!(end(&hung_up, &*state).status, 200);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(lock(&state.calls).calls[&timed].outcome, Outcome::TimedOut);
        assert_eq!(lock(&state.calls).calls[&hung_up].outcome, Outcome::Ended);
        for device in devices {
            let got = received(&state, device);
            assert!(got.contains(&("terminate".to_owned(), Some("timeout".to_owned()))), "{got:?}");
            assert!(got.contains(&("terminate".to_owned(), None)), "{got:?}");
        }
        assert_eq!(ring(br#"{"from":"1","to":"19999999999"}"#, &state).status, 404);
    }
}
