'use strict'
// sock.readMessages, sock.sendPresenceUpdate, sock.presenceSubscribe and sock.onWhatsApp through
// the public API: two shards paired with the mock server, and the real Baileys 6.7.21 as the
// other end where it checks that our stanzas are what Baileys sends and understands.
const { ShardError } = require('..')
const { MockServer } = require('../testing')
const { BaileysChild } = require('./baileys-peer')
const { waitFor, pairedManager, userJid } = require('./helpers')

let mock
let manager
let peer
let peerMe
const userOf = (jid) => jid.split(/[:@]/)[0]
const UNREGISTERED = '19990000001' // the mock's numbers are 1555xxxxxxx

beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  ;({ manager } = await pairedManager(mock, ['alice', 'bob']))
})
afterAll(async () => {
  await peer?.close()
  await manager?.close()
  await mock?.close()
})

async function baileysPeer() {
  if (!peer) {
    peer = new BaileysChild('peer', mock)
    const open = await peer.waitFor('Baileys to open', (e) => e.event === 'open', 30000)
    expect(open.event).toBe('open')
    await peer.waitFor('Baileys offline sync', (e) => e.event === 'pending-done', 15000)
    peerMe = open.me
  }
  return peer
}

/** The next `presence.update` on `shardId` saying `who` is `state`. */
function presenceOf(shardId, who, state, ms = 20000) {
  return waitFor(
    manager,
    'presence.update',
    (e) => e.shardId === shardId && e.data.presences?.[who]?.lastKnownPresence === state,
    ms,
  )
}

async function expectShardError(promise, code, pattern) {
  const err = await promise.then(
    () => null,
    (e) => e,
  )
  expect(err).toBeInstanceOf(ShardError)
  expect(err.code).toBe(code)
  if (pattern) expect(err.message).toMatch(pattern)
  return err
}

describe('readMessages', () => {
  test('the receiver reads a shard message: the sender gets messages.update status 4', async () => {
    const alice = manager.socket('alice')
    const bob = manager.socket('bob')
    const id = '3EB0A11CE00000000004'
    const atBob = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'bob' && e.data.messages.some((m) => m.key.id === id), 30000)
    const read = waitFor(manager, 'messages.update', (e) => e.shardId === 'alice' && e.data.some((u) => u.key.id === id && u.update.status === 4), 30000)
    await alice.sendMessage(userJid(bob.user.id), { text: 'read me' }, { messageId: id })
    const msg = (await atBob).data.messages.find((m) => m.key.id === id)
    await expect(bob.readMessages([msg.key])).resolves.toBeUndefined()
    const event = await read
    expect(event.sock).toBe(alice)
    expect(event.data.find((u) => u.key.id === id && u.update.status === 4)).toEqual({
      key: { remoteJid: userJid(bob.user.id), id, fromMe: true },
      update: { status: 4 },
    })
  })

  test('keys of own messages are skipped, an empty list is a no-op', async () => {
    const alice = manager.socket('alice')
    const bob = manager.socket('bob')
    const updates = []
    const listener = (e) => e.shardId === 'bob' && updates.push(...e.data.filter((u) => u.update.status === 4))
    manager.on('messages.update', listener)
    const sent = await bob.sendMessage(userJid(alice.user.id), { text: 'mine' })
    await expect(bob.readMessages([sent.key])).resolves.toBeUndefined()
    await expect(bob.readMessages([])).resolves.toBeUndefined()
    await new Promise((r) => setTimeout(r, 1500))
    manager.off('messages.update', listener)
    expect(updates.filter((u) => u.key.id === sent.key.id)).toEqual([])
  })

  test("a shard's read receipt is what Baileys 6.7.21 understands, and Baileys' reaches the shard", async () => {
    const p = await baileysPeer()
    const alice = manager.socket('alice')
    // Baileys sends, the shard reads, Baileys sees status 4.
    const got = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'alice' && e.data.type === 'notify' && e.data.messages.some((m) => !m.key.fromMe), 30000)
    p.command({ cmd: 'send', to: alice.user.id, text: 'read this, shard' })
    const sent = await p.waitFor('Baileys to send', (e) => e.event === 'sent' || e.event === 'cmd-error', 20000)
    expect(sent.event).toBe('sent')
    const msg = (await got).data.messages.find((m) => m.key.id === sent.key.id)
    expect(msg).toBeDefined()
    await alice.readMessages([msg.key])
    const readAtPeer = await p.waitFor('Baileys to see its message read', (e) => e.event === 'update' && e.key.id === sent.key.id && e.status === 4, 20000)
    expect(readAtPeer.status).toBe(4)

    // The shard sends, Baileys reads, the shard sees status 4.
    const id = '3EB0A11CE00000000005'
    const read = waitFor(manager, 'messages.update', (e) => e.shardId === 'alice' && e.data.some((u) => u.key.id === id && u.update.status === 4), 30000)
    await alice.sendMessage(userJid(peerMe.id), { text: 'read this, Baileys' }, { messageId: id })
    const atPeer = await p.waitFor('Baileys to receive', (e) => e.event === 'upsert' && e.key.id === id, 20000)
    p.command({ cmd: 'read', key: atPeer.key })
    expect((await p.waitFor('Baileys to read', (e) => e.event === 'read' || e.event === 'cmd-error', 20000)).event).toBe('read')
    const update = (await read).data.find((u) => u.key.id === id && u.update.status === 4)
    expect(userOf(update.key.remoteJid)).toBe(userOf(peerMe.id))
    expect(update.key.fromMe).toBe(true)
  })
})

