'use strict'
/**
 * Cold start, our side. opts.phase "setup": pair opts.n shards in BENCH_DIR, close. Phase
 * "measure" (a new process): `loadAllShards` of that folder until every shard is connected.
 */
const c = require('./common')

const SIDE = 'ours'

async function main() {
  const dir = process.env.BENCH_DIR
  const ids = c.accountIds(c.opts.n)
  if (c.opts.phase === 'setup') {
    const manager = c.ourManager(dir)
    const watch = c.watchOurs(manager)
    const connectMs = await c.pairOurs(manager, watch, ids)
    await c.sleep(2000) // let the last session writes land
    return c.finish({ side: SIDE, phase: 'setup', connectMs }, () => manager.close())
  }
  const cpu0 = process.cpuUsage()
  const manager = c.ourManager(dir)
  const watch = c.watchOurs(manager)
  const start = Date.now()
  const loaded = await manager.loadAllShards({ staggerMs: c.opts.staggerMs })
  if (loaded.length !== ids.length) throw new Error(`loadAllShards loaded ${loaded.length} of ${ids.length}`)
  await watch.whenConnected(loaded)
  const allConnectedMs = Date.now() - start
  await c.finish({
    side: SIDE, n: loaded.length, allConnectedMs, sinceProcessStartMs: Math.round(performance.now()),
    cpuMs: Math.round(c.cpuMsSince(cpu0)), rssBytes: process.memoryUsage().rss, errors: watch.errors.slice(0, 5),
  }, () => manager.close())
}

main().catch((e) => { c.progress(SIDE, `failed: ${e.stack ?? e}`); process.exit(1) })
