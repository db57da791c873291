'use strict'
// App-state changes made by a bot: `chatModify` and the calls built on it (`star`, labels,
// contacts). The oracle is a real Baileys 6.7.21 socket linked as another device of the same
// account: each change our shard makes reaches Baileys as the events Baileys' own change brings
// us, field by field, and each side reports its own change as Baileys does (`emitOwnEvents`).

const { MockServer } = require('../testing')
const { chatModificationToAppPatch, LabelAssociationType } = require('..')
const { openBaileysPeer, linkToAccount, asPeerValue, expectShardError, until } = require('./helpers')

jest.setTimeout(180000)

const PHONE = '15550006666'
const BOB = '15550003001@s.whatsapp.net'
const CAROL = '15550003002@s.whatsapp.net'
const NOW = 1765000000
const LAST = { key: { remoteJid: BOB, fromMe: false, id: 'B0' }, messageTimestamp: NOW }
const APP_STATE_EVENTS = ['chats.update', 'chats.delete', 'contacts.upsert', 'messages.update', 'messages.delete', 'labels.edit', 'labels.association']

let mock
let ours
let peer
const seen = [] // our shard's app-state events, in order: { event, data }

beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  await mock.seedAccount(PHONE, {
    pushName: 'Modifier',
    contacts: [{ id: BOB, name: 'Bob' }, { id: CAROL, name: 'Carol' }],
    chats: [{ id: BOB }, { id: CAROL }],
    messages: [{ from: BOB, text: 'hello', timestamp: NOW, id: 'B0' }, { from: PHONE, chat: CAROL, text: 'hi carol', timestamp: NOW, id: 'C0' }],
  })
  ours = await linkToAccount(mock, PHONE, 'modder')
  for (const event of APP_STATE_EVENTS) ours.manager.on(event, ({ shardId, data }) => shardId === 'modder' && seen.push({ event, data }))
  ;({ peer } = await openBaileysPeer(mock, 'modify-peer', { socket: { syncFullHistory: true }, pairPhone: PHONE }))
  // The seed's contacts are the only app state (the other collections start empty).
  for (const name of ['critical_block', 'critical_unblock_low']) {
    await peer.waitFor(`${name} synced`, (e) => e.event === 'app-state' && e.msg === `synced ${name} to v1`, 30000)
  }
})
afterAll(async () => {
  await peer?.close()
  await ours?.manager.close()
  await mock?.close()
})

/** The peer's app-state events as { event, data }. */
function peerEvents() {
  return peer.events.filter((e) => APP_STATE_EVENTS.includes(e.event)).map(({ event, data }) => ({ event, data }))
}

/** The `chats.update` field each chat change sets. */
const CHAT_FIELD = { archive: 'archived', pin: 'pinned', mute: 'muteEndTime', markRead: 'unreadCount' }

/**
 * The events of kind `event` a change `mod` brought, as plain values, with what differs between
 * two devices' changes (an action's time) made comparable. A device may also report an earlier
 * change of another chat field in the same sync: only the changed field counts.
 */
function comparable(events, event, mod) {
  const field = CHAT_FIELD[Object.keys(mod).find((k) => k in CHAT_FIELD)]
  return events
    .filter((e) => e.event === event)
    .map(({ data }) => {
      let plain = asPeerValue(data)
      if (event === 'chats.update') {
        // (Baileys' event buffer merges updates of one chat into one item.)
        plain = plain.filter((u) => field in u).map((u) => ({ id: u.id, [field]: field === 'pinned' && typeof u.pinned === 'number' ? 'a time' : u[field] }))
      }
      return plain
    })
    .filter((data) => !Array.isArray(data) || data.length)
}


/** The events of `list` of one kind after position `from`, once they stop coming. */
async function settled(list, from, event) {
  await until(() => `${event}; got ${JSON.stringify(list().slice(from))}`, () => list().slice(from).some((e) => e.event === event))
  await new Promise((r) => setTimeout(r, 500))
  return list().slice(from)
}

/**
 * Our shard makes the change, then the Baileys device makes it: what the other device sees of
 * each, and what our shard reports of its own change.
 */
