'use strict'
// Bad app state from the server side, injected through the mock (`spoilAppState`): a mutation
// whose MAC does not match, a wrong patch MAC, a wrong snapshot (LTHash) MAC, an answer naming a
// collection that does not exist. Each is a `shard.error` APP_STATE_FAILED; the shard stays
// connected, still sends and receives, and once the fault is used up the change and later ones
// sync (the session is not damaged).

const { ShardManager } = require('..')
const { MockServer } = require('../testing')
const { tmpDir, waitFor, autoScan, exchange, userJid, until } = require('./helpers')

jest.setTimeout(180000)

const PHONE = '15550005555'
const BOB = '15550003001@s.whatsapp.net'
const GROUP = '120363000000000055@g.us'

let mock
let manager
let errors
let updates
let friend
let sock
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  await mock.seedAccount(PHONE, { pushName: 'Faulty Phone', contacts: [{ id: BOB, name: 'Bob Builder' }], chats: [{ id: BOB }, { id: GROUP }] })
  manager = new ShardManager({ session: tmpDir(), socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })
  errors = []
  updates = []
  manager.on('shard.error', (e) => errors.push(e))
  manager.on('chats.update', ({ shardId, data }) => {
    if (shardId === 'faulty') updates.push(...data)
  })
  const seeded = waitFor(manager, 'contacts.upsert', (e) => e.shardId === 'faulty' && e.data.some((c) => c.id === BOB), 60000)
  const pairing = waitFor(manager, 'login.update', (u) => u.shardId === 'faulty' && u.type === 'pairing', 30000)
  sock = (await manager.createShard({ id: 'faulty', phoneNumber: PHONE })).sock
  await mock.enterPairingCode(PHONE, (await pairing).code)
  await seeded
  // Another account (linked by QR) to exchange messages with.
  autoScan(manager, mock)
  const connected = waitFor(manager, 'login.update', (u) => u.shardId === 'friend' && u.state === 'connected', 60000)
  friend = (await manager.createShard({ id: 'friend' })).sock
  await connected
})
afterAll(async () => {
  await manager?.close()
  await mock?.close()
})


const archived = (value) => updates.some((u) => u.id === BOB && u.archived === value)
const muted = (until) => updates.some((u) => u.id === GROUP && u.muteEndTime === until)

test.each([
  ['mutationMac', /mismatching content MAC/, 1900000000001],
  ['patchMac', /patch MAC mismatch/, 1900000000002],
  ['snapshotMac', /ltHash diverged/, 1900000000003],
  ['unknownCollection', /did not sync \(to be synced again: regular_low\)/, 1900000000004],
])('a %s from the server is an APP_STATE_FAILED shard.error; the shard keeps working and syncs again', async (kind, why, muteEnd) => {
  errors.length = 0
  updates.length = 0
  const armed = await mock.spoilAppState({ kind, phone: PHONE })
  expect(armed.appState).toEqual([{ kind, remaining: 1, target: { phone: PHONE } }])

  await mock.phoneAction(PHONE, { jid: BOB, archive: true })
  await until('the shard.error', () => errors.length > 0)
  expect(errors[0].shardId).toBe('faulty')
  expect(errors[0].error.code).toBe('APP_STATE_FAILED')
  expect(errors[0].error.message).toMatch(why)
  expect((await mock.stats()).faults.appStateSpoiled).toBeGreaterThan(0)

  // The fault is used up: the change arrives (the engine syncs again, or applied the authentic
  // patch despite its wrong LTHash MAC), and so does a later one.
  await until('the archive', () => archived(true), 30000)
  const before = errors.length
  await mock.phoneAction(PHONE, [{ jid: BOB, archive: false }, { jid: GROUP, mute: muteEnd }])
  await until('the later changes', () => archived(false) && muted(muteEnd), 30000)

  // Still connected, still sending and receiving.
  expect(manager.getShardInfo('faulty').status).toBe('connected')
  const out = await exchange(manager, sock, 'friend', userJid(friend.user.id), { text: `after ${kind}` })
  expect(out.got.message.conversation ?? out.got.message.extendedTextMessage?.text).toBe(`after ${kind}`)
  const back = await exchange(manager, friend, 'faulty', `${PHONE}@s.whatsapp.net`, { text: `back after ${kind}` })
  expect(back.got.key.fromMe).toBe(false)
  expect(errors.slice(before)).toEqual([])
})

test('an app-state fault is aimed: another account is not hit, and clearFaults disarms it', async () => {
  errors.length = 0
  updates.length = 0
  await mock.spoilAppState({ kind: 'patchMac', phone: '15550009999', count: 3 })
  await mock.phoneAction(PHONE, { jid: BOB, archive: true })
  await until('the archive', () => archived(true))
  const faults = async () => (await fetch(`${mock.httpUrl}/admin/faults`)).json()
  expect((await faults()).appState).toEqual([{ kind: 'patchMac', remaining: 3, target: { phone: '15550009999' } }])
  await mock.clearFaults()
  expect((await faults()).appState).toEqual([])
  expect(errors).toEqual([])
})
