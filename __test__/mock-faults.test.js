'use strict'
// The MockServer fault-injection methods (testing.js) against real shards: each method reaches
// the mock and does what it says, and the shards react as they would to WhatsApp.
const { MockServer } = require('../testing')
const { waitFor, pairedManager } = require('./helpers')

let mock
let manager
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  ;({ manager } = await pairedManager(mock, ['faulty', 'steady']))
}, 120000)
afterAll(async () => {
  await manager?.close()
  await mock?.close()
})
afterEach(async () => {
  await mock.clearFaults()
})

const phoneOf = (id) => manager.socket(id).user.id.split(/[:@]/)[0]
const state = (id, s) => (u) => u.shardId === id && u.state === s

test('dropConnections: the shard reports the loss and comes back on its own', async () => {
  const updates = []
  const listener = (u) => u.shardId === 'faulty' && updates.push(u.state)
  manager.on('login.update', listener)
  const back = waitFor(manager, 'login.update', state('faulty', 'connected'), 30000)
  expect(await mock.dropConnections({ phone: phoneOf('faulty') })).toBe(1)
  await back
  manager.off('login.update', listener)
  expect(updates).toEqual(['disconnected', 'connected'])
  const stats = await mock.stats()
  expect(stats.faults.dropped).toBe(1)
  expect(stats.connections.loggedIn).toBe(2)
}, 60000)

test('restart: every shard comes back without a QR; stats count the handshakes', async () => {
  await mock.resetStats()
  const qrs = []
  const onQr = (u) => u.type === 'qr' && qrs.push(u)
  manager.on('login.update', onQr)
  const back = Promise.all(['faulty', 'steady'].map((id) => waitFor(manager, 'login.update', state(id, 'connected'), 60000)))
  expect(await mock.restart({ downMs: 800 })).toBe(2)
  await back
  manager.off('login.update', onQr)
  expect(qrs).toEqual([])
  const { handshakes, connections } = await mock.stats()
  expect(handshakes.completed).toBeGreaterThanOrEqual(2)
  expect(handshakes.peak).toBeGreaterThanOrEqual(1)
  expect(handshakes.current).toBe(0)
  expect(connections.loggedIn).toBe(2)
}, 90000)

test('sendStreamError 515 restarts the stream; a malformed frame hits only its target', async () => {
  const back = waitFor(manager, 'login.update', state('faulty', 'connected'), 30000)
  expect(await mock.sendStreamError(515, { phone: phoneOf('faulty') })).toBe(1)
  await back

  const steadyUpdates = []
  const onSteady = (u) => u.shardId === 'steady' && steadyUpdates.push(u.state)
  manager.on('login.update', onSteady)
  const again = waitFor(manager, 'login.update', state('faulty', 'connected'), 30000)
  expect(await mock.sendMalformedFrame({ phone: phoneOf('faulty') })).toBe(1)
  await again
  manager.off('login.update', onSteady)
  expect(steadyUpdates).toEqual([])
  expect(manager.getShardInfo('steady').status).toBe('connected')
}, 60000)

test('failNextLogins, delayResponses, refuseConnections and setDropRate are accepted and cleared', async () => {
  await mock.failNextLogins({ reason: 503, count: 2, phone: phoneOf('faulty') })
  await mock.delayResponses({ ms: 200, only: 'iq' })
  await mock.refuseConnections(100, { how: 'http503' })
  const rate = await mock.setDropRate({ probability: 0.1, on: 'message', at: 'before', maxDrops: 5 })
  expect(rate).toMatchObject({ probability: 0.1, on: 'message', at: 'before', maxDrops: 5, drops: 0 })
  expect(await mock.setDropRate({ probability: 0 })).toBeNull()
  await expect(mock.setDropRate({ probability: 2 })).rejects.toThrow(/HTTP 400.*0\.\.=1/)
  await expect(mock.sendMalformedFrame({})).rejects.toThrow(/HTTP 400.*target/)
  await mock.clearFaults()
  // Nothing armed any more: a drop is followed by a normal login (not two 503 failures).
  const back = waitFor(manager, 'login.update', state('faulty', 'connected'), 30000)
  await mock.dropConnections({ phone: phoneOf('faulty') })
  await back
  expect((await mock.stats()).faults.loginFailures).toBe(0)
}, 60000)
