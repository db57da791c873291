'use strict'
// Baileys' lower-level socket members, end to end against the mock with the real Baileys
// 6.7.21 as the other end and as the oracle: query / sendNode / sendRawMessage,
// relayMessage + waUploadToServer (with Baileys' own generateWAMessageFromContent and
// prepareWAMessageMedia), requestPairingCode, refreshMediaConn, processingMutex.
const crypto = require('node:crypto')
const { ShardManager } = require('..')
const { MockServer } = require('../testing')
const { waitFor, pairedManager, userJid, tmpDir, expectShardError, openBaileysPeer } = require('./helpers')

let mock
let manager
let peer
let peerMe
let baileys
const userOf = (jid) => jid.split(/[:@]/)[0]
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex')


beforeAll(async () => {
  baileys = await import('baileys')
  mock = await MockServer.start({ port: 0 })
  ;({ manager } = await pairedManager(mock, ['alice', 'bob']))
  ;({ peer, me: peerMe } = await openBaileysPeer(mock))
})
afterAll(async () => {
  await peer?.close()
  await manager?.close()
  await mock?.close()
})

describe('raw stanzas', () => {
  const privacyQuery = () => ({ tag: 'iq', attrs: { xmlns: 'privacy', to: 's.whatsapp.net', type: 'get' }, content: [{ tag: 'privacy', attrs: {} }] })

  test('query sends an iq and gives the reply as Baileys\' query gives it', async () => {
    const alice = manager.socket('alice')
    const ours = await alice.query(privacyQuery())
    peer.command({ cmd: 'query', node: privacyQuery() })
    const theirs = (await peer.waitFor('Baileys to query', (e) => e.event === 'query-result' || e.event === 'cmd-error', 20000)).reply
    expect(theirs).toBeDefined()
    const withoutId = ({ attrs: { id, ...attrs }, ...node }) => JSON.parse(JSON.stringify({ ...node, attrs }))
    expect(withoutId(ours)).toEqual(withoutId(theirs))
    expect(ours.tag).toBe('iq')
    expect(ours.attrs.type).toBe('result')
    expect(ours.content[0].tag).toBe('privacy')
    // The id is ours to choose, and generateMessageTag gives fresh ones.
    const tag = alice.generateMessageTag()
    expect(tag).not.toBe(alice.generateMessageTag())
    const reply = await alice.query({ ...privacyQuery(), attrs: { ...privacyQuery().attrs, id: tag } })
    expect(reply.attrs.id).toBe(tag)
  })

  test('sendNode and sendRawMessage put a stanza on the wire: a presence the other shard sees', async () => {
    const alice = manager.socket('alice')
    const bob = manager.socket('bob')
    const aliceJid = userJid(alice.user.id)
    const presence = (state) => waitFor(manager, 'presence.update', (e) => e.shardId === 'bob' && e.data.presences?.[aliceJid]?.lastKnownPresence === state, 20000)
    await alice.sendPresenceUpdate('unavailable')
    const first = presence('unavailable')
    await bob.presenceSubscribe(aliceJid)
    await first
    const online = presence('available')
    await alice.sendNode({ tag: 'presence', attrs: { type: 'available', name: 'alice' } })
    await online
    const offline = presence('unavailable')
    await alice.sendRawMessage(baileys.encodeBinaryNode({ tag: 'presence', attrs: { type: 'unavailable', name: 'alice' } }))
    await offline
  })

  test('malformed nodes are INVALID_ARGUMENT naming the part, and the shard stays connected', async () => {
    const alice = manager.socket('alice')
    await expectShardError(alice.query({ attrs: {} }), 'INVALID_ARGUMENT', /BinaryNode/)
    await expectShardError(alice.query({ tag: 'message', attrs: {} }), 'INVALID_ARGUMENT', /sendNode/)
    await expectShardError(alice.query({ tag: 'iq', attrs: { x: [] } }), 'INVALID_ARGUMENT', /node\.attrs\.x/)
    await expectShardError(alice.query(privacyQuery(), -5), 'INVALID_ARGUMENT', /timeoutMs/)
    await expectShardError(alice.sendNode({ tag: 'iq', attrs: {}, content: [{ tag: 7 }] }), 'INVALID_ARGUMENT', /node\.content\[0\]/)
    await expectShardError(alice.sendRawMessage(Buffer.from([2, 1, 2])), 'INVALID_ARGUMENT', /flags byte/)
    await expectShardError(alice.sendRawMessage('text'), 'INVALID_ARGUMENT', /Buffer/)
    expect(manager.getShardInfo('alice').status).toBe('connected')
  })
})

