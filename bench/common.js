'use strict'
/**
 * Shared by every workload process (CommonJS; the Baileys side loads the ESM `baileys` package
 * through `loadBaileys()`): options, the stage protocol with bench/run.js, measurement helpers,
 * and how each side pairs and watches its accounts.
 *
 * Stage protocol: a child prints `{"stage":"<name>",...}` lines on stdout when it reaches a point
 * run.js coordinates on (e.g. "ready" with its jids), reads commands (one word per line) on
 * stdin, and prints exactly one `{"side":...}` result line at the end. Progress goes to stderr.
 */
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')

/** Options from run.js (BENCH_OPTS, JSON) plus the mock URL. */
const opts = JSON.parse(process.env.BENCH_OPTS || '{}')
const mockUrl = process.env.MOCK_URL
if (!mockUrl) throw new Error('MOCK_URL is not set (run bench/run.js)')
const adminBase = `http://${new URL(mockUrl).host}`
const connectTimeoutMs = opts.connectTimeoutMs ?? 300000

const t0 = Date.now()
function progress(side, msg) {
  process.stderr.write(`[${side} +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`)
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Wall clock in microseconds (comparable across processes on one machine). */
const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000)

/** CPU time (user + system, all threads) since `since` (a process.cpuUsage() value), in ms. */
const cpuMsSince = (since) => {
  const c = process.cpuUsage(since)
  return (c.user + c.system) / 1000
}

function gc() {
  if (typeof global.gc !== 'function') return false
  global.gc()
  global.gc()
  return true
}

/** RSS after a forced GC (the libraries already loaded, no account yet). */
async function baseline() {
  gc()
  await sleep(200)
  gc()
  return process.memoryUsage().rss
}

/** The p-th percentile (0..100) of a numeric array, nearest rank. */
function percentile(values, p) {
  if (!values.length) return null
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

/** POSTs (or GETs, without body) the mock's admin API; returns its JSON answer. */
async function admin(route, body) {
  const res = await fetch(`${adminBase}${route}`, body === undefined ? {} : {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`mock refused ${route}: HTTP ${res.status} ${text.trim()}`)
  return text ? JSON.parse(text) : null
}

/** Makes the mock phone scan a QR string. */
async function scanQr(qr) {
  const res = await fetch(`${adminBase}/admin/mock-phone/scan-qr`, { method: 'POST', body: qr })
  if (!res.ok) throw new Error(`mock refused the QR: HTTP ${res.status} ${await res.text()}`)
}

/** Tells run.js this process reached a stage. */
function stage(name, data = {}) {
  process.stdout.write(JSON.stringify({ stage: name, ...data }) + '\n')
}

let stdinLines
/** Resolves when run.js writes `word` on a line of stdin. */
function waitCommand(word) {
  stdinLines ??= readline.createInterface({ input: process.stdin })
  return new Promise((resolve) => {
    const onLine = (line) => {
      if (line.trim() !== word) return
      stdinLines.off('line', onLine)
      resolve()
    }
    stdinLines.on('line', onLine)
  })
}

/** Prints the one result line and exits (after `cleanup`, capped at 5 s: not measured). */
async function finish(result, cleanup = async () => {}) {
  process.stdout.write(JSON.stringify(result) + '\n')
  await Promise.race([cleanup().catch(() => {}), sleep(5000)])
  stdinLines?.close()
  process.exit(0)
}

/** Rejects after connectTimeoutMs with `what()` in the message. */
function withTimeout(promise, what, ms = connectTimeoutMs) {
  let timer
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms) }),
  ]).finally(() => clearTimeout(timer))
}

/**
 * A fresh folder under BENCH_TMP (made by run.js, which removes it in the background at the end:
 * a shard's session folder holds thousands of files, and deleting them takes longer than the
 * workloads themselves).
 */
const tempDir = (prefix) => fs.mkdtempSync(path.join(process.env.BENCH_TMP || os.tmpdir(), prefix))

