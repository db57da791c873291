//! Downloading the media of a message, as Baileys' `downloadMediaMessage` does, but verified:
//! the file's MAC and both hashes are checked, the path cannot aim the request at another host,
//! and a CDN cannot send more than the message announces.

use std::io::{Read, Write};

use base64::Engine as _;
use wacore::download::{DownloadUtils, MediaHost, MediaRoute};
use wacore::libsignal::crypto::CryptographicHash;
use wacore::net::{HttpClient, HttpRequest};
use whatsapp_rust::download::DownloadParams;

use super::{bad_media, blocking, failed, invalid, MediaHttpClient, MediaKind, CHUNK};
use crate::baileys_value::BValue;
use crate::error::Result;

/// The media of a received (or sent) `WAMessage`, as needed to download it.
#[derive(Debug, Clone)]
pub struct MediaRef {
    pub kind: MediaKind,
    pub(super) direct_path: String,
    pub(super) url: Option<String>,
    pub(super) media_key: Vec<u8>,
    pub(super) file_enc_sha256: Vec<u8>,
    pub(super) file_sha256: Vec<u8>,
    pub(super) file_length: u64,
}

/// Wrappers whose `message` holds the real content (Baileys' `extractMessageContent`).
const WRAPPERS: [&str; 6] = [
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
    "editedMessage",
];

/// Bytes as they reach us: a Buffer, base64 text, `{ type: 'Buffer', data }` or a byte array.
fn bytes_of(value: Option<&BValue>) -> Option<Vec<u8>> {
    match value? {
        BValue::Bytes(b) => Some(b.clone()),
        BValue::String(s) => base64::prelude::BASE64_STANDARD.decode(s).ok(),
        BValue::Array(items) => items
            .iter()
            .map(|i| match i {
                BValue::Int(n) => u8::try_from(*n).ok(),
                BValue::Uint(n) => u8::try_from(*n).ok(),
                _ => None,
            })
            .collect(),
        obj @ BValue::Object(_) if obj.get("type").and_then(BValue::as_str) == Some("Buffer") => bytes_of(obj.get("data")),
        _ => None,
    }
}

/// A 64-bit length: a number, a digit string or a protobufjs `Long` `{ low, high }`.
fn u64_of(value: Option<&BValue>) -> Option<u64> {
    match value? {
        BValue::Int(n) => u64::try_from(*n).ok(),
        BValue::Uint(n) => Some(*n),
        BValue::Float(f) if *f >= 0.0 => Some(*f as u64),
        BValue::String(s) => s.parse().ok(),
        obj @ BValue::Object(_) => {
            let part = |k: &str| match obj.get(k) {
                Some(BValue::Int(n)) => Some(*n as u32),
                Some(BValue::Uint(n)) => Some(*n as u32),
                _ => None,
            };
            Some((u64::from(part("high")?) << 32) | u64::from(part("low")?))
        }
        _ => None,
    }
}

/// The CDN builds its URL as `https://<host><directPath>…`, and the sender of a message chooses
/// its `directPath`: anything but one absolute path would let the sender pick the host the
/// download goes to (`.evil.example/x` → `mmg.whatsapp.net.evil.example`, `@10.0.0.5/x` →
/// a user-info part and another host). `Err` says what is wrong with it.
fn check_direct_path(path: &str) -> std::result::Result<(), &'static str> {
    if !path.starts_with('/') || path.starts_with("//") {
        return Err("must be an absolute path starting with a single /");
    }
    if path.contains("://") {
        return Err("must be a path, not a URL");
    }
    if path.chars().any(|c| matches!(c, '@' | '\\' | '#') || c.is_whitespace() || c.is_control()) {
        return Err("contains a character no WhatsApp media path has (@, \\, #, a space or a control character)");
    }
    if path.len() > 2048 {
        return Err("is longer than any WhatsApp media path");
    }
    Ok(())
}

