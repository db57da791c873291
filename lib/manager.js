'use strict'
const { EventEmitter } = require('node:events')
const path = require('node:path')
const native = require('./native')
const { ShardError, fromNative, boom } = require('./errors')
const { ShardInfo } = require('./shard-info')
const { ShardSocket } = require('./socket')
const { isLogger, shardLogger } = require('./logger')
const { emitPollVotes } = require('./poll-votes')
const { withoutIgnored, batchWithoutIgnored } = require('./ignored-jids')
const { wantedHistory } = require('./history-filter')
const { proxyOptions } = require('./proxy-agents')
const { collecting, emitCollecting, allFinished } = require('./handler-settlement')

// Baileys socket events the manager re-emits as `{ shardId, sock, data }`.
const FORWARDED = new Set([
  'messages.upsert', 'messages.update', 'messages.delete', 'messages.reaction', 'message-receipt.update',
  'messaging-history.set', 'chats.upsert', 'chats.update', 'chats.delete', 'blocklist.set', 'blocklist.update',
  'call', 'contacts.upsert', 'contacts.update', 'groups.upsert', 'groups.update', 'group-participants.update',
  'presence.update', 'creds.update', 'labels.edit', 'labels.association', 'group.join-request',
])

/** `call` items carry their `date` as milliseconds from the native side; Baileys gives a `Date`. */
function withDates(batch) {
  // Most batches carry no call: leave them as they are (this runs for every inbound message).
  if (!batch.some((e) => e.event === 'call')) return batch
  return batch.map((e) => (e.event === 'call' ? { event: e.event, data: e.data.map((c) => ({ ...c, date: new Date(c.date) })) } : e))
}

/**
 * The socket options the native side reads: plain values only. Functions and objects
 * (`logger`, `getMessage`, caches, `auth`) stay in JS; a `URL` becomes its string; proxy
 * agents become the proxy URLs they stand for.
 * A `logger` without pino's methods is INVALID_ARGUMENT.
 */
function nativeSocketConfig(config) {
  if (config == null || typeof config !== 'object' || Array.isArray(config)) return config ?? null
  if (config.logger != null && !isLogger(config.logger)) {
    throw new ShardError('socket option logger must be pino-compatible (trace, debug, info, warn, error and fatal methods)', 'INVALID_ARGUMENT')
  }
  for (const name of ['getMessage', 'shouldIgnoreJid', 'patchMessageBeforeSending', 'shouldSyncHistoryMessage']) {
    if (config[name] != null && typeof config[name] !== 'function') throw new ShardError(`socket option ${name} must be a function`, 'INVALID_ARGUMENT')
  }
  const isPlain = (v) => v === null || Array.isArray(v) || (typeof v !== 'object' && typeof v !== 'function')
  const plain = {}
  for (const [key, value] of Object.entries(config)) {
    if (value instanceof URL) plain[key] = value.toString()
    else if (isPlain(value)) plain[key] = value
  }
  // The function stays here (lib/history-filter.js calls it); the native side only learns
  // that history is wanted.
  if (typeof config.shouldSyncHistoryMessage === 'function') plain.historyFilter = true
  return { ...plain, ...proxyOptions(config) }
}

/**
 * Runs many WhatsApp sessions ("shards") in one process. Emits `login.update`,
 * `shard.error` and every Baileys event with the shard's id.
 */
