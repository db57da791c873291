'use strict'
// Demo: three shards log in by QR against the built-in mock server, on the default file store.
// Run with `npm run demo` (builds the test addon, which trusts the mock, then runs this).
const path = require('node:path')
const fs = require('node:fs')
const os = require('node:os')

process.env.BAILEYS_SHARD_NATIVE ||= path.join(__dirname, '..', 'target', 'test-addon', 'baileys-shard.linux-x64-gnu.node')

const qrcode = require('qrcode-terminal')
const { ShardManager } = require('..')
const { MockServer } = require('../testing')

async function main() {
  const mock = await MockServer.start({ port: 0 })
  console.log(`mock WhatsApp server: ${mock.url}`)

  const session = fs.mkdtempSync(path.join(os.tmpdir(), 'baileys-shard-demo-'))
  const manager = new ShardManager({ session, socketConfig: { waWebSocketUrl: mock.url } })

  const ids = ['demo-1', 'demo-2', 'demo-3']
  const connected = new Set()
  const allConnected = new Promise((resolve) => {
    manager.on('login.update', async ({ shardId, state, type, code, reason }) => {
      console.log(`[${shardId}] login.update ${state}${type ? ` (${type})` : ''}${reason ? `: ${reason}` : ''}`)
      if (state === 'connecting' && type === 'qr') {
        qrcode.generate(code, { small: true }, (art) => console.log(art))
        console.log(`[${shardId}] the mock phone scans this QR...`)
        await mock.scanQr(code).catch((e) => console.log(`[${shardId}] scan refused: ${e.message}`))
      }
      if (state === 'connected') {
        connected.add(shardId)
        if (connected.size === ids.length) resolve()
      }
    })
  })
  manager.on('shard.error', ({ shardId, error }) => console.log(`[${shardId}] shard.error ${error.code}: ${error.message}`))

  for (const id of ids) await manager.createShard({ id })
  await allConnected

  console.log('\nall shards connected:')
  for (const info of manager.getAllShardInfo()) {
    console.log(`  ${info.index}/${info.total} ${info.id}: ${info.status} as ${manager.socket(info.id).user.id}`)
  }
  console.log(`sessions saved in ${session}`)
  await manager.close()
  await mock.close()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