impl MediaRef {
    /// Finds the media of a `WAMessage` (`{ key, message: { imageMessage: … } }`), looking
    /// through ephemeral / view-once / document-with-caption wrappers.
    pub fn from_wa_message(msg: &BValue) -> Result<MediaRef> {
        let mut message = msg
            .get("message")
            .filter(|m| matches!(m, BValue::Object(_)))
            .ok_or_else(|| invalid("downloadMediaMessage: expected a WAMessage with a message ({ key, message: { imageMessage: … } })"))?;
        for _ in 0..4 {
            match WRAPPERS.iter().find_map(|w| message.get(w).and_then(|m| m.get("message")).filter(|m| matches!(m, BValue::Object(_)))) {
                Some(inner) => message = inner,
                None => break,
            }
        }
        let (kind, media) = MediaKind::ALL
            .into_iter()
            .map(|k| (k, k.message_field()))
            .chain([(MediaKind::Video, "ptvMessage")])
            .find_map(|(k, field)| message.get(field).filter(|m| matches!(m, BValue::Object(_))).map(|m| (k, m)))
            .ok_or_else(|| invalid(format!("downloadMediaMessage: the message has no media (content keys {:?})", message.keys())))?;
        let field = kind.message_field();
        let need = |name: &str| {
            bytes_of(media.get(name)).ok_or_else(|| invalid(format!("downloadMediaMessage: {field}.{name} is missing or not bytes")))
        };
        let url = media.get("url").and_then(BValue::as_str).filter(|u| !u.is_empty()).map(str::to_owned);
        let direct_path = match media.get("directPath").and_then(BValue::as_str).filter(|p| !p.is_empty()) {
            Some(p) => p.to_owned(),
            None => url
                .as_deref()
                .and_then(|u| u.split_once("://"))
                .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].split('?').next().unwrap_or_default().to_owned()))
                .ok_or_else(|| invalid(format!("downloadMediaMessage: {field} has neither directPath nor url")))?,
        };
        check_direct_path(&direct_path).map_err(|why| invalid(format!("downloadMediaMessage: {field}.directPath {why}")))?;
        Ok(MediaRef {
            kind,
            direct_path,
            url,
            media_key: need("mediaKey")?,
            file_enc_sha256: need("fileEncSha256")?,
            file_sha256: need("fileSha256")?,
            file_length: u64_of(media.get("fileLength")).unwrap_or(0),
        })
    }

    /// Plaintext size the message announces.
    pub fn file_length(&self) -> u64 {
        self.file_length
    }

    fn params(&self) -> DownloadParams {
        DownloadParams::encrypted(
            self.direct_path.clone(),
            &self.media_key,
            &self.file_sha256,
            &self.file_enc_sha256,
            self.file_length,
            self.kind.media_type(),
        )
    }

    /// The URLs to try, in order: the test server when given; otherwise the message's own URL
    /// when it is on WhatsApp's CDN (as Baileys does), then the CDN hosts.
    fn urls(&self, plain_host: Option<&str>) -> Result<Vec<String>> {
        let route = match plain_host {
            Some(host) => MediaRoute::unauthenticated(vec![MediaHost::new(host)]),
            None => MediaRoute::default_hosts(),
        };
        let mut urls: Vec<String> = DownloadUtils::prepare_download_requests(&self.params(), &route)
            .map_err(|e| invalid(format!("downloadMediaMessage: {e}")))?
            .into_iter()
            .map(|r| r.url)
            .collect();
        if plain_host.is_none() {
            if let Some(url) = self.url.as_ref().filter(|u| u.starts_with("https://mmg.whatsapp.net/")) {
                urls.insert(0, url.clone());
            }
        }
        Ok(urls)
    }

    /// Downloads, decrypts and verifies the media into `sink`, streaming (blocking: run it off
    /// the async threads). Bytes are written before the MAC at the end can be checked; on
    /// `MEDIA_INVALID` everything written must be discarded. `plain_host`: a plain-HTTP test
    /// CDN (`host:port`, the mock) instead of WhatsApp's.
    pub fn download_blocking<W: Write>(&self, plain_host: Option<&str>, sink: &mut W) -> Result<u64> {
        let http = MediaHttpClient::with_plain_host(plain_host.map(str::to_owned));
        let mut last = None;
        for url in self.urls(plain_host)? {
            let response = match http.execute_streaming(HttpRequest::get(url.clone())) {
                Ok(r) => r,
                Err(e) => {
                    last = Some(failed(format!("downloading the media failed: {e}")));
                    continue;
                }
            };
            if !(200..300).contains(&response.status_code) {
                last = Some(failed(format!("downloading the media failed: the CDN answered HTTP {}", response.status_code)));
                continue;
            }
            return self.decrypt_verified(response.body, sink);
        }
        Err(last.unwrap_or_else(|| failed("downloading the media failed: no media host")))
    }

    pub(super) fn decrypt_verified<W: Write>(&self, body: impl Read, sink: &mut W) -> Result<u64> {
        let hash = || CryptographicHash::new("SHA-256").map_err(|e| failed(format!("sha-256: {e}")));
        // AES-CBC adds 1 to 16 bytes of padding, then a 10-byte MAC: a CDN that sends more than
        // that is not sending this file, and is not read into memory without end.
        let allowed = (self.file_length > 0).then(|| self.file_length + 16 + 10);
        let mut reader = HashingReader { inner: body, hash: hash()?, io_error: None, allowed, read: 0 };
        let mut writer = HashingWriter { inner: sink, hash: hash()? };
        let written = DownloadUtils::decrypt_stream_to_writer(&mut reader, &self.media_key, self.kind.media_type(), &mut writer);
        if allowed.is_some_and(|allowed| reader.read > allowed) {
            return Err(bad_media(format!(
                "the CDN sent more than the {} bytes the message's {} announces (fileLength): it is not that file",
                self.file_length,
                self.kind.content_key()
            )));
        }
        if let Some(e) = reader.io_error.take() {
            return Err(failed(format!("downloading the media failed: {e}")));
        }
        let written = written.map_err(|e| {
            bad_media(format!(
                "the downloaded {} does not verify ({e}): it was altered, or the message's mediaKey is wrong",
                self.kind.content_key()
            ))
        })?;
        if reader.hash.finalize() != self.file_enc_sha256 {
            return Err(bad_media(format!(
                "the downloaded {} does not match the message's fileEncSha256: it was altered",
                self.kind.content_key()
            )));
        }
        if writer.hash.finalize() != self.file_sha256 {
            return Err(bad_media(format!("the decrypted {} does not match the message's fileSha256", self.kind.content_key())));
        }
        Ok(written)
    }
}

