'use strict'
/** Inbound, Baileys side (the measured receiver): as inbound-ours.js with opts.k Baileys sockets. */
const c = require('./common')

const SIDE = 'baileys'

async function main() {
  const root = c.tempDir('bench-in-baileys-')
  const counter = c.messageCounter(SIDE, c.opts.k * c.opts.senders)
  const fleet = c.baileysFleet(root, { onMessage: counter.onMessage })
  const ids = c.accountIds(c.opts.k)
  await fleet.startAll(ids)
  c.stage('ready', { jids: ids.map((id) => c.bareJid(fleet.socks.get(id).user.id)) })
  const r = await counter.measure()
  await c.finish({ side: SIDE, k: c.opts.k, m: c.opts.m, ...r, errors: fleet.errors.slice(0, 5) },
    fleet.stop)
}

main().catch((e) => { c.progress(SIDE, `failed: ${e.stack ?? e}`); process.exit(1) })
