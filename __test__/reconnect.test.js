'use strict'
// The reconnect policy against the mock's fault injection: every close is classified by
// Baileys' DisconnectReason and reported; 515 and transient closes come back by themselves,
// 440 and logged-out sessions stop (and never fight or loop); a fleet restarting respects
// the handshake cap; a malformed frame costs only its own connection.
const fs = require('node:fs')
const path = require('node:path')
const { MockServer } = require('../testing')
const { ShardManager } = require('..')
const { waitFor, autoScan, tmpDir } = require('./helpers')

// Fast backoff so a test sees several reconnects in seconds.
const RECONNECT = { initialDelayMs: 100, maxDelayMs: 1000, stableAfterMs: 2000 }

let mock
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
})
afterAll(async () => {
  await mock?.close()
})
afterEach(async () => {
  await mock.clearFaults()
})

/** A manager with `ids` paired and connected. */
async function fleet(ids, extra = {}) {
  const session = tmpDir()
  const manager = new ShardManager({ session, socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] }, reconnect: RECONNECT, ...extra })
  autoScan(manager, mock)
  const up = Promise.all(ids.map((id) => waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 60000)))
  for (const id of ids) await manager.createShard({ id })
  await up
  return { manager, session }
}

const jidOf = (manager, id) => manager.socket(id).user.id
const update = (manager, id, state, extra = () => true) =>
  waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === state && extra(u), 20000)

/** Collects `login.update`s of `id` while `during` runs. */
async function updatesDuring(manager, id, during) {
  const seen = []
  const listener = (u) => u.shardId === id && seen.push(u)
  manager.on('login.update', listener)
  try {
    await during()
  } finally {
    manager.off('login.update', listener)
  }
  return seen
}

describe('each close is classified and handled', () => {
  let manager
  let session
  beforeAll(async () => {
    ;({ manager, session } = await fleet(['drop', 'restart', 'busy', 'replaced', 'gone', 'locked', 'flaky']))
  }, 120000)
  afterAll(async () => {
    await manager?.close()
  })

  test('a dropped connection is reported as Baileys reports it and comes back by itself', async () => {
    const closes = []
    manager.socket('drop').ev.on('connection.update', (u) => u.connection === 'close' && closes.push(u))
    const down = update(manager, 'drop', 'disconnected')
    const back = update(manager, 'drop', 'connected')
    expect(await mock.dropConnections({ jid: jidOf(manager, 'drop') })).toBe(1)
    const { statusCode, reason } = await down
    expect([408, 428]).toContain(statusCode)
    expect(reason).toEqual(expect.any(String))
    await back
    expect(closes[0].lastDisconnect.error.output.statusCode).toBe(statusCode)
    expect(manager.getShardInfo('drop').status).toBe('connected')
  })

  test('515 restart required: reported with 515 and reconnected at once', async () => {
    const down = update(manager, 'restart', 'disconnected', (u) => u.statusCode === 515)
    const back = update(manager, 'restart', 'connected')
    const started = Date.now()
    await mock.sendStreamError(515, { jid: jidOf(manager, 'restart') })
    await down
    await back
    // No backoff: well under the first retry delay plus a handshake.
    expect(Date.now() - started).toBeLessThan(5000)
  })

  test('503 from the server: transient, reconnected with backoff', async () => {
    const down = update(manager, 'busy', 'disconnected')
    const back = update(manager, 'busy', 'connected')
    await mock.sendStreamError(503, { jid: jidOf(manager, 'busy') })
    expect((await down).statusCode).not.toBe(440)
    await back
  })

  test('440 replaced: the shard stops and never fights for the slot; connect(id) takes it back', async () => {
    const seen = await updatesDuring(manager, 'replaced', async () => {
      const down = update(manager, 'replaced', 'disconnected', (u) => u.statusCode === 440)
      await mock.sendStreamError(440, { jid: jidOf(manager, 'replaced') })
      await down
      await new Promise((r) => setTimeout(r, 1500))
    })
    expect(seen.map((u) => u.state)).not.toContain('connected')
    expect(seen.find((u) => u.statusCode === 440).reason).toMatch(/replaced/)
    expect(manager.getShardInfo('replaced').status).toBe('stopped')
    const back = update(manager, 'replaced', 'connected')
    await manager.connect('replaced')
    await back
  })

  test('401 logged out: stops, and the folder is kept aside in .logged-out/, not deleted', async () => {
    const dir = path.join(session, 'gone')
    const files = fs.readdirSync(dir).sort()
    const out = update(manager, 'gone', 'logged_out')
    await mock.sendStreamError(401, { jid: jidOf(manager, 'gone') })
    const { statusCode, reason } = await out
    expect(statusCode).toBe(401)
    expect(reason).toMatch(/logged-out/)
    // The folder moves once the engine has shut down and flushed.
    for (let i = 0; i < 100 && fs.existsSync(dir); i++) await new Promise((r) => setTimeout(r, 50))
    expect(fs.existsSync(dir)).toBe(false)
    const kept = fs.readdirSync(path.join(session, '.logged-out')).filter((n) => n.startsWith('gone-'))
    expect(kept).toHaveLength(1)
    expect(fs.readdirSync(path.join(session, '.logged-out', kept[0])).sort()).toEqual(expect.arrayContaining(files))
    expect(manager.getShardInfo('gone').status).toBe('logged_out')
  })

  test('a 403 failure at login: logged out, reported with 403', async () => {
    const phone = jidOf(manager, 'locked').split(':')[0]
    await mock.failNextLogins({ reason: 403, count: 1, phone })
    const out = update(manager, 'locked', 'logged_out')
    await mock.dropConnections({ phone })
    expect((await out).statusCode).toBe(403)
  })

  test('a retryable failure at login (503) is retried until the server takes the login', async () => {
    const phone = jidOf(manager, 'flaky').split(':')[0]
    await mock.failNextLogins({ reason: 503, count: 3, phone })
    const back = waitFor(manager, 'login.update', (u) => u.shardId === 'flaky' && u.state === 'connected', 20000)
    await mock.dropConnections({ phone })
    await back
    expect(manager.getShardInfo('flaky').status).toBe('connected')
  })
})

