'use strict'
/**
 * Inbound, our side (the measured receiver): opts.k shards; peers.js (another process) sends
 * opts.m stamped messages to them; CPU of this process per message delivered to the JS
 * `messages.upsert` handler, messages/s, send→handler latency.
 */
const c = require('./common')

const SIDE = 'ours'

async function main() {
  const session = c.tempDir('bench-in-ours-')
  const manager = c.ourManager(session)
  const watch = c.watchOurs(manager)
  const ids = c.accountIds(c.opts.k)
  await c.pairOurs(manager, watch, ids)
  const counter = c.messageCounter(SIDE, c.opts.k * c.opts.senders)
  c.onOurMessages(manager, counter.onMessage)
  c.stage('ready', { jids: ids.map((id) => c.bareJid(manager.socket(id).user.id)) })
  const r = await counter.measure()
  await c.finish({ side: SIDE, k: c.opts.k, m: c.opts.m, ...r, errors: watch.errors.slice(0, 5) },
    () => manager.close())
}

main().catch((e) => { c.progress(SIDE, `failed: ${e.stack ?? e}`); process.exit(1) })
