//! Media messages: `sendMessage` with `image` / `video` / `audio` / `document` / `sticker`, and
//! downloading (decrypting, verifying) the media of a received message.
//!
//! The crypto is the engine's: `wacore::upload::MediaEncryptor` (AES-256-CBC + truncated
//! HMAC-SHA256, keys HKDF-expanded from the media key) on the way out, and
//! `wacore::download::DownloadUtils::decrypt_stream_to_writer` on the way in. This module only
//! decides where bytes come from and go to, so a file of any size is never held in memory:
//!
//! - a `Buffer` is already in memory: it is encrypted into memory and uploaded from there;
//! - a file path, an http(s) URL and a JS stream (fed chunk by chunk through a [`MediaSpool`])
//!   are encrypted while they are read into a temporary file (as Baileys does), which is then
//!   uploaded with `Client::upload_stream` and removed;
//! - a download is streamed from the CDN through the decryptor into any `Write`, with the MAC,
//!   the ciphertext hash (`fileEncSha256`) and the plaintext hash (`fileSha256`) checked: a
//!   tampered file is `MEDIA_INVALID`, unlike Baileys, which does not check the MAC.
//!
//! WhatsApp's media URLs are `https://`. A test server (the mock) speaks plain HTTP on its chat
//! port; [`MediaHttpClient`] sends `https://` requests for exactly that `host:port` as
//! `http://` and touches nothing else.

use std::collections::HashMap;
use std::io::{BufWriter, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use base64::Engine as _;
use wacore::download::MediaType;
use wacore::net::{HttpClient, HttpRequest, HttpResponse, StreamingHttpResponse, UploadBody};
use wacore::upload::{EncryptedMediaInfo, MediaEncryptor, UploadSource};
use wacore_binary::Jid;
use whatsapp_rust::Client;
use whatsapp_rust_ureq_http_client::UreqHttpClient;

use crate::baileys_value::BValue;
use crate::content::as_count;
use crate::error::{ErrorCode, Result, ShardError};
use crate::proxy::Proxy;
use crate::thumbnail;

mod download;
pub use download::{download_stream, download_to_vec, MediaRef};

/// Read and write size while streaming media.
const CHUNK: usize = 64 * 1024;

/// The media kinds `sendMessage` accepts, by their content key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Sticker,
}

impl MediaKind {
    pub const ALL: [MediaKind; 5] = [MediaKind::Image, MediaKind::Video, MediaKind::Audio, MediaKind::Document, MediaKind::Sticker];

    /// The key in Baileys' `AnyMessageContent` (`{ image: ... }`).
    pub fn content_key(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }

    /// The field of `proto.Message` carrying it.
    pub fn message_field(self) -> &'static str {
        match self {
            MediaKind::Image => "imageMessage",
            MediaKind::Video => "videoMessage",
            MediaKind::Audio => "audioMessage",
            MediaKind::Document => "documentMessage",
            MediaKind::Sticker => "stickerMessage",
        }
    }

    /// The engine's media type: it picks the HKDF info of the media keys and the upload path.
    pub fn media_type(self) -> MediaType {
        match self {
            MediaKind::Image => MediaType::Image,
            MediaKind::Video => MediaType::Video,
            MediaKind::Audio => MediaType::Audio,
            MediaKind::Document => MediaType::Document,
            MediaKind::Sticker => MediaType::Sticker,
        }
    }

    /// Baileys' `MIMETYPE_MAP`, used when the content names no `mimetype`.
    fn default_mimetype(self) -> &'static str {
        match self {
            MediaKind::Image => "image/jpeg",
            MediaKind::Video => "video/mp4",
            MediaKind::Audio => "audio/ogg; codecs=opus",
            MediaKind::Document => "application/pdf",
            MediaKind::Sticker => "image/webp",
        }
    }

    pub fn from_content_key(key: &str) -> Option<MediaKind> {
        MediaKind::ALL.into_iter().find(|k| k.content_key() == key)
    }

    /// The media kind of `sendMessage` content, if it is a media message.
    pub fn of_content(content: &BValue) -> Option<MediaKind> {
        MediaKind::ALL.into_iter().find(|k| content.get(k.content_key()).is_some_and(|v| *v != BValue::Null))
    }
}

fn invalid(message: impl Into<String>) -> ShardError {
    ShardError::new(ErrorCode::InvalidArgument, message)
}

fn failed(message: impl Into<String>) -> ShardError {
    ShardError::new(ErrorCode::MediaFailed, message)
}

fn bad_media(message: impl Into<String>) -> ShardError {
    ShardError::new(ErrorCode::MediaInvalid, message)
}