struct HashingReader<R> {
    inner: R,
    hash: CryptographicHash,
    /// A transport error, told apart from a verification failure.
    io_error: Option<std::io::Error>,
    /// The most bytes the file can have; reading stops just past it.
    allowed: Option<u64>,
    read: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.allowed.is_some_and(|allowed| self.read > allowed) {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "more bytes than the message announces"));
        }
        match self.inner.read(buf) {
            Ok(n) => {
                self.read += n as u64;
                self.hash.update(&buf[..n]);
                Ok(n)
            }
            Err(e) => {
                let copy = std::io::Error::new(e.kind(), e.to_string());
                self.io_error = Some(e);
                Err(copy)
            }
        }
    }
}

struct HashingWriter<'a, W> {
    inner: &'a mut W,
    hash: CryptographicHash,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Downloads the whole media into memory (verified).
pub async fn download_to_vec(media: MediaRef, plain_host: Option<String>) -> Result<Vec<u8>> {
    blocking(move || {
        let mut out = Vec::with_capacity(usize::try_from(media.file_length.min(64 << 20)).unwrap_or(0));
        media.download_blocking(plain_host.as_deref(), &mut out)?;
        Ok(out)
    })
    .await
}

/// Downloads the media as a stream of plaintext chunks; the last item is an error when the
/// download fails or does not verify (then the chunks already received must be discarded).
pub fn download_stream(media: MediaRef, plain_host: Option<String>) -> tokio::sync::mpsc::Receiver<Result<Vec<u8>>> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let mut sink = ChannelWriter { tx: tx.clone(), buf: Vec::with_capacity(CHUNK) };
        let result = media
            .download_blocking(plain_host.as_deref(), &mut sink)
            .and_then(|_| sink.send_buffered().map_err(|_| failed("the download stream was closed")));
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

