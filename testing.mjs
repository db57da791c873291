// Loaded first, testing.js makes this process load the testing build of the addon.
import testing from './testing.js'

// Every name of baileys-shard (index.mjs, loaded after testing.js, so on the same build), and
// the two of baileys-shard/testing. __test__/exports.test.js checks the names match testing.js'.
export * from './index.mjs'
export const { MockServer, ShardManager } = testing
export default testing.default
