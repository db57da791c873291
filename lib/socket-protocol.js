'use strict'
// Baileys' lower-level socket members on `sock`: raw stanzas (`query`, `sendNode`,
// `sendRawMessage`, `generateMessageTag`), bot-built messages (`relayMessage`,
// `waUploadToServer`), pairing by code, the media connection, and the small helpers Baileys
// hands bots (`waitForSocketOpen`, `onUnexpectedError`, `processingMutex`).
const fs = require('node:fs/promises')
const crypto = require('node:crypto')
const { ShardError, callNative: call } = require('./errors')
const { patchedForSending } = require('./message-patch')

function isNode(node) {
  return node != null && typeof node === 'object' && typeof node.tag === 'string'
}

/**
 * Reads a file another part of the bot may still be writing: Baileys' `prepareWAMessageMedia`
 * calls the upload right after `end()` on its write stream, before the file is complete (its own
 * upload reads it only after a network round trip). Waits, up to ~2 s, until the file exists and
 * its size holds still.
 */
async function readWrittenFile(file) {
  const settle = () => new Promise((r) => setTimeout(r, 20))
  let lastSize = -1
  let lastError
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const { size } = await fs.stat(file)
      if (size > 0 && size === lastSize) return await fs.readFile(file)
      lastSize = size
    } catch (e) {
      lastError = e
      if (e.code !== 'ENOENT') break
    }
    await settle()
  }
  throw new ShardError(`waUploadToServer: cannot read ${file}: ${lastError?.message ?? 'it stays empty'}`, 'MEDIA_FAILED')
}

