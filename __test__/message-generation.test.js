'use strict'
// Baileys' generateWAMessageContent and prepareWAMessageMedia, imported from this package as
// bots import them from `baileys`: each result is compared with Baileys 6.7.21's own for the
// same arguments, then sent with relayMessage through the mock and received (media downloads
// intact).
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { Readable } = require('node:stream')
const ours = require('..')
const { aliceAndBob, expectShardError, waitFor, tmpDir } = require('./helpers')
const { canon, withoutEngineAdditions } = require('./message-shapes')

let mock
let manager
let alice
let aliceJid
let bobJid
let close
let baileys

beforeAll(async () => {
  baileys = await import('baileys')
  ;({ mock, manager, alice, aliceJid, bobJid, close } = await aliceAndBob())
})
afterAll(() => close?.())

const theirsAsObject = (message) => canon(baileys.proto.Message.toObject(message, { longs: Number, arrays: true }))

/** Relays a message built with our utilities from alice to bob; resolves with what bob got. */
async function relayToBob(content) {
  const msg = ours.generateWAMessageFromContent(bobJid, content, { userJid: aliceJid })
  const got = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'bob' && e.data.messages.some((m) => m.key.id === msg.key.id), 20000)
  await alice.relayMessage(bobJid, msg.message, { messageId: msg.key.id })
  return (await got).data.messages.find((m) => m.key.id === msg.key.id)
}

