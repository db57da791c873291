'use strict'
// Pairing-code login ("link with phone number instead") end to end against the mock server:
// a shard created with `phoneNumber` shows a code, the mock phone's user types it, the shard is
// linked as a device of that number and later logs in from its session without any code or QR.
// A code request WhatsApp refuses (the mock's `refusePairingCodes` fault) is `shard.error`
// PAIRING_FAILED, and the next connection gets a code. The real Baileys 6.7.21 pairs through
// the same mock flow.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')
const { spawn } = require('node:child_process')
const { ShardManager, ShardError } = require('..')
const { MockServer } = require('../testing')
const { tmpDir, waitFor } = require('./helpers')
const { LOGGER_JS } = require('./baileys-peer')

const ROOT = path.join(__dirname, '..')

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

describe('createShard({ phoneNumber })', () => {
  test('shows a pairing code, pairs when it is typed on the phone, then logs in from the session without one', async () => {
    const phone = '15550001111'
    const session = tmpDir()
    const manager = newManager(session)
    try {
      const updates = []
      const errors = []
      manager.on('login.update', (u) => updates.push(u))
      manager.on('shard.error', (e) => errors.push(e))

      const pairing = waitFor(manager, 'login.update', (u) => u.shardId === 'coded' && u.type === 'pairing', 30000)
      const connected = waitFor(manager, 'login.update', (u) => u.shardId === 'coded' && u.state === 'connected', 60000)
      const { sock } = await manager.createShard({ id: 'coded', phoneNumber: phone })
      expect(manager.getShardInfo('coded').phoneNumber).toBe(phone)

      const { code } = await pairing
      expect(code).toMatch(/^[1-9A-HJ-NP-TV-Z]{8}$/)

      // A wrong code is refused by the phone and links nothing.
      const wrong = (code[0] === 'A' ? 'B' : 'A') + code.slice(1)
      await expect(mock.enterPairingCode(phone, wrong)).rejects.toThrow(/HTTP 400 .*wrong pairing code/)
      // A number nobody asked a code for.
      await expect(mock.enterPairingCode('15559999999', code)).rejects.toThrow(/HTTP 404/)

      const linked = await mock.enterPairingCode(phone, code)
      expect(linked.phone).toBe(phone)
      await connected
      expect(sock.user.id.startsWith(`${phone}:`)).toBe(true)
      expect(sock.user.id).toBe(linked.jid)
      expect(errors).toEqual([])

      // One code for one connection: QR rotations and the pairing itself did not ask again,
      // and the code was reported once.
      const codes = updates.filter((u) => u.shardId === 'coded' && u.type === 'pairing')
      expect(codes).toEqual([{ shardId: 'coded', state: 'connecting', type: 'pairing', code }])
      expect(await manager.getSessionInfo('coded')).toEqual({ exists: true, registered: true, valid: true })

      // Stopped and created again (with its number): the saved session logs in, no code, no QR.
      expect(await manager.stopShard('coded')).toBe(true)
      const again = []
      manager.on('login.update', (u) => again.push(u))
      const reconnected = waitFor(manager, 'login.update', (u) => u.shardId === 'coded' && u.state === 'connected', 60000)
      const second = await manager.createShard({ id: 'coded', phoneNumber: phone })
      await reconnected
      expect(second.sock.user.id).toBe(linked.jid)
      expect(again.filter((u) => u.type === 'pairing' || u.type === 'qr')).toEqual([])
      expect(errors).toEqual([])
    } finally {
      await manager.close()
    }
  })

  test('a refused code request is PAIRING_FAILED once, shows no code, and the next connection gets one that pairs', async () => {
    const phone = '15550004444'
    const manager = newManager(tmpDir())
    try {
      const updates = []
      const errors = []
      manager.on('login.update', (u) => updates.push(u))
      manager.on('shard.error', (e) => errors.push(e))
      const refusalsBefore = (await mock.stats()).faults.pairingCodeRefusals
      await mock.refusePairingCodes({ phone, count: 1 }) // 429 rate-overlimit, as a throttled number gets

      const failed = waitFor(manager, 'shard.error', (e) => e.shardId === 'refused', 30000)
      await manager.createShard({ id: 'refused', phoneNumber: phone })
      const { shardId, error } = await failed
      expect(shardId).toBe('refused')
      expect(error).toBeInstanceOf(ShardError)
      expect(error.code).toBe('PAIRING_FAILED')
      // Says what WhatsApp answered and what to do about it.
      expect(error.message).toMatch(/rate-overlimit \(429\)/)
      expect(error.message).toMatch(/asks again on its next connection/)
      expect(error.message).toMatch(/without phoneNumber/)
      expect((await mock.stats()).faults.pairingCodeRefusals).toBe(refusalsBefore + 1)
      // The refused request showed no code, and the phone has none to confirm.
      expect(updates.filter((u) => u.type === 'pairing')).toEqual([])
      await expect(mock.enterPairingCode(phone, 'ABCD1234')).rejects.toThrow(/HTTP 404/)
      expect(manager.getShardInfo('refused')).toBeTruthy()

      // The fault is cleared; a new connection (the network dropped it) asks again and pairs.
      await mock.clearFaults()
      const pairing = waitFor(manager, 'login.update', (u) => u.shardId === 'refused' && u.type === 'pairing', 30000)
      const connected = waitFor(manager, 'login.update', (u) => u.shardId === 'refused' && u.state === 'connected', 60000)
      expect(await mock.dropConnections()).toBeGreaterThanOrEqual(1)
      const { code } = await pairing
      const linked = await mock.enterPairingCode(phone, code)
      await connected
      expect(linked.phone).toBe(phone)
      expect(manager.getShardInfo('refused').status).toBe('connected')
      // One refusal, one error; one code, shown once.
      expect(errors).toHaveLength(1)
      expect(updates.filter((u) => u.type === 'pairing')).toEqual([{ shardId: 'refused', state: 'connecting', type: 'pairing', code }])
    } finally {
      await mock.clearFaults()
      await manager.close()
    }
  })

  test('an invalid phoneNumber is INVALID_ARGUMENT and nothing is written', async () => {
    const session = tmpDir()
    const manager = newManager(session)
    try {
      for (const phoneNumber of ['123456', '1234567890123456', '1555abc4567', '05551234567', 42, { n: 1 }]) {
        await expect(manager.createShard({ id: 'bad-number', phoneNumber })).rejects.toMatchObject({
          name: 'ShardError',
          code: 'INVALID_ARGUMENT',
          message: expect.stringContaining('phoneNumber'),
        })
      }
      expect(fs.existsSync(session) ? fs.readdirSync(session) : []).toEqual([])
      expect(manager.getShardInfo('bad-number')).toBeNull()
      // Separators are dropped, and the digits kept.
      const { id } = await manager.createShard({ id: 'formatted', phoneNumber: '+1 555-000-3333' })
      expect(manager.getShardInfo(id).phoneNumber).toBe('15550003333')
    } finally {
      await manager.close()
    }
  })
})

