'use strict'
// Baileys 6.7.21's Example/example.ts event handling, run on a shard against the mock with a
// real Baileys client on the other side. The handler below is the example's own `sock.ev.process`
// handler with `--do-reply` on; what differs: `sock` comes from `manager.createShard`, the
// example's console output goes to `log`, its `startSock()` on close is left to the manager's
// reconnect policy, and its "get the poll creation message somehow" uses the same store as
// its `getMessage`. Calls the example makes only for special texts (requestPlaceholderResend,
// fetchMessageHistory) are not triggered here.
const { MockServer } = require('../testing')
const { delay, getAggregateVotesInPollMessage, isJidNewsletter, DisconnectReason, proto } = require('..')
const { waitFor, pairedManager, userJid, openBaileysPeer } = require('./helpers')

let mock
let manager
let sock
let peer
let peerJid
const log = []
/** The example's "store": every upserted message, for getMessage. */
const store = new Map()

async function getMessage(key) {
  return store.get(key.id)?.message ?? undefined
}

beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  let socks
  ;({ manager, socks } = await pairedManager(mock, ['bot'], { getMessage }))
  sock = socks.bot
  ;({ peer, me: { id: peerJid } } = await openBaileysPeer(mock, 'example-peer'))
  peerJid = userJid(peerJid)
  sock.ev.on('messages.upsert', ({ messages }) => messages.forEach((m) => store.set(m.key.id, m)))
  startExample(sock)
})
afterAll(async () => {
  await peer?.close()
  await manager?.close()
  await mock?.close()
})

// ---- the example's code, as it is (see the header for what differs) ----
const doReplies = true
function startExample(sock) {
  const sendMessageWTyping = async (msg, jid) => {
    await sock.presenceSubscribe(jid)
    await delay(500)

    await sock.sendPresenceUpdate('composing', jid)
    await delay(2000)

    await sock.sendPresenceUpdate('paused', jid)

    await sock.sendMessage(jid, msg)
  }

  sock.ev.process(async (events) => {
    if (events['connection.update']) {
      const update = events['connection.update']
      const { connection, lastDisconnect } = update
      if (connection === 'close') {
        if (lastDisconnect?.error?.output?.statusCode !== DisconnectReason.loggedOut) {
          log.push('reconnecting (the manager does it)')
        } else {
          log.push('Connection closed. You are logged out.')
        }
      }
      log.push(['connection update', update])
    }
    if (events['creds.update']) log.push('creds.update')
    if (events['labels.association']) log.push(events['labels.association'])
    if (events['labels.edit']) log.push(events['labels.edit'])
    if (events.call) log.push(['recv call event', events.call])
    if (events['messaging-history.set']) {
      const { chats, contacts, messages, isLatest, progress, syncType } = events['messaging-history.set']
      if (syncType === proto.HistorySync.HistorySyncType.ON_DEMAND) log.push(['received on-demand history sync, messages=', messages])
      log.push(`recv ${chats.length} chats, ${contacts.length} contacts, ${messages.length} msgs (is latest: ${isLatest}, progress: ${progress}%), type: ${syncType}`)
    }
    if (events['messages.upsert']) {
      const upsert = events['messages.upsert']
      log.push(['recv messages ', JSON.stringify(upsert, undefined, 2)])
      if (upsert.type === 'notify') {
        for (const msg of upsert.messages) {
          if (msg.message?.conversation || msg.message?.extendedTextMessage?.text) {
            if (!msg.key.fromMe && doReplies && !isJidNewsletter(msg.key?.remoteJid)) {
              log.push(['replying to', msg.key.remoteJid])
              await sock.readMessages([msg.key])
              await sendMessageWTyping({ text: 'Hello there!' }, msg.key.remoteJid)
            }
          }
        }
      }
    }
    if (events['messages.update']) {
      log.push(JSON.stringify(events['messages.update'], undefined, 2))
      for (const { key, update } of events['messages.update']) {
        if (update.pollUpdates) {
          const pollCreation = await getMessage(key)
          if (pollCreation) {
            log.push(['got poll update, aggregation: ', getAggregateVotesInPollMessage({ message: pollCreation, pollUpdates: update.pollUpdates })])
          }
        }
      }
    }
    if (events['message-receipt.update']) log.push(events['message-receipt.update'])
    if (events['messages.reaction']) log.push(events['messages.reaction'])
    if (events['presence.update']) log.push(events['presence.update'])
    if (events['chats.update']) log.push(events['chats.update'])
    if (events['contacts.update']) {
      for (const contact of events['contacts.update']) {
        if (typeof contact.imgUrl !== 'undefined') {
          const newUrl = contact.imgUrl === null ? null : await sock.profilePictureUrl(contact.id).catch(() => null)
          log.push(`contact ${contact.id} has a new profile pic: ${newUrl}`)
        }
      }
    }
    if (events['chats.delete']) log.push(['chats deleted ', events['chats.delete']])
  })
}
// ---- end of the example's code ----

