'use strict'
// Status posts: sendMessage / relayMessage to status@broadcast with `statusJidList`, as Baileys
// posts them. The mock relays a post to the accounts in the list (and keeps them as the
// poster's audience); a real Baileys 6.7.21 client is both a viewer and a poster.
const crypto = require('node:crypto')
const { MockServer } = require('../testing')
const { downloadMediaMessage, generateWAMessageFromContent } = require('..')
const { waitFor, pairedManager, userJid, expectShardError, openBaileysPeer } = require('./helpers')

let mock
let manager
let peer
let peerJid
let jids

beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  ;({ manager } = await pairedManager(mock, ['alice', 'bob', 'carol']))
  jids = Object.fromEntries(['alice', 'bob', 'carol'].map((id) => [id, userJid(manager.socket(id).user.id)]))
  let me
  ;({ peer, me } = await openBaileysPeer(mock))
  peerJid = userJid(me.id)
})
afterAll(async () => {
  await peer?.close()
  await manager?.close()
  await mock?.close()
})

const STATUS = 'status@broadcast'
const receivedBy = (shardId, id) =>
  waitFor(manager, 'messages.upsert', (e) => e.shardId === shardId && e.data.messages.some((m) => m.key.id === id), 20000).then((e) => e.data.messages.find((m) => m.key.id === id))

test('a text status reaches the users in statusJidList, keyed as Baileys keys it, and nobody else', async () => {
  const id = '3EB0' + crypto.randomBytes(9).toString('hex').toUpperCase()
  const toBob = receivedBy('bob', id)
  const toPeer = peer.waitFor('Baileys to see the status', (e) => e.event === 'upsert' && e.key.id === id, 20000)
  let carolGot = false
  const onCarol = (e) => { if (e.shardId === 'carol' && e.data.messages.some((m) => m.key.id === id)) carolGot = true }
  manager.on('messages.upsert', onCarol)
  const sent = await manager.socket('alice').sendMessage(STATUS, { text: 'out for lunch' }, { statusJidList: [jids.bob, peerJid], backgroundColor: '#1E6E4F', font: 2, messageId: id })
  expect(sent.key).toMatchObject({ remoteJid: STATUS, fromMe: true, id })
  const bobs = await toBob
  expect(bobs.key).toEqual({ remoteJid: STATUS, fromMe: false, id, participant: jids.alice, participantLid: expect.stringMatching(/@lid$/) })
  expect(bobs.message.extendedTextMessage).toMatchObject({ text: 'out for lunch', backgroundArgb: 0xff1e6e4f, font: 2 })
  const theirs = await toPeer
  expect(theirs.key).toMatchObject({ remoteJid: STATUS, fromMe: false, id })
  // The sender's LID as the stanza names it (device included), as Baileys keeps it.
  expect(bobs.key.participantLid).toBe(theirs.key.participantLid)
  expect(theirs.text).toBe('out for lunch')
  // Carol, not in the list: a direct message sent after the post reaches her first.
  const afterId = id.replace(/^3EB0/, '3EB1')
  const after = receivedBy('carol', afterId)
  await manager.socket('alice').sendMessage(jids.carol, { text: 'after the status' }, { messageId: afterId })
  await after
  manager.off('messages.upsert', onCarol)
  expect(carolGot).toBe(false)
})

test('an image status and a relayed status arrive; a Baileys client\'s status reaches a shard', async () => {
  const image = crypto.randomBytes(30000)
  const id = '3EB0' + crypto.randomBytes(9).toString('hex').toUpperCase()
  const got = receivedBy('bob', id)
  await manager.socket('alice').sendMessage(STATUS, { image, caption: 'view' }, { statusJidList: [jids.bob], messageId: id })
  const status = await got
  expect(status.message.imageMessage.caption).toBe('view')
  expect(await downloadMediaMessage(status, 'buffer', { mediaHost: new URL(mock.url).host })).toEqual(image)

  const built = generateWAMessageFromContent(STATUS, { conversation: 'relayed status' }, { userJid: jids.alice })
  const relayed = receivedBy('bob', built.key.id)
  await manager.socket('alice').relayMessage(STATUS, built.message, { messageId: built.key.id, statusJidList: [jids.bob] })
  expect((await relayed).message.conversation).toBe('relayed status')

  const fromPeer = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'carol' && e.data.messages.some((m) => m.key.remoteJid === STATUS), 20000)
  peer.command({ cmd: 'sendContent', to: STATUS, content: { text: 'a Baileys status' }, options: { statusJidList: [jids.carol] } })
  const sentByPeer = await peer.waitFor('Baileys to post', (e) => e.event === 'sent' || e.event === 'cmd-error', 20000)
  expect(sentByPeer.event).toBe('sent')
  const carols = (await fromPeer).data.messages.find((m) => m.key.remoteJid === STATUS)
  expect(carols.key).toMatchObject({ remoteJid: STATUS, fromMe: false, id: sentByPeer.key.id, participant: peerJid })
  expect(carols.message.extendedTextMessage?.text ?? carols.message.conversation).toBe('a Baileys status')
})

test('a status without statusJidList, or with a bad one, is refused; the shard stays connected', async () => {
  const alice = manager.socket('alice')
  await expectShardError(alice.sendMessage(STATUS, { text: 'to whom?' }), 'INVALID_ARGUMENT', /statusJidList/)
  await expectShardError(alice.sendMessage(STATUS, { text: 'x' }, { statusJidList: ['120363000000000001@g.us'] }), 'INVALID_ARGUMENT', /statusJidList/)
  await expectShardError(alice.sendMessage(STATUS, { text: 'x' }, { statusJidList: 'everyone' }), 'INVALID_ARGUMENT', /statusJidList/)
  await expectShardError(alice.relayMessage(STATUS, { conversation: 'x' }), 'INVALID_ARGUMENT', /statusJidList/)
  const got = receivedBy('bob', '3EB0STILLHERE00000001')
  await alice.sendMessage(jids.bob, { text: 'still here' }, { messageId: '3EB0STILLHERE00000001' })
  expect((await got).message.extendedTextMessage.text).toBe('still here')
})
