'use strict'
// Every sendMessage content kind, shard → shard through the mock, and the events Baileys
// derives from them: reactions as messages.reaction, edits and revokes as messages.update.
const { MockServer } = require('../testing')
const { waitFor, pairedManager, userJid } = require('./helpers')

let mock
let manager
let alice
let bob
let aliceJid
let bobJid

beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  let socks
  ;({ manager, socks } = await pairedManager(mock, ['alice', 'bob']))
  ;({ alice, bob } = socks)
  aliceJid = userJid(alice.user.id)
  bobJid = userJid(bob.user.id)
})
afterAll(async () => {
  await manager?.close()
  await mock?.close()
})

let counter = 0
/** Sends from `from` with a fixed id and resolves with what `toShard` receives. */
async function exchange(from, toShard, jid, content, options = {}) {
  const id = `3EB0AB${String(++counter).padStart(14, '0')}`
  const received = waitFor(
    manager,
    'messages.upsert',
    (e) => e.shardId === toShard && e.data.messages.some((m) => m.key.id === id),
    20000,
  )
  const sent = await from.sendMessage(jid, content, { ...options, messageId: id })
  const event = await received
  return { sent, got: event.data.messages.find((m) => m.key.id === id) }
}

test('text with mentions, and a quoted reply', async () => {
  const { sent, got } = await exchange(alice, 'bob', bobJid, { text: 'hi @bob', mentions: [bobJid] })
  expect(got.message.extendedTextMessage).toMatchObject({ text: 'hi @bob', contextInfo: { mentionedJid: [bobJid] } })

  const reply = await exchange(bob, 'alice', aliceJid, { text: 'answer' }, { quoted: got })
  expect(reply.got.message.extendedTextMessage.text).toBe('answer')
  expect(reply.got.message.extendedTextMessage.contextInfo).toMatchObject({
    stanzaId: sent.key.id,
    participant: aliceJid,
    quotedMessage: { extendedTextMessage: { text: 'hi @bob' } },
  })
})

test('contextInfo on any kind (ad reply, forwarding) arrives as Baileys\' generateWAMessageContent builds it', async () => {
  const { generateWAMessageContent, proto } = await import('baileys')
  const contextInfo = { externalAdReply: { title: 'Ad', body: 'about it', sourceUrl: 'https://example.com/x' }, isForwarded: true, forwardingScore: 3 }
  const kinds = [
    { text: 'with context @bob', mentions: [bobJid], contextInfo },
    { location: { degreesLatitude: 1.5, degreesLongitude: 2.5, name: 'here' }, contextInfo },
    { contacts: { displayName: 'Ann', contacts: [{ vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Ann\nEND:VCARD' }] }, contextInfo },
  ]
  for (const content of kinds) {
    const { got } = await exchange(alice, 'bob', bobJid, content)
    const theirs = proto.Message.toObject(await generateWAMessageContent(structuredClone(content), {}), { longs: Number })
    const [kind] = Object.keys(theirs)
    // Compared without empty arrays: our objects still carry the newer schema's empty repeated
    // fields (statusAttributions, ...), issue #13 item 7.
    const withoutEmpty = (o) => JSON.parse(JSON.stringify(o, (k, v) => (Array.isArray(v) && v.length === 0 ? undefined : v)))
    expect(withoutEmpty(got.message[kind].contextInfo)).toEqual(withoutEmpty(theirs[kind].contextInfo))
  }
})

test('reaction: messages.upsert with reactionMessage and messages.reaction from our point of view', async () => {
  const { sent } = await exchange(alice, 'bob', bobJid, { text: 'react to me' })
  const bobsView = { remoteJid: aliceJid, fromMe: false, id: sent.key.id }
  const reaction = waitFor(manager, 'messages.reaction', (e) => e.shardId === 'alice', 20000)
  const { got } = await exchange(bob, 'alice', aliceJid, { react: { text: '👍', key: bobsView } })
  expect(got.message.reactionMessage).toMatchObject({ text: '👍', key: { id: sent.key.id } })
  const [item] = (await reaction).data
  expect(item.key).toMatchObject({ id: sent.key.id, fromMe: true, remoteJid: bobJid })
  expect(item.reaction).toMatchObject({ text: '👍', key: { id: got.key.id, fromMe: false } })
})

test('edit and delete arrive as protocol messages and as messages.update', async () => {
  const { sent } = await exchange(alice, 'bob', bobJid, { text: 'tpyo' })
  const edited = waitFor(manager, 'messages.update', (e) => e.shardId === 'bob' && e.data.some((u) => u.key.id === sent.key.id && u.update.message), 20000)
  const { got } = await exchange(alice, 'bob', bobJid, { text: 'typo', edit: sent.key })
  expect(got.message.protocolMessage).toMatchObject({ type: 14, key: { id: sent.key.id }, editedMessage: { extendedTextMessage: { text: 'typo' } } })
  const editUpdate = (await edited).data.find((u) => u.key.id === sent.key.id)
  expect(editUpdate.update.message.editedMessage.message.extendedTextMessage.text).toBe('typo')
  expect(typeof editUpdate.update.messageTimestamp).toBe('number')

  const revoked = waitFor(manager, 'messages.update', (e) => e.shardId === 'bob' && e.data.some((u) => u.key.id === sent.key.id && u.update.messageStubType === 1), 20000)
  const del = await exchange(alice, 'bob', bobJid, { delete: sent.key })
  expect(del.got.message.protocolMessage).toMatchObject({ type: 0, key: { id: sent.key.id } })
  const revokeUpdate = (await revoked).data.find((u) => u.key.id === sent.key.id)
  expect(revokeUpdate.update).toMatchObject({ message: null, messageStubType: 1 })
})

test('location, contacts, poll and forward', async () => {
  const loc = await exchange(alice, 'bob', bobJid, { location: { degreesLatitude: -6.2, degreesLongitude: 106.8, name: 'Jakarta' } })
  expect(loc.got.message.locationMessage).toMatchObject({ degreesLatitude: -6.2, degreesLongitude: 106.8, name: 'Jakarta' })

  const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Jeff\nTEL;type=CELL;waid=911234567890:+91 12345 67890\nEND:VCARD'
  const one = await exchange(alice, 'bob', bobJid, { contacts: { displayName: 'Jeff', contacts: [{ vcard }] } })
  expect(one.got.message.contactMessage).toMatchObject({ vcard })
  const two = await exchange(alice, 'bob', bobJid, { contacts: { displayName: '2 contacts', contacts: [{ vcard }, { vcard }] } })
  expect(two.got.message.contactsArrayMessage).toMatchObject({ displayName: '2 contacts', contacts: [{ vcard }, { vcard }] })

  const poll = await exchange(alice, 'bob', bobJid, { poll: { name: 'Lunch?', values: ['Soto', 'Nasi goreng'], selectableCount: 1 } })
  expect(poll.got.message.pollCreationMessageV3).toMatchObject({ name: 'Lunch?', selectableOptionsCount: 1, options: [{ optionName: 'Soto' }, { optionName: 'Nasi goreng' }] })
  expect(poll.sent.message.messageContextInfo.messageSecret).toHaveLength(32)

  const original = await exchange(alice, 'bob', bobJid, { text: 'pass it on' })
  const fwd = await exchange(bob, 'alice', aliceJid, { forward: original.got })
  expect(fwd.got.message.extendedTextMessage).toMatchObject({ text: 'pass it on', contextInfo: { forwardingScore: 1, isForwarded: true } })
})