async function bothWays(event, ourCall, peerCall) {
  const ourList = () => seen
  let s = seen.length
  const p = peerEvents().length
  await ourCall()
  const peerSawOurs = await settled(peerEvents, p, event)
  const oursOwn = await settled(ourList, s, event)
  s = seen.length
  await peerCall()
  const oursSawPeers = await settled(ourList, s, event)
  return { peerSawOurs, oursSawPeers, oursOwn }
}

const CHANGES = [
  ['archive', 'chats.update', { archive: true, lastMessages: [LAST] }, BOB],
  ['unarchive', 'chats.update', { archive: false, lastMessages: [LAST] }, BOB],
  ['pin', 'chats.update', { pin: true }, BOB],
  ['unpin', 'chats.update', { pin: false }, BOB],
  ['mute', 'chats.update', { mute: 1900000000000 }, BOB],
  ['unmute', 'chats.update', { mute: null }, BOB],
  ['mark unread', 'chats.update', { markRead: false, lastMessages: [LAST] }, BOB],
  ['mark read', 'chats.update', { markRead: true, lastMessages: [LAST] }, BOB],
  ['star', 'messages.update', { star: { messages: [{ id: 'B0', fromMe: false }], star: true } }, BOB],
  ['unstar', 'messages.update', { star: { messages: [{ id: 'B0', fromMe: false }], star: false } }, BOB],
  ['contact', 'contacts.upsert', { contact: { fullName: 'Robert Builder', firstName: 'Robert' } }, BOB],
  ['label', 'labels.edit', { addLabel: { id: '7', name: 'Customers', color: 3 } }, ''],
  ['chat label', 'labels.association', { addChatLabel: { labelId: '7' } }, BOB],
  ['chat unlabel', 'labels.association', { removeChatLabel: { labelId: '7' } }, BOB],
  ['delete for me', 'messages.delete', { deleteForMe: { key: { id: 'C0', fromMe: true }, timestamp: NOW, deleteMedia: false } }, CAROL],
  ['delete chat', 'chats.delete', { delete: true, lastMessages: [{ key: { remoteJid: CAROL, fromMe: true, id: 'C0' }, messageTimestamp: NOW }] }, CAROL],
]

test.each(CHANGES)('%s: chatModify reaches the other device as Baileys\' own change does, and is reported as our own event', async (_, event, mod, jid) => {
  const r = await bothWays(event, () => ours.sock.chatModify(mod, jid), () => peer.call('chatModify', mod, jid))
  const only = (events) => comparable(events, event, mod)
  expect(only(r.oursSawPeers)).toEqual(only(r.peerSawOurs))
  // Our own change is reported as the other device sees it (Baileys' emitOwnEvents).
  expect(only(r.oursOwn)).toEqual(only(r.peerSawOurs))
  expect(only(r.oursSawPeers).length).toBeGreaterThan(0)
  expect(peer.events.filter((e) => e.event === 'app-state' && /failed/.test(e.msg))).toEqual([])
})

test('star, addOrEditContact and the label calls are chatModify with Baileys\' arguments', async () => {
  let s = seen.length
  await ours.sock.star(BOB, [{ id: 'B0', fromMe: false }], true)
  await peer.waitFor('the star', (e) => e.event === 'update' && e.key?.id === 'B0' && e.update?.starred === true, 20000)
  await ours.sock.addOrEditContact(CAROL, { fullName: 'Caroline' })
  await peer.waitFor('the contact', (e) => e.event === 'contacts.upsert' && e.data.some((c) => c.id === CAROL && c.name === 'Caroline'), 20000)
  await ours.sock.addLabel('', { id: '8', name: 'Leads', color: 1 })
  await ours.sock.addChatLabel(CAROL, '8')
  await peer.waitFor('the chat label', (e) => e.event === 'labels.association' && e.data.association.chatId === CAROL && e.data.association.labelId === '8', 20000)
  await ours.sock.removeChatLabel(CAROL, '8')
  await peer.waitFor('the chat unlabel', (e) => e.event === 'labels.association' && e.data.type === 'remove' && e.data.association.labelId === '8', 20000)
  await until('our own label events', () => seen.slice(s).filter((e) => e.event === 'labels.association').length >= 2)
  expect(seen.slice(s).find((e) => e.event === 'labels.edit').data).toEqual({ id: '8', name: 'Leads', color: 1, deleted: null })
})

