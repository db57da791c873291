'use strict'
// `sock`: a Baileys-shaped socket object for one shard. It holds no protocol logic; every
// call goes to the shard in the native manager.
const { EventEmitter } = require('node:events')
const { fromNative } = require('./errors')

class ShardSocket {
  /** @param {import('./manager').ShardManager} manager @param {string} id */
  constructor(manager, id) {
    this._manager = manager
    this._native = manager._native
    /** The shard this socket belongs to. */
    this.shardId = id
    /** Baileys' event emitter: the raw Baileys events of this socket. */
    this.ev = new EventEmitter()
    this.type = 'md'
  }

  /** The logged-in account (`{ id, name?, lid? }`), or undefined before pairing. */
  get user() {
    return this._native.user(this.shardId) ?? undefined
  }

  /**
   * Sends a message, like Baileys' `sock.sendMessage`. Resolves to the sent `WAMessage`
   * (`key.fromMe` true, `status` 1 = PENDING); it is also emitted as `messages.upsert` `append`.
   * @param {string} jid
   * @param {import('..').AnyMessageContent} content
   * @param {import('..').MiscMessageGenerationOptions} [options]
   */
  async sendMessage(jid, content, options) {
    try {
      return await this._native.sendMessage(this.shardId, jid, content, options ?? null)
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
  }

  /** Closes the connection for good (the shard is stopped and does not reconnect). */
  async end(_error) {
    try {
      await this._manager.stopShard(this.shardId)
    } catch {
      // Ending an already-removed shard is not an error in Baileys either.
    }
  }

  /** Logs this device out at WhatsApp and stops the shard; the session folder is kept. */
  async logout() {
    try {
      await this._native.logout(this.shardId)
    } catch (err) {
      throw fromNative(err, 'STOP_FAILED')
    }
    this._manager._afterStateChange()
  }

  /**
   * Sends read receipts, like Baileys' `sock.readMessages`. Keys of your own messages
   * (`fromMe`) are skipped; group keys carry the sender in `participant`. The sender sees
   * `messages.update` with `status` 4 (READ).
   * @param {{ remoteJid: string, id: string, fromMe?: boolean, participant?: string }[]} keys
   * @returns {Promise<void>}
   */
  async readMessages(keys) {
    try {
      await this._native.readMessages(this.shardId, keys ?? null)
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
  }

  /**
   * Like Baileys' `sock.sendPresenceUpdate`: `'available'` / `'unavailable'` set the account's
   * presence; `'composing'`, `'recording'` and `'paused'` are chat states sent to `jid`.
   * @param {'available'|'unavailable'|'composing'|'recording'|'paused'} type
   * @param {string} [jid] the chat, required for the chat states
   * @returns {Promise<void>}
   */
  async sendPresenceUpdate(type, jid) {
    try {
      await this._native.sendPresenceUpdate(this.shardId, type ?? null, jid ?? null)
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
  }

  /**
   * Subscribes to a contact's presence, like Baileys' `sock.presenceSubscribe`; it then
   * arrives as `presence.update`.
   * @param {string} jid
   * @returns {Promise<void>}
   */
  async presenceSubscribe(jid) {
    try {
      await this._native.presenceSubscribe(this.shardId, jid ?? null)
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
  }

  /**
   * Like Baileys 6.7.21's `sock.onWhatsApp(...numbers)`: phone numbers (`'+6281…'`, `'6281…'`
   * or `'6281…@s.whatsapp.net'`) → `[{ jid, exists: true, lid? }]` for those on WhatsApp;
   * numbers not on WhatsApp are left out of the result, as Baileys does.
   * @param {...string} phoneNumbers
   * @returns {Promise<{ jid: string, exists: boolean, lid?: string }[]>}
   */
  async onWhatsApp(...phoneNumbers) {
    try {
      return await this._native.onWhatsApp(this.shardId, phoneNumbers.map((n) => n ?? null))
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
  }
}

module.exports = { ShardSocket }
