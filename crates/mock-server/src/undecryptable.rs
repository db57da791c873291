//! A message no device can decrypt: `POST /admin/messages/undecryptable` `{ from, to }` → `{ id }`
//! delivers to every linked device of `to` a `<message>` from `from`'s phone whose `<enc>` is
//! random bytes — what a device sees when a sender's ratchet and its own disagree (a session
//! reset on one side, a restored backup). Clients must report it (Baileys: a CIPHERTEXT stub
//! in `messages.upsert`) and ask the sender to send it again with a retry receipt, which the
//! mock relays to the sender's devices as usual.

use serde::Deserialize;
use serde_json::json;
use wacore_binary::builder::NodeBuilder;

use crate::clock::unix_now;
use crate::http_response::Response;
use crate::locking::lock;
use crate::state::ServerState;

#[derive(Deserialize)]
struct Request {
    from: String,
    to: String,
}

pub fn deliver(body: &[u8], state: &ServerState) -> Response {
    let req: Request = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return Response::text(400, format!("expected {{ from, to }} (phone numbers of two accounts): {e}\n")),
    };
    let dir = lock(&state.directory);
    let (Some(sender), Some(recipient)) = (dir.account(&req.from), dir.account(&req.to)) else {
        return Response::text(404, format!("no account with phone {} or {}\n", req.from, req.to));
    };
    // Linked devices only: the recipient's phone is the mock itself.
    let devices: Vec<u16> = recipient.devices.keys().copied().filter(|d| *d != 0).collect();
    let from = sender.device_jid(0, false);
    drop(dir);
    let id = format!("3EB0{:016X}", rand::random::<u64>());
    let garbage: Vec<u8> = (0..64).map(|_| rand::random::<u8>()).collect();
    let node = NodeBuilder::new("message")
        .attr("from", from)
        .attr("id", id.clone())
        .attr("t", unix_now().to_string())
        .attr("type", "text")
        .children([NodeBuilder::new("enc").attr("v", "2").attr("type", "msg").bytes(garbage).build()])
        .build();
    let mut router = lock(&state.router);
    for device in &devices {
        router.deliver(&(req.to.clone(), *device), "message", &id, &req.from, node.clone());
    }
    Response::json(200, &json!({ "id": id, "devices": devices.len() }))
}
