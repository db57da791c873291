'use strict'
/**
 * History sync, our side: opts.historyAccounts shards, each linked by pairing code to an account
 * the mock phone holds (generated: opts.historyContacts contacts, opts.historyChats chats of
 * opts.historyMessages messages), with `syncFullHistory`; until every message of every account
 * reached a `messaging-history.set` handler. Time, CPU, peak RSS and RSS after a forced GC.
 */
const c = require('./common')

const SIDE = 'ours'

async function main() {
  const phones = await c.seededPhones(c.opts.historyAccounts)
  const ids = c.accountIds(phones.length, 'history')
  const phoneOf = new Map(ids.map((id, i) => [id, phones[i]]))
  const manager = c.ourManager(c.tempDir('bench-history-ours-'), {
    socketConfig: { waWebSocketUrl: c.mockUrl, version: [2, 3000, 1], syncFullHistory: true },
  })
  const errors = []
  manager.on('shard.error', ({ shardId, error }) => errors.push(`${shardId}: ${error.code} ${error.message}`))
  const counter = c.historyCounter(ids)
  manager.on('messaging-history.set', ({ shardId, data }) => counter.add(shardId, data))
  const baselineRssBytes = await c.baseline()
  const peak = c.rssPeak()
  const cpu0 = process.cpuUsage()
  const start = Date.now()
  manager.on('login.update', ({ shardId, type, code }) => {
    if (type === 'pairing') c.enterPairingCode(phoneOf.get(shardId), code).catch((e) => errors.push(`${shardId}: ${e.message}`))
  })
  for (const id of ids) await manager.createShard({ id, phoneNumber: phoneOf.get(id) })
  await counter.whenComplete()
  const historyMs = Date.now() - start
  const cpuMs = Math.round(c.cpuMsSince(cpu0))
  const peakRssBytes = peak.stop()
  const afterRssBytes = await c.baseline()
  await c.finish(
    { side: SIDE, accounts: ids.length, historyMs, cpuMs, peakRssBytes, afterRssBytes, baselineRssBytes, errors: errors.slice(0, 5) },
    () => manager.close(),
  )
}

main().catch((e) => { c.progress(SIDE, `failed: ${e.stack ?? e}`); process.exit(1) })