describe('sendPresenceUpdate', () => {
  test('composing, recording and paused reach the other shard as presence.update', async () => {
    const alice = manager.socket('alice')
    const bob = manager.socket('bob')
    const bobJid = userJid(bob.user.id)
    const aliceJid = userJid(alice.user.id)
    for (const state of ['composing', 'recording', 'paused']) {
      const seen = presenceOf('alice', bobJid, state)
      await expect(bob.sendPresenceUpdate(state, aliceJid)).resolves.toBeUndefined()
      const event = await seen
      expect(event.sock).toBe(alice)
      expect(event.data).toEqual({ id: bobJid, presences: { [bobJid]: { lastKnownPresence: state } } })
    }
  })

  test('Baileys 6.7.21 sees our composing and recording, and we see its typing', async () => {
    const p = await baileysPeer()
    const alice = manager.socket('alice')
    const aliceUser = userOf(alice.user.id)
    for (const state of ['composing', 'recording']) {
      const seen = p.waitFor(`Baileys to see ${state}`, (e) => e.event === 'presence' && userOf(e.id) === aliceUser && Object.values(e.presences).some((x) => x.lastKnownPresence === state), 20000)
      await alice.sendPresenceUpdate(state, userJid(peerMe.id))
      expect(Object.values((await seen).presences).map((x) => x.lastKnownPresence)).toContain(state)
    }
    const typing = waitFor(
      manager,
      'presence.update',
      (e) => e.shardId === 'alice' && userOf(e.data.id) === userOf(peerMe.id) && Object.values(e.data.presences).some((x) => x.lastKnownPresence === 'recording'),
      20000,
    )
    p.command({ cmd: 'presence', type: 'recording', to: alice.user.id })
    expect((await p.waitFor('Baileys to send recording', (e) => e.event === 'presence-sent' || e.event === 'cmd-error', 20000)).event).toBe('presence-sent')
    await typing
  })
})

