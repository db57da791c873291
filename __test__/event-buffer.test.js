'use strict'
// `sock.ev` against Baileys 6.7.21's own event buffer (`makeEventBuffer`): the same emits, in
// the same order, must reach `ev.process` handlers and plain listeners as the same maps.
const { BaileysEventEmitter } = require('../lib/event-buffer')

let makeEventBuffer
const silent = { level: 'silent', child: () => silent, trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} }

beforeAll(async () => {
  ;({ makeEventBuffer } = await import('baileys'))
})

const key = (id, extra = {}) => ({ remoteJid: '15550000001@s.whatsapp.net', fromMe: false, id, ...extra })
const msg = (id, text, ts = 1700000000) => ({ key: key(id), message: { conversation: text }, messageTimestamp: ts })

/** Runs `script(ev)` on both emitters; returns what their process handlers and listeners saw. */
function both(script) {
  const run = (ev) => {
    const maps = []
    const single = []
    ev.process((map) => maps.push(JSON.parse(JSON.stringify(map))))
    ev.on('messages.upsert', (d) => single.push(JSON.parse(JSON.stringify(d))))
    script(ev)
    return { maps, single }
  }
  return { ours: run(new BaileysEventEmitter()), baileys: run(makeEventBuffer(silent)) }
}

test('unbuffered events arrive one map each, and on their own listeners', () => {
  const { ours, baileys } = both((ev) => {
    ev.emit('messages.upsert', { messages: [msg('A', 'one')], type: 'notify' })
    ev.emit('connection.update', { connection: 'open' })
  })
  expect(ours).toEqual(baileys)
  expect(ours.maps).toHaveLength(2)
})

test('while buffering, messages, updates, reactions and receipts are consolidated as Baileys does', () => {
  const { ours, baileys } = both((ev) => {
    ev.buffer()
    expect(ev.isBuffering()).toBe(true)
    ev.emit('messages.upsert', { messages: [msg('A', 'one')], type: 'append' })
    ev.emit('messages.update', [{ key: key('B'), update: { status: 3 } }])
    ev.emit('messages.upsert', { messages: [msg('B', 'two', 1700000005)], type: 'notify' })
    ev.emit('messages.update', [{ key: key('A'), update: { status: 4 } }, { key: key('C'), update: { status: 3 } }])
    ev.emit('messages.update', [{ key: key('C'), update: { starred: true } }])
    ev.emit('messages.reaction', [{ key: key('A'), reaction: { key: key('R1'), text: '👍' } }])
    ev.emit('messages.reaction', [{ key: key('Z'), reaction: { key: key('R2', { fromMe: true }), text: '❤' } }])
    ev.emit('messages.reaction', [{ key: key('Z'), reaction: { key: key('R3', { fromMe: true }), text: '' } }])
    ev.emit('message-receipt.update', [{ key: key('B'), receipt: { userJid: 'u@s.whatsapp.net', receiptTimestamp: 5 } }])
    ev.emit('message-receipt.update', [{ key: key('Y'), receipt: { userJid: 'u@s.whatsapp.net', readTimestamp: 6 } }])
    ev.emit('messages.delete', { keys: [key('A')] })
    ev.emit('connection.update', { receivedPendingNotifications: true }) // not bufferable: now
    ev.emit('groups.update', [{ id: 'g@g.us', subject: 'first' }])
    ev.emit('groups.update', [{ id: 'g@g.us', subject: 'second' }])
    expect(ev.flush()).toBe(true)
    expect(ev.isBuffering()).toBe(false)
    expect(ev.flush()).toBe(false)
  })
  expect(ours).toEqual(baileys)
  expect(ours.maps).toHaveLength(2)
  expect(Object.keys(ours.maps[1]).sort()).toEqual(
    ['groups.update', 'message-receipt.update', 'messages.delete', 'messages.reaction', 'messages.update', 'messages.upsert'].sort(),
  )
})

