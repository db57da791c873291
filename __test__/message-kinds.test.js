'use strict'
// Every sendMessage content kind, shard → shard through the mock, and the events Baileys
// derives from them: reactions as messages.reaction, edits and revokes as messages.update.
const { waitFor, aliceAndBob, exchange } = require('./helpers')

let manager
let alice
let bob
let aliceJid
let bobJid
let close

beforeAll(async () => {
  ;({ manager, alice, bob, aliceJid, bobJid, close } = await aliceAndBob())
})
afterAll(() => close?.())

const send = (from, toShard, jid, content, options) => exchange(manager, from, toShard, jid, content, options)

test('text with mentions, and a quoted reply', async () => {
  const { sent, got } = await send(alice, 'bob', bobJid, { text: 'hi @bob', mentions: [bobJid] })
  expect(got.message.extendedTextMessage).toMatchObject({ text: 'hi @bob', contextInfo: { mentionedJid: [bobJid] } })

  const reply = await send(bob, 'alice', aliceJid, { text: 'answer' }, { quoted: got })
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
    const { got } = await send(alice, 'bob', bobJid, content)
    // arrays: true — Baileys' empty collections as its message instances carry them.
    const theirs = proto.Message.toObject(await generateWAMessageContent(structuredClone(content), {}), { longs: Number, arrays: true })
    const [kind] = Object.keys(theirs)
    expect(got.message[kind].contextInfo).toEqual(theirs[kind].contextInfo)
  }
})

test('reaction: messages.upsert with reactionMessage and messages.reaction from our point of view', async () => {
  const { sent } = await send(alice, 'bob', bobJid, { text: 'react to me' })
  const bobsView = { remoteJid: aliceJid, fromMe: false, id: sent.key.id }
  const reaction = waitFor(manager, 'messages.reaction', (e) => e.shardId === 'alice', 20000)
  const { got } = await send(bob, 'alice', aliceJid, { react: { text: '👍', key: bobsView } })
  expect(got.message.reactionMessage).toMatchObject({ text: '👍', key: { id: sent.key.id } })
  const [item] = (await reaction).data
  expect(item.key).toMatchObject({ id: sent.key.id, fromMe: true, remoteJid: bobJid })
  expect(item.reaction).toMatchObject({ text: '👍', key: { id: got.key.id, fromMe: false } })
})

test('edit and delete arrive as protocol messages and as messages.update', async () => {
  const { sent } = await send(alice, 'bob', bobJid, { text: 'tpyo' })
  const edited = waitFor(manager, 'messages.update', (e) => e.shardId === 'bob' && e.data.some((u) => u.key.id === sent.key.id && u.update.message), 20000)
  const { got } = await send(alice, 'bob', bobJid, { text: 'typo', edit: sent.key })
  expect(got.message.protocolMessage).toMatchObject({ type: 14, key: { id: sent.key.id }, editedMessage: { extendedTextMessage: { text: 'typo' } } })
  const editUpdate = (await edited).data.find((u) => u.key.id === sent.key.id)
  expect(editUpdate.update.message.editedMessage.message.extendedTextMessage.text).toBe('typo')
  expect(typeof editUpdate.update.messageTimestamp).toBe('number')

  const revoked = waitFor(manager, 'messages.update', (e) => e.shardId === 'bob' && e.data.some((u) => u.key.id === sent.key.id && u.update.messageStubType === 1), 20000)
  const del = await send(alice, 'bob', bobJid, { delete: sent.key })
  expect(del.got.message.protocolMessage).toMatchObject({ type: 0, key: { id: sent.key.id } })
  const revokeUpdate = (await revoked).data.find((u) => u.key.id === sent.key.id)
  expect(revokeUpdate.update).toMatchObject({ message: null, messageStubType: 1 })
})

test('location, contacts, poll and forward', async () => {
  const loc = await send(alice, 'bob', bobJid, { location: { degreesLatitude: -6.2, degreesLongitude: 106.8, name: 'Jakarta' } })
  expect(loc.got.message.locationMessage).toMatchObject({ degreesLatitude: -6.2, degreesLongitude: 106.8, name: 'Jakarta' })

  const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Jeff\nTEL;type=CELL;waid=911234567890:+91 12345 67890\nEND:VCARD'
  const one = await send(alice, 'bob', bobJid, { contacts: { displayName: 'Jeff', contacts: [{ vcard }] } })
  expect(one.got.message.contactMessage).toMatchObject({ vcard })
  const two = await send(alice, 'bob', bobJid, { contacts: { displayName: '2 contacts', contacts: [{ vcard }, { vcard }] } })
  expect(two.got.message.contactsArrayMessage).toMatchObject({ displayName: '2 contacts', contacts: [{ vcard }, { vcard }] })

  const poll = await send(alice, 'bob', bobJid, { poll: { name: 'Lunch?', values: ['Soto', 'Nasi goreng'], selectableCount: 1 } })
  expect(poll.got.message.pollCreationMessageV3).toMatchObject({ name: 'Lunch?', selectableOptionsCount: 1, options: [{ optionName: 'Soto' }, { optionName: 'Nasi goreng' }] })
  expect(poll.sent.message.messageContextInfo.messageSecret).toHaveLength(32)

  const original = await send(alice, 'bob', bobJid, { text: 'pass it on' })
  const fwd = await send(bob, 'alice', aliceJid, { forward: original.got })
  expect(fwd.got.message.extendedTextMessage).toMatchObject({ text: 'pass it on', contextInfo: { forwardingScore: 1, isForwarded: true } })
})
