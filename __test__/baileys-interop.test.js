'use strict'
// Every sendMessage content kind between a shard and the real Baileys 6.7.21, both ways,
// through the mock server, with no decryption failure on the Baileys side.
const { MockServer } = require('../testing')
const { BaileysChild } = require('./baileys-peer')
const { waitFor, pairedManager, userJid } = require('./helpers')

let mock
let manager
let shard
let peer
let shardJid
let peerJid

beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  const paired = pairedManager(mock, ['bot'])
  peer = new BaileysChild('peer', mock)
  const open = await peer.waitFor('Baileys to open', (e) => e.event === 'open', 30000)
  await peer.waitFor('Baileys offline sync', (e) => e.event === 'pending-done', 15000)
  let socks
  ;({ manager, socks } = await paired)
  shard = socks.bot
  shardJid = userJid(shard.user.id)
  peerJid = userJid(open.me.id)
})
afterAll(async () => {
  await peer?.close()
  await manager?.close()
  await mock?.close()
})

let n = 0
/** shard → Baileys: resolves with what Baileys received. */
async function toPeer(content, options = {}) {
  const id = `3EB0BA${String(++n).padStart(14, '0')}`
  const sent = await shard.sendMessage(peerJid, content, { ...options, messageId: id })
  const got = await peer.waitFor(`Baileys to receive ${id}`, (e) => e.event === 'upsert' && e.key.id === id && !e.key.fromMe, 20000)
  expect(got.stub).toBeNull()
  return { sent, got }
}

/** Baileys → shard: resolves with what the shard received (a Baileys-shaped WAMessage). */
async function toShard(content, options) {
  const seen = []
  const listener = (e) => e.shardId === 'bot' && seen.push(...e.data.messages)
  manager.on('messages.upsert', listener)
  try {
    peer.command({ cmd: 'sendContent', to: shardJid, content, options })
    const sent = await peer.waitFor('Baileys to send', (e) => e.event === 'sent' || e.event === 'cmd-error', 20000)
    peer.events.splice(peer.events.indexOf(sent), 1) // consumed: the next send matches the next report
    expect(sent.event).toBe('sent')
    for (let waited = 0; !seen.some((m) => m.key.id === sent.key.id) && waited < 20000; waited += 50) await new Promise((r) => setTimeout(r, 50))
    const got = seen.find((m) => m.key.id === sent.key.id)
    expect(got).toBeDefined()
    return { sent, got }
  } finally {
    manager.off('messages.upsert', listener)
  }
}

test('text, mentions and quoted replies', async () => {
  const a = await toPeer({ text: 'hi @peer', mentions: [peerJid] })
  expect(a.got.message.extendedTextMessage).toMatchObject({ text: 'hi @peer', contextInfo: { mentionedJid: [peerJid] } })

  const b = await toShard({ text: 'reply', mentions: [shardJid] }, { quoted: { key: a.got.key, message: a.got.message } })
  expect(b.got.message.extendedTextMessage).toMatchObject({
    text: 'reply',
    contextInfo: { stanzaId: a.sent.key.id, mentionedJid: [shardJid], quotedMessage: { extendedTextMessage: { text: 'hi @peer' } } },
  })
  const c = await toPeer({ text: 'reply to the reply' }, { quoted: b.got })
  expect(c.got.message.extendedTextMessage.contextInfo).toMatchObject({ stanzaId: b.sent.key.id, quotedMessage: { extendedTextMessage: { text: 'reply' } } })
})

test('reactions both ways, and messages.reaction on the shard', async () => {
  const a = await toPeer({ text: 'react to this' })
  const reaction = waitFor(manager, 'messages.reaction', (e) => e.shardId === 'bot', 20000)
  const r = await toShard({ react: { text: '❤️', key: a.got.key } })
  expect(r.got.message.reactionMessage).toMatchObject({ text: '❤️', key: { id: a.sent.key.id } })
  const [item] = (await reaction).data
  expect(item.key).toMatchObject({ id: a.sent.key.id, fromMe: true })

  const b = await toShard({ text: 'and you react to this' })
  const back = await toPeer({ react: { text: '😂', key: b.got.key } })
  expect(back.got.message.reactionMessage).toMatchObject({ text: '😂', key: { id: b.sent.key.id } })
})

