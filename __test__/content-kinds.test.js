'use strict'
// The sendMessage kinds and options beyond the everyday ones (view-once, round video notes,
// pins, group invites, button and list replies, phone-number sharing, disappearing-message
// settings, link previews, status text styles, ephemeral expiration, timestamps), shard →
// shard through the mock. Each message is compared with what Baileys 6.7.21's
// generateWAMessageContent / generateWAMessageFromContent builds from the same arguments.
const { downloadMediaMessage, downloadContentFromMessage } = require('..')
const { waitFor, aliceAndBob, expectShardError, exchange } = require('./helpers')
const { canon, withoutEngineAdditions } = require('./message-shapes')

let mock
let manager
let alice
let bob
let aliceJid
let bobJid
let close
let baileys

beforeAll(async () => {
  baileys = await import('baileys')
  ;({ mock, manager, alice, bob, aliceJid, bobJid, close } = await aliceAndBob())
})
afterAll(() => close?.())

/** Sends from alice and resolves with `{ sent, got }`, `got` being what bob receives. */
const toBob = (content, options) => exchange(manager, alice, 'bob', bobJid, content, options)

/** What Baileys builds from the same content and options, as a plain object. */
async function baileysBuilds(content, options = {}) {
  const { generateWAMessageContent, generateWAMessageFromContent, proto } = baileys
  const message = await generateWAMessageContent(structuredClone(content), { ...options })
  const full = generateWAMessageFromContent(bobJid, message, { userJid: aliceJid, ...options })
  // arrays: true — Baileys' empty collections as its message instances carry them.
  return proto.Message.toObject(full.message, { longs: Number, arrays: true })
}

test('kinds without media arrive as Baileys builds them', async () => {
  const key = { remoteJid: bobJid, fromMe: true, id: '3EB0AAAAAAAAAAAAAAAA' }
  const kinds = [
    { groupInvite: { inviteCode: 'AbCdEf123', inviteExpiration: 1900000000, text: 'join us', jid: '120363000000000001@g.us', subject: 'Team' } },
    { pin: key, type: 1, time: 604800 },
    { pin: key, type: 2 },
    { buttonReply: { displayText: 'Yes', id: 'btn-yes', index: 0 }, type: 'template' },
    { buttonReply: { displayText: 'No', id: 'btn-no' }, type: 'plain' },
    { listReply: { title: 'Option A', listType: 1, singleSelectReply: { selectedRowId: 'row-a' } } },
    { sharePhoneNumber: true },
    { requestPhoneNumber: true },
    { disappearingMessagesInChat: 86400 },
    { text: 'once', viewOnce: true },
    { poll: { name: 'Announce?', values: ['a', 'b'], toAnnouncementGroup: true, messageSecret: Buffer.alloc(32, 7) } },
  ]
  for (const content of kinds) {
    const { sent, got } = await toBob(content)
    const theirs = canon(await baileysBuilds(content))
    expect({ content, message: withoutEngineAdditions(canon(got.message), theirs) }).toEqual({ content, message: theirs })
    expect(canon(sent.message)).toEqual(theirs)
  }
})

test('viewOnce wraps media and ptv sends a round video note, both downloadable', async () => {
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex')
  const once = await toBob({ image: png, caption: 'look once', viewOnce: true })
  expect(once.got.message.viewOnceMessage.message.imageMessage).toMatchObject({ caption: 'look once', viewOnce: true, mimetype: 'image/jpeg' })
  const mediaHost = new URL(mock.url).host
  expect(await downloadMediaMessage(once.got, 'buffer', { mediaHost })).toEqual(png)

  const clip = Buffer.from('00000018667479706d703432', 'hex')
  const note = await toBob({ video: clip, ptv: true })
  expect(note.got.message.ptvMessage).toMatchObject({ mimetype: 'video/mp4' })
  expect(note.got.message.videoMessage).toBeUndefined()
  expect(await downloadMediaMessage(note.got, 'buffer', { mediaHost })).toEqual(clip)
  const stream = await downloadContentFromMessage(note.got.message.ptvMessage, 'ptv', { mediaHost })
  const chunks = []
  for await (const c of stream) chunks.push(c)
  expect(Buffer.concat(chunks)).toEqual(clip)
})

