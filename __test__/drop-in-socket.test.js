'use strict'
// Baileys socket members bots rely on, end to end against the mock: `sock.ev` as Baileys'
// emitter (process maps like a real Baileys socket's), `authState`, `ws.close()`,
// `waitForConnectionUpdate`, `logger`, and the `markOnlineOnConnect` option.
const { ShardManager } = require('..')
const { MockServer } = require('../testing')
const { waitFor, pairedManager, userJid, autoScan, expectShardError, openBaileysPeer, tmpDir } = require('./helpers')

let mock
let manager
let session
let peer
let peerMe
const logs = []

/** A pino-shaped logger that records what it gets, with its child bindings. */
function recordingLogger(bindings = {}) {
  const logger = { level: 'info', bindings, child: (more) => recordingLogger({ ...bindings, ...more }) }
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) {
    logger[level] = (obj, msg) => logs.push({ level, bindings, obj, msg })
  }
  return logger
}


beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  ;({ manager, session } = await pairedManager(mock, ['alice', 'bob']))
  ;({ peer, me: peerMe } = await openBaileysPeer(mock))
})
afterAll(async () => {
  await peer?.close()
  await manager?.close()
  await mock?.close()
})

describe('sock.ev', () => {
  test('ev.process gets the events of one stanza in one map, as a real Baileys socket does', async () => {
    const alice = manager.socket('alice')
    const maps = []
    const off = alice.ev.process((events) => maps.push(events))

    // Baileys → alice: a text, then a reaction to it.
    peer.command({ cmd: 'send', to: alice.user.id, text: 'react to this' })
    const sent = await peer.waitFor('Baileys to send', (e) => (e.event === 'sent' && !e.message) || e.event === 'cmd-error', 20000)
    expect(sent.event).toBe('sent')
    const reacted = waitFor(alice.ev, 'messages.reaction', () => true, 20000)
    peer.command({ cmd: 'sendContent', to: alice.user.id, content: { react: { text: '👍', key: sent.key } } })
    await reacted
    const ours = maps.find((m) => m['messages.reaction'])
    expect(Object.keys(ours).sort()).toEqual(['messages.reaction', 'messages.upsert'])
    expect(ours['messages.reaction'][0].reaction.text).toBe('👍')

    // alice → Baileys: the same, the other way; Baileys' own map has the same two events.
    const baileysSaw = peer.waitFor('Baileys to get the reaction', (e) => e.event === 'process' && e.names.includes('messages.reaction'), 20000)
    const text = await alice.sendMessage(userJid(peerMe.id), { text: 'and to this' })
    await alice.sendMessage(userJid(peerMe.id), { react: { text: '🔥', key: { ...text.key, fromMe: false, remoteJid: userJid(alice.user.id) } } })
    // Baileys' map holds the same two. (It may hold more: chats.update and contacts.update it
    // derives from each message — the account's state, issue #16 — and, depending on timing, a
    // receipt it processed while the same buffer was open.)
    expect((await baileysSaw).names).toEqual(expect.arrayContaining(Object.keys(ours)))

    off()
    const before = maps.length
    await alice.sendMessage(userJid(peerMe.id), { text: 'after unsubscribing' })
    expect(maps.length).toBe(before)
  })

  test('the manager forwards what sock.ev delivers, also while the bot buffers', async () => {
    const alice = manager.socket('alice')
    const bob = manager.socket('bob')
    const forwarded = []
    const onUpsert = (e) => e.shardId === 'bob' && e.data.type === 'notify' && forwarded.push(e.data)
    manager.on('messages.upsert', onUpsert)
    const maps = []
    const off = bob.ev.process((m) => maps.push(m))
    bob.ev.buffer()
    for (const text of ['one', 'two']) {
      // alice's delivery receipt says bob has the message (it can come before the send resolves).
      const messageId = `3EB0BUFFER${text.toUpperCase()}${Date.now()}`
      const delivered = waitFor(manager, 'messages.update', (e) => e.shardId === 'alice' && e.data.some((u) => u.key.id === messageId && u.update.status === 3), 20000)
      await alice.sendMessage(userJid(bob.user.id), { text }, { messageId })
      await delivered
    }
    await new Promise((r) => setTimeout(r, 300))
    // Held while buffering: nothing from bob reached the manager or ev.process yet.
    expect(forwarded).toEqual([])
    expect(bob.ev.flush()).toBe(true)
    expect(forwarded).toHaveLength(1)
    expect(forwarded[0].messages.map((m) => m.message.extendedTextMessage.text)).toEqual(['one', 'two'])
    expect(maps.filter((m) => m['messages.upsert']?.type === 'notify')).toHaveLength(1)
    off()
    manager.off('messages.upsert', onUpsert)
  })
})

