'use strict'
// The rest of what bots import from `baileys` next to the socket: `delay`, `Browsers`,
// `DisconnectReason`, `downloadContentFromMessage`, `fetchLatestBaileysVersion`, and harmless
// forms of `useMultiFileAuthState` / `makeCacheableSignalKeyStore` so old start-up code runs
// (the manager owns every session folder; these read and write nothing).
const os = require('node:os')
const { ShardError } = require('../errors')
const { downloadMediaMessage } = require('../media')

/** Baileys' `DisconnectReason` codes. */
const DisconnectReason = Object.freeze({
  connectionClosed: 428,
  connectionLost: 408,
  connectionReplaced: 440,
  timedOut: 408,
  loggedOut: 401,
  badSession: 500,
  restartRequired: 515,
  multideviceMismatch: 411,
  forbidden: 403,
  unavailableService: 503,
})

/** Resolves after `ms` milliseconds. */
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const OS_NAMES = { aix: 'AIX', darwin: 'Mac OS', win32: 'Windows', android: 'Android', freebsd: 'FreeBSD', openbsd: 'OpenBSD', sunos: 'Solaris' }

/** `[os, browser, osVersion]` for the `browser` socket option, as Baileys names them. */
const Browsers = Object.freeze({
  ubuntu: (browser) => ['Ubuntu', browser, '22.04.4'],
  macOS: (browser) => ['Mac OS', browser, '14.4.1'],
  baileys: (browser) => ['Baileys', browser, '6.5.0'],
  windows: (browser) => ['Windows', browser, '10.0.22631'],
  /** This machine's OS and release. */
  appropriate: (browser) => [OS_NAMES[os.platform()] || 'Ubuntu', browser, os.release()],
})

/** The WhatsApp Web version the shards announce unless `version` is set. */
const BUILT_IN_VERSION = [2, 3000, 1023223821]

/**
 * Baileys fetches its latest version list from GitHub. This package ships the version it
 * announces and fetches nothing: `{ version, isLatest: false }`, never a throw.
 */
async function fetchLatestBaileysVersion() {
  return { version: [...BUILT_IN_VERSION], isLatest: false }
}

/**
 * Start-up code written for Baileys calls this before making its socket. The manager keeps its
 * own session folders (`new ShardManager({ session })`), so this reads and writes nothing: an
 * empty state and a `saveCreds` that does nothing.
 */
async function useMultiFileAuthState(_folder) {
  return { state: { creds: {}, keys: { get: async () => ({}), set: async () => {} } }, saveCreds: async () => {} }
}

/** Baileys wraps a key store with a cache; the engine caches keys itself, so the store comes back as it is. */
const makeCacheableSignalKeyStore = (store) => store

// Baileys' media type names → the message field that holds such media.
const MEDIA_FIELDS = {
  image: 'imageMessage',
  video: 'videoMessage',
  gif: 'videoMessage',
  ptv: 'videoMessage',
  audio: 'audioMessage',
  ptt: 'audioMessage',
  document: 'documentMessage',
  sticker: 'stickerMessage',
}

/**
 * Downloads and decrypts media from its `{ mediaKey, directPath, url }` (e.g.
 * `msg.message.imageMessage`), like Baileys' `downloadContentFromMessage`: resolves to a
 * Readable. Verified as `downloadMediaMessage` verifies (`MEDIA_INVALID` for an altered file).
 * @param {{ mediaKey?: Uint8Array | null, directPath?: string | null, url?: string | null }} downloadable
 * @param {'image' | 'video' | 'gif' | 'ptv' | 'audio' | 'ptt' | 'document' | 'sticker'} type
 * @param {{ mediaHost?: string }} [options]
 * @returns {Promise<import('node:stream').Readable>}
 */
async function downloadContentFromMessage(downloadable, type, options = {}) {
  const field = MEDIA_FIELDS[type]
  if (!field) throw new ShardError(`downloadContentFromMessage: type must be one of ${Object.keys(MEDIA_FIELDS).join(', ')}, got ${JSON.stringify(type)}`, 'INVALID_ARGUMENT')
  if (!downloadable || typeof downloadable !== 'object') throw new ShardError('downloadContentFromMessage: give the media object, e.g. msg.message.imageMessage', 'INVALID_ARGUMENT')
  return downloadMediaMessage({ message: { [field]: downloadable } }, 'stream', options)
}

module.exports = {
  DisconnectReason,
  delay,
  Browsers,
  fetchLatestBaileysVersion,
  useMultiFileAuthState,
  makeCacheableSignalKeyStore,
  downloadContentFromMessage,
}