test('options: ephemeralExpiration, backgroundColor, font, timestamp and a given linkPreview', async () => {
  const options = { ephemeralExpiration: 86400, backgroundColor: '#1E6E4F', font: 2 }
  const preview = {
    'matched-text': 'https://example.com/a',
    title: 'Example page',
    description: 'About it',
    jpegThumbnail: Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
  }
  const content = { text: 'see https://example.com/a', linkPreview: preview }
  const when = new Date('2026-01-02T03:04:05Z')
  const { sent, got } = await toBob(content, { ...options, timestamp: when })
  const theirs = canon(await baileysBuilds(content, options))
  expect(withoutEngineAdditions(canon(got.message), theirs)).toEqual(theirs)
  expect(got.message.extendedTextMessage).toMatchObject({ backgroundArgb: 0xff1e6e4f, font: 2, previewType: 0, title: 'Example page', contextInfo: { expiration: 86400 } })
  expect(sent.messageTimestamp).toBe(Math.floor(when.getTime() / 1000))

  // A delete is a protocol message: no expiration, as in Baileys.
  const del = await toBob({ delete: sent.key }, { ephemeralExpiration: 86400 })
  expect(del.got.message.protocolMessage.contextInfo).toBeUndefined()
})

test('disappearingMessagesInChat to a group sets its timer and resolves to undefined', async () => {
  const meta = await alice.groupCreate('Timers', [bobJid])
  const updated = waitFor(manager, 'chats.update', (e) => e.shardId === 'bob' && e.data.some((c) => c.id === meta.id && c.ephemeralExpiration === 604800), 20000)
  await expect(alice.sendMessage(meta.id, { disappearingMessagesInChat: true })).resolves.toBeUndefined()
  await updated
  expect((await bob.groupMetadata(meta.id)).ephemeralDuration).toBe(604800)
})

test('bad kinds and options reject with INVALID_ARGUMENT naming the field; the shard stays connected', async () => {
  const key = { remoteJid: bobJid, fromMe: true, id: 'X' }
  await expectShardError(alice.sendMessage(bobJid, { pin: key, type: 3 }), 'INVALID_ARGUMENT', /content\.type/)
  await expectShardError(alice.sendMessage(bobJid, { pin: key, type: 1, time: 5 }), 'INVALID_ARGUMENT', /content\.time/)
  await expectShardError(alice.sendMessage(bobJid, { groupInvite: { jid: 'x@g.us' } }), 'INVALID_ARGUMENT', /inviteCode/)
  await expectShardError(alice.sendMessage(bobJid, { buttonReply: { id: 'a' }, type: 'fancy' }), 'INVALID_ARGUMENT', /content\.type/)
  await expectShardError(alice.sendMessage(bobJid, { disappearingMessagesInChat: 'soon' }), 'INVALID_ARGUMENT', /disappearingMessagesInChat/)
  await expectShardError(alice.sendMessage(bobJid, { text: 'x' }, { backgroundColor: 'nope' }), 'INVALID_ARGUMENT', /backgroundColor/)
  await expectShardError(alice.sendMessage(bobJid, { text: 'x' }, { ephemeralExpiration: 'week' }), 'INVALID_ARGUMENT', /ephemeralExpiration/)
  await expectShardError(alice.sendMessage(bobJid, { text: 'x', linkPreview: 'yes' }), 'INVALID_ARGUMENT', /linkPreview/)
  await expectShardError(alice.sendMessage(bobJid, { product: { productImage: Buffer.alloc(1) } }), 'NOT_SUPPORTED', /relayMessage/)
  const { got } = await toBob({ text: 'still here' })
  expect(got.message.extendedTextMessage.text).toBe('still here')
})
