// Compiled (not run) by __test__/typings.test.js: the public typings must accept real usage
// and reject misuse. Lines marked @ts-expect-error must fail to type-check.
import { ShardManager, ShardError, ShardInfo, DisconnectReason, type WAMessage, type LoginUpdate } from 'baileys-shard'
import { MockServer } from 'baileys-shard/testing'

async function main(): Promise<void> {
  const mock = await MockServer.start({ port: 0 })
  const manager = new ShardManager({ session: './sessions', socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })

  manager.on('login.update', (u: LoginUpdate) => {
    if (u.state === 'connecting' && u.type === 'qr') void mock.scanQr(u.code)
    if (u.state === 'disconnected' && u.statusCode === DisconnectReason.restartRequired) return
  })
  manager.on('shard.error', ({ shardId, error }) => {
    const code: string = error.code
    console.log(shardId, code, error instanceof ShardError)
  })
  manager.on('messages.upsert', async ({ shardId, sock, data }) => {
    for (const msg of data.messages) {
      const text: string | undefined = msg.message?.extendedTextMessage?.text ?? msg.message?.conversation
      if (!msg.key.fromMe && text && msg.key.remoteJid) {
        const sent: WAMessage = await sock.sendMessage(msg.key.remoteJid, { text: `${shardId}: ${text}` }, { quoted: msg })
        await sock.sendMessage(msg.key.remoteJid, { react: { text: '👍', key: sent.key } })
      }
    }
  })
  manager.on('messages.update', ({ data }) => data.forEach((u) => console.log(u.key.id, u.update.status)))
  manager.on('presence.update', ({ data }) => console.log(data.id, Object.values(data.presences)[0]?.lastKnownPresence))

  const loaded: string[] = await manager.loadAllShards({ staggerMs: 50 })
  console.log(loaded.length)
  const { id, sock } = await manager.createShard({ id: 'bot-1', phoneNumber: '6281234567890' })
  await manager.recreateShard({ id, clearSession: false })
  await manager.connect(id)
  await manager.cleanupCorruptSessions()
  sock.ev.on('connection.update', (u) => console.log(u.connection, u.lastDisconnect?.error.output.statusCode))
  await sock.sendMessage('1@s.whatsapp.net', { poll: { name: 'Q', values: ['a', 'b'], selectableCount: 1 } })
  await sock.sendMessage('1@s.whatsapp.net', { location: { degreesLatitude: 1, degreesLongitude: 2 } })
  const info: ShardInfo | null = manager.getShardInfo(id)
  console.log(info?.status, info?.updatedAt.getTime(), sock.user?.id)
  const stopped: boolean = await manager.stopShard(id)
  console.log(stopped, (await manager.getSessionInfo(id)).registered)

  await sock.readMessages([{ remoteJid: '1@s.whatsapp.net', id: 'ABC', fromMe: false }])
  await sock.sendPresenceUpdate('recording', '1@s.whatsapp.net')
  await sock.presenceSubscribe('1@s.whatsapp.net')
  const [found] = await sock.onWhatsApp('+15551234567', '15557654321@s.whatsapp.net')
  console.log(found?.jid, found?.exists, found?.lid)
  // @ts-expect-error: presence types are a closed set
  await sock.sendPresenceUpdate('typing', '1@s.whatsapp.net')
  // @ts-expect-error: readMessages takes an array of keys
  await sock.readMessages({ remoteJid: '1@s.whatsapp.net', id: 'ABC' })
  // @ts-expect-error: content needs a known kind
  await sock.sendMessage('1@s.whatsapp.net', { txt: 'typo' })
  // @ts-expect-error: stopShard takes an id
  await manager.stopShard()
  // @ts-expect-error: status is a closed set
  const bad: ShardInfo['status'] = 'online'
  console.log(bad)
  await manager.close()
  await mock.close()
}

void main()