/** `15551234567:3@s.whatsapp.net` → `15551234567@s.whatsapp.net` (the address peers send to). */
const bareJid = (jid) => jid.replace(/:\d+@/, '@')

/** The text of a received text message (conversation or extended), or undefined. */
const textOf = (msg) => msg.message?.conversation ?? msg.message?.extendedTextMessage?.text

/** Benchmark message texts: warm-up, and measured ones carrying the send time in µs. */
const WARM = 'bench-warm'
const stamped = () => `bench:${nowUs()}`
const sentAtUs = (text) => (text?.startsWith('bench:') ? Number(text.slice(6)) : null)

/**
 * Settles, forces GC, then samples RSS every 500 ms and CPU time over the idle window.
 * rssBytes is the median of the samples (steady state).
 */
async function measureIdle(side) {
  progress(side, `all connected; settling ${opts.settleSeconds}s`)
  await sleep(opts.settleSeconds * 1000)
  const gcForced = gc()
  await sleep(100)
  progress(side, `idle window ${opts.idleSeconds}s (gc forced: ${gcForced})`)
  const samples = [process.memoryUsage().rss]
  const cpu0 = process.cpuUsage()
  const wall0 = Date.now()
  const end = wall0 + opts.idleSeconds * 1000
  while (Date.now() < end) {
    await sleep(Math.min(500, Math.max(0, end - Date.now())))
    samples.push(process.memoryUsage().rss)
  }
  const idleCpuMs = cpuMsSince(cpu0)
  const mem = process.memoryUsage()
  return {
    rssBytes: percentile(samples, 50),
    rssMaxBytes: Math.max(...samples),
    heapUsedBytes: mem.heapUsed,
    externalBytes: mem.external,
    idleCpuMs: Math.round(idleCpuMs * 10) / 10,
    idleWallMs: Date.now() - wall0,
    gcForced,
  }
}

/**
 * Sends opts.m measured messages through `send(i, text)` (a promise per message), paced at
 * opts.rate messages/s overall (0 = as fast as the window allows), at most opts.window
 * outstanding. Resolves with the send start/end times (µs) and the failures.
 */
async function sendPaced(send) {
  const { m, rate = 0, window = 50 } = opts
  const errors = []
  let outstanding = 0
  let wake = null
  const startUs = nowUs()
  const startMs = Date.now()
  const all = []
  for (let i = 0; i < m; i++) {
    if (rate > 0) {
      const due = startMs + (i * 1000) / rate
      if (due > Date.now()) await sleep(due - Date.now())
    }
    while (outstanding >= window) await new Promise((r) => { wake = r })
    outstanding++
    all.push(send(i, stamped()).catch((e) => { errors.push(e.message) }).finally(() => {
      outstanding--
      wake?.()
    }))
  }
  await Promise.all(all)
  return { startUs, endUs: nowUs(), errors: errors.slice(0, 5), failed: errors.length }
}

/**
 * The receiving end of a message workload: counts warm-up messages until `expectedWarm`, then
 * (after run.js says `start`) the measured ones until opts.m distinct ids, with the latency of
 * each from its send stamp to this handler. With `settleOnSent`, run.js says `sent` once every
 * sendMessage has resolved, and the count also ends when nothing more arrived for opts.quietMs:
 * the result then says how many of the m arrived (the sender under test may lose some).
 */