/// Where the bytes of a media message come from.
#[derive(Clone, PartialEq)]
pub enum MediaSource {
    /// A `Buffer` (already in memory).
    Bytes(bytes::Bytes),
    /// `{ url: '/path/to/file' }`.
    Path(PathBuf),
    /// `{ url: 'https://…' }`.
    Url(String),
    /// A JS stream, already encrypted into a [`MediaSpool`] and registered under this token.
    Spool(String),
}

impl std::fmt::Debug for MediaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MediaSource::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            MediaSource::Path(p) => write!(f, "Path({})", p.display()),
            MediaSource::Url(u) => write!(f, "Url({u})"),
            MediaSource::Spool(t) => write!(f, "Spool({t})"),
        }
    }
}

impl MediaSource {
    fn from_baileys(value: &BValue, path: &str) -> Result<MediaSource> {
        match value {
            BValue::Bytes(b) => Ok(MediaSource::Bytes(bytes::Bytes::from(b.clone()))),
            BValue::Object(_) => {
                if let Some(url) = value.get("url").filter(|u| **u != BValue::Null) {
                    let url = url.as_str().ok_or_else(|| invalid(format!("{path}.url must be a file path or an http(s) URL string")))?;
                    return Ok(if url.starts_with("http://") || url.starts_with("https://") {
                        MediaSource::Url(url.to_owned())
                    } else {
                        let file = url.strip_prefix("file://").unwrap_or(url);
                        if file.is_empty() {
                            return Err(invalid(format!("{path}.url is empty")));
                        }
                        MediaSource::Path(PathBuf::from(file))
                    });
                }
                if let Some(token) = value.get("spool").and_then(BValue::as_str) {
                    return Ok(MediaSource::Spool(token.to_owned()));
                }
                if value.get("stream").is_some() {
                    return Err(invalid(format!(
                        "{path}.stream must be read by sock.sendMessage (pass the content to sock.sendMessage, not to the native addon)"
                    )));
                }
                Err(invalid(format!("{path} must be a Buffer, {{ url }} (a file path or an http(s) URL) or {{ stream }}")))
            }
            _ => Err(invalid(format!("{path} must be a Buffer, {{ url }} (a file path or an http(s) URL) or {{ stream }}"))),
        }
    }
}

/// What the CDN and the crypto produced for one upload: the fields Baileys puts in front of the
/// content's own fields.
#[derive(Debug, Clone, PartialEq)]
struct Uploaded {
    url: String,
    direct_path: String,
    media_key: Vec<u8>,
    file_enc_sha256: Vec<u8>,
    file_sha256: Vec<u8>,
    file_length: u64,
    media_key_timestamp: i64,
}

/// A media message to send: its kind, its source, and the content's other fields (`caption`,
/// `mimetype`, `fileName`, `ptt`, `seconds`, `gifPlayback`, …), which go into the message as
/// Baileys' `prepareWAMessageMedia` puts them (unknown ones are ignored by the encoder, as
/// protobufjs' `fromObject` ignores them).
#[derive(Debug, Clone, PartialEq)]
pub struct MediaContent {
    pub kind: MediaKind,
    pub source: MediaSource,
    fields: BValue,
    mentions: Vec<Jid>,
    uploaded: Option<Uploaded>,
}

impl MediaContent {
    /// Reads `{ <kind>: Buffer | { url } | { spool }, caption?, mimetype?, fileName?, ... }`.
    pub fn from_baileys(kind: MediaKind, content: &BValue, mentions: Vec<Jid>) -> Result<MediaContent> {
        let key = kind.content_key();
        let source = MediaSource::from_baileys(content.get(key).unwrap_or(&BValue::Null), &format!("content.{key}"))?;
        let mut fields = BValue::object();
        if let BValue::Object(entries) = content {
            for (k, v) in entries {
                if k != key && k != "mentions" && *v != BValue::Null {
                    fields.set(k, v.clone());
                }
            }
        }
        for text_field in ["caption", "mimetype", "fileName"] {
            if fields.get(text_field).is_some_and(|v| v.as_str().is_none()) {
                return Err(invalid(format!("content.{text_field} must be a string")));
            }
        }
        if fields.get("mimetype").is_none() {
            fields.set("mimetype", BValue::String(kind.default_mimetype().to_owned()));
        }
        if kind == MediaKind::Document && fields.get("fileName").is_none() {
            fields.set("fileName", BValue::String("file".to_owned()));
        }
        Ok(MediaContent { kind, source, fields, mentions, uploaded: None })
    }

