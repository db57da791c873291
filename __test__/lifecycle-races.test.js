'use strict'
// Lifecycle calls that overlap: a shard stopped or a manager closed while it starts stays down;
// loadAllShards starts nothing after close(); a createShard made from the `logged_out` handler
// (the folder is being moved aside) starts fresh on a new folder, never on the old one.
const fs = require('node:fs')
const path = require('node:path')
const { ShardManager } = require('..')
const { MockServer } = require('../testing')
const { waitFor, autoScan, pairedManager, tmpDir } = require('./helpers')

let mock
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
})
afterAll(async () => {
  await mock?.close()
})

const config = (session) => ({ session, socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** A folder with thousands of unusable key files: opening it takes long enough for a stop to land meanwhile. */
function slowToOpen(session, id) {
  const dir = path.join(session, id)
  fs.mkdirSync(dir, { recursive: true })
  for (let i = 0; i < 4000; i++) fs.writeFileSync(path.join(dir, `pre-key-${i}.json`), '{}')
  return session
}

test('close() while createShard is starting: the shard stays stopped (no QR, no connection afterwards)', async () => {
  for (let round = 0; round < 5; round++) {
    const manager = new ShardManager(config(slowToOpen(tmpDir(), `racer-${round}`)))
    const after = []
    let closed = false
    manager.on('login.update', (u) => closed && after.push(u.state + (u.type ? `/${u.type}` : '')))
    const created = manager.createShard({ id: `racer-${round}` }).catch((e) => e)
    await manager.close()
    closed = true
    await created
    await sleep(1500)
    expect({ round, after }).toEqual({ round, after: [] })
    expect(manager.getAllShardInfo().map((s) => s.status)).not.toContain('connected')
    expect(manager.getAllShardInfo().filter((s) => ['initializing', 'connected', 'disconnected'].includes(s.status))).toEqual([])
  }
})

test('stopShard while the shard is starting: it stays stopped', async () => {
  const session = tmpDir()
  const manager = new ShardManager(config(session))
  const qrs = []
  manager.on('login.update', (u) => u.type === 'qr' && qrs.push(u.shardId))
  for (let round = 0; round < 5; round++) {
    const id = `stopped-${round}`
    slowToOpen(session, id)
    const created = manager.createShard({ id })
    // The shard is registered as soon as the call runs; stop it before its engine is up.
    for (let i = 0; i < 100 && !manager.getShardInfo(id); i++) await sleep(1)
    await manager.stopShard(id)
    await created
  }
  await sleep(1500)
  expect(qrs).toEqual([])
  expect(manager.getAllShardInfo().map((s) => s.status)).toEqual(Array(5).fill('stopped'))
  await manager.close()
})

test('close() during loadAllShards: the sessions not yet started are not started', async () => {
  const ids = ['l1', 'l2', 'l3', 'l4']
  const paired = await pairedManager(mock, ids)
  await paired.manager.close()
  const manager = new ShardManager(config(paired.session))
  const first = waitFor(manager, 'load.progress', () => true, 20000)
  const loading = manager.loadAllShards({ staggerMs: 700 })
  await first
  await manager.close()
  const started = await loading
  expect(started.length).toBeLessThan(ids.length)
  await sleep(1500)
  expect(manager.getAllShardInfo().map((s) => s.id)).toEqual(started)
  expect(manager.getAllShardInfo().every((s) => s.status === 'stopped')).toBe(true)
})

test('createShard from the logged_out handler starts fresh, after the old folder was moved aside intact', async () => {
  const session = tmpDir()
  const manager = new ShardManager(config(session))
  autoScan(manager, mock)
  const connected = waitFor(manager, 'login.update', (u) => u.shardId === 'phoenix' && u.state === 'connected', 30000)
  await manager.createShard({ id: 'phoenix' })
  await connected
  const oldJid = manager.socket('phoenix').user.id
  const dir = path.join(session, 'phoenix')

  const recreated = new Promise((resolve, reject) => {
    const onOut = (u) => {
      if (u.shardId !== 'phoenix' || u.state !== 'logged_out') return
      manager.off('login.update', onOut)
      // Reported only once the folder has moved: the old session is no longer where the new shard starts.
      const movedAlready = !fs.existsSync(path.join(dir, 'creds.json'))
      manager.createShard({ id: 'phoenix' }).then(() => resolve(movedAlready), reject)
    }
    manager.on('login.update', onOut)
  })
  const reconnected = waitFor(manager, 'login.update', (u) => u.shardId === 'phoenix' && u.state === 'connected', 40000)
  await mock.sendStreamError(401, { jid: oldJid })
  expect(await recreated).toBe(true)
  await reconnected
  const newJid = manager.socket('phoenix').user.id
  expect(newJid).not.toBe(oldJid)

  // The old session, kept aside, is the old device's, whole; the new folder is the new device's.
  const kept = fs.readdirSync(path.join(session, '.logged-out')).filter((n) => n.startsWith('phoenix-'))
  expect(kept).toHaveLength(1)
  const oldCreds = JSON.parse(fs.readFileSync(path.join(session, '.logged-out', kept[0], 'creds.json'), 'utf8'))
  expect(oldCreds.me.id).toBe(oldJid)
  for (let i = 0; i < 100 && !fs.existsSync(path.join(dir, 'creds.json')); i++) await sleep(50)
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'creds.json'), 'utf8')).me.id).toBe(newJid)
  await manager.close()
}, 90000)
