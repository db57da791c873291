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
   * @param {{ text: string, mentions?: string[] }} content
   * @param {{ messageId?: string }} [options]
   */
  async sendMessage(jid, content, options) {
    try {
      return await this._native.sendMessage(this.shardId, jid, content, options ?? null)
    } catch (err) {
      const error = fromNative(err, 'INVALID_ARGUMENT')
      // Arguments the addon could not even read (e.g. a Buffer where this build expects
      // none) fail before the native parser can name the content kind; name it here.
      if (error.code === 'INVALID_ARGUMENT' && content && typeof content === 'object' && !error.message.includes('content')) {
        error.message = `unsupported message content with keys ${JSON.stringify(Object.keys(content))}: ${error.message}`
      }
      throw error
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
}

module.exports = { ShardSocket }