function messageCounter(side, expectedWarm, { settleOnSent = false } = {}) {
  let warm = 0
  let started = false
  const unreadable = [] // messages without text (e.g. a stub for one that failed to decrypt)
  const seen = new Set()
  const latenciesUs = []
  let firstUs = 0
  let lastUs = 0
  let onWarm, onDone
  let lastArrival = 0
  const warmed = new Promise((r) => { onWarm = r })
  const done = new Promise((r) => { onDone = r })
  if (expectedWarm === 0) onWarm()
  function onMessage(_id, msg) {
    const text = textOf(msg)
    if (text === WARM) {
      if (++warm >= expectedWarm) onWarm()
      return
    }
    const sent = sentAtUs(text)
    if (text === undefined) unreadable.push(msg.messageStubType ?? Object.keys(msg.message ?? {}).join('+'))
    if (sent === null || !started || seen.has(msg.key.id)) return
    const now = nowUs()
    seen.add(msg.key.id)
    latenciesUs.push(now - sent)
    lastArrival = Date.now()
    if (seen.size === 1) firstUs = now
    lastUs = now
    if (seen.size >= opts.m) onDone()
  }
  /** Waits for the warm-up, then for `start`, then measures until all arrived. */
  async function measure() {
    await withTimeout(warmed, () => `warm-up: ${warm}/${expectedWarm} received`)
    stage('warmed')
    await waitCommand('start')
    const cpu0 = process.cpuUsage()
    const startUs = nowUs()
    started = true
    stage('started')
    const settled = settleOnSent ? waitCommand('sent').then(() => quiet(opts.quietMs ?? 5000)) : new Promise(() => {})
    await withTimeout(Promise.race([done, settled]), () => `${seen.size}/${opts.m} measured messages received; without text: ${unreadable.length} (${[...new Set(unreadable)].join(', ')})`, opts.messageTimeoutMs ?? 120000)
    const cpuMs = cpuMsSince(cpu0)
    progress(side, `${seen.size} messages in ${((lastUs - firstUs) / 1000).toFixed(0)} ms`)
    return {
      received: seen.size,
      expected: opts.m,
      unreadable: unreadable.length,
      startUs,
      firstUs,
      lastUs,
      cpuMs: Math.round(cpuMs * 10) / 10,
      cpuUsPerMsg: Math.round((cpuMs * 1000) / seen.size),
      msgsPerSec: Math.round((seen.size * 1e6) / Math.max(1, lastUs - startUs)),
      latencyP50Ms: percentile(latenciesUs, 50) / 1000,
      latencyP99Ms: percentile(latenciesUs, 99) / 1000,
      rssBytes: process.memoryUsage().rss,
    }
  }
  /** Resolves once no measured message has arrived for `ms` (counting from now at the latest). */
  async function quiet(ms) {
    lastArrival = Math.max(lastArrival, Date.now())
    while (Date.now() - lastArrival < ms) await sleep(ms - (Date.now() - lastArrival))
  }
  return { onMessage, measure }
}

/**
 * Shard ids / folder names for n accounts. They carry opts.tag (unique per workload and side in a
 * run) because the mock makes one account per push name and an unpaired shard announces its id:
 * the same id in two workloads would make a second device of one account, and sends to it would
 * fan out to the first workload's (closed) device too.
 */
const accountIds = (n, prefix = 'bench') => Array.from({ length: n }, (_, i) => `${opts.tag ?? 'run'}-${prefix}-${i + 1}`)

// ---- history sync ---------------------------------------------------------------------------

/**
 * Phone numbers for the history workload's accounts, new for each run and side (the mock keeps
 * one account per number), and each seeded with a generated account of the size asked for.
 */
async function seededPhones(count) {
  const phones = Array.from({ length: count }, () => `1996${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`)
  for (const [i, phone] of phones.entries()) {
    await admin(`/admin/accounts/${phone}/seed`, {
      generate: { contacts: opts.historyContacts, chats: opts.historyChats, messagesPerChat: opts.historyMessages, groups: Math.floor(opts.historyChats / 10), seed: i + 1 },
    })
  }
  return phones
}

/** Types a pairing code on the mock phone of `phone`. */
const enterPairingCode = (phone, code) => admin('/admin/mock-phone/pair-code', { phone, code })

/**
 * Counts the distinct history messages each account got (`add(account, data)` per
 * `messaging-history.set`); `whenComplete()` resolves once every account has them all.
 */
