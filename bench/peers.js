'use strict'
/**
 * The other end of the message workloads, in a process of its own (never measured), made of
 * our shards:
 * - role "sender" (inbound): opts.senders shards send one warm-up message to every target
 *   (BENCH_TARGETS, JSON jids) — Signal sessions are set up before measuring — then, on `go`,
 *   opts.m stamped messages round-robin over senders and targets (sendPaced).
 * - role "sink" (outbound): one shard; prints its jid, counts what arrives (messageCounter) until
 *   all arrived or, once the sender is done, nothing more arrives (the sender under test may lose
 *   messages: run.js reports how many arrived, and fails the workload if ours lost any).
 */
const c = require('./common')

const SIDE = 'peers'

async function main() {
  const session = c.tempDir('bench-peers-')
  const manager = c.ourManager(session)
  const watch = c.watchOurs(manager)
  const cleanup = () => manager.close()
  if (c.opts.role === 'sink') {
    const [id] = c.accountIds(1, 'sink')
    await c.pairOurs(manager, watch, [id])
    const counter = c.messageCounter('sink', c.opts.expectedWarm ?? 1, { settleOnSent: true })
    c.onOurMessages(manager, counter.onMessage)
    c.stage('ready', { jids: [c.bareJid(manager.socket(id).user.id)] })
    const r = await counter.measure()
    return c.finish({ side: 'sink', ...r, errors: watch.errors.slice(0, 5) }, cleanup)
  }
  const targets = JSON.parse(process.env.BENCH_TARGETS)
  const ids = c.accountIds(c.opts.senders, 'sender')
  await c.pairOurs(manager, watch, ids)
  const socks = ids.map((id) => manager.socket(id))
  await Promise.all(socks.flatMap((s) => targets.map((jid) => s.sendMessage(jid, { text: c.WARM }))))
  c.stage('warm')
  await c.waitCommand('go')
  const r = await c.sendPaced((i, text) => socks[i % socks.length].sendMessage(targets[i % targets.length], { text }))
  c.progress(SIDE, `sent ${c.opts.m} in ${((r.endUs - r.startUs) / 1000).toFixed(0)} ms`)
  await c.finish({ side: 'senders', ...r, errors: [...r.errors, ...watch.errors].slice(0, 5) }, cleanup)
}

main().catch((e) => { c.progress(SIDE, `failed: ${e.stack ?? e}`); process.exit(1) })
