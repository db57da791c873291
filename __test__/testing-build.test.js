'use strict'
// The test build of the addon (the one jest loads) trusts the mock server: it skips the check
// of WhatsApp's certificate chain. So it must never talk to a server elsewhere: it dials
// loopback addresses only. A listener on every interface shows it: reached through 127.0.0.1
// it gets the shard's connection, through this machine's own outside address it gets none.
// (A host name that resolves outside is refused the same way: crates/shard-core ws_dial tests.)
const net = require('node:net')
const { ShardManager } = require('..')
const { tmpDir, outsideAddress } = require('./helpers')

/** The TCP connections a shard makes to `host` within `ms`, and the `shard.error`s it reports. */
async function connectionsFrom(host, ms) {
  const server = net.createServer((socket) => socket.destroy())
  let count = 0
  server.on('connection', () => count++)
  await new Promise((resolve) => server.listen(0, '0.0.0.0', resolve))
  const manager = new ShardManager({ session: tmpDir(), socketConfig: { waWebSocketUrl: `ws://${host}:${server.address().port}/ws/chat`, connectTimeoutMs: 1000 } })
  const errors = []
  manager.on('shard.error', ({ error }) => errors.push({ code: error.code, message: error.message }))
  try {
    await manager.createShard({ id: 'probe' })
    await new Promise((resolve) => setTimeout(resolve, ms))
    return { count, errors }
  } finally {
    await manager.close()
    await new Promise((resolve) => server.close(resolve))
  }
}

const outside = outsideAddress()

test('through a loopback address the shard connects (the listener sees it)', async () => {
  expect((await connectionsFrom('127.0.0.1', 3000)).count).toBeGreaterThan(0)
})

;(outside ? test : test.skip)('through an address outside loopback it never connects, and says why once (CONNECT_FAILED)', async () => {
  const { count, errors } = await connectionsFrom(outside, 3000)
  expect(count).toBe(0)
  // It keeps retrying (every second here), but reports the same reason only once.
  expect(errors).toEqual([{ code: 'CONNECT_FAILED', message: expect.stringContaining(`connects only to servers on this machine (loopback addresses); ${outside} is ${outside}`) }])
})
