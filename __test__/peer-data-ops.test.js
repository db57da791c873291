'use strict'
// Requests to the account's own phone (peer data operations): `sock.fetchMessageHistory` and
// `sock.requestPlaceholderResend`. The mock phone decrypts what its companions send it and
// answers as a real phone: an ON_DEMAND history chunk, or the message it was asked for. The
// oracle is a real Baileys 6.7.21 socket linked as another device of the same seeded account:
// what each reports must be the same, field by field.

const { ShardManager } = require('..')
const { MockServer } = require('../testing')
const { tmpDir, waitFor, openBaileysPeer, expectShardError, until } = require('./helpers')

jest.setTimeout(120000)

const PHONE = '15550008888'
const BOB = '15550002001@s.whatsapp.net'
const NOW = 1765000000
const COUNT = 30

let mock
let ours
let peer
let sock
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  await mock.seedAccount(PHONE, bobChat(COUNT))
  ours = await linkShard('pdo')
  sock = ours.manager.socket('pdo')
  ;({ peer } = await openBaileysPeer(mock, 'pdo-peer', { socket: { syncFullHistory: true }, pairPhone: PHONE }))
})
afterAll(async () => {
  await peer?.close()
  await ours?.manager.close()
  await mock?.close()
})

/** A shard linked to PHONE by a pairing code typed on the mock phone; its events are collected. */
async function linkShard(id) {
  const manager = new ShardManager({
    session: tmpDir(),
    socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1], syncFullHistory: true },
  })
  const events = []
  for (const event of ['messaging-history.set', 'messages.upsert']) {
    manager.on(event, ({ shardId, data }) => shardId === id && events.push({ event, data }))
  }
  const errors = []
  manager.on('shard.error', (e) => errors.push(e))
  const pairing = waitFor(manager, 'login.update', (u) => u.shardId === id && u.type === 'pairing', 30000)
  const connected = waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 60000)
  await manager.createShard({ id, phoneNumber: PHONE })
  await mock.enterPairingCode(PHONE, (await pairing).code)
  await connected
  return { manager, events, errors }
}

/** A value as the Baileys peer reports it (baileys-peer.js `plainValue`): bytes as base64, 64-bit numbers as numbers. */
function json(value) {
  if (typeof value === 'bigint') return Number(value)
  if (value == null || typeof value !== 'object') return value
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString('base64') }
  if (Array.isArray(value)) return value.map(json)
  return Object.fromEntries(Object.keys(value).filter((k) => value[k] !== undefined).map((k) => [k, json(value[k])]))
}


const onDemand = (events) => events.filter((e) => e.event === 'messaging-history.set' && e.data.syncType === 6).map((e) => e.data)

/** The account's chat with Bob: `count` messages, newest first, M00 (NOW) … one a minute older; every third is ours. */
function bobChat(count) {
  const messages = []
  for (let i = 0; i < count; i++) {
    const id = `M${String(i).padStart(2, '0')}`
    messages.push({ from: i % 3 === 0 ? PHONE : BOB, chat: BOB, text: `message ${i}`, timestamp: NOW - 60 * i, id })
  }
  return { pushName: 'PDO Owner', contacts: [{ id: BOB, notify: 'Bobby' }], messages }
}

test('fetchMessageHistory: the phone answers with an ON_DEMAND chunk of older messages, the same for a shard and for Baileys', async () => {
  // The phone finds 30 older messages (the devices got M00 … M29 when they linked).
  await mock.seedAccount(PHONE, bobChat(2 * COUNT))
  // Up to 10 messages older than M29: M30 … M39.
  const oldestKey = { remoteJid: BOB, fromMe: false, id: 'M29' }
  const oldestMs = (NOW - 29 * 60) * 1000
  const ourId = await sock.fetchMessageHistory(10, oldestKey, oldestMs)
  const peerId = await peer.call('fetchMessageHistory', 10, oldestKey, oldestMs)
  expect(typeof ourId).toBe('string')
  expect(ourId).not.toBe('')
  expect(typeof peerId).toBe('string')

  const ourSet = await until('our ON_DEMAND history', () => onDemand(ours.events).find((d) => d.peerDataRequestSessionId === ourId))
  const peerSet = await until('Baileys ON_DEMAND history', () =>
    onDemand(peer.events.filter((e) => e.event === 'messaging-history.set')).find((d) => d.peerDataRequestSessionId === peerId))

  expect(ourSet.messages.map((m) => m.key.id)).toEqual(['M30', 'M31', 'M32', 'M33', 'M34', 'M35', 'M36', 'M37', 'M38', 'M39'])
  expect(ourSet.messages[0].message.conversation).toBe('message 30')
  expect(ourSet.messages[0].key).toMatchObject({ remoteJid: BOB, fromMe: true, id: 'M30' })
  expect(ourSet.chats.map((c) => c.id)).toEqual([BOB])
  expect(ourSet.isLatest).toBe(false)
  // Field by field: the messages and the chunk's fields. Baileys' event buffer leaves out the
  // chats and contacts it already reported in this socket's life (the chat came with the
  // linking history); a shard reports them again (README).
  expect(json(ourSet.messages)).toEqual(peerSet.messages)
  for (const field of ['syncType', 'progress', 'isLatest']) expect(ourSet[field]).toEqual(peerSet[field])
  expect(peerSet.chats).toEqual([])
  expect(ours.errors).toEqual([])
})