// A Baileys app that logs in by pairing code: it asks for the code once the server has put
// the connection in pairing mode (its first `qr`), as Baileys documents. Env: MOCK_URL,
// AUTH_DIR, PHONE.
const BAILEYS_PAIRING_APP = String.raw`
const { makeWASocket, useMultiFileAuthState, DisconnectReason } = await import('baileys')
const report = (event) => process.stdout.write(JSON.stringify(event) + '\n')
${LOGGER_JS}
let pendingSave = Promise.resolve()
let socketNo = 0
async function connect() {
  await pendingSave
  const { state, saveCreds } = await useMultiFileAuthState(process.env.AUTH_DIR)
  const n = ++socketNo
  const sock = makeWASocket({
    waWebSocketUrl: process.env.MOCK_URL,
    version: [2, 3000, 1],
    browser: ['baileys-shard-test', 'Chrome', '1.0.0'],
    logger,
    auth: state,
    markOnlineOnConnect: false,
    connectTimeoutMs: 15000,
    defaultQueryTimeoutMs: 15000,
  })
  sock.ev.on('creds.update', () => { pendingSave = pendingSave.then(saveCreds) })
  let asked = false
  sock.ev.on('connection.update', async (u) => {
    if (u.qr) {
      report({ event: 'qr', socket: n })
      if (!asked && !state.creds.registered) {
        asked = true
        try {
          report({ event: 'code', socket: n, code: await sock.requestPairingCode(process.env.PHONE) })
        } catch (e) {
          report({ event: 'code-error', message: String(e?.stack ?? e) })
        }
      }
    }
    if (u.isNewLogin) report({ event: 'paired', socket: n })
    if (u.connection === 'open') report({ event: 'open', socket: n, me: state.creds.me, registered: state.creds.registered })
    if (u.connection === 'close') {
      const code = u.lastDisconnect?.error?.output?.statusCode
      report({ event: 'close', socket: n, code })
      if (code === DisconnectReason.restartRequired) connect()
    }
  })
}
await connect()
`

