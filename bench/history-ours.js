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
  manager.on('login.update', ({ shardId, type, code }) => {
    if (type === 'pairing') c.enterPairingCode(phoneOf.get(shardId), code).catch((e) => errors.push(`${shardId}: ${e.message}`))
  })
  await c.measureHistory(SIDE, ids.length, {
    link: async () => {
      for (const id of ids) await manager.createShard({ id, phoneNumber: phoneOf.get(id) })
    },
    counter,
    errors,
    cleanup: () => manager.close(),
  })
}

main().catch((e) => { c.progress(SIDE, `failed: ${e.stack ?? e}`); process.exit(1) })
