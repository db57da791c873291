'use strict'
// What the README promises about received messages: one is acknowledged to WhatsApp only once
// every handler of its `messages.upsert` has finished, so a crash mid-handler loses nothing
// (the next start delivers it again), and a slow handler holds intake back instead of piling
// messages up in memory.
const fs = require('node:fs')
const { MockServer, ShardManager } = require('../testing')
const { pairedManager, runChild, shardEvent, userJid } = require('./helpers')

let mock
let sender
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  sender = await pairedManager(mock, ['s1', 's2', 's3'])
}, 120000)
afterAll(async () => {
  await sender?.manager.close()
  await mock?.close()
})

// Logs in from SESSION; on the message 'crash-me' its async handler reports it, and the
// process is SIGKILLed before the handler finishes.
const CRASHING_BOT = `
const { ShardManager } = require('./testing')
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n')
const manager = new ShardManager({ session: process.env.SESSION, socketConfig: { waWebSocketUrl: process.env.MOCK_URL, version: [2, 3000, 1] } })
manager.on('login.update', ({ state }) => { if (state === 'connected') out({ connected: true }) })
manager.on('messages.upsert', async ({ data }) => {
  for (const m of data.messages) {
    const text = m.message?.conversation ?? m.message?.extendedTextMessage?.text
    if (text !== 'crash-me') continue
    out({ got: m.key.id })
    await new Promise((r) => setTimeout(r, 300))
    process.kill(process.pid, 'SIGKILL')
  }
})
manager.createShard({ id: 'victim' })
`

test('a message whose handler a crash cut short is delivered again at the next start', async () => {
  const victim = await pairedManager(mock, ['victim'])
  const victimJid = userJid(victim.socks.victim.user.id)
  await victim.manager.close()

  const child = runChild(CRASHING_BOT, { env: { SESSION: victim.session, MOCK_URL: mock.url } })
  // The child logs in, then gets the message; the test cannot see its stdout live, so it sends
  // once the mock has the device online again.
  await waitForLogin(victimJid)
  const sent = await sender.socks.s1.sendMessage(victimJid, { text: 'crash-me' })
  const { signal, lines } = await child
  expect(signal).toBe('SIGKILL')
  expect(lines).toContainEqual({ got: sent.key.id })
  // Kept in the session until a handler finishes with it.
  const folder = `${victim.session}/victim`
  expect(fs.readdirSync(folder).filter((f) => f.startsWith('rs-pending-inbound-'))).toHaveLength(1)

  const manager = new ShardManager({ session: victim.session, socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })
  try {
    const again = shardEvent(manager, 'victim', 'messages.upsert', (d) => d.messages.some((m) => m.key.id === sent.key.id), 30000)
    await manager.createShard({ id: 'victim' })
    const upsert = await again
    expect(textOf(upsert.messages.find((m) => m.key.id === sent.key.id))).toBe('crash-me')
    // Handled this time: acknowledged, and its record removed.
    await until(() => fs.readdirSync(folder).every((f) => !f.startsWith('rs-pending-inbound-')))
  } finally {
    await manager.close()
  }
}, 120000)

test('a slow handler holds intake back: at most maxPendingMessages in handlers, none lost, each chat in order', async () => {
  const slow = await pairedManager(mock, ['slow'], {}, { maxPendingMessages: 2 })
  try {
    const slowJid = userJid(slow.socks.slow.user.id)
    const got = new Map()
    let active = 0
    let mostActive = 0
    let mostPending = 0
    slow.socks.slow.ev.process(async (events) => {
      const upsert = events['messages.upsert']
      if (!upsert) return
      active += 1
      mostActive = Math.max(mostActive, active)
      mostPending = Math.max(mostPending, slow.manager.pendingMessages)
      await new Promise((r) => setTimeout(r, 100))
      // The mock phone's own protocol messages (an app-state key share) may arrive too.
      for (const m of upsert.messages.filter((m) => !m.key.fromMe)) {
        const chat = m.key.remoteJid
        got.set(chat, [...(got.get(chat) ?? []), textOf(m)])
      }
      active -= 1
    })
    const PER_CHAT = 8
    const senders = ['s1', 's2', 's3'].map((id) => sender.socks[id])
    await Promise.all(
      senders.map(async (sock) => {
        for (let i = 0; i < PER_CHAT; i++) await sock.sendMessage(slowJid, { text: `m${i}` })
      }),
    )
    await until(() => [...got.values()].flat().length === senders.length * PER_CHAT, 30000)
    expect(got.size).toBe(senders.length)
    for (const texts of got.values()) expect(texts).toEqual(Array.from({ length: PER_CHAT }, (_, i) => `m${i}`))
    expect(mostActive).toBeGreaterThanOrEqual(1)
    expect(mostActive).toBeLessThanOrEqual(2)
    expect(mostPending).toBeLessThanOrEqual(2)
    await until(() => slow.manager.pendingMessages === 0)
  } finally {
    await slow.manager.close()
  }
}, 120000)

