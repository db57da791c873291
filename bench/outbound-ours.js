'use strict'
/**
 * Outbound, our side (the measured sender): one shard sends opts.m texts to a sink shard in
 * peers.js (BENCH_TARGETS); sendMessage resolves after the server's ack. Time until all
 * resolved, CPU of this process per message.
 */
const c = require('./common')

const SIDE = 'ours'

async function main() {
  const [target] = JSON.parse(process.env.BENCH_TARGETS)
  const session = c.tempDir('bench-out-ours-')
  const manager = c.ourManager(session)
  const watch = c.watchOurs(manager)
  const [id] = c.accountIds(1)
  await c.pairOurs(manager, watch, [id])
  const sock = manager.socket(id)
  await sock.sendMessage(target, { text: c.WARM })
  c.stage('warm')
  await c.waitCommand('go')
  const cpu0 = process.cpuUsage()
  const r = await c.sendPaced((_i, text) => sock.sendMessage(target, { text }))
  const cpuMs = c.cpuMsSince(cpu0)
  await c.finish({ side: SIDE, m: c.opts.m, ...r, cpuMs, cpuUsPerMsg: Math.round((cpuMs * 1000) / c.opts.m), rssBytes: process.memoryUsage().rss },
    () => manager.close())
}

main().catch((e) => { c.progress(SIDE, `failed: ${e.stack ?? e}`); process.exit(1) })