    /// Encrypts the media with the keys of `media_type` (the kind's own unless Baileys'
    /// `mediaTypeOverride` names another): a `Buffer` into memory, anything else into a
    /// temporary file as it is read.
    async fn encrypt(&self, media_type: MediaType) -> Result<(UploadBytes, EncryptedMediaInfo)> {
        let what = self.kind.content_key();
        let kind = self.kind;
        Ok(match &self.source {
            MediaSource::Bytes(bytes) => {
                let bytes = bytes.clone();
                blocking(move || encrypt_in_memory(&bytes, media_type)).await?
            }
            MediaSource::Path(path) => {
                let path = path.clone();
                let spooled = blocking(move || {
                    let file = std::fs::File::open(&path)
                        .map_err(|e| invalid(format!("content.{what}.url: cannot read {}: {e}", path.display())))?;
                    spool_reader(file, kind, media_type)
                })
                .await?;
                (UploadBytes::File(spooled.file), spooled.info)
            }
            MediaSource::Url(url) => {
                let url = url.clone();
                let spooled = blocking(move || {
                    let response = UreqHttpClient::new()
                        .execute_streaming(HttpRequest::get(url.clone()))
                        .map_err(|e| failed(format!("content.{what}.url: could not fetch {url}: {e}")))?;
                    if !(200..300).contains(&response.status_code) {
                        return Err(failed(format!("content.{what}.url: {url} answered HTTP {}", response.status_code)));
                    }
                    spool_reader(response.body, kind, media_type)
                })
                .await?;
                (UploadBytes::File(spooled.file), spooled.info)
            }
            MediaSource::Spool(token) => {
                let spooled = take_spool(token)
                    .ok_or_else(|| invalid(format!("content.{what}: media spool {token:?} is unknown or already sent")))?;
                if spooled.kind != self.kind || spooled.media_type != media_type {
                    return Err(invalid(format!("content.{what}: the stream was encrypted as {}", spooled.kind.content_key())));
                }
                (UploadBytes::File(spooled.file), spooled.info)
            }
        })
    }

    /// The content with Baileys' `jpegThumbnail`, `width` and `height` for an image given as a
    /// Buffer or a file, unless it names a `jpegThumbnail` itself. An image that does not decode
    /// is sent without one, as Baileys sends it when its image library fails.
    async fn with_thumbnail(&self) -> MediaContent {
        let mut content = self.clone();
        if self.kind != MediaKind::Image || self.fields.get("jpegThumbnail").is_some_and(|v| *v != BValue::Null) {
            return content;
        }
        let source = self.source.clone();
        let made = tokio::task::spawn_blocking(move || {
            let bytes = match source {
                MediaSource::Bytes(bytes) => bytes,
                MediaSource::Path(path) => {
                    let size = std::fs::metadata(&path).ok()?.len();
                    if size > thumbnail::MAX_SOURCE_BYTES as u64 {
                        return None;
                    }
                    bytes::Bytes::from(std::fs::read(&path).ok()?)
                }
                MediaSource::Url(_) | MediaSource::Spool(_) => return None,
            };
            let made = thumbnail::jpeg_thumbnail(&bytes, thumbnail::MESSAGE_THUMBNAIL_WIDTH).ok()?;
            Some((bytes, made))
        })
        .await
        .ok()
        .flatten();
        if let Some((bytes, made)) = made {
            // The file was read whole for its thumbnail: encrypt those bytes, not a second read.
            content.source = MediaSource::Bytes(bytes);
            content.fields.set("jpegThumbnail", BValue::Bytes(made.jpeg));
            if content.fields.get("width").is_none() {
                content.fields.set("width", BValue::Uint(made.width.into()));
                content.fields.set("height", BValue::Uint(made.height.into()));
            }
        }
        content
    }

    /// Encrypts and uploads the media through `client`; the result can be built into a message.
    pub async fn upload(&self, client: &Client) -> Result<MediaContent> {
        let this = self.with_thumbnail().await;
        let media_type = self.kind.media_type();
        let (source, info) = this.encrypt(media_type).await?;
        let uploaded = match source {
            UploadBytes::Memory(bytes) => client.upload_stream(bytes, info, media_type).await,
            UploadBytes::File(file) => client.upload_stream(file, info, media_type).await,
        }
        .map_err(|e| failed(format!("uploading the {} failed: {e}", self.kind.content_key())))?;
        Ok(this.uploaded(Uploaded {
            url: uploaded.url,
            direct_path: uploaded.direct_path,
            media_key: uploaded.media_key.to_vec(),
            file_enc_sha256: uploaded.file_enc_sha256.to_vec(),
            file_sha256: uploaded.file_sha256.to_vec(),
            file_length: uploaded.file_length,
            media_key_timestamp: uploaded.media_key_timestamp,
        }))
    }

    /// Encrypts the media into a temporary file for an upload function of the bot's
    /// (Baileys' `prepareWAMessageMedia` with `{ upload }`); `media_type` is Baileys'
    /// `mediaTypeOverride`.
    pub async fn encrypt_to_file(&self, media_type: Option<MediaType>) -> Result<EncryptedFile> {
        let this = self.with_thumbnail().await;
        let (bytes, info) = this.encrypt(media_type.unwrap_or(self.kind.media_type())).await?;
        let file = match bytes {
            UploadBytes::File(file) => file,
            UploadBytes::Memory(bytes) => {
                blocking(move || {
                    let path = temp_path();
                    let file = SpoolFile { path, len: bytes.len() as u64 };
                    std::fs::write(&file.path, &bytes)
                        .map_err(|e| failed(format!("cannot write the encrypted media to {}: {e}", file.path.display())))?;
                    Ok(file)
                })
                .await?
            }
        };
        Ok(EncryptedFile { media: this.uploaded(None), file, info })
    }

