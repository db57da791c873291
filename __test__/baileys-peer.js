'use strict'
/**
 * A real Baileys 6.7.21 client in a child Node process, for end-to-end tests against the mock
 * server. Baileys is an ES module and jest's CommonJS sandbox cannot import it, so the Baileys
 * app runs as a plain ESM script, reports what happens as JSON lines, and takes commands on
 * stdin. QRs are scanned with the mock phone automatically.
 */
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')

const ROOT = path.join(__dirname, '..')

/**
 * A pino-compatible logger for a Baileys app in a child process: warnings and errors are
 * reported to the test as `{ event: 'log', level, msg, detail }` lines (needs `report`).
 */
const LOGGER_JS = String.raw`const logger = {
  level: 'warn',
  child() { return logger },
  trace() {},
  // Retry receipts (sent or received) are how a failed decryption shows at debug/info level.
  debug(obj, msg) { if (/retry/i.test(String(msg))) report({ event: 'retry', level: 'debug', msg: String(msg), detail: safe(obj) }) },
  info(obj, msg) {
    if (/retry/i.test(String(msg))) report({ event: 'retry', level: 'info', msg: String(msg), detail: safe(obj) })
    // App-state sync: 'synced <collection> to v<n>' (a bare string), or 'failed to sync state…'.
    const text = String(msg ?? (typeof obj === 'string' ? obj : ''))
    if (/^synced \S+ to v|failed to sync state/.test(text)) report({ event: 'app-state', msg: text, detail: safe(obj) })
  },
  warn(obj, msg) { report({ event: 'log', level: 'warn', msg: String(msg ?? (typeof obj === 'string' ? obj : '')), detail: safe(obj) }) },
  error(obj, msg) { report({ event: 'log', level: 'error', msg: String(msg ?? (typeof obj === 'string' ? obj : '')), detail: safe(obj) }) },
  fatal(obj, msg) { logger.error(obj, msg) },
}
function safe(obj) {
  try { return JSON.parse(JSON.stringify(obj, (k, v) => (v instanceof Error ? { message: v.message, stack: v.stack } : v))) } catch { return String(obj) }
}`

