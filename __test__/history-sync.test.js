'use strict'
// History sync from a seeded account: the mock phone sends a linking device the account's
// chats, contacts, push names and messages, as a real phone does. The oracle is a real Baileys
// 6.7.21 socket linked as another device of the same account: what a bot would keep from
// `messaging-history.set` must be the same on both, field by field.

const { ShardManager } = require('..')
const { MockServer } = require('../testing')
const { tmpDir, waitFor, openBaileysPeer, until } = require('./helpers')

jest.setTimeout(120000)

let mock
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
})
afterAll(async () => {
  await mock?.close()
})

const PHONE = '15550007777'
const BOB = '15550001001@s.whatsapp.net'
const CAROL = '15550001002@s.whatsapp.net'
const GROUP = '120363000000000001@g.us'
const NOW = 1765000000

/** A small account whose history fills every kind of chunk: bootstrap, push names, older messages. */
function seed() {
  const messages = []
  for (let i = 0; i < 9; i++) {
    messages.push({ from: i % 3 === 0 ? PHONE : BOB, chat: BOB, text: `bob ${i}`, timestamp: NOW - 100 * i, id: `B${i}` })
  }
  messages.push({ from: CAROL, text: 'hi from carol', timestamp: NOW - 50, id: 'C0' })
  messages.push({
    key: { remoteJid: GROUP, fromMe: false, id: 'G0', participant: BOB },
    message: { extendedTextMessage: { text: 'in the group' } },
    messageTimestamp: NOW - 10,
    pushName: 'Bobby',
  })
  return {
    pushName: 'History Owner',
    contacts: [
      { id: BOB, name: 'Bob Builder', notify: 'Bobby' },
      { id: CAROL, name: 'Carol', notify: 'caz' },
      { id: '15550001003', notify: 'Dave' },
    ],
    chats: [{ id: GROUP, name: 'Builders', unreadCount: 1, archived: true }, { id: BOB, pinned: NOW }],
    messages,
  }
}

/**
 * What a bot keeps from the account-state events, in the order they came: history chunks as
 * Baileys' event buffer consolidates them (the first chat and message of an id, contacts merged
 * field by field), contact names (`contacts.upsert`) and chat changes (`chats.update`) from app
 * state merged in. Baileys folds app state that arrives during its initial sync into the
 * history set; a shard reports it as events of its own: the lists a bot ends up with must match.
 */
function kept(events) {
  const chats = new Map()
  const chatUpdates = new Map()
  const contacts = new Map()
  const messages = new Map()
  const defined = (o) => Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k !== 'conditional'))
  const mergeContact = (c) => contacts.set(c.id, { ...contacts.get(c.id), ...defined(c) })
  // History chunks in the order the phone sends them (bootstrap, push names, the rest): the
  // engine decodes two at a time and may report them in another order (README).
  const rank = (e) => (e.event !== 'messaging-history.set' ? 3 : { 0: 0, 4: 1 }[e.data.syncType] ?? 2)
  for (const { event, data } of [...events].sort((x, y) => rank(x) - rank(y))) {
    if (event === 'messaging-history.set') {
      for (const chat of data.chats) if (!chats.has(chat.id)) chats.set(chat.id, chat)
      data.contacts.forEach(mergeContact)
      for (const m of data.messages) if (!messages.has(m.key.id)) messages.set(m.key.id, m)
    } else if (event === 'contacts.upsert') {
      data.forEach(mergeContact)
    } else if (event === 'chats.update') {
      for (const u of data) chatUpdates.set(u.id, { ...chatUpdates.get(u.id), ...defined(u) })
    }
  }
  for (const [id, update] of chatUpdates) chats.set(id, { ...chats.get(id), ...update })
  return { chats, contacts, messages }
}

const ACCOUNT_STATE = ['messaging-history.set', 'contacts.upsert', 'chats.update']

/** A value as the Baileys peer reports it (baileys-peer.js `plainValue`): bytes as base64, 64-bit numbers as numbers. */
function json(value) {
  if (typeof value === 'bigint') return Number(value)
  if (value == null || typeof value !== 'object') return value
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString('base64') }
  if (Array.isArray(value)) return value.map(json)
  return Object.fromEntries(Object.keys(value).filter((k) => value[k] !== undefined).map((k) => [k, json(value[k])]))
}