describe('sock.authState', () => {
  test('creds and keys are what Baileys 6.7.21 reads from the same session folder', async () => {
    const { useMultiFileAuthState, BufferJSON } = await import('baileys')
    const alice = manager.socket('alice')
    const { creds, keys } = alice.authState
    expect(creds.me.id).toBe(alice.user.id)
    expect(Buffer.isBuffer(creds.noiseKey.private)).toBe(true)
    const { state } = await useMultiFileAuthState(`${session}/alice`)
    const json = (v) => JSON.parse(JSON.stringify(v, BufferJSON.replacer))
    expect(json(creds)).toEqual(json(state.creds))
    const ids = ['1', '2', String(creds.nextPreKeyId - 1), '999999']
    const ourKeys = await keys.get('pre-key', ids)
    expect(Object.keys(ourKeys).length).toBeGreaterThan(0)
    expect(ourKeys['999999']).toBeUndefined()
    const theirs = await state.keys.get('pre-key', ids)
    for (const id of Object.keys(theirs)) if (theirs[id] == null) delete theirs[id]
    expect(json(ourKeys)).toEqual(json(theirs))
  })

  test('bad arguments are INVALID_ARGUMENT, writes NOT_SUPPORTED, and the shard stays connected', async () => {
    const { keys } = manager.socket('alice').authState
    await expectShardError(keys.get('cookies', ['1']), 'INVALID_ARGUMENT', /type must be one of/)
    await expectShardError(keys.get('session', 'x'), 'INVALID_ARGUMENT', /ids/)
    await expectShardError(keys.set({ session: {} }), 'NOT_SUPPORTED', /owns its session/)
    expect(manager.getShardInfo('alice').status).toBe('connected')
  })
})

describe('sock.ws and waitForConnectionUpdate', () => {
  test('ws.close() drops the connection; the shard reconnects by itself', async () => {
    const bob = manager.socket('bob')
    expect(bob.ws.isOpen).toBe(true)
    expect(bob.ws.readyState).toBe(1)
    // As with Baileys, a wait for `open` that sees the close first rejects with its error.
    const early = bob.waitForConnectionUpdate((u) => u.connection === 'open', 30000).catch((e) => e)
    let reopened
    const closed = new Promise((resolve) => {
      bob.ev.on('connection.update', function onClose(u) {
        if (u.connection !== 'close') return
        bob.ev.off('connection.update', onClose)
        reopened = waitFor(bob.ev, 'connection.update', (v) => v.connection === 'open', 30000)
        resolve(u)
      })
    })
    await bob.ws.close()
    const update = await closed
    // Baileys reports a ws.close() as 428 connectionClosed.
    expect(update.lastDisconnect.error.output.statusCode).toBe(428)
    expect((await early).output.statusCode).toBe(428)
    await reopened
    expect(bob.ws.isOpen).toBe(true)
    // And it still works.
    const got = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'bob' && e.data.type === 'notify' && e.data.messages.some((m) => !m.key.fromMe), 20000)
    await manager.socket('alice').sendMessage(userJid(bob.user.id), { text: 'after ws.close' })
    expect((await got).data.messages[0].message.extendedTextMessage.text).toBe('after ws.close')
  })

  test('waitForConnectionUpdate times out with a Boom 408 and checks its arguments', async () => {
    const bob = manager.socket('bob')
    const err = await bob.waitForConnectionUpdate(() => false, 50).catch((e) => e)
    expect(err.output.statusCode).toBe(408)
    await expectShardError(bob.waitForConnectionUpdate('open'), 'INVALID_ARGUMENT', /function/)
    await expectShardError(bob.waitForConnectionUpdate(() => true, -1), 'INVALID_ARGUMENT', /timeoutMs/)
  })
})

