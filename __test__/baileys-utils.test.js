'use strict'
// The Baileys utilities exported by this package, run against Baileys 6.7.21's own on the same
// inputs; downloadContentFromMessage end to end against the mock; and Baileys' own utilities
// (for bots that keep `baileys` as a dependency) on our message objects.
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const ours = require('..')
const { MockServer } = require('../testing')
const { waitFor, pairedManager, userJid } = require('./helpers')

let baileys

beforeAll(async () => {
  baileys = await import('baileys')
})

const JIDS = [
  '15551234567@s.whatsapp.net', '15551234567:12@s.whatsapp.net', '15551234567_1:3@s.whatsapp.net', '15551234567@c.us',
  '123456789012345@lid', '123456789012345:4@lid', '120363000000000001@g.us', 'status@broadcast', '1234@broadcast',
  '120363000000000002@newsletter', '13135550002@c.us', '13135550002@bot', 's.whatsapp.net', '@s.whatsapp.net', '', 'a@b@c',
  undefined, null,
]

test('jid helpers give what Baileys gives for every kind of jid', () => {
  const fns = ['jidDecode', 'jidNormalizedUser', 'isJidUser', 'isLidUser', 'isJidBroadcast', 'isJidGroup', 'isJidNewsletter', 'isJidStatusBroadcast', 'isJidMetaIa', 'isJidBot']
  for (const fn of fns) {
    for (const jid of JIDS) expect([fn, jid, ours[fn](jid)]).toEqual([fn, jid, baileys[fn](jid)])
  }
  for (const a of JIDS) for (const b of JIDS.slice(0, 6)) expect(ours.areJidsSameUser(a, b)).toBe(baileys.areJidsSameUser(a, b))
  for (const args of [['1555', 's.whatsapp.net'], ['1555', 's.whatsapp.net', 3], ['1555', 'lid', 0, 1], [undefined, 'g.us']]) {
    expect(ours.jidEncode(...args)).toBe(baileys.jidEncode(...args))
  }
  expect([ours.S_WHATSAPP_NET, ours.STORIES_JID]).toEqual([baileys.S_WHATSAPP_NET, baileys.STORIES_JID])
})

const text = { extendedTextMessage: { text: 'hi' } }
const MESSAGES = [
  undefined,
  { conversation: 'hi' },
  text,
  { senderKeyDistributionMessage: { groupId: 'g' }, conversation: 'after the key' },
  { messageContextInfo: {}, imageMessage: { caption: 'pic' } },
  { ephemeralMessage: { message: { viewOnceMessage: { message: { imageMessage: { caption: 'once' } } } } } },
  { viewOnceMessageV2: { message: { videoMessage: { caption: 'v' } } } },
  { documentWithCaptionMessage: { message: { documentMessage: { caption: 'd' } } } },
  { editedMessage: { message: { protocolMessage: { type: 14, editedMessage: text } } } },
  { buttonsMessage: { contentText: 'choose', imageMessage: { caption: 'b' } } },
  { buttonsMessage: { contentText: 'choose' } },
  { templateMessage: { hydratedTemplate: { hydratedContentText: 'hydrated' } } },
  { templateMessage: { hydratedFourRowTemplate: { locationMessage: { degreesLatitude: 1 } } } },
  { templateMessage: { fourRowTemplate: {} } },
]

