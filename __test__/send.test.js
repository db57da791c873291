'use strict'
// sock.sendMessage through the public API against the mock server.
const { ShardManager } = require('..')
const { MockServer } = require('../testing')
const { tmpDir, waitFor, autoScan } = require('./helpers')

let mock
let manager
let alice
let bob
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  manager = new ShardManager({ session: tmpDir(), socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })
  const stop = autoScan(manager, mock)
  const connected = Promise.all(
    ['alice', 'bob'].map((id) => waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 60000)),
  )
  alice = (await manager.createShard({ id: 'alice' })).sock
  bob = (await manager.createShard({ id: 'bob' })).sock
  await connected
  stop()
})
afterAll(async () => {
  await manager?.close()
  await mock?.close()
})

const userJid = (sock) => sock.user.id.replace(/:\d+@/, '@')

test('sendMessage resolves to the WAMessage Baileys returns and echoes it as messages.upsert append', async () => {
  const to = userJid(bob)
  const echoed = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'alice' && e.data.type === 'append')
  const sent = await alice.sendMessage(to, { text: 'hello bob', mentions: [to] })
  expect(sent).toEqual({
    key: { remoteJid: to, fromMe: true, id: expect.stringMatching(/^[0-9A-F]{10,}$/) },
    // objectContaining: decoded messages carry Baileys' empty collections (groupMentions: [], ...),
    // as its protobufjs instances do.
    message: { extendedTextMessage: expect.objectContaining({ text: 'hello bob', contextInfo: expect.objectContaining({ mentionedJid: [to] }) }) },
    messageTimestamp: expect.any(Number),
    status: 1,
  })
  expect(Math.abs(sent.messageTimestamp - Date.now() / 1000)).toBeLessThan(60)
  const echo = await echoed
  expect(echo.sock).toBe(alice)
  expect(echo.data.messages).toEqual([sent])

  const withId = await alice.sendMessage(to, { text: 'fixed id' }, { messageId: '3EB0CAFEBABE0001' })
  expect(withId.key.id).toBe('3EB0CAFEBABE0001')
})

test('bad input is refused with a clear error and the shard stays connected and usable', async () => {
  const to = userJid(bob)
  await expect(alice.sendMessage('not-a-jid', { text: 'x' })).rejects.toMatchObject({
    name: 'ShardError',
    code: 'INVALID_ARGUMENT',
    message: expect.stringContaining('invalid jid'),
  })
  // Media is supported; media that is neither a Buffer, { url } nor { stream } is not.
  await expect(alice.sendMessage(to, { sticker: 42 })).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
    message: expect.stringContaining('sticker'),
  })
  await expect(alice.sendMessage(to, { buttonsMessage: {} })).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
    message: expect.stringContaining('unsupported message content'),
  })
  await expect(alice.sendMessage(to, { text: 42 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  await expect(alice.sendMessage(to, 'hello')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  expect(manager.getShardInfo('alice').status).toBe('connected')
  const sent = await alice.sendMessage(to, { text: 'still here' })
  expect(sent.message.extendedTextMessage.text).toBe('still here')
})

test('a stopped shard refuses to send with NOT_CONNECTED', async () => {
  const { sock } = await manager.createShard({ id: 'carol' })
  await manager.stopShard('carol')
  await expect(sock.sendMessage(userJid(bob), { text: 'x' })).rejects.toMatchObject({ code: 'NOT_CONNECTED' })
})
