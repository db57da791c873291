'use strict'
// Profile and blocklist calls against the mock: pictures, about text, push name, blocklist.
const crypto = require('node:crypto')
const { MockServer } = require('../testing')
const { pairedManager, userJid, waitFor } = require('./helpers')

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

test('profile picture: none, then set by its owner and seen by another account; status and name are accepted', async () => {
  const alice = manager.socket('alice')
  const bob = manager.socket('bob')
  const aliceJid = userJid(alice.user.id)
  expect(await bob.profilePictureUrl(aliceJid)).toBeUndefined()
  // Baileys 6.7.21: a picture notification becomes contacts.update [{ id, imgUrl }].
  const changed = waitFor(bob.ev, 'contacts.update', (u) => u.some((c) => c.id === aliceJid))
  await alice.updateProfilePicture(aliceJid, crypto.randomBytes(2000))
  expect(await changed).toEqual([{ id: aliceJid, imgUrl: 'changed' }])
  const url = await bob.profilePictureUrl(aliceJid, 'image')
  expect(url).toMatch(/^https:\/\//)

  await alice.updateProfileStatus('busy building')
  await expect(alice.updateProfileName('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  await alice.updateProfileName('Alice A.')
  await expect(bob.profilePictureUrl('nope', 'preview')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  await expect(bob.profilePictureUrl(aliceJid, 'huge')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
})

test('block and unblock: fetchBlocklist follows; blocklist.update and blocklist.set are reported', async () => {
  const alice = manager.socket('alice')
  const bobJid = userJid(manager.socket('bob').user.id)
  const events = []
  const record = (name) => ({ data }) => events.push([name, data])
  const onSet = record('set')
  const onUpdate = record('update')
  manager.shard('alice').on('blocklist.set', onSet)
  manager.shard('alice').on('blocklist.update', onUpdate)
  try {
    expect(await alice.fetchBlocklist()).toEqual([])
    await alice.updateBlockStatus(bobJid, 'block')
    expect(await alice.fetchBlocklist()).toEqual([bobJid])
    await alice.updateBlockStatus(bobJid, 'unblock')
    expect(await alice.fetchBlocklist()).toEqual([])
    await expect(alice.updateBlockStatus(bobJid, 'mute')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  } finally {
    manager.shard('alice').off('blocklist.set', onSet)
    manager.shard('alice').off('blocklist.update', onUpdate)
  }
  expect(events).toEqual([
    ['set', { blocklist: [] }],
    ['update', { blocklist: [bobJid], type: 'add' }],
    ['set', { blocklist: [bobJid] }],
    ['update', { blocklist: [bobJid], type: 'remove' }],
    ['set', { blocklist: [] }],
  ])
})

test('fetchStatus: Baileys 6.7.21 list of { id, status: { status, setAt } }', async () => {
  const alice = manager.socket('alice')
  const bob = manager.socket('bob')
  const aliceJid = userJid(alice.user.id)
  const bobJid = userJid(bob.user.id)
  const before = Math.floor(Date.now() / 1000)
  await alice.updateProfileStatus('at the beach')
  const list = await bob.fetchStatus(aliceJid, bobJid)
  const byId = Object.fromEntries(list.map((e) => [e.id, e]))
  expect(Object.keys(byId).sort()).toEqual([aliceJid, bobJid].sort())
  expect(byId[aliceJid].status.status).toBe('at the beach')
  expect(byId[aliceJid].status.setAt).toBeInstanceOf(Date)
  expect(byId[aliceJid].status.setAt.getTime()).toBeGreaterThanOrEqual((before - 1) * 1000)
  // Bob never set one: Baileys gives null text (and the epoch as setAt).
  expect(byId[bobJid].status).toEqual({ status: null, setAt: new Date(0) })
  await expect(bob.fetchStatus('not a jid')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
})
