'use strict'
/**
 * Message relay through the mock server between two real Baileys 6.7.21 clients, each in its
 * own child Node process (Baileys is ESM; see mock-baileys.test.js for why), paired to two
 * different accounts. A sends B a text; B must get it on `messages.upsert` and A must see it
 * delivered (`messages.update` with status 3) from B's delivery receipt. No decryption errors
 * may show up in either Baileys' logs.
 *
 * Build the mock first: `cargo build -p baileys-shard-mock`.
 */
const { MockServer } = require('../testing')
const { BaileysChild } = require('./baileys-peer')

describe('mock server relays messages between two real Baileys clients', () => {
  let mock
  const kids = []

  beforeAll(async () => {
    mock = await MockServer.start({ port: 0 })
  })

  afterAll(async () => {
    for (const k of kids) await k.close()
    if (mock) await mock.close()
  })

  test('A sends B a text: B gets messages.upsert, A gets status 3 (delivered)', async () => {
    const a = new BaileysChild('A', mock)
    kids.push(a)
    const openA = await a.waitFor('A to open', (e) => e.event === 'open', 30000)
    expect(openA.event).toBe('open')
    const b = new BaileysChild('B', mock)
    kids.push(b)
    const openB = await b.waitFor('B to open', (e) => e.event === 'open', 30000)
    expect(openB.event).toBe('open')
    expect(await a.scan).toBe('ok')
    expect(await b.scan).toBe('ok')
    const userOf = (jid) => jid.split(/[:@]/)[0]
    expect(userOf(openA.me.id)).not.toBe(userOf(openB.me.id))
    await a.waitFor('A to finish its offline sync', (e) => e.event === 'pending-done', 15000)
    await b.waitFor('B to finish its offline sync', (e) => e.event === 'pending-done', 15000)

    a.command({ cmd: 'send', to: openB.me.id, text: 'hello from A' })
    const sent = await a.waitFor('A to send', (e) => e.event === 'sent' || e.event === 'cmd-error', 20000)
    expect(sent.event).toBe('sent')
    const id = sent.key.id

    const got = await b.waitFor('B to receive the text', (e) => e.event === 'upsert' && e.key.id === id, 20000)
    expect(got).toMatchObject({ event: 'upsert', type: 'notify', text: 'hello from A' })
    expect(got.key.fromMe).toBe(false)
    expect(userOf(got.key.remoteJid)).toBe(userOf(openA.me.id))
    expect(got.stub).toBeNull() // a CIPHERTEXT stub would mean B could not decrypt

    const delivered = await a.waitFor('A to see the message delivered', (e) => e.event === 'update' && e.key.id === id && e.status === 3, 20000)
    expect(delivered.status).toBe(3)

    // B replies; A gets it (the session B set up from A's pkmsg, or a new one).
    b.command({ cmd: 'send', to: openA.me.id, text: 'hello back from B' })
    const sentB = await b.waitFor('B to send', (e) => e.event === 'sent' || e.event === 'cmd-error', 20000)
    expect(sentB.event).toBe('sent')
    const gotA = await a.waitFor('A to receive the reply', (e) => e.event === 'upsert' && e.key.id === sentB.key.id, 20000)
    expect(gotA).toMatchObject({ type: 'notify', text: 'hello back from B', stub: null })

    // Chatstate relay: A types, B sees A composing.
    a.command({ cmd: 'typing', to: openB.me.id })
    const typing = await b.waitFor('B to see A composing', (e) => e.event === 'presence' && userOf(e.id) === userOf(openA.me.id), 20000)
    expect(Object.values(typing.presences).map((p) => p.lastKnownPresence)).toContain('composing')

    // Let late retries or errors surface, then: no decryption errors anywhere.
    await new Promise((r) => setTimeout(r, 1000))
    expect(a.decryptionProblems()).toEqual([])
    expect(b.decryptionProblems()).toEqual([])
    expect(a.errors()).toEqual([])
    expect(b.errors()).toEqual([])
  }, 120000)
})
