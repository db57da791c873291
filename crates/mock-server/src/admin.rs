//! The admin HTTP API (same port as the WebSocket).
//!
//! - `POST /admin/mock-phone/scan-qr` — body: the QR string a client displayed. The mock phone
//!   links that client: 200 + JSON `{ jid, lid, phone, device, account }` once `<pair-success>`
//!   is on its way; 400 malformed QR; 404 unknown ref; 410 ref expired/superseded/closed.
//! - `GET /admin/health` — `ok`.
//! - `GET /admin/accounts` — JSON snapshot of accounts, devices and who is online.
//! - `POST /admin/business-profile` — makes an account a business with that profile (business.rs).
//! - `POST /admin/business-catalog` — a business's collections and orders (catalog.rs).
//! - `POST /admin/messages/undecryptable` — a message `to`'s devices cannot decrypt, from
//!   `from`'s phone (`{ from, to }` → `{ id }`; undecryptable.rs).
//! - `POST /admin/mock-phone/call` (also `POST /admin/calls`) — one account's phone calls
//!   another (`{ from, to, video?, timeoutMs? }` → `{ id, devices }`); `POST
//!   /admin/calls/:id/end` — the caller hangs up; `GET /admin/calls/:id` — that call, its
//!   outcome and what the callee's devices answered (calls.rs).
//! - `POST /admin/accounts/:phone/seed` — the account's contacts, chats and messages, sent as
//!   history to each device that links to it (account_seed.rs, history_sync.rs), and as app
//!   state to each device that syncs it (app_state/).
//! - `POST /admin/mock-phone/app-state` — the mock phone archives, pins, mutes, marks read or
//!   edits contacts (`{ phone, actions }` → `{ collections: { name: version } }`; app_state/).

use std::sync::Arc;
use std::time::Instant;

use crate::accounts::account_name_for;
use crate::http_response::Response;
use crate::locking::lock;
use crate::pairing::{self, ScanRefusal};
use crate::state::ServerState;

pub async fn route(method: &str, path: &str, body: &[u8], shared: &Arc<ServerState>) -> Response {
    let state: &ServerState = shared;
    // Fault injection and stats: `/admin/faults/*`, `/admin/stats` (see faults/).
    if let Some(resp) = crate::faults::route(method, path, body, state) {
        return resp;
    }
    match (method, path) {
        ("POST", "/admin/mock-phone/scan-qr") => scan_qr(body, state),
        // Pairing-code login: the mock phone's user types a companion's code for its number.
        ("POST", "/admin/mock-phone/pair-code") => crate::pairing_code::enter_code(body, state).await,
        ("GET", "/admin/health") => Response::text(200, "ok\n"),
        ("GET", "/admin/accounts") => accounts(state),
        ("POST", "/admin/business-profile") => crate::business::set_profile(body, state),
        ("POST", "/admin/business-catalog") => crate::catalog::seed(body, state),
        ("POST", "/admin/mock-phone/app-state") => crate::app_state::phone_app_state_route(body, state),
        ("POST", "/admin/calls" | "/admin/mock-phone/call") => crate::calls::ring(body, shared),
        ("POST", "/admin/messages/undecryptable") => crate::undecryptable::deliver(body, state),
        ("POST", p) if p.starts_with("/admin/calls/") && p.ends_with("/end") => {
            crate::calls::end(&p["/admin/calls/".len()..p.len() - "/end".len()], state)
        }
        ("GET", p) if p.starts_with("/admin/calls/") => crate::calls::show(&p["/admin/calls/".len()..], state),
        ("POST", p) if p.starts_with("/admin/accounts/") && p.ends_with("/seed") => {
            crate::account_seed::seed_route(&p["/admin/accounts/".len()..p.len() - "/seed".len()], body, state)
        }
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

    match crate::link::link_companion(state, &waiting, crate::link::AccountChoice::Named(&name), &adv_secret) {
        Ok(linked) => Response::json(200, &linked),
        Err((status, why)) => Response::text(status, format!("{why}\n")),
    }
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
                    "os": d.props.os,
                    "platformType": d.props.platform_type,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Response::json(200, &serde_json::json!({ "accounts": list }))
}
