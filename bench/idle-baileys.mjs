/**
 * Idle benchmark, Baileys side: N plain Baileys 6.7.21 sockets in this one process, one per
 * account, each with useMultiFileAuthState on its own folder (the way the original JS
 * baileys-shard drives them), paired against the mock. Started by bench/run.js (env MOCK_URL,
 * BENCH_N, BENCH_IDLE_SECONDS, BENCH_SETTLE_SECONDS).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { config, progress, scanQr, baseline, measureIdle, report } = require('./idle-common.js')

const SIDE = 'baileys'

// A silent pino-compatible logger (Baileys calls child() and the level methods).
const logger = {
  level: 'silent',
  child() { return logger },
  trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {},
}

const bareRssBytes = process.memoryUsage().rss
const { makeWASocket, useMultiFileAuthState, DisconnectReason } = await import('baileys')
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-baileys-'))
const baselineRssBytes = await baseline()
progress(SIDE, `baseline rss ${(baselineRssBytes / 2 ** 20).toFixed(1)} MiB; pairing ${config.n} sockets`)

const pending = new Set()
const errors = []
const closes = {}
let resolveAll
const allOpen = new Promise((r) => { resolveAll = r })
const socks = new Map()

/** One account: a socket on its own auth folder, reconnecting on close as Baileys apps do. */
async function start(id, authDir, saving = Promise.resolve()) {
  await saving
  const { state, saveCreds } = await useMultiFileAuthState(authDir)
  let pendingSave = Promise.resolve()
  let scanned = false
  const sock = makeWASocket({
    waWebSocketUrl: config.mockUrl,
    version: [2, 3000, 1],
    logger,
    auth: state,
    markOnlineOnConnect: false,
  })
  socks.set(id, sock)
  sock.ev.on('creds.update', () => { pendingSave = pendingSave.then(saveCreds) })
  sock.ev.on('connection.update', (u) => {
    if (u.qr && !scanned) {
      scanned = true
      scanQr(u.qr).catch((e) => { scanned = false; errors.push(`${id}: ${e.message}`) })
    }
    if (u.connection === 'open' && pending.delete(id) && pending.size === 0) resolveAll()
    if (u.connection === 'close') {
      const code = u.lastDisconnect?.error?.output?.statusCode
      closes[code] = (closes[code] ?? 0) + 1
      if (code !== DisconnectReason.loggedOut) start(id, authDir, pendingSave).catch((e) => errors.push(`${id}: ${e.message}`))
      else errors.push(`${id}: logged out`)
    }
  })
}

const tStart = Date.now()
for (let i = 1; i <= config.n; i++) {
  const id = `bench-${i}`
  pending.add(id)
  const authDir = path.join(root, id)
  await start(id, authDir)
}
let timer
await Promise.race([
  allOpen,
  new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${config.connectTimeoutMs} ms; not open: ${[...pending].join(', ')}; errors: ${errors.join(' | ')}`)), config.connectTimeoutMs)
  }),
]).catch((e) => {
  progress(SIDE, `failed: ${e.message}`)
  process.exit(1)
})
clearTimeout(timer)
const connectMs = Date.now() - tStart
progress(SIDE, `${config.n} open in ${connectMs} ms (closes by code: ${JSON.stringify(closes)})`)

const m = await measureIdle(SIDE)
report({ side: SIDE, n: config.n, baselineRssBytes, bareRssBytes, connectMs, ...m, closesByCode: closes, errors: errors.slice(0, 5) })

for (const sock of socks.values()) { try { sock.end(undefined) } catch {} }
await new Promise((r) => setTimeout(r, 200))
fs.rmSync(root, { recursive: true, force: true })
process.exit(0)
