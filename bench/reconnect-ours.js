'use strict'
/**
 * Reconnect storm, our side: opts.n shards connected; the mock restarts (drops every connection,
 * refuses new ones for opts.downMs); time until all are connected again, peak concurrent
 * handshakes at the mock, CPU of this process meanwhile.
 */
const c = require('./common')

const SIDE = 'ours'

async function main() {
  const session = c.tempDir('bench-rc-ours-')
  const manager = c.ourManager(session)
  const watch = c.watchOurs(manager)
  const ids = c.accountIds(c.opts.n)
  await c.pairOurs(manager, watch, ids)
  await c.sleep(1000)
  await c.admin('/admin/stats/reset', {})
  const cpu0 = process.cpuUsage()
  const start = Date.now()
  const dropped = await c.admin('/admin/faults/restart', { downMs: c.opts.downMs })
  await watch.whenConnected(ids, start)
  const allBackMs = Date.now() - start
  const cpuMs = Math.round(c.cpuMsSince(cpu0))
  const stats = await c.admin('/admin/stats')
  await c.finish({ side: SIDE, n: ids.length, dropped: dropped.dropped, allBackMs, peakHandshakes: stats.handshakes.peak, handshakesStarted: stats.handshakes.started, cpuMs, errors: watch.errors.slice(0, 5) },
    () => manager.close())
}

main().catch((e) => { c.progress(SIDE, `failed: ${e.stack ?? e}`); process.exit(1) })
