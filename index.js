'use strict'
/**
 * baileys-shard: many WhatsApp sessions in one Node.js process, on a Rust engine.
 * Drop-in for the JS package of the same name; it also exports the Baileys utilities bots
 * import next to the socket (`jidNormalizedUser`, `getContentType`, `delay`, `Browsers`, ...).
 */
const { ShardManager } = require('./lib/manager')
const { ShardInfo } = require('./lib/shard-info')
const { ShardError } = require('./lib/errors')
const baileys = require('./lib/baileys')

module.exports = { ShardManager, ShardInfo, ShardError }
// Copied as descriptors, not spread: `proto` stays a getter, built on first use.
Object.defineProperties(module.exports, Object.getOwnPropertyDescriptors(baileys))
module.exports.default = { ShardManager, ShardInfo, ShardError }
