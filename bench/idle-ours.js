'use strict'
/**
 * Idle benchmark, our side: one ShardManager with N shards paired against the mock, in this
 * process only. Started by bench/run.js (env MOCK_URL, BENCH_N, BENCH_IDLE_SECONDS,
 * BENCH_SETTLE_SECONDS, BAILEYS_SHARD_NATIVE = the test addon that trusts the mock).
 */
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { config, progress, scanQr, baseline, measureIdle, report } = require('./idle-common')

const SIDE = 'ours'

async function main() {
  const bareRssBytes = process.memoryUsage().rss
  const { ShardManager } = require('..')
  const session = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ours-'))
  const manager = new ShardManager({
    session,
    socketConfig: { waWebSocketUrl: config.mockUrl, version: [2, 3000, 1] },
  })
  // The constructor starts an async cleanup of the (empty) session folder; let it finish.
  await new Promise((r) => setTimeout(r, 200))
  const baselineRssBytes = await baseline()
  progress(SIDE, `baseline rss ${(baselineRssBytes / 2 ** 20).toFixed(1)} MiB; pairing ${config.n} shards`)

  const ids = Array.from({ length: config.n }, (_, i) => `bench-${i + 1}`)
  const pending = new Set(ids)
  const scanned = new Set()
  const errors = []
  const tStart = Date.now()
  const allConnected = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${config.connectTimeoutMs} ms; not connected: ${[...pending].join(', ')}; errors: ${errors.join(' | ')}`)),
      config.connectTimeoutMs,
    )
    manager.on('login.update', ({ shardId, state, type, code }) => {
      if (type === 'qr' && !scanned.has(shardId)) {
        scanned.add(shardId)
        scanQr(code).catch((e) => {
          scanned.delete(shardId) // try the next QR
          errors.push(`${shardId}: ${e.message}`)
        })
      }
      if (state === 'connected' && pending.delete(shardId) && pending.size === 0) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
  manager.on('shard.error', ({ shardId, error }) => errors.push(`${shardId}: ${error.code} ${error.message}`))
  for (const id of ids) await manager.createShard({ id })
  await allConnected
  const connectMs = Date.now() - tStart
  progress(SIDE, `${config.n} connected in ${connectMs} ms`)

  const m = await measureIdle(SIDE)
  report({ side: SIDE, n: config.n, baselineRssBytes, bareRssBytes, connectMs, ...m, errors: errors.slice(0, 5) })

  // Shutdown is not part of this workload; cap it so a slow close does not stretch the run.
  const tClose = Date.now()
  const closed = await Promise.race([
    manager.close().then(() => true, () => true),
    new Promise((r) => setTimeout(() => r(false), 5000)),
  ])
  progress(SIDE, closed ? `closed in ${Date.now() - tClose} ms` : 'close still running after 5 s; exiting anyway')
  const tRm = Date.now()
  fs.rmSync(session, { recursive: true, force: true })
  progress(SIDE, `session folder removed in ${Date.now() - tRm} ms; exiting`)
  process.exit(0)
}

main().catch((e) => {
  process.stderr.write(`[${SIDE}] failed: ${e.stack ?? e}\n`)
  process.exit(1)
})
