'use strict'
// Every `shard.error` code the README lists is produced where the README says. Codes covered
// in other suites: CREATE_FAILED and SHARD_NOT_FOUND (login.test.js), LOAD_FAILED and
// NO_SESSIONS (lifecycle.test.js), PAIRING_FAILED (pairing-code.test.js: the mock refuses the
// pairing-code request, `MockServer#refusePairingCodes`).
const fs = require('node:fs')
const path = require('node:path')
const { ShardManager, ShardError } = require('..')
const { MockServer } = require('../testing')
const { tmpDir, waitFor } = require('./helpers')

let mock
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
})
afterAll(async () => {
  await mock?.close()
})

const newManager = (session = tmpDir(), extra = {}) =>
  new ShardManager({ session, socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] }, ...extra })

/** Runs `action`, expecting it to throw a ShardError `code` that is also emitted on `shard.error`. */
async function expectCode(manager, code, action) {
  const emitted = waitFor(manager, 'shard.error', (e) => e.error.code === code, 5000)
  const thrown = await action().then(
    () => null,
    (err) => err,
  )
  expect(thrown).toBeInstanceOf(ShardError)
  expect(thrown.code).toBe(code)
  expect((await emitted).error).toBe(thrown)
  return thrown
}

test('RECREATE_FAILED: recreateShard without an id, or with one that is not a plain name', async () => {
  const manager = newManager()
  await expectCode(manager, 'RECREATE_FAILED', () => manager.recreateShard({}))
  const err = await expectCode(manager, 'RECREATE_FAILED', () => manager.recreateShard({ id: '../elsewhere' }))
  expect(err.message).toMatch(/id/)
  await manager.close()
})

test('CONNECT_FAILED: connect(id) that cannot start the shard', async () => {
  const manager = newManager()
  await expectCode(manager, 'CONNECT_FAILED', () => manager.connect('a/b'))
  await manager.close()
})

test('CREDS_SAVE_FAILED: credentials that cannot be written are reported, and nothing is deleted', async () => {
  const session = tmpDir()
  const manager = newManager(session)
  const qr = waitFor(manager, 'login.update', (u) => u.type === 'qr')
  await manager.createShard({ id: 'stuck' })
  const { code } = await qr
  // Make creds.json impossible to replace: a non-empty folder of that name.
  const creds = path.join(session, 'stuck', 'creds.json')
  fs.rmSync(creds, { force: true })
  fs.mkdirSync(creds)
  fs.writeFileSync(path.join(creds, 'keep-me'), 'x')
  const failed = waitFor(manager, 'shard.error', (e) => e.error.code === 'CREDS_SAVE_FAILED', 30000)
  await mock.scanQr(code)
  const { shardId, error } = await failed
  expect(shardId).toBe('stuck')
  expect(error.message).toMatch(/creds\.json/)
  expect(fs.readFileSync(path.join(creds, 'keep-me'), 'utf8')).toBe('x')
  await manager.close()
})

test('INVALID_ARGUMENT: malformed manager options are refused at construction', () => {
  for (const bad of [0, -1, 1.5, 'many']) {
    let err
    try {
      newManager(tmpDir(), { maxConcurrentHandshakes: bad })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ShardError)
    expect(err.code).toBe('INVALID_ARGUMENT')
  }
  for (const url of ['http://127.0.0.1/ws/chat', 'ws://', 'not a url']) {
    let err
    try {
      new ShardManager({ session: tmpDir(), socketConfig: { waWebSocketUrl: url } })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ShardError)
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toMatch(/waWebSocketUrl/)
  }
})

test('SESSION_LOCKED: a session folder another manager runs is refused and left untouched', async () => {
  const session = tmpDir()
  const owner = newManager(session)
  const qr = waitFor(owner, 'login.update', (u) => u.shardId === 'shared' && u.type === 'qr', 20000)
  await owner.createShard({ id: 'shared' })
  await qr
  const dir = path.join(session, 'shared')
  const before = fs.readdirSync(dir).map((f) => [f, fs.statSync(path.join(dir, f)).mtimeMs])

  const second = newManager(session)
  const err = await expectCode(second, 'SESSION_LOCKED', () => second.createShard({ id: 'shared' }))
  expect(err.message).toContain(`process ${process.pid}`)
  expect(fs.readdirSync(dir).map((f) => [f, fs.statSync(path.join(dir, f)).mtimeMs])).toEqual(before)
  expect(second.getShardInfo('shared') ?? null).toBeNull()

  // Released when its owner stops: the folder can be taken over.
  await owner.close()
  const taken = waitFor(second, 'login.update', (u) => u.shardId === 'shared' && u.type === 'qr', 20000)
  await second.createShard({ id: 'shared' })
  await taken
  await second.close()
})

test('SESSION_DAMAGED: a key file that cannot be used is reported by name and kept; the shard runs', async () => {
  const session = tmpDir()
  const dir = path.join(session, 'dented')
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'session-123.0.json'), '{ not json')
  const manager = newManager(session)
  const damaged = waitFor(manager, 'shard.error', (e) => e.error.code === 'SESSION_DAMAGED', 10000)
  const qr = waitFor(manager, 'login.update', (u) => u.shardId === 'dented' && u.type === 'qr', 20000)
  await manager.createShard({ id: 'dented' })
  const { shardId, error } = await damaged
  expect(shardId).toBe('dented')
  expect(error.message).toMatch(/^1 file\(s\) in .* left out \(the files are kept\): session-123\.0\.json \(/)
  await qr
  expect(fs.readFileSync(path.join(dir, 'session-123.0.json'), 'utf8')).toBe('{ not json')
  await manager.close()
})