// One Baileys app. Env: MOCK_URL, AUTH_DIR. Commands on stdin (JSON lines): {cmd:'send', to, text},
// {cmd:'typing', to}, {cmd:'read', key}, {cmd:'subscribe', jid}, {cmd:'presence', type, to?},
// {cmd:'onWhatsApp', numbers}, {cmd:'sendMedia', to, content}, {cmd:'download', id}, {cmd:'downloadUrl', id}, {cmd:'group', method, args, tag},
// {cmd:'query', node}, {cmd:'call', method, args, tag}, {cmd:'vote', pollId, options}, {cmd:'exit'}; each answers with an
// event line (or 'cmd-error'). Group events are reported as { event: 'groups.upsert' | 'groups.update'
// | 'group-participants.update', data }.
const BAILEYS_APP = String.raw`
const { makeWASocket, useMultiFileAuthState, DisconnectReason, jidNormalizedUser, downloadMediaMessage, downloadEncryptedContent, getMediaKeys, toBuffer, toNumber, proto } = await import('baileys')
const { createHash, createHmac, createCipheriv, randomBytes } = await import('node:crypto')
// A poll vote encrypted as WhatsApp clients encrypt it (Baileys 6.7.21 only decrypts them):
// HMAC-SHA256 key derivation from the poll's messageSecret, AES-256-GCM with the tag appended.
function encryptPollVote(optionNames, { pollEncKey, pollCreatorJid, pollMsgId, voterJid }) {
  const selectedOptions = optionNames.map((n) => createHash('sha256').update(Buffer.from(n)).digest())
  const plain = proto.Message.PollVoteMessage.encode({ selectedOptions }).finish()
  const sign = Buffer.concat([Buffer.from(pollMsgId), Buffer.from(pollCreatorJid), Buffer.from(voterJid), Buffer.from('Poll Vote'), Buffer.from([1])])
  const key0 = createHmac('sha256', Buffer.alloc(32)).update(pollEncKey).digest()
  const key = createHmac('sha256', key0).update(sign).digest()
  const encIv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, encIv)
  cipher.setAAD(Buffer.from(pollMsgId + '\u0000' + voterJid))
  const encPayload = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()])
  return { encPayload, encIv }
}
// Media: Baileys builds https:// URLs (and downloads from mmg.whatsapp.net); a plain mock serves its
// CDN over HTTP on its own port, so an axios adapter sends those requests there. A TLS mock (wss://,
// its certificate trusted through NODE_EXTRA_CA_CERTS) gets Baileys' own requests, no adapter.
const axios = (await import('axios')).default
const mockTls = process.env.MOCK_URL.startsWith('wss:')
const mockHost = new URL(process.env.MOCK_URL).host
const httpAdapter = axios.getAdapter('http')
const mockAdapter = (config) => {
  const u = new URL(config.url)
  if (u.host === mockHost || u.host === 'mmg.whatsapp.net') {
    u.protocol = 'http:'
    u.host = mockHost
    config = { ...config, url: u.toString() }
  }
  return httpAdapter(config)
}
const receivedById = new Map()
const readline = await import('node:readline')
const report = (event) => process.stdout.write(JSON.stringify(event) + '\n')
${LOGGER_JS}
let sock
let pendingSave = Promise.resolve()
let pairingRequested = false
// A value as a bot sees it, without protobufjs' toJSON (which makes Longs and enums strings and
// drops empty arrays): own enumerable keys, Longs as numbers, bytes as base64.
function plainValue(value) {
  if (value == null || typeof value !== 'object') return value
  if (typeof value.low === 'number' && typeof value.high === 'number' && 'unsigned' in value) return toNumber(value)
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString('base64') }
  if (Array.isArray(value)) return value.map(plainValue)
  return Object.fromEntries(Object.keys(value).filter((k) => value[k] !== undefined).map((k) => [k, plainValue(value[k])]))
}
async function connect() {
  await pendingSave
  const { state, saveCreds } = await useMultiFileAuthState(process.env.AUTH_DIR)
  sock = makeWASocket({
    waWebSocketUrl: process.env.MOCK_URL,
    version: [2, 3000, 1],
    browser: ['baileys-shard-test', 'Chrome', '1.0.0'],
    logger,
    auth: state,
    options: mockTls ? {} : { adapter: mockAdapter },
    markOnlineOnConnect: false,
    connectTimeoutMs: 15000,
    defaultQueryTimeoutMs: 15000,
    ...JSON.parse(process.env.PEER_SOCKET || '{}'),
  })
  sock.ev.on('creds.update', () => { pendingSave = pendingSave.then(saveCreds) })
  sock.ev.on('messages.upsert', ({ messages, type, requestId }) => {
    // A message the phone resent (requestPlaceholderResend), whole, for the oracle.
    if (requestId) report({ event: 'resent', type, requestId, messages: plainValue(messages) })
    for (const m of messages) {
      if (m.key.id) receivedById.set(m.key.id, m)
      report({ event: 'upsert', type, key: m.key, text: m.message?.conversation ?? m.message?.extendedTextMessage?.text ?? null, stub: m.messageStubType ?? null, stubParams: m.messageStubParameters ?? null, message: m.message ?? null })
    }
  })
  sock.ev.on('presence.update', ({ id, presences }) => report({ event: 'presence', id, presences }))
  sock.ev.on('call', (calls) => report({ event: 'call', calls }))
  // Which events Baileys delivers together (one ev.process map), for the sock.ev oracle.
  sock.ev.process((events) => report({ event: 'process', names: Object.keys(events).sort() }))
  for (const name of ['groups.upsert', 'groups.update', 'group-participants.update', 'group.join-request', 'contacts.update']) {
    sock.ev.on(name, (data) => report({ event: name, data }))
  }
  sock.ev.on('messages.update', (updates) => {
    for (const u of updates) report({ event: 'update', key: u.key, status: u.update?.status ?? null, update: plainValue(u.update) })
  })
  // Account state as plain values (the oracle compares values, not protobufjs types).
  for (const name of ['messaging-history.set', 'chats.upsert', 'chats.update', 'chats.delete', 'contacts.upsert', 'messages.delete', 'labels.edit', 'labels.association']) {
    sock.ev.on(name, (data) => report({ event: name, data: plainValue(data) }))
  }
  // The whole update too (stars from app state), beside the per-key 'update' reports above.
  sock.ev.on('messages.update', (updates) => report({ event: 'messages.update', data: plainValue(updates) }))
  sock.ev.on('connection.update', (u) => {
    // The update as plain data, for the oracle (the QR's text and the close error differ per run).
    report({ event: 'connection.update', data: plainValue({ ...u, qr: u.qr && '<qr>', lastDisconnect: u.lastDisconnect && '<error>' }) })
    if (u.qr && process.env.PEER_PAIR_PHONE && !pairingRequested) {
      // Linked by a pairing code for this number instead of the QR: a device of that account.
      pairingRequested = true
      sock.requestPairingCode(process.env.PEER_PAIR_PHONE).then(
        (code) => report({ event: 'pairing-code', code }),
        (e) => report({ event: 'cmd-error', cmd: 'requestPairingCode', message: String(e?.stack ?? e) }),
      )
    } else if (u.qr) report({ event: 'qr', qr: u.qr })
    if (u.connection === 'open') report({ event: 'open', me: state.creds.me })
    if (u.receivedPendingNotifications) report({ event: 'pending-done' })
    if (u.connection === 'close') {
      const code = u.lastDisconnect?.error?.output?.statusCode
      report({ event: 'close', code })
      if (code === DisconnectReason.restartRequired) connect()
    }
  })
}
readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const cmd = JSON.parse(line)
  try {
    if (cmd.cmd === 'sendContent') {
      // Any AnyMessageContent (JSON); options.quoted is a WAMessage in JSON form.
      const msg = await sock.sendMessage(jidNormalizedUser(cmd.to), cmd.content, cmd.options ?? {})
      report({ event: 'sent', key: msg.key, message: msg.message })
    } else if (cmd.cmd === 'send') {
      const msg = await sock.sendMessage(jidNormalizedUser(cmd.to), { text: cmd.text })
      report({ event: 'sent', key: msg.key })
    } else if (cmd.cmd === 'typing') {
      await sock.sendPresenceUpdate('composing', jidNormalizedUser(cmd.to))
      report({ event: 'typed' })
    } else if (cmd.cmd === 'read') {
      await sock.readMessages([cmd.key])
      report({ event: 'read', key: cmd.key })
    } else if (cmd.cmd === 'subscribe') {
      await sock.presenceSubscribe(jidNormalizedUser(cmd.jid))
      report({ event: 'subscribed', jid: cmd.jid })
    } else if (cmd.cmd === 'presence') {
      await sock.sendPresenceUpdate(cmd.type, cmd.to ? jidNormalizedUser(cmd.to) : undefined)
      report({ event: 'presence-sent', type: cmd.type })
    } else if (cmd.cmd === 'onWhatsApp') {
      const result = await sock.onWhatsApp(...cmd.numbers)
      report({ event: 'onWhatsApp', result })
    } else if (cmd.cmd === 'group') {
      // Any sock.group* call: {cmd:'group', method, args, tag}; answers 'group-result' with the same tag.
      if (!/^group[A-Z]/.test(cmd.method) || typeof sock[cmd.method] !== 'function') throw new Error('not a group method: ' + cmd.method)
      const result = await sock[cmd.method](...(cmd.args ?? []))
      report({ event: 'group-result', tag: cmd.tag, method: cmd.method, result: result ?? null })
    } else if (cmd.cmd === 'sendMedia') {
      // {cmd:'sendMedia', to, content}: media given as { base64 } (a Buffer) or { url } (a path).
      const content = { ...cmd.content }
      for (const k of ['image', 'video', 'audio', 'document', 'sticker']) {
        if (content[k]?.base64) content[k] = Buffer.from(content[k].base64, 'base64')
      }
      const msg = await sock.sendMessage(jidNormalizedUser(cmd.to), content)
      report({ event: 'sent', key: msg.key, message: msg.message })
    } else if (cmd.cmd === 'download') {
      // {cmd:'download', id}: downloads the media of a message received earlier.
      const msg = receivedById.get(cmd.id)
      if (!msg) throw new Error('no message received with id ' + cmd.id)
      const buf = await downloadMediaMessage(msg, 'buffer', { options: { adapter: mockAdapter } })
      const { createHash } = await import('node:crypto')
      report({ event: 'downloaded', id: cmd.id, length: buf.length, sha256: createHash('sha256').update(buf).digest('hex') })
    } else if (cmd.cmd === 'downloadUrl') {
      // {cmd:'downloadUrl', id}: downloads the media of a message received earlier from the URL the
      // sender's upload got (Baileys' downloadMediaMessage always asks mmg.whatsapp.net instead).
      const msg = receivedById.get(cmd.id)
      if (!msg) throw new Error('no message received with id ' + cmd.id)
      const [kind, media] = Object.entries(msg.message).find(([k]) => /^(image|video|audio|document|sticker)Message$/.test(k))
      const keys = await getMediaKeys(media.mediaKey, kind.replace('Message', ''))
      const buf = await toBuffer(await downloadEncryptedContent(media.url, keys))
      const { createHash } = await import('node:crypto')
      report({ event: 'downloaded', id: cmd.id, url: media.url, length: buf.length, sha256: createHash('sha256').update(buf).digest('hex') })
    } else if (cmd.cmd === 'call') {
      // {cmd:'call', method, args, tag}: any other sock method that reads; answers 'call-result'.
      if (typeof sock[cmd.method] !== 'function' || ['end', 'logout'].includes(cmd.method)) throw new Error('not a socket method: ' + cmd.method)
      const result = await sock[cmd.method](...(cmd.args ?? []))
      report({ event: 'call-result', tag: cmd.tag, method: cmd.method, result: result ?? null })
    } else if (cmd.cmd === 'vote') {
      // {cmd:'vote', pollId, options}: votes on a poll received earlier, as a phone does.
      const poll = receivedById.get(cmd.pollId)
      if (!poll) throw new Error('no poll received with id ' + cmd.pollId)
      const me = jidNormalizedUser(sock.user.id)
      const pollCreatorJid = jidNormalizedUser(poll.key.participant || poll.key.remoteJid)
      const vote = encryptPollVote(cmd.options, { pollEncKey: poll.message.messageContextInfo.messageSecret, pollCreatorJid, pollMsgId: poll.key.id, voterJid: me })
      const message = { pollUpdateMessage: { pollCreationMessageKey: poll.key, vote, senderTimestampMs: Date.now() } }
      const id = await sock.relayMessage(poll.key.remoteJid, message, {})
      report({ event: 'voted', pollId: cmd.pollId, id })
    } else if (cmd.cmd === 'query') {
      // {cmd:'query', node}: Baileys' sock.query; answers 'query-result' with the reply node.
      const reply = await sock.query(cmd.node)
      report({ event: 'query-result', reply })
    } else if (cmd.cmd === 'exit') {
      sock.end(undefined)
      await pendingSave
      process.exit(0)
    }
  } catch (e) {
    report({ event: 'cmd-error', cmd: cmd.cmd, tag: cmd.tag, message: String(e?.stack ?? e) })
  }
})
await connect()
`

