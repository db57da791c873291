'use strict'
// Communities end to end: two shards (alice, bob) and a real Baileys 6.7.21 socket (carol) on
// the mock server. Alice creates a community (the server adds its announcements group and a
// general chat), adds carol, bob joins by invite code and then by approval, members post in the
// announcements group, and every community* member is exercised through the public API.
// Baileys is the oracle: its communityCreate on the same server, its groupMetadata of the same
// community, and its own extractCommunityMetadata over the node the server sends.
const { waitFor, expectShardError, shardsAndBaileys, shardEvent, peerEvent } = require('./helpers')

let ctx
let manager
let peer
let alice
let bob
let aliceJid
let bobJid
let carolJid
let cid // the community
let announcementsJid
/** As a value looks after crossing a JSON boundary (Baileys' `undefined` keys dropped). */
const plain = (v) => JSON.parse(JSON.stringify(v))

beforeAll(async () => {
  ctx = await shardsAndBaileys('carol-communities')
  ;({ manager, peer, alice, bob, aliceJid, bobJid } = ctx)
  carolJid = ctx.peerJid
})
afterAll(() => ctx?.close())

const atShard = (shardId, name, pred, ms) => shardEvent(manager, shardId, name, pred, ms)
const atPeer = (name, pred, ms) => peerEvent(peer, name, pred, ms)

/** What Baileys 6.7.21's own `extractCommunityMetadata` builds from the node the server sends for `jid`. */
async function baileysCommunityMetadata(sock, jid) {
  // Baileys' index first: its modules import each other in that order.
  await import('baileys')
  const { extractCommunityMetadata } = await import('baileys/lib/Socket/communities.js')
  const reply = await sock.query({ tag: 'iq', attrs: { type: 'get', xmlns: 'w:g2', to: jid }, content: [{ tag: 'query', attrs: { request: 'interactive' } }] })
  // Baileys looks for a `<community>` child; the server answers with `<group>`, as for any group.
  const content = reply.content.map((c) => (c.tag === 'group' ? { ...c, tag: 'community' } : c))
  return extractCommunityMetadata({ ...reply, content })
}

const members = (meta) => meta.participants.map((p) => p.id).sort()

test('communityCreate: a community with its announcements group and general chat, as Baileys creates one', async () => {
  const upserts = []
  const collect = ({ shardId, data }) => shardId === 'alice' && upserts.push(...data)
  manager.on('groups.upsert', collect)
  const meta = await alice.communityCreate('Neighbours', 'street party on Sunday')
  cid = meta.id
  expect(cid).toMatch(/^\d+@g\.us$/)
  expect(meta).toMatchObject({
    subject: 'Neighbours', desc: 'street party on Sunday', owner: aliceJid, isCommunity: true, isCommunityAnnounce: false,
    joinApprovalMode: true, size: 1,
  })
  expect(meta.linkedParent).toBeUndefined()
  expect(meta.participants).toEqual([{ id: aliceJid, jid: aliceJid, admin: 'superadmin' }])

  // The server made two groups linked to it; alice hears of all three.
  const all = await (async () => {
    const end = Date.now() + 20000
    while (upserts.filter((g) => g.id === cid || g.linkedParent === cid).length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 100))
    return upserts
  })()
  manager.off('groups.upsert', collect)
  const linked = all.filter((g) => g.linkedParent === cid)
  expect(linked.map((g) => [g.subject, g.isCommunityAnnounce, g.announce]).sort()).toEqual([['General', false, false], ['Neighbours', true, true]])
  announcementsJid = linked.find((g) => g.isCommunityAnnounce).id

  // Baileys' communityCreate on the same server gives the same shape (ids, times and owner aside).
  const theirs = await peer.call('communityCreate', 'Neighbours', 'street party on Sunday')
  const neutral = (m) => ({ ...plain(m), id: 'X', creation: 0, subjectTime: 0, owner: 'O', subjectOwner: 'O', descId: 'D', descOwner: 'O', descTime: 0, participants: m.participants.length })
  expect(neutral(meta)).toEqual(neutral(theirs))
  expect(Object.keys(meta)).toEqual(Object.keys(theirs))
})

test('communityMetadata is what Baileys’ extractCommunityMetadata builds from the server’s node', async () => {
  const ours = await alice.communityMetadata(cid)
  const theirs = plain(await baileysCommunityMetadata(alice, cid))
  // Baileys reads addressingMode from a child the server never sends; ours keeps the attribute.
  expect(theirs.addressingMode).toBeUndefined()
  const { addressingMode, ...rest } = ours
  expect(addressingMode).toBe('pn')
  expect(plain(rest)).toEqual(theirs)
  expect(Object.keys(rest)).toEqual(Object.keys(theirs).filter((k) => k in rest))
  expect(ours).toMatchObject({ isCommunity: true, desc: 'street party on Sunday', participants: [{ id: aliceJid, admin: 'superadmin' }] })
})

