#!/usr/bin/env node
'use strict'
/**
 * Benchmark harness: baileys-shard (this package) vs plain Baileys 6.7.21, side by side, against
 * one mock WhatsApp server in its own process. Each side runs in a child Node process of its own.
 *
 *   node bench/run.js [--n 20] [--idle-seconds 10] [--settle-seconds 5] [--smoke] [--no-write]
 *
 * Workload "idle": N connected accounts; steady-state RSS per account and CPU time while idle.
 * Appends a dated section to BENCHMARKS.md unless --smoke or --no-write.
 */
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, execFileSync } = require('node:child_process')
const { MockServer } = require('../testing')

const ROOT = path.join(__dirname, '..')
const TEST_ADDON = path.join(ROOT, 'target', 'test-addon', 'baileys-shard.linux-x64-gnu.node')
const BENCHMARKS = path.join(ROOT, 'BENCHMARKS.md')

function parseArgs(argv) {
  const opts = { n: 20, idleSeconds: 10, settleSeconds: 5, smoke: false, write: true }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const [flag, inline] = a.includes('=') ? a.split(/=(.*)/s) : [a, undefined]
    const value = () => {
      const v = inline ?? argv[++i]
      const num = Number(v)
      if (v === undefined || !Number.isFinite(num) || num < 0) throw new Error(`${flag} needs a non-negative number`)
      return num
    }
    if (flag === '--n') opts.n = value()
    else if (flag === '--idle-seconds') opts.idleSeconds = value()
    else if (flag === '--settle-seconds') opts.settleSeconds = value()
    else if (flag === '--smoke') opts.smoke = true
    else if (flag === '--no-write') opts.write = false
    else if (flag === '--help' || flag === '-h') {
      console.log('node bench/run.js [--n 20] [--idle-seconds 10] [--settle-seconds 5] [--smoke] [--no-write]')
      process.exit(0)
    } else throw new Error(`unknown flag ${a}`)
  }
  if (opts.smoke) {
    // Quick check that both sides pair and report; not written to BENCHMARKS.md.
    if (!argv.some((a) => a.startsWith('--n'))) opts.n = 2
    if (!argv.some((a) => a.startsWith('--idle-seconds'))) opts.idleSeconds = 2
    if (!argv.some((a) => a.startsWith('--settle-seconds'))) opts.settleSeconds = 1
    opts.write = false
  }
  if (!Number.isInteger(opts.n) || opts.n < 1) throw new Error('--n must be a positive integer')
  return opts
}