class ShardManager extends EventEmitter {
  /**
   * @param {{ session?: string, socketConfig?: object, maxConcurrentHandshakes?: number, maxPendingMessages?: number, handlerTimeoutMs?: number, reconnect?: { initialDelayMs?: number, maxDelayMs?: number, stableAfterMs?: number, jitter?: number } }} [config]
   *   `maxConcurrentHandshakes` (default 16) caps how many shards log in at the same moment,
   *   so a fleet reconnecting after a server restart does not stampede. A received message is
   *   acknowledged to WhatsApp only once its handlers have finished; `maxPendingMessages`
   *   (default 1000) caps how many wait in handlers at once, the rest wait unacknowledged;
   *   after `handlerTimeoutMs` (default 10000; 0: no wait, as Baileys) a message is acknowledged
   *   even if a handler is still running, so a handler waiting for the chat's next message works. `reconnect` tunes the
   *   backoff after a dropped connection (defaults: 1 s doubling to 120 s, ±20 % jitter, reset
   *   after 30 s connected).
   * @throws {ShardError} `INVALID_ARGUMENT` for malformed options.
   */
  constructor(config = {}) {
    super()
    /** Folder holding one session folder per shard. */
    this.sessionDir = path.resolve(config.session ?? './sessions')
    try {
      this._native = new native.NativeShardManager(
        {
          session: this.sessionDir,
          socketConfig: nativeSocketConfig(config.socketConfig),
          maxConcurrentHandshakes: config.maxConcurrentHandshakes ?? null,
          maxPendingMessages: config.maxPendingMessages ?? null,
          handlerTimeoutMs: config.handlerTimeoutMs ?? null,
          reconnect: config.reconnect ?? null,
        },
        () => this._drain(),
      )
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
    /** The socket options that stay in JS (functions, loggers): the manager's, then each shard's. */
    this._socketConfig = config.socketConfig ?? {}
    /** @type {Map<string, object>} */
    this._shardSocketOptions = new Map()
    /** @type {Map<string, ShardSocket>} */
    this._socks = new Map()
    /** @type {Map<string, EventEmitter>} */
    this._emitters = new Map()
    this._keepAlive = null
    // As the original does at start-up: move folders with unreadable creds.json aside
    // (to <session>/.corrupt/, never deleted; registered sessions are never touched).
    this.cleanupCorruptSessions().catch(() => {})
  }

  /**
   * True when this process runs a testing build of the addon (through `baileys-shard/testing`
   * or `BAILEYS_SHARD_NATIVE`): it trusts the mock server's certificate, skips WhatsApp's
   * certificate checks and connects to servers on this machine only. False for the addon users run.
   * @type {boolean}
   */
  get skipsCertificateChecks() {
    return native.skipsCertificateChecks()
  }

  /**
   * How many received messages are in handlers now, not yet acknowledged to WhatsApp (at most
   * `maxPendingMessages`).
   * @type {number}
   */
  get pendingMessages() {
    return this._native.pendingMessages()
  }

  /**
   * Starts every saved session in the sessions folder, one after another (`staggerMs` apart,
   * default 100 ms). Resolves to the ids started. Emits `load.progress`
   * `{ shardId, done, total, error? }` after each folder. A folder that cannot be used is
   * reported as `shard.error` `LOAD_FAILED`; no saved session at all as `NO_SESSIONS` (and
   * resolves to []). `maxConcurrentHandshakes` already paces the logins, so a large fleet may
   * pass `staggerMs: 0` (1,000 sessions otherwise take 100 s just to start).
   * @param {{ staggerMs?: number }} [options]
   * @returns {Promise<string[]>}
   */
  async loadAllShards(options = {}) {
    const staggerMs = options?.staggerMs ?? 100
    // The addon takes a u32: a negative or fractional number would wrap or be cut silently.
    if (!Number.isInteger(staggerMs) || staggerMs < 0 || staggerMs > 0xffffffff) {
      throw this._fail(null, new ShardError(`loadAllShards: staggerMs must be a whole number of milliseconds ≥ 0, got ${String(staggerMs)}`, 'INVALID_ARGUMENT'))
    }
    let ids
    try {
      ids = this._adopt(await this._native.loadAllShards(staggerMs))
    } catch (err) {
      const error = fromNative(err, 'LOAD_FAILED')
      this._fail(null, error)
      if (error.code === 'NO_SESSIONS') return []
      throw error
    } finally {
      this._drain()
    }
    this._afterStateChange()
    return ids
  }

  /**
   * Restarts a shard on its session folder. `clearSession: true` starts it fresh (a new QR);
   * the old folder is moved to `<session>/.cleared/`, not deleted.
   * @param {{ id: string, clearSession?: boolean, forceRecreate?: boolean }} options
   * @returns {Promise<{ id: string, sock: ShardSocket }>}
   */
  async recreateShard({ id, clearSession = false } = {}) {
    if (typeof id !== 'string') throw this._fail(null, new ShardError('recreateShard needs { id }: the shard id as a string', 'RECREATE_FAILED'))
    // Calls made while it restarts reach whichever shard holds the id at that moment.
    this._releaseHandle(id)
    try {
      this._adopt([await this._native.recreateShard(String(id), Boolean(clearSession))])
    } catch (err) {
      throw this._fail(id, fromNative(err, 'RECREATE_FAILED'))
    } finally {
      this._drain()
    }
    this._afterStateChange()
    return { id, sock: this._sockFor(id) }
  }

  /**
   * Connects a shard: returns it as it is when it is running, otherwise starts it again on
   * its session folder.
   * @param {string} id
   * @returns {Promise<{ id: string, sock: ShardSocket }>}
   */
  async connect(id) {
    const info = this.getShardInfo(id)
    if (info && ['initializing', 'connected', 'disconnected'].includes(info.status)) return { id, sock: this._sockFor(id) }
    try {
      return await this.recreateShard({ id })
    } catch (err) {
      const error = new ShardError(err.message, 'CONNECT_FAILED')
      this._fail(id, error)
      throw error
    }
  }

  /**
   * Moves a session folder whose creds.json is unreadable to `<session>/.corrupt/`. Anything
   * else, above all a registered session, is left alone.
   * @param {string} sessionDirectory
   * @returns {Promise<void>}
   */
  async validateAndCleanSession(sessionDirectory) {
    this._native.validateAndCleanSession(path.resolve(String(sessionDirectory)))
  }

  /** Runs validateAndCleanSession over every saved session that is not running. */
  async cleanupCorruptSessions() {
    this._native.cleanupCorruptSessions()
  }

  /**
   * Creates a shard (or returns the running one with that id) and starts logging it in.
   * Resolves at once; follow `login.update` for the QR and the connection.
   * With `phoneNumber` (country code first, digits; `+`, spaces, dashes allowed) an unpaired
   * shard logs in by pairing code: `login.update` `{ type: 'pairing', code }`, renewed on expiry.
   * @param {{ id?: string, phoneNumber?: string, socket?: object }} [options]
   * @returns {Promise<{ id: string, sock: ShardSocket }>}
   */
  async createShard(options = {}) {
    let id
    try {
      const socket = options?.socket
      if (typeof options?.id === 'string') this._releaseHandle(options.id)
      const handle = await this._native.createShard(socket ? { ...options, socket: nativeSocketConfig(socket) } : (options ?? {}))
      id = handle.id
      if (socket) {
        this._shardSocketOptions.set(id, socket)
        // Its first events may have made the socket already, with the manager's options.
        const early = this._socks.get(id)
        if (early) early.logger = shardLogger(this._socketOption(id, 'logger'), id)
      }
      this._adopt([handle])
    } catch (err) {
      throw this._fail(options && options.id, fromNative(err, 'CREATE_FAILED'))
    }
    const sock = this._sockFor(id)
    this._afterStateChange()
    return { id, sock }
  }

  /**
   * Stops a shard for good: it does not reconnect until created again.
   * @param {string} id
   * @returns {Promise<boolean>}
   */
  async stopShard(id) {
    try {
      const ok = await this._native.stopShard(id)
      return ok
    } catch (err) {
      throw this._fail(id, fromNative(err, 'STOP_FAILED'))
    } finally {
      this._drain()
    }
  }

  /** Stops every shard and flushes their credentials. The process may exit afterwards. */
  async close() {
    await this._native.close()
    this._drain()
  }

  /**
   * The socket of a shard, or undefined.
   * @param {string} id
   */
  socket(id) {
    return this._native.shard(id) ? this._sockFor(id) : undefined
  }

  /**
   * An emitter of one shard's events only (the same emitter on every call), or null.
   * @param {string} id
   */
  shard(id) {
    if (!this._native.shard(id)) return null
    let emitter = this._emitters.get(id)
    if (!emitter) {
      emitter = new EventEmitter()
      this._emitters.set(id, emitter)
    }
    return emitter
  }

  /**
   * @param {string} id
   * @returns {ShardInfo | null}
   */
  getShardInfo(id) {
    const info = this._native.getShardInfo(id)
    return info ? new ShardInfo(info) : null
  }

  /** @returns {ShardInfo[]} */
  getAllShardInfo() {
    return this._native.getAllShardInfo().map((info) => new ShardInfo(info))
  }

  /**
   * Session status of a shard's folder.
   * @param {string} id
   */
  async getSessionInfo(id) {
    try {
      return this._native.getSessionInfo(id)
    } catch (err) {
      throw fromNative(err, 'SHARD_NOT_FOUND')
    }
  }

  /**
   * Session status of any session folder.
   * @param {string} sessionDirectory
   */
  async checkSessionStatus(sessionDirectory) {
    return native.checkSessionDir(path.resolve(String(sessionDirectory)))
  }

  /** @private A socket option of shard `id`: its own `socket` option over `socketConfig`. */
  _socketOption(id, name) {
    return this._shardSocketOptions.get(id)?.[name] ?? this._socketConfig?.[name]
  }

  /**
   * @private Gives each native shard handle to its socket (made if need be); returns the ids.
   * @param {import('./native').NativeShard[]} handles
   */
  _adopt(handles) {
    return handles.map((handle) => {
      const id = handle.id
      this._sockFor(id)._handle = handle
      return id
    })
  }

  /** @private Forgets a socket's handle: its shard is about to be replaced. */
  _releaseHandle(id) {
    const sock = this._socks.get(id)
    if (sock) sock._handle = null
  }

  /** @private The native shard with this id, for a socket that has no handle yet. */
  _nativeShard(id) {
    const handle = this._native.shard(id)
    if (!handle) throw new ShardError(`no shard with id ${JSON.stringify(id)}; create it with createShard first`, 'SHARD_NOT_FOUND')
    return handle
  }

  /** @private */
  _sockFor(id) {
    let sock = this._socks.get(id)
    if (!sock) {
      sock = new ShardSocket(this, id)
      this._socks.set(id, sock)
    }
    return sock
  }

  /** @private Emits a ShardError on `shard.error` and returns it for throwing. */
  _fail(shardId, error) {
    this.emit('shard.error', { shardId: shardId ?? null, error })
    return error
  }

  /** @private Emits on the manager and on the shard's own emitter. */
  _emitBoth(event, shardId, payload) {
    emitCollecting(this, event, payload)
    const emitter = this._emitters.get(shardId)
    if (emitter) emitCollecting(emitter, event, payload)
  }

  /** @private Delivers every queued native event. */
  _drain() {
    const events = this._native.drainEvents()
    // Tickets of received messages whose handlers have all finished already.
    const finished = []
    for (const { event, shardId, data, ticket } of events) {
      let pending = []
      try {
        pending = collecting(() => this._dispatch(event, shardId, data))
      } catch (err) {
        // A throwing user handler must not stop delivery of the rest of the batch.
        process.nextTick(() => {
          throw err
        })
      }
      if (ticket === undefined) continue
      if (pending.length === 0) finished.push(ticket)
      else allFinished(pending).then(() => this._native.settleEvents([ticket]))
    }
    if (finished.length) this._native.settleEvents(finished)
    this._afterStateChange()
  }

  /** @private */
  _dispatch(event, shardId, data) {
    const sock = this._sockFor(shardId)
    switch (event) {
      case 'login.update':
        // Not the QR itself (nor its PNG): a log is no place for a login secret.
        sock.logger.info({ state: data.state, type: data.type, statusCode: data.statusCode, reason: data.reason }, `login ${data.state}`)
        this._emitBoth('login.update', shardId, { shardId, ...data })
        return
      case 'engine.log':
        // A warning or error the WhatsApp engine wrote while working for this shard.
        sock.logger[data.level]({ target: data.target }, data.message)
        return
      case 'shard.error': {
        const error = new ShardError(data.message, data.code)
        sock.logger.error({ code: data.code }, data.message)
        this._emitBoth('shard.error', shardId, { shardId, error })
        return
      }
      case 'load.progress': {
        const progress = { shardId, done: data.done, total: data.total }
        if (data.error) progress.error = new ShardError(data.error.message, data.error.code)
        this.emit('load.progress', progress)
        return
      }
      case 'connection.update': {
        const update = { ...data }
        if (data.lastDisconnect) {
          const { message, statusCode } = data.lastDisconnect.error
          update.lastDisconnect = { error: boom(message, statusCode), date: new Date() }
        }
        sock.ev.emit('connection.update', update)
        // Baileys announces the presence it sets on login (`markOnlineOnConnect`) right after.
        if (data.connection === 'open') sock.ev.emit('connection.update', { isOnline: this._socketOption(shardId, 'markOnlineOnConnect') !== false })
        return
      }
      case 'baileys': {
        // The Baileys events of one stanza, delivered together (one `ev.process` map).
        const ignore = this._socketOption(shardId, 'shouldIgnoreJid')
        const wanted = wantedHistory(data, this._socketOption(shardId, 'shouldSyncHistoryMessage'), sock.logger)
        const batch = withDates(typeof ignore === 'function' ? batchWithoutIgnored(wanted, ignore, sock.logger) : wanted)
        if (batch.length === 0) return
        sock.ev.emitTogether(batch)
        emitPollVotes(sock, batch)
        return
      }
      default: {
        const ignore = this._socketOption(shardId, 'shouldIgnoreJid')
        const kept = typeof ignore === 'function' ? withoutIgnored(event, data, ignore, sock.logger) : data
        if (kept != null) sock.ev.emit(event, kept)
      }
    }
  }

  /** @private Re-emits what a socket's `ev` delivered, as `{ shardId, sock, data }`. */
  _forward(shardId, sock, map) {
    for (const [event, data] of Object.entries(map)) {
      if (FORWARDED.has(event)) this._emitBoth(event, shardId, { shardId, sock, data })
    }
  }

  /** @private Keeps Node alive exactly while some shard holds or seeks a connection. */
  _afterStateChange() {
    const active = this._native.activeCount() > 0
    if (active && !this._keepAlive) {
      this._keepAlive = setInterval(() => {}, 1 << 30)
    } else if (!active && this._keepAlive) {
      clearInterval(this._keepAlive)
      this._keepAlive = null
    }
  }
}

module.exports = { ShardManager }
