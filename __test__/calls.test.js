'use strict'
// Calls: the mock phone of one account rings a shard and a real Baileys 6.7.21 client. Both
// report Baileys' `call` event with the same shape, and both decline with `rejectCall`, which
// reaches the mock as the same <reject> stanza.
const { aliceAndBob, waitFor, userJid, openBaileysPeer, expectShardError } = require('./helpers')

let ctx
let peer
let peerPhone
const phoneOf = (jid) => userJid(jid).split('@')[0]

beforeAll(async () => {
  ctx = await aliceAndBob()
  let me
  ;({ peer, me } = await openBaileysPeer(ctx.mock, 'callee'))
  peerPhone = phoneOf(me.id)
})
afterAll(async () => {
  await peer?.close()
  await ctx?.close()
})

/** A `call` item as plain data, without what differs per call (its id and time). */
const shape = ({ id, date, ...rest }) => rest

test('an offer arrives as Baileys\' call event; rejectCall declines it as Baileys does', async () => {
  const { mock, manager, bob, aliceJid } = ctx
  const alicePhone = phoneOf(aliceJid)

  const offered = waitFor(manager, 'call', (e) => e.shardId === 'bob' && e.data.some((c) => c.status === 'offer'), 20000)
  const { id } = await mock.placeCall(alicePhone, phoneOf(bob.user.id), { video: true })
  const [ours] = (await offered).data
  expect(ours).toMatchObject({ id, from: aliceJid, status: 'offer', isVideo: true, isGroup: false, offline: false })
  expect(ours.date).toBeInstanceOf(Date)
  expect(Math.abs(ours.date.getTime() - Date.now())).toBeLessThan(60000)

  const theirCall = await mock.placeCall(alicePhone, peerPhone, { video: true })
  const seen = await peer.waitFor('the peer\'s call event', (e) => e.event === 'call' && e.calls.some((c) => c.id === theirCall.id), 20000)
  const theirs = seen.calls.find((c) => c.id === theirCall.id)
  expect(shape(ours)).toEqual(shape(theirs))

  await bob.rejectCall(ours.id, ours.from)
  await peer.call('rejectCall', theirs.id, theirs.from)
  const answers = async (callId) => {
    for (let i = 0; i < 100; i++) {
      const log = await mock.callLog(callId)
      if (log.answers.length) return log.answers
      await new Promise((r) => setTimeout(r, 100))
    }
    return []
  }
  const [ourReject] = await answers(id)
  const [theirReject] = await answers(theirCall.id)
  expect(ourReject).toMatchObject({ action: 'reject', attrs: { 'call-id': id, 'call-creator': aliceJid, count: '0' } })
  expect(theirReject).toMatchObject({ action: 'reject', attrs: { 'call-creator': aliceJid, count: '0' } })
  expect(Object.keys(ourReject.attrs).sort()).toEqual(Object.keys(theirReject.attrs).sort())
  expect(peer.errors()).toEqual([])
})

test('rejectCall with bad arguments rejects with INVALID_ARGUMENT; the shard stays connected', async () => {
  const { bob, aliceJid } = ctx
  await expectShardError(bob.rejectCall('', aliceJid), 'INVALID_ARGUMENT', /callId/)
  await expectShardError(bob.rejectCall('ABC', 'not a jid'), 'INVALID_ARGUMENT', /callFrom/)
  await expectShardError(bob.rejectCall(42, aliceJid), 'INVALID_ARGUMENT', /callId/)
  expect(ctx.manager.getShardInfo('bob').status).toBe('connected')
})
