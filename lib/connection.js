'use strict'
// `sock.ws`: the shard's connection, with the members bots use on Baileys' WebSocket client.
const { fromNative } = require('./errors')

// WebSocket readyState values (Baileys' `ws.readyState` is the `ws` package's).
const CONNECTING = 0
const OPEN = 1
const CLOSED = 3

class ShardConnection {
  /** @param {import('./socket').ShardSocket} sock */
  constructor(sock) {
    this._sock = sock
  }

  /** 0 connecting, 1 open, 3 closed (a shard between reconnects counts as connecting). */
  get readyState() {
    const status = this._sock._manager.getShardInfo(this._sock.shardId)?.status
    if (status === 'connected') return OPEN
    if (status === 'initializing' || status === 'disconnected') return CONNECTING
    return CLOSED
  }

  get isOpen() {
    return this.readyState === OPEN
  }

  get isConnecting() {
    return this.readyState === CONNECTING
  }

  get isClosed() {
    return this.readyState === CLOSED
  }

  /** Never true: a close is immediate here. */
  get isClosing() {
    return false
  }

  /**
   * Drops the connection, as bots do to force a reconnect: `connection.update` `close` follows,
   * and the shard reconnects by itself (the manager's reconnect policy), so — unlike with a
   * bare Baileys socket — the bot need not create a new one. `sock.end()` stops it for good.
   * Rejects with `NOT_CONNECTED` when there is no connection to drop.
   * @returns {Promise<void>}
   */
  async close() {
    try {
      await this._sock._shard.dropConnection()
    } catch (err) {
      throw fromNative(err, 'NOT_CONNECTED')
    }
  }
}

module.exports = { ShardConnection }