function historyCounter(accounts) {
  const expected = opts.historyChats * opts.historyMessages
  const seen = new Map(accounts.map((a) => [a, new Set()]))
  const doneAt = new Map()
  let wake = () => {}
  function add(account, data) {
    const keys = seen.get(account)
    if (!keys) return
    for (const m of data.messages) keys.add(`${m.key.remoteJid}/${m.key.id}`)
    if (keys.size >= expected && !doneAt.has(account)) doneAt.set(account, Date.now())
    wake()
  }
  const whenComplete = () =>
    withTimeout(
      new Promise((resolve) => {
        wake = () => { if (doneAt.size === accounts.length) resolve() }
        wake()
      }),
      () => `history incomplete: ${[...seen].map(([a, k]) => `${a} ${k.size}/${expected}`).join(', ')}`,
    )
  return { add, whenComplete, doneAt }
}

/**
 * The history workload's measurement, for either side: from the baseline, `link()` starts
 * linking every account; when `counter` has all their history, prints the result and exits.
 */
async function measureHistory(side, accounts, { link, counter, errors, cleanup }) {
  const baselineRssBytes = await baseline()
  const peak = rssPeak()
  const cpu0 = process.cpuUsage()
  const start = Date.now()
  await link()
  await counter.whenComplete()
  const historyMs = Date.now() - start
  const cpuMs = Math.round(cpuMsSince(cpu0))
  const peakRssBytes = peak.stop()
  const afterRssBytes = await baseline()
  await finish({ side, accounts, historyMs, cpuMs, peakRssBytes, afterRssBytes, baselineRssBytes, errors: errors.slice(0, 5) }, cleanup)
}

/** Samples RSS every 20 ms; `stop()` gives the peak seen. */
function rssPeak() {
  let peak = process.memoryUsage().rss
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 20)
  return { stop: () => { clearInterval(timer); return Math.max(peak, process.memoryUsage().rss) } }
}

// ---- our side ------------------------------------------------------------------------------

/** A ShardManager on `session` against the mock. */
function ourManager(session, extra = {}) {
  const { ShardManager } = require('../testing')
  return new ShardManager({ session, socketConfig: { waWebSocketUrl: mockUrl, version: [2, 3000, 1] }, ...extra })
}

/**
 * When each account last became ready (connected / open). `whenReady(ids, since)` resolves once
 * every id was ready at or after `since` (ms), or fails after the timeout naming the missing ones.
 */
function readiness(what, errors) {
  const readyAt = new Map()
  const waiters = new Set()
  const missing = (ids, since) => ids.filter((id) => !((readyAt.get(id) ?? -1) >= since))
  function mark(id) {
    readyAt.set(id, Date.now())
    for (const w of waiters) w()
  }
  function whenReady(ids, since = 0) {
    const p = new Promise((resolve) => {
      const check = () => {
        if (missing(ids, since).length) return
        waiters.delete(check)
        resolve()
      }
      waiters.add(check)
      check()
    })
    return withTimeout(p, () => `not ${what}: ${missing(ids, since).slice(0, 10).join(', ')}; errors: ${errors.slice(0, 5).join(' | ')}`)
  }
  return { readyAt, mark, whenReady }
}

/**
 * Watches a manager: scans every shard's first QR, counts `connected` per shard, collects errors.
 * `whenConnected(ids, sinceMs)` resolves when each id reported connected at or after sinceMs.
 */
function watchOurs(manager) {
  const errors = []
  const scanned = new Set()
  const ready = readiness('connected', errors)
  manager.on('login.update', ({ shardId, state, type, code }) => {
    if (type === 'qr' && !scanned.has(shardId)) {
      scanned.add(shardId)
      scanQr(code).catch((e) => { scanned.delete(shardId); errors.push(`${shardId}: ${e.message}`) })
    }
    if (state === 'connected') ready.mark(shardId)
  })
  manager.on('shard.error', ({ shardId, error }) => errors.push(`${shardId}: ${error.code} ${error.message}`))
  return { whenConnected: ready.whenReady, errors, connectedAt: ready.readyAt }
}

