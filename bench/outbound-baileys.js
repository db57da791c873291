'use strict'
/**
 * Outbound, Baileys side: as outbound-ours.js with one Baileys socket. Its sendMessage resolves
 * once the frame is written (no server ack), so compare delivery at the sink too.
 */
const c = require('./common')

const SIDE = 'baileys'

async function main() {
  const [target] = JSON.parse(process.env.BENCH_TARGETS)
  const root = c.tempDir('bench-out-baileys-')
  const fleet = c.baileysFleet(root)
  const [id] = c.accountIds(1)
  await fleet.startAll([id])
  const sock = fleet.socks.get(id)
  await sock.sendMessage(target, { text: c.WARM })
  c.stage('warm')
  await c.waitCommand('go')
  const cpu0 = process.cpuUsage()
  const r = await c.sendPaced((_i, text) => fleet.socks.get(id).sendMessage(target, { text }))
  const cpuMs = c.cpuMsSince(cpu0)
  await c.finish({ side: SIDE, m: c.opts.m, ...r, cpuMs, cpuUsPerMsg: Math.round((cpuMs * 1000) / c.opts.m), rssBytes: process.memoryUsage().rss },
    fleet.stop)
}

main().catch((e) => { c.progress(SIDE, `failed: ${e.stack ?? e}`); process.exit(1) })
