//! Media in and out of JS: a `MediaSpool` that JS feeds a stream's chunks into (encrypted as
//! they arrive, see `shard_core::media`), `EncryptedMedia` for Baileys' `prepareWAMessageMedia`
//! (encrypted here, uploaded by the bot's `upload` function), and the download behind
//! `downloadMediaMessage` (a whole Buffer, or a `MediaDownload` that JS pulls chunks from).

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shard_core::media::{self, MediaContent, MediaKind, MediaRef};
use shard_core::message_builder;

use crate::errors::{self as js, invalid_argument, js_error, settle};

type CoreResult<T> = std::result::Result<T, shard_core::ShardError>;
use crate::js_to_bvalue::JsInput;
use crate::js_value::JsBValue;

/// Encrypts a JS stream's chunks into a temporary file as they arrive (`lib/media.js` feeds
/// it); `finish()` gives the token `sendMessage` content names it by (`{ image: { spool } }`).
#[napi]
pub struct MediaSpool {
    inner: Mutex<Option<media::MediaSpool>>,
}

#[napi]
impl MediaSpool {
    /// `kind`: `image`, `video`, `audio`, `document` or `sticker` (it picks the media keys).
    #[napi(constructor, catch_unwind)]
    pub fn new(kind: String) -> js::Result<Self> {
        let kind = MediaKind::from_content_key(&kind).ok_or_else(|| {
            js_error(invalid_argument(format!("unknown media kind {kind:?}: expected image, video, audio, document or sticker")))
        })?;
        let spool = media::MediaSpool::create(kind).map_err(js_error)?;
        Ok(MediaSpool { inner: Mutex::new(Some(spool)) })
    }

    /// Encrypts and stores the next chunk.
    #[napi(catch_unwind)]
    pub fn write(&self, chunk: Buffer) -> js::Result<()> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let spool = guard.as_mut().ok_or_else(|| js_error(invalid_argument("this media stream is already finished")))?;
        spool.write(&chunk).map_err(js_error)
    }

    /// Ends the stream; the token is valid for one `sendMessage` (or `discardMediaSpool`).
    #[napi(catch_unwind)]
    pub fn finish(&self) -> js::Result<String> {
        let spool = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        let spool = spool.ok_or_else(|| js_error(invalid_argument("this media stream is already finished")))?;
        Ok(media::register_spool(spool.finish().map_err(js_error)?))
    }

    /// Drops an unfinished spool and its file (a stream that errored).
    #[napi(catch_unwind)]
    pub fn abort(&self) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// Removes a finished spool that no `sendMessage` took (a failed send); no-op otherwise.
#[napi(catch_unwind)]
pub fn discard_media_spool(token: String) {
    media::discard_spool(&token);
}

/// Media encrypted into a temporary file, waiting for the bot's `upload` function
/// (`lib/baileys/generate.js`); the file goes with `uploaded()`, `discard()` or the object.
#[napi]
pub struct EncryptedMedia {
    inner: Mutex<Option<media::EncryptedFile>>,
    path: String,
    media_type: String,
    file_enc_sha256_b64: String,
}

#[napi]
impl EncryptedMedia {
    /// The encrypted file (`encFilePath` of Baileys' upload functions).
    #[napi(getter, catch_unwind)]
    pub fn path(&self) -> String {
        self.path.clone()
    }

    /// Baileys' `mediaType` for the upload function (`image`, `video`, ...).
    #[napi(getter, catch_unwind)]
    pub fn media_type(&self) -> String {
        self.media_type.clone()
    }

    #[napi(getter, catch_unwind)]
    pub fn file_enc_sha256_b64(&self) -> String {
        self.file_enc_sha256_b64.clone()
    }

    /// `prepareWAMessageMedia`'s result once the upload function answered; removes the file.
    #[napi(ts_return_type = "Record<string, any>", catch_unwind)]
    pub fn uploaded(&self, media_url: String, direct_path: String) -> js::Result<JsBValue> {
        let file = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        let file = file.ok_or_else(|| js_error(invalid_argument("this media was already uploaded or discarded")))?;
        let content = file.into_uploaded(media_url, direct_path);
        let message = content.baileys_message().and_then(|m| message_builder::normalized(&m)).map_err(js_error)?;
        Ok(JsBValue(message))
    }