test('communityParticipantsUpdate adds carol to the community and its announcements group; she hears of both', async () => {
  const heard = atPeer('group-participants.update', (d) => d.id === announcementsJid && d.action === 'add')
  const result = await alice.communityParticipantsUpdate(cid, [carolJid], 'add')
  expect(result.map((r) => [r.jid, r.status])).toEqual([[carolJid, '200']])
  await heard
  expect(members(await alice.groupMetadata(announcementsJid))).toEqual([aliceJid, carolJid].sort())
  // Baileys (a member now) reads the same community as we do.
  expect(plain(await alice.groupMetadata(cid))).toEqual(await peer.call('groupMetadata', cid))
})

test('communityInviteCode / communityGetInviteInfo / communityAcceptInvite: bob joins (after approval)', async () => {
  const code = await alice.communityInviteCode(cid)
  expect(code).toMatch(/^\w{20,}$/)
  const info = await bob.communityGetInviteInfo(code)
  expect(info).toMatchObject({ id: cid, subject: 'Neighbours', isCommunity: true, joinApprovalMode: true })
  expect(info.participants.map((p) => p.id).sort()).toEqual([aliceJid, carolJid].sort())

  // Joining a closed community waits for an admin.
  await expect(bob.communityAcceptInvite(code)).resolves.toBeUndefined()
  const requests = await alice.communityRequestParticipantsList(cid)
  expect(requests.map((r) => r.jid)).toEqual([bobJid])
  expect(requests[0]).toMatchObject({ request_method: 'invite_link' })
  const joined = atShard('bob', 'group-participants.update', (d) => d.id === announcementsJid && d.action === 'add')
  await expect(alice.communityRequestParticipantsUpdate(cid, [bobJid], 'approve')).resolves.toEqual([{ status: '200', jid: bobJid }])
  await joined
  expect(members(await alice.communityMetadata(cid))).toEqual([aliceJid, bobJid, carolJid].sort())
  expect(members(await alice.groupMetadata(announcementsJid))).toEqual([aliceJid, bobJid, carolJid].sort())
})

test('an admin’s post in the announcements group reaches every community member', async () => {
  const atBob = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'bob' && e.data.messages.some((m) => m.key.remoteJid === announcementsJid), 20000)
  const sent = await alice.sendMessage(announcementsJid, { text: 'bins go out on Monday' })
  const got = (await atBob).data.messages.find((m) => m.key.id === sent.key.id)
  expect(got.message.extendedTextMessage?.text ?? got.message.conversation).toBe('bins go out on Monday')
  await peer.waitFor('carol to get the announcement', (e) => e.event === 'upsert' && e.key.id === sent.key.id, 20000)
})

test('subject, description, settings, ephemeral, member-add and join-approval modes reach Baileys as group updates', async () => {
  let update = atPeer('groups.update', (d) => d.some((u) => u.id === cid && u.subject === 'Neighbours of Elm St'))
  await alice.communityUpdateSubject(cid, 'Neighbours of Elm St')
  await update
  update = atPeer('groups.update', (d) => d.some((u) => u.id === cid && u.desc === 'a quieter party'))
  await alice.communityUpdateDescription(cid, 'a quieter party')
  await update
  update = atPeer('groups.update', (d) => d.some((u) => u.id === cid && u.restrict === true))
  await alice.communitySettingUpdate(cid, 'locked')
  await update
  // Baileys reports a timer as a message (protocolMessage EPHEMERAL_SETTING), not as groups.update.
  const timer = peer.waitFor('Baileys to see the timer', (e) => e.event === 'upsert' && e.key.remoteJid === cid && e.message?.protocolMessage?.ephemeralExpiration === 86400, 20000)
  await alice.communityToggleEphemeral(cid, 86400)
  await timer
  update = atPeer('groups.update', (d) => d.some((u) => u.id === cid && u.memberAddMode === true))
  await alice.communityMemberAddMode(cid, 'all_member_add')
  await update
  update = atPeer('groups.update', (d) => d.some((u) => u.id === cid && u.joinApprovalMode === false))
  await alice.communityJoinApprovalMode(cid, 'off')
  await update

  const meta = await bob.communityMetadata(cid)
  expect(meta).toMatchObject({
    subject: 'Neighbours of Elm St', desc: 'a quieter party', restrict: true, ephemeralDuration: 86400, memberAddMode: true,
    joinApprovalMode: false,
  })
  expect(plain(meta)).toEqual({ ...plain(await baileysCommunityMetadata(bob, cid)), addressingMode: 'pn' })
})

