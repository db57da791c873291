// Tests run the test build of the addon (it trusts the mock server's certificate), asked for
// as users ask for a testing build: baileys-shard/testing first (no insecure-addon warning).
const path = require('node:path')

process.env.BAILEYS_SHARD_NATIVE ||= path.join(__dirname, '..', 'target', 'test-addon', 'baileys-shard.linux-x64-gnu.node')
require('../testing')
