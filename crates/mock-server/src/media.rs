//! The media CDN: encrypted blobs uploaded by clients and served back, on the same port as
//! everything else (plain HTTP, or HTTPS with `--tls`).
//!
//! Upload: `POST /mms/<image|video|audio|document|…>/<TOKEN>?auth=AUTH&token=TOKEN` where
//! `TOKEN` is the base64url SHA-256 of the encrypted file (checked: a mismatch is refused) and
//! `AUTH` the `media_conn` auth token. The body (`Content-Length` or chunked) is streamed to a
//! file in a temp directory, never held in memory. The answer is WhatsApp's JSON
//! `{"url":"https://HOST/…","direct_path":"/v/t62.…/….enc","handle":…}`. `&resume=1` asks whether
//! the file is already there (`{"resume":"complete",url,direct_path}`, whatsapp-rust does this
//! for files of 5 MiB and more).
//!
//! Download: `GET <direct_path>[?…]` streams the blob back; `Range: bytes=a-b` / `a-` / `-n`
//! gets `206` with `Content-Range`, an unsatisfiable range `416`. No auth on download: the
//! direct path is the capability, as on WhatsApp's CDN.
//!
//! Both clients build `https://` URLs for media. With `--tls` the mock serves this CDN over
//! HTTPS on its own port, and `media_conn` names `127.0.0.1:PORT`, so a client trusting the
//! mock's certificate follows the real URLs. Without TLS, clients are pointed at it with their
//! own HTTP hooks (see the crate README): a whatsapp-rust `HttpClient` that sends
//! `https://127.0.0.1:PORT/…` as `http://`, and for Baileys an axios `adapter` in `options`
//! (uploads) and in `downloadMediaMessage`'s options (downloads, which Baileys always addresses
//! to `mmg.whatsapp.net`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderValue, ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, HOST, RANGE, TRANSFER_ENCODING};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::http_response::{full_body, Body};
use crate::locking::lock;

/// What the media CDN needs of the server: the store, and the port its URLs point at.
pub trait MediaState {
    fn media(&self) -> &MediaStore;
    fn port(&self) -> &u16;
}

/// Largest upload accepted (WhatsApp's document limit).
const MAX_UPLOAD: u64 = 2 * 1024 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// One stored blob.
#[derive(Clone, Debug)]
struct Blob {
    file: PathBuf,
    len: u64,
    direct_path: String,
}

/// Where blobs live: a temp directory owned by this server (removed when it is dropped).
pub struct MediaStore {
    dir: PathBuf,
    auth: String,
    next: AtomicU64,
    /// direct path (no query) → blob.
    by_path: Mutex<HashMap<String, Blob>>,
    /// base64url enc-SHA-256 → direct path, for `resume=1` and duplicate uploads.
    by_hash: Mutex<HashMap<String, String>>,
}

impl MediaStore {
    pub fn new(port: u16) -> std::io::Result<Self> {
        let dir =
            std::env::temp_dir().join(format!("baileys-shard-mock-media-{}-{port}-{:08x}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            auth: format!("mock-media-{:032x}", rand::random::<u128>()),
            next: AtomicU64::new(1),
            by_path: Mutex::new(HashMap::new()),
            by_hash: Mutex::new(HashMap::new()),
        })
    }