test('getAggregateVotesInPollMessage and getKeyAuthor give what Baileys gives', () => {
  const hash = (name) => crypto.createHash('sha256').update(name).digest()
  const key = (remoteJid, fromMe, participant) => ({ remoteJid, fromMe, id: 'V' + remoteJid, ...(participant ? { participant } : {}) })
  const polls = [
    { pollCreationMessage: { name: 'multi', options: [{ optionName: 'a' }, { optionName: 'b' }, { optionName: 'c' }] } },
    { pollCreationMessageV3: { name: 'single', options: [{ optionName: 'x' }, { optionName: '' }] } },
    { pollCreationMessageV2: { name: 'announce', options: [{ optionName: 'y' }] } },
    {},
  ]
  const updates = [
    { pollUpdateMessageKey: key('1@s.whatsapp.net', false), vote: { selectedOptions: [hash('a'), hash('c')] } },
    { pollUpdateMessageKey: key('g@g.us', false, '2@s.whatsapp.net'), vote: { selectedOptions: [hash('x'), hash('nope')] } },
    { pollUpdateMessageKey: key('1@s.whatsapp.net', true), vote: { selectedOptions: [hash('b'), hash('')] } },
    { pollUpdateMessageKey: key('3@s.whatsapp.net', false) },
    { vote: { selectedOptions: [hash('y')] } },
  ]
  for (const message of polls) {
    for (const meId of [undefined, '9@s.whatsapp.net']) {
      expect(ours.getAggregateVotesInPollMessage({ message, pollUpdates: updates }, meId)).toEqual(baileys.getAggregateVotesInPollMessage({ message, pollUpdates: updates }, meId))
    }
    expect(ours.getAggregateVotesInPollMessage({ message })).toEqual(baileys.getAggregateVotesInPollMessage({ message }))
  }
  // One deliberate difference: a hash given as a plain Uint8Array (not a Buffer) still counts;
  // Baileys compares hashes by Buffer#toString, so it files such a vote under 'Unknown'.
  const plain = { pollUpdateMessageKey: key('4@s.whatsapp.net', false), vote: { selectedOptions: [new Uint8Array(hash('b'))] } }
  expect(ours.getAggregateVotesInPollMessage({ message: polls[0], pollUpdates: [plain] })[1]).toEqual({ name: 'b', voters: ['4@s.whatsapp.net'] })
  for (const u of updates) expect(ours.getKeyAuthor(u.pollUpdateMessageKey, 'me@s.whatsapp.net')).toBe(baileys.getKeyAuthor(u.pollUpdateMessageKey, 'me@s.whatsapp.net'))
  expect(ours.getKeyAuthor(undefined)).toBe(baileys.getKeyAuthor(undefined))
})

test('getContentType, normalizeMessageContent and extractMessageContent give what Baileys gives', () => {
  for (const m of MESSAGES) {
    expect(ours.getContentType(m)).toEqual(baileys.getContentType(m))
    expect(ours.normalizeMessageContent(m)).toEqual(baileys.normalizeMessageContent(m))
    expect(ours.extractMessageContent(m)).toEqual(baileys.extractMessageContent(m))
  }
  for (const id of ['3A0123456789ABCDEF01', '3EB0123456789ABCDEF012', 'A'.repeat(21), 'B'.repeat(32), '3F0000', 'C'.repeat(18), 'short']) {
    expect(ours.getDevice(id)).toBe(baileys.getDevice(id))
  }
  expect(ours.generateMessageID()).toMatch(/^3EB0[0-9A-F]{36}$/)
  expect(ours.generateMessageIDV2('1555@s.whatsapp.net')).toMatch(/^3EB0[0-9A-F]{18}$/)
})

test('generateWAMessageFromContent builds what Baileys builds (replies, groups, disappearing)', () => {
  const quoted = { key: { remoteJid: '15550000002@s.whatsapp.net', fromMe: false, id: 'QUOTED' }, message: { extendedTextMessage: { text: 'orig', contextInfo: { stanzaId: 'older' } } } }
  const cases = [
    ['15550000002@s.whatsapp.net', { conversation: 'plain' }, {}],
    ['15550000002@s.whatsapp.net', { extendedTextMessage: { text: 'reply' } }, { quoted }],
    ['120363000000000001@g.us', { extendedTextMessage: { text: 'to the group' } }, { quoted }],
    ['15550000002@s.whatsapp.net', { extendedTextMessage: { text: 'vanishing' } }, { ephemeralExpiration: 86400 }],
  ]
  const encode = (m) => Buffer.from(baileys.proto.WebMessageInfo.encode(baileys.proto.WebMessageInfo.fromObject(m)).finish()).toString('hex')
  for (const [jid, content, extra] of cases) {
    const options = { userJid: '15550000001:3@s.whatsapp.net', messageId: 'FIXEDID', timestamp: new Date(1700000000000), ...extra }
    const mine = ours.generateWAMessageFromContent(jid, structuredClone(content), { ...options })
    const theirs = baileys.generateWAMessageFromContent(jid, structuredClone(content), { ...options })
    expect(encode(mine)).toBe(encode(theirs))
    expect(mine.key).toEqual({ remoteJid: jid, fromMe: true, id: 'FIXEDID' })
  }
})