    /// This content with the CDN fields of media the bot uploaded itself: the
    /// `{ imageMessage: { url, directPath, mediaKey, ... } }` Baileys' `prepareWAMessageMedia`
    /// gave (or just its inner object).
    pub fn with_prepared(&self, prepared: &BValue) -> Result<MediaContent> {
        let field = self.kind.message_field();
        let inner = prepared
            .get(field)
            .or_else(|| (self.kind == MediaKind::Video).then(|| prepared.get("ptvMessage")).flatten())
            .unwrap_or(prepared);
        let bytes = |name: &str| match inner.get(name) {
            Some(BValue::Bytes(b)) => Ok(b.clone()),
            _ => Err(invalid(format!("the prepared media has no {field}.{name} (a Buffer)"))),
        };
        let string = |name: &str| {
            inner
                .get(name)
                .and_then(BValue::as_str)
                .map(str::to_owned)
                .ok_or_else(|| invalid(format!("the prepared media has no {field}.{name}")))
        };
        let number = |name: &str| as_count(inner.get(name));
        Ok(self.uploaded(Uploaded {
            url: string("url")?,
            direct_path: string("directPath")?,
            media_key: bytes("mediaKey")?,
            file_enc_sha256: bytes("fileEncSha256")?,
            file_sha256: bytes("fileSha256")?,
            file_length: number("fileLength").and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
            media_key_timestamp: number("mediaKeyTimestamp").unwrap_or(0),
        }))
    }

    /// This content without its source bytes, with `uploaded` as its CDN fields.
    fn uploaded(&self, uploaded: impl Into<Option<Uploaded>>) -> MediaContent {
        MediaContent {
            kind: self.kind,
            source: MediaSource::Bytes(bytes::Bytes::new()),
            fields: self.fields.clone(),
            mentions: self.mentions.clone(),
            uploaded: uploaded.into(),
        }
    }

    /// The Baileys-shaped message object (`{ imageMessage: { url, directPath, mediaKey, … } }`)
    /// of uploaded media; the CDN fields first, then the content's own, as Baileys orders them.
    pub fn baileys_message(&self) -> Result<BValue> {
        let Some(up) = &self.uploaded else {
            return Err(invalid(format!("the {} has not been uploaded yet", self.kind.content_key())));
        };
        let mut inner = BValue::obj([
            ("url", BValue::String(up.url.clone())),
            ("directPath", BValue::String(up.direct_path.clone())),
            ("mediaKey", BValue::Bytes(up.media_key.clone())),
            ("fileEncSha256", BValue::Bytes(up.file_enc_sha256.clone())),
            ("fileSha256", BValue::Bytes(up.file_sha256.clone())),
            ("fileLength", BValue::Uint(up.file_length)),
            ("mediaKeyTimestamp", BValue::Int(up.media_key_timestamp)),
        ]);
        if let BValue::Object(fields) = &self.fields {
            for (k, v) in fields {
                inner.set(k, v.clone());
            }
        }
        if !self.mentions.is_empty() {
            let mut context = inner.get("contextInfo").cloned().filter(|c| matches!(c, BValue::Object(_))).unwrap_or_else(BValue::object);
            context.set("mentionedJid", BValue::Array(self.mentions.iter().map(|j| BValue::String(j.to_string())).collect()));
            inner.set("contextInfo", context);
        }
        // Baileys: `{ video, ptv: true }` is a round video note, `ptvMessage`.
        let field = if self.kind == MediaKind::Video && self.fields.get("ptv") == Some(&BValue::Bool(true)) {
            "ptvMessage"
        } else {
            self.kind.message_field()
        };
        Ok(BValue::obj([(field, inner)]))
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| failed(format!("media task failed: {e}")))?
}

/// The encrypted body of one upload.
enum UploadBytes {
    Memory(bytes::Bytes),
    File(SpoolFile),
}

fn encrypt_in_memory(plain: &[u8], media_type: MediaType) -> Result<(UploadBytes, EncryptedMediaInfo)> {
    let mut encryptor = MediaEncryptor::new(media_type).map_err(|e| failed(format!("media encryption: {e}")))?;
    let mut out = Vec::with_capacity(wacore::upload::encrypted_len(plain.len()));
    encryptor.update(plain, &mut out);
    let info = encryptor.finalize(&mut out).map_err(|e| failed(format!("media encryption: {e}")))?;
    Ok((UploadBytes::Memory(bytes::Bytes::from(out)), info))
}

