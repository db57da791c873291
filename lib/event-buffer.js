'use strict'
// `sock.ev`: Baileys 6.7.21's event emitter. Besides `on`/`off`, bots use `ev.process(handler)`,
// which receives a map `{ [event]: data }` of the events that happened together, and
// `buffer()`/`flush()`, which hold the "bufferable" events back and release them consolidated
// (one `messages.upsert` for many messages, an update folded into the upsert it updates, ...).
const { EventEmitter } = require('node:events')
const { emitCollecting } = require('./handler-settlement')

// The events Baileys consolidates while buffering; every other event is emitted at once.
const BUFFERABLE = new Set([
  'messaging-history.set', 'chats.upsert', 'chats.update', 'chats.delete', 'contacts.upsert', 'contacts.update',
  'messages.upsert', 'messages.update', 'messages.delete', 'messages.reaction', 'message-receipt.update', 'groups.update',
])

// WAMessageStatus.READ
const READ = 4

const keyId = (key) => `${key.remoteJid},${key.id},${key.fromMe ? 1 : 0}`
const withoutUndefined = (obj) => Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined))

/** Merges chat `b` into chat `a` (in place); unread counts add up, as Baileys' do. */
function mergeChat(a, b) {
  if (b.unreadCount === null && a.unreadCount < 0) {
    a.unreadCount = undefined
    b = { ...b, unreadCount: undefined }
  }
  if (typeof a.unreadCount === 'number' && typeof b.unreadCount === 'number' && b.unreadCount >= 0) {
    b = { ...b, unreadCount: Math.max(a.unreadCount, 0) + b.unreadCount }
  }
  return Object.assign(a, b)
}

/** Who sent a reaction (or any key): `'me'`, else the participant or the chat. */
const keyAuthor = (key) => (key?.fromMe ? 'me' : key?.participant || key?.remoteJid) || ''

/** Puts `reaction` in `target.reactions` in place of the same author's (an empty text stays, as a removal). */
function applyReaction(target, reaction) {
  const author = keyAuthor(reaction.key)
  reaction.text = reaction.text || ''
  target.reactions = [...(target.reactions ?? []).filter((r) => keyAuthor(r.key) !== author), reaction]
}

/** Adds or merges `receipt` into `target.userReceipt`, one entry per user. */
function applyReceipt(target, receipt) {
  const list = (target.userReceipt ??= [])
  const existing = list.find((r) => r.userJid === receipt.userJid)
  if (existing) Object.assign(existing, receipt)
  else list.push(receipt)
}

/** What is held back while buffering, keyed so that later events fold into earlier ones. */
class PendingEvents {
  constructor() {
    this.history = null // messaging-history.set: { chats, contacts, messages } maps + last meta
    this.chatUpserts = new Map()
    this.chatUpdates = new Map()
    this.chatDeletes = new Set()
    this.contactUpserts = new Map()
    this.contactUpdates = new Map()
    this.messageUpserts = new Map() // keyId → { message, type }
    this.messageUpdates = new Map() // keyId → { key, update }
    this.messageDeletes = new Map()
    this.reactions = new Map() // keyId → { key, reactions }
    this.receipts = new Map() // keyId → { key, userReceipt }
    this.groupUpdates = new Map()
  }