test('delay, Browsers, DisconnectReason and the version are Baileys\', and the auth helpers are harmless', async () => {
  const started = Date.now()
  await ours.delay(30)
  expect(Date.now() - started).toBeGreaterThanOrEqual(25)
  for (const name of ['ubuntu', 'macOS', 'baileys', 'windows', 'appropriate']) expect(ours.Browsers[name]('Chrome')).toEqual(baileys.Browsers[name]('Chrome'))
  for (const [name, code] of Object.entries(baileys.DisconnectReason).filter(([k]) => Number.isNaN(Number(k)))) expect(ours.DisconnectReason[name]).toBe(code)
  const builtIn = JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve('baileys/package.json')), 'lib', 'Defaults', 'baileys-version.json'), 'utf8'))
  await expect(ours.fetchLatestBaileysVersion()).resolves.toEqual({ version: builtIn.version, isLatest: false })
  const { state, saveCreds } = await ours.useMultiFileAuthState('./never-created')
  expect(fs.existsSync('./never-created')).toBe(false)
  await saveCreds()
  expect(ours.makeCacheableSignalKeyStore(state.keys, console)).toBe(state.keys)
  expect(ours.BufferJSON.reviver('', JSON.parse(JSON.stringify(Buffer.from('hi'), baileys.BufferJSON.replacer)))).toEqual(Buffer.from('hi'))
})

describe('on messages from the mock', () => {
  let mock
  let manager

  beforeAll(async () => {
    mock = await MockServer.start({ port: 0 })
    ;({ manager } = await pairedManager(mock, ['alice', 'bob']))
  })
  afterAll(async () => {
    await manager?.close()
    await mock?.close()
  })

  test('downloadContentFromMessage streams the media of a received message; Baileys\' own helpers read our messages', async () => {
    const alice = manager.socket('alice')
    const bob = manager.socket('bob')
    const image = crypto.randomBytes(30000)
    const got = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'bob' && e.data.type === 'notify' && e.data.messages.some((m) => !m.key.fromMe), 20000)
    await alice.sendMessage(userJid(bob.user.id), { image, caption: 'pic' })
    const [msg] = (await got).data.messages
    const mediaHost = new URL(mock.url).host
    const stream = await ours.downloadContentFromMessage(msg.message.imageMessage, 'image', { mediaHost })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(Buffer.concat(chunks)).toEqual(image)
    await expect(ours.downloadContentFromMessage(msg.message.imageMessage, 'photo')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })

    // A bot that keeps Baileys' helpers: they understand our objects.
    expect(baileys.getContentType(msg.message)).toBe(ours.getContentType(msg.message))
    expect(baileys.extractMessageContent(msg.message).imageMessage.caption).toBe('pic')
    expect(baileys.jidNormalizedUser(msg.key.remoteJid)).toBe(userJid(alice.user.id))
    const roundTrip = baileys.proto.WebMessageInfo.decode(baileys.proto.WebMessageInfo.encode(baileys.proto.WebMessageInfo.fromObject(msg)).finish())
    expect(roundTrip.message.imageMessage.caption).toBe('pic')
    expect(Buffer.from(roundTrip.message.imageMessage.mediaKey)).toEqual(msg.message.imageMessage.mediaKey)
  })
})
