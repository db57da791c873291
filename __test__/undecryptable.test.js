'use strict'
// A received message that cannot be decrypted does not vanish: as Baileys 6.7.21 does, it is
// delivered in `messages.upsert` as a CIPHERTEXT stub (messageStubType 2, no `message`), and
// the shard also reports `shard.error` DECODE_FAILED naming it. The mock sends the same
// undecryptable message to a shard and to a real Baileys socket, and the two stubs compare.
const { shardsAndBaileys, waitFor, userJid } = require('./helpers')

let ctx
const phoneOf = (jid) => userJid(jid).split('@')[0]

beforeAll(async () => {
  ctx = await shardsAndBaileys('cipher-peer')
}, 120000)
afterAll(() => ctx?.close())

test('an undecryptable message arrives as Baileys\' CIPHERTEXT stub and as shard.error DECODE_FAILED', async () => {
  const { mock, manager, bob, aliceJid, peer, peerJid } = ctx
  const alicePhone = phoneOf(aliceJid)

  const upserted = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'bob' && e.data.messages.some((m) => m.messageStubType === 2), 20000)
  const failed = waitFor(manager, 'shard.error', (e) => e.shardId === 'bob' && e.error.code === 'DECODE_FAILED', 20000)
  const { id } = await mock.sendUndecryptable(alicePhone, phoneOf(bob.user.id))
  const { data } = await upserted
  const ours = data.messages.find((m) => m.key.id === id)
  expect(data.type).toBe('notify')
  expect(ours).toMatchObject({ key: { remoteJid: aliceJid, fromMe: false, id }, messageStubType: 2, broadcast: false })
  expect(ours.message).toBeUndefined()
  expect(ours.messageStubParameters).toHaveLength(1)
  const { error } = await failed
  expect(error.message).toContain(id)

  // The oracle: the same kind of message to a real Baileys socket.
  const theirs = await mock.sendUndecryptable(alicePhone, phoneOf(peerJid))
  const seen = await peer.waitFor('the peer\'s stub', (e) => e.event === 'upsert' && e.key.id === theirs.id, 20000)
  expect(seen).toMatchObject({ type: 'notify', stub: 2, message: null, key: { remoteJid: aliceJid, fromMe: false } })
  expect(Object.keys(ours.key).sort()).toEqual(Object.keys(seen.key).sort())
  expect(seen.stubParams).toHaveLength(1)
}, 60000)
