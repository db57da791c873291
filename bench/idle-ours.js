'use strict'
/** Idle, our side: one ShardManager with opts.n shards paired; steady RSS per shard, idle CPU. */
const c = require('./common')

const SIDE = 'ours'

async function main() {
  const bareRssBytes = process.memoryUsage().rss
  const session = c.tempDir('bench-idle-ours-')
  const manager = c.ourManager(session)
  const watch = c.watchOurs(manager)
  await c.sleep(200) // the constructor's async cleanup of the (empty) session folder
  const baselineRssBytes = await c.baseline()
  const connectMs = await c.pairOurs(manager, watch, c.accountIds(c.opts.n))
  c.progress(SIDE, `${c.opts.n} connected in ${connectMs} ms`)
  const m = await c.measureIdle(SIDE)
  await c.finish(
    { side: SIDE, n: c.opts.n, rssPerAccountBytes: Math.round((m.rssBytes - baselineRssBytes) / c.opts.n), baselineRssBytes, bareRssBytes, connectMs, ...m, errors: watch.errors.slice(0, 5) },
    () => manager.close(),
  )
}

main().catch((e) => { c.progress(SIDE, `failed: ${e.stack ?? e}`); process.exit(1) })
