'use strict'
// A session folder moves from the real Baileys 6.7.21 to a shard and back, with no new QR,
// no new Signal session and no decryption failure on any side:
//   Baileys A pairs and talks to Baileys P → A's folder becomes shard `alice` → alice and P talk
//   both ways → the shard stops, the folder goes back to Baileys A → A and P talk again.
// The same for a group of A and P: its sender keys (Baileys' sender-key-*.json) are used by the
// shard and, after it, by Baileys again; P never has to hand out its sender key again. And a
// group made while on the shard: its keys, born in the engine, work in Baileys afterwards.
const fs = require('node:fs')
const path = require('node:path')
const { MockServer } = require('../testing')
const { BaileysChild } = require('./baileys-peer')
const { tmpDir, waitFor, userJid } = require('./helpers')

let mock
let peer
let baileysA
let manager
/** Every message the shard `alice` got (messages.upsert). */
const shardUpserts = []
const root = tmpDir('session-interop-')
const folderA = path.join(root, 'baileys-a')
const sessions = path.join(root, 'sessions')

afterAll(async () => {
  await baileysA?.close()
  await peer?.close()
  await manager?.close()
  await mock?.close()
  fs.rmSync(root, { recursive: true, force: true })
})

/** Base keys of the Signal sessions in `folder` with any device of `user` (Baileys' files). */
function sessionBaseKeys(folder, user) {
  const keys = new Set()
  for (const name of fs.readdirSync(folder)) {
    if (!name.startsWith(`session-${user}.`)) continue
    const record = JSON.parse(fs.readFileSync(path.join(folder, name), 'utf8'))
    for (const k of Object.keys(record._sessions)) keys.add(`${name}:${k}`)
  }
  return keys
}

/** Baileys' record of which devices got its sender key for `group` (`sender-key-memory-*.json`). */
function senderKeyMemory(folder, group) {
  const file = path.join(folder, `sender-key-memory-${group}.json`)
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null
}

/** Key ids of the sender key device `deviceJid` uses in `group`, as stored in `folder`. */
function senderKeyIds(folder, group, deviceJid) {
  const [user, device = '0'] = deviceJid.split('@')[0].split(':')
  const file = path.join(folder, `sender-key-${group}--${user}--${device}.json`)
  if (!fs.existsSync(file)) return null
  const states = JSON.parse(Buffer.from(JSON.parse(fs.readFileSync(file, 'utf8')).data, 'base64').toString('utf8'))
  return states.map((s) => s.senderKeyId)
}

let tags = 0
async function groupCall(child, method, ...args) {
  const tag = `t${++tags}`
  child.command({ cmd: 'group', method, args, tag })
  const ev = await child.waitFor(`${child.name} ${method}`, (e) => (e.event === 'group-result' || e.event === 'cmd-error') && e.tag === tag, 20000)
  expect(ev).toMatchObject({ event: 'group-result' })
  return ev.result
}

let n = 0
async function baileysSends(from, to, toJid) {
  const text = `from ${from.name} #${++n}`
  from.command({ cmd: 'send', to: toJid, text })
  const sent = await from.waitFor(`${from.name} to send`, (e) => (e.event === 'sent' || e.event === 'cmd-error') && !e.consumed, 20000)
  sent.consumed = true
  expect(sent).toMatchObject({ event: 'sent' })
  if (to instanceof BaileysChild) {
    const got = await to.waitFor(`${to.name} to receive ${sent.key.id}`, (e) => e.event === 'upsert' && e.key.id === sent.key.id, 20000)
    expect(got).toMatchObject({ text, stub: null })
  } else {
    // Collected from the start: the upsert may come before Baileys reports the send.
    for (let waited = 0; !shardUpserts.some((x) => x.key.id === sent.key.id) && waited < 20000; waited += 50) await new Promise((r) => setTimeout(r, 50))
    const m = shardUpserts.find((x) => x.key.id === sent.key.id)
    expect(m).toBeDefined()
    expect(m.messageStubType ?? null).toBeNull()
    expect(m.message?.conversation ?? m.message?.extendedTextMessage?.text).toBe(text)
    if (toJid.endsWith('@g.us')) expect(m.key.remoteJid).toBe(toJid)
  }
}

/** The shard sends `text` to `toJid`; Baileys `to` receives and decrypts it. */
async function shardSends(sock, to, toJid, text) {
  const sent = await sock.sendMessage(toJid, { text })
  const got = await to.waitFor(`${to.name} to receive ${sent.key.id} from the shard`, (e) => e.event === 'upsert' && e.key.id === sent.key.id, 20000)
  expect(got).toMatchObject({ text, stub: null })
  expect(got.key.remoteJid).toBe(toJid)
}

