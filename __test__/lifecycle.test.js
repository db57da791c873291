'use strict'
// loadAllShards, recreateShard, connect, validateAndCleanSession, cleanupCorruptSessions —
// without the original's defects: nothing registered is ever deleted.
const fs = require('node:fs')
const path = require('node:path')
const { ShardManager } = require('..')
const { MockServer } = require('../testing')
const { waitFor, pairedManager } = require('./helpers')

let mock
let session
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  const paired = await pairedManager(mock, ['one', 'two'])
  session = paired.session
  await paired.manager.close()
})
afterAll(async () => {
  await mock?.close()
})

const newManager = () => new ShardManager({ session, socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })

test('loadAllShards starts every saved session without a QR; corrupt folders are moved aside, never deleted', async () => {
  fs.mkdirSync(path.join(session, 'broken'))
  fs.writeFileSync(path.join(session, 'broken', 'creds.json'), '{"noiseKey": {')
  fs.mkdirSync(path.join(session, 'partial'))
  fs.writeFileSync(path.join(session, 'partial', 'creds.json'), JSON.stringify({ registrationId: 1 }))
  fs.mkdirSync(path.join(session, 'empty-dir'))

  const manager = newManager()
  const updates = []
  const errors = []
  manager.on('login.update', (u) => updates.push(u))
  manager.on('shard.error', (e) => errors.push(e))
  const progress = []
  manager.on('load.progress', (p) => progress.push(p))
  const connected = Promise.all(['one', 'two'].map((id) => waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 30000)))
  const ids = await manager.loadAllShards({ staggerMs: 50 })
  expect(ids).toEqual(['one', 'two'])
  // One progress event per saved folder, in order; the unusable one carries its error.
  expect(progress.map(({ shardId, done, total, error }) => [shardId, done, total, error?.code])).toEqual([
    ['one', 1, 3, undefined],
    ['partial', 2, 3, 'LOAD_FAILED'],
    ['two', 3, 3, undefined],
  ])
  await connected
  expect(updates.filter((u) => u.type === 'qr')).toEqual([])

  // The unreadable folder went to .corrupt/ (the constructor's cleanup), with its file intact.
  expect(fs.existsSync(path.join(session, 'broken'))).toBe(false)
  const corrupt = fs.readdirSync(path.join(session, '.corrupt'))
  expect(corrupt).toEqual([expect.stringMatching(/^broken-\d+$/)])
  expect(fs.readFileSync(path.join(session, '.corrupt', corrupt[0], 'creds.json'), 'utf8')).toBe('{"noiseKey": {')
  // Readable but incomplete: reported, left in place.
  expect(errors.filter((e) => e.error.code === 'LOAD_FAILED').map((e) => e.shardId)).toEqual(['partial'])
  expect(fs.existsSync(path.join(session, 'partial', 'creds.json'))).toBe(true)
  await manager.close()
})

test('connect returns a running shard as it is, and restarts a stopped one without a QR', async () => {
  const manager = newManager()
  const qrs = []
  manager.on('login.update', (u) => u.type === 'qr' && qrs.push(u))
  const up = waitFor(manager, 'login.update', (u) => u.shardId === 'one' && u.state === 'connected', 30000)
  const first = await manager.connect('one')
  await up
  const again = await manager.connect('one')
  expect(again.sock).toBe(first.sock)
  expect(manager.getShardInfo('one').status).toBe('connected')

  await manager.stopShard('one')
  const back = waitFor(manager, 'login.update', (u) => u.shardId === 'one' && u.state === 'connected', 30000)
  await manager.connect('one')
  await back
  expect(qrs).toEqual([])
  await manager.close()
})

test('recreateShard restarts on the same folder; with clearSession the old folder is kept in .cleared/ and a new QR comes', async () => {
  const manager = newManager()
  const up = waitFor(manager, 'login.update', (u) => u.shardId === 'two' && u.state === 'connected', 30000)
  await manager.createShard({ id: 'two' })
  await up
  const userBefore = manager.socket('two').user.id

  const again = waitFor(manager, 'login.update', (u) => u.shardId === 'two' && u.state === 'connected', 30000)
  await manager.recreateShard({ id: 'two' })
  await again
  expect(manager.socket('two').user.id).toBe(userBefore)

  const qr = waitFor(manager, 'login.update', (u) => u.shardId === 'two' && u.type === 'qr', 30000)
  const { sock } = await manager.recreateShard({ id: 'two', clearSession: true })
  await qr
  expect(sock).toBe(manager.socket('two'))
  const cleared = fs.readdirSync(path.join(session, '.cleared'))
  expect(cleared).toEqual([expect.stringMatching(/^two-\d+$/)])
  const kept = JSON.parse(fs.readFileSync(path.join(session, '.cleared', cleared[0], 'creds.json'), 'utf8'))
  expect(kept.me.id).toBe(userBefore)
  await manager.close()

  await expect(newManager().recreateShard({})).rejects.toMatchObject({ code: 'RECREATE_FAILED' })
})

test('validateAndCleanSession never touches a registered session; an empty sessions folder gives NO_SESSIONS', async () => {
  const manager = newManager()
  await manager.validateAndCleanSession(path.join(session, 'one'))
  expect((await manager.checkSessionStatus(path.join(session, 'one'))).registered).toBe(true)

  const empty = new ShardManager({ session: fs.mkdtempSync(path.join(session, 'none-')) })
  const noSessions = waitFor(empty, 'shard.error', (e) => e.error.code === 'NO_SESSIONS', 5000)
  expect(await empty.loadAllShards()).toEqual([])
  await noSessions
})
