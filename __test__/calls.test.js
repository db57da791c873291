'use strict'
// Calls: the mock phone of one account rings a shard and real Baileys 6.7.21 clients. Each
// reports Baileys' `call` event with the same shape, for every way a call ends: declined with
// `rejectCall` (which reaches the mock as the same <reject> stanza), not answered in time
// (`timeout`), hung up by the caller, or answered on another device of the callee.
const { aliceAndBob, waitFor, userJid, openBaileysPeer, expectShardError, until } = require('./helpers')

let ctx
let peer // a Baileys client of its own account
let peerPhone
let bobWeb // a Baileys device of bob's account, beside our shard `bob`
const phoneOf = (jid) => userJid(jid).split('@')[0]

beforeAll(async () => {
  ctx = await aliceAndBob()
  ctx.manager.on('call', (e) => e.shardId === 'bob' && bobsCalls.push(...e.data))
  let me
  ;({ peer, me } = await openBaileysPeer(ctx.mock, 'callee'))
  peerPhone = phoneOf(me.id)
  ;({ peer: bobWeb } = await openBaileysPeer(ctx.mock, 'bob-web', { pairPhone: phoneOf(ctx.bobJid) }))
}, 120000)
afterAll(async () => {
  await bobWeb?.close()
  await peer?.close()
  await ctx?.close()
})

/** A `call` item as plain data, without what differs per call (its id and time). */
const shape = ({ id, date, ...rest }) => rest
/** Our `call` item as the Baileys peer reports it (JSON: the date as an ISO string). */
const asJson = (call) => JSON.parse(JSON.stringify(call))

/** Every `call` item of our shard `bob`, as they came. */
const bobsCalls = []
/** Bob's `call` items for call `id`. */
const ourCalls = (id) => bobsCalls.filter((c) => c.id === id)

/** The `call` items a Baileys peer reported for call `id` so far. */
const theirCalls = (who, id) => who.events.filter((e) => e.event === 'call').flatMap((e) => e.calls).filter((c) => c.id === id)


/** Polls the mock's log of call `id` until `check(log)` holds. */
async function callLogWhen(id, check) {
  let log
  for (let i = 0; i < 200; i++) {
    log = await ctx.mock.callLog(id)
    if (check(log)) return log
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`the mock's log of call ${id} never matched: ${JSON.stringify(log)}`)
}

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
  const [ourReject] = (await callLogWhen(id, (log) => log.answers.length > 0)).answers
  const [theirReject] = (await callLogWhen(theirCall.id, (log) => log.answers.length > 0)).answers
  expect(ourReject).toMatchObject({ action: 'reject', attrs: { 'call-id': id, 'call-creator': aliceJid, count: '0' } })
  expect(theirReject).toMatchObject({ action: 'reject', attrs: { 'call-creator': aliceJid, count: '0' } })
  expect(Object.keys(ourReject.attrs).sort()).toEqual(Object.keys(theirReject.attrs).sort())
  expect(peer.errors()).toEqual([])
})

test('a call nobody answers times out: offer then status \'timeout\', as on a Baileys device of the same account', async () => {
  const { mock, aliceJid, bobJid } = ctx
  // Both of bob's devices ring for the same call, so even its id and time must agree.
  const { id, devices } = await mock.ringCall(phoneOf(aliceJid), bobJid, { timeoutMs: 1500 })
  expect(devices).toBeGreaterThanOrEqual(2)
  await until('the timeout on both devices', () => ourCalls(id).length >= 2 && theirCalls(bobWeb, id).length >= 2)
  await new Promise((r) => setTimeout(r, 300)) // nothing more comes
  const mine = ourCalls(id)
  expect(mine.map((c) => c.status)).toEqual(['offer', 'timeout'])
  expect(mine.map(asJson)).toEqual(theirCalls(bobWeb, id))
  expect(mine[1]).toMatchObject({ id, from: aliceJid, chatId: aliceJid, status: 'timeout', isVideo: false, isGroup: false, offline: false })
  const log = await mock.callLog(id)
  expect(log.status).toBe('timeout')
  const ends = log.sent.filter((s) => s.action === 'terminate')
  expect(ends).toHaveLength(devices)
  expect(ends.every((s) => s.reason === 'timeout')).toBe(true)
  // Over: the caller can no longer hang it up.
  await expect(mock.endCall(id)).rejects.toThrow(/HTTP 409/)
})

