'use strict'
/**
 * baileys-shard: many WhatsApp sessions in one Node.js process, on a Rust engine.
 * Drop-in for the JS package of the same name.
 */
const { ShardManager } = require('./lib/manager')
const { ShardInfo } = require('./lib/shard-info')
const { ShardError } = require('./lib/errors')
const { BufferJSON } = require('./lib/buffer-json')
const { downloadMediaMessage } = require('./lib/media')

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

module.exports = { ShardManager, ShardInfo, ShardError, DisconnectReason, BufferJSON, downloadMediaMessage }
module.exports.default = { ShardManager, ShardInfo, ShardError }