describe('presenceSubscribe', () => {
  test("a subscriber gets the contact's current presence, then each change", async () => {
    const alice = manager.socket('alice')
    const bob = manager.socket('bob')
    const bobJid = userJid(bob.user.id)
    await bob.sendPresenceUpdate('unavailable')
    const initial = presenceOf('alice', bobJid, 'unavailable')
    await expect(alice.presenceSubscribe(bobJid)).resolves.toBeUndefined()
    const first = await initial
    expect(first.data.id).toBe(bobJid)

    const online = presenceOf('alice', bobJid, 'available')
    await expect(bob.sendPresenceUpdate('available')).resolves.toBeUndefined()
    expect((await online).data).toEqual({ id: bobJid, presences: { [bobJid]: { lastKnownPresence: 'available' } } })

    const offline = presenceOf('alice', bobJid, 'unavailable')
    await bob.sendPresenceUpdate('unavailable')
    const gone = (await offline).data.presences[bobJid]
    expect(gone.lastSeen).toEqual(expect.any(Number))
  })

  test('without a subscription no presence arrives', async () => {
    const alice = manager.socket('alice')
    const aliceJid = userJid(alice.user.id)
    // bob never subscribed to alice.
    const seen = []
    const listener = (e) => e.shardId === 'bob' && e.data.presences?.[aliceJid] && seen.push(e)
    manager.on('presence.update', listener)
    await alice.sendPresenceUpdate('available')
    await new Promise((r) => setTimeout(r, 1500))
    manager.off('presence.update', listener)
    expect(seen).toEqual([])
  })

  test('Baileys 6.7.21 subscribed to a shard sees it come online', async () => {
    const p = await baileysPeer()
    const alice = manager.socket('alice')
    const aliceUser = userOf(alice.user.id)
    await alice.sendPresenceUpdate('unavailable')
    p.command({ cmd: 'subscribe', jid: alice.user.id })
    expect((await p.waitFor('Baileys to subscribe', (e) => e.event === 'subscribed' || e.event === 'cmd-error', 20000)).event).toBe('subscribed')
    const online = p.waitFor('Baileys to see the shard online', (e) => e.event === 'presence' && userOf(e.id) === aliceUser && Object.values(e.presences).some((x) => x.lastKnownPresence === 'available'), 20000)
    await alice.sendPresenceUpdate('available')
    await online
  })
})

describe('onWhatsApp', () => {
  test('registered numbers come back as { jid, exists: true, lid }, unregistered ones are left out', async () => {
    const alice = manager.socket('alice')
    const bob = manager.socket('bob')
    const bobJid = userJid(bob.user.id)
    const bobNumber = userOf(bobJid)
    const [entry] = await alice.onWhatsApp(bobNumber)
    expect(entry).toEqual({ jid: bobJid, exists: true, lid: expect.stringMatching(/@lid$/) })
    expect(entry.lid).toBe(userJid(bob.user.lid))
    // Every form Baileys accepts names the same number.
    for (const form of [`+${bobNumber}`, bobJid, bob.user.id]) {
      expect(await alice.onWhatsApp(form)).toEqual([entry])
    }
    expect(await alice.onWhatsApp(UNREGISTERED)).toEqual([])
    expect(await alice.onWhatsApp(UNREGISTERED, bobNumber)).toEqual([entry])
    expect(await alice.onWhatsApp()).toEqual([])
  })

  test('gives what Baileys 6.7.21 gives for the same numbers', async () => {
    const p = await baileysPeer()
    const alice = manager.socket('alice')
    const numbers = [userOf(manager.socket('bob').user.id), UNREGISTERED, `+${userOf(alice.user.id)}`]
    p.command({ cmd: 'onWhatsApp', numbers })
    const fromBaileys = await p.waitFor('Baileys onWhatsApp', (e) => e.event === 'onWhatsApp' || e.event === 'cmd-error', 20000)
    expect(fromBaileys.event).toBe('onWhatsApp')
    expect(fromBaileys.result).toHaveLength(2)
    expect(await alice.onWhatsApp(...numbers)).toEqual(fromBaileys.result)
  })
})

