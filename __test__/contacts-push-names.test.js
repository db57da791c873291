'use strict'
// A received message names its sender's push name; Baileys 6.7.21 turns it into
// `contacts.update` `[{ id, notify }]`, delivered with the `messages.upsert` (one `ev.process`
// map). Bots keep their contact names from it. The same message from a shard goes to another
// shard and to a real Baileys socket, and the two updates compare.
const { shardsAndBaileys, shardEvent } = require('./helpers')

let ctx
beforeAll(async () => {
  ctx = await shardsAndBaileys('named-peer')
}, 120000)
afterAll(() => ctx?.close())

test('a received message updates its sender\'s contact name, as in Baileys', async () => {
  const { manager, alice, bob, bobJid, peer, peerJid, aliceJid } = ctx
  const maps = []
  const stop = bob.ev.process((events) => maps.push(events))
  try {
    const ours = shardEvent(manager, 'bob', 'contacts.update', (d) => d.some((c) => c.id === aliceJid))
    const theirs = peer.waitFor('the peer\'s contacts.update', (e) => e.event === 'contacts.update' && e.data.some((c) => c.id === aliceJid), 20000)
    await alice.sendMessage(bobJid, { text: 'who am I?' })
    await alice.sendMessage(peerJid, { text: 'who am I?' })
    const [mine, seen] = await Promise.all([ours, theirs])
    expect(mine.find((c) => c.id === aliceJid)).toEqual(seen.data.find((c) => c.id === aliceJid))
    expect(mine.find((c) => c.id === aliceJid)).toEqual({ id: aliceJid, notify: expect.any(String) })
    // Together with the message, in one map.
    const map = maps.find((m) => m['contacts.update'])
    expect(Object.keys(map).sort()).toEqual(['contacts.update', 'messages.upsert'])

  } finally {
    stop()
  }
}, 60000)