test('edits and revokes both ways', async () => {
  const mine = await toPeer({ text: 'helo' })
  const edit = await toPeer({ text: 'hello', edit: mine.sent.key })
  expect(edit.got.message.protocolMessage).toMatchObject({ key: { id: mine.sent.key.id }, editedMessage: { extendedTextMessage: { text: 'hello' } } })
  const del = await toPeer({ delete: mine.sent.key })
  expect(del.got.message.protocolMessage).toMatchObject({ key: { id: mine.sent.key.id } })
  expect([0, 'REVOKE', undefined]).toContain(del.got.message.protocolMessage.type)

  const theirs = await toShard({ text: 'wrnog' })
  const edited = waitFor(manager, 'messages.update', (e) => e.shardId === 'bot' && e.data.some((u) => u.key.id === theirs.sent.key.id && u.update.message), 20000)
  await toShard({ text: 'wrong', edit: theirs.sent.key })
  const u = (await edited).data.find((x) => x.key.id === theirs.sent.key.id)
  expect(u.update.message.editedMessage.message.extendedTextMessage?.text ?? u.update.message.editedMessage.message.conversation).toBe('wrong')
  const revoked = waitFor(manager, 'messages.update', (e) => e.shardId === 'bot' && e.data.some((x) => x.key.id === theirs.sent.key.id && x.update.messageStubType === 1), 20000)
  await toShard({ delete: theirs.sent.key })
  expect((await revoked).data.find((x) => x.key.id === theirs.sent.key.id).update.message).toBeNull()
})

test('location, contacts, poll and forward both ways', async () => {
  const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Jeff\nTEL;type=CELL;waid=911234567890:+91 12345 67890\nEND:VCARD'
  const kinds = [
    [{ location: { degreesLatitude: -6.2, degreesLongitude: 106.8, name: 'Jakarta' } }, (m) => expect(m.locationMessage).toMatchObject({ degreesLatitude: -6.2, degreesLongitude: 106.8, name: 'Jakarta' })],
    [{ contacts: { displayName: 'Jeff', contacts: [{ vcard }] } }, (m) => expect(m.contactMessage).toMatchObject({ vcard })],
    [{ contacts: { displayName: 'Two', contacts: [{ vcard }, { vcard }] } }, (m) => expect(m.contactsArrayMessage.contacts).toHaveLength(2)],
    [{ poll: { name: 'Lunch?', values: ['Soto', 'Bakso'], selectableCount: 1 } }, (m) => expect(m.pollCreationMessageV3).toMatchObject({ name: 'Lunch?', options: [{ optionName: 'Soto' }, { optionName: 'Bakso' }] })],
    [{ poll: { name: 'Toppings', values: ['a', 'b', 'c'], selectableCount: 2 } }, (m) => expect(m.pollCreationMessage).toMatchObject({ name: 'Toppings', selectableOptionsCount: 2 })],
  ]
  for (const [content, check] of kinds) {
    check((await toPeer(content)).got.message)
    check((await toShard(content)).got.message)
  }

  const original = await toShard({ text: 'forward me' })
  const fwd = await toPeer({ forward: original.got })
  expect(fwd.got.message.extendedTextMessage).toMatchObject({ text: 'forward me', contextInfo: { forwardingScore: 1, isForwarded: true } })
  const fwdBack = await toShard({ forward: { key: fwd.got.key, message: fwd.got.message } })
  expect(fwdBack.got.message.extendedTextMessage).toMatchObject({ text: 'forward me', contextInfo: { isForwarded: true } })
})

test('no decryption failure or error on the Baileys side', async () => {
  await new Promise((r) => setTimeout(r, 1000))
  expect(peer.decryptionProblems()).toEqual([])
  expect(peer.errors()).toEqual([])
})
