'use strict'
/**
 * History sync, Baileys side: the same as history-ours.js with plain Baileys 6.7.21 sockets
 * (`syncFullHistory: true`, linked by `requestPairingCode`), each on its own
 * `useMultiFileAuthState` folder and recreated after the restart that follows pairing.
 */
const path = require('node:path')
const c = require('./common')

const SIDE = 'baileys'

/**
 * Baileys downloads history from mmg.whatsapp.net over https; the plain mock serves its CDN over
 * http on its own port, so an axios adapter sends those requests there (as __test__/baileys-peer.js).
 */
async function mockMediaAdapter() {
  const axios = (await import('axios')).default
  const http = axios.getAdapter('http')
  const mockHost = new URL(c.mockUrl).host
  return (config) => {
    const u = new URL(config.url)
    if (u.host === mockHost || u.host === 'mmg.whatsapp.net') {
      u.protocol = 'http:'
      u.host = mockHost
      config = { ...config, url: u.toString() }
    }
    return http(config)
  }
}

async function main() {
  const { makeWASocket, useMultiFileAuthState, DisconnectReason } = await c.loadBaileys()
  const adapter = await mockMediaAdapter()
  const phones = await c.seededPhones(c.opts.historyAccounts)
  const root = c.tempDir('bench-history-baileys-')
  const errors = []
  const counter = c.historyCounter(phones)
  const socks = new Map()
  let stopped = false

  async function start(phone, saving = Promise.resolve()) {
    await saving
    const { state, saveCreds } = await useMultiFileAuthState(path.join(root, phone))
    let pendingSave = Promise.resolve()
    let asked = false
    const sock = makeWASocket({
      waWebSocketUrl: c.mockUrl, version: [2, 3000, 1], logger: c.silentLogger, auth: state, markOnlineOnConnect: false, syncFullHistory: true, options: { adapter },
    })
    socks.set(phone, sock)
    sock.ev.on('creds.update', () => { pendingSave = pendingSave.then(saveCreds) })
    sock.ev.on('messaging-history.set', (data) => counter.add(phone, data))
    sock.ev.on('connection.update', (u) => {
      if (u.qr && !asked && !state.creds.registered) {
        asked = true
        sock.requestPairingCode(phone).then((code) => c.enterPairingCode(phone, code)).catch((e) => errors.push(`${phone}: ${e.message}`))
      }
      if (u.connection === 'close') {
        const code = u.lastDisconnect?.error?.output?.statusCode
        if (code === DisconnectReason.loggedOut) errors.push(`${phone}: logged out`)
        else if (!stopped) start(phone, pendingSave).catch((e) => errors.push(`${phone}: ${e.message}`))
      }
    })
  }

  await c.measureHistory(SIDE, phones.length, {
    link: async () => {
      for (const phone of phones) await start(phone)
    },
    counter,
    errors,
    cleanup: async () => {
      stopped = true
      for (const sock of socks.values()) { try { sock.end(undefined) } catch {} }
    },
  })
}

main().catch((e) => { c.progress(SIDE, `failed: ${e.stack ?? e}`); process.exit(1) })