/** @this {import('./socket').ShardSocket} */
const protocolCalls = {
  /**
   * Sends an `<iq>` stanza, Baileys' `BinaryNode` (`{ tag, attrs, content }`), and resolves to
   * the server's reply in the same shape, like Baileys' `sock.query`. An `id` attribute is added
   * when missing. An error reply rejects with `INVALID_ARGUMENT` naming the server's code.
   * @param {import('..').BinaryNode} node
   * @param {number} [timeoutMs]
   * @returns {Promise<import('..').BinaryNode>}
   */
  query(node, timeoutMs) {
    if (!isNode(node)) return Promise.reject(new ShardError('query: node must be a BinaryNode { tag, attrs, content? }', 'INVALID_ARGUMENT'))
    const attrs = { ...node.attrs }
    attrs.id ??= this.generateMessageTag()
    return call(() => this._shard.query({ ...node, attrs }, timeoutMs ?? null))
  },

  /**
   * Sends one stanza as it is, like Baileys' `sock.sendNode`.
   * @param {import('..').BinaryNode} node
   * @returns {Promise<void>}
   */
  sendNode(node) {
    if (!isNode(node)) return Promise.reject(new ShardError('sendNode: node must be a BinaryNode { tag, attrs, content? }', 'INVALID_ARGUMENT'))
    return call(() => this._shard.sendNode(node))
  },

  /**
   * Sends an encoded binary node (what Baileys' `encodeBinaryNode` returns), like Baileys'
   * `sock.sendRawMessage`.
   * @param {Uint8Array} data
   * @returns {Promise<void>}
   */
  sendRawMessage(data) {
    if (!(data instanceof Uint8Array)) return Promise.reject(new ShardError('sendRawMessage: data must be a Buffer or Uint8Array', 'INVALID_ARGUMENT'))
    return call(() => this._shard.sendRawMessage(Buffer.from(data)))
  },

  /**
   * A fresh stanza id, as Baileys' `sock.generateMessageTag` gives: unique for this socket.
   * @returns {string}
   */
  generateMessageTag() {
    this._tagPrefix ??= `${crypto.randomBytes(2).readUInt16BE()}.${crypto.randomBytes(2).readUInt16BE()}-`
    this._tagCount = (this._tagCount ?? 0) + 1
    return `${this._tagPrefix}${this._tagCount}`
  },

  /**
   * Sends a message the bot built (`proto.IMessage`, e.g. from Baileys'
   * `generateWAMessageFromContent`) as it is, like Baileys' `sock.relayMessage`; resolves to its
   * id once the server acknowledged it. Nothing is emitted (as in Baileys). Options:
   * `messageId`, `additionalNodes` (extra stanza children, e.g. `biz` for buttons);
   * `participant`, `additionalAttributes` and `statusJidList` reject with `NOT_SUPPORTED`.
   * @param {string} jid
   * @param {import('..').WAMessageContent} message
   * @param {import('..').MessageRelayOptions} [options]
   * @returns {Promise<string>}
   */
  async relayMessage(jid, message, options) {
    if (typeof jid !== 'string') throw new ShardError('relayMessage: jid must be a string', 'INVALID_ARGUMENT')
    const wire = message == null ? null : await patchedForSending(this, message, jid)
    return call(() => this._shard.relayMessage(jid, wire, options ?? null))
  },

  /**
   * Uploads media the bot encrypted (a file path or the bytes) to WhatsApp's CDN, like the
   * function Baileys' `prepareWAMessageMedia` takes as `upload`: pass `sock.waUploadToServer`.
   * @param {string | Uint8Array} encrypted the encrypted file's path, or its bytes
   * @param {{ mediaType: string, fileEncSha256B64: string, timeoutMs?: number }} options
   * @returns {Promise<{ mediaUrl: string, directPath: string }>}
   */
  async waUploadToServer(encrypted, options) {
    const { mediaType, fileEncSha256B64 } = options ?? {}
    if (typeof mediaType !== 'string') throw new ShardError('waUploadToServer: options.mediaType must be a string such as "image"', 'INVALID_ARGUMENT')
    if (typeof fileEncSha256B64 !== 'string') throw new ShardError('waUploadToServer: options.fileEncSha256B64 must be a base64 string', 'INVALID_ARGUMENT')
    let bytes
    if (encrypted instanceof Uint8Array) bytes = Buffer.from(encrypted)
    else if (typeof encrypted === 'string' || encrypted instanceof URL) bytes = await readWrittenFile(encrypted)
    else throw new ShardError('waUploadToServer: the media must be a file path or a Buffer', 'INVALID_ARGUMENT')
    return call(() => this._shard.waUploadToServer(bytes, mediaType, fileEncSha256B64), 'MEDIA_FAILED')
  },

  /**
   * Asks WhatsApp for a pairing code for `phoneNumber` (country code first, digits), like
   * Baileys' `sock.requestPairingCode`; call it once the QR is shown (`login.update` `qr`). Also
   * emitted as `login.update` `{ type: 'pairing', code }`. A paired shard or a refused request
   * rejects with `PAIRING_FAILED`. (`createShard({ phoneNumber })` does this by itself.)
   * @param {string} phoneNumber
   * @param {string} [customPairingCode] 8 letters or digits
   * @returns {Promise<string>}
   */
  requestPairingCode(phoneNumber, customPairingCode) {
    if (typeof phoneNumber !== 'string') return Promise.reject(new ShardError('requestPairingCode: phoneNumber must be a string of digits', 'INVALID_ARGUMENT'))
    if (customPairingCode != null && typeof customPairingCode !== 'string') {
      return Promise.reject(new ShardError('requestPairingCode: customPairingCode must be a string', 'INVALID_ARGUMENT'))
    }
    return call(() => this._shard.requestPairingCode(phoneNumber, customPairingCode ?? null), 'PAIRING_FAILED')
  },

  /**
   * The media hosts and upload token, like Baileys' `sock.refreshMediaConn`:
   * `{ hosts: [{ hostname, maxContentLengthBytes }], auth, ttl, fetchDate: Date }`.
   * @param {boolean} [forceGet]
   */
  async refreshMediaConn(forceGet = false) {
    const info = await call(() => this._shard.refreshMediaConn(Boolean(forceGet)), 'NOT_CONNECTED')
    return { ...info, fetchDate: new Date(info.fetchDate) }
  },

  /**
   * Makes sure there is a Signal session with each device in `jids` (every one with `force`),
   * like Baileys' `sock.assertSessions`; resolves to true when one had to be fetched.
   * @param {string[]} jids device jids
   * @param {boolean} [force]
   * @returns {Promise<boolean>}
   */
  assertSessions(jids, force = false) {
    if (!Array.isArray(jids) || !jids.every((j) => typeof j === 'string')) return Promise.reject(new ShardError('assertSessions: jids must be an array of jid strings', 'INVALID_ARGUMENT'))
    return call(() => this._shard.assertSessions(jids, Boolean(force)))
  },

  /**
   * The devices of these users, `[{ user, device }]` without this device itself (and without
   * device 0 with `ignoreZeroDevices`), like Baileys' `sock.getUSyncDevices`. The engine keeps
   * its own device cache, so `useCache` changes nothing.
   * @param {string[]} jids
   * @param {boolean} [_useCache]
   * @param {boolean} [ignoreZeroDevices]
   * @returns {Promise<{ user: string, device: number }[]>}
   */
  getUSyncDevices(jids, _useCache, ignoreZeroDevices = false) {
    if (!Array.isArray(jids) || !jids.every((j) => typeof j === 'string')) return Promise.reject(new ShardError('getUSyncDevices: jids must be an array of jid strings', 'INVALID_ARGUMENT'))
    return call(() => this._shard.getUsyncDevices(jids, Boolean(ignoreZeroDevices)))
  },

  /**
   * Resolves once the connection is open (at once when it is), like Baileys'
   * `sock.waitForSocketOpen`; rejects with the close's error if it closes first.
   * @returns {Promise<void>}
   */
  async waitForSocketOpen() {
    if (this.ws.isOpen) return
    await this.waitForConnectionUpdate((u) => u.connection === 'open')
  },

  /**
   * Logs an error of the bot's as Baileys' `sock.onUnexpectedError` does, on `sock.logger`.
   * @param {Error} err
   * @param {string} msg where it happened
   */
  onUnexpectedError(err, msg) {
    this.logger.error({ err }, `unexpected error in '${msg}'`)
  },
}

/**
 * Baileys' `sock.processingMutex`: `mutex(fn)` runs the functions given to it one at a time,
 * in order, and resolves to each one's result.
 */
function makeMutex() {
  let tail = Promise.resolve()
  return {
    mutex(code) {
      const run = tail.then(() => code())
      tail = run.catch(() => {})
      return run
    },
  }
}

module.exports = { protocolCalls, makeMutex }