describe('bad input and stopped shards', () => {
  test('malformed arguments are INVALID_ARGUMENT naming the problem, and the shard stays usable', async () => {
    const alice = manager.socket('alice')
    const bobJid = userJid(manager.socket('bob').user.id)
    await expectShardError(alice.readMessages('nope'), 'INVALID_ARGUMENT', /keys must be an array/)
    await expectShardError(alice.readMessages({ remoteJid: bobJid, id: 'X' }), 'INVALID_ARGUMENT', /keys must be an array/)
    await expectShardError(alice.readMessages([null]), 'INVALID_ARGUMENT', /keys\[0\]/)
    await expectShardError(alice.readMessages([{ remoteJid: bobJid, id: 'A' }, { remoteJid: 'not-a-jid', id: 'B' }]), 'INVALID_ARGUMENT', /keys\[1\]\.remoteJid.*not-a-jid/)
    await expectShardError(alice.readMessages([{ remoteJid: bobJid }]), 'INVALID_ARGUMENT', /keys\[0\]\.id/)
    await expectShardError(alice.readMessages([{ remoteJid: '1-2@g.us', id: 'A', participant: '@bad' }]), 'INVALID_ARGUMENT', /keys\[0\]\.participant/)
    await expectShardError(alice.sendPresenceUpdate('typing', bobJid), 'INVALID_ARGUMENT', /unknown presence type "typing".*'composing'/)
    await expectShardError(alice.sendPresenceUpdate(undefined), 'INVALID_ARGUMENT', /type must be one of/)
    await expectShardError(alice.sendPresenceUpdate('composing'), 'INVALID_ARGUMENT', /jid/)
    await expectShardError(alice.sendPresenceUpdate('paused', 'nobody'), 'INVALID_ARGUMENT', /invalid jid "nobody"/)
    await expectShardError(alice.presenceSubscribe('garbage'), 'INVALID_ARGUMENT', /presenceSubscribe.*invalid jid "garbage"/)
    await expectShardError(alice.presenceSubscribe(42), 'INVALID_ARGUMENT', /jid must be a string/)
    await expectShardError(alice.presenceSubscribe(), 'INVALID_ARGUMENT', /jid must be a string, got null/)
    await expectShardError(alice.readMessages(), 'INVALID_ARGUMENT', /keys must be an array/)
    await expectShardError(alice.onWhatsApp(undefined), 'INVALID_ARGUMENT', /argument 1/)
    await expectShardError(alice.onWhatsApp('not a number'), 'INVALID_ARGUMENT', /"not a number" is not a phone number/)
    await expectShardError(alice.onWhatsApp('123-456@g.us'), 'INVALID_ARGUMENT', /not a phone number/)
    await expectShardError(alice.onWhatsApp(6281234), 'INVALID_ARGUMENT', /argument 1 must be a phone number string/)

    // Still connected and working.
    expect(manager.getShardInfo('alice').status).toBe('connected')
    expect(await alice.onWhatsApp(userOf(bobJid))).toEqual([expect.objectContaining({ jid: bobJid, exists: true })])
    const seen = presenceOf('bob', userJid(alice.user.id), 'composing')
    await alice.sendPresenceUpdate('composing', bobJid)
    await seen
  })

  test('a stopped shard answers NOT_CONNECTED to all four', async () => {
    const bob = manager.socket('bob')
    const aliceJid = userJid(manager.socket('alice').user.id)
    await manager.stopShard('bob')
    await expectShardError(bob.readMessages([{ remoteJid: aliceJid, id: '3EB0000000000000DEAD', fromMe: false }]), 'NOT_CONNECTED', /bob/)
    await expectShardError(bob.sendPresenceUpdate('available'), 'NOT_CONNECTED')
    await expectShardError(bob.sendPresenceUpdate('composing', aliceJid), 'NOT_CONNECTED')
    await expectShardError(bob.presenceSubscribe(aliceJid), 'NOT_CONNECTED')
    await expectShardError(bob.onWhatsApp(userOf(aliceJid)), 'NOT_CONNECTED')
    // Bad input is still named as such on a stopped shard.
    await expectShardError(bob.sendPresenceUpdate('typing', aliceJid), 'INVALID_ARGUMENT')
  })
})
