'use strict'
// The members of Baileys' socket that reach into its internals: what the engine does not own
// works as in Baileys (`upsertMessage`, `sendWAMBuffer`, `cleanDirtyBits`, `getBotListV2`,
// `executeUSyncQuery`, `fetchDisappearingDuration`, `getPrivacyTokens`, the pre-key uploads); what the engine does itself — acknowledging
// stanzas, retry receipts, Signal encryption, matching replies to ids — rejects with
// NOT_SUPPORTED and says why, since doing it a second time from JS would confuse the server.
const { ShardError, callNative: call } = require('./errors')
const { jidNormalizedUser } = require('./baileys/jid')

const S_WHATSAPP_NET = 's.whatsapp.net'

/** Members that cannot be honoured, with the reason (README and the key-enumeration test read it). */
const NOT_SUPPORTED_REASONS = {
  signalRepository: 'Signal sessions live in the engine (whatsapp-rust); messages are encrypted and decrypted there',
  createParticipantNodes: 'the engine encrypts for each device when it sends; use relayMessage with the message itself',
  sendMessageAck: 'the engine acknowledges every stanza it receives; a second ack from JS would confuse the server',
  sendRetryRequest: 'the engine sends retry receipts for messages it cannot decrypt, and handles the answers',
  waitForMessage: 'stanzas are read by the engine; JS only sees replies to its own query()',
  removeContact: 'removing a contact is a REMOVE app-state mutation, and the engine (whatsapp-rust 0.7.0) sends only SET mutations; addOrEditContact works',
}

const notSupported = (name) => () => Promise.reject(new ShardError(`${name} is not supported: ${NOT_SUPPORTED_REASONS[name]}`, 'NOT_SUPPORTED'))

/** Children of a reply node with this tag. */
const children = (node, tag) => (Array.isArray(node?.content) ? node.content.filter((c) => c.tag === tag) : [])

