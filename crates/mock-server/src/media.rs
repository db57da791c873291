//! The media CDN: encrypted blobs uploaded by clients and served back, on the same port as
//! everything else, over plain HTTP.
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
//! Both clients build `https://` URLs for media. The mock does not speak TLS; clients are
//! pointed at it with their own HTTP hooks (see the crate README): a whatsapp-rust `HttpClient`
//! that sends `https://127.0.0.1:PORT/…` as `http://`, and for Baileys an axios `adapter` in
//! `options` (uploads) and in `downloadMediaMessage`'s options (downloads, which Baileys always
//! addresses to `mmg.whatsapp.net`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::server::lock;

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
        _ => "t62.7118-24",
    }
}

struct Request {
    method: String,
    path: String,
    query: HashMap<String, String>,
    content_length: Option<u64>,
    chunked: bool,
    expect_continue: bool,
    range: Option<String>,
    host: Option<String>,
}

fn parse_request(head: &[u8]) -> Option<Request> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(head).ok()?;
    let header = |name: &str| {
        req.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
    };
    let target = req.path?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
        .collect();
    Some(Request {
        method: req.method?.to_owned(),
        path: path.to_owned(),
        query,
        content_length: header("content-length").and_then(|v| v.parse().ok()),
        chunked: header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")),
        expect_continue: header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")),
        range: header("range"),
        host: header("host"),
    })
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

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        206 => "Partial Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        416 => "Range Not Satisfiable",
        _ => "Internal Server Error",
    }
}

async fn respond_json(stream: &mut TcpStream, status: u16, body: &serde_json::Value) {
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn respond_error(stream: &mut TcpStream, status: u16, code: &str, message: &str) {
    log::debug!("media: {status} {code}: {message}");
    respond_json(stream, status, &serde_json::json!({ "error": code, "message": message })).await;
}

/// Serves one media request. `buf` is what the front door read so far (the head and maybe the
/// start of the body), `head_len` where the head ends.
pub async fn serve(mut stream: TcpStream, buf: Vec<u8>, head_len: usize, state: &crate::server::ServerState) {
    let Some(req) = parse_request(&buf[..head_len]) else {
        respond_error(&mut stream, 400, "bad-request", "malformed request head").await;
        return;
    };
    match req.method.as_str() {
        "POST" if req.path == TAMPER_PATH => tamper(stream, req, &state.media).await,
        "POST" => upload(stream, req, buf[head_len..].to_vec(), state).await,
        "GET" | "HEAD" => download(stream, req, &state.media).await,
        _ => respond_error(&mut stream, 405, "method-not-allowed", "GET, HEAD or POST").await,
    }
}

/// Test hook: `POST /admin/media/tamper?path=<direct_path>` flips one bit in the middle of a
/// stored blob, so a client's download must notice (MAC / hash mismatch). 404 unknown path.
pub const TAMPER_PATH: &str = "/admin/media/tamper";

async fn tamper(mut stream: TcpStream, req: Request, store: &MediaStore) {
    let Some(path) = req.query.get("path").map(|p| p.split('?').next().unwrap_or_default().to_owned()) else {
        respond_error(&mut stream, 400, "bad-request", "give the blob's direct path as ?path=").await;
        return;
    };
    let blob = lock(&store.by_path).get(&path).cloned();
    let Some(blob) = blob else {
        respond_error(&mut stream, 404, "not-found", "no media at this path").await;
        return;
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
            respond_json(&mut stream, 200, &serde_json::json!({ "tampered": path, "offset": offset })).await
        }
        Err(e) => respond_error(&mut stream, 500, "io", &e.to_string()).await,
    }
}

fn public_url(req: &Request, state: &crate::server::ServerState, direct_path: &str) -> String {
    let host = req.host.clone().unwrap_or_else(|| format!("127.0.0.1:{}", state.port));
    format!("https://{host}{direct_path}")
}

async fn upload(mut stream: TcpStream, req: Request, prefix: Vec<u8>, state: &crate::server::ServerState) {
    let store = &state.media;
    if req.query.get("auth").map(String::as_str) != Some(store.auth()) {
        respond_error(&mut stream, 401, "unauthorized", "missing or wrong media auth (ask media_conn)").await;
        return;
    }
    // /mms/<kind>/<token> or /product/image/<token>
    let mut segs = req.path.trim_start_matches('/').split('/');
    let (_, kind, token) = (segs.next(), segs.next().unwrap_or(""), segs.next().unwrap_or(""));
    let token = req.query.get("token").cloned().unwrap_or_else(|| token.to_owned());
    let Ok(declared) = base64::prelude::BASE64_URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')) else {
        respond_error(&mut stream, 400, "bad-token", "token is not the base64url SHA-256 of the file").await;
        return;
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
        respond_json(&mut stream, 200, &body).await;
        return;
    }
    if req.query.get("file_offset").is_some_and(|o| o != "0") {
        // We never report a partial upload, so a client has no reason to resume one.
        respond_error(&mut stream, 400, "bad-offset", "no partial upload to resume").await;
        return;
    }
    if !req.chunked && req.content_length.is_none() {
        respond_error(&mut stream, 411, "length-required", "Content-Length or chunked body required").await;
        return;
    }
    if req.content_length.is_some_and(|n| n > MAX_UPLOAD) {
        respond_error(&mut stream, 413, "too-large", "upload larger than 2 GiB").await;
        return;
    }
    if req.expect_continue && stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await.is_err() {
        return;
    }

    let n = store.next.fetch_add(1, Ordering::Relaxed);
    let file_path = store.dir().join(format!("{n}.enc"));
    let received = {
        let (read_half, _) = stream.split();
        let body = std::io::Cursor::new(prefix).chain(read_half);
        receive_body(body, &req, &file_path).await
    };
    let (len, digest) = match received {
        Ok(r) => r,
        Err(e) => {
            let _ = tokio::fs::remove_file(&file_path).await;
            respond_error(&mut stream, 400, "bad-body", &e).await;
            return;
        }
    };
    if digest.as_slice() != declared.as_slice() {
        let _ = tokio::fs::remove_file(&file_path).await;
        respond_error(&mut stream, 400, "hash-mismatch", "the body's SHA-256 does not match the token").await;
        return;
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
    respond_json(&mut stream, 200, &body).await;
}