test('chats and contacts: updates fold into upserts, deletes cancel them, unread counts add up', () => {
  const { ours, baileys } = both((ev) => {
    ev.buffer()
    ev.emit('chats.update', [{ id: 'c1', unreadCount: 1 }])
    ev.emit('chats.upsert', [{ id: 'c1', unreadCount: 2, name: 'one' }])
    ev.emit('chats.update', [{ id: 'c1', unreadCount: 3 }, { id: 'c2', archived: true }])
    ev.emit('chats.upsert', [{ id: 'c3' }])
    ev.emit('chats.delete', ['c3', 'c4'])
    ev.emit('contacts.upsert', [{ id: 'k1', name: 'K' }, { id: 'k2', notify: undefined, name: 'Two' }])
    ev.emit('contacts.update', [{ id: 'k2', imgUrl: 'changed' }, { id: 'k3', notify: 'Three' }])
    ev.emit('contacts.upsert', [{ id: 'k1', notify: 'Kay' }])
    ev.flush()
  })
  expect(ours).toEqual(baileys)
})

test('a contact update held before the contact is upserted is kept (Baileys 6.7.21 drops it: a difference we keep)', () => {
  const { ours, baileys } = both((ev) => {
    ev.buffer()
    ev.emit('contacts.update', [{ id: 'k1', notify: 'Kay' }])
    ev.emit('contacts.upsert', [{ id: 'k1', name: 'K' }])
    ev.flush()
  })
  expect(ours.maps).toEqual([{ 'contacts.upsert': [{ id: 'k1', name: 'K', notify: 'Kay' }] }])
  expect(baileys.maps).toEqual([{ 'contacts.upsert': [{ id: 'k1', name: 'K' }] }])
})

test('history sets absorb later upserts and updates of the same chats, contacts and messages', () => {
  const { ours, baileys } = both((ev) => {
    ev.buffer()
    ev.emit('messaging-history.set', {
      chats: [{ id: 'c1', unreadCount: 1 }],
      contacts: [{ id: 'k1', notify: 'Kay' }],
      messages: [msg('H1', 'old', 1600000000)],
      syncType: 2,
      progress: 50,
      isLatest: false,
    })
    ev.emit('messages.upsert', { messages: [msg('H1', 'again', 1700000000)], type: 'append' })
    ev.emit('chats.upsert', [{ id: 'c1', unreadCount: 1, name: 'one' }])
    ev.emit('contacts.upsert', [{ id: 'k1', name: 'K' }])
    ev.emit('messaging-history.set', { chats: [], contacts: [], messages: [msg('H2', 'older', 1500000000)], syncType: 2, progress: 100, isLatest: true })
    ev.flush()
  })
  expect(ours).toEqual(baileys)
  expect(ours.maps[0]['messaging-history.set'].messages).toHaveLength(2)
})

test('process returns an unsubscribe function; createBufferedFunction delivers what its work emitted as one map', async () => {
  const ev = new BaileysEventEmitter()
  const maps = []
  const off = ev.process((map) => maps.push(map))
  const work = ev.createBufferedFunction(async (n) => {
    for (let i = 0; i < n; i++) ev.emit('messages.upsert', { messages: [msg(`M${i}`, `m${i}`)], type: 'notify' })
    await new Promise((r) => setTimeout(r, 5))
    return n
  })
  await expect(work(3)).resolves.toBe(3)
  expect(maps).toHaveLength(1)
  expect(maps[0]['messages.upsert'].messages.map((m) => m.key.id)).toEqual(['M0', 'M1', 'M2'])
  off()
  ev.emit('messages.upsert', { messages: [msg('late', 'x')], type: 'notify' })
  expect(maps).toHaveLength(1)
  expect(() => ev.process('not a function')).toThrow(TypeError)
})

test('a throwing listener does not keep the event from the others', () => {
  const ev = new BaileysEventEmitter()
  const seen = []
  ev.on('messages.upsert', () => {
    throw new Error('bot bug')
  })
  ev.process((map) => seen.push(Object.keys(map)))
  expect(() => ev.emit('messages.upsert', { messages: [], type: 'notify' })).toThrow('bot bug')
  expect(seen).toEqual([['messages.upsert']])
})
