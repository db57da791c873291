//! Voice and video calls, signalling only (no media): the mock phone of one account rings
//! another (`POST /admin/calls` `{ from, to, video? }` → `{ id }`), which reaches every device
//! of `to` as `<call from><offer call-id call-creator>…</offer></call>`, the way WhatsApp
//! delivers an offer (queued for devices that are offline, then marked `offline`). What the
//! devices answer — `<call to><reject call-id call-creator count/></call>` and the like — is
//! acknowledged as the server does and kept in the call's log (`GET /admin/calls/:id`), so a
//! test can see that a bot declined it.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Deserialize;
use serde_json::json;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::Node;

use crate::accounts::{ConnSender, Directory, Outbound};
use crate::clock::unix_now;
use crate::http_response::Response;
use crate::jid::DeviceAddr;
use crate::locking::lock;
use crate::router::Router;
use crate::stanza::attr;

/// What calls need of the server: its accounts, the router to ring devices through, and the
/// call log.
pub trait CallsState {
    fn directory(&self) -> &Mutex<Directory>;
    fn router(&self) -> &Mutex<Router>;
    fn calls(&self) -> &Mutex<CallLog>;
}

/// What a device did about a call.
#[derive(Debug, Clone)]
struct Answer {
    device: String,
    action: String,
    attrs: Vec<(String, String)>,
}

struct Call {
    from: String,
    to: String,
    video: bool,
    answers: Vec<Answer>,
}

/// Calls placed through the admin API, by call id.
#[derive(Default)]
pub struct CallLog {
    calls: HashMap<String, Call>,
}

#[derive(Deserialize)]
struct PlaceCall {
    from: String,
    to: String,
    #[serde(default)]
    video: bool,
}

fn pn(phone: &str) -> String {
    format!("{phone}@s.whatsapp.net")
}

/// `POST /admin/calls`: rings every device of `to` from `from`'s phone.
pub fn place(body: &[u8], state: &impl CallsState) -> Response {
    let req: PlaceCall = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return Response::text(400, format!("expected {{ from, to, video? }}: {e}\n")),
    };
    let dir = lock(state.directory());
    let Some(callee) = dir.account(&req.to) else {
        return Response::text(404, format!("no account with phone {}\n", req.to));
    };
    let devices: Vec<u16> = callee.devices.keys().copied().collect();
    let call_id = format!("{:032X}", rand::random::<u128>());
    let stanza_id = format!("{:020X}", rand::random::<u128>() >> 48);
    let mut offer = vec![
        NodeBuilder::new("audio").attr("enc", "opus").attr("rate", "16000").build(),
        NodeBuilder::new("audio").attr("enc", "opus").attr("rate", "8000").build(),
        NodeBuilder::new("net").attr("medium", "3").build(),
        NodeBuilder::new("encopt").attr("keygen", "2").build(),
    ];
    if req.video {
        offer.push(
            NodeBuilder::new("video")
                .attr("enc", "vp8")
                .attr("dec", "vp8")
                .attr("orientation", "0")
                .attr("screen_width", "1080")
                .attr("screen_height", "1920")
                .build(),
        );
    }
    let node = NodeBuilder::new("call")
        .attr("from", pn(&req.from))
        .attr("id", stanza_id.clone())
        .attr("t", unix_now().to_string())
        .children([NodeBuilder::new("offer").attr("call-id", call_id.clone()).attr("call-creator", pn(&req.from)).children(offer).build()])
        .build();
    {
        let mut router = lock(state.router());
        for device in &devices {
            router.deliver(&(req.to.clone(), *device), "call", &stanza_id, &req.from, node.clone());
        }
    }
    drop(dir);
    lock(state.calls()).calls.insert(call_id.clone(), Call { from: req.from, to: req.to, video: req.video, answers: Vec::new() });
    Response::json(200, &json!({ "id": call_id, "devices": devices.len() }))
}

/// `GET /admin/calls/:id`: the call and what each device answered.
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
    Response::json(200, &json!({ "id": id, "from": call.from, "to": call.to, "video": call.video, "answers": answers }))
}

/// A `<call>` from a device: acknowledged as the server does, and logged on its call.
pub fn from_device(state: &impl CallsState, me: &DeviceAddr, tx: &ConnSender, node: &Node) -> bool {
    if let Some(action) = node.children().and_then(|c| c.first()) {
        if let Some(call_id) = attr(action, "call-id") {
            let attrs = action.attrs.iter().filter_map(|(k, _)| attr(action, k).map(|v| (k.to_string(), v))).collect();
            if let Some(call) = lock(state.calls()).calls.get_mut(&call_id) {
                call.answers.push(Answer { device: format!("{}:{}", me.phone, me.device), action: action.tag.to_string(), attrs });
            }
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
