'use strict'
/**
 * The real Baileys 6.7.21 client against our mock server: QR pairing through the mock phone,
 * the 515 restart, login, and a second login from the saved session folder without any QR.
 *
 * Baileys is an ES module, and Jest's CommonJS sandbox cannot `import()` it without
 * `--experimental-vm-modules` (nor `require` it). So the Baileys app runs in a child Node process
 * (a plain ESM script, written the way Baileys apps are), reporting what happens as JSON lines
 * on stdout. This test drives it: it scans each QR with the mock phone and asserts on the events.
 *
 * Build the mock first: `cargo build -p baileys-shard-mock`.
 */
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')
const { MockServer } = require('../testing')
const { LOGGER_JS } = require('./baileys-peer')

const ROOT = path.join(__dirname, '..')

// The Baileys app. Env: MOCK_URL, AUTH_DIR. Sockets are numbered 1, 2, 3 in the events.
const BAILEYS_APP = String.raw`
const { makeWASocket, useMultiFileAuthState, DisconnectReason } = await import('baileys')
const report = (event) => process.stdout.write(JSON.stringify(event) + '\n')

${LOGGER_JS}

let socketNo = 0
const opened = new Set()
let pendingSave = Promise.resolve()

async function connect() {
  await pendingSave // a creds write from the previous socket must land before we read the folder
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
  return new Promise((resolve) => {
    sock.ev.on('connection.update', (u) => {
      if (u.qr) report({ event: 'qr', socket: n, qr: u.qr })
      if (u.isNewLogin) report({ event: 'paired', socket: n })
      if (u.receivedPendingNotifications) report({ event: 'pending-done', socket: n })
      if (u.connection === 'open') {
        opened.add(n)
        // state.creds.me, not sock.user: in 6.7.21 the latter is a stale copy without the LID.
        report({ event: 'open', socket: n, me: state.creds.me })
      }
      if (u.connection === 'close') {
        const code = u.lastDisconnect?.error?.output?.statusCode
        report({ event: 'close', socket: n, code, restart: code === DisconnectReason.restartRequired })
        resolve(code)
      }
    })
    globalThis.currentSock = sock
  })
}

const settle = (ms) => new Promise((r) => setTimeout(r, ms))

// 1) fresh folder: QR, pairing, then the server restarts the stream with 515
let code = await connect()
if (code !== DisconnectReason.restartRequired) { report({ event: 'fatal', msg: 'expected 515, got ' + code }); process.exit(1) }
// 2) reconnect at once from the same folder, as Baileys apps do after 515: must open
const second = connect()
await waitOpen(2)
await settle(1500) // let the post-open queries (props, blocklist, privacy) run against the mock
globalThis.currentSock.end(undefined)
await second
// 3) a brand-new socket from the saved folder: must open with no QR
const third = connect()
await waitOpen(3)
await settle(1500)
globalThis.currentSock.end(undefined)
await third
await pendingSave
report({ event: 'done' })
process.exit(0)

function waitOpen(n) {
  return new Promise((resolve) => {
    const iv = setInterval(() => {
      if (opened.has(n)) { clearInterval(iv); resolve() }
    }, 20)
  })
}
`

