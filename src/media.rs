//! Media in and out of JS: a `MediaSpool` that JS feeds a stream's chunks into (encrypted as
//! they arrive, see `shard_core::media`), and the download behind `downloadMediaMessage`
//! (a whole Buffer, or a `MediaDownload` that JS pulls chunks from).

// `#[napi]` exports are only registered outside `cargo test`.
#![cfg_attr(test, allow(dead_code))]

use std::sync::Mutex;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shard_core::media::{self, MediaKind, MediaRef};

use crate::errors::{invalid_argument, to_napi};
use crate::js_to_bvalue::JsInput;

/// Encrypts a JS stream's chunks into a temporary file as they arrive (`lib/media.js` feeds
/// it); `finish()` gives the token `sendMessage` content names it by (`{ image: { spool } }`).
#[napi]
pub struct MediaSpool {
    inner: Mutex<Option<media::MediaSpool>>,
}

#[napi]
impl MediaSpool {
    /// `kind`: `image`, `video`, `audio`, `document` or `sticker` (it picks the media keys).
    #[napi(constructor)]
    pub fn new(kind: String) -> Result<Self> {
        let kind = MediaKind::from_content_key(&kind).ok_or_else(|| {
            invalid_argument(format!(
                "unknown media kind {kind:?}: expected image, video, audio, document or sticker"
            ))
        })?;
        let spool = media::MediaSpool::create(kind).map_err(to_napi)?;
        Ok(MediaSpool {
            inner: Mutex::new(Some(spool)),
        })
    }

    /// Encrypts and stores the next chunk.
    #[napi]
    pub fn write(&self, chunk: Buffer) -> Result<()> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let spool = guard
            .as_mut()
            .ok_or_else(|| invalid_argument("this media stream is already finished"))?;
        spool.write(&chunk).map_err(to_napi)
    }

    /// Ends the stream; the token is valid for one `sendMessage` (or `discardMediaSpool`).
    #[napi]
    pub fn finish(&self) -> Result<String> {
        let spool = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        let spool =
            spool.ok_or_else(|| invalid_argument("this media stream is already finished"))?;
        Ok(media::register_spool(spool.finish().map_err(to_napi)?))
    }

    /// Drops an unfinished spool and its file (a stream that errored).
    #[napi]
    pub fn abort(&self) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// Removes a finished spool that no `sendMessage` took (a failed send); no-op otherwise.
#[napi]
pub fn discard_media_spool(token: String) {
    media::discard_spool(&token);
}

fn media_ref(message: &JsInput) -> Result<MediaRef> {
    MediaRef::from_wa_message(&message.0).map_err(to_napi)
}

/// `downloadMediaMessage(msg, 'buffer')`: the decrypted, verified media. `mediaHost`:
/// a plain-HTTP test CDN (`host:port`, the mock server) instead of WhatsApp's.
#[napi]
pub async fn download_media(message: JsInput, media_host: Option<String>) -> Result<Buffer> {
    let media = media_ref(&message)?;
    let bytes = media::download_to_vec(media, media_host)
        .await
        .map_err(to_napi)?;
    Ok(bytes.into())
}

/// `downloadMediaMessage(msg, 'stream')`: the media as chunks pulled with `next()`.
#[napi]
pub struct MediaDownload {
    rx: tokio::sync::Mutex<tokio::sync::mpsc::Receiver<shard_core::error::Result<Vec<u8>>>>,
}

#[napi]
impl MediaDownload {
    /// The next plaintext chunk, or null at the end. Rejects with `MEDIA_INVALID` when the
    /// file does not verify (checked at its end: discard what was read) or `MEDIA_FAILED`.
    #[napi]
    pub async fn next(&self) -> Result<Option<Buffer>> {
        match self.rx.lock().await.recv().await {
            Some(Ok(chunk)) => Ok(Some(chunk.into())),
            Some(Err(e)) => Err(to_napi(e)),
            None => Ok(None),
        }
    }
}

/// Starts a streamed download (see `MediaDownload`).
#[napi]
pub async fn open_media_download(
    message: JsInput,
    media_host: Option<String>,
) -> Result<MediaDownload> {
    let media = media_ref(&message)?;
    Ok(MediaDownload {
        rx: tokio::sync::Mutex::new(media::download_stream(media, media_host)),
    })
}