  add(event, data) {
    switch (event) {
      case 'messaging-history.set': {
        const h = (this.history ??= { chats: new Map(), contacts: new Map(), messages: new Map(), isLatest: false })
        for (const chat of data.chats ?? []) if (!h.chats.has(chat.id)) h.chats.set(chat.id, this._withChatUpdate(chat))
        for (const contact of data.contacts ?? []) {
          const known = h.contacts.get(contact.id)
          if (known) Object.assign(known, withoutUndefined(contact))
          else h.contacts.set(contact.id, contact)
        }
        for (const message of data.messages ?? []) if (!h.messages.has(keyId(message.key))) h.messages.set(keyId(message.key), message)
        Object.assign(h, { syncType: data.syncType, progress: data.progress, peerDataRequestSessionId: data.peerDataRequestSessionId })
        h.isLatest = Boolean(data.isLatest) || h.isLatest
        return
      }
      case 'chats.upsert':
        for (const chat of data) {
          const known = this.chatUpserts.get(chat.id) ?? this.history?.chats.get(chat.id)
          if (known) mergeChat(known, chat)
          else this.chatUpserts.set(chat.id, chat)
          this._withChatUpdate(known ?? chat)
          this.chatDeletes.delete(chat.id)
        }
        return
      case 'chats.update':
        for (const update of data) {
          const known = this.history?.chats.get(update.id) ?? this.chatUpserts.get(update.id)
          if (known) mergeChat(known, update)
          else this.chatUpdates.set(update.id, mergeChat(this.chatUpdates.get(update.id) ?? {}, update))
          this.chatDeletes.delete(update.id)
        }
        return
      case 'chats.delete':
        for (const id of data) {
          this.chatDeletes.add(id)
          this.chatUpdates.delete(id)
          this.chatUpserts.delete(id)
          this.history?.chats.delete(id)
        }
        return
      case 'contacts.upsert':
        for (const contact of data) {
          let known = this.contactUpserts.get(contact.id) ?? this.history?.contacts.get(contact.id)
          if (known) Object.assign(known, withoutUndefined(contact))
          else this.contactUpserts.set(contact.id, (known = contact))
          const update = this.contactUpdates.get(contact.id)
          if (update) {
            this.contactUpdates.delete(contact.id)
            Object.assign(known, { ...update, ...withoutUndefined(contact) })
          }
        }
        return
      case 'contacts.update':
        for (const update of data) {
          const known = this.history?.contacts.get(update.id) ?? this.contactUpserts.get(update.id)
          if (known) Object.assign(known, update)
          else this.contactUpdates.set(update.id, Object.assign(this.contactUpdates.get(update.id) ?? {}, update))
        }
        return
      case 'messages.upsert':
        for (const message of data.messages) {
          const id = keyId(message.key)
          const earlier = this.messageUpserts.get(id)?.message ?? this.history?.messages.get(id)
          if (earlier) message.messageTimestamp = earlier.messageTimestamp
          const update = this.messageUpdates.get(id)
          if (update) {
            Object.assign(message, update.update)
            this.messageUpdates.delete(id)
          }
          if (this.history?.messages.has(id)) {
            this.history.messages.set(id, message)
          } else {
            const type = data.type === 'notify' || this.messageUpserts.get(id)?.type === 'notify' ? 'notify' : data.type
            this.messageUpserts.set(id, { message, type })
          }
        }
        return
      case 'messages.update':
        for (const { key, update } of data) {
          const id = keyId(key)
          const known = this.history?.messages.get(id) ?? this.messageUpserts.get(id)?.message
          if (known) {
            Object.assign(known, update)
            if (update.status === READ && !key.fromMe) this._unreadOneLess(known)
          } else {
            const pending = this.messageUpdates.get(id) ?? { key, update: {} }
            Object.assign(pending.update, update)
            this.messageUpdates.set(id, pending)
          }
        }
        return
      case 'messages.delete':
        // `{ jid, all: true }` is not consolidated by Baileys either; it is passed on as is.
        for (const key of data.keys ?? []) {
          const id = keyId(key)
          if (!this.messageDeletes.has(id)) this.messageDeletes.set(id, key)
          this.messageUpserts.delete(id)
          this.messageUpdates.delete(id)
        }
        return
      case 'messages.reaction':
        for (const { key, reaction } of data) {
          const id = keyId(key)
          const upsert = this.messageUpserts.get(id)
          if (upsert) applyReaction(upsert.message, reaction)
          else {
            if (!this.reactions.has(id)) this.reactions.set(id, { key, reactions: [] })
            applyReaction(this.reactions.get(id), reaction)
          }
        }
        return
      case 'message-receipt.update':
        for (const { key, receipt } of data) {
          const id = keyId(key)
          const upsert = this.messageUpserts.get(id)
          if (upsert) applyReceipt(upsert.message, receipt)
          else {
            if (!this.receipts.has(id)) this.receipts.set(id, { key, userReceipt: [] })
            applyReceipt(this.receipts.get(id), receipt)
          }
        }
        return
      case 'groups.update':
        // The first update of a group in a buffer wins, as in Baileys.
        for (const update of data) if (!this.groupUpdates.has(update.id)) this.groupUpdates.set(update.id, { ...update })
        return
      default:
        throw new TypeError(`"${event}" cannot be buffered`)
    }
  }

  /** Folds a pending `chats.update` into a chat that is now upserted. */
  _withChatUpdate(chat) {
    const update = this.chatUpdates.get(chat.id)
    if (update) {
      this.chatUpdates.delete(chat.id)
      Object.assign(chat, mergeChat(update, chat))
    }
    return chat
  }

  /** A message we had counted as unread was read: its chat's pending unread count drops. */
  _unreadOneLess(message) {
    const chatId = message.key.remoteJid
    const chat = this.chatUpdates.get(chatId) ?? this.chatUpserts.get(chatId)
    if (chat && typeof chat.unreadCount === 'number' && chat.unreadCount > 0) {
      chat.unreadCount -= 1
      if (chat.unreadCount === 0) delete chat.unreadCount
    }
  }

  /** The consolidated events, in Baileys' order; empty when nothing was held. */
  toMap() {
    const map = {}
    const put = (event, list) => {
      if (list.length) map[event] = list
    }
    if (this.history) {
      const h = this.history
      map['messaging-history.set'] = {
        chats: [...h.chats.values()],
        messages: [...h.messages.values()],
        contacts: [...h.contacts.values()],
        syncType: h.syncType,
        progress: h.progress,
        isLatest: h.isLatest,
        peerDataRequestSessionId: h.peerDataRequestSessionId,
      }
    }
    put('chats.upsert', [...this.chatUpserts.values()])
    put('chats.update', [...this.chatUpdates.values()])
    put('chats.delete', [...this.chatDeletes])
    const upserts = [...this.messageUpserts.values()]
    if (upserts.length) map['messages.upsert'] = { messages: upserts.map((u) => u.message), type: upserts[0].type }
    put('messages.update', [...this.messageUpdates.values()])
    if (this.messageDeletes.size) map['messages.delete'] = { keys: [...this.messageDeletes.values()] }
    put('messages.reaction', [...this.reactions.values()].flatMap(({ key, reactions }) => reactions.map((reaction) => ({ key, reaction }))))
    put('message-receipt.update', [...this.receipts.values()].flatMap(({ key, userReceipt }) => userReceipt.map((receipt) => ({ key, receipt }))))
    put('contacts.upsert', [...this.contactUpserts.values()])
    put('contacts.update', [...this.contactUpdates.values()])
    put('groups.update', [...this.groupUpdates.values()])
    return map
  }
}