function expectNoProblems(...children) {
  for (const c of children) {
    expect(c.decryptionProblems()).toEqual([])
    expect(c.errors()).toEqual([])
    // A retry receipt or an undecryptable stub would show up as a CIPHERTEXT (1) upsert.
    expect(c.events.filter((e) => e.event === 'upsert' && e.stub === 1)).toEqual([])
    // libsignal-node itself prints to the console (stdout/stderr), not to Baileys' logger.
    const signalNoise = /Bad MAC|Failed to decrypt|Session error|MessageCounterError|Closing open session|Closing session/i
    expect(c.events.filter((e) => e.event === 'stdout' && signalNoise.test(e.line))).toEqual([])
    expect(c.stderr).not.toMatch(signalNoise)
    // A failed decryption is answered with a retry receipt, logged at debug/info level.
    expect(c.events.filter((e) => e.event === 'retry')).toEqual([])
  }
}

test('a folder paired by Baileys moves to a shard and back without a QR, a new session or a decryption failure', async () => {
  mock = await MockServer.start({ port: 0 })
  fs.mkdirSync(folderA)
  baileysA = new BaileysChild('baileys-a', mock, { authDir: folderA })
  peer = new BaileysChild('peer', mock)
  const meA = (await baileysA.waitFor('A to open', (e) => e.event === 'open', 30000)).me
  const meP = (await peer.waitFor('P to open', (e) => e.event === 'open', 30000)).me
  await baileysA.waitFor('A offline sync', (e) => e.event === 'pending-done', 15000)
  await peer.waitFor('P offline sync', (e) => e.event === 'pending-done', 15000)
  // Each one's phone opens a session with it (the app-state key share). Sending before that
  // makes Baileys build a second session with its own phone at the same time, and
  // libsignal-node closes one ("Closing session"): a race of the setup, not of the move.
  for (const c of [baileysA, peer]) {
    await c.waitFor(`${c.name} key share`, (e) => e.event === 'upsert' && e.message?.protocolMessage?.type === 'APP_STATE_SYNC_KEY_SHARE', 15000)
  }
  const jidA = userJid(meA.id)
  const jidP = userJid(meP.id)
  const userA = jidA.split('@')[0]
  const userP = jidP.split('@')[0]

  // 1. Baileys A and P talk; then A stops.
  await baileysSends(baileysA, peer, jidP)
  await baileysSends(peer, baileysA, jidA)
  await baileysSends(baileysA, peer, jidP)
  // A group of A and P: both send, so each holds the other's sender key.
  const peerJoined = peer.waitFor('P to see the group', (e) => e.event === 'groups.upsert', 20000)
  const gid = (await groupCall(baileysA, 'groupCreate', 'Interop', [jidP])).id
  expect(gid).toMatch(/@g\.us$/)
  await peerJoined
  await baileysSends(baileysA, peer, gid)
  await baileysSends(peer, baileysA, gid)
  await baileysSends(baileysA, peer, gid)
  await new Promise((r) => setTimeout(r, 1000))
  expectNoProblems(baileysA, peer)
  baileysA.command({ cmd: 'exit' })
  await baileysA.waitFor('A to exit', (e) => e.event === 'exit', 15000)
  await baileysA.close()
  const peerKeysOfA = sessionBaseKeys(peer.authDir, userA)
  const aKeysOfP = sessionBaseKeys(folderA, userP)
  expect(peerKeysOfA.size).toBeGreaterThan(0)
  expect(aKeysOfP.size).toBeGreaterThan(0)
  // P's memory says A's device has P's sender key: P will send A bare skmsg from now on.
  const peerMemory = senderKeyMemory(peer.authDir, gid)
  expect(peerMemory).toMatchObject({ [meA.id]: true })
  const pKeyIds = senderKeyIds(folderA, gid, meP.id)
  const aKeyIds = senderKeyIds(folderA, gid, meA.id)
  expect(pKeyIds?.length).toBeGreaterThan(0)
  expect(aKeyIds?.length).toBeGreaterThan(0)
  const aMemory = senderKeyMemory(folderA, gid)
  expect(aMemory).not.toBeNull()

  // 2. The folder becomes shard `alice`: no QR, the same account.
  fs.mkdirSync(sessions)
  fs.renameSync(folderA, path.join(sessions, 'alice'))
  const { ShardManager } = require('..')
  manager = new ShardManager({ session: sessions, socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })
  const qrs = []
  manager.on('login.update', (u) => u.type === 'qr' && qrs.push(u))
  manager.on('messages.upsert', (e) => e.shardId === 'alice' && shardUpserts.push(...e.data.messages))
  const shardErrors = []
  manager.on('shard.error', (e) => shardErrors.push(e))
  const connected = waitFor(manager, 'login.update', (u) => u.shardId === 'alice' && u.state === 'connected', 60000)
  const { sock } = await manager.createShard({ id: 'alice' })
  await connected
  expect(qrs).toEqual([])
  expect(userJid(sock.user.id)).toBe(jidA)
  expect((await manager.checkSessionStatus(path.join(sessions, 'alice'))).registered).toBe(true)

  // 3. alice and P talk both ways, on the sessions Baileys built.
  const text = 'from the shard'
  const sent = await sock.sendMessage(jidP, { text })
  const got = await peer.waitFor('P to receive from the shard', (e) => e.event === 'upsert' && e.key.id === sent.key.id, 20000)
  expect(got).toMatchObject({ text, stub: null })
  await baileysSends(peer, 'alice', jidA)
  const again = await sock.sendMessage(jidP, { text: 'and again' })
  await peer.waitFor('P to receive again', (e) => e.event === 'upsert' && e.key.id === again.key.id, 20000)
  await baileysSends(peer, 'alice', jidA)
  // The group: P's next message carries no sender key (its memory has A): the shard decrypts it
  // with the key it read from Baileys' sender-key file. Then the shard sends with A's own key.
  await baileysSends(peer, 'alice', gid)
  await shardSends(sock, peer, gid, 'group, from the shard')
  await baileysSends(peer, 'alice', gid)
  await shardSends(sock, peer, gid, 'group, from the shard again')
  // A group made while on the shard: its sender keys are born in the engine and must reach
  // Baileys' files (P's under P's device, which the engine files per user).
  const peerJoinedLater = peer.waitFor('P to see the later group', (e) => e.event === 'groups.upsert' && e.data.some((g) => g.subject === 'Later'), 20000)
  const gid2 = (await sock.groupCreate('Later', [jidP])).id
  await peerJoinedLater
  await shardSends(sock, peer, gid2, 'later group, from the shard')
  await baileysSends(peer, 'alice', gid2)
  await new Promise((r) => setTimeout(r, 1000))
  expectNoProblems(peer)
  expect(shardErrors).toEqual([])
  expect(shardUpserts.filter((m) => m.messageStubType != null && m.key.remoteJid === gid)).toEqual([])
  expect(senderKeyMemory(peer.authDir, gid)).toEqual(peerMemory) // P handed out no sender key again

  // 4. The shard stops; the folder goes back to Baileys A, as Baileys left it plus side files.
  await manager.stopShard('alice')
  const back = path.join(sessions, 'alice')
  const aKeysAfterShard = sessionBaseKeys(back, userP)
  expect(aKeysAfterShard).toEqual(aKeysOfP) // the shard built no new session with P
  expect(senderKeyIds(back, gid, meP.id)).toEqual(pKeyIds) // P's sender key as Baileys had it
  expect(senderKeyIds(back, gid, meA.id)).toEqual(aKeyIds) // A's own key went on, not replaced
  // Who has A's key: Baileys' memory was the shard's, and is written back with what it added.
  expect(senderKeyMemory(back, gid)).toMatchObject(aMemory)
  fs.renameSync(back, folderA)
  baileysA = new BaileysChild('baileys-a-again', mock, { authDir: folderA })
  await baileysA.waitFor('A to open again', (e) => e.event === 'open' || e.event === 'qr', 30000)
  expect(baileysA.events.filter((e) => e.event === 'qr')).toEqual([])
  await baileysA.waitFor('A offline sync', (e) => e.event === 'pending-done', 15000)

  // 5. A and P talk again.
  await baileysSends(baileysA, peer, jidP)
  await baileysSends(peer, baileysA, jidA)
  await baileysSends(baileysA, peer, jidP)
  // And in the group: A reads P's next skmsg with the key the shard wrote back, and sends on
  // its own chain where the shard left it (P would log a duplicate or a bad counter otherwise).
  await baileysSends(peer, baileysA, gid)
  await baileysSends(baileysA, peer, gid)
  await baileysSends(peer, baileysA, gid)
  const peerMemory2 = senderKeyMemory(peer.authDir, gid2)
  await baileysSends(peer, baileysA, gid2)
  await baileysSends(baileysA, peer, gid2)
  await new Promise((r) => setTimeout(r, 1000))
  expectNoProblems(baileysA, peer)
  expect(senderKeyMemory(peer.authDir, gid)).toEqual(peerMemory)
  expect(senderKeyMemory(peer.authDir, gid2)).toEqual(peerMemory2)
  expect(senderKeyIds(folderA, gid, meA.id)).toEqual(aKeyIds)
  expect(sessionBaseKeys(peer.authDir, userA)).toEqual(peerKeysOfA)
  expect(sessionBaseKeys(folderA, userP)).toEqual(aKeysOfP)
}, 180000)