/** A shard linked to `phone` by a pairing code typed on the mock phone; its history events are collected. */
async function linkShard(id, socketConfig) {
  const manager = new ShardManager({ session: tmpDir(), socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1], ...socketConfig } })
  const history = []
  const state = []
  for (const event of ACCOUNT_STATE) {
    manager.on(event, ({ shardId, data }) => {
      if (shardId !== id) return
      state.push({ event, data })
      if (event === 'messaging-history.set') history.push(data)
    })
  }
  const errors = []
  manager.on('shard.error', (e) => errors.push(e))
  const pairing = waitFor(manager, 'login.update', (u) => u.shardId === id && u.type === 'pairing', 30000)
  const connected = waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 60000)
  await manager.createShard({ id, phoneNumber: PHONE })
  await mock.enterPairingCode(PHONE, (await pairing).code)
  await connected
  return { manager, history, state, errors }
}


test('a seeded account sends its history to a shard as to a Baileys device of the same account', async () => {
  const summary = await mock.seedAccount(PHONE, seed())
  expect(summary).toEqual({ contacts: 3, chats: 3, messages: 11 })

  const ours = await linkShard('history', { syncFullHistory: true })
  const { peer } = await openBaileysPeer(mock, 'history-peer', { socket: { syncFullHistory: true }, pairPhone: PHONE })
  try {
    const peerState = () => peer.events.filter((e) => ACCOUNT_STATE.includes(e.event))
    // Complete: every message, the push names, the contact names and the chat settings.
    const complete = (events) => {
      const k = kept(events)
      return k.messages.size === 11 && k.contacts.get('15550001003@s.whatsapp.net')?.notify === 'Dave' &&
        k.contacts.get(CAROL)?.name === 'Carol' && k.chats.get(GROUP)?.archived === true && k.chats.get(BOB)?.pinned != null
    }
    await until('our account state', () => complete(ours.state))
    await until('Baileys account state', () => complete(peerState()))

    // Chunks: INITIAL_BOOTSTRAP (0), PUSH_NAME (4) and, as both asked for the full history, FULL (2);
    // the engine processes two at a time, so they may be reported in another order. The first
    // one reported is the latest.
    expect(ours.history.map((h) => h.syncType).sort()).toEqual([0, 2, 4])
    expect(ours.history.map((h) => h.isLatest)).toEqual([true, false, false])

    const a = kept(ours.state)
    const b = kept(peerState())
    expect([...a.chats.keys()].sort()).toEqual([...b.chats.keys()].sort())
    for (const [id, chat] of b.chats) expect(json(a.chats.get(id))).toEqual(chat)
    expect(json(Object.fromEntries(a.contacts))).toEqual(Object.fromEntries(b.contacts))
    for (const [id, message] of b.messages) expect(json(a.messages.get(id))).toEqual(message)
    expect(a.messages.size).toBe(b.messages.size)

    // What the phone sent, as a bot reads it.
    const group = a.chats.get(GROUP)
    expect(group).toMatchObject({ name: 'Builders', unreadCount: 1, archived: true, lastMessageRecvTimestamp: NOW - 10 })
    expect(group.messages[0].message.message.conversation).toBe('in the group')
    expect(a.contacts.get(BOB)).toEqual({ id: BOB, jid: BOB, notify: 'Bobby', name: 'Bob Builder' })
    expect(a.messages.get('B0').key).toMatchObject({ remoteJid: BOB, fromMe: true, id: 'B0' })
    expect(ours.errors).toEqual([])
  } finally {
    await peer.close()
    await ours.manager.close()
  }
})

test('history is emitted only when asked for: shouldSyncHistoryMessage chooses the chunks, none by default', async () => {
  await mock.seedAccount(PHONE, seed())
  const chosen = await linkShard('chooser', { shouldSyncHistoryMessage: ({ syncType }) => syncType === 4 })
  const quiet = await linkShard('quiet', {})
  try {
    await until('the push names', () => chosen.history.length === 1)
    expect(chosen.history[0].contacts).toContainEqual({ id: '15550001003@s.whatsapp.net', notify: 'Dave' })
    // The quiet shard got the same notifications (its phone sent them) but reports no history.
    await new Promise((r) => setTimeout(r, 1500))
    expect(chosen.history.map((h) => h.syncType)).toEqual([4])
    expect(quiet.history).toEqual([])
  } finally {
    await chosen.manager.close()
    await quiet.manager.close()
  }
})

test('a history chunk that does not inflate is a DECODE_FAILED shard.error; the shard stays connected', async () => {
  await mock.seedAccount(PHONE, { ...seed(), historyFault: 'truncated' })
  const shard = await linkShard('truncated', { syncFullHistory: true })
  try {
    await until('the shard.error', () => shard.errors.length > 0)
    expect(shard.errors[0].error.code).toBe('DECODE_FAILED')
    // Only the spoiled chunk is missing; the session still works.
    await until('the other chunks', () => shard.history.length >= 2)
    expect(shard.manager.getShardInfo('truncated').status).toBe('connected')
  } finally {
    await shard.manager.close()
  }
})