/// Encrypts everything `reader` yields into a spool file.
fn spool_reader(mut reader: impl Read, kind: MediaKind, media_type: MediaType) -> Result<SpooledMedia> {
    let mut spool = MediaSpool::create_as(kind, media_type)?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(failed(format!("reading the media failed: {e}"))),
        };
        spool.write(&buf[..n])?;
    }
    spool.finish()
}

/// A temporary file holding encrypted media, removed when dropped.
pub struct SpoolFile {
    path: PathBuf,
    len: u64,
}

impl Drop for SpoolFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl UploadSource for SpoolFile {
    fn len(&self) -> u64 {
        self.len
    }

    fn reader_from(&self, offset: u64) -> std::io::Result<Box<dyn Read + Send>> {
        let mut file = std::fs::File::open(&self.path)?;
        file.seek(SeekFrom::Start(offset))?;
        Ok(Box::new(std::io::BufReader::with_capacity(CHUNK, file)))
    }
}

fn temp_path() -> PathBuf {
    std::env::temp_dir().join(format!("baileys-shard-media-{}-{:016x}.enc", std::process::id(), rand::random::<u64>()))
}

/// Encrypts media while it arrives in chunks (a JS stream, a file, an HTTP body) into a
/// temporary file: memory stays at one chunk whatever the size.
pub struct MediaSpool {
    kind: MediaKind,
    media_type: MediaType,
    file: Option<SpoolFile>,
    writer: Option<BufWriter<std::fs::File>>,
    encryptor: Option<MediaEncryptor>,
}

impl MediaSpool {
    pub fn create(kind: MediaKind) -> Result<MediaSpool> {
        MediaSpool::create_as(kind, kind.media_type())
    }

    /// A spool for `kind` encrypted with the keys of another media type.
    fn create_as(kind: MediaKind, media_type: MediaType) -> Result<MediaSpool> {
        let path = temp_path();
        let file = std::fs::File::create(&path)
            .map_err(|e| failed(format!("cannot create a temporary file for the media in {}: {e}", std::env::temp_dir().display())))?;
        let encryptor = MediaEncryptor::new(media_type).map_err(|e| failed(format!("media encryption: {e}")))?;
        Ok(MediaSpool {
            kind,
            media_type,
            file: Some(SpoolFile { path, len: 0 }),
            writer: Some(BufWriter::with_capacity(CHUNK, file)),
            encryptor: Some(encryptor),
        })
    }

    pub fn kind(&self) -> MediaKind {
        self.kind
    }

    /// Encrypts and stores the next chunk of plaintext.
    pub fn write(&mut self, chunk: &[u8]) -> Result<()> {
        let (Some(encryptor), Some(writer)) = (self.encryptor.as_mut(), self.writer.as_mut()) else {
            return Err(invalid("this media stream is already finished"));
        };
        encryptor.update_to_writer(chunk, writer).map_err(|e| failed(format!("writing the encrypted media failed: {e}")))
    }

    /// Pads, appends the MAC and closes the file.
    pub fn finish(mut self) -> Result<SpooledMedia> {
        let (Some(encryptor), Some(mut writer), Some(mut file)) = (self.encryptor.take(), self.writer.take(), self.file.take()) else {
            return Err(invalid("this media stream is already finished"));
        };
        let info = encryptor.finalize_to_writer(&mut writer).map_err(|e| failed(format!("writing the encrypted media failed: {e}")))?;
        let inner = writer.into_inner().map_err(|e| failed(format!("writing the encrypted media failed: {e}")))?;
        file.len = inner.metadata().map_err(|e| failed(format!("reading the encrypted media failed: {e}")))?.len();
        Ok(SpooledMedia { kind: self.kind, media_type: self.media_type, file, info })
    }
}

/// Encrypted media in a temporary file, ready to upload.
pub struct SpooledMedia {
    kind: MediaKind,
    media_type: MediaType,
    file: SpoolFile,
    info: EncryptedMediaInfo,
}

impl SpooledMedia {
    /// Plaintext size.
    pub fn file_length(&self) -> u64 {
        self.info.file_length
    }
}

/// Media encrypted into a temporary file for an upload function of the bot's; the file is
/// removed when this is dropped.
pub struct EncryptedFile {
    media: MediaContent,
    file: SpoolFile,
    info: EncryptedMediaInfo,
}

impl EncryptedFile {
    /// The encrypted file, for the upload function (`encFilePath`).
    pub fn path(&self) -> &std::path::Path {
        &self.file.path
    }