/** Runs one side in its own Node process; resolves with its JSON result line. */
function runSide(script, opts, mock) {
  const timeoutMs = 180000 + (opts.idleSeconds + opts.settleSeconds) * 1000
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(__dirname, script)], {
      cwd: ROOT,
      env: {
        ...process.env,
        BAILEYS_SHARD_NATIVE: process.env.BAILEYS_SHARD_NATIVE || TEST_ADDON,
        MOCK_URL: mock.url,
        BENCH_N: String(opts.n),
        BENCH_IDLE_SECONDS: String(opts.idleSeconds),
        BENCH_SETTLE_SECONDS: String(opts.settleSeconds),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    const tSpawn = Date.now()
    let tResult = null
    child.stdout.on('data', (d) => {
      out += d
      if (tResult === null && out.includes('{"side"')) tResult = Date.now()
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${script} did not finish within ${timeoutMs} ms`))
    }, timeoutMs)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      const tExit = Date.now()
      console.error(`[run] ${script}: ${((tExit - tSpawn) / 1000).toFixed(1)} s in all` +
        (tResult ? `, exited ${((tExit - tResult) / 1000).toFixed(1)} s after printing its result` : ''))
      const line = out.split('\n').reverse().find((l) => l.startsWith('{"side"'))
      if (code !== 0 || !line) return reject(new Error(`${script} exited with code ${code} signal ${signal}; stdout:\n${out}`))
      resolve(JSON.parse(line))
    })
  })
}

/** The mock's own RSS (informative; it is another process). */
function mockRss(mock) {
  try {
    const status = fs.readFileSync(`/proc/${mock._child.pid}/status`, 'utf8')
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1])
    return Number.isFinite(kb) ? kb * 1024 : null
  } catch {
    return null
  }
}

function machine() {
  let nproc
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim()
  } catch {
    nproc = String(os.availableParallelism())
  }
  let commit = 'unknown'
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim()
    if (dirty) commit += ' (+ uncommitted changes)'
  } catch {}
  return {
    nproc,
    totalMem: os.totalmem(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' '),
    commit,
  }
}

const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`
const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a')

function table(ours, theirs) {
  const rows = [
    ['', 'ours (baileys-shard)', 'Baileys 6.7.21', 'ours / Baileys'],
    ['accounts connected', String(ours.n), String(theirs.n), ''],
    ['RSS per account', mib(ours.rssPerAccountBytes), mib(theirs.rssPerAccountBytes), ratio(ours.rssPerAccountBytes, theirs.rssPerAccountBytes)],
    ['RSS, steady state (median)', mib(ours.rssBytes), mib(theirs.rssBytes), ratio(ours.rssBytes, theirs.rssBytes)],
    ['RSS baseline (library loaded, 0 accounts)', mib(ours.baselineRssBytes), mib(theirs.baselineRssBytes), ratio(ours.baselineRssBytes, theirs.baselineRssBytes)],
    [`idle CPU over ${Math.round(ours.idleWallMs / 1000)} s (user+sys)`, `${ours.idleCpuMs} ms`, `${theirs.idleCpuMs} ms`, ratio(ours.idleCpuMs, theirs.idleCpuMs)],
    ['JS heap used', mib(ours.heapUsedBytes), mib(theirs.heapUsedBytes), ratio(ours.heapUsedBytes, theirs.heapUsedBytes)],
    ['time to connect all', `${(ours.connectMs / 1000).toFixed(1)} s`, `${(theirs.connectMs / 1000).toFixed(1)} s`, ''],
  ]
  return rows
}

function markdownTable(rows) {
  const [head, ...body] = rows
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...body.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')
}

function textTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n')
}

const HEADER = `# Benchmarks

baileys-shard (this package, Rust engine) against plain Baileys 6.7.21 sockets, side by side in
one run, against the built-in mock WhatsApp server. How to run and what is (and is not) measured:
[bench/README.md](bench/README.md). Each run of \`node bench/run.js\` appends a section below;
the numbers are from a shared 2-core machine and are noisy (see the notes in each section).
`

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const command = ['node', 'bench/run.js', ...process.argv.slice(2)].join(' ')
  const started = new Date()
  const m = machine()
  console.log(`idle benchmark: n=${opts.n}, settle ${opts.settleSeconds}s, idle window ${opts.idleSeconds}s; node ${m.node}, nproc ${m.nproc}, load ${m.loadavg}`)
  const mock = await MockServer.start({ port: 0 })
  let ours, theirs, mockRssAfter
  try {
    console.log(`mock at ${mock.url}`)
    ours = await runSide('idle-ours.js', opts, mock)
    console.log(JSON.stringify(ours))
    theirs = await runSide('idle-baileys.mjs', opts, mock)
    console.log(JSON.stringify(theirs))
    mockRssAfter = mockRss(mock)
  } finally {
    await mock.close()
  }
  const rows = table(ours, theirs)
  console.log('\n' + textTable(rows))
  const loadAfter = os.loadavg().map((l) => l.toFixed(2)).join(' ')
  console.log(`load average before ${m.loadavg}, after ${loadAfter}`)

  if (!opts.write) {
    console.log(`\n(not written to BENCHMARKS.md: ${opts.smoke ? '--smoke' : '--no-write'})`)
    return
  }
  const section = `
## Idle, N=${opts.n} — ${started.toISOString().replace(/\.\d+Z$/, 'Z')}

\`\`\`sh
${command}
\`\`\`

Machine: ${m.nproc} CPUs (\`nproc\`, ${m.cpu}), ${mib(m.totalMem)} total memory, node ${m.node},
load average ${m.loadavg} before / ${loadAfter} after (shared machine). Commit ${m.commit}.
Our side loads \`${path.relative(ROOT, process.env.BAILEYS_SHARD_NATIVE || TEST_ADDON)}\` (the test build).
Settle ${opts.settleSeconds} s after the last account connected, forced GC (\`--expose-gc\`), then
an idle window of ${opts.idleSeconds} s. Mock RSS after both sides: ${mockRssAfter ? mib(mockRssAfter) : 'n/a'}.

${markdownTable(rows)}

Raw result lines:

\`\`\`json
${JSON.stringify(ours)}
${JSON.stringify(theirs)}
\`\`\`
`
  if (!fs.existsSync(BENCHMARKS)) fs.writeFileSync(BENCHMARKS, HEADER)
  fs.appendFileSync(BENCHMARKS, section)
  console.log(`\nappended to ${path.relative(process.cwd(), BENCHMARKS) || BENCHMARKS}`)
}

main().catch((e) => {
  console.error(e.stack ?? e)
  process.exit(1)
})
