'use strict'
// The mock phone makes every Baileys `ChatModification` on its own; our shard and a real Baileys
// 6.7.21 socket, two devices of the same account, each sync it from the mock's app-state server.
// The events a bot gets must be the same on both, field by field (Longs as numbers, Baileys'
// `conditional` functions left out), except for the differences README lists.

const { ShardManager } = require('..')
const { MockServer } = require('../testing')
const { tmpDir, waitFor, openBaileysPeer, until } = require('./helpers')

jest.setTimeout(180000)

const PHONE = '15550006666'
const BOB = '15550002001@s.whatsapp.net'
const CAROL = '15550002002@s.whatsapp.net'
const GROUP = '120363000000000066@g.us'
const NOW = 1765000000
const MUTE_END = 1900000000000

/** The events compared: every app-state event Baileys' `processSyncAction` emits but `creds.update`. */
const COMPARED = ['chats.update', 'chats.delete', 'contacts.upsert', 'messages.update', 'messages.delete', 'labels.edit', 'labels.association']

/**
 * What Baileys emits and we do not (README, known differences): the engine reports no REMOVE
 * mutation and no message label.
 */
const KNOWN_DIFFERENCES = [
  (e) => e.event === 'contacts.upsert' && e.data.length === 1 && e.data[0].id === CAROL && e.data[0].name === null,
  (e) => e.event === 'labels.association' && e.data.association.type === 'label_message',
]

let mock
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
})
afterAll(async () => {
  await mock?.close()
})

/** A value as the Baileys peer reports it: 64-bit numbers as numbers, no `undefined` keys. */
function plain(value) {
  if (typeof value === 'bigint') return Number(value)
  if (value == null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(plain)
  return Object.fromEntries(Object.keys(value).filter((k) => value[k] !== undefined && typeof value[k] !== 'function').map((k) => [k, plain(value[k])]))
}


/** Resolves once `count()` has not changed for `ms`. */
async function settled(count, ms = 2000) {
  let last = count()
  let since = Date.now()
  while (Date.now() - since < ms) {
    await new Promise((r) => setTimeout(r, 100))
    if (count() !== last) {
      last = count()
      since = Date.now()
    }
  }
}

/** Our shard, linked to PHONE by a pairing code typed on the mock phone; its compared events are collected. */
async function linkShard(id) {
  const manager = new ShardManager({ session: tmpDir(), socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })
  const events = []
  const errors = []
  manager.on('shard.error', (e) => errors.push(e))
  const pairing = waitFor(manager, 'login.update', (u) => u.shardId === id && u.type === 'pairing', 30000)
  const connected = waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 60000)
  const { sock } = await manager.createShard({ id, phoneNumber: PHONE })
  // As a bot written for Baileys listens: on the socket.
  for (const event of COMPARED) sock.ev.on(event, (data) => events.push({ event, data: plain(data) }))
  await mock.enterPairingCode(PHONE, (await pairing).code)
  await connected
  return { manager, events, errors }
}

/** Each action the phone makes, and the events Baileys emits for it (`[]`: none). */
function actions(pinnedAt) {
  return [
    { action: { jid: BOB, archive: true }, emits: ['chats.update'] },
    { action: { jid: BOB, archive: false }, emits: ['chats.update'] },
    { action: { jid: GROUP, pin: true }, emits: ['chats.update'], check: (d) => expect(d[0].pinned).toBeGreaterThanOrEqual(pinnedAt) },
    { action: { jid: GROUP, pin: false }, emits: ['chats.update'] },
    { action: { jid: BOB, mute: MUTE_END }, emits: ['chats.update'] },
    { action: { jid: BOB, mute: null }, emits: ['chats.update'] },
    { action: { jid: BOB, markRead: false, lastMessages: [{ key: { remoteJid: BOB, id: 'M1', fromMe: false }, messageTimestamp: NOW }] }, emits: ['chats.update'] },
    { action: { jid: BOB, markRead: true }, emits: ['chats.update'] },
    { action: { jid: BOB, star: { messages: [{ id: 'M1', fromMe: false }], star: true } }, emits: ['messages.update'] },
    { action: { jid: BOB, star: { messages: [{ id: 'M2', fromMe: true }], star: false } }, emits: ['messages.update'] },
    { action: { jid: BOB, deleteForMe: { key: { remoteJid: BOB, id: 'M2', fromMe: true }, timestamp: NOW, deleteMedia: false } }, emits: ['messages.delete'] },
    { action: { jid: CAROL, clear: true }, emits: [] },
    { action: { jid: CAROL, delete: true }, emits: ['chats.delete'] },
    { action: { jid: CAROL, contact: { fullName: 'Carol Danvers', firstName: 'Carol' } }, emits: ['contacts.upsert'] },
    { action: { jid: CAROL, contact: null }, emits: ['contacts.upsert'] },
    { action: { contact: { id: BOB, fullName: 'Robert Builder' } }, emits: ['contacts.upsert'] },
    { action: { pushNameSetting: 'Phone Owner Renamed' }, emits: [] },
    { action: { addLabel: { id: '7', name: 'Customers', color: 3 } }, emits: ['labels.edit'] },
    { action: { addLabel: { id: '8', name: 'Paid', color: 5, predefinedId: 5 } }, emits: ['labels.edit'] },
    { action: { jid: BOB, addChatLabel: { labelId: '7' } }, emits: ['labels.association'] },
    { action: { jid: BOB, removeChatLabel: { labelId: '7' } }, emits: ['labels.association'] },
    { action: { jid: BOB, addMessageLabel: { labelId: '8', messageId: 'M1' } }, emits: ['labels.association'] },
    { action: { jid: BOB, removeMessageLabel: { labelId: '8', messageId: 'M1' } }, emits: ['labels.association'] },
    { action: { addLabel: { id: '7', name: 'Customers', color: 3, deleted: true } }, emits: ['labels.edit'] },
  ]
}

