'use strict'
// Media end to end: shards send image / document / voice note / sticker from a Buffer, a file
// path and a stream; receivers (another shard, the real Baileys 6.7.21) download byte-equal
// copies; Baileys' media downloads on a shard; a tampered blob is refused; a large file is sent
// without being held in memory.
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { Readable } = require('node:stream')
const { MockServer } = require('../testing')
const { BaileysChild } = require('./baileys-peer')
const { waitFor, pairedManager, userJid, tmpDir, runChild } = require('./helpers')
const { downloadMediaMessage, ShardError } = require('..')

let mock
let manager
let mediaHost
let dir
const kids = []
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest()
const newId = () => '3EB0' + crypto.randomBytes(8).toString('hex').toUpperCase()

beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  mediaHost = new URL(mock.url).host
  dir = tmpDir('bshard-media-')
  ;({ manager } = await pairedManager(mock, ['alice', 'bob']))
})
afterAll(async () => {
  for (const k of kids) await k.close()
  await manager?.close()
  await mock?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

/** Sends `content` from shard `from` to shard `to`; resolves with `{ sent, received }`. */
async function shardToShard(from, to, content) {
  const id = newId()
  const got = waitFor(manager, 'messages.upsert', (e) => e.shardId === to && e.data.messages.some((m) => m.key.id === id), 60000)
  const sent = await manager.socket(from).sendMessage(userJid(manager.socket(to).user.id), content, { messageId: id }).catch((e) => {
    got.catch(() => {})
    throw e
  })
  const received = (await got).data.messages.find((m) => m.key.id === id)
  return { sent, received }
}

async function streamToBuffer(stream) {
  const chunks = []
  for await (const c of stream) chunks.push(c)
  return Buffer.concat(chunks)
}

function expectUploaded(media, plain, mimetype) {
  expect(media.url).toMatch(/^https:\/\//)
  expect(media.directPath).toMatch(/^\/v\//)
  expect(Buffer.isBuffer(media.mediaKey) && media.mediaKey.length).toBe(32)
  expect(Buffer.isBuffer(media.fileEncSha256) && media.fileEncSha256.length).toBe(32)
  expect(media.fileSha256).toEqual(sha256(plain))
  expect(Number(media.fileLength)).toBe(plain.length)
  expect(media.mimetype).toBe(mimetype)
  expect(media.mediaKeyTimestamp).toEqual(expect.any(Number))
}

test('a shard sends image (Buffer), document ({ url: path }), voice note ({ stream }) and sticker to another shard; both sides carry Baileys-shaped media and the receiver downloads the same bytes', async () => {
  const image = crypto.randomBytes(150_000)
  const { sent, received } = await shardToShard('alice', 'bob', { image, caption: 'a picture' })
  expectUploaded(sent.message.imageMessage, image, 'image/jpeg')
  expect(sent.message.imageMessage.caption).toBe('a picture')
  expect(received.message.imageMessage).toMatchObject({ caption: 'a picture', mimetype: 'image/jpeg', directPath: sent.message.imageMessage.directPath })
  expect(received.message.imageMessage.mediaKey).toEqual(sent.message.imageMessage.mediaKey)
  expect(await downloadMediaMessage(received, 'buffer', { mediaHost })).toEqual(image)
  // The sender can download its own message too (the echo carries the same fields).
  expect(await downloadMediaMessage(sent, 'buffer', { mediaHost })).toEqual(image)

  const docBytes = crypto.randomBytes(333_333)
  const docPath = path.join(dir, 'report.pdf')
  fs.writeFileSync(docPath, docBytes)
  const doc = await shardToShard('alice', 'bob', { document: { url: docPath }, fileName: 'report.pdf', mimetype: 'application/pdf', caption: 'the report' })
  expectUploaded(doc.sent.message.documentMessage, docBytes, 'application/pdf')
  expect(doc.received.message.documentMessage).toMatchObject({ fileName: 'report.pdf', caption: 'the report' })
  expect(await streamToBuffer(await downloadMediaMessage(doc.received, 'stream', { mediaHost }))).toEqual(docBytes)

  const voice = crypto.randomBytes(90_001)
  const chunks = [voice.subarray(0, 1000), voice.subarray(1000, 70_000), voice.subarray(70_000)]
  const ptt = await shardToShard('bob', 'alice', { audio: { stream: Readable.from(chunks) }, ptt: true, seconds: 7 })
  expectUploaded(ptt.sent.message.audioMessage, voice, 'audio/ogg; codecs=opus')
  expect(ptt.received.message.audioMessage).toMatchObject({ ptt: true, seconds: 7 })
  expect(await downloadMediaMessage(ptt.received, 'buffer', { mediaHost })).toEqual(voice)

  const webp = crypto.randomBytes(20_000)
  const sticker = await shardToShard('alice', 'bob', { sticker: webp })
  expectUploaded(sticker.sent.message.stickerMessage, webp, 'image/webp')
  expect(await downloadMediaMessage(sticker.received, 'buffer', { mediaHost })).toEqual(webp)
})

test('bad media input is refused with a named field; nothing is sent', async () => {
  const alice = manager.socket('alice')
  const bob = userJid(manager.socket('bob').user.id)
  await expect(alice.sendMessage(bob, { image: { url: path.join(dir, 'missing.jpg') } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('missing.jpg') })
  await expect(alice.sendMessage(bob, { image: 'not a buffer' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('content.image') })
  await expect(alice.sendMessage(bob, { video: { stream: 42 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  const broken = new Readable({ read() { this.destroy(new Error('disk on fire')) } })
  await expect(alice.sendMessage(bob, { audio: { stream: broken } })).rejects.toMatchObject({ code: 'MEDIA_FAILED', message: expect.stringContaining('disk on fire') })
  await expect(downloadMediaMessage({ key: {}, message: { conversation: 'hi' } }, 'buffer', { mediaHost })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  await expect(downloadMediaMessage({ key: {}, message: {} }, 'file')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
})

test('a shard and the real Baileys 6.7.21 download each other\'s media; bytes equal', async () => {
  const peer = new BaileysChild('media-peer', mock)
  kids.push(peer)
  const open = await peer.waitFor('Baileys to open', (e) => e.event === 'open', 30000)
  expect(open.event).toBe('open')
  await peer.waitFor('Baileys offline sync', (e) => e.event === 'pending-done', 15000)
  const alice = manager.socket('alice')

  // Shard → Baileys: Baileys downloads (its own decryption) the shard's image and document.
  for (const content of [{ image: crypto.randomBytes(64_000), caption: 'from a shard' }, { document: crypto.randomBytes(40_000), fileName: 'a.bin', mimetype: 'application/octet-stream' }]) {
    const plain = content.image ?? content.document
    const sent = await alice.sendMessage(userJid(open.me.id), content)
    await peer.waitFor('Baileys to receive the media', (e) => e.event === 'upsert' && e.key.id === sent.key.id, 30000)
    peer.command({ cmd: 'download', id: sent.key.id })
    const done = await peer.waitFor('Baileys to download', (e) => (e.event === 'downloaded' && e.id === sent.key.id) || e.event === 'cmd-error', 30000)
    expect(done).toMatchObject({ event: 'downloaded', length: plain.length, sha256: sha256(plain).toString('hex') })
  }

  // Baileys → shard: the shard downloads and verifies Baileys' upload.
  const picture = crypto.randomBytes(80_000)
  const got = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'alice' && e.data.messages.some((m) => m.message?.imageMessage), 30000)
  peer.command({ cmd: 'sendMedia', to: alice.user.id, content: { image: { base64: picture.toString('base64') }, caption: 'from Baileys' } })
  const sentByPeer = await peer.waitFor('Baileys to send', (e) => e.event === 'sent' || e.event === 'cmd-error', 30000)
  expect(sentByPeer.event).toBe('sent')
  const msg = (await got).data.messages.find((m) => m.message?.imageMessage)
  expect(msg.key.id).toBe(sentByPeer.key.id)
  expect(msg.message.imageMessage.caption).toBe('from Baileys')
  expect(await downloadMediaMessage(msg, 'buffer', { mediaHost })).toEqual(picture)
  expect(peer.errors()).toEqual([])
})

test('a tampered blob is refused by downloadMediaMessage (buffer and stream) with MEDIA_INVALID', async () => {
  const image = crypto.randomBytes(100_000)
  const { received } = await shardToShard('alice', 'bob', { image })
  expect(await downloadMediaMessage(received, 'buffer', { mediaHost })).toEqual(image)
  const res = await fetch(`http://${mediaHost}/admin/media/tamper?path=${encodeURIComponent(received.message.imageMessage.directPath)}`, { method: 'POST' })
  expect(res.status).toBe(200)

  const err = await downloadMediaMessage(received, 'buffer', { mediaHost }).catch((e) => e)
  expect(err).toBeInstanceOf(ShardError)
  expect(err.code).toBe('MEDIA_INVALID')
  const streamErr = await streamToBuffer(await downloadMediaMessage(received, 'stream', { mediaHost })).catch((e) => e)
  expect(streamErr).toBeInstanceOf(ShardError)
  expect(streamErr.code).toBe('MEDIA_INVALID')
})

test('a directPath that would aim the download at another host is refused before any request', async () => {
  const image = crypto.randomBytes(2_000)
  const { received } = await shardToShard('alice', 'bob', { image })
  const withMedia = (fields) => ({ ...received, message: { imageMessage: { ...received.message.imageMessage, ...fields } } })
  // Each would become https://mmg.whatsapp.net<path>: another host, a user-info part, a URL.
  for (const directPath of ['.evil.example/x', '@10.0.0.5/x', '//evil.example/x', '/x?to=https://evil.example/']) {
    const err = await downloadMediaMessage(withMedia({ directPath }), 'buffer', { mediaHost }).catch((e) => e)
    expect({ directPath, code: err.code, names: /imageMessage\.directPath/.test(err.message) }).toEqual({ directPath, code: 'INVALID_ARGUMENT', names: true })
  }
  // The same media with its own path still downloads.
  expect(await downloadMediaMessage(withMedia({}), 'buffer', { mediaHost })).toEqual(image)
})

// Sends FILE to TO as MESSAGE_ID from a shard of its own (paired on MOCK_URL) and reports how far
// its RSS rose above where it was before the send: measured in a process that does nothing else,
// as jest's workers' own allocations made it noisy here.
const BIG_SENDER = `
const { ShardManager } = require('./testing')
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n')
const admin = 'http://' + new URL(process.env.MOCK_URL).host
const manager = new ShardManager({ session: process.env.SESSION, socketConfig: { waWebSocketUrl: process.env.MOCK_URL, version: [2, 3000, 1] } })
let sending = false
manager.on('login.update', async ({ type, code, state }) => {
  if (type === 'qr') await fetch(admin + '/admin/mock-phone/scan-qr', { method: 'POST', body: code })
  if (state !== 'connected' || sending) return
  sending = true
  await new Promise((r) => setTimeout(r, 500))
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 20)
  const sent = await manager.socket('big-sender').sendMessage(process.env.TO, { document: { url: process.env.FILE }, fileName: 'big.bin' }, { messageId: process.env.MESSAGE_ID })
  clearInterval(sampler)
  out({ fileLength: Number(sent.message.documentMessage.fileLength), growth: Math.max(peak, process.memoryUsage().rss) - before })
  await manager.close()
  process.exit(0)
})
manager.createShard({ id: 'big-sender' })
`

test('a 20 MB file is sent from a path while RSS grows far less than its size; the receiver streams it back intact', async () => {
  const size = 20 * 1024 * 1024
  const big = path.join(dir, 'big.bin')
  const hash = crypto.createHash('sha256')
  const fd = fs.openSync(big, 'w')
  for (let written = 0; written < size; written += 1024 * 1024) {
    const chunk = crypto.randomBytes(1024 * 1024)
    hash.update(chunk)
    fs.writeSync(fd, chunk)
  }
  fs.closeSync(fd)
  const expected = hash.digest('hex')

  const id = newId()
  const got = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'bob' && e.data.messages.some((m) => m.key.id === id), 120000)
  const env = { MOCK_URL: mock.url, SESSION: tmpDir('bshard-big-'), TO: userJid(manager.socket('bob').user.id), FILE: big, MESSAGE_ID: id }
  const { code, lines, stderr } = await runChild(BIG_SENDER, { env, timeoutMs: 120000 })
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' })
  expect(lines[0].fileLength).toBe(size)
  // Held in memory, the file and its ciphertext would add >= 40 MB; streamed, a few MB.
  expect(lines[0].growth).toBeLessThan(size / 2)

  const received = (await got).data.messages.find((m) => m.key.id === id)
  const down = crypto.createHash('sha256')
  let length = 0
  for await (const chunk of await downloadMediaMessage(received, 'stream', { mediaHost })) {
    down.update(chunk)
    length += chunk.length
  }
  expect(length).toBe(size)
  expect(down.digest('hex')).toBe(expected)
}, 180000)
