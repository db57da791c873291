'use strict'
// The built-in mock WhatsApp server (exported by baileys-shard/testing). It runs in a child
// process of its own (so a benchmark measures only the bot's process) and speaks the real
// protocol: Noise XX, binary nodes, QR pairing through a mock phone.
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const https = require('node:https')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')
const { findMockBinary } = require('./mock-binary')

class MockServer {
  /** @private */
  constructor(child, url, certPath, certDir) {
    this._child = child
    /** WebSocket URL clients connect to, e.g. `ws://127.0.0.1:41234/ws/chat` (`wss://` with `tls`). */
    this.url = url
    const u = new URL(url)
    /** TCP port the mock listens on. */
    this.port = Number(u.port)
    /** Base URL of the admin HTTP API and media CDN (same port; `https://` with `tls`). */
    this.httpUrl = `${u.protocol === 'wss:' ? 'https' : 'http'}://${u.host}`
    /** With `tls`: the file holding the mock's self-signed certificate (PEM), e.g. for `NODE_EXTRA_CA_CERTS`. */
    this.certPath = certPath ?? null
    /** With `tls`: the mock's self-signed certificate (PEM), e.g. for `tls.connect({ ca })`. */
    this.certificate = certPath ? fs.readFileSync(certPath, 'utf8') : null
    this._certDir = certDir
    this._exited = new Promise((resolve) => child.once('exit', resolve))
    // The certificate file is ours: it goes with the process, however that ends.
    if (certDir) this._exited.then(() => fs.rmSync(certDir, { recursive: true, force: true }))
  }

  /**
   * Starts a mock server process. Its log (stderr) shows warnings and errors; set `MOCK_LOG`
   * (`info`, `debug`, `trace`) in the environment or in `options.env` to see more.
   * With `tls: true` the port speaks TLS (`wss://`, `https://`, media CDN included) with a
   * self-signed certificate for `localhost` and `127.0.0.1` (`certificate`, `certPath`).
   * @param {{ port?: number, tls?: boolean, env?: Record<string, string>, startTimeoutMs?: number }} [options]
   * @returns {Promise<MockServer>}
   */
  static start(options = {}) {
    const { port = 0, tls = false, env = {}, startTimeoutMs = 15000 } = options
    const bin = findMockBinary()
    const args = ['--port', String(port)]
    const certDir = tls ? fs.mkdtempSync(path.join(os.tmpdir(), 'baileys-shard-mock-tls-')) : null
    if (certDir) args.push('--tls', '--cert-out', path.join(certDir, 'mock-cert.pem'))
    const child = spawn(bin, args, {
      env: { ...process.env, MOCK_LOG: process.env.MOCK_LOG ?? 'warn', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    return new Promise((resolve, reject) => {
      let settled = false
      const fail = (err) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (certDir) fs.rmSync(certDir, { recursive: true, force: true })
        reject(err)
      }
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        fail(new Error(`mock server did not print its URL within ${startTimeoutMs} ms`))
      }, startTimeoutMs)
      // First line: the WebSocket URL; with TLS, second line: the certificate's path.
      const wanted = tls ? 2 : 1
      const got = []
      const lines = readline.createInterface({ input: child.stdout })
      lines.on('line', (line) => {
        if (got.length === wanted) return
        got.push(line.trim())
        if (got.length < wanted || settled) return
        settled = true
        clearTimeout(timer)
        // Keep draining stdout so the child never blocks on a full pipe.
        child.stdout.resume()
        resolve(new MockServer(child, got[0], got[1], certDir))
      })
      child.once('error', fail)
      child.once('exit', (code, signal) => fail(new Error(`mock server exited before start (code ${code}, signal ${signal})`)))
    })
  }

