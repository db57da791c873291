#!/usr/bin/env node
'use strict'
/**
 * Benchmark harness: baileys-shard (this package) vs plain Baileys 6.7.21, side by side in one
 * run, against one mock WhatsApp server in its own process. Every measured side and every load
 * generator (bench/peers.js) runs in a child Node process of its own. See bench/README.md.
 *
 *   node bench/run.js [--workloads idle,inbound,outbound,coldstart,reconnect,history] [--n 20] [--m 1000]
 *                     [--k 100] [--senders 2] [--rate 200] [--window 50] [--stagger-ms 0]
 *                     [--down-ms 1000] [--idle-seconds 10] [--settle-seconds 5]
 *                     [--sides ours,baileys] [--smoke] [--no-write]
 *
 * Appends a dated section to BENCHMARKS.md unless --smoke or --no-write. --smoke runs every
 * workload at tiny N, writes nothing, and exits non-zero if any workload fails. --sides ours
 * skips the Baileys side (for profiling ours; its column then says n/a).
 */
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')
const { spawn, execFileSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
// The release-optimised testing addon and the release mock, both from `npm run build`.
const BENCH_ADDON = path.join(ROOT, 'baileys-shard.linux-x64-gnu.testing.node')
const BENCH_MOCK = path.join(ROOT, 'npm', 'linux-x64-gnu', 'baileys-shard-mock')
const TEST_ADDON = path.join(ROOT, 'target', 'test-addon', 'baileys-shard.linux-x64-gnu.node')
const BENCHMARKS = path.join(ROOT, 'BENCHMARKS.md')
const WORKLOADS = ['idle', 'inbound', 'outbound', 'coldstart', 'reconnect', 'history']

const DEFAULTS = {
  workloads: WORKLOADS, n: 20, m: 1000, k: 100, senders: 2, rate: 200, window: 50, staggerMs: 0, downMs: 1000, idleSeconds: 10, settleSeconds: 5,
  historyAccounts: 2, historyContacts: 500, historyChats: 200, historyMessages: 20,
}
const SMOKE = {
  n: 1, m: 20, k: 1, senders: 1, rate: 0, idleSeconds: 1, settleSeconds: 0, messageTimeoutMs: 30000, connectTimeoutMs: 60000,
  historyAccounts: 1, historyContacts: 20, historyChats: 10, historyMessages: 8,
}
const USAGE = `node bench/run.js [--workloads ${WORKLOADS.join(',')}] [--n 20] [--m 1000] [--k 100] [--senders 2]
  [--rate 200 (msgs/s, 0 = unpaced)] [--window 50] [--stagger-ms 0] [--down-ms 1000] [--idle-seconds 10]
  [--settle-seconds 5] [--history-accounts 2] [--history-contacts 500] [--history-chats 200] [--history-messages 20]
  [--sides ours,baileys] [--smoke] [--no-write]`

function parseArgs(argv) {
  const given = {}
  let smoke = false
  let write = true
  let sides = ['ours', 'baileys']
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') ? argv[i].split(/=(.*)/s) : [argv[i], undefined]
    const raw = () => inline ?? argv[++i]
    if (flag === '--smoke') smoke = true
    else if (flag === '--no-write') write = false
    else if (flag === '--help' || flag === '-h') { console.log(USAGE); process.exit(0) }
    else if (flag === '--workloads') {
      given.workloads = String(raw()).split(',')
      const bad = given.workloads.filter((w) => !WORKLOADS.includes(w))
      if (bad.length) throw new Error(`unknown workload ${bad.join(', ')}; known: ${WORKLOADS.join(', ')}`)
    } else if (flag === '--sides') {
      sides = String(raw()).split(',')
      if (!sides.length || sides.some((x) => x !== 'ours' && x !== 'baileys')) throw new Error('--sides takes ours, baileys or ours,baileys')
    } else {
      const key = flag.replace(/^--/, '').replace(/-(\w)/g, (_, ch) => ch.toUpperCase())
      if (!(key in DEFAULTS)) throw new Error(`unknown flag ${flag}\n${USAGE}`)
      const num = Number(raw())
      if (!Number.isFinite(num) || num < 0) throw new Error(`${flag} needs a non-negative number`)
      given[key] = num
    }
  }
  const opts = { ...DEFAULTS, ...(smoke ? SMOKE : {}), ...given, smoke, sides, write: write && !smoke }
  for (const key of ['n', 'm', 'k', 'senders', 'historyAccounts', 'historyChats', 'historyMessages']) {
    if (!Number.isInteger(opts[key]) || opts[key] < 1) throw new Error(`--${key} must be a positive integer`)
  }
  return opts
}

