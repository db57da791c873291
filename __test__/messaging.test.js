'use strict'
// End-to-end messaging through the public API: shard ↔ shard, shard ↔ the real Baileys,
// and a message for a stopped shard delivered exactly once when it comes back.
const { MockServer } = require('../testing')
const { BaileysChild } = require('./baileys-peer')
const { waitFor, pairedManager, userJid } = require('./helpers')

let mock
let manager
const kids = []
const userOf = (jid) => jid.split(/[:@]/)[0]

beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  ;({ manager } = await pairedManager(mock, ['alice', 'bob']))
})
afterAll(async () => {
  for (const k of kids) await k.close()
  await manager?.close()
  await mock?.close()
})

test('a shard sends to another shard: Baileys-shaped messages.upsert on the receiver, delivery receipt on the sender', async () => {
  const alice = manager.socket('alice')
  const bob = manager.socket('bob')
  const onBobEmitter = []
  manager.shard('bob').on('messages.upsert', (e) => onBobEmitter.push(e))
  const onBobSock = []
  bob.ev.on('messages.upsert', (d) => onBobSock.push(d))

  const received = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'bob' && e.data.type === 'notify' && e.data.messages.some((m) => !m.key.fromMe), 30000)
  // On localhost the receipt can arrive before sendMessage resolves: the id is chosen up front
  // and the listener is in place before the send.
  const id = '3EB0E2E0000000000001'
  const delivered = waitFor(
    manager,
    'messages.update',
    (e) => e.shardId === 'alice' && e.data.some((u) => u.key.id === id && u.update.status === 3),
    30000,
  )
  const sent = await alice.sendMessage(userJid(bob.user.id), { text: 'hi bob' }, { messageId: id })
  expect(sent.key.id).toBe(id)
  const event = await received
  expect(event.sock).toBe(bob)
  expect(event.data.messages).toHaveLength(1)
  const [msg] = event.data.messages
  expect(msg).toMatchObject({
    key: { remoteJid: userJid(alice.user.id), fromMe: false, id: sent.key.id },
    messageTimestamp: expect.any(Number),
    broadcast: false,
  })
  expect(msg.message.extendedTextMessage.text).toBe('hi bob')
  expect(msg.key.participant).toBeUndefined()

  const update = (await delivered).data.find((u) => u.key.id === sent.key.id)
  expect(update).toEqual({ key: { remoteJid: userJid(bob.user.id), id: sent.key.id, fromMe: true }, update: { status: 3 } })

  // The same event reached the shard's own emitter and its socket's ev, once each.
  expect(onBobEmitter.filter((e) => e.data.messages[0]?.key.id === sent.key.id)).toHaveLength(1)
  expect(onBobSock.filter((d) => d.messages[0]?.key.id === sent.key.id)).toHaveLength(1)
})

test('a shard and the real Baileys 6.7.21 exchange texts both ways with no decryption failure', async () => {
  const peer = new BaileysChild('peer', mock)
  kids.push(peer)
  const open = await peer.waitFor('Baileys to open', (e) => e.event === 'open', 30000)
  expect(open.event).toBe('open')
  await peer.waitFor('Baileys offline sync', (e) => e.event === 'pending-done', 15000)
  const alice = manager.socket('alice')

  // Baileys → shard
  const got = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'alice' && e.data.type === 'notify' && e.data.messages.some((m) => !m.key.fromMe), 30000)
  peer.command({ cmd: 'send', to: alice.user.id, text: 'hello shard' })
  const sentByPeer = await peer.waitFor('Baileys to send', (e) => e.event === 'sent' || e.event === 'cmd-error', 20000)
  expect(sentByPeer.event).toBe('sent')
  const [msg] = (await got).data.messages
  expect(msg.key).toMatchObject({ id: sentByPeer.key.id, fromMe: false })
  expect(userOf(msg.key.remoteJid)).toBe(userOf(open.me.id))
  expect(msg.message.extendedTextMessage?.text ?? msg.message.conversation).toBe('hello shard')

  // shard → Baileys
  const reply = await alice.sendMessage(userJid(open.me.id), { text: 'hello Baileys' })
  const atPeer = await peer.waitFor('Baileys to receive', (e) => e.event === 'upsert' && e.key.id === reply.key.id, 20000)
  // Decrypted, not a CIPHERTEXT stub. Its upsert `type` is Baileys' own business: until the
  // phone's history-sync notification (which the mock phone does not send yet) or a 20 s
  // timeout, Baileys buffers events and labels a flushed batch with its first entry's type.
  expect(atPeer).toMatchObject({ text: 'hello Baileys', stub: null })
  expect(atPeer.key.fromMe).toBe(false)

  await new Promise((r) => setTimeout(r, 1000))
  expect(peer.decryptionProblems()).toEqual([])
  expect(peer.errors()).toEqual([])
})

test('a message for a stopped shard arrives exactly once when it is started again', async () => {
  const alice = manager.socket('alice')
  const bobJid = userJid(manager.socket('bob').user.id)
  await manager.stopShard('bob')
  const sent = await alice.sendMessage(bobJid, { text: 'while you were away' })

  const seen = []
  const listener = (e) => {
    if (e.shardId === 'bob') seen.push(...e.data.messages.filter((m) => m.key.id === sent.key.id))
  }
  manager.on('messages.upsert', listener)
  const back = waitFor(manager, 'login.update', (u) => u.shardId === 'bob' && u.state === 'connected', 30000)
  await manager.createShard({ id: 'bob' })
  await back
  for (let waited = 0; seen.length === 0 && waited < 20000; waited += 100) await new Promise((r) => setTimeout(r, 100))
  // Give a duplicate delivery time to show up.
  await new Promise((r) => setTimeout(r, 2000))
  manager.off('messages.upsert', listener)
  expect(seen).toHaveLength(1)
  expect(seen[0].message.extendedTextMessage.text).toBe('while you were away')
})

test('a shard whose account has a second device sees its own sent messages from the other device', async () => {
  // Same phoneNumber → same push name at registration → the mock links both as devices of one account.
  const both = ['me-1', 'me-2'].map((id) => waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 60000))
  const { sock: first } = await manager.createShard({ id: 'me-1', phoneNumber: '15550009999' })
  await both[0]
  const { sock: second } = await manager.createShard({ id: 'me-2', phoneNumber: '15550009999' })
  await both[1]
  expect(userOf(first.user.id)).toBe(userOf(second.user.id))
  expect(first.user.id).not.toBe(second.user.id)
  // The mock does not yet push the device-list notification a real server sends when an
  // account gains a device, so device 1 learns of device 2 at its next login.
  await manager.stopShard('me-1')
  const again = waitFor(manager, 'login.update', (u) => u.shardId === 'me-1' && u.state === 'connected', 30000)
  const { sock: restarted } = await manager.createShard({ id: 'me-1' })
  await again
  expect(restarted).toBe(first)

  const bobJid = userJid(manager.socket('bob').user.id)
  const id = '3EB0D0D0000000000042'
  const echoed = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'me-2' && e.data.messages.some((m) => m.key.id === id), 30000)
  await first.sendMessage(bobJid, { text: 'from my phone' }, { messageId: id })
  const msg = (await echoed).data.messages.find((m) => m.key.id === id)
  expect(msg.key).toMatchObject({ remoteJid: bobJid, fromMe: true, id })
  expect(msg.message.extendedTextMessage.text).toBe('from my phone')
})