/**
 * Baileys' `sock.ev`. A Node EventEmitter (so `on`, `off`, `once`, `removeAllListeners`,
 * `listenerCount`, ... work as usual) whose `emit` goes through Baileys' buffer, plus
 * `process`, `buffer`, `flush`, `isBuffering` and `createBufferedFunction`.
 */
class BaileysEventEmitter extends EventEmitter {
  /** @param {(map: Record<string, any>) => void} [onDeliver] sees every delivered map first (the manager forwards from it; user listeners cannot remove it). */
  constructor(onDeliver) {
    super()
    this._onDeliver = onDeliver ?? null
    this._pending = null
  }

  /**
   * Emits a Baileys event. While buffering, the bufferable events are held and consolidated
   * until `flush()`; any other event (and every event when not buffering) is delivered now.
   * `'event'` itself is Node's plain emit (what `process` handlers listen on).
   * @returns {boolean} as Baileys: true when held or delivered
   */
  emit(event, data) {
    if (event === 'event' || typeof event !== 'string') return super.emit(event, data)
    if (this._pending && BUFFERABLE.has(event)) {
      this._pending.add(event, data)
      return true
    }
    return this._deliver({ [event]: data })
  }

  /**
   * Calls `handler` with a map `{ [event]: data }` of the events delivered together. Returns a
   * function that unsubscribes it.
   * @param {(events: Record<string, any>) => void | Promise<void>} handler
   * @returns {() => void}
   */
  process(handler) {
    if (typeof handler !== 'function') throw new TypeError('ev.process needs a function (events) => void')
    const listener = (map) => {
      // An async handler's rejection must not become an unhandled rejection that kills the bot.
      // Returned (settled either way) so that received messages wait for the handler.
      const result = handler(map)
      if (result && typeof result.catch === 'function') return result.catch((err) => process.nextTick(() => { throw err }))
    }
    this.on('event', listener)
    return () => this.off('event', listener)
  }

  /** Starts holding back bufferable events until `flush()`. */
  buffer() {
    this._pending ??= new PendingEvents()
  }

  /** @returns {boolean} whether events are being held back */
  isBuffering() {
    return this._pending !== null
  }

  /**
   * Delivers what was held, consolidated, and stops buffering.
   * @returns {boolean} false when nothing was being buffered
   */
  flush() {
    const pending = this._pending
    if (!pending) return false
    this._pending = null
    const map = pending.toMap()
    if (Object.keys(map).length) this._deliver(map)
    return true
  }

  /**
   * Wraps `work` so that the events emitted while it runs are held and delivered together when
   * it settles. (Baileys 6.7.21 leaves the flush to its connection state machine; with no such
   * machine on this side, the wrapper flushes the buffer it started.)
   * @template {(...args: any[]) => Promise<any>} F
   * @param {F} work
   * @returns {F}
   */
  createBufferedFunction(work) {
    return /** @type {F} */ (async (...args) => {
      const started = !this.isBuffering()
      this.buffer()
      try {
        return await work(...args)
      } finally {
        if (started) this.flush()
      }
    })
  }

  /**
   * Emits events that happened together: held and delivered as one map, unless the caller
   * is buffering already (then they join its buffer).
   * @param {{ event: string, data: any }[]} events
   */
  emitTogether(events) {
    if (events.length === 1) {
      this.emit(events[0].event, events[0].data)
      return
    }
    const started = !this.isBuffering()
    this.buffer()
    try {
      for (const { event, data } of events) this.emit(event, data)
    } finally {
      if (started) this.flush()
    }
  }

  /**
   * @private Each event to its own listeners, then the whole map to `process` handlers, then
   * to the manager. A throwing listener does not keep the event from the others; its error is
   * rethrown once all have run.
   */
  _deliver(map) {
    const errors = []
    const attempt = (fn) => {
      try {
        return fn()
      } catch (err) {
        errors.push(err)
        return true
      }
    }
    let handled = false
    for (const [event, data] of Object.entries(map)) handled = attempt(() => emitCollecting(this, event, data)) || handled
    handled = attempt(() => emitCollecting(this, 'event', map)) || handled
    if (this._onDeliver) attempt(() => this._onDeliver(map))
    if (errors.length) throw errors[0]
    return handled
  }
}

module.exports = { BaileysEventEmitter, BUFFERABLE }