/** Creates and pairs `ids` on a manager; resolves with the time it took, in ms. */
async function pairOurs(manager, watch, ids) {
  const start = Date.now()
  for (const id of ids) await manager.createShard({ id })
  await watch.whenConnected(ids)
  return Date.now() - start
}

/** Calls fn(shardId, msg) for every message received (not fromMe) by a manager. */
function onOurMessages(manager, fn) {
  manager.on('messages.upsert', ({ shardId, data }) => {
    for (const m of data.messages) if (!m.key.fromMe) fn(shardId, m)
  })
}

// ---- Baileys side ---------------------------------------------------------------------------

// A silent pino-compatible logger (Baileys calls child() and the level methods).
const silentLogger = {
  level: 'silent',
  child() { return silentLogger },
  trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {},
}

let baileysLib
/** Imports Baileys 6.7.21 (ESM) once. */
async function loadBaileys() {
  baileysLib ??= await import('baileys')
  return baileysLib
}

/**
 * Plain Baileys sockets, one per account, each on `useMultiFileAuthState(<root>/<id>)`, the way
 * the original baileys-shard drives them: recreated at once after any close but loggedOut (the
 * 515 after pairing, a dropped connection). `onMessage(id, msg)` gets received messages.
 */
function baileysFleet(root, { onMessage } = {}) {
  const socks = new Map()
  const closes = {}
  const errors = []
  const ready = readiness('open', errors)

  async function start(id, saving = Promise.resolve()) {
    const { makeWASocket, useMultiFileAuthState, DisconnectReason } = await loadBaileys()
    await saving
    const { state, saveCreds } = await useMultiFileAuthState(path.join(root, id))
    let pendingSave = Promise.resolve()
    let scanned = false
    const sock = makeWASocket({ waWebSocketUrl: mockUrl, version: [2, 3000, 1], logger: silentLogger, auth: state, markOnlineOnConnect: false })
    socks.set(id, sock)
    sock.ev.on('creds.update', () => { pendingSave = pendingSave.then(saveCreds) })
    sock.ev.on('connection.update', (u) => {
      if (u.qr && !scanned) {
        scanned = true
        scanQr(u.qr).catch((e) => { scanned = false; errors.push(`${id}: ${e.message}`) })
      }
      if (u.connection === 'open') ready.mark(id)
      if (u.connection === 'close') {
        const code = u.lastDisconnect?.error?.output?.statusCode
        closes[code] = (closes[code] ?? 0) + 1
        if (code === DisconnectReason.loggedOut) errors.push(`${id}: logged out`)
        else if (!stopped) start(id, pendingSave).catch((e) => errors.push(`${id}: ${e.message}`))
      }
    })
    if (onMessage) {
      sock.ev.on('messages.upsert', ({ messages }) => {
        for (const m of messages) if (!m.key.fromMe) onMessage(id, m)
      })
    }
  }

  let stopped = false
  const whenOpen = ready.whenReady
  /** Starts every id (new or saved folder) and resolves when all are open; returns ms. */
  async function startAll(ids) {
    const begin = Date.now()
    for (const id of ids) await start(id)
    await whenOpen(ids)
    return Date.now() - begin
  }
  async function stop() {
    stopped = true
    for (const sock of socks.values()) { try { sock.end(undefined) } catch {} }
    await sleep(200)
  }
  return { socks, startAll, whenOpen, stop, closes, errors, openAt: ready.readyAt }
}

module.exports = {
  opts, mockUrl, progress, sleep, nowUs, cpuMsSince, gc, baseline, percentile, admin, scanQr, stage,
  waitCommand, finish, measureIdle, sendPaced, messageCounter, withTimeout, tempDir, bareJid, textOf, WARM, stamped, sentAtUs, accountIds,
  seededPhones, enterPairingCode, historyCounter, measureHistory, silentLogger,
  ourManager, watchOurs, pairOurs, onOurMessages, loadBaileys, baileysFleet,
}
