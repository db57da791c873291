'use strict'
/**
 * Message relay through the mock server between two real Baileys 6.7.21 clients, each in its
 * own child Node process (Baileys is ESM; see mock-baileys.test.js for why), paired to two
 * different accounts. A sends B a text; B must get it on `messages.upsert` and A must see it
 * delivered (`messages.update` with status 3) from B's delivery receipt. No decryption errors
 * may show up in either Baileys' logs.
 *
 * Build the mock first: `cargo build -p baileys-shard-mock`.
 */
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')
const { MockServer } = require('../testing')

const ROOT = path.join(__dirname, '..')

// One Baileys app. Env: MOCK_URL, AUTH_DIR. Commands on stdin (JSON lines): {cmd:'send', to, text}.
const BAILEYS_APP = String.raw`
const { makeWASocket, useMultiFileAuthState, DisconnectReason, jidNormalizedUser } = await import('baileys')
const readline = await import('node:readline')
const report = (event) => process.stdout.write(JSON.stringify(event) + '\n')
const logger = {
  level: 'warn',
  child() { return logger },
  trace() {}, debug() {}, info() {},
  warn(obj, msg) { report({ event: 'log', level: 'warn', msg: String(msg ?? (typeof obj === 'string' ? obj : '')), detail: safe(obj) }) },
  error(obj, msg) { report({ event: 'log', level: 'error', msg: String(msg ?? (typeof obj === 'string' ? obj : '')), detail: safe(obj) }) },
  fatal(obj, msg) { logger.error(obj, msg) },
}
function safe(obj) {
  try { return JSON.parse(JSON.stringify(obj, (k, v) => (v instanceof Error ? { message: v.message, stack: v.stack } : v))) } catch { return String(obj) }
}
let sock
let pendingSave = Promise.resolve()
async function connect() {
  await pendingSave
  const { state, saveCreds } = await useMultiFileAuthState(process.env.AUTH_DIR)
  sock = makeWASocket({
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
  sock.ev.on('messages.upsert', ({ messages, type }) => {
    for (const m of messages) {
      report({ event: 'upsert', type, key: m.key, text: m.message?.conversation ?? m.message?.extendedTextMessage?.text ?? null, stub: m.messageStubType ?? null, stubParams: m.messageStubParameters ?? null })
    }
  })
  sock.ev.on('presence.update', ({ id, presences }) => report({ event: 'presence', id, presences }))
  sock.ev.on('messages.update', (updates) => {
    for (const u of updates) report({ event: 'update', key: u.key, status: u.update?.status ?? null })
  })
  sock.ev.on('connection.update', (u) => {
    if (u.qr) report({ event: 'qr', qr: u.qr })
    if (u.connection === 'open') report({ event: 'open', me: state.creds.me })
    if (u.receivedPendingNotifications) report({ event: 'pending-done' })
    if (u.connection === 'close') {
      const code = u.lastDisconnect?.error?.output?.statusCode
      report({ event: 'close', code })
      if (code === DisconnectReason.restartRequired) connect()
    }
  })
}
readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const cmd = JSON.parse(line)
  try {
    if (cmd.cmd === 'send') {
      const msg = await sock.sendMessage(jidNormalizedUser(cmd.to), { text: cmd.text })
      report({ event: 'sent', key: msg.key })
    } else if (cmd.cmd === 'typing') {
      await sock.sendPresenceUpdate('composing', jidNormalizedUser(cmd.to))
      report({ event: 'typed' })
    } else if (cmd.cmd === 'exit') {
      sock.end(undefined)
      await pendingSave
      process.exit(0)
    }
  } catch (e) {
    report({ event: 'cmd-error', cmd: cmd.cmd, message: String(e?.stack ?? e) })
  }
})
await connect()
`

