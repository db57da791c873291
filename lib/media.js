'use strict'
// Media on the JS side: `{ stream }` content is fed chunk by chunk into a native spool (the
// stream is never held whole), and `downloadMediaMessage` (Baileys' signature) downloads
// through the native verifier. No crypto here: encryption and the MAC check are native.
const { Readable } = require('node:stream')
const { ShardError, fromNative, isShardCode } = require('./errors')

const MEDIA_KINDS = ['image', 'video', 'audio', 'document', 'sticker']
const NOT_MEDIA = ['text', 'react', 'delete', 'location', 'contacts', 'poll', 'forward', 'disappearingMessagesInChat', 'groupInvite', 'pin',
  'buttonReply', 'listReply', 'product', 'sharePhoneNumber', 'requestPhoneNumber']

/** The media key of `sendMessage` content, if it is a media message (`image`, `video`, ...). */
function mediaKindOf(content) {
  if (!content || typeof content !== 'object') return undefined
  // Baileys' generateWAMessageContent checks these kinds before media.
  if (NOT_MEDIA.some((k) => content[k] != null)) return undefined
  return MEDIA_KINDS.find((k) => content[k] != null)
}

/**
 * Reads `{ stream }` media into a native spool (encrypted as it arrives) and returns the content
 * to send with the spool's token, plus a `release` to call once the send settled (it removes the
 * spool if the send did not take it). Other content is returned as it is.
 * @param {object} content sendMessage content
 */
async function prepareMediaContent(content) {
  const kind = mediaKindOf(content)
  const media = kind && content[kind]
  if (!media || typeof media !== 'object' || Buffer.isBuffer(media)) return { content, release() {} }
  if (media.url instanceof URL) return { content: { ...content, [kind]: { url: media.url.toString() } }, release() {} }
  if (!('stream' in media)) return { content, release() {} }
  const stream = media.stream
  if (!stream || typeof stream[Symbol.asyncIterator] !== 'function') {
    throw new ShardError(`content.${kind}.stream must be a readable stream (or any async iterable of Buffers)`, 'INVALID_ARGUMENT')
  }
  const native = require('./native')
  let spool
  try {
    spool = new native.MediaSpool(kind)
    for await (const chunk of stream) {
      spool.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    }
    const token = spool.finish()
    return { content: { ...content, [kind]: { spool: token } }, release: () => native.discardMediaSpool(token) }
  } catch (err) {
    spool?.abort()
    if (err instanceof ShardError) throw err
    if (isShardCode(err?.code)) throw fromNative(err, 'MEDIA_FAILED')
    const error = new ShardError(`reading content.${kind}.stream failed: ${err?.message ?? err}`, 'MEDIA_FAILED')
    error.cause = err
    throw error
  }
}

/**
 * Downloads and decrypts the media of a message, like Baileys' `downloadMediaMessage`, but the
 * file's MAC and hashes are verified: a file that was altered is rejected with a `ShardError`
 * `MEDIA_INVALID` (for `'stream'`, the stream errors at its end; discard what it gave).
 * Transfer failures are `MEDIA_FAILED`, a message without media `INVALID_ARGUMENT`. The sender of
 * a message chooses its `directPath`, so one that is not a single absolute path (it would aim the
 * request at another host) is `INVALID_ARGUMENT` before any request, and a CDN that sends more
 * bytes than the message's `fileLength` announces is `MEDIA_INVALID`.
 *
 * Options: `mediaHost` (`'127.0.0.1:PORT'`) downloads from a test CDN over plain HTTP (the mock
 * server: `new URL(mock.url).host`); never set it for WhatsApp. Baileys' `startByte`/`endByte`
 * are refused (a partial file cannot be verified); its axios `options` and `ctx` (reupload)
 * are accepted and not used.
 * @param {object} message the WAMessage
 * @param {'buffer'|'stream'} type
 * @param {{ mediaHost?: string, startByte?: number, endByte?: number, options?: object }} [options]
 * @param {object} [_ctx] Baileys' `{ logger, reuploadRequest }`, unused
 * @returns {Promise<Buffer|import('node:stream').Readable>}
 */
async function downloadMediaMessage(message, type, options = {}, _ctx) {
  const native = require('./native')
  if (type !== 'buffer' && type !== 'stream') {
    throw new ShardError(`downloadMediaMessage: type must be 'buffer' or 'stream', got ${JSON.stringify(type)}`, 'INVALID_ARGUMENT')
  }
  options = options ?? {}
  if (options.startByte != null || options.endByte != null) {
    throw new ShardError('downloadMediaMessage: startByte/endByte are not supported: a partial file cannot be verified', 'INVALID_ARGUMENT')
  }
  if (options.mediaHost != null && typeof options.mediaHost !== 'string') {
    throw new ShardError("downloadMediaMessage: options.mediaHost must be a 'host:port' string", 'INVALID_ARGUMENT')
  }
  const host = options.mediaHost ?? null
  try {
    if (type === 'buffer') return await native.downloadMedia(message, host)
    const download = await native.openMediaDownload(message, host)
    return new Readable({
      read() {
        download.next().then(
          (chunk) => this.push(chunk ?? null),
          (err) => this.destroy(fromNative(err, 'MEDIA_FAILED')),
        )
      },
    })
  } catch (err) {
    throw fromNative(err, 'MEDIA_FAILED')
  }
}

module.exports = { prepareMediaContent, downloadMediaMessage, mediaKindOf, MEDIA_KINDS }
