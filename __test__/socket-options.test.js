'use strict'
// Baileys socket options that change what a shard does: emitOwnEvents, shouldIgnoreJid and
// connectTimeoutMs, end to end against the mock (and a server that never answers).
const net = require('node:net')
const { ShardManager, delay } = require('..')
const { aliceAndBob, exchange, tmpDir, pairedManager, openBaileysPeer, userJid, waitFor } = require('./helpers')

let ctx
let ignored = null
let throwing = false

beforeAll(async () => {
  const shouldIgnoreJid = (jid) => {
    if (throwing) throw new Error('a bad filter')
    return jid === ignored
  }
  ctx = await aliceAndBob({ emitOwnEvents: false, shouldIgnoreJid })
})
afterAll(() => ctx?.close())

/** Every `event` the manager emits for `shardId` while `fn` runs, and `settleMs` after. */
async function seenDuring(event, shardId, fn, settleMs = 500) {
  const seen = []
  const listener = (e) => e.shardId === shardId && seen.push(e.data)
  ctx.manager.on(event, listener)
  try {
    await fn()
    await delay(settleMs)
  } finally {
    ctx.manager.off(event, listener)
  }
  return seen
}

test('emitOwnEvents: false — sendMessage resolves to the message, which is not echoed as messages.upsert', async () => {
  const { alice, bob, bobJid, manager } = ctx
  let sent
  const echoes = await seenDuring('messages.upsert', 'alice', async () => {
    ;({ sent } = await exchange(manager, alice, 'bob', bobJid, { text: 'no echo' }))
  })
  expect(sent.message.extendedTextMessage.text).toBe('no echo')
  expect(echoes.filter((d) => d.messages.some((m) => m.key.id === sent.key.id))).toEqual([])
  // What others send still arrives.
  const { got } = await exchange(manager, bob, 'alice', ctx.aliceJid, { text: 'to alice' })
  expect(got.message.extendedTextMessage.text).toBe('to alice')
})

test('shouldIgnoreJid: nothing from an ignored chat is emitted; a filter that throws ignores nothing', async () => {
  const { alice, bob, aliceJid, bobJid, manager } = ctx
  const textsAtBob = []
  const listener = (e) => e.shardId === 'bob' && e.data.messages.forEach((m) => textsAtBob.push(m.message?.extendedTextMessage?.text))
  manager.on('messages.upsert', listener)
  try {
    ignored = aliceJid
    const presences = await seenDuring('presence.update', 'bob', async () => {
      await alice.sendMessage(bobJid, { text: 'you will not see this' })
      await alice.sendPresenceUpdate('composing', bobJid)
    })
    expect(presences).toEqual([])
    // The other direction is not filtered: alice does not ignore bob.
    const { got } = await exchange(manager, bob, 'alice', aliceJid, { text: 'alice sees this' })
    expect(got.key.remoteJid).toBe(bobJid)

    throwing = true
    const { got: kept } = await exchange(manager, alice, 'bob', bobJid, { text: 'filter broke' })
    expect(kept.message.extendedTextMessage.text).toBe('filter broke')
    throwing = false
    ignored = null
    await exchange(manager, alice, 'bob', bobJid, { text: 'not ignored any more' })
    // Alice's messages reach bob in order: the ignored one came before these and was dropped.
    expect(textsAtBob).toEqual(['filter broke', 'not ignored any more'])
  } finally {
    manager.off('messages.upsert', listener)
    throwing = false
    ignored = null
  }
})

