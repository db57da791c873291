'use strict'
// QR login end to end through the public API against the mock server.
const fs = require('node:fs')
const path = require('node:path')
const { ShardManager } = require('..')
const { MockServer } = require('../testing')
const { tmpDir, waitFor, autoScan, runChild } = require('./helpers')

/** The text of the QR code in a PNG (a decoder independent of the one that drew it). */
function scanPng(buffer) {
  const { PNG } = require('pngjs')
  const jsQR = require('jsqr')
  const png = PNG.sync.read(buffer)
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data
}

let mock
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
})
afterAll(async () => {
  await mock?.close()
})

function newManager(session) {
  return new ShardManager({ session, socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })
}

describe('QR login against the mock server', () => {
  let session
  let manager
  beforeEach(() => {
    session = tmpDir()
    manager = newManager(session)
  })
  afterEach(async () => {
    await manager.close()
  })

  test('two shards pair in parallel by QR, save Baileys-layout credentials, and report it', async () => {
    const updates = []
    const creds = []
    manager.on('login.update', (u) => updates.push(u))
    manager.on('creds.update', (e) => creds.push(e))
    const stop = autoScan(manager, mock)

    const connected = Promise.all(
      ['shard-1', 'shard-2'].map((id) => waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 60000)),
    )
    const [a, b] = await Promise.all([manager.createShard(), manager.createShard()])
    expect([a.id, b.id].sort()).toEqual(['shard-1', 'shard-2'])
    await connected
    stop()

    for (const id of ['shard-1', 'shard-2']) {
      const qr = updates.find((u) => u.shardId === id && u.type === 'qr')
      expect(qr).toMatchObject({ shardId: id, state: 'connecting', type: 'qr' })
      expect(qr.code.split(',').length).toBeGreaterThanOrEqual(4) // ref,noiseKey,identityKey,advSecret[,platform]
      // The original's `image`: a PNG of the QR, which scans back to `code`.
      expect(Buffer.isBuffer(qr.image)).toBe(true)
      expect(scanPng(qr.image)).toBe(qr.code)
      expect(updates.some((u) => u.shardId === id && u.state === 'creds_saved')).toBe(true)

      // creds.update is forwarded with Baileys' payload, Buffers revived.
      const me = creds.find((e) => e.shardId === id && e.data.me)
      expect(me.sock).toBe(manager.socket(id))
      expect(me.data.me.id).toMatch(/^\d+:\d+@s\.whatsapp\.net$/)
      expect(manager.socket(id).user.id).toBe(me.data.me.id)

      expect(await manager.getSessionInfo(id)).toEqual({ exists: true, registered: true, valid: true })
    }
    // Two different accounts.
    expect(manager.socket('shard-1').user.id.split(':')[0]).not.toBe(manager.socket('shard-2').user.id.split(':')[0])

    const infos = manager.getAllShardInfo()
    expect(infos.map((i) => [i.id, i.index, i.total, i.status])).toEqual([
      ['shard-1', 1, 2, 'connected'],
      ['shard-2', 2, 2, 'connected'],
    ])
    expect(manager.getShardInfo('shard-1').updatedAt).toBeInstanceOf(Date)

    // Files are checked once the shards are down: the pre-key upload runs in the background
    // after login, so before that its writes may still be in flight.
    await manager.close()
    for (const id of ['shard-1', 'shard-2']) {
      const dir = path.join(session, id)
      const file = JSON.parse(fs.readFileSync(path.join(dir, 'creds.json'), 'utf8'))
      expect(file.noiseKey.public).toEqual({ type: 'Buffer', data: expect.any(String) })
      expect(file.me.id).toBe(creds.find((e) => e.shardId === id && e.data.me).data.me.id)
      expect(typeof file.account.details).toBe('string')
      const preKeys = fs.readdirSync(dir).filter((f) => /^pre-key-\d+\.json$/.test(f))
      expect(preKeys.length).toBeGreaterThan(0)
      const preKey = JSON.parse(fs.readFileSync(path.join(dir, preKeys[0]), 'utf8'))
      expect(Buffer.from(preKey.public.data, 'base64')).toHaveLength(32)
      for (const f of fs.readdirSync(dir)) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600)
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
      expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
    }
  })

  test('sock.ev gets raw connection.update; shard(id) is one emitter with only its events', async () => {
    const stop = autoScan(manager, mock)
    const { id, sock } = await manager.createShard({ id: 'solo' })
    const emitter = manager.shard(id)
    expect(manager.shard(id)).toBe(emitter)
    expect(manager.shard('nope')).toBeNull()
    const own = []
    emitter.on('login.update', (u) => own.push(u.shardId))
    const qr = waitFor(sock.ev, 'connection.update', (u) => typeof u.qr === 'string')
    const open = waitFor(sock.ev, 'connection.update', (u) => u.connection === 'open', 60000)
    await qr
    await open
    stop()
    expect(own.length).toBeGreaterThan(0)
    expect(new Set(own)).toEqual(new Set(['solo']))
  })

  test('stopShard stops for good; unknown ids are SHARD_NOT_FOUND, thrown and emitted', async () => {
    const stop = autoScan(manager, mock)
    const { id } = await manager.createShard({ id: 'stopper' })
    await waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 60000)
    stop()
    expect(await manager.stopShard(id)).toBe(true)
    expect(manager.getShardInfo(id).status).toBe('stopped')
    const after = []
    manager.on('login.update', (u) => after.push(u))
    await new Promise((r) => setTimeout(r, 3000))
    expect(after).toEqual([])
    expect(manager.getShardInfo(id).status).toBe('stopped')

    const emitted = waitFor(manager, 'shard.error', (e) => e.shardId === 'ghost')
    await expect(manager.stopShard('ghost')).rejects.toMatchObject({ name: 'ShardError', code: 'SHARD_NOT_FOUND' })
    expect((await emitted).error.code).toBe('SHARD_NOT_FOUND')
  })

  test('ids that are not plain names are refused with CREATE_FAILED and nothing is written outside', async () => {
    const outside = path.join(session, '..', 'escaped-' + path.basename(session))
    for (const id of ['../escaped-' + path.basename(session), 'a/b', '', 'x'.repeat(129), 'bad\u0001id']) {
      const emitted = waitFor(manager, 'shard.error', () => true)
      await expect(manager.createShard({ id })).rejects.toMatchObject({ name: 'ShardError', code: 'CREATE_FAILED' })
      expect((await emitted).error.code).toBe('CREATE_FAILED')
    }
    expect(fs.existsSync(outside)).toBe(false)
    expect(fs.existsSync(session) ? fs.readdirSync(session) : []).toEqual([])
    await expect(manager.createShard({ id: 'ok', socket: { version: 'x' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(manager.createShard({ id: 'ok', socket: { waWebSocketUrl: 'https://web.whatsapp.com' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(fs.existsSync(session) ? fs.readdirSync(session) : []).toEqual([])
  })
})

describe('a paired shard in a fresh process', () => {
  test('logs in again without a QR, and the process exits by itself once its shards stop', async () => {
    const session = tmpDir()
    const first = newManager(session)
    const stop = autoScan(first, mock)
    await first.createShard({ id: 'keeper' })
    await waitFor(first, 'login.update', (u) => u.shardId === 'keeper' && u.state === 'connected', 60000)
    stop()
    const userId = first.socket('keeper').user.id
    expect(await first.stopShard('keeper')).toBe(true)

    // No timers, no close(): the child must exit on its own after stopShard.
    const script = `
      const { ShardManager } = require('./index.js')
      const m = new ShardManager({ session: ${JSON.stringify(session)}, socketConfig: { waWebSocketUrl: ${JSON.stringify(mock.url)}, version: [2, 3000, 1] } })
      m.on('login.update', async (u) => {
        console.log(JSON.stringify({ state: u.state, type: u.type }))
        if (u.state === 'connected') {
          console.log(JSON.stringify({ user: m.socket('keeper').user }))
          await m.stopShard('keeper')
        }
      })
      m.createShard({ id: 'keeper' })
    `
    const { code, lines, stderr } = await runChild(script, { timeoutMs: 60000 })
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' })
    expect(lines.some((l) => l.type === 'qr')).toBe(false)
    expect(lines.some((l) => l.state === 'connected')).toBe(true)
    expect(lines.find((l) => l.user).user.id).toBe(userId)
  })
})