/** A Baileys child process with an event log and bounded waits. */
class BaileysChild {
  constructor(name, mock) {
    this.name = name
    this.events = []
    this.waiters = []
    this.authDir = fs.mkdtempSync(path.join(os.tmpdir(), `mock-relay-${name}-`))
    this.scanned = false
    this.child = spawn(process.execPath, ['--input-type=module', '-e', BAILEYS_APP], {
      cwd: ROOT,
      env: { ...process.env, MOCK_URL: mock.url, AUTH_DIR: this.authDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.stderr = ''
    this.child.stderr.on('data', (d) => { this.stderr += d })
    this.child.on('exit', (code) => this.onEvent({ event: 'exit', code, stderr: this.stderr }))
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      let ev
      try { ev = JSON.parse(line) } catch { return this.onEvent({ event: 'stdout', line }) }
      if (ev.event === 'qr' && !this.scanned) {
        this.scanned = true
        this.scan = mock.scanQr(ev.qr).then(() => 'ok', (e) => e)
      }
      this.onEvent(ev)
    })
  }

  onEvent(ev) {
    this.events.push(ev)
    for (const w of [...this.waiters]) {
      if (w.pred(ev)) {
        this.waiters.splice(this.waiters.indexOf(w), 1)
        clearTimeout(w.timer)
        w.resolve(ev)
      }
    }
  }

  waitFor(what, pred, ms) {
    const wrapped = (ev) => pred(ev) || ev.event === 'exit'
    const seen = this.events.find(wrapped)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const w = {
        pred: wrapped,
        resolve,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(w), 1)
          reject(new Error(`[${this.name}] timed out after ${ms} ms waiting for ${what}; events:\n` + this.events.map((e) => JSON.stringify(e)).join('\n')))
        }, ms),
      }
      this.waiters.push(w)
    })
  }

  command(cmd) {
    this.child.stdin.write(JSON.stringify(cmd) + '\n')
  }

  errors() {
    // The 515 restart after pairing is logged as an error by Baileys; that one is expected.
    return this.events.filter((e) => e.event === 'cmd-error' ||
      (e.event === 'log' && e.level === 'error' && !(e.msg === 'stream errored out' && JSON.stringify(e.detail).includes('515'))))
  }

  decryptionProblems() {
    return this.events.filter((e) => e.event === 'log' && /decrypt|session|prekey|pre-key|No SenderKey|Bad MAC/i.test(e.msg + JSON.stringify(e.detail)))
  }

  async close() {
    for (const w of this.waiters) clearTimeout(w.timer)
    if (this.child.exitCode === null) this.child.kill('SIGKILL')
    fs.rmSync(this.authDir, { recursive: true, force: true })
  }
}

describe('mock server relays messages between two real Baileys clients', () => {
  let mock
  const kids = []

  beforeAll(async () => {
    mock = await MockServer.start({ port: 0 })
  })

  afterAll(async () => {
    for (const k of kids) await k.close()
    if (mock) await mock.close()
  })

  test('A sends B a text: B gets messages.upsert, A gets status 3 (delivered)', async () => {
    const a = new BaileysChild('A', mock)
    kids.push(a)
    const openA = await a.waitFor('A to open', (e) => e.event === 'open', 30000)
    expect(openA.event).toBe('open')
    const b = new BaileysChild('B', mock)
    kids.push(b)
    const openB = await b.waitFor('B to open', (e) => e.event === 'open', 30000)
    expect(openB.event).toBe('open')
    expect(await a.scan).toBe('ok')
    expect(await b.scan).toBe('ok')
    const userOf = (jid) => jid.split(/[:@]/)[0]
    expect(userOf(openA.me.id)).not.toBe(userOf(openB.me.id))
    await a.waitFor('A to finish its offline sync', (e) => e.event === 'pending-done', 15000)
    await b.waitFor('B to finish its offline sync', (e) => e.event === 'pending-done', 15000)

    a.command({ cmd: 'send', to: openB.me.id, text: 'hello from A' })
    const sent = await a.waitFor('A to send', (e) => e.event === 'sent' || e.event === 'cmd-error', 20000)
    expect(sent.event).toBe('sent')
    const id = sent.key.id

    const got = await b.waitFor('B to receive the text', (e) => e.event === 'upsert' && e.key.id === id, 20000)
    expect(got).toMatchObject({ event: 'upsert', type: 'notify', text: 'hello from A' })
    expect(got.key.fromMe).toBe(false)
    expect(userOf(got.key.remoteJid)).toBe(userOf(openA.me.id))
    expect(got.stub).toBeNull() // a CIPHERTEXT stub would mean B could not decrypt

    const delivered = await a.waitFor('A to see the message delivered', (e) => e.event === 'update' && e.key.id === id && e.status === 3, 20000)
    expect(delivered.status).toBe(3)

    // B replies; A gets it (the session B set up from A's pkmsg, or a new one).
    b.command({ cmd: 'send', to: openA.me.id, text: 'hello back from B' })
    const sentB = await b.waitFor('B to send', (e) => e.event === 'sent' || e.event === 'cmd-error', 20000)
    expect(sentB.event).toBe('sent')
    const gotA = await a.waitFor('A to receive the reply', (e) => e.event === 'upsert' && e.key.id === sentB.key.id, 20000)
    expect(gotA).toMatchObject({ type: 'notify', text: 'hello back from B', stub: null })

    // Chatstate relay: A types, B sees A composing.
    a.command({ cmd: 'typing', to: openB.me.id })
    const typing = await b.waitFor('B to see A composing', (e) => e.event === 'presence' && userOf(e.id) === userOf(openA.me.id), 20000)
    expect(Object.values(typing.presences).map((p) => p.lastKnownPresence)).toContain('composing')

    // Let late retries or errors surface, then: no decryption errors anywhere.
    await new Promise((r) => setTimeout(r, 1000))
    expect(a.decryptionProblems()).toEqual([])
    expect(b.decryptionProblems()).toEqual([])
    expect(a.errors()).toEqual([])
    expect(b.errors()).toEqual([])
  }, 120000)
})