/// Streams the request body into `file`, hashing it; returns (length, SHA-256).
async fn receive_body<R: AsyncRead + Unpin>(body: R, req: &Request, file: &Path) -> Result<(u64, Vec<u8>), String> {
    let mut out = tokio::fs::File::create(file).await.map_err(|e| format!("temp file: {e}"))?;
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    let mut reader = BufReader::with_capacity(CHUNK, body);
    let mut chunk = vec![0u8; CHUNK];
    if req.chunked {
        loop {
            let mut line = Vec::new();
            reader.read_until(b'\n', &mut line).await.map_err(|e| e.to_string())?;
            let line = String::from_utf8_lossy(&line);
            let size_hex = line.trim().split(';').next().unwrap_or("");
            let size = u64::from_str_radix(size_hex, 16).map_err(|_| format!("bad chunk size {size_hex:?}"))?;
            if size == 0 {
                // Trailers until an empty line.
                loop {
                    let mut t = Vec::new();
                    let n = reader.read_until(b'\n', &mut t).await.map_err(|e| e.to_string())?;
                    if n == 0 || t == b"\r\n" || t == b"\n" {
                        break;
                    }
                }
                break;
            }
            total += size;
            if total > MAX_UPLOAD {
                return Err("upload larger than 2 GiB".into());
            }
            copy_exact(&mut reader, &mut out, &mut hasher, &mut chunk, size).await?;
            let mut crlf = Vec::new();
            reader.read_until(b'\n', &mut crlf).await.map_err(|e| e.to_string())?;
        }
    } else {
        let size = req.content_length.unwrap_or(0);
        copy_exact(&mut reader, &mut out, &mut hasher, &mut chunk, size).await?;
        total = size;
    }
    out.flush().await.map_err(|e| e.to_string())?;
    Ok((total, hasher.finalize().to_vec()))
}

async fn copy_exact<R: AsyncRead + Unpin>(
    reader: &mut R,
    out: &mut tokio::fs::File,
    hasher: &mut Sha256,
    buf: &mut [u8],
    mut remaining: u64,
) -> Result<(), String> {
    while remaining > 0 {
        let want = buf.len().min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = reader.read(&mut buf[..want]).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err(format!("body ended {remaining} bytes early"));
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).await.map_err(|e| format!("temp file: {e}"))?;
        remaining -= n as u64;
    }
    Ok(())
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

async fn download(mut stream: TcpStream, req: Request, store: &MediaStore) {
    let blob = lock(&store.by_path).get(&req.path).cloned();
    let Some(blob) = blob else {
        respond_error(&mut stream, 404, "not-found", "no media at this path").await;
        return;
    };
    let (status, start, end) = match parse_range(req.range.as_deref(), blob.len) {
        Ok(None) => (200, 0, blob.len.saturating_sub(1)),
        Ok(Some((s, e))) => (206, s, e),
        Err(()) => {
            let head = format!(
                "HTTP/1.1 416 {}\r\nContent-Range: bytes */{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                reason(416),
                blob.len
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.shutdown().await;
            return;
        }
    };
    let count = if blob.len == 0 { 0 } else { end - start + 1 };
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/octet-stream\r\nContent-Length: {count}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n",
        reason(status)
    );
    if status == 206 {
        head.push_str(&format!("Content-Range: bytes {start}-{end}/{}\r\n", blob.len));
    }
    head.push_str("\r\n");
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    if req.method == "GET" && count > 0 {
        if let Err(e) = send_file(&mut stream, &blob.file, start, count).await {
            log::debug!("media: sending {} failed: {e}", blob.direct_path);
        }
    }
    let _ = stream.shutdown().await;
}

async fn send_file(stream: &mut TcpStream, file: &Path, start: u64, count: u64) -> std::io::Result<()> {
    let mut f = tokio::fs::File::open(file).await?;
    f.seek(std::io::SeekFrom::Start(start)).await?;
    let mut limited = f.take(count);
    tokio::io::copy(&mut limited, stream).await?;
    Ok(())
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