describe('socket options', () => {
  test('markOnlineOnConnect: false — a subscriber sees the shard unavailable, also after a reconnect', async () => {
    const quiet = new ShardManager({ session, socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1], markOnlineOnConnect: false, logger: recordingLogger() } })
    autoScan(quiet, mock)
    try {
      const connected = () => waitFor(quiet, 'login.update', (u) => u.shardId === 'quiet' && u.state === 'connected', 60000)
      let up = connected()
      const { sock } = await quiet.createShard({ id: 'quiet' })
      // As Baileys: right after `open`, connection.update says the presence it set.
      const updates = []
      sock.ev.on('connection.update', (u) => updates.push(u))
      await up
      // (then, once the offline queue is delivered — possibly already — receivedPendingNotifications).
      const afterOpen = updates.slice(updates.findIndex((u) => u.connection === 'open'))
      expect(afterOpen.slice(0, 2)).toEqual([{ connection: 'open' }, { isOnline: false }])
      expect([[], [{ receivedPendingNotifications: true }]]).toContainEqual(afterOpen.slice(2))
      // A restart takes the engine's reconnect path, which announces `available` by itself.
      await quiet.stopShard('quiet')
      up = connected()
      await quiet.connect('quiet')
      await up
      await new Promise((r) => setTimeout(r, 500))
      const quietJid = userJid(sock.user.id)
      const alice = manager.socket('alice')
      const seen = waitFor(manager, 'presence.update', (e) => e.shardId === 'alice' && e.data.presences?.[quietJid], 20000)
      await alice.presenceSubscribe(quietJid)
      expect((await seen).data.presences[quietJid].lastKnownPresence).toBe('unavailable')
      // sendPresenceUpdate announces the account's own presence the same way.
      const online = waitFor(sock.ev, 'connection.update', (u) => u.isOnline === true, 5000)
      await sock.sendPresenceUpdate('available')
      await online

      // The logger option: sock.logger is its child for the shard, and it got the shard's lifecycle.
      expect(sock.logger.bindings).toEqual({ shardId: 'quiet' })
      expect(logs.some((l) => l.bindings.shardId === 'quiet' && /connected/.test(JSON.stringify(l)))).toBe(true)
    } finally {
      await quiet.close()
    }
  })

  test('a shard\'s own socket.logger is used for that shard', async () => {
    const m = new ShardManager({ session: tmpDir(), socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })
    try {
      const qr = waitFor(m, 'login.update', (u) => u.shardId === 'own-logger' && u.type === 'qr', 30000)
      const { sock } = await m.createShard({ id: 'own-logger', socket: { logger: recordingLogger({ app: 'bot' }) } })
      await qr
      expect(sock.logger.bindings).toEqual({ app: 'bot', shardId: 'own-logger' })
      const mine = logs.filter((l) => l.bindings.shardId === 'own-logger')
      expect(mine.some((l) => l.obj?.type === 'qr')).toBe(true)
      // The QR (and its PNG) is a login secret: it stays out of the logs.
      expect(mine.filter((l) => l.obj && ('code' in l.obj || 'image' in l.obj))).toEqual([])
    } finally {
      await m.close()
    }
  })

  test('a logger without pino methods is INVALID_ARGUMENT', () => {
    expect(() => new ShardManager({ session, socketConfig: { logger: { info: 1 } } })).toThrow(/pino-compatible/)
  })
})