describe('relayMessage and waUploadToServer', () => {
  test('a text built by generateWAMessageFromContent reaches Baileys with its id and mention', async () => {
    const alice = manager.socket('alice')
    const to = userJid(peerMe.id)
    const msg = baileys.generateWAMessageFromContent(
      to,
      { extendedTextMessage: { text: 'hi @someone', contextInfo: { mentionedJid: [to] } } },
      { userJid: alice.user.id },
    )
    const got = peer.waitFor('Baileys to get the relayed text', (e) => e.event === 'upsert' && e.key.id === msg.key.id, 20000)
    const upserts = []
    const onUpsert = (e) => e.shardId === 'alice' && upserts.push(e)
    manager.on('messages.upsert', onUpsert)
    await expect(alice.relayMessage(to, msg.message, { messageId: msg.key.id })).resolves.toBe(msg.key.id)
    const received = await got
    expect(received.text).toBe('hi @someone')
    expect(received.message.extendedTextMessage.contextInfo.mentionedJid).toEqual([to])
    manager.off('messages.upsert', onUpsert)
    // As in Baileys, relayMessage emits nothing of its own.
    expect(upserts.filter((e) => e.data.messages.some((m) => m.key.id === msg.key.id))).toEqual([])
  })

  test('media prepared by Baileys\' prepareWAMessageMedia with sock.waUploadToServer downloads intact at Baileys', async () => {
    const alice = manager.socket('alice')
    const to = userJid(peerMe.id)
    const file = crypto.randomBytes(70000)
    const media = await baileys.prepareWAMessageMedia(
      { document: file, mimetype: 'application/octet-stream', fileName: 'blob.bin' },
      { upload: alice.waUploadToServer },
    )
    expect(media.documentMessage.directPath).toMatch(/^\//)
    const msg = baileys.generateWAMessageFromContent(to, { documentMessage: media.documentMessage }, { userJid: alice.user.id })
    const got = peer.waitFor('Baileys to get the document', (e) => e.event === 'upsert' && e.key.id === msg.key.id, 20000)
    await alice.relayMessage(to, msg.message, { messageId: msg.key.id })
    await got
    peer.command({ cmd: 'download', id: msg.key.id })
    const downloaded = await peer.waitFor('Baileys to download', (e) => e.event === 'downloaded' || e.event === 'cmd-error', 30000)
    expect(downloaded).toMatchObject({ event: 'downloaded', length: file.length, sha256: sha256(file) })
  })

  test('bad arguments reject with INVALID_ARGUMENT or NOT_SUPPORTED naming the problem', async () => {
    const alice = manager.socket('alice')
    const to = userJid(peerMe.id)
    await expectShardError(alice.relayMessage(42, { conversation: 'x' }), 'INVALID_ARGUMENT', /jid/)
    await expectShardError(alice.relayMessage(to, 'hello'), 'INVALID_ARGUMENT', /proto\.IMessage/)
    await expectShardError(alice.relayMessage(to, { extendedTextMessage: { text: 5 } }), 'INVALID_ARGUMENT', /extendedTextMessage\.text/)
    await expectShardError(alice.relayMessage(to, { conversation: 'x' }, { participant: { jid: to } }), 'NOT_SUPPORTED', /participant/)
    await expectShardError(alice.waUploadToServer(Buffer.alloc(10), { mediaType: 'gifs', fileEncSha256B64: 'x' }), 'INVALID_ARGUMENT', /fileEncSha256B64|mediaType/)
    await expectShardError(alice.waUploadToServer(Buffer.alloc(10), { mediaType: 'image', fileEncSha256B64: 'abc' }), 'INVALID_ARGUMENT', /32-byte/)
    await expectShardError(alice.waUploadToServer('/nonexistent/file.enc', { mediaType: 'image', fileEncSha256B64: 'abc' }), 'MEDIA_FAILED', /cannot read/)
    await expectShardError(alice.waUploadToServer(Buffer.alloc(1)), 'INVALID_ARGUMENT', /mediaType/)
    expect(manager.getShardInfo('alice').status).toBe('connected')
  })
})

describe('Signal sessions and devices', () => {
  test('getUSyncDevices lists a user\'s devices as Baileys does; assertSessions fetches a session only when there is none', async () => {
    const alice = manager.socket('alice')
    const bob = manager.socket('bob')
    const bobJid = userJid(bob.user.id)
    const ours = await alice.getUSyncDevices([bobJid], false, false)
    peer.command({ cmd: 'call', method: 'getUSyncDevices', args: [[bobJid], false, false], tag: 'devices' })
    const theirs = await peer.waitFor('Baileys getUSyncDevices', (e) => (e.event === 'call-result' && e.tag === 'devices') || e.event === 'cmd-error', 20000)
    expect(theirs.event).toBe('call-result')
    const sorted = (list) => [...list].sort((a, b) => a.device - b.device)
    expect(sorted(ours)).toEqual(sorted(theirs.result))
    expect(ours.some((d) => d.device === 0)).toBe(true)
    expect((await alice.getUSyncDevices([bobJid], false, true)).some((d) => d.device === 0)).toBe(false)
    // Once alice has written to bob the session exists; forced, it is fetched again, and
    // messages still get through.
    for (const text of ['before', 'after a fresh session']) {
      const got = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'bob' && e.data.type === 'notify' && e.data.messages[0].message?.extendedTextMessage?.text === text, 20000)
      await alice.sendMessage(bobJid, { text })
      await got
      if (text === 'before') {
        await expect(alice.assertSessions([bob.user.id], false)).resolves.toBe(false)
        await expect(alice.assertSessions([bob.user.id], true)).resolves.toBe(true)
      }
    }
    await expectShardError(alice.getUSyncDevices('x'), 'INVALID_ARGUMENT', /array/)
    await expectShardError(alice.assertSessions(['not a jid']), 'INVALID_ARGUMENT', /jids\[0\]/)
  })
})

