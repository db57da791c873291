'use strict'
// Channels (newsletters) end to end: two shards (alice, bob) and a real Baileys 6.7.21 socket
// (carol) on the mock server. Alice creates a channel and posts to it; bob and carol find it,
// follow, mute, get its posts live, react and read them back; ownership moves to bob, who deletes it. Every
// newsletter* member runs through the public API; Baileys, asking the same server the same
// things, is the oracle for the results.
const { isDeepStrictEqual } = require('node:util')
const { proto } = require('..')
const { waitFor, expectShardError, shardsAndBaileys } = require('./helpers')

let ctx
let peer
let alice
let bob
let aliceJid
let bobJid
let channel // its jid
let invite
/** As a value looks after crossing a JSON boundary (Buffers as `{ type, data }`). */
const plain = (v) => JSON.parse(JSON.stringify(v))

beforeAll(async () => {
  ctx = await shardsAndBaileys('carol-channels')
  ;({ peer, alice, bob, aliceJid, bobJid } = ctx)
})
afterAll(() => ctx?.close())

/** The posts in a newsletterFetchMessages reply: `{ serverId, text, reactions: { code: count } }`. */
function postsOf(reply) {
  const updates = reply.content.find((c) => c.tag === 'message_updates')
  const messages = updates.content.find((c) => c.tag === 'messages')
  return (messages.content ?? []).map((m) => {
    const plaintext = m.content.find((c) => c.tag === 'plaintext').content
    const message = proto.Message.decode(Buffer.from(plaintext.data ?? plaintext))
    const reactions = Object.fromEntries((m.content.find((c) => c.tag === 'reactions')?.content ?? []).map((r) => [r.attrs.code, Number(r.attrs.count)]))
    return { serverId: m.attrs.server_id, text: message.extendedTextMessage?.text ?? message.conversation, reactions }
  })
}

test('newsletterCreate gives what Baileys’ newsletterCreate gives', async () => {
  const ours = await alice.newsletterCreate('Daily news', 'every morning')
  channel = ours.id
  invite = ours.invite
  expect(channel).toMatch(/^\d+@newsletter$/)
  expect(ours).toMatchObject({ name: 'Daily news', description: 'every morning', subscribers: 0, verification: 'UNVERIFIED', mute_state: 'OFF' })
  expect(typeof ours.creation_time).toBe('number')
  const theirs = await peer.call('newsletterCreate', 'Daily news', 'every morning')
  const neutral = (m) => ({ ...plain(m), id: 'X', invite: 'I', creation_time: 0 })
  expect(neutral(ours)).toEqual(neutral(theirs))
  expect(Object.keys(ours)).toEqual(Object.keys(theirs))
})

test('newsletterMetadata by jid and by invite code equals Baileys’ for the same channel', async () => {
  const ours = await bob.newsletterMetadata('jid', channel)
  expect(ours).toMatchObject({ id: channel, thread_metadata: { name: { text: 'Daily news' }, invite }, viewer_metadata: { role: 'GUEST', mute: 'OFF' } })
  expect(plain(ours)).toEqual(await peer.call('newsletterMetadata', 'jid', channel))
  expect((await bob.newsletterMetadata('invite', invite)).id).toBe(channel)
  expect((await alice.newsletterMetadata('jid', channel)).viewer_metadata.role).toBe('OWNER')
})

test('follow, subscribers, mute and unmute', async () => {
  await bob.newsletterFollow(channel)
  await peer.call('newsletterFollow', channel)
  expect((await bob.newsletterMetadata('jid', channel)).viewer_metadata.role).toBe('SUBSCRIBER')
  const ours = await alice.newsletterSubscribers(channel)
  expect(ours).toEqual({ subscribers: 2 })
  expect(await peer.call('newsletterSubscribers', channel)).toEqual(ours)

  await bob.newsletterMute(channel)
  expect((await bob.newsletterMetadata('jid', channel)).viewer_metadata.mute).toBe('ON')
  await bob.newsletterUnmute(channel)
  expect((await bob.newsletterMetadata('jid', channel)).viewer_metadata.mute).toBe('OFF')
})