/**
 * Runs one workload script in a Node process of its own. `stage(name)` resolves with the data of
 * the child's `{"stage":name}` line, `send(word)` writes a command line, `result` resolves with
 * its `{"side":...}` line (rejects if it exits without one or non-zero).
 */
function child(script, opts, env = {}) {
  const timeoutMs = opts.childTimeoutMs
  const proc = spawn(process.execPath, ['--expose-gc', path.join(__dirname, script)], {
    cwd: ROOT,
    env: { ...process.env, BAILEYS_SHARD_NATIVE: opts.addon, MOCK_URL: opts.mockUrl, BENCH_OPTS: JSON.stringify(opts), ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const stages = new Map()
  const waiting = new Map()
  let resultLine = null
  readline.createInterface({ input: proc.stdout }).on('line', (line) => {
    if (!line.startsWith('{')) return
    const data = JSON.parse(line)
    if (data.stage) {
      stages.set(data.stage, data)
      waiting.get(data.stage)?.(data)
    } else if (data.side) resultLine = data
  })
  const result = new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${script} did not finish within ${timeoutMs} ms`)) }, timeoutMs)
    proc.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0 && resultLine) resolve(resultLine)
      else reject(new Error(`${script} exited with code ${code}, signal ${signal}, without a result`))
    })
  })
  result.catch(() => {}) // observed by whoever awaits it; never an unhandled rejection here
  const stage = (name) => stages.has(name)
    ? Promise.resolve(stages.get(name))
    : Promise.race([new Promise((r) => waiting.set(name, r)), result.then(() => { throw new Error(`${script} ended before stage ${name}`) })])
  return { stage, send: (word) => proc.stdin.write(`${word}\n`), result, kill: () => proc.kill('SIGKILL') }
}

/** One side of each workload: resolves with that side's result (plus generator results). */
const runners = {
  idle: (side, o) => child(`idle-${side}.js`, o).result,
  async inbound(side, o) {
    const rx = child(`inbound-${side}.js`, o)
    try {
      const { jids } = await rx.stage('ready')
      const tx = child('peers.js', { ...o, role: 'sender' }, { BENCH_TARGETS: JSON.stringify(jids) })
      try {
        await tx.stage('warm')
        await rx.stage('warmed')
        rx.send('start')
        await rx.stage('started')
        tx.send('go')
        const [r, senders] = await Promise.all([rx.result, tx.result])
        return { ...r, senders }
      } finally { tx.kill() }
    } finally { rx.kill() }
  },
  async outbound(side, o) {
    const sink = child('peers.js', { ...o, role: 'sink' })
    try {
      const { jids } = await sink.stage('ready')
      const tx = child(`outbound-${side}.js`, o, { BENCH_TARGETS: JSON.stringify(jids) })
      try {
        await tx.stage('warm')
        await sink.stage('warmed')
        sink.send('start')
        await sink.stage('started')
        tx.send('go')
        const r = await tx.result
        sink.send('sent')
        const delivered = await sink.result
        // Every message ours sent was acknowledged by the server, so each must reach the peer.
        // Baileys' losses are a result, not a harness failure (see BENCHMARKS.md).
        if (side === 'ours' && delivered.received < o.m) throw new Error(`ours: ${delivered.received} of ${o.m} sent messages reached the peer`)
        return { ...r, deliveredPerSec: delivered.received < o.m ? null : Math.round((o.m * 1e6) / Math.max(1, delivered.lastUs - r.startUs)), sink: delivered }
      } finally { tx.kill() }
    } finally { sink.kill() }
  },
  async coldstart(side, o) {
    const dir = fs.mkdtempSync(path.join(process.env.BENCH_TMP, `cold-${side}-`))
    const setup = await child(`coldstart-${side}.js`, { ...o, phase: 'setup' }, { BENCH_DIR: dir }).result
    const r = await child(`coldstart-${side}.js`, { ...o, phase: 'measure' }, { BENCH_DIR: dir }).result
    return { ...r, setupConnectMs: setup.connectMs }
  },
  reconnect: (side, o) => child(`reconnect-${side}.js`, o).result,
  history: (side, o) => child(`history-${side}.js`, o).result,
}

/** Like Promise.all, but waits for both (no child left running) before rejecting. */
async function bothSettled(a, b) {
  const settled = await Promise.allSettled([a, b])
  const failure = settled.find((x) => x.status === 'rejected')
  if (failure) throw failure.reason
  return settled.map((x) => x.value)
}

const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`
const ms = (v) => `${Math.round(v)} ms`
const us = (v) => `${v} µs`
const ratio = (a, b) => (b > 0 && a != null ? `${(a / b).toFixed(2)}×` : 'n/a')

/** Table rows per workload: [label, value of a result, format]. */
const ROWS = {
  idle: [
    ['RSS per account', (r) => r.rssPerAccountBytes, (b) => `${(b / 2 ** 20).toFixed(2)} MiB`],
    ['RSS, steady state (median)', (r) => r.rssBytes, mib],
    ['RSS baseline (library loaded, 0 accounts)', (r) => r.baselineRssBytes, mib],
    ['idle CPU over the window (user+sys)', (r) => r.idleCpuMs, ms],
    ['JS heap used', (r) => r.heapUsedBytes, mib],
    ['time to pair and connect all', (r) => r.connectMs, ms],
  ],
  inbound: [
    ['CPU per message delivered to JS', (r) => r.cpuUsPerMsg, us],
    ['messages/s (start → last delivered)', (r) => r.msgsPerSec, String],
    ['latency send → handler, p50', (r) => r.latencyP50Ms, ms],
    ['latency send → handler, p99', (r) => r.latencyP99Ms, ms],
    ['RSS of the receiver', (r) => r.rssBytes, mib],
  ],
  outbound: [
    ['messages/s, all sendMessage resolved', (r) => Math.round((r.m * 1e6) / Math.max(1, r.endUs - r.startUs)), String],
    ['messages reaching the peer', (r) => `${r.sink.received} of ${r.m}`, String],
    ['messages/s, all delivered to the peer', (r) => r.deliveredPerSec, String],
    ['CPU per message sent', (r) => r.cpuUsPerMsg, us],
    ['latency send → peer handler, p50', (r) => r.sink.latencyP50Ms, ms],
  ],
  coldstart: [
    ['load/start → all connected', (r) => r.allConnectedMs, ms],
    ['process start → all connected', (r) => r.sinceProcessStartMs, ms],
    ['CPU (user+sys) until all connected', (r) => r.cpuMs, ms],
    ['RSS when all connected', (r) => r.rssBytes, mib],
  ],
  history: [
    ['link → all history delivered to JS', (r) => r.historyMs, ms],
    ['CPU (user+sys) until then', (r) => r.cpuMs, ms],
    ['peak RSS', (r) => r.peakRssBytes, mib],
    ['peak RSS above baseline, per account', (r) => (r.peakRssBytes - r.baselineRssBytes) / r.accounts, mib],
    ['RSS after (forced GC), above baseline, per account', (r) => (r.afterRssBytes - r.baselineRssBytes) / r.accounts, mib],
  ],
  reconnect: [
    ['restart → all connected again', (r) => r.allBackMs, ms],
    ['peak concurrent handshakes (mock)', (r) => r.peakHandshakes, String],
    ['handshakes started', (r) => r.handshakesStarted, String],
    ['CPU (user+sys) until all back', (r) => r.cpuMs, ms],
  ],
}

function rowsFor(workload, ours, theirs) {
  const cell = (r, get, fmt) => { try { const v = get(r); return v == null ? 'n/a' : fmt(v) } catch { return 'n/a' } }
  const val = (r, get) => { try { return get(r) } catch { return null } }
  return [
    ['', 'ours (baileys-shard)', 'Baileys 6.7.21', 'ours / Baileys'],
    ...ROWS[workload].map(([label, get, fmt]) => [label, cell(ours, get, fmt), cell(theirs, get, fmt), ratio(val(ours, get), val(theirs, get))]),
  ]
}

function markdownTable(rows) {
  const [head, ...body] = rows
  return [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i ? '---:' : '---')).join(' | ')} |`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n')
}

function textTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows.map((r) => r.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')).join('\n')
}

function machine() {
  const run = (cmd, args) => { try { return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8' }).trim() } catch { return null } }
  let commit = run('git', ['rev-parse', '--short', 'HEAD']) ?? 'unknown'
  if (run('git', ['status', '--porcelain', '--untracked-files=no'])) commit += ' (+ uncommitted changes)'
  return {
    nproc: run('nproc', []) ?? String(os.availableParallelism()),
    totalMem: os.totalmem(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' '),
    commit,
  }
}

/** What each workload's N means, for headings. */
const sizeOf = (w, o) => ({
  idle: `N=${o.n}`, inbound: `M=${o.m}, K=${o.k}`, outbound: `M=${o.m}`, coldstart: `N=${o.n}`, reconnect: `N=${o.n}`,
  history: `${o.historyAccounts} accounts of ${o.historyChats} chats × ${o.historyMessages} messages, ${o.historyContacts} contacts`,
})[w]

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const addon = process.env.BAILEYS_SHARD_NATIVE || (fs.existsSync(BENCH_ADDON) && !opts.smoke ? BENCH_ADDON : TEST_ADDON)
  if (!process.env.BAILEYS_SHARD_MOCK_BIN && addon === BENCH_ADDON && fs.existsSync(BENCH_MOCK)) process.env.BAILEYS_SHARD_MOCK_BIN = BENCH_MOCK
  const { MockServer } = require('../testing')
  const command = ['node', 'bench/run.js', ...process.argv.slice(2)].join(' ')
  const started = new Date()
  const m = machine()
  console.log(`bench: ${opts.workloads.join(', ')}; addon ${path.relative(ROOT, addon)}; node ${m.node}, nproc ${m.nproc}, load ${m.loadavg}`)
  // Every session folder of the run lives here; removed in the background at the end.
  process.env.BENCH_TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-run-'))
  const mock = await MockServer.start({ port: 0 })
  const base = { ...opts, addon, mockUrl: mock.url, childTimeoutMs: opts.smoke ? 120000 : 900000 }
  // The inbound workload runs twice: all messages to 1 shard, and spread over K shards.
  const inbound = opts.k === 1 ? [['inbound', { k: 1 }]] : [['inbound', { k: 1 }], ['inbound', { k: opts.k }]]
  const plan = opts.workloads.flatMap((w) => (w === 'inbound' ? inbound : [[w, {}]]))
  const sections = []
  let failed = 0
  try {
    for (const [workload, extra] of plan) {
      const o = { ...base, ...extra }
      const title = `${workload}, ${sizeOf(workload, o)}`
      const t = Date.now()
      try {
        const tag = (side) => `${workload}${extra.k ?? ''}-${side}-${Date.now().toString(36)}`
        const skipped = (name) => Promise.resolve({ side: name, failed: 'not run (--sides)', skipped: true })
        const side = (name) => (opts.sides.includes(name) ? runners[workload](name, { ...o, tag: tag(name) }) : skipped(name))
        // A smoke run only checks that each side works: both at once, to keep it short. A
        // measured run never overlaps them (they would share the 2 cores).
        // Measured runs go "as far as Baileys gets": if only the Baileys side fails (e.g. at
        // N=1,000), ours is still reported and Baileys' column says n/a, with its error.
        const [ours, theirs] = opts.smoke
          ? await bothSettled(side('ours'), side('baileys'))
          : [await side('ours'), await side('baileys').catch((e) => ({ side: 'baileys', failed: e.message }))]
        const rows = rowsFor(workload, ours, theirs)
        console.log(`\n== ${title} (${((Date.now() - t) / 1000).toFixed(1)} s)\n${textTable(rows)}`)
        if (theirs.failed && !theirs.skipped) console.log(`Baileys side FAILED: ${theirs.failed}`)
        sections.push({ title, rows, raw: [ours, theirs] })
      } catch (e) {
        failed++
        console.error(`\n== ${title}: FAILED: ${e.message}`)
        sections.push({ title, error: e.message })
      }
    }
  } finally {
    await mock.close()
    spawn('rm', ['-rf', process.env.BENCH_TMP], { detached: true, stdio: 'ignore' }).unref()
  }
  const loadAfter = os.loadavg().map((l) => l.toFixed(2)).join(' ')
  console.log(`\nload average before ${m.loadavg}, after ${loadAfter}`)
  if (opts.write) {
    const body = sections.map((s) => `### ${s.title}\n\n${s.error ? `FAILED: ${s.error}` : `${markdownTable(s.rows)}\n\n\`\`\`json\n${s.raw.map((r) => JSON.stringify(r)).join('\n')}\n\`\`\``}`).join('\n\n')
    fs.appendFileSync(BENCHMARKS, `
## Run ${started.toISOString().replace(/\.\d+Z$/, 'Z')}

\`\`\`sh
${command}
\`\`\`

Machine: ${m.nproc} CPUs (\`nproc\`, ${m.cpu}), ${mib(m.totalMem)} total memory, node ${m.node}, load average
${m.loadavg} before / ${loadAfter} after (shared machine). Commit ${m.commit}. Our side loads
\`${path.relative(ROOT, addon)}\`; mock \`${path.relative(ROOT, process.env.BAILEYS_SHARD_MOCK_BIN || 'target/debug/baileys-shard-mock')}\`.
Options: ${JSON.stringify(Object.fromEntries(Object.entries(opts).filter(([k]) => k in DEFAULTS)))}.

${body}
`)
    console.log(`appended to BENCHMARKS.md`)
  }
  console.log(`bench${opts.smoke ? ' smoke' : ''}: ${failed ? `${failed} of ${plan.length} workloads FAILED` : 'ok'}`)
  process.exit(failed ? 1 : 0)
}

main().catch((e) => {
  console.error(e.stack ?? e)
  console.log('bench: FAILED')
  process.exit(1)
})