test('generateWAMessageContent builds each kind without media as Baileys does, and it arrives as built', async () => {
  const key = { remoteJid: bobJid, fromMe: true, id: '3EB0BBBBBBBBBBBBBBBB' }
  const kinds = [
    [{ text: 'hello @1', mentions: [bobJid], contextInfo: { isForwarded: true, forwardingScore: 2 } }],
    [{ text: 'styled' }, { backgroundColor: '#1E6E4F', font: 2 }],
    [{ text: 'fixed', edit: key }],
    [{ location: { degreesLatitude: 52.5, degreesLongitude: 13.4, name: 'Berlin' } }],
    [{ contacts: { displayName: 'Ann', contacts: [{ vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Ann\nEND:VCARD' }] } }],
    [{ react: { text: '👍', key } }],
    [{ delete: key }],
    [{ pin: key, type: 1, time: 86400 }],
    [{ groupInvite: { inviteCode: 'AbC123', inviteExpiration: 1900000000, text: 'join', jid: '120363000000000002@g.us', subject: 'Club' } }],
    [{ poll: { name: 'Lunch?', values: ['pizza', 'soup'], selectableCount: 1, messageSecret: Buffer.alloc(32, 3) } }],
    [{ buttonReply: { displayText: 'Yes', id: 'yes', index: 1 }, type: 'template' }],
    [{ listReply: { title: 'B', listType: 1, singleSelectReply: { selectedRowId: 'row-b' } } }],
    [{ sharePhoneNumber: true }],
    [{ disappearingMessagesInChat: true }],
  ]
  for (const [content, options = {}] of kinds) {
    const mine = await ours.generateWAMessageContent(structuredClone(content), options)
    const theirs = theirsAsObject(await baileys.generateWAMessageContent(structuredClone(content), { ...options }))
    expect({ content, message: canon(mine) }).toEqual({ content, message: theirs })
  }
  // Built here, sent with relayMessage: bob receives exactly that content.
  const content = await ours.generateWAMessageContent({ text: 'built by hand @1', mentions: [bobJid] })
  const got = await relayToBob(content)
  expect(withoutEngineAdditions(canon(got.message), canon(content))).toEqual(canon(content))
})

test('prepareWAMessageMedia hands the encrypted file to the upload function as Baileys does; the media downloads intact', async () => {
  const png = crypto.randomBytes(5000)
  const calls = []
  const upload = async (file, options) => {
    // (Baileys calls this before its write stream has flushed: read ours only.)
    calls.push({ file, options, bytes: calls.length === 0 ? fs.readFileSync(file) : null })
    return alice.waUploadToServer(file, options)
  }
  const mine = await ours.prepareWAMessageMedia({ image: png, caption: 'from a buffer', mimetype: 'image/png' }, { upload })
  const theirs = theirsAsObject(await baileys.prepareWAMessageMedia({ image: png, caption: 'from a buffer', mimetype: 'image/png' }, { upload }))
  expect(calls).toHaveLength(2)
  const [ourCall, theirCall] = calls
  expect(ourCall.options).toEqual({ ...theirCall.options, fileEncSha256B64: mine.imageMessage.fileEncSha256.toString('base64') })
  expect(crypto.createHash('sha256').update(ourCall.bytes).digest()).toEqual(mine.imageMessage.fileEncSha256)
  // The temporary file is gone once the upload answered, as in Baileys.
  expect(fs.existsSync(ourCall.file)).toBe(false)
  // Same fields; those that differ are per upload (keys, location, time) or Baileys' thumbnail
  // (made by sharp or jimp when the bot has one installed; we make none, see the README).
  const perUpload = ['url', 'directPath', 'mediaKey', 'fileEncSha256', 'mediaKeyTimestamp']
  const thumbnail = ['jpegThumbnail', 'width', 'height']
  const without = (o, keys) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)))
  expect(without(canon(mine).imageMessage, perUpload)).toEqual(without(theirs.imageMessage, [...perUpload, ...thumbnail]))
  for (const k of perUpload) expect(mine.imageMessage[k]).toBeDefined()

  const got = await relayToBob(mine)
  const mediaHost = new URL(mock.url).host
  expect(await ours.downloadMediaMessage(got, 'buffer', { mediaHost })).toEqual(png)
})

test('generateWAMessageContent uploads media from a file, a stream and as a round video note', async () => {
  const dir = tmpDir()
  const doc = crypto.randomBytes(200000)
  const file = path.join(dir, 'report.bin')
  fs.writeFileSync(file, doc)
  const upload = alice.waUploadToServer
  const mediaHost = new URL(mock.url).host

  const fromFile = await ours.generateWAMessageContent({ document: { url: file }, fileName: 'report.bin', mimetype: 'application/octet-stream', mentions: [bobJid] }, { upload })
  expect(fromFile.documentMessage).toMatchObject({ fileName: 'report.bin', fileLength: doc.length, contextInfo: { mentionedJid: [bobJid] } })
  expect(await ours.downloadMediaMessage(await relayToBob(fromFile), 'buffer', { mediaHost })).toEqual(doc)

  const clip = crypto.randomBytes(30000)
  const note = await ours.generateWAMessageContent({ video: { stream: Readable.from([clip.subarray(0, 1000), clip.subarray(1000)]) }, ptv: true }, { upload })
  const theirs = theirsAsObject(await baileys.generateWAMessageContent({ video: clip, ptv: true }, { upload }))
  expect(Object.keys(note)).toEqual(Object.keys(theirs))
  expect(note.ptvMessage).toMatchObject({ mimetype: 'video/mp4', fileLength: clip.length })
  expect(await ours.downloadMediaMessage(await relayToBob(note), 'buffer', { mediaHost })).toEqual(clip)

  const once = await ours.generateWAMessageContent({ image: clip, viewOnce: true }, { upload })
  expect(once.viewOnceMessage.message.imageMessage.viewOnce).toBe(true)
})

test('bad arguments and failing uploads reject with a ShardError and leave no file behind', async () => {
  const upload = alice.waUploadToServer
  await expectShardError(ours.prepareWAMessageMedia({ text: 'no media' }, { upload }), 'INVALID_ARGUMENT', /image, video/)
  await expectShardError(ours.prepareWAMessageMedia({ image: Buffer.alloc(10) }), 'INVALID_ARGUMENT', /options\.upload/)
  await expectShardError(ours.prepareWAMessageMedia({ image: Buffer.alloc(10) }, { upload, mediaTypeOverride: 'gifs' }), 'INVALID_ARGUMENT', /mediaType/)
  await expectShardError(ours.prepareWAMessageMedia({ image: { url: '/nonexistent/x.png' } }, { upload }), 'INVALID_ARGUMENT', /cannot read/)
  await expectShardError(ours.generateWAMessageContent({ image: Buffer.alloc(10) }), 'INVALID_ARGUMENT', /options\.upload/)
  await expectShardError(ours.generateWAMessageContent({ pin: { id: 'x' }, type: 9 }), 'INVALID_ARGUMENT', /content\./)
  await expectShardError(ours.generateWAMessageContent('hi'), 'INVALID_ARGUMENT', /content/)

  let seen
  const failing = async (file) => {
    seen = file
    throw new Error('CDN down')
  }
  await expect(ours.prepareWAMessageMedia({ image: Buffer.alloc(10) }, { upload: failing })).rejects.toThrow('CDN down')
  expect(fs.existsSync(seen)).toBe(false)
  await expectShardError(ours.prepareWAMessageMedia({ image: Buffer.alloc(10) }, { upload: async () => ({ url: 'x' }) }), 'MEDIA_FAILED', /mediaUrl, directPath/)
  // The shard is still there for the next send.
  expect((await alice.sendMessage(bobJid, { text: 'still here' })).key.id).toBeDefined()
})