describe('connection helpers', () => {
  test('refreshMediaConn gives the media hosts and token; waitForSocketOpen resolves on an open socket', async () => {
    const alice = manager.socket('alice')
    const info = await alice.refreshMediaConn(true)
    expect(info.hosts.length).toBeGreaterThan(0)
    expect(info.hosts[0].hostname).toEqual(expect.any(String))
    expect(info.auth).toEqual(expect.any(String))
    expect(info.fetchDate).toBeInstanceOf(Date)
    await expect(alice.waitForSocketOpen()).resolves.toBeUndefined()
  })

  test('processingMutex runs functions one at a time, in order', async () => {
    const { processingMutex } = manager.socket('alice')
    const order = []
    const job = (name, ms) => processingMutex.mutex(async () => {
      order.push(`${name} start`)
      await new Promise((r) => setTimeout(r, ms))
      order.push(`${name} end`)
      return name
    })
    const failing = processingMutex.mutex(async () => { throw new Error('boom') })
    await expect(Promise.all([job('a', 30), job('b', 1)])).resolves.toEqual(['a', 'b'])
    await expect(failing).rejects.toThrow('boom')
    expect(order).toEqual(['a start', 'a end', 'b start', 'b end'])
  })

  test('onUnexpectedError logs on sock.logger as Baileys does', async () => {
    const logged = []
    const logger = { child: () => logger, trace() {}, debug() {}, info() {}, warn() {}, fatal() {}, error: (obj, msg) => logged.push({ obj, msg }) }
    const m = new ShardManager({ session: tmpDir(), socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1], logger } })
    try {
      const { sock } = await m.createShard({ id: 'logs' })
      const err = new Error('bot bug')
      sock.onUnexpectedError(err, 'handler')
      expect(logged).toContainEqual({ obj: { err }, msg: "unexpected error in 'handler'" })
    } finally {
      await m.close()
    }
  })
})