    /// Baileys' `mediaType` for the upload function: the content key (`image`, ...).
    pub fn media_type(&self) -> &'static str {
        self.media.kind.content_key()
    }

    /// `fileEncSha256B64` for the upload function.
    pub fn file_enc_sha256_b64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.info.file_enc_sha256)
    }

    /// The content with the CDN location the upload function answered (the file is removed).
    pub fn into_uploaded(self, url: String, direct_path: String) -> MediaContent {
        let media_key_timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        self.media.uploaded(Uploaded {
            url,
            direct_path,
            media_key: self.info.media_key.to_vec(),
            file_enc_sha256: self.info.file_enc_sha256.to_vec(),
            file_sha256: self.info.file_sha256.to_vec(),
            file_length: self.info.file_length,
            media_key_timestamp,
        })
    }
}

/// Baileys' `mediaType` names (its `MEDIA_PATH_MAP` keys) → the engine's.
pub fn media_type_named(name: &str) -> Result<MediaType> {
    Ok(match name {
        "image" => MediaType::Image,
        "video" | "gif" | "ptv" => MediaType::Video,
        "audio" | "ptt" => MediaType::Audio,
        "document" => MediaType::Document,
        "sticker" => MediaType::Sticker,
        "thumbnail-link" => MediaType::LinkThumbnail,
        "md-msg-hist" => MediaType::History,
        "md-app-state" => MediaType::AppState,
        "product-catalog-image" => MediaType::ProductCatalogImage,
        other => return Err(invalid(format!(
            "mediaType {other:?} is not one of image, video, gif, ptv, audio, ptt, document, sticker, thumbnail-link, md-msg-hist, md-app-state, product-catalog-image"
        ))),
    })
}

/// Spools finished by JS streams, waiting for the `sendMessage` that names them.
fn spools() -> &'static Mutex<HashMap<String, SpooledMedia>> {
    static SPOOLS: OnceLock<Mutex<HashMap<String, SpooledMedia>>> = OnceLock::new();
    SPOOLS.get_or_init(Default::default)
}

/// Registers a finished spool; `{ <kind>: { spool: token } }` then sends it (once).
pub fn register_spool(spooled: SpooledMedia) -> String {
    let token = format!("{:032x}", rand::random::<u128>());
    spools().lock().unwrap_or_else(|p| p.into_inner()).insert(token.clone(), spooled);
    token
}

fn take_spool(token: &str) -> Option<SpooledMedia> {
    spools().lock().unwrap_or_else(|p| p.into_inner()).remove(token)
}

/// Drops a spool that was not sent (its file is removed); nothing if it was.
pub fn discard_spool(token: &str) {
    drop(take_spool(token));
}

/// An `HttpClient` for media: the engine's ureq client, except that `https://` requests for a
/// plain-HTTP test server (`plain_host`, `host:port`) go out as `http://`.
pub struct MediaHttpClient {
    inner: UreqHttpClient,
    plain_host: Option<String>,
}

impl MediaHttpClient {
    /// For a shard connected to `ws_url`: a plain `ws://` chat server (the mock) serves media
    /// on the same `host:port` over plain HTTP; a `wss://` server (WhatsApp) gets no rewrite.
    /// With `proxy`, every request goes through it.
    pub fn for_chat_server(ws_url: &str, proxy: Option<&Proxy>) -> std::result::Result<MediaHttpClient, String> {
        let plain_host =
            ws_url.strip_prefix("ws://").map(|rest| rest.split(['/', '?']).next().unwrap_or(rest).to_owned()).filter(|h| !h.is_empty());
        let proxy = proxy.map(Proxy::for_ureq).transpose()?;
        Ok(MediaHttpClient { inner: ureq_client(proxy), plain_host })
    }

    /// Talks to `plain_host` (`host:port`) over plain HTTP, or to WhatsApp's CDN when `None`.
    pub fn with_plain_host(plain_host: Option<String>) -> MediaHttpClient {
        MediaHttpClient { inner: ureq_client(None), plain_host }
    }

    fn rewrite(&self, mut request: HttpRequest) -> HttpRequest {
        if let Some(host) = &self.plain_host {
            if let Some(rest) = request.url.strip_prefix("https://").and_then(|r| r.strip_prefix(host.as_str())) {
                if rest.is_empty() || rest.starts_with(['/', '?']) {
                    request.url = format!("http://{host}{rest}");
                }
            }
        }
        request
    }
}

#[async_trait::async_trait]
impl HttpClient for MediaHttpClient {
    async fn execute(&self, request: HttpRequest) -> anyhow::Result<HttpResponse> {
        self.inner.execute(self.rewrite(request)).await
    }

    fn supports_streaming(&self) -> bool {
        self.inner.supports_streaming()
    }

    fn execute_streaming(&self, request: HttpRequest) -> anyhow::Result<StreamingHttpResponse> {
        self.inner.execute_streaming(self.rewrite(request))
    }

    fn supports_upload_streaming(&self) -> bool {
        self.inner.supports_upload_streaming()
    }