describe('mock server with the real Baileys client', () => {
  let mock
  let child
  let authDir
  const events = []
  const waiters = []

  function onEvent(ev) {
    events.push(ev)
    // A copy: a satisfied waiter is removed from the list inside the loop.
    for (const w of waiters.slice()) {
      if (w.pred(ev)) {
        waiters.splice(waiters.indexOf(w), 1)
        clearTimeout(w.timer)
        w.resolve(ev)
      }
    }
  }

  /** Resolves with the first event (already seen or future) matching `pred`; fails fast. */
  function waitFor(what, pred, ms) {
    const seen = events.find(pred)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve,
        timer: setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1)
          reject(new Error(`timed out after ${ms} ms waiting for ${what}; events so far:\n` + events.map((e) => JSON.stringify(e)).join('\n')))
        }, ms),
      }
      waiters.push(w)
    })
  }

  beforeAll(async () => {
    mock = await MockServer.start({ port: 0 })
    authDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mock-baileys-'))
  })

  afterAll(async () => {
    for (const w of waiters) clearTimeout(w.timer)
    if (child && child.exitCode === null) child.kill('SIGKILL')
    if (mock) await mock.close()
    if (authDir) fs.rmSync(authDir, { recursive: true, force: true })
  })

  test('pairs by QR, restarts on 515, opens, and reopens from the saved folder without a QR', async () => {
    expect(mock.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\/chat$/)
    child = spawn(process.execPath, ['--input-type=module', '-e', BAILEYS_APP], {
      cwd: ROOT,
      env: { ...process.env, MOCK_URL: mock.url, AUTH_DIR: authDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d) => { stderr += d })
    child.on('exit', (code) => onEvent({ event: 'exit', code, stderr }))
    const scans = []
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      let ev
      try { ev = JSON.parse(line) } catch { return onEvent({ event: 'stdout', line }) }
      // The mock phone scans the first QR it is shown, like a user would.
      if (ev.event === 'qr' && scans.length === 0) scans.push(mock.scanQr(ev.qr).then(() => 'ok', (e) => e))
      onEvent(ev)
    })

    const exited = (ev) => ev.event === 'exit' || ev.event === 'fatal'
    const either = (pred) => (ev) => pred(ev) || exited(ev)

    const qr = await waitFor('a QR from socket 1', either((e) => e.event === 'qr'), 20000)
    expect(qr.event).toBe('qr')
    expect(qr.qr.split(',')).toHaveLength(4)
    expect(await scans[0]).toBe('ok')

    const restart = await waitFor('the 515 close of socket 1', either((e) => e.event === 'close' && e.socket === 1), 20000)
    expect(restart).toMatchObject({ event: 'close', socket: 1, code: 515 })
    expect(events.some((e) => e.event === 'paired' && e.socket === 1)).toBe(true)

    const open2 = await waitFor('socket 2 to open', either((e) => e.event === 'open' && e.socket === 2), 20000)
    expect(open2.event).toBe('open')
    expect(open2.me.id).toMatch(/^\d+:\d+@s\.whatsapp\.net$/)
    expect(open2.me.lid).toMatch(/^\d+:\d+@lid$/)

    const open3 = await waitFor('socket 3 to open', either((e) => e.event === 'open' && e.socket === 3), 20000)
    expect(open3.event).toBe('open')
    expect(open3.me.id).toBe(open2.me.id)

    const done = await waitFor('the app to finish', either((e) => e.event === 'done'), 20000)
    expect(done.event).toBe('done')

    // Only socket 1 ever showed a QR; the saved session logged in directly.
    expect(events.filter((e) => e.event === 'qr').every((e) => e.socket === 1)).toBe(true)
    // The only error Baileys may log is the expected 515 "stream errored out".
    const errors = events.filter((e) => e.event === 'log' && e.level === 'error')
    const unexpected = errors.filter((e) => !(e.msg === 'stream errored out' && JSON.stringify(e.detail).includes('515')))
    expect(unexpected).toEqual([])

    // The mock knows the device and saw it come and go.
    const res = await fetch(`${mock.httpUrl}/admin/accounts`)
    const { accounts } = await res.json()
    const device = accounts.flatMap((a) => a.devices).find((d) => d.jid === open2.me.id)
    expect(device).toBeDefined()
    expect(device.preKeys).toBeGreaterThan(0)
  }, 90000)

  test('scan-qr refuses unknown refs (404) and malformed QR strings (400)', async () => {
    const k = Buffer.alloc(32, 1).toString('base64')
    await expect(mock.scanQr(`2@no-such-ref,${k},${k},${k}`)).rejects.toThrow(/HTTP 404/)
    await expect(mock.scanQr('not a qr')).rejects.toThrow(/HTTP 400/)
  })
})
