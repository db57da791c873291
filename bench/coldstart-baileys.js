'use strict'
/**
 * Cold start, Baileys side. opts.phase "setup": pair opts.n sockets, one auth folder each in
 * BENCH_DIR. Phase "measure" (a new process): a socket per saved folder until all are open.
 */
const c = require('./common')

const SIDE = 'baileys'

async function main() {
  const dir = process.env.BENCH_DIR
  const ids = c.accountIds(c.opts.n)
  const cpu0 = process.cpuUsage()
  const fleet = c.baileysFleet(dir)
  if (c.opts.phase === 'setup') {
    const connectMs = await fleet.startAll(ids)
    await c.sleep(2000) // let the last creds writes land
    return c.finish({ side: SIDE, phase: 'setup', connectMs }, fleet.stop)
  }
  const allConnectedMs = await fleet.startAll(ids)
  await c.finish({
    side: SIDE, n: ids.length, allConnectedMs, sinceProcessStartMs: Math.round(performance.now()),
    cpuMs: Math.round(c.cpuMsSince(cpu0)), rssBytes: process.memoryUsage().rss, closesByCode: fleet.closes, errors: fleet.errors.slice(0, 5),
  }, fleet.stop)
}

main().catch((e) => { c.progress(SIDE, `failed: ${e.stack ?? e}`); process.exit(1) })