describe('requestPairingCode', () => {
  test('a shard showing a QR is linked by a code asked for by the bot, as with Baileys', async () => {
    const phone = '15550002222'
    const m = new ShardManager({ session: tmpDir(), socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })
    try {
      const qr = waitFor(m, 'login.update', (u) => u.type === 'qr', 30000)
      const { sock } = await m.createShard({ id: 'by-code' })
      await qr
      const reported = waitFor(m, 'login.update', (u) => u.type === 'pairing', 20000)
      const connected = waitFor(m, 'login.update', (u) => u.state === 'connected', 60000)
      const code = await sock.requestPairingCode(phone)
      expect(code).toMatch(/^[1-9A-HJ-NP-TV-Z]{8}$/)
      expect((await reported).code).toBe(code)
      await mock.enterPairingCode(phone, code)
      await connected
      expect(userOf(sock.user.id)).toBe(phone)
      await expectShardError(sock.requestPairingCode(phone), 'PAIRING_FAILED', /paired already/)
      await expectShardError(sock.requestPairingCode('12'), 'INVALID_ARGUMENT', /digits/)
      await expectShardError(sock.requestPairingCode(phone, 'short'), 'INVALID_ARGUMENT', /8 letters/)
    } finally {
      await m.close()
    }
  })
})

describe('privacy', () => {
  const SETTERS = {
    updateLastSeenPrivacy: ['last', 'contacts'],
    updateOnlinePrivacy: ['online', 'match_last_seen'],
    updateProfilePicturePrivacy: ['profile', 'none'],
    updateStatusPrivacy: ['status', 'contact_blacklist'],
    updateReadReceiptsPrivacy: ['readreceipts', 'none'],
    updateGroupsAddPrivacy: ['groupadd', 'contacts'],
    updateCallPrivacy: ['calladd', 'known'],
    updateMessagesPrivacy: ['messages', 'contacts'],
  }

  test('each update*Privacy sets its category; fetchPrivacySettings reads them back, per account', async () => {
    const bob = manager.socket('bob')
    const before = await bob.fetchPrivacySettings()
    expect(Object.keys(before).sort()).toEqual(Object.values(SETTERS).map(([c]) => c).sort())
    for (const [setter, [category, value]] of Object.entries(SETTERS)) {
      expect(before[category]).toBe('all')
      await expect(bob[setter](value)).resolves.toBeUndefined()
    }
    const after = await bob.fetchPrivacySettings(true)
    for (const [category, value] of Object.values(SETTERS)) expect(after[category]).toBe(value)
    // alice's account is untouched.
    expect((await manager.socket('alice').fetchPrivacySettings()).last).toBe('all')
  })

  test('a value the category does not take is INVALID_ARGUMENT naming the ones it does', async () => {
    const bob = manager.socket('bob')
    await expectShardError(bob.updateOnlinePrivacy('contacts'), 'INVALID_ARGUMENT', /updateOnlinePrivacy: the value must be 'all' or 'match_last_seen'/)
    await expectShardError(bob.updateReadReceiptsPrivacy(true), 'INVALID_ARGUMENT', /must be a string/)
    await expectShardError(bob.updateDefaultDisappearingMode(-1), 'INVALID_ARGUMENT', /whole seconds/)
    await expectShardError(bob.updateDefaultDisappearingMode('1d'), 'INVALID_ARGUMENT', /number of seconds/)
    await expect(bob.updateDefaultDisappearingMode(86400)).resolves.toBeUndefined()
    expect(manager.getShardInfo('bob').status).toBe('connected')
  })

  test('getBusinessProfile gives a business account\'s profile as Baileys does, and undefined for others', async () => {
    const alice = manager.socket('alice')
    const bob = manager.socket('bob')
    const bobJid = userJid(bob.user.id)
    await mock.setBusinessProfile({
      phone: userOf(bob.user.id),
      description: 'We sell things',
      email: 'shop@example.com',
      website: 'https://shop.example.com',
      category: 'Shopping & Retail',
      address: '1 Main St',
      timezone: 'Europe/Berlin',
      hours: [{ day_of_week: 'mon', mode: 'specific_hours', open_time: 540, close_time: 1080 }, { day_of_week: 'sun', mode: 'appointment_only' }],
    })
    const ours = await alice.getBusinessProfile(bobJid)
    expect(ours).toMatchObject({ wid: bobJid, description: 'We sell things', website: ['https://shop.example.com'], category: 'Shopping & Retail' })
    peer.command({ cmd: 'call', method: 'getBusinessProfile', args: [bobJid], tag: 'biz' })
    const theirs = await peer.waitFor('Baileys getBusinessProfile', (e) => (e.event === 'call-result' && e.tag === 'biz') || e.event === 'cmd-error', 20000)
    expect(theirs.event).toBe('call-result')
    expect(JSON.parse(JSON.stringify(ours))).toEqual(theirs.result)
    await expect(bob.getBusinessProfile(userJid(alice.user.id))).resolves.toBeUndefined()
    await expectShardError(bob.getBusinessProfile('nope'), 'INVALID_ARGUMENT', /getBusinessProfile jid/)
  })

  test('removeProfilePicture removes our picture: profilePictureUrl has none afterwards', async () => {
    const alice = manager.socket('alice')
    const me = userJid(alice.user.id)
    await alice.updateProfilePicture(me, crypto.randomBytes(2000))
    expect(await alice.profilePictureUrl(me)).toEqual(expect.any(String))
    await alice.removeProfilePicture(me)
    expect(await alice.profilePictureUrl(me)).toBeUndefined()
    await expectShardError(alice.removeProfilePicture('not a jid'), 'INVALID_ARGUMENT', /removeProfilePicture jid/)
  })
})

