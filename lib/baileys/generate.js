'use strict'
// Baileys' `prepareWAMessageMedia` and `generateWAMessageContent`, for bots that build a
// message themselves and send it with `sock.relayMessage`. Content is built natively (the
// addon is loaded on first use), as `sendMessage` builds it; media is encrypted natively into
// a temporary file and uploaded by the bot's own `upload` function (usually
// `sock.waUploadToServer`), as Baileys does.
const { ShardError, callNative } = require('../errors')
const { prepareMediaContent, mediaKindOf } = require('../media')

/**
 * Encrypts and uploads the media of `message` and returns the `proto.IMessage` carrying it
 * (`{ imageMessage: { url, directPath, mediaKey, ... } }`), like Baileys'
 * `prepareWAMessageMedia`. `options.upload(encFilePath, { fileEncSha256B64, mediaType,
 * timeoutMs })` uploads the encrypted file: pass `sock.waUploadToServer`.
 * @param {object} message media content: `{ image | video | audio | document | sticker: Buffer | { url } | { stream }, caption?, mimetype?, ... }`
 * @param {{ upload: Function, mediaTypeOverride?: string, mediaUploadTimeoutMs?: number }} options
 * @returns {Promise<object>}
 */
async function prepareWAMessageMedia(message, options) {
  if (!message || typeof message !== 'object') {
    throw new ShardError('prepareWAMessageMedia: message must be media content such as { image: buffer }', 'INVALID_ARGUMENT')
  }
  const upload = options?.upload
  if (typeof upload !== 'function') {
    throw new ShardError('prepareWAMessageMedia: options.upload must be an upload function such as sock.waUploadToServer', 'INVALID_ARGUMENT')
  }
  if (options.mediaTypeOverride != null && typeof options.mediaTypeOverride !== 'string') {
    throw new ShardError('prepareWAMessageMedia: options.mediaTypeOverride must be a media type name such as "thumbnail-link"', 'INVALID_ARGUMENT')
  }
  const { content, release } = await prepareMediaContent(message)
  let encrypted
  try {
    encrypted = await callNative(() => require('../native').encryptMedia(content, options.mediaTypeOverride ?? null))
  } finally {
    release()
  }
  try {
    const { fileEncSha256B64, mediaType } = encrypted
    const uploaded = await upload(encrypted.path, { fileEncSha256B64, mediaType, timeoutMs: options.mediaUploadTimeoutMs })
    const { mediaUrl, directPath } = uploaded ?? {}
    if (typeof mediaUrl !== 'string' || typeof directPath !== 'string') {
      throw new ShardError('prepareWAMessageMedia: options.upload must resolve to { mediaUrl, directPath }', 'MEDIA_FAILED')
    }
    return callNative(() => encrypted.uploaded(mediaUrl, directPath))
  } finally {
    encrypted.discard()
  }
}

/**
 * The `proto.IMessage` for `message` (Baileys' `AnyMessageContent`), like Baileys'
 * `generateWAMessageContent`: built as `sendMessage` builds it, media uploaded with
 * `options.upload`. Wrap it with `generateWAMessageFromContent` for `relayMessage`.
 * @param {object} message
 * @param {{ upload?: Function, mediaTypeOverride?: string, mediaUploadTimeoutMs?: number, backgroundColor?: string, font?: number, getUrlInfo?: Function }} [options]
 *   `getUrlInfo(url)`: the link preview of a text without `linkPreview` (e.g. this package's
 *   `getUrlInfo`), as in Baileys.
 * @returns {Promise<object>}
 */
async function generateWAMessageContent(message, options = {}) {
  if (!message || typeof message !== 'object') {
    throw new ShardError('generateWAMessageContent: message must be content such as { text: "hi" }', 'INVALID_ARGUMENT')
  }
  const media = mediaKindOf(message) ? await prepareWAMessageMedia(message, options) : null
  const { backgroundColor, font, getUrlInfo } = options ?? {}
  if (typeof message.text === 'string' && message.linkPreview === undefined && typeof getUrlInfo === 'function') {
    // As Baileys: a preview from the bot's getUrlInfo (e.g. this package's), if it gives one.
    const url = require('../link-preview').extractUrlFromText(message.text)
    const linkPreview = url ? await Promise.resolve(getUrlInfo(url)).catch(() => undefined) : undefined
    if (linkPreview) message = { ...message, linkPreview }
  }
  return callNative(() => require('../native').generateMessageContent(withoutStream(message), { backgroundColor, font }, media))
}

/** The content with its media source left out (already uploaded): a stream cannot cross. */
function withoutStream(message) {
  const kind = mediaKindOf(message)
  return kind ? { ...message, [kind]: Buffer.alloc(0) } : message
}

module.exports = { prepareWAMessageMedia, generateWAMessageContent }