test('a message label travels as Baileys writes it', async () => {
  const p = peer.events.length
  await ours.sock.addMessageLabel(BOB, 'B0', '7')
  const got = await peer.waitFor('the message label', (e) => e.event === 'labels.association' && e.data.association.type === LabelAssociationType.Message, 20000)
  expect(got.data).toEqual({ type: 'add', association: { type: 'label_message', chatId: BOB, messageId: 'B0', labelId: '7' } })
  expect(peer.events.length).toBeGreaterThan(p)
})

test('chatModificationToAppPatch builds what Baileys builds', async () => {
  const baileys = await import('baileys')
  const cases = CHANGES.map(([, , mod, jid]) => [mod, jid]).concat([
    [{ pushNameSetting: 'New Name' }, ''],
    [{ disableLinkPreviews: { isPreviewsDisabled: true } }, ''],
    [{ contact: null }, BOB],
    [{ clear: true, lastMessages: [LAST] }, BOB],
    [{ addMessageLabel: { labelId: '7', messageId: 'B0' } }, BOB],
    [{ removeMessageLabel: { labelId: '7', messageId: 'B0' } }, BOB],
  ])
  for (const [mod, jid] of cases) {
    const a = chatModificationToAppPatch(structuredClone(mod), jid)
    const b = baileys.chatModificationToAppPatch(structuredClone(mod), jid)
    a.syncAction.timestamp = b.syncAction.timestamp = 0
    expect(JSON.parse(JSON.stringify(a))).toEqual(JSON.parse(JSON.stringify(b)))
  }
})

test('bad modifications reject with a code; the shard stays connected', async () => {
  const sock = ours.sock
  await expectShardError(sock.chatModify({ nothing: true }, BOB), 'INVALID_ARGUMENT', /not supported/)
  await expectShardError(sock.chatModify(null, BOB), 'INVALID_ARGUMENT')
  await expectShardError(sock.chatModify({ archive: true, lastMessages: [{ key: { id: 'x' } }] }, BOB), 'INVALID_ARGUMENT', /remoteJid/)
  await expectShardError(sock.star(42, [{ id: 'B0' }], true), 'INVALID_ARGUMENT', /jid/)
  await expectShardError(sock.star(BOB, [], true), 'INVALID_ARGUMENT', /messages/)
  await expectShardError(sock.appPatch({ syncAction: {}, index: ['archive', BOB], type: 'regular_medium', apiVersion: 3, operation: 0 }), 'INVALID_ARGUMENT', /collection/)
  await expectShardError(sock.appPatch({ syncAction: { archiveChatAction: { archived: 'yes' } }, index: ['archive', BOB], type: 'regular_low', apiVersion: 3, operation: 0 }), 'INVALID_ARGUMENT', /syncAction/)
  await expectShardError(sock.removeContact(BOB), 'NOT_SUPPORTED', /REMOVE/)
  await expectShardError(sock.appPatch({ syncAction: { contactAction: {} }, index: ['contact', BOB], type: 'critical_unblock_low', apiVersion: 2, operation: 1 }), 'NOT_SUPPORTED')
  await expectShardError(sock.resyncAppState(['nope']), 'INVALID_ARGUMENT')
  // Still connected: a good change goes through.
  await sock.chatModify({ pin: true }, CAROL)
  await peer.waitFor('the pin after the errors', (e) => e.event === 'chats.update' && e.data.some((c) => c.id === CAROL && typeof c.pinned === 'number'), 20000)
})

test('resyncAppState syncs collections now and reports only what is new, as Baileys\' does', async () => {
  const s = seen.length
  await ours.sock.resyncAppState(['critical_block', 'critical_unblock_low', 'regular_high', 'regular_low', 'regular'], true)
  await new Promise((r) => setTimeout(r, 500))
  expect(seen.slice(s)).toEqual([])
  // A change made meanwhile by the other device is in the next resync at the latest.
  await peer.call('chatModify', { archive: true, lastMessages: [LAST] }, BOB)
  await ours.sock.resyncAppState(['regular_low'], false)
  await until('the archive', () => seen.slice(s).some((e) => e.event === 'chats.update' && e.data.some((c) => c.id === BOB && c.archived === true)))
})