/** A Baileys child process with an event log and bounded waits. */
class BaileysChild {
  /**
   * `options.authDir`: an existing session folder to use (kept on close); default a fresh temp one.
   * `options.socket`: more Baileys socket options (JSON values). `options.pairPhone`: link by a
   * pairing code for that number (typed on the mock phone), as a device of that account.
   */
  constructor(name, mock, options = {}) {
    this.name = name
    this.events = []
    this.waiters = []
    this.ownsAuthDir = !options.authDir
    this.authDir = options.authDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `mock-relay-${name}-`))
    this.scanned = false
    this.calls = 0
    this.child = spawn(process.execPath, ['--input-type=module', '-e', BAILEYS_APP], {
      cwd: ROOT,
      // A TLS mock's self-signed certificate is trusted by the child's every TLS client (ws, axios).
      env: {
        ...process.env,
        MOCK_URL: mock.url,
        AUTH_DIR: this.authDir,
        PEER_SOCKET: JSON.stringify(options.socket ?? {}),
        PEER_PAIR_PHONE: options.pairPhone ?? '',
        ...(mock.certPath ? { NODE_EXTRA_CA_CERTS: mock.certPath } : {}),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.stderr = ''
    this.child.stderr.on('data', (d) => { this.stderr += d })
    this.child.on('exit', (code) => this.onEvent({ event: 'exit', code, stderr: this.stderr }))
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      let ev
      try { ev = JSON.parse(line) } catch { return this.onEvent({ event: 'stdout', line }) }
      if (ev.event === 'qr' && !this.scanned) {
        this.scanned = true
        this.scan = mock.scanQr(ev.qr).then(() => 'ok', (e) => e)
      }
      if (ev.event === 'pairing-code' && !this.scanned) {
        this.scanned = true
        // Baileys sends its code request without waiting for the server's answer, so the code
        // can reach us before the mock has the request: a 404 is tried again for a while.
        const enter = async () => {
          for (let attempt = 0; ; attempt++) {
            try {
              return await mock.enterPairingCode(options.pairPhone, ev.code)
            } catch (e) {
              if (attempt >= 20 || !/HTTP 404/.test(String(e?.message))) throw e
              await new Promise((r) => setTimeout(r, 250))
            }
          }
        }
        this.scan = enter().then(
          () => 'ok',
          (e) => {
            this.onEvent({ event: 'pairing-refused', message: String(e?.message ?? e) })
            return e
          },
        )
      }
      this.onEvent(ev)
    })
  }

  onEvent(ev) {
    this.events.push(ev)
    // A copy: a satisfied waiter is removed from the list inside the loop.
    for (const w of this.waiters.slice()) {
      if (w.pred(ev)) {
        this.waiters.splice(this.waiters.indexOf(w), 1)
        clearTimeout(w.timer)
        w.resolve(ev)
      }
    }
  }

  waitFor(what, pred, ms) {
    const wrapped = (ev) => pred(ev) || ev.event === 'exit'
    const seen = this.events.find(wrapped)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const w = {
        pred: wrapped,
        resolve,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(w), 1)
          reject(new Error(`[${this.name}] timed out after ${ms} ms waiting for ${what}; events:\n` + this.events.map((e) => JSON.stringify(e)).join('\n')))
        }, ms),
      }
      this.waiters.push(w)
    })
  }

  command(cmd) {
    this.child.stdin.write(JSON.stringify(cmd) + '\n')
  }

  /** Runs `sock[method](...args)` in the Baileys app; resolves with its result, rejects with its error. */
  async call(method, ...args) {
    const tag = `call-${++this.calls}`
    this.command({ cmd: 'call', method, args, tag })
    const done = await this.waitFor(`Baileys ${method}`, (e) => (e.event === 'call-result' || e.event === 'cmd-error') && e.tag === tag, 20000)
    if (done.event !== 'call-result') throw new Error(`Baileys ${method} failed: ${done.message ?? JSON.stringify(done)}`)
    return done.result
  }

  errors() {
    // The 515 restart after pairing is logged as an error by Baileys; that one is expected.
    return this.events.filter((e) => e.event === 'cmd-error' ||
      (e.event === 'log' && e.level === 'error' && !(e.msg === 'stream errored out' && JSON.stringify(e.detail).includes('515'))))
  }

  decryptionProblems() {
    return this.events.filter((e) => e.event === 'log' && /decrypt|session|prekey|pre-key|No SenderKey|Bad MAC/i.test(e.msg + JSON.stringify(e.detail)))
  }

  async close() {
    for (const w of this.waiters) clearTimeout(w.timer)
    if (this.child.exitCode === null) this.child.kill('SIGKILL')
    if (this.ownsAuthDir) fs.rmSync(this.authDir, { recursive: true, force: true })
  }
}

module.exports = { BaileysChild, LOGGER_JS }