    fn execute_upload(&self, request: HttpRequest, body: UploadBody, content_length: u64) -> anyhow::Result<HttpResponse> {
        self.inner.execute_upload(self.rewrite(request), body, content_length)
    }

    fn resource_report(&self) -> Option<wacore::stats::HttpResourceReport> {
        self.inner.resource_report()
    }
}

/// How long a media request may take to connect, and to send its head or get the answer's
/// head (a body may take longer: a large file on a slow link streams for minutes).
const MEDIA_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);
const MEDIA_HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The engine's ureq client with the engine's pool and buffer sizes, through `proxy` when there
/// is one. It follows no redirect (WhatsApp's media hosts answer directly; a redirect could only
/// aim the request elsewhere) and gives up on a host that does not connect or answer.
fn ureq_client(proxy: Option<ureq::Proxy>) -> UreqHttpClient {
    let config = ureq::Agent::config_builder()
        .proxy(proxy)
        .max_redirects(0)
        .timeout_connect(Some(MEDIA_CONNECT_TIMEOUT))
        .timeout_send_request(Some(MEDIA_HEAD_TIMEOUT))
        .timeout_recv_response(Some(MEDIA_HEAD_TIMEOUT))
        .input_buffer_size(16 * 1024)
        .output_buffer_size(16 * 1024)
        .max_idle_connections(3)
        .max_idle_connections_per_host(2)
        .build();
    UreqHttpClient::with_agent(ureq::Agent::new_with_config(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wacore::download::DownloadUtils;

    /// A media host that answers with a redirect elsewhere: the client reports the answer and
    /// never goes where it points.
    #[tokio::test]
    async fn a_redirect_is_not_followed() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = format!("http://{}/stolen", elsewhere.local_addr().unwrap());
        let host = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host_addr = host.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut socket, _) = host.accept().await.unwrap();
            let mut head = [0u8; 2048];
            let _ = socket.read(&mut head).await;
            let answer = format!("HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n");
            let _ = socket.write_all(answer.as_bytes()).await;
        });
        let client = MediaHttpClient::with_plain_host(Some(host_addr.clone()));
        let response = client.execute(HttpRequest::get(format!("https://{host_addr}/v/t62/file"))).await;
        assert_eq!(response.map(|r| r.status_code).ok(), Some(302));
        let followed = tokio::time::timeout(std::time::Duration::from_millis(300), elsewhere.accept()).await;
        assert!(followed.is_err(), "the redirect was followed");
    }

    fn s(v: &str) -> BValue {
        BValue::String(v.into())
    }

    #[test]
    fn baileys_media_type_names_map_to_the_engine() {
        assert_eq!(media_type_named("ptv").unwrap(), MediaType::Video);
        assert_eq!(media_type_named("thumbnail-link").unwrap(), MediaType::LinkThumbnail);
        assert!(media_type_named("gifs").unwrap_err().message.contains("mediaType"));
    }

    #[test]
    fn content_is_read_with_baileys_defaults() {
        let content = BValue::obj([("document", BValue::obj([("url", s("/tmp/x.pdf"))])), ("caption", s("hi"))]);
        let kind = MediaKind::of_content(&content).unwrap();
        let m = MediaContent::from_baileys(kind, &content, vec![]).unwrap();
        assert_eq!(m.kind, MediaKind::Document);
        assert_eq!(m.source, MediaSource::Path("/tmp/x.pdf".into()));
        assert_eq!(m.fields.get("fileName"), Some(&s("file")));
        assert_eq!(m.fields.get("mimetype"), Some(&s("application/pdf")));
        let audio = BValue::obj([("audio", BValue::Bytes(vec![1, 2])), ("ptt", BValue::Bool(true))]);
        let m = MediaContent::from_baileys(MediaKind::Audio, &audio, vec![]).unwrap();
        assert_eq!(m.fields.get("mimetype"), Some(&s("audio/ogg; codecs=opus")));
        assert!(m.baileys_message().is_err(), "not uploaded yet");
        let url = BValue::obj([("image", BValue::obj([("url", s("https://example.com/a.jpg"))]))]);
        assert_eq!(
            MediaContent::from_baileys(MediaKind::Image, &url, vec![]).unwrap().source,
            MediaSource::Url("https://example.com/a.jpg".into())
        );
        let bad = BValue::obj([("image", s("nope"))]);
        assert_eq!(MediaContent::from_baileys(MediaKind::Image, &bad, vec![]).unwrap_err().code, ErrorCode::InvalidArgument);
        let bad = BValue::obj([("image", BValue::Bytes(vec![1])), ("caption", BValue::Int(3))]);
        assert!(MediaContent::from_baileys(MediaKind::Image, &bad, vec![]).unwrap_err().message.contains("caption"));
    }

    #[test]
    fn only_the_plain_test_server_is_rewritten() {
        let http = MediaHttpClient::for_chat_server("ws://127.0.0.1:4000/ws/chat", None).unwrap();
        let url = |u: &str| http.rewrite(HttpRequest::get(u)).url;
        assert_eq!(url("https://127.0.0.1:4000/v/t62/x.enc?token=a"), "http://127.0.0.1:4000/v/t62/x.enc?token=a");
        assert_eq!(url("https://127.0.0.1:40000/v/x"), "https://127.0.0.1:40000/v/x");
        assert_eq!(url("https://mmg.whatsapp.net/v/x"), "https://mmg.whatsapp.net/v/x");
        let real = MediaHttpClient::for_chat_server("wss://web.whatsapp.com/ws/chat", None).unwrap();
        assert_eq!(real.rewrite(HttpRequest::get("https://127.0.0.1:4000/v")).url, "https://127.0.0.1:4000/v");
    }

    fn spooled(kind: MediaKind, plain: &[u8]) -> (SpooledMedia, Vec<u8>) {
        let mut spool = MediaSpool::create(kind).unwrap();
        for chunk in plain.chunks(1000) {
            spool.write(chunk).unwrap();
        }
        let spooled = spool.finish().unwrap();
        let mut enc = Vec::new();
        spooled.file.reader_from(0).unwrap().read_to_end(&mut enc).unwrap();
        (spooled, enc)
    }

    #[test]
    fn spooled_media_decrypts_and_verifies_and_tampering_is_refused() {
        let plain: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let (spooled, enc) = spooled(MediaKind::Image, &plain);
        assert_eq!(spooled.file_length(), plain.len() as u64);
        assert_eq!(enc.len() as u64, spooled.file.len());
        let path = spooled.file.path.clone();
        let media = MediaRef {
            kind: MediaKind::Image,
            direct_path: "/v/x".into(),
            url: None,
            media_key: spooled.info.media_key.to_vec(),
            file_enc_sha256: spooled.info.file_enc_sha256.to_vec(),
            file_sha256: spooled.info.file_sha256.to_vec(),
            file_length: plain.len() as u64,
        };
        let mut out = Vec::new();
        media.decrypt_verified(&enc[..], &mut out).unwrap();
        assert_eq!(out, plain);

        let mut longer = enc.clone();
        longer.extend(std::iter::repeat_n(0u8, 64 << 10));
        let err = media.decrypt_verified(&longer[..], &mut Vec::new()).unwrap_err();
        assert_eq!(err.code, ErrorCode::MediaInvalid, "{err}");
        assert!(err.message.contains("more than"), "{err}");

        let mut tampered = enc.clone();
        tampered[100] ^= 1;
        let err = media.decrypt_verified(&tampered[..], &mut Vec::new()).unwrap_err();
        assert_eq!(err.code, ErrorCode::MediaInvalid, "{err}");

        drop(spooled);
        assert!(!path.exists(), "the spool file is removed with the spool");
    }

    #[tokio::test]
    async fn media_encrypted_for_a_bots_upload_uses_the_override_keys_and_gets_a_thumbnail() {
        let mut png = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_pixel(64, 32, image::Rgb([200, 10, 10])).write_to(&mut png, image::ImageFormat::Png).unwrap();
        let png = png.into_inner();
        let content = BValue::obj([("image", BValue::Bytes(png.clone())), ("caption", s("cap"))]);
        let media = MediaContent::from_baileys(MediaKind::Image, &content, Vec::new()).unwrap();
        let file = media.encrypt_to_file(Some(MediaType::LinkThumbnail)).await.unwrap();
        let path = file.path().to_owned();
        let enc = std::fs::read(&path).unwrap();
        assert_eq!(file.media_type(), "image");
        let decrypt = |media_type| {
            let mut out = Vec::new();
            DownloadUtils::decrypt_stream_to_writer(&enc[..], &file.info.media_key, media_type, &mut out).map(|_| out)
        };
        assert_eq!(decrypt(MediaType::LinkThumbnail).unwrap(), png);
        assert!(decrypt(MediaType::Image).is_err(), "encrypted with the link-thumbnail keys");
        let message = file.into_uploaded("https://mmg.example/x".into(), "/x".into()).baileys_message().unwrap();
        assert!(!path.exists(), "the file goes once uploaded");
        let image = message.get("imageMessage").unwrap();
        assert_eq!(image.get("caption").and_then(BValue::as_str), Some("cap"));
        assert!(matches!(image.get("jpegThumbnail"), Some(BValue::Bytes(b)) if b.starts_with(&[0xff, 0xd8])));
        assert_eq!(image.get("width"), Some(&BValue::Uint(64)));
    }

    #[test]
    fn registered_spools_are_taken_once() {
        let (spooled, _) = spooled(MediaKind::Audio, b"voice");
        let token = register_spool(spooled);
        assert!(take_spool(&token).is_some());
        assert!(take_spool(&token).is_none());
        discard_spool(&token);
    }
}