test('function options of the wrong type are refused', () => {
  expect(() => new ShardManager({ session: tmpDir(), socketConfig: { shouldIgnoreJid: true } })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
  expect(() => new ShardManager({ session: tmpDir(), socketConfig: { getMessage: 'store' } })).toThrow(/getMessage must be a function/)
})

test('connectTimeoutMs: a server that accepts and never answers is given up on in time, and dialled again', async () => {
  const accepted = []
  const silent = net.createServer((socket) => accepted.push({ socket, at: Date.now() }))
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const url = `ws://127.0.0.1:${silent.address().port}/ws/chat`
  const manager = new ShardManager({ session: tmpDir(), socketConfig: { waWebSocketUrl: url, connectTimeoutMs: 300, version: [2, 3000, 1] } })
  try {
    await manager.createShard({ id: 'slow' })
    // Without the timeout the first attempt would hang on the silent socket for ever.
    const end = Date.now() + 8000
    while (accepted.length < 2 && Date.now() < end) await delay(100)
    expect(accepted.length).toBeGreaterThanOrEqual(2)
    expect(manager.getShardInfo('slow').status).not.toBe('connected')
  } finally {
    await manager.close()
    accepted.forEach(({ socket }) => socket.destroy())
    silent.close()
  }
})

test('browser: the phone lists the shard with the OS and platform Baileys announces for the same browser', async () => {
  const { mock } = ctx
  const browser = ['baileys-shard-test', 'Chrome', '1.0.0'] // what the Baileys test peer uses
  const { manager } = await pairedManager(mock, ['browser'], { browser })
  const { peer, me } = await openBaileysPeer(mock, 'browser-peer')
  try {
    const { accounts } = await (await fetch(`${mock.httpUrl}/admin/accounts`)).json()
    const deviceOf = (jid) => {
      const [user, device] = jid.split('@')[0].split(':')
      return accounts.find((a) => a.phone === user).devices.find((d) => d.id === Number(device ?? 0))
    }
    const ours = deviceOf(manager.socket('browser').user.id)
    const theirs = deviceOf(me.id)
    expect(ours).toMatchObject({ os: 'baileys-shard-test', platformType: 'CHROME' })
    expect({ os: ours.os, platformType: ours.platformType }).toEqual({ os: theirs.os, platformType: theirs.platformType })
    expect(userJid(me.id)).not.toBe(userJid(manager.socket('browser').user.id))
  } finally {
    await peer.close()
    await manager.close()
  }
})

test('patchMessageBeforeSending: what is sent is the patch of the message; sendMessage resolves to the message itself', async () => {
  const { mock } = ctx
  const calls = []
  const patchMessageBeforeSending = (message, jids) => {
    calls.push(jids)
    if (message.extendedTextMessage?.text === 'per recipient') return [{ recipientJid: jids[0], conversation: '#0' }, { recipientJid: '15550000000:1@s.whatsapp.net', conversation: '#1' }]
    if (!message.extendedTextMessage) return message
    return { ...message, extendedTextMessage: { ...message.extendedTextMessage, text: `${message.extendedTextMessage.text} [patched]` } }
  }
  const { manager, socks } = await pairedManager(mock, ['patcher', 'reader'], { patchMessageBeforeSending })
  try {
    const to = userJid(socks.reader.user.id)
    const { sent, got } = await exchange(manager, socks.patcher, 'reader', to, { text: 'hello' })
    expect(got.message.extendedTextMessage.text).toBe('hello [patched]')
    expect(sent.message.extendedTextMessage.text).toBe('hello')
    expect(calls.at(-1)).toEqual([to])
    // relayMessage goes through the patch too.
    const relayed = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'reader' && e.data.messages.some((m) => m.key.id === 'PATCHRELAY0000000001'), 20000)
    await socks.patcher.relayMessage(to, { extendedTextMessage: { text: 'relayed' } }, { messageId: 'PATCHRELAY0000000001' })
    expect((await relayed).data.messages[0].message.extendedTextMessage.text).toBe('relayed [patched]')
    // Media is uploaded before the patch sees the message.
    const image = Buffer.from('89504e470d0a1a0a', 'hex')
    const media = await exchange(manager, socks.patcher, 'reader', to, { image, caption: 'pic' })
    expect(media.got.message.imageMessage).toMatchObject({ caption: 'pic', directPath: media.sent.message.imageMessage.directPath })
    await expect(socks.patcher.sendMessage(to, { text: 'per recipient' })).rejects.toMatchObject({ code: 'NOT_SUPPORTED' })
    expect(() => new ShardManager({ session: tmpDir(), socketConfig: { patchMessageBeforeSending: {} } })).toThrow(/patchMessageBeforeSending must be a function/)
  } finally {
    await manager.close()
  }
})
