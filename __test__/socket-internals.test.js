'use strict'
// Baileys' socket members that reach into its internals, on a shard against the mock, with a
// real Baileys 6.7.21 client doing the same where it can: upsertMessage, getBotListV2,
// sendWAMBuffer, cleanDirtyBits, executeUSyncQuery, the pre-key uploads, and the members that
// reject with NOT_SUPPORTED because the engine does that work itself.
const { aliceAndBob, userJid, openBaileysPeer, expectShardError } = require('./helpers')
const { NOT_SUPPORTED_REASONS } = require('../lib/socket-internals')

let ctx
let peer
let baileys

beforeAll(async () => {
  baileys = await import('baileys')
  ctx = await aliceAndBob()
  ;({ peer } = await openBaileysPeer(ctx.mock, 'internals'))
})
afterAll(async () => {
  await peer?.close()
  await ctx?.close()
})

test('upsertMessage emits messages.upsert and the push name as contacts.update in one ev.process map, as Baileys does', async () => {
  const { alice } = ctx
  const msg = { key: { remoteJid: '15550001111@s.whatsapp.net', fromMe: false, id: '3EB0UPSERT0000000001' }, message: { conversation: 'injected' }, messageTimestamp: 1700000000, pushName: 'Injected' }
  const maps = []
  const stop = alice.ev.process((events) => maps.push(events))
  await alice.upsertMessage(msg, 'notify')
  stop()
  expect(maps).toHaveLength(1)
  expect(maps[0]['messages.upsert']).toEqual({ messages: [msg], type: 'notify' })
  expect(maps[0]['contacts.update']).toEqual([{ id: '15550001111@s.whatsapp.net', notify: 'Injected', verifiedName: undefined }])

  const before = peer.events.length
  await peer.call('upsertMessage', msg, 'notify')
  // Baileys flushes its buffered function's events a moment after it returns.
  let theirs
  for (let i = 0; i < 50 && !theirs; i++, await new Promise((r) => setTimeout(r, 100))) {
    theirs = peer.events.slice(before).find((e) => e.event === 'process' && e.names.includes('messages.upsert'))
  }
  // Baileys' map also holds the chat's chats.update (unread count), account state that this
  // package does not emit yet (issue #16); ours is exactly upsert + contact.
  expect(theirs?.names).toEqual(expect.arrayContaining(Object.keys(maps[0])))
  await expectShardError(alice.upsertMessage({ message: {} }, 'notify'), 'INVALID_ARGUMENT', /key/)
  await expectShardError(alice.upsertMessage(msg, 'later'), 'INVALID_ARGUMENT', /type/)
})

test('getBotListV2 gives what Baileys gives from the same server', async () => {
  const ours = await ctx.alice.getBotListV2()
  expect(ours).toEqual([{ jid: '867051314767696@bot', personaId: '769337008432372' }])
  expect(await peer.call('getBotListV2')).toEqual(ours)
})

test('sendWAMBuffer and cleanDirtyBits reach the server and resolve when it answers', async () => {
  const { alice } = ctx
  const reply = await alice.sendWAMBuffer(Buffer.from([0x57, 0x41, 0x4d, 0x05]))
  expect(reply).toMatchObject({ tag: 'iq', attrs: { type: 'result' } })
  await expect(alice.cleanDirtyBits('account_sync', 1700000000)).resolves.toBeUndefined()
  await expectShardError(alice.sendWAMBuffer('not bytes'), 'INVALID_ARGUMENT', /wamBuffer/)
  await expectShardError(alice.cleanDirtyBits(''), 'INVALID_ARGUMENT', /type/)
})

test('executeUSyncQuery runs a Baileys USyncQuery and parses its result with the query\'s own protocols', async () => {
  const { alice, bobJid } = ctx
  const query = new baileys.USyncQuery().withContactProtocol().withDeviceProtocol()
  query.withUser(new baileys.USyncUser().withId(bobJid))
  const result = await alice.executeUSyncQuery(query)
  const [bob] = result.list
  expect(bob.id).toBe(bobJid)
  expect(bob.contact).toBe(true)
  expect(bob.devices.deviceList.map((d) => d.id)).toContain(Number(ctx.bob.user.id.split(':')[1].split('@')[0]))
  await expectShardError(alice.executeUSyncQuery({}), 'INVALID_ARGUMENT', /USyncQuery/)
})

test('uploadPreKeys puts new pre-keys on the server; uploadPreKeysToServerIfRequired only when it runs low', async () => {
  const { mock, alice } = ctx
  const phone = userJid(alice.user.id).split('@')[0]
  const device = Number(alice.user.id.split(':')[1].split('@')[0])
  const preKeysOnServer = async () => {
    const { accounts } = await (await fetch(`${mock.httpUrl}/admin/accounts`)).json()
    return accounts.find((a) => a.phone === phone).devices.find((d) => d.id === device).preKeys
  }
  const before = await preKeysOnServer()
  await alice.uploadPreKeys(30)
  const after = await preKeysOnServer()
  expect(after).toBeGreaterThan(before)
  await alice.uploadPreKeysToServerIfRequired()
  expect(await preKeysOnServer()).toBe(after)
  await expectShardError(alice.uploadPreKeys(-1), 'INVALID_ARGUMENT', /count/)
})

test('fetchDisappearingDuration reads each user\'s default timer (set with updateDefaultDisappearingMode) as Baileys does', async () => {
  const { alice, bob, bobJid } = ctx
  await bob.updateDefaultDisappearingMode(86400)
  const ours = await alice.fetchDisappearingDuration(bobJid, '15550000000@s.whatsapp.net')
  expect(ours[0]).toEqual({ disappearing_mode: { duration: 86400, setAt: expect.any(Date) }, id: bobJid })
  expect(Math.abs(ours[0].disappearing_mode.setAt.getTime() - Date.now())).toBeLessThan(60000)
  const theirs = await peer.call('fetchDisappearingDuration', bobJid, '15550000000@s.whatsapp.net')
  expect(JSON.parse(JSON.stringify(ours))).toEqual(theirs)
  await expectShardError(alice.fetchDisappearingDuration(42), 'INVALID_ARGUMENT', /jids/)
})

test('getPrivacyTokens sends Baileys\' token request and resolves to the server\'s reply, as Baileys\' does', async () => {
  const { alice, bobJid } = ctx
  const ours = await alice.getPrivacyTokens([bobJid])
  const theirs = await peer.call('getPrivacyTokens', [bobJid])
  expect({ tag: ours.tag, type: ours.attrs.type }).toEqual({ tag: theirs.tag, type: theirs.attrs.type })
  expect(ours.attrs.type).toBe('result')
  await expectShardError(alice.getPrivacyTokens('x'), 'INVALID_ARGUMENT', /jids/)
})

test('members the engine owns reject with NOT_SUPPORTED and say why; the shard stays connected', async () => {
  const { alice } = ctx
  for (const [name, reason] of Object.entries(NOT_SUPPORTED_REASONS)) {
    const call = name === 'signalRepository' ? alice.signalRepository.decryptMessage({}) : alice[name]({ tag: 'message', attrs: {} })
    await expectShardError(call, 'NOT_SUPPORTED', new RegExp(reason.slice(0, 20).replace(/[()]/g, '.')))
  }
  expect(ctx.manager.getShardInfo('alice').status).toBe('connected')
})