/// Hands plaintext to the stream in chunks; a closed stream stops the download.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Vec<u8>>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send_buffered(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "download stream closed"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send_buffered()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn s(v: &str) -> BValue {
        BValue::String(v.to_owned())
    }

    #[test]
    fn a_direct_path_cannot_aim_the_download_elsewhere() {
        for good in ["/v/t62.7118-24/abc.enc?ccb=11-4&oh=01_x&oe=68", "/mms/image/abc", "/o1/v/t24/f2/m269/AQN"] {
            assert_eq!(check_direct_path(good), Ok(()), "{good}");
        }
        for bad in [
            ".evil.example/x",
            "@10.0.0.5/x",
            "evil.example/x",
            "//evil.example/x",
            "/x@evil.example/y",
            "/redirect?to=https://evil.example/",
            "/v/x\\..\\y",
            "/v/x y",
            "/v/x\r\nHost: evil",
            "/v/x#frag",
        ] {
            assert!(check_direct_path(bad).is_err(), "{bad:?} was taken");
        }
        assert!(check_direct_path(&format!("/{}", "a".repeat(3000))).is_err());

        let hostile = |field: &str, value: &str| {
            let media = BValue::obj([
                (field, s(value)),
                ("mediaKey", s("AAAA")),
                ("fileEncSha256", BValue::Bytes(vec![1; 32])),
                ("fileSha256", BValue::Bytes(vec![2; 32])),
            ]);
            MediaRef::from_wa_message(&BValue::obj([("message", BValue::obj([("imageMessage", media)]))])).unwrap_err()
        };
        let err = hostile("directPath", ".evil.example/x");
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("imageMessage.directPath"), "{}", err.message);
        // Without a directPath, the path comes from the url, and is checked the same way.
        assert_eq!(hostile("url", "https://mmg.whatsapp.net//evil.example/x").code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn wa_messages_are_read_through_wrappers() {
        let media = BValue::obj([
            ("url", s("https://127.0.0.1:1/v/t62.7118-24/abc.enc?x=1")),
            ("mediaKey", s("AAAA")),
            ("fileEncSha256", BValue::Bytes(vec![1; 32])),
            ("fileSha256", BValue::obj([("type", s("Buffer")), ("data", BValue::Array(vec![BValue::Int(1), BValue::Int(2)]))])),
            ("fileLength", BValue::obj([("low", BValue::Int(5)), ("high", BValue::Int(0)), ("unsigned", BValue::Bool(true))])),
        ]);
        let msg = BValue::obj([(
            "message",
            BValue::obj([("ephemeralMessage", BValue::obj([("message", BValue::obj([("imageMessage", media)]))]))]),
        )]);
        let r = MediaRef::from_wa_message(&msg).unwrap();
        assert_eq!(r.kind, MediaKind::Image);
        assert_eq!(r.direct_path, "/v/t62.7118-24/abc.enc");
        assert_eq!(r.media_key, vec![0, 0, 0]);
        assert_eq!(r.file_sha256, vec![1, 2]);
        assert_eq!(r.file_length, 5);
        let text = BValue::obj([("message", BValue::obj([("conversation", s("hi"))]))]);
        assert!(MediaRef::from_wa_message(&text).unwrap_err().message.contains("no media"));
    }
}
