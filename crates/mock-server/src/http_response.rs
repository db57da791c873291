//! What the HTTP front answers with: the admin API's [`Response`], and the body type every
//! response (admin, media CDN, WebSocket upgrade) is sent with. A leaf: it imports nothing from
//! the crate, so features can answer admin requests without depending on the HTTP front.

use std::convert::Infallible;
use std::io;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_TYPE};

/// Every response body: a whole buffer, or a file streamed by the media CDN.
pub type Body = UnsyncBoxBody<Bytes, io::Error>;

/// A whole-buffer body.
pub fn full_body(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never: Infallible| match never {}).boxed_unsync()
}

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

    pub fn into_hyper(self) -> hyper::Response<Body> {
        let mut resp = hyper::Response::new(full_body(self.body));
        *resp.status_mut() = hyper::StatusCode::from_u16(self.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
        resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        resp
    }
}

/// A route's way of saying "close the connection without answering" (hyper drops the
/// connection when the service fails), used by the `close` connection-refusal fault.
#[derive(Debug)]
pub struct CloseWithoutAnswer;

impl std::fmt::Display for CloseWithoutAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed without an answer (fault injection)")
    }
}

impl std::error::Error for CloseWithoutAnswer {}