test('the owner renames it, describes it, sets and removes its picture; a follower may not', async () => {
  await alice.newsletterUpdateName(channel, 'Morning news')
  await alice.newsletterUpdateDescription(channel, 'at 7')
  let meta = await bob.newsletterMetadata('jid', channel)
  expect(meta.thread_metadata.name.text).toBe('Morning news')
  expect(meta.thread_metadata.description.text).toBe('at 7')
  expect(meta.thread_metadata.picture.id).toBe('')

  await alice.newsletterUpdatePicture(channel, Buffer.from('\xff\xd8\xff\xe0 a tiny jpeg', 'latin1'))
  meta = await bob.newsletterMetadata('jid', channel)
  expect(meta.thread_metadata.picture.id).toMatch(/^\w+$/)
  expect(meta.thread_metadata.picture.direct_path).toContain(meta.thread_metadata.picture.id)
  await alice.newsletterRemovePicture(channel)
  expect((await bob.newsletterMetadata('jid', channel)).thread_metadata.picture.id).toBe('')

  await expectShardError(bob.newsletterUpdateName(channel, 'mine now'), 'INVALID_ARGUMENT', /^newsletterUpdate failed.*only the channel's admins/)
})

test('posts: the owner posts, followers get them live and read them (as Baileys does), and react', async () => {
  const atBob = waitFor(ctx.manager, 'messages.upsert', (e) => e.shardId === 'bob' && e.data.messages.some((m) => m.key.remoteJid === channel), 20000)
  const atCarol = peer.waitFor('Baileys to get the post', (e) => e.event === 'upsert' && e.key.remoteJid === channel, 20000)
  const sent = await alice.sendMessage(channel, { text: 'first post' })
  const got = (await atBob).data.messages.find((m) => m.key.remoteJid === channel)
  const theirs = await atCarol
  expect(got.key).toEqual({ remoteJid: channel, fromMe: false, id: sent.key.id, server_id: '100' })
  expect(got.message.extendedTextMessage?.text ?? got.message.conversation).toBe('first post')
  expect(plain(got.key)).toEqual(theirs.key)
  expect(theirs.text).toBe('first post')
  await alice.sendMessage(channel, { text: 'second post' })
  const ours = await bob.newsletterFetchMessages(channel, 10)
  const posts = postsOf(ours)
  expect(posts.map((p) => p.text)).toEqual(['first post', 'second post'])
  expect(plain(ours.content)).toEqual((await peer.call('newsletterFetchMessages', channel, 10, 0, 0)).content)
  // The newest one only; and only those after the first.
  expect(postsOf(await bob.newsletterFetchMessages(channel, 1)).map((p) => p.text)).toEqual(['second post'])
  expect(postsOf(await bob.newsletterFetchMessages(channel, 10, 0, Number(posts[0].serverId))).map((p) => p.text)).toEqual(['second post'])

  const first = posts[0].serverId
  await bob.newsletterReactMessage(channel, first, '👍')
  await peer.call('newsletterReactMessage', channel, first, '👍')
  // Reactions are messages without a reply: read back until they are counted.
  const reactionsOf = async () => postsOf(await alice.newsletterFetchMessages(channel, 10))[0].reactions
  const until = async (expected) => {
    for (let i = 0; i < 50 && !isDeepStrictEqual(await reactionsOf(), expected); i++) await new Promise((r) => setTimeout(r, 100))
    expect(await reactionsOf()).toEqual(expected)
  }
  await until({ '👍': 2 })
  await bob.newsletterReactMessage(channel, first, '❤️')
  await until({ '👍': 1, '❤️': 1 })
  await bob.newsletterReactMessage(channel, first)
  await until({ '👍': 1 })
})

test('subscribeNewsletterUpdates gives the duration, as Baileys’ does', async () => {
  const ours = await bob.subscribeNewsletterUpdates(channel)
  expect(ours).toEqual({ duration: '300' })
  expect(await peer.call('subscribeNewsletterUpdates', channel)).toEqual(ours)
})

test('admins: the owner hands the channel to bob, who demotes her and deletes it', async () => {
  expect(await alice.newsletterAdminCount(channel)).toBe(1)
  expect(await peer.call('newsletterAdminCount', channel)).toBe(1)
  await expectShardError(bob.newsletterDemote(channel, aliceJid), 'INVALID_ARGUMENT', /^newsletterDemote failed.*owner/)
  await alice.newsletterChangeOwner(channel, bobJid)
  expect((await bob.newsletterMetadata('jid', channel)).viewer_metadata.role).toBe('OWNER')
  expect((await alice.newsletterMetadata('jid', channel)).viewer_metadata.role).toBe('ADMIN')
  expect(await alice.newsletterAdminCount(channel)).toBe(2)
  await bob.newsletterDemote(channel, aliceJid)
  expect(await bob.newsletterAdminCount(channel)).toBe(1)
  expect((await alice.newsletterMetadata('jid', channel)).viewer_metadata.role).toBe('SUBSCRIBER')

  await alice.newsletterUnfollow(channel)
  expect((await alice.newsletterMetadata('jid', channel)).viewer_metadata.role).toBe('GUEST')
  await expectShardError(alice.newsletterDelete(channel), 'INVALID_ARGUMENT', /owner/)
  await bob.newsletterDelete(channel)
  await expectShardError(bob.newsletterMetadata('jid', channel), 'INVALID_ARGUMENT', /^newsletterMetadata failed.*not found/)
})

test('bad arguments reject with INVALID_ARGUMENT naming the call and argument; the shard stays connected', async () => {
  await expectShardError(alice.newsletterCreate(''), 'INVALID_ARGUMENT', /^newsletterCreate: name must be a non-empty string/)
  await expectShardError(alice.newsletterCreate(5), 'INVALID_ARGUMENT', /^newsletterCreate: name must be a string/)
  await expectShardError(alice.newsletterFollow(aliceJid), 'INVALID_ARGUMENT', /^newsletterFollow: .* is not a channel jid/)
  await expectShardError(alice.newsletterMetadata('phone', '1'), 'INVALID_ARGUMENT', /^newsletterMetadata: type must be 'jid' or 'invite'/)
  await expectShardError(alice.newsletterUpdate('1@newsletter', { color: 'red' }), 'INVALID_ARGUMENT', /^newsletterUpdate: updates.color/)
  await expectShardError(alice.newsletterUpdate('1@newsletter'), 'INVALID_ARGUMENT', /^newsletterUpdate: updates must be an object/)
  await expectShardError(alice.newsletterUpdatePicture('1@newsletter', 'picture.jpg'), 'INVALID_ARGUMENT', /^newsletterUpdatePicture: content/)
  await expectShardError(alice.newsletterReactMessage('1@newsletter', 'abc', '👍'), 'INVALID_ARGUMENT', /^newsletterReactMessage: serverId/)
  await expectShardError(alice.newsletterFetchMessages('1@newsletter', 0), 'INVALID_ARGUMENT', /^newsletterFetchMessages: count/)
  await expectShardError(alice.newsletterChangeOwner('1@newsletter', 7), 'INVALID_ARGUMENT', /^newsletterChangeOwner: newOwnerJid must be a string/)
  expect((await alice.newsletterCreate('Still here')).name).toBe('Still here')
})