test('fetchMessageHistory past the oldest message: an ON_DEMAND chunk without messages, as for Baileys', async () => {
  const oldestKey = { remoteJid: BOB, fromMe: false, id: 'M59' }
  const ourId = await sock.fetchMessageHistory(50, oldestKey, (NOW - 59 * 60) * 1000)
  const peerId = await peer.call('fetchMessageHistory', 50, oldestKey, (NOW - 59 * 60) * 1000)
  const ourSet = await until('our ON_DEMAND history', () => onDemand(ours.events).find((d) => d.peerDataRequestSessionId === ourId))
  const peerSet = await until('Baileys ON_DEMAND history', () =>
    onDemand(peer.events.filter((e) => e.event === 'messaging-history.set')).find((d) => d.peerDataRequestSessionId === peerId))
  expect(ourSet).toMatchObject({ chats: [], contacts: [], messages: [], syncType: 6 })
  const { peerDataRequestSessionId: _a, ...ourRest } = json(ourSet)
  const { peerDataRequestSessionId: _b, ...peerRest } = peerSet
  expect(ourRest).toEqual(peerRest)
})

test('requestPlaceholderResend: the phone resends a message it knows, reported as Baileys reports it', async () => {
  const key = { remoteJid: BOB, fromMe: false, id: 'M04' }
  expect(await sock.requestPlaceholderResend(key)).toBeUndefined()
  const upsert = await until('our resent message', () => ours.events.find((e) => e.event === 'messages.upsert' && e.data.requestId))
  // Baileys waits 5 s before it asks.
  await peer.call('requestPlaceholderResend', key)
  const resent = await peer.waitFor('Baileys resent message', (e) => e.event === 'resent', 20000)

  expect(upsert.data.type).toBe('notify')
  expect(typeof upsert.data.requestId).toBe('string')
  expect(upsert.data.messages).toHaveLength(1)
  expect(upsert.data.messages[0]).toMatchObject({ key: { remoteJid: BOB, fromMe: false, id: 'M04' }, message: { conversation: 'message 4' } })
  expect(resent.type).toBe('notify')
  expect(json(upsert.data.messages)).toEqual(resent.messages)
})

test('requestPlaceholderResend of a message the phone does not know: no message comes back', async () => {
  const before = ours.events.filter((e) => e.event === 'messages.upsert' && e.data.requestId).length
  await sock.requestPlaceholderResend({ remoteJid: BOB, fromMe: false, id: 'NOT-A-MESSAGE' })
  // The phone's (empty) answer comes back as a protocol message; nothing is resent.
  await until('the phone\'s answer', () => ours.events.some((e) => e.event === 'messages.upsert' &&
    e.data.messages.some((m) => {
      const answer = m.message?.protocolMessage?.peerDataOperationRequestResponseMessage
      return answer && (answer.peerDataOperationResult ?? []).length === 0
    })))
  expect(ours.events.filter((e) => e.event === 'messages.upsert' && e.data.requestId).length).toBe(before)
})

test('bad arguments are INVALID_ARGUMENT', async () => {
  const key = { remoteJid: BOB, fromMe: false, id: 'M10' }
  await expectShardError(sock.fetchMessageHistory(0, key, NOW * 1000), 'INVALID_ARGUMENT', /count/)
  await expectShardError(sock.fetchMessageHistory(2.5, key, NOW * 1000), 'INVALID_ARGUMENT', /count/)
  await expectShardError(sock.fetchMessageHistory(10, null, NOW * 1000), 'INVALID_ARGUMENT', /oldestMsgKey/)
  await expectShardError(sock.fetchMessageHistory(10, { ...key, remoteJid: 'nobody' }, NOW * 1000), 'INVALID_ARGUMENT', /remoteJid/)
  await expectShardError(sock.fetchMessageHistory(10, { remoteJid: BOB }, NOW * 1000), 'INVALID_ARGUMENT', /id/)
  await expectShardError(sock.fetchMessageHistory(10, key, 'soon'), 'INVALID_ARGUMENT', /oldestMsgTimestamp/)
  await expectShardError(sock.requestPlaceholderResend(undefined), 'INVALID_ARGUMENT', /messageKey/)
  await expectShardError(sock.requestPlaceholderResend({ remoteJid: BOB }), 'INVALID_ARGUMENT', /id/)
})
