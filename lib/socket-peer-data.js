'use strict'
// Baileys' peer data operation members on `sock`: requests this device sends the account's
// own phone — `fetchMessageHistory` (older messages of a chat, answered as a
// `messaging-history.set` with `syncType` 6, ON_DEMAND) and `requestPlaceholderResend` (a
// message this device could not read, answered as a `messages.upsert` with `requestId`).
const { ShardError, callNative: call } = require('./errors')

/** A `number`, `bigint`, numeric string or protobufjs `Long` as a number; else NaN. */
function toNumber(v) {
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  if (typeof v === 'string' && v.trim() !== '') return Number(v)
  if (v != null && typeof v === 'object' && typeof v.toNumber === 'function') return v.toNumber()
  return NaN
}

/** The key's fields the native side reads; anything else is left out (and reported there). */
function keyFields(key) {
  if (key == null || typeof key !== 'object') return null
  const str = (v) => (typeof v === 'string' ? v : undefined)
  return {
    remoteJid: str(key.remoteJid),
    fromMe: typeof key.fromMe === 'boolean' ? key.fromMe : undefined,
    id: str(key.id),
    participant: str(key.participant),
  }
}

/** @this {import('./socket').ShardSocket} */
const peerDataCalls = {
  /**
   * Asks the account's phone for up to `count` messages of `oldestMsgKey.remoteJid` older than
   * that message, like Baileys' `sock.fetchMessageHistory`. Resolves to the request's message
   * id once it is sent; the phone's answer arrives later as a `messaging-history.set` with
   * `syncType` 6 (`proto.HistorySync.HistorySyncType.ON_DEMAND`) — reported, as in Baileys,
   * only when the socket processes history (`syncFullHistory` or `shouldSyncHistoryMessage`).
   * @param {number} count
   * @param {import('..').WAMessageKey} oldestMsgKey
   * @param {number | bigint | { toNumber(): number }} oldestMsgTimestamp passed to the phone as
   *   given (the request's `oldestMsgTimestampMs`)
   * @returns {Promise<string>}
   */
  fetchMessageHistory(count, oldestMsgKey, oldestMsgTimestamp) {
    const key = keyFields(oldestMsgKey)
    if (!key) return Promise.reject(new ShardError('fetchMessageHistory: oldestMsgKey must be a message key { remoteJid, fromMe, id }', 'INVALID_ARGUMENT'))
    return call(() => this._shard.fetchMessageHistory(toNumber(count), key, toNumber(oldestMsgTimestamp)))
  },

  /**
   * Asks the account's phone to send again a message this device could not read, like Baileys'
   * `sock.requestPlaceholderResend`. The phone's answer arrives as `messages.upsert`
   * `{ messages: [message], type: 'notify', requestId }`; a message the phone does not know gets
   * no event. The request is sent at once, once per message a day (Baileys waits 5 s first);
   * resolves to `undefined` when it is sent.
   * @param {import('..').WAMessageKey} messageKey
   * @returns {Promise<undefined>}
   */
  async requestPlaceholderResend(messageKey) {
    const key = keyFields(messageKey)
    if (!key) throw new ShardError('requestPlaceholderResend: messageKey must be a message key { remoteJid, fromMe, id }', 'INVALID_ARGUMENT')
    await call(() => this._shard.requestPlaceholderResend(key))
    return undefined
  },
}

module.exports = { peerDataCalls }
