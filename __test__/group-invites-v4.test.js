'use strict'
// Group invite messages ("v4" invites): an admin cannot add someone whose privacy lets only
// chosen people add them, gets an add request (code + expiry) instead, and sends it as a
// groupInvite message; the invitee joins with groupAcceptInviteV4, or the admin withdraws it
// with groupRevokeInviteV4. A shard (bob) and a real Baileys 6.7.21 client (carol) are invited
// to the same group; Baileys is the oracle for what accepting gives.
const { aliceAndBob, waitFor, userJid, openBaileysPeer, expectShardError } = require('./helpers')

let ctx
let peer
let carolJid
let gid

beforeAll(async () => {
  ctx = await aliceAndBob()
  let me
  ;({ peer, me } = await openBaileysPeer(ctx.mock, 'carol-v4'))
  carolJid = userJid(me.id)
  // Both only let chosen people add them to groups.
  await ctx.bob.updateGroupsAddPrivacy('contacts')
  await peer.call('updateGroupsAddPrivacy', 'contacts')
  gid = (await ctx.alice.groupCreate('Invite only', [])).id
})
afterAll(async () => {
  await peer?.close()
  await ctx?.close()
})

/** The add request in one groupParticipantsUpdate result: `{ code, expiration }`. */
function addRequestOf(result) {
  const node = result.content?.content?.find((c) => c.tag === 'add_request')
  return node && { code: node.attrs.code, expiration: Number(node.attrs.expiration) }
}

test('adding someone who only lets chosen people add them gives a 403 with an add request', async () => {
  const results = await ctx.alice.groupParticipantsUpdate(gid, [ctx.bobJid, carolJid], 'add')
  expect(results.map((r) => [r.jid, r.status])).toEqual([[ctx.bobJid, '403'], [carolJid, '403']])
  for (const r of results) {
    const request = addRequestOf(r)
    expect(request.code).toMatch(/^\w{10,}$/)
    expect(request.expiration).toBeGreaterThan(Date.now() / 1000)
  }
})

test('groupRevokeInviteV4 withdraws an invitation: its code no longer lets anyone in', async () => {
  const [result] = await ctx.alice.groupParticipantsUpdate(gid, [ctx.bobJid], 'add')
  const { code, expiration } = addRequestOf(result)
  await expect(ctx.alice.groupRevokeInviteV4(gid, ctx.bobJid)).resolves.toBe(true)
  await expectShardError(ctx.bob.groupAcceptInviteV4(ctx.aliceJid, { groupJid: gid, inviteCode: code, inviteExpiration: expiration }), 'INVALID_ARGUMENT', /404/)
})

test('groupAcceptInviteV4 joins from the invite message; the invite expires and the join shows, as in Baileys', async () => {
  const { alice, bob, aliceJid, bobJid, manager } = ctx
  const [forBob, forCarol] = await alice.groupParticipantsUpdate(gid, [bobJid, carolJid], 'add')
  const bobRequest = addRequestOf(forBob)
  const carolRequest = addRequestOf(forCarol)

  // Alice sends bob the invitation as a message, as WhatsApp's apps do.
  const received = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'bob' && e.data.messages.some((m) => m.message?.groupInviteMessage), 20000)
  await alice.sendMessage(bobJid, { groupInvite: { inviteCode: bobRequest.code, inviteExpiration: bobRequest.expiration, text: 'join us', jid: gid, subject: 'Invite only' } })
  const invite = (await received).data.messages.find((m) => m.message?.groupInviteMessage)
  expect(invite.message.groupInviteMessage).toMatchObject({ groupJid: gid, inviteCode: bobRequest.code, caption: 'join us' })

  const joined = waitFor(manager, 'group-participants.update', (e) => e.shardId === 'alice' && e.data.action === 'add' && e.data.participants.includes(bobJid), 20000)
  const maps = []
  const stop = bob.ev.process((events) => maps.push(events))
  const ours = await bob.groupAcceptInviteV4(invite.key, invite.message.groupInviteMessage)
  stop()
  await joined
  expect(ours).toBe(gid)
  const map = maps.find((m) => m['messages.update'])
  expect(map['messages.update']).toEqual([{ key: invite.key, update: { message: { groupInviteMessage: expect.objectContaining({ groupJid: gid, inviteCode: '', inviteExpiration: 0 }) } } }])
  const [stub] = map['messages.upsert'].messages
  expect(stub).toMatchObject({ key: { remoteJid: gid, fromMe: false, participant: aliceJid }, messageStubType: 27, messageStubParameters: [bob.user.id], participant: aliceJid })

  // Baileys, given the same kind of invitation, resolves to the same.
  const theirs = await peer.call('groupAcceptInviteV4', aliceJid, { groupJid: gid, inviteCode: carolRequest.code, inviteExpiration: carolRequest.expiration })
  expect(theirs).toBe(ours)
  const members = (await alice.groupMetadata(gid)).participants.map((p) => p.id)
  expect(members).toEqual(expect.arrayContaining([aliceJid, bobJid, carolJid]))
})

test('bad arguments reject with INVALID_ARGUMENT; the shard stays connected', async () => {
  const { bob, aliceJid } = ctx
  await expectShardError(bob.groupAcceptInviteV4(null, { groupJid: gid, inviteCode: 'x' }), 'INVALID_ARGUMENT', /key/)
  await expectShardError(bob.groupAcceptInviteV4(aliceJid, { inviteCode: 'x' }), 'INVALID_ARGUMENT', /inviteMessage/)
  await expectShardError(bob.groupAcceptInviteV4(aliceJid, { groupJid: gid, inviteCode: '' }), 'INVALID_ARGUMENT', /inviteCode/)
  await expectShardError(bob.groupRevokeInviteV4(gid, 'not a jid'), 'INVALID_ARGUMENT', /groupRevokeInviteV4/)
  expect(ctx.manager.getShardInfo('bob').status).toBe('connected')
})
