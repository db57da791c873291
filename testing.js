'use strict'
/**
 * baileys-shard for tests: the built-in mock WhatsApp server, and the whole API of
 * `baileys-shard` on the testing build of the addon, which trusts the mock server's certificate.
 *
 * The addon users run verifies WhatsApp's certificate chain, so it refuses the mock. The testing
 * build skips that check and therefore connects to servers on this machine only (loopback
 * addresses, checked after the host name is resolved). A process loads one build: require this
 * module before anything requires `baileys-shard` (first in a test file, in jest's `setupFiles`,
 * or `node -r baileys-shard/testing bot.js`), and `require('baileys-shard')` gives the testing
 * build too.
 *
 * @example
 * const { ShardManager, MockServer } = require('baileys-shard/testing')
 * const mock = await MockServer.start({ port: 0 })
 * const manager = new ShardManager({ socketConfig: { waWebSocketUrl: mock.url } })
 * manager.on('login.update', ({ type, code }) => { if (type === 'qr') mock.scanQr(code) })
 * await manager.createShard({ id: 'bot' })
 * // ...
 * await manager.close()
 * await mock.close()
 */
const flavour = require('./lib/flavour')
const { MockServer } = require('./lib/mock-server')

if (flavour.loaded === null) flavour.wanted = 'testing'
const api = require('./index.js')

/** The release build was loaded before this module: its managers would refuse the mock. */
function releaseLoaded() {
  const error = new Error(
    "baileys-shard/testing was required after baileys-shard had loaded the addon users run, which refuses the mock server's " +
      'certificate (one build per process). Require baileys-shard/testing before anything requires baileys-shard: first in the ' +
      "test file, in jest's setupFiles, or `node -r baileys-shard/testing bot.js`.",
  )
  error.code = 'RELEASE_ADDON_LOADED'
  return error
}

const ShardManager =
  flavour.loaded === 'release'
    ? class ShardManager {
        constructor() {
          throw releaseLoaded()
        }
      }
    : api.ShardManager

// Every export of baileys-shard, as descriptors (`proto` stays a lazy getter), and the mock.
module.exports = Object.defineProperties({}, Object.getOwnPropertyDescriptors(api))
module.exports.ShardManager = ShardManager
module.exports.MockServer = MockServer
module.exports.default = { ...api.default, ShardManager, MockServer }
