'use strict'
// App state from the mock: a Baileys 6.7.21 device linked to a seeded account syncs the mock's
// collections (decrypting them with the key the mock phone shared, checking every MAC and the
// LTHash); then the mock phone unarchives a chat, unmutes another and renames a contact, and
// Baileys, told by `server_sync`, syncs and reports each change.

const { MockServer } = require('../testing')
const { openBaileysPeer } = require('./helpers')

jest.setTimeout(120000)

const PHONE = '15550008888'
const BOB = '15550002222@s.whatsapp.net'
const GROUP = '120363000000000001@g.us'
const MUTE_END = 1900000000000
const PINNED = 1765000000

let mock
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
})
afterAll(async () => {
  await mock?.close()
})

/** Every value `field` of chat `id` took in `chats.update` events so far. */
function chatValues(peer, id, field) {
  return peer.events
    .filter((e) => e.event === 'chats.update')
    .flatMap((e) => e.data)
    .filter((c) => c.id === id && field in c)
    .map((c) => c[field])
}

test('a Baileys device syncs a seeded account as app state, and the phone\'s later changes', async () => {
  await mock.seedAccount(PHONE, {
    pushName: 'Alice',
    contacts: [{ id: BOB, name: 'Bob Builder' }],
    chats: [{ id: BOB, archived: true, pinned: PINNED }, { id: GROUP, muteEndTime: MUTE_END }],
  })
  const { peer } = await openBaileysPeer(mock, 'app-state-peer', { socket: { syncFullHistory: true }, pairPhone: PHONE })
  try {
    for (const name of ['critical_block', 'critical_unblock_low', 'regular_high', 'regular_low']) {
      await peer.waitFor(`${name} synced`, (e) => e.event === 'app-state' && e.msg === `synced ${name} to v1`, 30000)
    }
    // During the initial sync Baileys buffers app-state events and folds them into the history
    // set it emits: the contact's name there can only come from the contactAction (history
    // carries no address-book names), the pin's time from the pinAction (the seed's `pinned`).
    const history = (key) => peer.events.filter((e) => e.event === 'messaging-history.set').flatMap((e) => e.data[key])
    await peer.waitFor('the contact name from app state', () => history('contacts').some((c) => c.id === BOB && c.name === 'Bob Builder'), 10000)
    expect(history('chats').find((c) => c.id === BOB)).toMatchObject({ archived: true, pinned: PINNED })
    expect(history('chats').find((c) => c.id === GROUP)).toMatchObject({ muteEndTime: MUTE_END })

    // After it, the phone's changes arrive as events of their own.
    const answer = await mock.phoneAppState(PHONE, [
      { jid: BOB, archive: false },
      { jid: GROUP, mute: null },
      { contact: { id: BOB, fullName: 'Robert Builder', firstName: 'Robert' } },
    ])
    expect(answer.collections).toEqual({ critical_block: 1, critical_unblock_low: 2, regular_high: 2, regular_low: 2, regular: 0 })
    await peer.waitFor('the unarchive', () => chatValues(peer, BOB, 'archived').includes(false), 20000)
    await peer.waitFor('the unmute', () => chatValues(peer, GROUP, 'muteEndTime').includes(null), 20000)
    await peer.waitFor('the renamed contact', (e) => e.event === 'contacts.upsert' && e.data.some((c) => c.id === BOB && c.name === 'Robert Builder'), 20000)
    expect(peer.events.filter((e) => e.event === 'app-state' && /failed/.test(e.msg))).toEqual([])
  } finally {
    await peer.close()
  }
})