const logged = (pred, what) => waitUntil(() => log.find(pred), what)
async function waitUntil(check, what, ms = 20000) {
  const end = Date.now() + ms
  for (;;) {
    const found = check()
    if (found) return found
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; log:\n${log.map((l) => JSON.stringify(l)).join('\n').slice(-4000)}`)
    await delay(100)
  }
}

test('a text from the peer is read, answered with typing, and the reply arrives', async () => {
  const sent = peer.waitFor('peer sent', (e) => e.event === 'sent', 15000)
  peer.command({ cmd: 'send', to: userJid(sock.user.id), text: 'hi bot' })
  await sent
  await logged((l) => Array.isArray(l) && l[0] === 'replying to' && l[1] === peerJid, 'the example to reply')
  const reply = await peer.waitFor('the example\'s reply', (e) => e.event === 'upsert' && e.text === 'Hello there!', 20000)
  expect(reply.key.remoteJid).toBe(userJid(sock.user.id))
  // The peer saw the bot compose, then pause (which Baileys reports as 'available').
  const presences = peer.events.filter((e) => e.event === 'presence').map((e) => Object.values(e.presences)[0]?.lastKnownPresence)
  expect(presences.slice(presences.indexOf('composing'))).toEqual(['composing', 'available'])
  expect(peer.errors()).toEqual([])
})

test('a poll vote from the peer is decrypted with getMessage and aggregated', async () => {
  const poll = await sock.sendMessage(peerJid, { poll: { name: 'Lunch?', values: ['Soto', 'Nasi goreng'], selectableCount: 1 } })
  await peer.waitFor('the poll', (e) => e.event === 'upsert' && e.key.id === poll.key.id, 20000)
  const update = waitFor(sock.ev, 'messages.update', (u) => u.some((x) => x.update.pollUpdates), 20000)
  peer.command({ cmd: 'vote', pollId: poll.key.id, options: ['Nasi goreng'] })
  const [pollUpdate] = (await update).filter((x) => x.update.pollUpdates)
  expect(pollUpdate.key).toMatchObject({ id: poll.key.id, fromMe: true, remoteJid: peerJid })
  expect(pollUpdate.update.pollUpdates[0]).toMatchObject({ pollUpdateMessageKey: { remoteJid: peerJid, fromMe: false }, senderTimestampMs: expect.any(Number) })
  const [, tally] = await logged((l) => Array.isArray(l) && l[0] === 'got poll update, aggregation: ', 'the aggregation')
  expect(tally).toEqual([
    { name: 'Soto', voters: [] },
    { name: 'Nasi goreng', voters: [peerJid] },
  ])
  // Baileys' own aggregation gives the same from our pollUpdates.
  const baileys = await import('baileys')
  expect(baileys.getAggregateVotesInPollMessage({ message: await getMessage(pollUpdate.key), pollUpdates: pollUpdate.update.pollUpdates })).toEqual(tally)
})