test('every ChatModification the phone makes reaches our shard as it reaches a Baileys device of the account', async () => {
  await mock.seedAccount(PHONE, {
    pushName: 'Phone Owner',
    contacts: [{ id: BOB, name: 'Bob Builder' }, { id: CAROL, notify: 'caz' }],
    chats: [{ id: BOB, pinned: NOW }, { id: GROUP, name: 'Builders', muteEndTime: MUTE_END }, { id: CAROL }],
    messages: [
      { from: BOB, text: 'hello', timestamp: NOW - 20, id: 'M1' },
      { from: PHONE, chat: BOB, text: 'hi bob', timestamp: NOW - 10, id: 'M2' },
      { from: CAROL, text: 'hey', timestamp: NOW - 5, id: 'M3' },
    ],
  })
  const ours = await linkShard('phone-actions')
  const { peer } = await openBaileysPeer(mock, 'phone-actions-peer', { socket: { syncFullHistory: true }, pairPhone: PHONE })
  try {
    // Both have the seeded state before the phone acts: the contact name and the mute.
    await until('our initial app state', () => ours.events.some((e) => e.event === 'contacts.upsert' && e.data.some((c) => c.id === BOB)) &&
      ours.events.some((e) => e.event === 'chats.update' && e.data.some((c) => c.id === GROUP && c.muteEndTime === MUTE_END)))
    for (const name of ['critical_block', 'critical_unblock_low', 'regular_high', 'regular_low']) {
      await peer.waitFor(`${name} synced`, (e) => e.event === 'app-state' && e.msg === `synced ${name} to v1`, 30000)
    }
    const peerCompared = () => peer.events.filter((e) => COMPARED.includes(e.event)).map(({ event, data }) => ({ event, data }))
    // The initial sync's last events (Baileys flushes its buffer after it) are not the phone's actions.
    await settled(() => ours.events.length + peerCompared().length)
    const oursFrom = ours.events.length
    const peerFrom = peerCompared().length
    let versions = (await mock.phoneAction(PHONE, [])).collections

    for (const { action, emits, check } of actions(Date.now())) {
      const peerBefore = peerCompared().length
      const oursBefore = ours.events.length
      const answer = await mock.phoneAction(PHONE, action)
      const [collection, version] = Object.entries(answer.collections).find(([name, v]) => v !== versions[name])
      versions = answer.collections
      // Baileys has synced the patch, and emitted what it emits for it.
      await peer.waitFor(`Baileys: ${JSON.stringify(action)}`, (e) => e.event === 'app-state' && e.msg === `synced ${collection} to v${version}`, 20000)
      await until(`Baileys' events for ${JSON.stringify(action)}`, () => peerCompared().length >= peerBefore + emits.length, 5000)
      const theirs = peerCompared().slice(peerBefore)
      expect([action, theirs.map((e) => e.event)]).toEqual([action, emits])
      const expected = theirs.filter((e) => !KNOWN_DIFFERENCES.some((known) => known(e)))
      await until(`our events for ${JSON.stringify(action)}`, () => ours.events.length >= oursBefore + expected.length, 20000)
      if (check) check(ours.events[oursBefore].data)
    }
    // Nothing more arrives late on either side.
    await settled(() => ours.events.length + peerCompared().length, 1500)
    const theirs = peerCompared().slice(peerFrom)
    const known = theirs.filter((e) => KNOWN_DIFFERENCES.some((k) => k(e)))
    expect(known.map((e) => e.event)).toEqual(['contacts.upsert', 'labels.association', 'labels.association'])
    expect(ours.events.slice(oursFrom)).toEqual(theirs.filter((e) => !known.includes(e)))

    // What a bot reads, for the record.
    const ourEvents = ours.events.slice(oursFrom)
    expect(ourEvents).toContainEqual({ event: 'messages.delete', data: { keys: [{ remoteJid: BOB, id: 'M2', fromMe: true }] } })
    expect(ourEvents).toContainEqual({ event: 'chats.delete', data: [CAROL] })
    expect(ourEvents).toContainEqual({ event: 'labels.edit', data: { id: '8', name: 'Paid', color: 5, deleted: null, predefinedId: '5' } })
    expect(ourEvents).toContainEqual({ event: 'labels.association', data: { type: 'remove', association: { type: 'label_jid', chatId: BOB, labelId: '7' } } })
    expect(ourEvents).toContainEqual({ event: 'messages.update', data: [{ key: { remoteJid: BOB, id: 'M1', fromMe: false }, update: { starred: true } }] })
    expect(ours.errors).toEqual([])
  } finally {
    await peer.close()
    await ours.manager.close()
  }
})