test('a malformed frame closes only that shard’s connection; the others carry on', async () => {
  const { manager } = await fleet(['victim', 'calm-1', 'calm-2'])
  const others = []
  manager.on('login.update', (u) => u.shardId !== 'victim' && u.state !== 'creds_saved' && others.push(u))
  const down = update(manager, 'victim', 'disconnected')
  const back = update(manager, 'victim', 'connected')
  expect(await mock.sendMalformedFrame({ jid: jidOf(manager, 'victim') })).toBe(1)
  await down
  await back
  await new Promise((r) => setTimeout(r, 500))
  expect(others).toEqual([])
  expect(manager.getAllShardInfo().map((i) => i.status)).toEqual(['connected', 'connected', 'connected'])
  await manager.close()
}, 60000)

test('after a server restart every shard comes back, never more than the cap handshaking at once', async () => {
  const ids = Array.from({ length: 10 }, (_, i) => `fleet-${i + 1}`)
  const { manager } = await fleet(ids, { maxConcurrentHandshakes: 2 })
  await mock.resetStats()
  const back = Promise.all(ids.map((id) => waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 60000)))
  // A slow server makes handshakes overlap: without the cap this fleet reaches 4 or more at once.
  await mock.delayResponses({ ms: 300 })
  expect(await mock.restart({ downMs: 500 })).toBeGreaterThanOrEqual(ids.length)
  await back
  const { handshakes } = await mock.stats()
  expect(handshakes.completed).toBeGreaterThanOrEqual(ids.length)
  expect(handshakes.peak).toBeGreaterThanOrEqual(1)
  expect(handshakes.peak).toBeLessThanOrEqual(2)
  expect(manager.getAllShardInfo().every((i) => i.status === 'connected')).toBe(true)
  await manager.close()
}, 120000)

test('a QR nobody scans runs out into its own state, not a reconnect loop', async () => {
  // One QR ref: the client shows it for 60 s (WhatsApp's first-ref lifetime), then gives up.
  const lonely = await MockServer.start({ port: 0, env: { MOCK_QR_REFS: '1' } })
  try {
    const manager = new ShardManager({ session: tmpDir(), socketConfig: { waWebSocketUrl: lonely.url, version: [2, 3000, 1] }, reconnect: RECONNECT })
    const seen = []
    manager.on('login.update', (u) => seen.push(u))
    await manager.createShard({ id: 'nobody' })
    const { statusCode, reason } = await waitFor(manager, 'login.update', (u) => u.state === 'disconnected', 90000)
    expect(statusCode).toBe(408)
    expect(reason).toMatch(/QR/)
    expect(reason).toMatch(/connect\(id\)/)
    const handshakes = (await lonely.stats()).handshakes.started
    await new Promise((r) => setTimeout(r, 2000))
    // Stopped: no new connection, nothing more reported, Node may exit.
    expect((await lonely.stats()).handshakes.started).toBe(handshakes)
    expect(seen.filter((u) => u.type === 'qr')).toHaveLength(1)
    expect(seen.at(-1).state).toBe('disconnected')
    expect(manager.getShardInfo('nobody').status).toBe('stopped')
    await manager.close()
  } finally {
    await lonely.close()
  }
}, 120000)
