//! The WebSocket upgrade on `/ws/chat`: checks the request, answers `101 Switching Protocols`
//! and, once hyper hands over the connection, frames it with tokio-websockets for
//! connection.rs.

use std::sync::Arc;

use base64::Engine as _;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE};
use hyper_util::rt::TokioIo;

use crate::http_response::{full_body, Body, CloseWithoutAnswer, Response};
use crate::state::ServerState;

/// RFC 6455's fixed GUID, appended to the client's key for `Sec-WebSocket-Accept`.
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

fn header_has_token(headers: &HeaderMap, name: hyper::header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key);
    sha.update(WS_GUID.as_bytes());
    base64::prelude::BASE64_STANDARD.encode(sha.digest().bytes())
}

/// Answers an upgrade request to `/ws/chat`; the WebSocket itself runs in a task of its own.
pub fn accept(mut req: hyper::Request<Incoming>, state: Arc<ServerState>) -> Result<hyper::Response<Body>, CloseWithoutAnswer> {
    let headers = req.headers();
    if req.method() != hyper::Method::GET
        || !header_has_token(headers, UPGRADE, "websocket")
        || !header_has_token(headers, CONNECTION, "upgrade")
    {
        return Ok(Response::text(400, "/ws/chat expects a WebSocket upgrade\n").into_hyper());
    }
    if headers.get(SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
        return Ok(Response::text(400, "WebSocket version 13 expected\n").into_hyper());
    }
    let Some(key) = headers.get(SEC_WEBSOCKET_KEY).map(|k| accept_key(k.as_bytes())) else {
        return Ok(Response::text(400, "Sec-WebSocket-Key missing\n").into_hyper());
    };
    // Fault injection: refusing connections (a "restart" in progress).
    if let Some(how) = state.faults.refusal() {
        return how.response().map(Response::into_hyper).ok_or(CloseWithoutAnswer);
    }

    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws = tokio_websockets::ServerBuilder::new().serve(TokioIo::new(upgraded));
                crate::connection::serve(ws, state).await;
            }
            Err(e) => log::debug!("WebSocket upgrade failed: {e}"),
        }
    });
    let mut resp = hyper::Response::new(full_body(""));
    *resp.status_mut() = hyper::StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(SEC_WEBSOCKET_ACCEPT, HeaderValue::from_str(&key).expect("base64 is a valid header value"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    #[test]
    fn accept_key_matches_rfc_6455_example() {
        assert_eq!(super::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }
}