  /**
   * One admin request, over `node:http` or, with TLS, `node:https` trusting the mock's
   * certificate (Node's fetch has no per-request CA). Resolves with the status and body text.
   * @private
   * @param {string} method
   * @param {string} pathname e.g. `/admin/stats`
   * @param {{ body?: string, headers?: Record<string, string> }} [options]
   * @returns {Promise<{ status: number, ok: boolean, text: string }>}
   */
  _request(method, pathname, { body, headers = {} } = {}) {
    const url = new URL(pathname, this.httpUrl)
    const client = url.protocol === 'https:' ? https : http
    const tlsOptions = this.certificate ? { ca: this.certificate } : {}
    const sent = body === undefined ? undefined : Buffer.from(body)
    const allHeaders = sent ? { 'content-length': String(sent.length), ...headers } : headers
    return new Promise((resolve, reject) => {
      const req = client.request(url, { method, headers: allHeaders, ...tlsOptions }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const status = res.statusCode ?? 0
          resolve({ status, ok: status >= 200 && status < 300, text: Buffer.concat(chunks).toString('utf8') })
        })
      })
      req.on('error', reject)
      req.end(sent)
    })
  }

  /**
   * Makes the mock phone scan a QR string (as shown in `login.update`), pairing that client.
   * @param {string} qr
   * @returns {Promise<void>} rejects when the mock refuses the QR (unknown or expired ref).
   */
  async scanQr(qr) {
    const res = await this._request('POST', '/admin/mock-phone/scan-qr', { body: qr })
    if (!res.ok) throw new Error(`mock phone refused the QR: HTTP ${res.status} ${res.text}`)
  }

  /**
   * POSTs a JSON body to an admin endpoint: the mock's answer (parsed when it is JSON); rejects
   * with the mock's reason when it refuses.
   * @private
   * @param {string} path
   * @param {object} body
   * @param {string} what what is posted, for the error
   */
  async _adminPost(path, body, what) {
    const res = await this._request('POST', path, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const text = res.text
    if (!res.ok) throw new Error(`mock refused ${what}: HTTP ${res.status} ${text.trim()}`)
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }

  // ---- pairing-code login --------------------------------------------------------------
  /**
   * Makes the mock phone's user type a pairing code (as shown in `login.update` with
   * `type: 'pairing'`) for the number the companion asked it for, linking that companion as a
   * device of `phoneNumber`.
   * @param {string} phoneNumber the number the code was requested for, e.g. `'15551234567'`
   * @param {string} code the 8-character code
   * @returns {Promise<{ jid: string, lid: string, phone: string, device: number, account: string }>}
   *   the linked device; rejects with the mock's message when it refuses (HTTP 400 wrong or
   *   malformed code, 404 no companion waiting for that number, 410 code expired).
   */
  async enterPairingCode(phoneNumber, code) {
    return this._adminPost('/admin/mock-phone/pair-code', { phone: String(phoneNumber), code: String(code) }, 'the pairing code')
  }
  // ---- end pairing-code login ----------------------------------------------------------

  /**
   * Makes an account a business with this profile; `getBusinessProfile` then answers with it.
   * @param {{ phone: string, description?: string, email?: string, website?: string, category?: string, address?: string, timezone?: string, hours?: { day_of_week: string, mode: string, open_time?: number, close_time?: number }[] }} profile
   * @returns {Promise<void>}
   */
  async setBusinessProfile(profile) {
    await this._adminPost('/admin/business-profile', profile, 'the business profile')
  }

  /**
   * Gives a business collections of its products and orders, as the WhatsApp Business app
   * makes them (`getCollections`, `getOrderDetails` then answer with them).
   * @param {{ phone: string, collections?: { id: string, name: string, productIds: string[] }[], orders?: { id: string, token: string, items: { productId: string, quantity: number }[] }[] }} catalog
   * @returns {Promise<void>}
   */
  async seedBusinessCatalog(catalog) {
    await this._adminPost('/admin/business-catalog', catalog, 'the business catalog')
  }

  /**
   * Gives account `phone` a lived-in state: each device that links to it afterwards gets it
   * from the mock phone as history sync (`INITIAL_BOOTSTRAP`, `PUSH_NAME`, then `RECENT`, or
   * `FULL` for a device that asked for the full history), as a real phone sends it.
   * Replaces an earlier seed. Messages can be `{ from, text, timestamp?, id?, chat?, fromMe? }`
   * or text `WAMessage`s; `generate` makes an account of that size (the same for one `seed`).
   * `historyFault: 'truncated'` spoils the next history chunk sent (it decrypts, but does not
   * inflate), to test a client's handling of it.
   * @param {string} phone the account's number, e.g. `'15551234567'`
   * @param {{ pushName?: string, contacts?: { id: string, name?: string, notify?: string }[], chats?: { id: string, name?: string, unreadCount?: number, archived?: boolean, pinned?: number, muteEndTime?: number, conversationTimestamp?: number }[], messages?: object[], generate?: { contacts?: number, chats?: number, messagesPerChat?: number, groups?: number, seed?: number }, historyFault?: 'truncated' }} state
   * @returns {Promise<{ contacts: number, chats: number, messages: number }>} what the account now holds
   */
  async seedAccount(phone, state) {
    const number = String(phone).replace(/^\+/, '')
    return this._adminPost(`/admin/accounts/${encodeURIComponent(number)}/seed`, state, 'the account seed')
  }

  /**
   * The mock phone of account `phone` changes its app state, as a user does on the phone: each
   * action is one of Baileys' `ChatModification` shapes — `{ jid, archive }`, `{ jid, pin }`,
   * `{ jid, mute: endMs | null }`, `{ jid, markRead }`, `{ contact: { id, fullName?, firstName? } }`
   * or `{ contact: { id, remove: true } }`. The phone encrypts them into one patch per collection
   * with the account's app-state key and sends `server_sync` to every linked device, which then
   * syncs them (Baileys: `chats.update`, `contacts.upsert`).
   * @param {string} phone the account's number (a device must have linked to it)
   * @param {object[]} actions
   * @returns {Promise<{ collections: Record<string, number> }>} every collection's version
   */
  async phoneAppState(phone, actions) {
    const number = String(phone).replace(/^\+/, '')
    return this._adminPost('/admin/mock-phone/app-state', { phone: number, actions }, 'the app-state actions')
  }

  /**
   * The mock phone of account `phone` makes one or more of Baileys' `ChatModification`s, each
   * with the chat's `jid` (as `sock.chatModify(mod, jid)` takes them): `archive`, `pin`, `mute`,
   * `markRead`, `clear`, `delete` (with optional `lastMessages`), `star`
   * (`{ messages: [{ id, fromMe }], star }`), `deleteForMe` (`{ key, timestamp, deleteMedia }`),
   * `contact` (a `ContactAction`, or `null` to remove it), and without a `jid`:
   * `pushNameSetting`, `addLabel` (`{ id, name, color, deleted?, predefinedId? }`); with one:
   * `addChatLabel` / `removeChatLabel` (`{ labelId }`), `addMessageLabel` /
   * `removeMessageLabel` (`{ labelId, messageId }`). The phone writes them as a real phone does
   * (index, collection and version as Baileys and WhatsApp Web write them), one patch per
   * collection, and sends `server_sync` to every linked device.
   * @param {string} phone the account's number (a device must have linked to it)
   * @param {object | object[]} action one `{ jid?, ...ChatModification }` or a list of them
   * @returns {Promise<{ collections: Record<string, number> }>} every collection's version
   */
  async phoneAction(phone, action) {
    return this.phoneAppState(phone, Array.isArray(action) ? action : [action])
  }

  /**
   * The mock phone of account `from` calls account `to` (voice, or video with `{ video: true }`):
   * every device of `to` gets the offer, as Baileys' `call` event with `status: 'offer'`. The
   * call rings until a device rejects or accepts it (the callee's other devices then get the
   * server's `terminate`, Baileys' `status: 'terminate'`), the caller hangs up (`endCall`), or —
   * with `timeoutMs` — nobody answered in that time: every device gets the `terminate` with
   * `reason="timeout"` that the server sends then (Baileys' `status: 'timeout'`).
   * @param {string} fromPhone caller's phone number
   * @param {string} to callee's phone number, or its jid (`…@s.whatsapp.net` or `…@lid`)
   * @param {{ video?: boolean, timeoutMs?: number }} [options]
   * @returns {Promise<{ id: string, devices: number }>} the call id and how many devices ring
   */
  async ringCall(fromPhone, to, options = {}) {
    const body = { from: String(fromPhone).replace(/^\+/, ''), to: String(to).replace(/^\+/, ''), video: !!options.video }
    if (options.timeoutMs !== undefined) {
      if (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 0) throw new TypeError('ringCall: timeoutMs must be a whole number of milliseconds')
      body.timeoutMs = options.timeoutMs
    }
    return this._adminPost('/admin/mock-phone/call', body, 'the call')
  }

  /**
   * `ringCall` without a timeout: the call rings until a device answers or `endCall`.
   * @param {string} from caller's phone number
   * @param {string} to callee's phone number
   * @param {{ video?: boolean }} [options]
   * @returns {Promise<{ id: string, devices: number }>} the call id
   */
  async placeCall(from, to, options = {}) {
    return this.ringCall(from, to, { video: options.video })
  }

  /**
   * The caller hangs up a call that still rings: every device of the callee gets the server's
   * `terminate` (Baileys' `call` event with `status: 'terminate'`). Rejects if the call is
   * unknown or already over (answered, timed out or ended).
   * @param {string} id the call id from `ringCall`
   * @returns {Promise<{ id: string, devices: number }>}
   */
  async endCall(id) {
    return this._adminPost(`/admin/calls/${encodeURIComponent(id)}/end`, {}, 'the hang-up')
  }

  /**
   * Delivers to every linked device of `to` a message from `from`'s phone that cannot be
   * decrypted (random ciphertext), as when the two sides' Signal sessions disagree. Clients
   * report it (Baileys: a CIPHERTEXT stub in `messages.upsert`) and send a retry receipt.
   * @param {string} from sender's phone number
   * @param {string} to recipient's phone number
   * @returns {Promise<{ id: string, devices: number }>} the message id
   */
  async sendUndecryptable(from, to) {
    return this._adminPost('/admin/messages/undecryptable', { from: String(from), to: String(to) }, 'the undecryptable message')
  }

  /**
   * A call placed with `ringCall`/`placeCall`: its `status` (`'ringing'`, `'rejected'`,
   * `'accepted'`, `'timeout'` or `'ended'`), what the callee's devices answered, e.g.
   * `{ answers: [{ device: '15551234567:3', action: 'reject', attrs: { 'call-id': …, count: '0' } }] }`,
   * and what the server sent each device (`sent: [{ device, action: 'offer' | 'terminate', reason }]`).
   * @param {string} id
   */
  async callLog(id) {
    const res = await this._request('GET', `/admin/calls/${encodeURIComponent(id)}`)
    const text = res.text
    if (!res.ok) throw new Error(`mock has no such call: HTTP ${res.status} ${text.trim()}`)
    return JSON.parse(text)
  }

  // ---- fault injection (crates/mock-server/src/faults/) --------------------------------
  /**
   * POSTs a JSON body to a fault endpoint and returns the mock's JSON answer.
   * @private
   * @param {string} path e.g. `/admin/faults/drop`
   * @param {object} [body]
   */
  _fault(path, body = {}) {
    return this._adminPost(path, body, path)
  }

  /**
   * Closes connections abruptly (no `<stream:error>`, no WebSocket close frame), as a network
   * failure would. Without a target: every connection.
   * @param {{ phone?: string, jid?: string }} [target] a phone number (all its devices) or one
   *   device jid (`'15551234567:1@s.whatsapp.net'`, or its LID jid)
   * @returns {Promise<number>} how many connections were dropped
   */
  async dropConnections(target = {}) {
    return (await this._fault('/admin/faults/drop', target)).dropped
  }

  /**
   * Drops connections at random while traffic flows: each frame the mock is about to send to a
   * logged-in device (`on: 'message'`: each live `<message>`, not the offline redelivery after a
   * login; `on: 'frame'`: any frame) kills that connection with `probability`. With
   * `at: 'before'` the frame is lost (the mock redelivers it from the offline queue), with
   * `'after'` it is written first (the client's receipt is likely lost: it gets it again and
   * must deduplicate); `'random'` (default) picks per drop. `on: 'interval'` instead draws a
   * drop for every logged-in connection every `intervalMs` (default 1000), whatever it is doing
   * (no `at`). `maxDrops` stops it after that many drops. `probability: 0` clears it.
   * @param {{ probability: number, on?: 'message'|'frame'|'interval', at?: 'before'|'after'|'random', intervalMs?: number, maxDrops?: number }} options
   * @returns {Promise<object|null>} the drop rate in force (`null` when cleared)
   */
  async setDropRate(options) {
    return (await this._fault('/admin/faults/drop-rate', options)).dropRate
  }

  /**
   * Sends `<stream:error>` as WhatsApp does, then closes: 515 (restart required), 440
   * (`<conflict type="replaced"/>`: Baileys 440, whatsapp-rust `StreamReplaced`), 401
   * (`code="401"` + `<conflict type="device_removed"/>`: logged out), 503, or any 400..599.
   * @param {number} code
   * @param {{ phone?: string, jid?: string }} [target] default: every connection
   * @returns {Promise<number>} how many connections it was sent to
   */
  async sendStreamError(code, target = {}) {
    return (await this._fault('/admin/faults/stream-error', { code, ...target })).sent
  }

  /**
   * Answers the next `count` logins (of `phone`, or of anyone) with `<failure reason>` and
   * closes: 401 logged out, 403 locked, 503/500 retryable, ... Failures armed earlier are used
   * first.
   * @param {{ reason: number, count?: number, phone?: string }} options
   */
  async failNextLogins(options) {
    await this._fault('/admin/faults/login-failure', options)
  }

  /**
   * Answers the next `count` (default 1) pairing-code requests (`companion_hello`), of `phone`
   * or of any number, with an IQ error as WhatsApp does when it throttles a number: `code` 429
   * `rate-overlimit` (default), 400 `bad-request` (what WhatsApp also says when throttling), 403
   * `forbidden`, 452 `feature-not-available` or 500 `internal-server-error`. Nothing is
   * remembered for a refused request, so no code can be confirmed for it. Armed refusals are
   * used oldest first; {@link MockServer#clearFaults} disarms them.
   * @param {{ count?: number, code?: 400|403|429|452|500, phone?: string }} [options]
   */
  async refusePairingCodes(options = {}) {
    await this._fault('/admin/faults/refuse-pairing-code', options)
  }

  /**
   * Spoils the next `count` (default 1) app-state answers carrying patches (`w:sync:app:state`)
   * to the targeted devices (`phone`: all its devices, `jid`: one; default: every device):
   * `kind` `'mutationMac'` (a mutation's content does not match its MAC), `'patchMac'` (the
   * patch MAC is wrong), `'snapshotMac'` (the LTHash MAC after the patch is wrong, the patch
   * itself authentic) or `'unknownCollection'` (the answer names a collection that does not
   * exist in place of the one asked for). The patches the mock stores stay intact, so a later
   * sync gets good ones. Armed faults are used oldest first; {@link MockServer#clearFaults}
   * disarms them.
   * @param {{ kind: 'mutationMac'|'patchMac'|'snapshotMac'|'unknownCollection', count?: number, phone?: string, jid?: string }} options
   * @returns {Promise<{ appState: { kind: string, remaining: number, target: object }[] }>} the app-state faults armed
   */
  async spoilAppState(options) {
    const body = { ...options }
    if (body.phone !== undefined) body.phone = String(body.phone).replace(/^\+/, '')
    return this._fault('/admin/faults/app-state', body)
  }

  /**
   * Holds frames to clients for `ms` before writing them (`only: 'iq'`: IQ responses only,
   * other frames overtake them) until cleared with `ms: 0` or {@link MockServer#clearFaults}.
   * @param {{ ms: number, only?: 'all'|'iq' }} options
   */
  async delayResponses(options) {
    await this._fault('/admin/faults/delay', options)
  }

  /**
   * Sends one malformed frame to the target's connection(s): `kind: 'node'` (default) decrypts
   * but is not a binary node; `'cipher'` fails Noise authentication. With `close` (default
   * true) the mock closes that socket right after the frame.
   * @param {{ phone?: string, jid?: string }} target required
   * @param {{ kind?: 'node'|'cipher', close?: boolean }} [options]
   * @returns {Promise<number>} how many connections got it
   */
  async sendMalformedFrame(target, options = {}) {
    return (await this._fault('/admin/faults/malformed-frame', { ...target, ...options })).sent
  }

  /**
   * Refuses WebSocket connections for `ms`: `how: 'close'` (default) closes the socket after
   * the upgrade request, `'http503'` answers it with HTTP 503. The admin API keeps working.
   * @param {number} ms
   * @param {{ how?: 'close'|'http503' }} [options]
   */
  async refuseConnections(ms, options = {}) {
    await this._fault('/admin/faults/refuse', { ms, ...options })
  }

  /**
   * Simulates a server restart: drops every connection and refuses new ones for `downMs`
   * (default 1000), keeping all state (accounts, devices, pre-keys, offline queues), so clients
   * come back with their sessions.
   * @param {{ downMs?: number }} [options]
   * @returns {Promise<number>} how many connections were dropped
   */
  async restart(options = {}) {
    return (await this._fault('/admin/faults/restart', options)).dropped
  }

  /**
   * Clears every fault in force (drop rate, delay, armed login failures and pairing-code
   * refusals, refusal of connections).
   */
  async clearFaults() {
    await this._fault('/admin/faults/clear')
  }

  /**
   * Counters since start or the last {@link MockServer#resetStats}: `handshakes` (`started`,
   * `completed` (logged in), `registrations` (QR/pairing-code logins), `failed`, `current`
   * (Noise handshake begun, login not answered yet), `peak` (max `current`)), `connections`
   * (`live`, `loggedIn`, `closing`), and `faults` (what was injected).
   * @returns {Promise<MockStats>}
   */
  async stats() {
    const res = await this._request('GET', '/admin/stats')
    if (!res.ok) throw new Error(`mock stats: HTTP ${res.status} ${res.text}`)
    return JSON.parse(res.text)
  }

  /**
   * Zeroes the counters; the handshake peak restarts from the handshakes in progress now.
   * @returns {Promise<MockStats>} the counters after the reset
   */
  async resetStats() {
    return this._fault('/admin/stats/reset')
  }
  // ---- end fault injection -------------------------------------------------------------

  /** Stops the mock server process. */
  async close() {
    if (this._child.exitCode === null && this._child.signalCode === null) this._child.kill('SIGTERM')
    await this._exited
  }
}

module.exports = { MockServer }
