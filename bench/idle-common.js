'use strict'
/**
 * Shared by both sides of the idle benchmark (CommonJS so the ESM Baileys side can import it):
 * configuration from the environment, progress on stderr, and the measurement itself.
 */

const config = {
  mockUrl: process.env.MOCK_URL,
  n: Number(process.env.BENCH_N ?? 20),
  idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? 10),
  settleSeconds: Number(process.env.BENCH_SETTLE_SECONDS ?? 5),
  connectTimeoutMs: Number(process.env.BENCH_CONNECT_TIMEOUT_MS ?? 120000),
}
if (!config.mockUrl) throw new Error('MOCK_URL is not set (run bench/run.js)')
config.scanUrl = `http://${new URL(config.mockUrl).host}/admin/mock-phone/scan-qr`

const t0 = Date.now()
function progress(side, msg) {
  process.stderr.write(`[${side} +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`)
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function gc() {
  if (typeof global.gc === 'function') {
    global.gc()
    global.gc()
    return true
  }
  return false
}

/** Makes the mock phone scan a QR string. Resolves true on success. */
async function scanQr(qr) {
  const res = await fetch(config.scanUrl, { method: 'POST', body: qr })
  if (!res.ok) throw new Error(`mock refused the QR: HTTP ${res.status} ${await res.text()}`)
  return true
}

/** RSS after a forced GC, before any account exists (the libraries are already loaded). */
async function baseline() {
  gc()
  await sleep(200)
  gc()
  return process.memoryUsage().rss
}

/**
 * Settles, forces GC, then samples RSS every 500 ms and CPU time over the idle window.
 * rssBytes is the median of the samples (steady state), rssMaxBytes the largest.
 */
async function measureIdle(side) {
  progress(side, `all connected; settling ${config.settleSeconds}s`)
  await sleep(config.settleSeconds * 1000)
  const gcForced = gc()
  await sleep(100)
  progress(side, `idle window ${config.idleSeconds}s (gc forced: ${gcForced})`)
  const samples = []
  const cpu0 = process.cpuUsage()
  const wall0 = process.hrtime.bigint()
  const end = Date.now() + config.idleSeconds * 1000
  samples.push(process.memoryUsage().rss)
  while (Date.now() < end) {
    await sleep(Math.min(500, Math.max(0, end - Date.now())))
    samples.push(process.memoryUsage().rss)
  }
  const cpu = process.cpuUsage(cpu0)
  const wallMs = Number(process.hrtime.bigint() - wall0) / 1e6
  const sorted = [...samples].sort((a, b) => a - b)
  const mem = process.memoryUsage()
  return {
    rssBytes: sorted[Math.floor(sorted.length / 2)],
    rssMinBytes: sorted[0],
    rssMaxBytes: sorted[sorted.length - 1],
    heapUsedBytes: mem.heapUsed,
    externalBytes: mem.external,
    arrayBuffersBytes: mem.arrayBuffers,
    idleCpuMs: (cpu.user + cpu.system) / 1000,
    idleCpuUserMs: cpu.user / 1000,
    idleCpuSystemMs: cpu.system / 1000,
    idleWallMs: Math.round(wallMs),
    gcForced,
  }
}

/** Prints the one JSON result line on stdout. */
function report(result) {
  const { side, n, rssBytes, baselineRssBytes, idleCpuMs, ...rest } = result
  const out = {
    side,
    n,
    rssBytes,
    rssPerAccountBytes: Math.round((rssBytes - baselineRssBytes) / n),
    baselineRssBytes,
    idleCpuMs: Math.round(idleCpuMs * 10) / 10,
    ...rest,
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}

module.exports = { config, progress, sleep, gc, scanQr, baseline, measureIdle, report }
