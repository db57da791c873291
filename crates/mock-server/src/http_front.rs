//! The HTTP front door shared by the WebSocket endpoint, the media CDN and the admin API.
//!
//! One port serves all three, as the community mock ("bartender") does. hyper speaks HTTP/1.1
//! (keep-alive, chunked bodies, `Expect: 100-continue`, upgrades) over plain TCP or TLS; this
//! module only routes. Malformed requests get hyper's 400 and a closed socket.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, HOST, ORIGIN};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::http_response::{Body, CloseWithoutAnswer, Response};
use crate::state::ServerState;

/// Largest admin request body; media uploads stream and have their own limit (media.rs).
const MAX_BODY: usize = 64 * 1024;
/// How long a client may take to send a request head, or an admin request's body.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves one accepted connection (TCP, or TLS over it) until the peer is done, the WebSocket
/// it became ends, or the server shuts down. Never panics on peer input.
pub async fn serve_connection<IO>(io: IO, state: Arc<ServerState>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut shutdown = state.shutdown.clone();
    let service = service_fn(move |req| route(req, state.clone()));
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(READ_TIMEOUT)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                log::debug!("HTTP connection ended: {e}");
            }
        }
        // An idle keep-alive connection must not outlive the server; one mid-request finishes it.
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

async fn route(req: hyper::Request<Incoming>, state: Arc<ServerState>) -> Result<hyper::Response<Body>, CloseWithoutAnswer> {
    let path = req.uri().path().to_owned();
    if path == "/ws/chat" {
        return crate::ws_upgrade::accept(req, state);
    }
    if crate::media::is_media_request(req.method().as_str(), &path, &state.media) {
        return Ok(crate::media::serve(req, &*state).await);
    }
    Ok(admin(req, &path, &state).await.into_hyper())
}

async fn admin(req: hyper::Request<Incoming>, path: &str, state: &Arc<ServerState>) -> Response {
    let header = |name| req.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_owned);
    let declared = header(CONTENT_LENGTH).and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Response::text(413, "body too large\n");
    }
    let (host, origin) = (header(HOST), header(ORIGIN));
    let method = req.method().as_str().to_owned();
    // A chunked body has no declared length: the limit applies as it arrives.
    let body = match tokio::time::timeout(READ_TIMEOUT, Limited::new(req.into_body(), MAX_BODY).collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Response::text(413, "body too large\n"),
        Ok(Err(e)) => return Response::text(400, format!("incomplete body: {e}\n")),
        Err(_) => return Response::text(408, "request body timed out\n"),
    };
    match crate::admin_guard::check(host.as_deref(), origin.as_deref()) {
        Ok(()) => crate::admin::route(&method, path, &body, state).await,
        Err(why) => Response::text(403, format!("{why}\n")),
    }
}