test('the caller hangs up: offer then status \'terminate\', as on Baileys devices', async () => {
  const { mock, aliceJid, bobJid } = ctx
  const alicePhone = phoneOf(aliceJid)
  const { id } = await mock.ringCall(alicePhone, bobJid, { video: true, timeoutMs: 60000 })
  const other = await mock.ringCall(alicePhone, peerPhone, { video: true })
  await until('the offers', () => ourCalls(id).length >= 1 && theirCalls(bobWeb, id).length >= 1 && theirCalls(peer, other.id).length >= 1)
  await mock.endCall(id)
  await mock.endCall(other.id)
  await until('the hang-up everywhere', () => ourCalls(id).length >= 2 && theirCalls(bobWeb, id).length >= 2 && theirCalls(peer, other.id).length >= 2)
  await new Promise((r) => setTimeout(r, 300))
  const mine = ourCalls(id)
  expect(mine.map((c) => c.status)).toEqual(['offer', 'terminate'])
  expect(mine.map(asJson)).toEqual(theirCalls(bobWeb, id))
  // A Baileys client of another account sees the same, apart from the id and time.
  expect(mine.map(shape).map(asJson)).toEqual(theirCalls(peer, other.id).map(shape))
  expect(mine[1]).toMatchObject({ from: aliceJid, status: 'terminate', isVideo: true, isGroup: false })
  expect((await mock.callLog(id)).status).toBe('ended')
  await expect(mock.endCall('NO-SUCH-CALL')).rejects.toThrow(/HTTP 404/)
})

test('one device of the callee declines: its other devices stop ringing (terminate), as in Baileys', async () => {
  const { mock, bob, aliceJid, bobJid } = ctx
  const alicePhone = phoneOf(aliceJid)

  // Our shard declines; the Baileys device of the same account is told.
  const first = await mock.ringCall(alicePhone, bobJid)
  await until('the offer on both devices', () => ourCalls(first.id).length >= 1 && theirCalls(bobWeb, first.id).length >= 1)
  await bob.rejectCall(first.id, aliceJid)
  await until('Baileys\' terminate', () => theirCalls(bobWeb, first.id).length >= 2)
  const theirEnd = theirCalls(bobWeb, first.id)[1]
  expect(theirEnd).toMatchObject({ id: first.id, from: aliceJid, status: 'terminate', isVideo: false, isGroup: false })
  const firstLog = await mock.callLog(first.id)
  expect(firstLog.status).toBe('rejected')
  expect(firstLog.answers.map((a) => a.action)).toEqual(['reject'])
  expect(firstLog.sent.filter((s) => s.action === 'terminate')).toEqual([expect.objectContaining({ reason: 'rejected_elsewhere' })])

  // The Baileys device declines; our shard is told, in the same shape.
  const second = await mock.ringCall(alicePhone, bobJid)
  await until('the offer on both devices', () => ourCalls(second.id).length >= 1 && theirCalls(bobWeb, second.id).length >= 1)
  await bobWeb.call('rejectCall', second.id, aliceJid)
  await until('our terminate', () => ourCalls(second.id).length >= 2)
  expect(ourCalls(second.id).map((c) => c.status)).toEqual(['offer', 'terminate'])
  expect(shape(asJson(ourCalls(second.id)[1]))).toEqual(shape(theirEnd))
  // The device that declined is told nothing more, on either side.
  expect(ourCalls(first.id).map((c) => c.status)).toEqual(['offer'])
  expect(theirCalls(bobWeb, second.id).map((c) => c.status)).toEqual(['offer'])
  expect((await mock.callLog(second.id)).status).toBe('rejected')
  expect(bobWeb.errors()).toEqual([])
})

test('rejectCall with bad arguments rejects with INVALID_ARGUMENT; the shard stays connected', async () => {
  const { bob, aliceJid } = ctx
  await expectShardError(bob.rejectCall('', aliceJid), 'INVALID_ARGUMENT', /callId/)
  await expectShardError(bob.rejectCall('ABC', 'not a jid'), 'INVALID_ARGUMENT', /callFrom/)
  await expectShardError(bob.rejectCall(42, aliceJid), 'INVALID_ARGUMENT', /callId/)
  expect(ctx.manager.getShardInfo('bob').status).toBe('connected')
})

test('ringCall checks its arguments', async () => {
  await expect(ctx.mock.ringCall('1555', ctx.bobJid, { timeoutMs: -1 })).rejects.toThrow(TypeError)
  await expect(ctx.mock.ringCall('1555', '19999999999@s.whatsapp.net')).rejects.toThrow(/HTTP 404/)
})