describe('receipts', () => {
  test('sendReceipt and sendReceipts with type read reach the sender as status 4, like readMessages', async () => {
    const alice = manager.socket('alice')
    const bob = manager.socket('bob')
    for (const how of ['sendReceipt', 'sendReceipts']) {
      const got = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'bob' && e.data.type === 'notify' && e.data.messages.some((m) => !m.key.fromMe), 20000)
      const sent = await alice.sendMessage(userJid(bob.user.id), { text: `read me via ${how}` })
      const { key } = (await got).data.messages[0]
      expect(key.id).toBe(sent.key.id)
      const read = waitFor(manager, 'messages.update', (e) => e.shardId === 'alice' && e.data.some((u) => u.key.id === key.id && u.update.status === 4), 20000)
      if (how === 'sendReceipt') await bob.sendReceipt(key.remoteJid, undefined, [key.id], 'read')
      else await bob.sendReceipts([key, { ...key, fromMe: true, id: 'OWN' }], 'read')
      await read
    }
  })

  test('bad arguments are INVALID_ARGUMENT naming the argument', async () => {
    const bob = manager.socket('bob')
    await expectShardError(bob.sendReceipt('x@s.whatsapp.net', undefined, []), 'INVALID_ARGUMENT', /messageIds/)
    await expectShardError(bob.sendReceipt('x@s.whatsapp.net', undefined, 'ABC'), 'INVALID_ARGUMENT', /messageIds/)
    await expectShardError(bob.sendReceipt('not a jid', undefined, ['ABC']), 'INVALID_ARGUMENT', /sendReceipt jid/)
    await expectShardError(bob.sendReceipts({ id: 'x' }, 'read'), 'INVALID_ARGUMENT', /sendReceipts: keys must be an array/)
    await expectShardError(bob.sendReceipts([{ remoteJid: 'x@s.whatsapp.net', id: 'A' }], 5), 'INVALID_ARGUMENT', /type/)
    expect(manager.getShardInfo('bob').status).toBe('connected')
  })
})