    /// The auth token `media_conn` hands out and uploads must carry.
    pub fn auth(&self) -> &str {
        &self.auth
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores a blob the server itself made (the mock phone's history), as if it were uploaded;
    /// returns its direct path.
    pub fn put(&self, kind: &str, bytes: &[u8]) -> std::io::Result<String> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let file = self.dir.join(format!("{n}.enc"));
        std::fs::write(&file, bytes)?;
        let direct_path = format!("/v/{}/{:016x}{n:04}.enc", cdn_segment(kind), rand::random::<u64>());
        let blob = Blob { file, len: bytes.len() as u64, direct_path: direct_path.clone() };
        lock(&self.by_path).insert(direct_path.clone(), blob);
        Ok(direct_path)
    }

    /// Number of stored blobs (for tests).
    pub fn blob_count(&self) -> usize {
        lock(&self.by_path).len()
    }
}

impl Drop for MediaStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the media CDN serves this request (the front door asks before its admin routing).
pub fn is_media_request(method: &str, path: &str, store: &MediaStore) -> bool {
    match method {
        // `/product/image/<token>`: catalog pictures, uploaded unencrypted.
        "POST" => path.starts_with("/mms/") || path.starts_with("/product/image/") || path == TAMPER_PATH,
        "GET" | "HEAD" => lock(&store.by_path).contains_key(path) || path.starts_with("/v/t62."),
        _ => false,
    }
}

/// WhatsApp's CDN path segment per media kind (cosmetic, but it makes paths look real).
fn cdn_segment(kind: &str) -> &'static str {
    match kind {
        "video" => "t62.7161-24",
        "audio" => "t62.7114-24",
        "document" => "t62.7119-24",
        "sticker" => "t62.15575-24",
        "md-msg-hist" => "t62.36145-24",
        _ => "t62.7118-24",
    }
}

/// The parts of a media request the CDN looks at.
struct Request {
    method: String,
    path: String,
    query: HashMap<String, String>,
    content_length: Option<u64>,
    chunked: bool,
    range: Option<String>,
    host: Option<String>,
}

