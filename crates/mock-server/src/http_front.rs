//! The HTTP front door shared by the WebSocket endpoint and the admin API.
//!
//! One port serves both, as the community mock ("bartender") does. We read the request head
//! ourselves, then either hand the socket to the WebSocket upgrade (replaying the bytes already
//! read) or answer a small admin request. Anything malformed gets a 400 and a closed socket.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use crate::server::ServerState;
use crate::{admin, connection};

const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 64 * 1024;
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP response from the admin API.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Response {
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self { status, content_type: "text/plain; charset=utf-8", body: body.into() }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self { status, content_type: "application/json", body: value.to_string() }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

async fn write_response(stream: &mut TcpStream, resp: &Response) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        resp.status,
        reason(resp.status),
        resp.content_type,
        resp.body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(resp.body.as_bytes()).await?;
    stream.shutdown().await
}

/// The parts of a request head we route on.
struct Head {
    method: String,
    path: String,
    websocket: bool,
    content_length: usize,
    head_len: usize,
    /// `Host` and `Origin`, which the admin API checks (admin_guard.rs).
    host: Option<String>,
    origin: Option<String>,
}

fn parse_head(buf: &[u8]) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Partial) => Ok(None),
        Ok(httparse::Status::Complete(head_len)) => {
            let header = |name: &str| {
                req.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| String::from_utf8_lossy(h.value).into_owned())
            };
            let websocket = header("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
            let content_length = match header("content-length") {
                Some(v) => v.trim().parse().map_err(|_| "bad Content-Length".to_string())?,
                None => 0,
            };
            let path = req.path.unwrap_or("/");
            // Route on the path only; a query string (Baileys may add `?ED=...`) is ignored.
            let path = path.split('?').next().unwrap_or("/").to_owned();
            Ok(Some(Head {
                method: req.method.unwrap_or("").to_owned(),
                path,
                websocket,
                content_length,
                head_len,
                host: header("host"),
                origin: header("origin"),
            }))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Serves one accepted TCP connection to completion. Never panics on peer input.
pub async fn serve_tcp(mut stream: TcpStream, state: Arc<ServerState>) {
    let mut buf = Vec::with_capacity(1024);
    let head = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream, &mut buf)).await {
        Ok(Ok(head)) => head,
        Ok(Err(resp)) => {
            let _ = write_response(&mut stream, &resp).await;
            return;
        }
        Err(_) => {
            let _ = write_response(&mut stream, &Response::text(408, "request head timed out\n")).await;
            return;
        }
    };

    if head.path == "/ws/chat" {
        if !head.websocket {
            let _ = write_response(&mut stream, &Response::text(400, "/ws/chat expects a WebSocket upgrade\n")).await;
            return;
        }
        // Fault injection: refusing connections (a "restart" in progress).
        if let Some(how) = state.faults.refusal() {
            if let Some(resp) = how.response() {
                let _ = write_response(&mut stream, &resp).await;
            }
            return;
        }
        // Give the upgrade the exact bytes the client sent, including the head we consumed.
        let replay = Replay { prefix: buf, pos: 0, inner: stream };
        match tokio_websockets::ServerBuilder::new().accept(replay).await {
            Ok((_req, ws)) => connection::serve(ws, state).await,
            Err(e) => log::debug!("WebSocket upgrade failed: {e}"),
        }
        return;
    }

    // The media CDN streams its own bodies (uploads may be large).
    if crate::media::is_media_request(&head.method, &head.path, &state.media) {
        crate::media::serve(stream, buf, head.head_len, &state).await;
        return;
    }
    if head.content_length > MAX_BODY {
        let _ = write_response(&mut stream, &Response::text(413, "body too large\n")).await;
        return;
    }
    let mut body = buf[head.head_len..].to_vec();
    body.truncate(head.content_length);
    while body.len() < head.content_length {
        let mut chunk = vec![0u8; head.content_length - body.len()];
        match tokio::time::timeout(HEAD_TIMEOUT, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => {
                let _ = write_response(&mut stream, &Response::text(400, "incomplete body\n")).await;
                return;
            }
            Ok(Ok(n)) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let resp = match crate::admin_guard::check(head.host.as_deref(), head.origin.as_deref()) {
        Ok(()) => admin::route(&head.method, &head.path, &body, &state).await,
        Err(why) => Response::text(403, format!("{why}\n")),
    };
    let _ = write_response(&mut stream, &resp).await;
}

async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Head, Response> {
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).await.map_err(|e| Response::text(400, format!("read error: {e}\n")))?;
        if n == 0 {
            return Err(Response::text(400, "connection closed before a full request head\n"));
        }
        buf.extend_from_slice(&chunk[..n]);
        match parse_head(buf) {
            Ok(Some(head)) => return Ok(head),
            Ok(None) if buf.len() > MAX_HEAD => {
                return Err(Response::text(431, "request head too large\n"));
            }
            Ok(None) => continue,
            Err(e) => return Err(Response::text(400, format!("malformed HTTP request: {e}\n"))),
        }
    }
}

/// A stream that first yields bytes already read from `inner`, then reads `inner` itself.
pub struct Replay {
    prefix: Vec<u8>,
    pos: usize,
    inner: TcpStream,
}

impl AsyncRead for Replay {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, out: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.pos < self.prefix.len() {
            let n = out.remaining().min(self.prefix.len() - self.pos);
            let start = self.pos;
            out.put_slice(&self.prefix[start..start + n]);
            self.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, out)
    }
}

impl AsyncWrite for Replay {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