/** @this {import('./socket').ShardSocket} */
const internalCalls = {
  /**
   * Emits a message as Baileys' `upsertMessage` does: `messages.upsert` `{ messages: [msg], type }`,
   * with the sender's push name as `contacts.update` `notify` (one `ev.process` map).
   * @param {import('..').WAMessage} msg
   * @param {'notify' | 'append'} type
   */
  async upsertMessage(msg, type) {
    if (!msg?.key || typeof msg.key !== 'object') throw new ShardError('upsertMessage: msg must be a WAMessage with a key', 'INVALID_ARGUMENT')
    if (type !== 'notify' && type !== 'append') throw new ShardError("upsertMessage: type must be 'notify' or 'append'", 'INVALID_ARGUMENT')
    const events = [{ event: 'messages.upsert', data: { messages: [msg], type } }]
    if (msg.pushName && !msg.key.fromMe) {
      const id = jidNormalizedUser(msg.key.participant || msg.key.remoteJid)
      events.push({ event: 'contacts.update', data: [{ id, notify: msg.pushName, verifiedName: msg.verifiedBizName }] })
    }
    this.ev.emitTogether(events)
  },

  /** Sends WhatsApp analytics (a WAM buffer) and resolves to the server's reply, as Baileys does. */
  sendWAMBuffer(wamBuffer) {
    if (!(wamBuffer instanceof Uint8Array)) return Promise.reject(new ShardError('sendWAMBuffer: wamBuffer must be a Buffer (Baileys encodeWAM)', 'INVALID_ARGUMENT'))
    return this.query({ tag: 'iq', attrs: { to: S_WHATSAPP_NET, xmlns: 'w:stats' }, content: [{ tag: 'add', attrs: {}, content: wamBuffer }] })
  },

  /**
   * Tells the server a dirty bit (`'account_sync'`, `'groups'`, ...) was handled. Baileys sends
   * it without waiting; this resolves once the server acknowledged it.
   * @param {string} type
   * @param {number} [fromTimestamp]
   */
  async cleanDirtyBits(type, fromTimestamp) {
    if (typeof type !== 'string' || !type) throw new ShardError('cleanDirtyBits: type must be a dirty-bit type such as "account_sync"', 'INVALID_ARGUMENT')
    const attrs = { type, ...(fromTimestamp ? { timestamp: fromTimestamp.toString() } : null) }
    await this.query({ tag: 'iq', attrs: { to: S_WHATSAPP_NET, type: 'set', xmlns: 'urn:xmpp:whatsapp:dirty' }, content: [{ tag: 'clean', attrs }] })
  },

  /** The bots WhatsApp offers (`[{ jid, personaId }]`), as Baileys' `getBotListV2`. */
  async getBotListV2() {
    const resp = await this.query({ tag: 'iq', attrs: { xmlns: 'bot', to: S_WHATSAPP_NET, type: 'get' }, content: [{ tag: 'bot', attrs: { v: '2' } }] })
    const bots = []
    for (const section of children(children(resp, 'bot')[0], 'section')) {
      if (section.attrs.type !== 'all') continue
      for (const bot of children(section, 'bot')) bots.push({ jid: bot.attrs.jid, personaId: bot.attrs.persona_id })
    }
    return bots
  },

  /**
   * Runs a Baileys `USyncQuery` (from `baileys`: `new USyncQuery().withContactProtocol()...`)
   * and resolves to its parsed result, as Baileys' `executeUSyncQuery`.
   * @param {{ protocols: object[], users: object[], context: string, mode: string, parseUSyncQueryResult: Function }} usyncQuery
   */
  async executeUSyncQuery(usyncQuery) {
    if (!Array.isArray(usyncQuery?.protocols) || typeof usyncQuery.parseUSyncQueryResult !== 'function') {
      throw new ShardError('executeUSyncQuery: pass a USyncQuery from baileys (new USyncQuery().withContactProtocol()...)', 'INVALID_ARGUMENT')
    }
    if (usyncQuery.protocols.length === 0) throw new ShardError('executeUSyncQuery: the USyncQuery must have at least one protocol', 'INVALID_ARGUMENT')
    const userNodes = usyncQuery.users.map((user) => ({
      tag: 'user',
      attrs: user.phone ? {} : { jid: user.id },
      content: usyncQuery.protocols.map((p) => p.getUserElement(user)).filter((n) => n !== null),
    }))
    const queryNode = { tag: 'query', attrs: {}, content: usyncQuery.protocols.map((p) => p.getQueryElement()) }
    const usync = {
      tag: 'usync',
      attrs: { context: usyncQuery.context, mode: usyncQuery.mode, sid: this.generateMessageTag(), last: 'true', index: '0' },
      content: [queryNode, { tag: 'list', attrs: {}, content: userNodes }],
    }
    const result = await this.query({ tag: 'iq', attrs: { to: S_WHATSAPP_NET, type: 'get', xmlns: 'usync' }, content: [usync] })
    return usyncQuery.parseUSyncQueryResult(result)
  },

  /**
   * The default disappearing-messages timer of each user, as Baileys'
   * `fetchDisappearingDuration`: `[{ disappearing_mode: { duration, setAt: Date }, id }]`.
   * @param {...string} jids
   */
  async fetchDisappearingDuration(...jids) {
    if (!jids.every((j) => typeof j === 'string')) throw new ShardError('fetchDisappearingDuration: jids must be strings', 'INVALID_ARGUMENT')
    const usync = {
      tag: 'usync',
      attrs: { context: 'interactive', mode: 'query', sid: this.generateMessageTag(), last: 'true', index: '0' },
      content: [
        { tag: 'query', attrs: {}, content: [{ tag: 'disappearing_mode', attrs: {} }] },
        { tag: 'list', attrs: {}, content: jids.map((jid) => ({ tag: 'user', attrs: { jid }, content: [] })) },
      ],
    }
    const result = await this.query({ tag: 'iq', attrs: { to: S_WHATSAPP_NET, type: 'get', xmlns: 'usync' }, content: [usync] })
    const list = children(children(result, 'usync')[0], 'list')[0]
    return children(list, 'user').map((user) => {
      const mode = children(user, 'disappearing_mode')[0]
      const data = mode ? { disappearing_mode: { duration: +mode.attrs.duration, setAt: new Date(+(mode.attrs.t || 0) * 1000) } } : {}
      return { ...data, id: user.attrs.jid }
    })
  },

  /**
   * Asks the server for privacy tokens for these users (as Baileys' `getPrivacyTokens`);
   * resolves to the server's reply.
   * @param {string[]} jids
   */
  getPrivacyTokens(jids) {
    if (!Array.isArray(jids) || !jids.every((j) => typeof j === 'string')) return Promise.reject(new ShardError('getPrivacyTokens: jids must be an array of jid strings', 'INVALID_ARGUMENT'))
    const t = Math.floor(Date.now() / 1000).toString()
    const tokens = jids.map((jid) => ({ tag: 'token', attrs: { jid: jidNormalizedUser(jid), t, type: 'trusted_contact' } }))
    return this.query({ tag: 'iq', attrs: { to: S_WHATSAPP_NET, type: 'set', xmlns: 'privacy' }, content: [{ tag: 'tokens', attrs: {}, content: tokens }] })
  },

  /**
   * Uploads `count` new pre-keys (the engine clamps it to what the protocol allows; default as
   * Baileys, 812), as Baileys' `uploadPreKeys`.
   * @param {number} [count]
   */
  uploadPreKeys(count = 812) {
    if (!Number.isInteger(count) || count <= 0) return Promise.reject(new ShardError('uploadPreKeys: count must be a positive whole number', 'INVALID_ARGUMENT'))
    return call(() => this._shard.uploadPreKeys(count))
  },

  /** Uploads pre-keys only when the server is running low, as Baileys' `uploadPreKeysToServerIfRequired`. */
  uploadPreKeysToServerIfRequired() {
    return call(() => this._shard.uploadPreKeys(null))
  },

  createParticipantNodes: notSupported('createParticipantNodes'),
  sendMessageAck: notSupported('sendMessageAck'),
  sendRetryRequest: notSupported('sendRetryRequest'),
  waitForMessage: notSupported('waitForMessage'),
  removeContact: notSupported('removeContact'),
}

/** `sock.signalRepository`: present, as bots probe for it, and every method says why it cannot work. */
function signalRepository() {
  const reject = notSupported('signalRepository')
  return new Proxy({}, { get: (_, key) => (key === 'then' ? undefined : reject) })
}

module.exports = { internalCalls, signalRepository, NOT_SUPPORTED_REASONS, children }