impl Request {
    fn from_parts(parts: &hyper::http::request::Parts) -> Self {
        let header = |name| parts.headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(|v| v.trim().to_owned());
        let query = parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
            .filter(|(k, _)| !k.is_empty())
            .map(|(k, v)| (k.to_owned(), percent_decode(v)))
            .collect();
        Request {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query,
            content_length: header(CONTENT_LENGTH).and_then(|v| v.parse().ok()),
            chunked: header(TRANSFER_ENCODING).is_some_and(|v| v.to_ascii_lowercase().contains("chunked")),
            range: header(RANGE),
            host: header(HOST),
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn status(code: u16) -> hyper::StatusCode {
    hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR)
}

fn respond_json(code: u16, body: &serde_json::Value) -> hyper::Response<Body> {
    let mut resp = hyper::Response::new(full_body(body.to_string()));
    *resp.status_mut() = status(code);
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn respond_error(code: u16, error: &str, message: &str) -> hyper::Response<Body> {
    log::debug!("media: {code} {error}: {message}");
    respond_json(code, &serde_json::json!({ "error": error, "message": message }))
}

/// Serves one media request (the front door checked [`is_media_request`]).
pub async fn serve(req: hyper::Request<Incoming>, state: &impl MediaState) -> hyper::Response<Body> {
    let (parts, body) = req.into_parts();
    let req = Request::from_parts(&parts);
    match req.method.as_str() {
        "POST" if req.path == TAMPER_PATH => tamper(req, state.media()).await,
        "POST" => upload(req, body, state).await,
        "GET" | "HEAD" => download(req, state.media()).await,
        _ => respond_error(405, "method-not-allowed", "GET, HEAD or POST"),
    }
}

/// Test hook: `POST /admin/media/tamper?path=<direct_path>` flips one bit in the middle of a
/// stored blob, so a client's download must notice (MAC / hash mismatch). 404 unknown path.
pub const TAMPER_PATH: &str = "/admin/media/tamper";

async fn tamper(req: Request, store: &MediaStore) -> hyper::Response<Body> {
    let Some(path) = req.query.get("path").map(|p| p.split('?').next().unwrap_or_default().to_owned()) else {
        return respond_error(400, "bad-request", "give the blob's direct path as ?path=");
    };
    let blob = lock(&store.by_path).get(&path).cloned();
    let Some(blob) = blob else {
        return respond_error(404, "not-found", "no media at this path");
    };
    let offset = blob.len / 2;
    let result = async {
        let mut f = tokio::fs::OpenOptions::new().read(true).write(true).open(&blob.file).await?;
        f.seek(std::io::SeekFrom::Start(offset)).await?;
        let mut byte = [0u8; 1];
        f.read_exact(&mut byte).await?;
        f.seek(std::io::SeekFrom::Start(offset)).await?;
        f.write_all(&[byte[0] ^ 0x01]).await?;
        f.flush().await
    }
    .await;
    match result {
        Ok(()) => {
            log::info!("media: tampered with {path} at byte {offset}");
            respond_json(200, &serde_json::json!({ "tampered": path, "offset": offset }))
        }
        Err(e) => respond_error(500, "io", &e.to_string()),
    }
}

fn public_url(req: &Request, state: &impl MediaState, direct_path: &str) -> String {
    let host = req.host.clone().unwrap_or_else(|| format!("127.0.0.1:{}", state.port()));
    format!("https://{host}{direct_path}")
}

async fn upload(req: Request, body: Incoming, state: &impl MediaState) -> hyper::Response<Body> {
    let store = state.media();
    if req.query.get("auth").map(String::as_str) != Some(store.auth()) {
        return respond_error(401, "unauthorized", "missing or wrong media auth (ask media_conn)");
    }
    // /mms/<kind>/<token> or /product/image/<token>
    let mut segs = req.path.trim_start_matches('/').split('/');
    let (_, kind, token) = (segs.next(), segs.next().unwrap_or(""), segs.next().unwrap_or(""));
    let token = req.query.get("token").cloned().unwrap_or_else(|| token.to_owned());
    let Ok(declared) = base64::prelude::BASE64_URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')) else {
        return respond_error(400, "bad-token", "token is not the base64url SHA-256 of the file");
    };
    let token = base64::prelude::BASE64_URL_SAFE_NO_PAD.encode(&declared);

    if req.query.get("resume").map(String::as_str) == Some("1") {
        let known = lock(&store.by_hash).get(&token).cloned();
        let body = match known {
            Some(dp) => serde_json::json!({
                "resume": "complete",
                "url": public_url(&req, state, &dp),
                "direct_path": dp,
            }),
            None => serde_json::json!({ "resume": "0" }),
        };
        return respond_json(200, &body);
    }
    if req.query.get("file_offset").is_some_and(|o| o != "0") {
        // We never report a partial upload, so a client has no reason to resume one.
        return respond_error(400, "bad-offset", "no partial upload to resume");
    }
    if !req.chunked && req.content_length.is_none() {
        return respond_error(411, "length-required", "Content-Length or chunked body required");
    }
    if req.content_length.is_some_and(|n| n > MAX_UPLOAD) {
        return respond_error(413, "too-large", "upload larger than 2 GiB");
    }

    // Polling the body is what makes hyper answer `Expect: 100-continue`.
    let n = store.next.fetch_add(1, Ordering::Relaxed);
    let file_path = store.dir().join(format!("{n}.enc"));
    let (len, digest) = match receive_body(body, &file_path).await {
        Ok(r) => r,
        Err(e) => {
            let _ = tokio::fs::remove_file(&file_path).await;
            return respond_error(400, "bad-body", &e);
        }
    };
    if digest.as_slice() != declared.as_slice() {
        let _ = tokio::fs::remove_file(&file_path).await;
        return respond_error(400, "hash-mismatch", "the body's SHA-256 does not match the token");
    }
    let direct_path = format!("/v/{}/{:016x}{n:04}.enc", cdn_segment(kind), rand::random::<u64>());
    lock(&store.by_path).insert(direct_path.clone(), Blob { file: file_path, len, direct_path: direct_path.clone() });
    lock(&store.by_hash).insert(token.clone(), direct_path.clone());
    log::info!("media: stored {len} bytes ({kind}) at {direct_path}");
    let body = serde_json::json!({
        "url": public_url(&req, state, &direct_path),
        "direct_path": direct_path,
        "handle": token,
    });
    respond_json(200, &body)
}

/// Streams the request body (hyper has undone any chunking) into `file`, hashing it; returns
/// (length, SHA-256).
async fn receive_body(mut body: Incoming, file: &Path) -> Result<(u64, Vec<u8>), String> {
    let mut out = tokio::fs::File::create(file).await.map_err(|e| format!("temp file: {e}"))?;
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("reading the body: {e}"))?;
        let Ok(data) = frame.into_data() else { continue }; // trailers
        total += data.len() as u64;
        if total > MAX_UPLOAD {
            return Err("upload larger than 2 GiB".into());
        }
        hasher.update(&data);
        out.write_all(&data).await.map_err(|e| format!("temp file: {e}"))?;
    }
    out.flush().await.map_err(|e| format!("temp file: {e}"))?;
    Ok((total, hasher.finalize().to_vec()))
}