    /// Removes the file (the upload failed).
    #[napi(catch_unwind)]
    pub fn discard(&self) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// Encrypts the media of `content` (`{ image | video | audio | document | sticker, ... }`)
/// into a temporary file; `mediaTypeOverride` picks other media keys (`thumbnail-link`, ...).
#[napi(catch_unwind)]
pub fn encrypt_media<'env>(
    env: &'env Env,
    content: JsInput,
    media_type_override: Option<String>,
) -> js::Result<PromiseRaw<'env, EncryptedMedia>> {
    settle(env, async move {
        let kind = MediaKind::of_content(&content.0)
            .ok_or_else(|| invalid_argument("prepareWAMessageMedia: the content has no image, video, audio, document or sticker"))?;
        let override_type = media_type_override.as_deref().map(media::media_type_named).transpose()?;
        let media = MediaContent::from_baileys(kind, &content.0, Vec::new())?;
        let file = media.encrypt_to_file(override_type).await?;
        Ok(EncryptedMedia {
            path: file.path().display().to_string(),
            media_type: file.media_type().to_owned(),
            file_enc_sha256_b64: file.file_enc_sha256_b64(),
            inner: Mutex::new(Some(file)),
        })
    })
}

/// Baileys' `generateWAMessageContent`, media already prepared (`preparedMedia`).
#[napi(ts_return_type = "Record<string, any>", catch_unwind)]
pub fn generate_message_content(content: JsInput, options: Option<JsInput>, prepared_media: Option<JsInput>) -> js::Result<JsBValue> {
    message_builder::generate_content(&content.0, options.as_ref().map(|o| &o.0), prepared_media.as_ref().map(|p| &p.0))
        .map(JsBValue)
        .map_err(js_error)
}

/// A JPEG thumbnail and the original image's size.
#[napi(object)]
pub struct ImageThumbnail {
    pub jpeg_thumbnail: Buffer,
    pub width: u32,
    pub height: u32,
}

/// A `width`-pixel-wide JPEG thumbnail of an image (JPEG, PNG, WebP, GIF), as Baileys makes
/// link-preview thumbnails with sharp. Off the JS thread.
#[napi(catch_unwind)]
pub fn image_thumbnail<'env>(env: &'env Env, image: Buffer, width: u32) -> js::Result<PromiseRaw<'env, ImageThumbnail>> {
    let bytes = image.to_vec();
    settle(env, async move {
        let made = tokio::task::spawn_blocking(move || shard_core::thumbnail::jpeg_thumbnail(&bytes, width))
            .await
            .map_err(|e| invalid_argument(format!("thumbnail task failed: {e}")))?
            .map_err(|e| shard_core::ShardError::new(shard_core::ErrorCode::MediaInvalid, e))?;
        Ok(ImageThumbnail { jpeg_thumbnail: made.jpeg.into(), width: made.width, height: made.height })
    })
}

fn media_ref(message: &JsInput) -> CoreResult<MediaRef> {
    MediaRef::from_wa_message(&message.0)
}

/// `downloadMediaMessage(msg, 'buffer')`: the decrypted, verified media. `mediaHost`:
/// a plain-HTTP test CDN (`host:port`, the mock server) instead of WhatsApp's.
#[napi(catch_unwind)]
pub fn download_media<'env>(env: &'env Env, message: JsInput, media_host: Option<String>) -> js::Result<PromiseRaw<'env, Buffer>> {
    settle(env, async move {
        let media = media_ref(&message)?;
        Ok(media::download_to_vec(media, media_host).await?.into())
    })
}

/// `downloadMediaMessage(msg, 'stream')`: the media as chunks pulled with `next()`.
#[napi]
pub struct MediaDownload {
    rx: Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<shard_core::error::Result<Vec<u8>>>>>,
}

#[napi]
impl MediaDownload {
    /// The next plaintext chunk, or null at the end. Rejects with `MEDIA_INVALID` when the
    /// file does not verify (checked at its end: discard what was read) or `MEDIA_FAILED`.
    #[napi(catch_unwind)]
    pub fn next<'env>(&self, env: &'env Env) -> js::Result<PromiseRaw<'env, Option<Buffer>>> {
        let rx = self.rx.clone();
        settle(env, async move { rx.lock().await.recv().await.transpose().map(|chunk| chunk.map(Buffer::from)) })
    }
}

/// Starts a streamed download (see `MediaDownload`).
#[napi(catch_unwind)]
pub fn open_media_download<'env>(
    env: &'env Env,
    message: JsInput,
    media_host: Option<String>,
) -> js::Result<PromiseRaw<'env, MediaDownload>> {
    settle(env, async move {
        let media = media_ref(&message)?;
        Ok(MediaDownload { rx: Arc::new(tokio::sync::Mutex::new(media::download_stream(media, media_host))) })
    })
}
