'use strict'
/** Idle, Baileys side: opts.n plain Baileys sockets in this process; steady RSS per account, idle CPU. */
const c = require('./common')

const SIDE = 'baileys'

async function main() {
  const bareRssBytes = process.memoryUsage().rss
  await c.loadBaileys()
  const root = c.tempDir('bench-idle-baileys-')
  const fleet = c.baileysFleet(root)
  const baselineRssBytes = await c.baseline()
  const connectMs = await fleet.startAll(c.accountIds(c.opts.n))
  c.progress(SIDE, `${c.opts.n} open in ${connectMs} ms`)
  const m = await c.measureIdle(SIDE)
  await c.finish(
    { side: SIDE, n: c.opts.n, rssPerAccountBytes: Math.round((m.rssBytes - baselineRssBytes) / c.opts.n), baselineRssBytes, bareRssBytes, connectMs, ...m, closesByCode: fleet.closes, errors: fleet.errors.slice(0, 5) },
    fleet.stop,
  )
}

main().catch((e) => { c.progress(SIDE, `failed: ${e.stack ?? e}`); process.exit(1) })