/// Parses a single `bytes=` range against a blob of `len` bytes: `Ok(None)` = whole file,
/// `Err(())` = unsatisfiable.
fn parse_range(header: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    // Several ranges: serve the first (clients here never ask for more).
    let first = spec.split(',').next().unwrap_or("").trim();
    let (a, b) = first.split_once('-').ok_or(())?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().map_err(|_| ())?;
            if n == 0 || len == 0 {
                return Err(());
            }
            (len.saturating_sub(n), len - 1)
        }
        (s, "") => (s.parse().map_err(|_| ())?, len.saturating_sub(1)),
        (s, e) => {
            let s: u64 = s.parse().map_err(|_| ())?;
            let e: u64 = e.parse().map_err(|_| ())?;
            (s, e.min(len.saturating_sub(1)))
        }
    };
    if len == 0 || start >= len || start > end {
        return Err(());
    }
    Ok(Some((start, end)))
}

async fn download(req: Request, store: &MediaStore) -> hyper::Response<Body> {
    let blob = lock(&store.by_path).get(&req.path).cloned();
    let Some(blob) = blob else {
        return respond_error(404, "not-found", "no media at this path");
    };
    let (code, start, end) = match parse_range(req.range.as_deref(), blob.len) {
        Ok(None) => (200, 0, blob.len.saturating_sub(1)),
        Ok(Some((s, e))) => (206, s, e),
        Err(()) => {
            let mut resp = hyper::Response::new(full_body(""));
            *resp.status_mut() = status(416);
            resp.headers_mut().insert(CONTENT_RANGE, header_value(format!("bytes */{}", blob.len)));
            return resp;
        }
    };
    let count = if blob.len == 0 { 0 } else { end - start + 1 };
    let body = if req.method == "GET" && count > 0 {
        match file_body(&blob.file, start, count).await {
            Ok(b) => b,
            Err(e) => return respond_error(500, "io", &format!("opening {}: {e}", blob.direct_path)),
        }
    } else {
        full_body("")
    };
    let mut resp = hyper::Response::new(body);
    *resp.status_mut() = status(code);
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    // Set even for HEAD (whose body hyper leaves out), so the client learns the size.
    h.insert(CONTENT_LENGTH, HeaderValue::from(count));
    h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if code == 206 {
        h.insert(CONTENT_RANGE, header_value(format!("bytes {start}-{end}/{}", blob.len)));
    }
    resp
}

fn header_value(s: String) -> HeaderValue {
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `count` bytes of `file` from `start`, read in chunks as the client takes them.
async fn file_body(file: &Path, start: u64, count: u64) -> std::io::Result<Body> {
    let mut f = tokio::fs::File::open(file).await?;
    f.seek(std::io::SeekFrom::Start(start)).await?;
    let chunks = futures_util::stream::unfold((f.take(count), false), |(mut reader, done)| async move {
        if done {
            return None;
        }
        let mut buf = vec![0u8; CHUNK];
        match reader.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Frame::data(Bytes::from(buf))), (reader, false)))
            }
            // Ends the body with the error (hyper then drops the connection), then stops.
            Err(e) => Some((Err(e), (reader, true))),
        }
    });
    Ok(BodyExt::boxed_unsync(StreamBody::new(chunks)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=2-5"), 10), Ok(Some((2, 5))));
        assert_eq!(parse_range(Some("bytes=4-"), 10), Ok(Some((4, 9))));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Ok(Some((7, 9))));
        assert_eq!(parse_range(Some("bytes=8-100"), 10), Ok(Some((8, 9))));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=5-2"), 10), Err(()));
        assert_eq!(parse_range(Some("items=1-2"), 10), Ok(None));
    }

    #[test]
    fn query_decoding() {
        assert_eq!(percent_decode("a%2Fb%3D"), "a/b=");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("x%4"), "x%4");
    }
}
