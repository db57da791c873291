'use strict'
// Bad input never crashes the process and never costs a registered session: garbage files in a
// session folder are skipped (and left as they are), a truncated creds.json is reported with a
// reason, and the folder is kept.
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { ShardManager } = require('..')
const { MockServer } = require('../testing')
const { waitFor, pairedManager } = require('./helpers')

let mock
let session
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  const paired = await pairedManager(mock, ['messy'])
  session = paired.session
  await paired.manager.close()
}, 60000)
afterAll(async () => {
  await mock?.close()
})

const newManager = () => new ShardManager({ session, socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })

test('a registered session with garbage files next to its own still logs in without a QR; the garbage is left untouched', async () => {
  const dir = path.join(session, 'messy')
  const garbage = {
    'session-999.0.json': crypto.randomBytes(300),
    'pre-key-424242.json': Buffer.from('{"private": {"type": "Buffer", "data": "AAE'),
    'sender-key-1@g.us--2.0.json': Buffer.from('[1, 2, 3'),
    'app-state-sync-key-AAAA.json': Buffer.from('null'),
    'notes.txt': Buffer.from('not ours'),
  }
  for (const [name, bytes] of Object.entries(garbage)) fs.writeFileSync(path.join(dir, name), bytes)
  fs.mkdirSync(path.join(dir, 'a-folder'))

  const manager = newManager()
  const qrs = []
  manager.on('login.update', (u) => u.type === 'qr' && qrs.push(u))
  const connected = waitFor(manager, 'login.update', (u) => u.shardId === 'messy' && u.state === 'connected', 30000)
  await manager.createShard({ id: 'messy' })
  await connected
  expect(qrs).toEqual([])
  await manager.close()
  for (const [name, bytes] of Object.entries(garbage)) {
    expect(fs.readFileSync(path.join(dir, name)).equals(bytes)).toBe(true)
  }
  expect(fs.statSync(path.join(dir, 'a-folder')).isDirectory()).toBe(true)
})

test('a truncated creds.json is reported with a reason by getSessionInfo and checkSessionStatus, and kept', async () => {
  // Constructed first: its start-up cleanup would move the unreadable folder to .corrupt/.
  const manager = newManager()
  const dir = path.join(session, 'cut')
  fs.cpSync(path.join(session, 'messy'), dir, { recursive: true })
  const creds = fs.readFileSync(path.join(dir, 'creds.json'))
  const cut = creds.subarray(0, Math.floor(creds.length / 2))
  fs.writeFileSync(path.join(dir, 'creds.json'), cut)

  const info = await manager.getSessionInfo('cut')
  expect(info).toMatchObject({ exists: true, registered: false, valid: false })
  expect(info.reason).toBe('Corrupt JSON') // the original package's reason string
  expect(await manager.checkSessionStatus(dir)).toEqual(info)
  // Loading it is refused with LOAD_FAILED; the folder stays as it is.
  const errors = []
  manager.on('shard.error', (e) => errors.push(e))
  await manager.loadAllShards({ staggerMs: 0 })
  await manager.close()
  expect(errors.filter((e) => e.shardId === 'cut').map((e) => e.error.code)).toEqual(['LOAD_FAILED'])
  expect(fs.readFileSync(path.join(dir, 'creds.json')).equals(cut)).toBe(true)
  expect(fs.readdirSync(dir).filter((n) => n.startsWith('pre-key-')).length).toBeGreaterThan(0)
})

test('getSessionInfo of an id that is not a plain name is INVALID_ARGUMENT, never a path outside', async () => {
  const manager = newManager()
  await expect(manager.getSessionInfo('../../etc')).rejects.toMatchObject({ name: 'ShardError', code: 'INVALID_ARGUMENT' })
  await manager.close()
})

test('loadAllShards refuses a negative or fractional staggerMs instead of wrapping it to 49 days', async () => {
  const manager = newManager()
  for (const staggerMs of [-5, 1.5, Number.NaN, 2 ** 32, '100']) {
    await expect(manager.loadAllShards({ staggerMs })).rejects.toMatchObject({ name: 'ShardError', code: 'INVALID_ARGUMENT' })
  }
  expect(manager.getAllShardInfo()).toEqual([])
  await manager.close()
})

test('an argument too large to read (a sparse array, objects shared many times) is INVALID_ARGUMENT, not a crash', async () => {
  const { ShardError } = require('..')
  const { aliceAndBob } = require('./helpers')
  const sparse = []
  sparse.length = 2 ** 32 - 1
  // 2^25 paths through 25 levels of one shared object: read once per reference, it never ends.
  let shared = { leaf: 'x' }
  for (let i = 0; i < 25; i++) shared = { a: shared, b: shared }
  const { manager, alice, bobJid, close } = await aliceAndBob()
  try {
    for (const content of [{ text: 'hi', mentions: sparse }, { text: 'hi', contextInfo: shared }]) {
      const err = await alice.sendMessage(bobJid, content).catch((e) => e)
      expect(err).toBeInstanceOf(ShardError)
      expect(err.code).toBe('INVALID_ARGUMENT')
      expect(err.message).toMatch(/too large/)
    }
    // The shard is still connected and sends.
    expect((await alice.sendMessage(bobJid, { text: 'still here' })).key.id).toEqual(expect.any(String))
    expect(manager.getShardInfo('alice').status).toBe('connected')
  } finally {
    await close()
  }
})