test('communityFetchAllParticipating lists the communities (not their groups) and emits groups.update', async () => {
  const emitted = atShard('alice', 'groups.update', (d) => d.some((g) => g.id === cid))
  const all = await alice.communityFetchAllParticipating()
  expect(Object.keys(all)).toEqual([cid])
  expect(all[cid]).toEqual(await alice.communityMetadata(cid))
  expect((await emitted).find((g) => g.id === cid)).toEqual(all[cid])
  // Plain groups are not communities; ordinary group listing still lists the community's groups.
  expect(Object.keys(await alice.groupFetchAllParticipating())).toEqual(expect.arrayContaining([cid, announcementsJid]))
})

test('communityRevokeInvite replaces the code; the old one is gone', async () => {
  const old = await alice.communityInviteCode(cid)
  const fresh = await alice.communityRevokeInvite(cid)
  expect(fresh).not.toBe(old)
  await expectShardError(bob.communityGetInviteInfo(old), 'INVALID_ARGUMENT', /^communityGetInviteInfo failed.*410/)
  expect((await bob.communityGetInviteInfo(fresh)).id).toBe(cid)
})

test('communityLeave: bob leaves the community and every group of it', async () => {
  const left = atShard('alice', 'group-participants.update', (d) => d.id === announcementsJid && d.action === 'remove' && d.participants.some((p) => (p.id ?? p) === bobJid))
  await bob.communityLeave(cid)
  await left
  expect(members(await alice.communityMetadata(cid))).toEqual([aliceJid, carolJid].sort())
  expect(members(await alice.groupMetadata(announcementsJid))).toEqual([aliceJid, carolJid].sort())
  await expectShardError(bob.communityMetadata(cid), 'INVALID_ARGUMENT', /401/)
})

test('invitation messages: communityRevokeInviteV4 / communityAcceptInviteV4 without an invitation are refused by the server (bob has left)', async () => {
  await expect(alice.communityRevokeInviteV4(cid, bobJid)).resolves.toBe(true)
  await expectShardError(
    bob.communityAcceptInviteV4(aliceJid, { groupJid: cid, inviteCode: 'NOSUCHCODE0000', inviteExpiration: Math.floor(Date.now() / 1000) + 60 }),
    'INVALID_ARGUMENT',
    /^communityAcceptInviteV4 failed.*404/,
  )
})

test('communityParticipantsUpdate remove takes carol out of the announcements group too', async () => {
  const result = await alice.communityParticipantsUpdate(cid, [carolJid], 'remove')
  expect(result.map((r) => [r.jid, r.status])).toEqual([[carolJid, '200']])
  expect(members(await alice.groupMetadata(announcementsJid))).toEqual([aliceJid])
})

test('bad arguments reject with INVALID_ARGUMENT naming the community call; the shard stays connected', async () => {
  await expectShardError(alice.communityCreate(42), 'INVALID_ARGUMENT', /^communityCreate: subject must be a string/)
  await expectShardError(alice.communityCreate('  '), 'INVALID_ARGUMENT', /^communityCreate: subject must be a non-empty string/)
  await expectShardError(alice.communityMetadata('not a jid'), 'INVALID_ARGUMENT', /^communityMetadata:/)
  await expectShardError(alice.communityMetadata(aliceJid), 'INVALID_ARGUMENT', /^communityMetadata: .* is not a group jid/)
  await expectShardError(alice.communityUpdateSubject(cid, 5), 'INVALID_ARGUMENT', /^communityUpdateSubject: subject must be a string/)
  await expectShardError(alice.communityParticipantsUpdate(cid, [bobJid], 'kick'), 'INVALID_ARGUMENT', /^communityParticipantsUpdate: .*action/)
  await expectShardError(alice.communityJoinApprovalMode(cid, 'maybe'), 'INVALID_ARGUMENT', /^communityJoinApprovalMode: mode must be 'on' or 'off'/)
  await expectShardError(alice.communityLeave(null), 'INVALID_ARGUMENT', /^communityLeave: id must be a string/)
  await expectShardError(alice.communityAcceptInvite(''), 'INVALID_ARGUMENT', /^communityAcceptInvite:/)
  expect((await alice.communityMetadata(cid)).id).toBe(cid)
})
