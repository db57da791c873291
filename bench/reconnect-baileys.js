'use strict'
/**
 * Reconnect storm, Baileys side: as reconnect-ours.js with opts.n Baileys sockets, each
 * recreated at once after its close (baileysFleet).
 */
const c = require('./common')

const SIDE = 'baileys'

async function main() {
  const root = c.tempDir('bench-rc-baileys-')
  const fleet = c.baileysFleet(root)
  const ids = c.accountIds(c.opts.n)
  await fleet.startAll(ids)
  await c.sleep(1000)
  await c.admin('/admin/stats/reset', {})
  const cpu0 = process.cpuUsage()
  const start = Date.now()
  const dropped = await c.admin('/admin/faults/restart', { downMs: c.opts.downMs })
  await fleet.whenOpen(ids, start)
  const allBackMs = Date.now() - start
  const cpuMs = Math.round(c.cpuMsSince(cpu0))
  const stats = await c.admin('/admin/stats')
  await c.finish({ side: SIDE, n: ids.length, dropped: dropped.dropped, allBackMs, peakHandshakes: stats.handshakes.peak, handshakesStarted: stats.handshakes.started, cpuMs, closesByCode: fleet.closes, errors: fleet.errors.slice(0, 5) },
    fleet.stop)
}

main().catch((e) => { c.progress(SIDE, `failed: ${e.stack ?? e}`); process.exit(1) })