describe('the real Baileys 6.7.21', () => {
  test('pairs by code through the mock phone and opens as a device of that number', async () => {
    const phone = '15550002222'
    const authDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pairing-code-baileys-'))
    const events = []
    const waiters = []
    const child = spawn(process.execPath, ['--input-type=module', '-e', BAILEYS_PAIRING_APP], {
      cwd: ROOT,
      env: { ...process.env, MOCK_URL: mock.url, AUTH_DIR: authDir, PHONE: phone },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const onEvent = (ev) => {
      events.push(ev)
      for (const w of waiters.slice()) if (w.pred(ev)) w.resolve(ev) // a copy: resolving removes it
    }
    child.on('exit', (code) => onEvent({ event: 'exit', code }))
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        onEvent(JSON.parse(line))
      } catch {
        onEvent({ event: 'stdout', line })
      }
    })
    const next = (what, pred, ms) =>
      new Promise((resolve, reject) => {
        const seen = events.find((e) => pred(e) || e.event === 'exit')
        if (seen) return resolve(seen)
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${what}; events:\n${events.map((e) => JSON.stringify(e)).join('\n')}\n${stderr.slice(-2000)}`)),
          ms,
        )
        waiters.push({ pred: (e) => pred(e) || e.event === 'exit', resolve: (e) => (clearTimeout(timer), resolve(e)) })
      })
    try {
      const got = await next('a pairing code', (e) => e.event === 'code' || e.event === 'code-error', 30000)
      expect(got).toMatchObject({ event: 'code', socket: 1 })
      expect(got.code).toMatch(/^[1-9A-HJ-NP-TV-Z]{8}$/)

      const linked = await mock.enterPairingCode(phone, got.code)
      expect(linked.phone).toBe(phone)

      const open = await next('open', (e) => e.event === 'open', 30000)
      expect(open.event).toBe('open')
      expect(open.me.id.startsWith(`${phone}:`)).toBe(true)
      expect(open.me.id).toBe(linked.jid)
      expect(open.registered).toBe(true)
      // Paired once, by code: no second code, and the pairing socket ended with the 515 restart.
      expect(events.filter((e) => e.event === 'code')).toHaveLength(1)
      expect(events.find((e) => e.event === 'close')).toMatchObject({ socket: 1, code: 515 })
      const errors = events.filter((e) => e.event === 'code-error' ||
        (e.event === 'log' && e.level === 'error' && !(e.msg === 'stream errored out' && JSON.stringify(e.detail).includes('515'))))
      expect(errors).toEqual([])
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      fs.rmSync(authDir, { recursive: true, force: true })
    }
  })
})
