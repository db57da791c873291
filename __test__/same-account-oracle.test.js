'use strict'
// Our shard and a real Baileys 6.7.21 device of the same account, side by side on one mock:
// a message its sender deletes for everyone reaches both as the same `messages.update`, and
// both say `connection.update { receivedPendingNotifications: true }` once the server has
// delivered what was waiting for them.
const { aliceAndBob, waitFor, userJid, openBaileysPeer, tmpDir, until } = require('./helpers')
const { ShardManager } = require('..')

let ctx
let bobWeb // a Baileys device of bob's account, beside our shard `bob`
const phoneOf = (jid) => userJid(jid).split('@')[0]

beforeAll(async () => {
  ctx = await aliceAndBob()
  ;({ peer: bobWeb } = await openBaileysPeer(ctx.mock, 'bob-web', { pairPhone: phoneOf(ctx.bobJid) }))
}, 120000)
afterAll(async () => {
  await bobWeb?.close()
  await ctx?.close()
})


/** Our events as the Baileys peer reports them: plain JSON. */
const asJson = (value) => JSON.parse(JSON.stringify(value))

test('a message deleted for everyone by its sender: the same messages.update on our shard and on Baileys', async () => {
  const { manager, alice, bobJid } = ctx
  const got = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'bob' && e.data.messages.some((m) => m.message?.conversation === 'soon gone' || m.message?.extendedTextMessage?.text === 'soon gone'), 20000)
  const sent = await alice.sendMessage(bobJid, { text: 'soon gone' })
  await got
  await bobWeb.waitFor('Baileys\' copy', (e) => e.event === 'upsert' && e.key.id === sent.key.id, 20000)

  const isRevoke = (u) => u.key.id === sent.key.id && u.update?.messageStubType === 1
  const ours = waitFor(manager, 'messages.update', (e) => e.shardId === 'bob' && e.data.some(isRevoke), 20000)
  const revoke = await alice.sendMessage(bobJid, { delete: sent.key })
  const ourUpdate = (await ours).data.find(isRevoke)
  const theirs = await bobWeb.waitFor('Baileys\' revoke', (e) => e.event === 'update' && isRevoke(e), 20000)

  expect(asJson(ourUpdate)).toEqual({ key: theirs.key, update: theirs.update })
  expect(ourUpdate.update).toMatchObject({ message: null, messageStubType: 1, key: { id: revoke.key.id, fromMe: false } })
  expect(ourUpdate.key).toMatchObject({ id: sent.key.id, remoteJid: ctx.aliceJid, fromMe: false })
  expect(bobWeb.errors()).toEqual([])
})

/** `connection.update`s from the last `open` on. */
function fromOpen(updates) {
  const open = updates.findLastIndex((u) => u.connection === 'open')
  return open < 0 ? [] : updates.slice(open)
}

test('a new device says receivedPendingNotifications after open, as Baileys does', async () => {
  const { mock, bobJid } = ctx
  const phone = phoneOf(bobJid)
  // Linked as Baileys was: by a pairing code for bob's number, on a manager of its own (the
  // shared one scans every QR).
  const manager = new ShardManager({ session: tmpDir(), socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1], markOnlineOnConnect: false } })
  const updates = []
  try {
    const pairing = waitFor(manager, 'login.update', (u) => u.shardId === 'bob-2' && u.type === 'pairing', 30000)
    const { sock } = await manager.createShard({ id: 'bob-2', phoneNumber: phone })
    sock.ev.on('connection.update', (u) => updates.push(u))
    await mock.enterPairingCode(phone, (await pairing).code)
    await until('our receivedPendingNotifications', () => fromOpen(updates).some((u) => u.receivedPendingNotifications), 60000).catch((e) => {
      throw new Error(`${e.message}; we had ${JSON.stringify(updates)}`)
    })
    await new Promise((r) => setTimeout(r, 500)) // nothing more comes
  } finally {
    await manager.close()
  }

  // Baileys emits `open` when its `passive active` query is answered and
  // receivedPendingNotifications when the `<ib><offline/>` right behind that answer is read, so
  // its order of the two varies; ours always says it after `open` (a bot waiting for `open`
  // first then for the offline queue never misses it).
  const theirs = bobWeb.events.filter((e) => e.event === 'connection.update').map((e) => e.data)
  expect(theirs[0]).toEqual({ connection: 'connecting', receivedPendingNotifications: false })
  const lastConnect = (updates) => updates.slice(updates.findLastIndex((u) => u.connection === 'connecting'))
  const keyMoments = (updates) => updates.filter((u) => u.connection === 'open' || u.receivedPendingNotifications === true)
  expect(keyMoments(lastConnect(theirs))).toHaveLength(2)
  expect(keyMoments(lastConnect(theirs))).toEqual(expect.arrayContaining([{ connection: 'open' }, { receivedPendingNotifications: true }]))
  expect(asJson(keyMoments(updates))).toEqual([{ connection: 'open' }, { receivedPendingNotifications: true }])
  expect(fromOpen(updates)[0]).toEqual({ connection: 'open' })
})

test('after a reconnect, receivedPendingNotifications comes once, after open, and what waited offline is delivered', async () => {
  const { manager, alice, bob, bobJid } = ctx
  await manager.stopShard('bob')
  const waiting = await alice.sendMessage(bobJid, { text: 'sent while bob was away' })
  const order = []
  const onUpdate = (u) => {
    if (u.connection === 'open') order.push('open')
    if (u.receivedPendingNotifications !== undefined) order.push(`pending:${u.receivedPendingNotifications}`)
  }
  const onUpsert = ({ messages }) => messages.some((m) => m.key.id === waiting.key.id) && order.push('message')
  bob.ev.on('connection.update', onUpdate)
  bob.ev.on('messages.upsert', onUpsert)
  try {
    await manager.connect('bob')
    await until('the offline message and the end of offline notifications', () => order.includes('message') && order.includes('pending:true'), 30000)
    await new Promise((r) => setTimeout(r, 300)) // nothing more comes
    // Once, after `open`. (The queued message itself can be reported on either side of it: the
    // engine may decrypt the queue before it reports `open`, and sock.ev may hold a
    // messages.upsert in its event buffer while connection.update goes out at once.)
    const seen = JSON.stringify(order)
    expect([seen, order[0]]).toEqual([seen, 'pending:false'])
    expect([seen, order.filter((o) => o === 'pending:true').length]).toEqual([seen, 1])
    expect([seen, order.indexOf('open') < order.indexOf('pending:true')]).toEqual([seen, true])
  } finally {
    bob.ev.off('connection.update', onUpdate)
    bob.ev.off('messages.upsert', onUpsert)
  }
})