test('a handler waiting for the chat\'s next message gets it once handlerTimeoutMs has passed', async () => {
  const bot = await pairedManager(mock, ['asker'], {}, { handlerTimeoutMs: 1500 })
  try {
    const askerJid = userJid(bot.socks.asker.user.id)
    // A "collector": the handler of the question waits for the answer in the same chat.
    // Texts from the peer only: the mock phone's own protocol messages may arrive too.
    const nextText = () =>
      new Promise((resolve) => {
        const listener = ({ data }) => {
          const text = textOf(data.messages.find((m) => !m.key.fromMe) ?? {})
          if (text === undefined) return
          bot.manager.off('messages.upsert', listener)
          resolve(text)
        }
        bot.manager.on('messages.upsert', listener)
      })
    const answered = new Promise((resolve) => {
      const onQuestion = async ({ data }) => {
        if (data.messages.every((m) => m.key.fromMe)) return
        bot.manager.off('messages.upsert', onQuestion)
        // The question's handler waits for the chat's next message.
        resolve(await nextText())
      }
      bot.manager.on('messages.upsert', onQuestion)
    })
    const started = Date.now()
    await sender.socks.s1.sendMessage(askerJid, { text: 'question' })
    await sender.socks.s1.sendMessage(askerJid, { text: 'answer' })
    expect(await answered).toBe('answer')
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400)
  } finally {
    await bot.manager.close()
  }
}, 60000)

test('handlerTimeoutMs: 0 acknowledges on receipt, as Baileys: nothing waits for handlers', async () => {
  const bot = await pairedManager(mock, ['eager'], {}, { handlerTimeoutMs: 0 })
  try {
    const eagerJid = userJid(bot.socks.eager.user.id)
    let release
    const held = new Promise((r) => (release = r))
    const got = []
    bot.manager.on('messages.upsert', async ({ data }) => {
      if (data.messages[0].key.fromMe) return
      got.push(textOf(data.messages[0]))
      await held
    })
    for (const text of ['one', 'two']) await sender.socks.s1.sendMessage(eagerJid, { text })
    // Both arrive while the first handler is still running, and none is counted as waiting.
    await until(() => got.length === 2, 10000)
    expect(bot.manager.pendingMessages).toBe(0)
    release()
  } finally {
    await bot.manager.close()
  }
}, 60000)

test('maxPendingMessages and handlerTimeoutMs are checked', () => {
  expect(() => new ShardManager({ session: '/tmp/x', maxPendingMessages: 0 })).toThrow(/maxPendingMessages must be a whole number/)
  expect(() => new ShardManager({ session: '/tmp/x', handlerTimeoutMs: -1 })).toThrow(/handlerTimeoutMs must be a whole number/)
})

/** Resolves once the mock sees a device of `jid`'s account online. */
async function waitForLogin(jid, ms = 30000) {
  const phone = jid.split('@')[0]
  await until(async () => {
    const { accounts } = await (await fetch(`${mock.httpUrl}/admin/accounts`)).json()
    return accounts.find((a) => a.phone === phone)?.devices.some((d) => d.online)
  }, ms)
}

const textOf = (m) => m.message?.conversation ?? m.message?.extendedTextMessage?.text

async function until(check, ms = 15000) {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
