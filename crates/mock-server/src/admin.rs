//! The admin HTTP API (same port as the WebSocket).
//!
//! - `POST /admin/mock-phone/scan-qr` — body: the QR string a client displayed. The mock phone
//!   links that client: 200 + JSON `{ jid, lid, phone, device, account }` once `<pair-success>`
//!   is on its way; 400 malformed QR; 404 unknown ref; 410 ref expired/superseded/closed.
//! - `GET /admin/health` — `ok`.
//! - `GET /admin/accounts` — JSON snapshot of accounts, devices and who is online.

use std::time::Instant;

use wacore_binary::builder::NodeBuilder;

use crate::accounts::Outbound;
use crate::connection::{account_name_for, unix_now};
use crate::http_front::Response;
use crate::iq_handlers::SERVER;
use crate::pairing::{self, ScanRefusal};
use crate::server::{lock, PendingLink, ServerState};

pub async fn route(method: &str, path: &str, body: &[u8], state: &ServerState) -> Response {
    match (method, path) {
        ("POST", "/admin/mock-phone/scan-qr") => scan_qr(body, state),
        ("GET", "/admin/health") => Response::text(200, "ok\n"),
        ("GET", "/admin/accounts") => accounts(state),
        (_, "/admin/mock-phone/scan-qr") => Response::text(405, "use POST with the QR string as the body\n"),
        _ => Response::text(404, format!("no such endpoint: {method} {path}\n")),
    }
}

fn scan_qr(body: &[u8], state: &ServerState) -> Response {
    let Ok(text) = std::str::from_utf8(body) else {
        return Response::text(400, "QR body is not UTF-8\n");
    };
    let qr = match pairing::parse_qr(text) {
        Ok(qr) => qr,
        Err(e) => return Response::text(400, format!("malformed QR: {e}\n")),
    };
    let waiting = match lock(&state.pairing).take_for_scan(&qr, Instant::now()) {
        Ok(w) => w,
        Err(ScanRefusal::UnknownRef) => {
            return Response::text(404, format!("unknown QR ref {:?}: no connection was given it\n", qr.pairing_ref))
        }
        Err(ScanRefusal::Gone(why)) => return Response::text(410, format!("QR ref no longer valid: {why}\n")),
        Err(ScanRefusal::Mismatch(why)) => return Response::text(400, format!("QR rejected: {why}\n")),
    };

    let adv_secret = if qr.adv_secret.len() == 32 {
        qr.adv_secret.clone()
    } else if let Some(over) = &state.config.adv_secret_override {
        over.clone()
    } else {
        qr.adv_secret.clone()
    };
    let name = account_name_for(waiting.push_name.as_deref(), &waiting.identity_pub);

    let mut dir = lock(&state.directory);
    let account = dir.account_for_name(&name);
    let (device, key_index) = account.reserve_device();
    let identity = match pairing::build_device_identity(
        &account.signing_key,
        account.adv_raw_id,
        key_index,
        &waiting.identity_pub,
        &adv_secret,
        unix_now(),
    ) {
        Ok(i) => i,
        Err(e) => return Response::text(500, format!("could not build the device identity: {e}\n")),
    };
    let jid = account.pn_jid(device);
    let lid = account.lid_jid(device);
    let phone = account.phone.clone();
    drop(dir);

    let iq_id = format!("pair-success-{}", waiting.conn_id);
    let node = NodeBuilder::new("iq")
        .attr("from", SERVER)
        .attr("type", "set")
        .attr("id", iq_id.clone())
        .attr("xmlns", "md")
        .attr("t", unix_now().to_string())
        .children([NodeBuilder::new("pair-success")
            .children([
                NodeBuilder::new("device-identity").bytes(identity).build(),
                NodeBuilder::new("platform").attr("name", "android").build(),
                NodeBuilder::new("device")
                    .attr("jid", jid.clone())
                    .attr("lid", lid.clone())
                    .build(),
            ])
            .build()])
        .build();
    lock(&state.awaiting_sign).insert(
        waiting.conn_id,
        PendingLink {
            iq_id,
            phone: phone.clone(),
            device,
            key_index,
            noise_pub: waiting.noise_pub,
            identity_pub: waiting.identity_pub,
        },
    );
    if waiting.sender.send(Outbound::Node(node)).is_err() {
        lock(&state.awaiting_sign).remove(&waiting.conn_id);
        return Response::text(410, "the connection closed before pair-success could be sent\n");
    }
    log::info!("mock phone scanned QR of conn {}: linking {jid} (account {name})", waiting.conn_id);
    Response::json(
        200,
        &serde_json::json!({ "jid": jid, "lid": lid, "phone": phone, "device": device, "account": name }),
    )
}

fn accounts(state: &ServerState) -> Response {
    let dir = lock(&state.directory);
    let list: Vec<serde_json::Value> = dir
        .accounts()
        .map(|a| {
            serde_json::json!({
                "name": a.name,
                "phone": a.phone,
                "lid": a.lid,
                "devices": a.devices.values().map(|d| serde_json::json!({
                    "id": d.id,
                    "jid": a.pn_jid(d.id),
                    "online": dir.is_online(&a.phone, d.id),
                    "preKeys": d.bundle.pre_keys.len(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Response::json(200, &serde_json::json!({ "accounts": list }))
}
