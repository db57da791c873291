'use strict'
// `sock`: a Baileys-shaped socket object for one shard. It holds no protocol logic; every
// call goes to the shard in the native manager.
const { BaileysEventEmitter } = require('./event-buffer')
const { ShardError, fromNative, boom } = require('./errors')
const { prepareMediaContent } = require('./media')
const { withLinkPreview } = require('./link-preview')
const { ShardConnection } = require('./connection')
const { shardLogger } = require('./logger')
const { protocolCalls, makeMutex } = require('./socket-protocol')
const { privacyCalls } = require('./socket-privacy')
const { appStateCalls } = require('./socket-app-state')
const { peerDataCalls } = require('./socket-peer-data')
const { communityCalls } = require('./socket-communities')
const { newsletterCalls } = require('./socket-newsletters')
const { businessCalls } = require('./socket-business')
const { internalCalls, signalRepository } = require('./socket-internals')
const { patchedForSending } = require('./message-patch')
const { generateMessageIDV2 } = require('./baileys/message-content')

/** Baileys' `WAMessageStubType.GROUP_PARTICIPANT_ADD`. */
const WA_STUB_GROUP_PARTICIPANT_ADD = 27

class ShardSocket {
  /** @param {import('./manager').ShardManager} manager @param {string} id */
  constructor(manager, id) {
    this._manager = manager
    /** @private The shard's native handle; lib/manager.js replaces it when the shard is created again. */
    this._handle = null
    /** The shard this socket belongs to. */
    this.shardId = id
    /**
     * Baileys' event emitter: the raw Baileys events of this socket (`on`, `off`,
     * `process(handler)`, `buffer()`, `flush()`, ...). The manager forwards from it.
     */
    this.ev = new BaileysEventEmitter((map) => manager._forward(id, this, map))
    this.type = 'md'
    /** The connection (`ws.close()` drops it; the shard reconnects by itself). */
    this.ws = new ShardConnection(this)
    /** A pino-compatible logger: the `logger` socket option's `child({ shardId })`, or a silent one. */
    this.logger = shardLogger(manager._socketOption(id, 'logger'), id)
    /** Runs the functions given to `mutex(fn)` one at a time, in order. */
    this.processingMutex = makeMutex()
    // Bots pass it around unbound (`prepareWAMessageMedia(content, { upload: sock.waUploadToServer })`).
    this.waUploadToServer = protocolCalls.waUploadToServer.bind(this)
    /** Baileys' Signal repository: the engine owns Signal, so every method rejects with NOT_SUPPORTED. */
    this.signalRepository = signalRepository()
  }

  /** @private The native shard this socket calls (`SHARD_NOT_FOUND` when there is none). */
  get _shard() {
    return this._handle ?? (this._handle = this._manager._nativeShard(this.shardId))
  }

  /**
   * Baileys' `sock.authState`, read-only: `creds` is the shard's `creds.json` as Baileys reads it
   * (Buffers revived; a fresh copy on each access, undefined before the folder has one), and
   * `keys.get(type, ids)` reads keys from the session folder (`{ [id]: value }`, missing ids left
   * out). The shard owns its session, so `keys.set` rejects with `NOT_SUPPORTED`.
   */
  get authState() {
    const shard = this._shard
    let creds
    try {
      creds = shard.authCreds() ?? undefined
    } catch (err) {
      throw fromNative(err, 'LOAD_FAILED')
    }
    return {
      creds,
      keys: {
        /**
         * @param {string} type `'pre-key' | 'session' | 'sender-key' | 'sender-key-memory' | 'app-state-sync-key' | 'app-state-sync-version'`
         * @param {string[]} ids
         */
        async get(type, ids) {
          if (typeof type !== 'string') throw new ShardError('keys.get: type must be a string such as "session"', 'INVALID_ARGUMENT')
          if (!Array.isArray(ids) || !ids.every((i) => typeof i === 'string')) {
            throw new ShardError('keys.get: ids must be an array of strings', 'INVALID_ARGUMENT')
          }
          try {
            return shard.authKeys(type, ids)
          } catch (err) {
            throw fromNative(err, 'LOAD_FAILED')
          }
        },
        async set() {
          throw new ShardError('authState.keys.set: the shard owns its session store; keys cannot be written from outside', 'NOT_SUPPORTED')
        },
      },
    }
  }

  /**
   * Like Baileys' `sock.waitForConnectionUpdate`: resolves once `check(update)` is truthy for a
   * `connection.update`; rejects with the close's Boom error when the connection closes first,
   * or a Boom 408 `'Timed Out'` after `timeoutMs`.
   * @param {(update: import('..').ConnectionState) => boolean | Promise<boolean>} check
   * @param {number} [timeoutMs]
   * @returns {Promise<void>}
   */
  waitForConnectionUpdate(check, timeoutMs) {
    if (typeof check !== 'function') return Promise.reject(new ShardError('waitForConnectionUpdate needs a function (update) => boolean', 'INVALID_ARGUMENT'))
    if (timeoutMs != null && !(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
      return Promise.reject(new ShardError('waitForConnectionUpdate: timeoutMs must be a number of milliseconds', 'INVALID_ARGUMENT'))
    }
    return new Promise((resolve, reject) => {
      let timer = null
      const done = (fn, value) => {
        this.ev.off('connection.update', listener)
        if (timer) clearTimeout(timer)
        fn(value)
      }
      const listener = async (update) => {
        try {
          if (await check(update)) return done(resolve)
        } catch (err) {
          return done(reject, err)
        }
        if (update.connection === 'close') done(reject, update.lastDisconnect?.error ?? boom('Connection Closed', 428))
      }
      this.ev.on('connection.update', listener)
      if (timeoutMs != null) timer = setTimeout(() => done(reject, boom('Timed Out', 408)), timeoutMs)
    })
  }

  /** The logged-in account (`{ id, name?, lid? }`), or undefined before pairing. */
  get user() {
    return this._shard.user() ?? undefined
  }

  /**
   * Sends a message, like Baileys' `sock.sendMessage`. Resolves to the sent `WAMessage`
   * (`key.fromMe` true, `status` 1 = PENDING); it is also emitted as `messages.upsert` `append`.
   * A text's first https link gets a preview (title, description, thumbnail) unless the
   * content has a `linkPreview` (null: none).
   * @param {string} jid
   * @param {import('..').AnyMessageContent} content
   * @param {import('..').MiscMessageGenerationOptions} [options]
   */
  async sendMessage(jid, content, options) {
    content = await withLinkPreview(content, {
      highQuality: this._manager._socketOption(this.shardId, 'generateHighQualityLinkPreview') === true,
      thumbnailWidth: this._manager._socketOption(this.shardId, 'linkPreviewImageThumbnailWidth'),
      upload: this.waUploadToServer,
      logger: this.logger,
    })
    // `{ stream }` media is encrypted into a native spool first (never held whole).
    const media = await prepareMediaContent(content)
    try {
      // A Date does not cross the native boundary as one: Baileys' `timestamp` goes as ms.
      const nativeOptions = options?.timestamp instanceof Date ? { ...options, timestamp: options.timestamp.getTime() } : options
      if (typeof this._manager._socketOption(this.shardId, 'patchMessageBeforeSending') === 'function') {
        // Built first, patched by the bot, then sent; the unpatched message is what resolves.
        const prepared = await this._shard.prepareMessage(jid, media.content, nativeOptions ?? null)
        if (!prepared) return undefined
        return await this._shard.sendPrepared(jid, prepared, await patchedForSending(this, prepared.message, jid))
      }
      // undefined, as Baileys resolves, for a group's disappearing timer (set, not sent).
      return (await this._shard.sendMessage(jid, media.content, nativeOptions ?? null)) ?? undefined
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    } finally {
      media.release()
    }
  }

  /**
   * Profile and blocklist calls, as in Baileys 6.7.21. Bad arguments reject with
   * `INVALID_ARGUMENT`, a shard that is not connected (or a refused request) with `NOT_CONNECTED`.
   */
  async _profileCall(fn) {
    try {
      return await fn()
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
  }

  /** The URL of a user's or group's picture (`'preview'` or `'image'`), or undefined. */
  profilePictureUrl(jid, type = 'preview') {
    return this._profileCall(async () => (await this._shard.profilePictureUrl(jid, type)) ?? undefined)
  }

  /** Sets our own or a group's picture from a Buffer or `{ url }` (a file path). */
  updateProfilePicture(jid, content) {
    return this._profileCall(async () => {
      const image = Buffer.isBuffer(content) ? content : await require('node:fs/promises').readFile(String(content?.url ?? ''))
      await this._shard.updateProfilePicture(jid, image)
    })
  }

  /**
   * A business account's profile (`{ wid, address, description, website: [], email, category,
   * business_hours: { timezone, business_config } }`), or undefined for an account that is no
   * business, like Baileys' `sock.getBusinessProfile`.
   * @param {string} jid
   */
  getBusinessProfile(jid) {
    return this._profileCall(async () => (await this._shard.getBusinessProfile(jid)) ?? undefined)
  }

  /** Sets our about text. */
  updateProfileStatus(status) {
    return this._profileCall(() => this._shard.updateProfileStatus(status))
  }

  /** Sets our push name. */
  updateProfileName(name) {
    return this._profileCall(() => this._shard.updateProfileName(name))
  }

  /** `[{ id, status: { status, setAt } }]`: each user's about text and when it was set (Baileys 6.7.21 `result.list`). */
  fetchStatus(...jids) {
    return this._profileCall(async () => {
      const list = await this._shard.fetchStatus(jids)
      // As Baileys' USyncStatusProtocol: `setAt` is a Date (epoch when the server gave no time).
      for (const entry of list) if (entry.status) entry.status.setAt = new Date(entry.status.setAt * 1000)
      return list
    })
  }

  /** Blocks or unblocks a user. */
  updateBlockStatus(jid, action) {
    return this._profileCall(() => this._shard.updateBlockStatus(jid, action))
  }

  /** The jids we blocked. */
  fetchBlocklist() {
    return this._profileCall(() => this._shard.fetchBlocklist())
  }

  /** Closes the connection for good (the shard is stopped and does not reconnect). */
  async end(_error) {
    try {
      await this._manager.stopShard(this.shardId)
    } catch {
      // Ending an already-removed shard is not an error in Baileys either.
    }
  }

  /** Logs this device out at WhatsApp and stops the shard; the session folder is kept. */
  async logout() {
    try {
      await this._shard.logout()
    } catch (err) {
      throw fromNative(err, 'STOP_FAILED')
    }
    this._manager._afterStateChange()
  }

  /**
   * Sends read receipts, like Baileys' `sock.readMessages`. Keys of your own messages
   * (`fromMe`) are skipped; group keys carry the sender in `participant`. The sender sees
   * `messages.update` with `status` 4 (READ).
   * @param {{ remoteJid: string, id: string, fromMe?: boolean, participant?: string }[]} keys
   * @returns {Promise<void>}
   */
  async readMessages(keys) {
    try {
      await this._shard.readMessages(keys ?? null)
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
  }

  /**
   * Declines an incoming call, like Baileys' `sock.rejectCall`: pass the `id` and `from` of
   * its `call` event. The caller's phone stops ringing.
   * @param {string} callId
   * @param {string} callFrom
   * @returns {Promise<void>}
   */
  async rejectCall(callId, callFrom) {
    if (typeof callId !== 'string' || !callId) throw new ShardError('rejectCall: callId must be the id of a call event', 'INVALID_ARGUMENT')
    if (typeof callFrom !== 'string') throw new ShardError('rejectCall: callFrom must be the jid the call came from', 'INVALID_ARGUMENT')
    try {
      await this._shard.rejectCall(callId, callFrom)
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
  }

  /**
   * Sends receipts of `type` for received messages, like Baileys' `sock.sendReceipts`: `'read'`,
   * `'read-self'`, `'played'`, `'sender'`, `'inactive'`, `'hist_sync'`, ..., or undefined for a
   * delivery receipt. Keys of your own messages are skipped.
   * @param {{ remoteJid: string, id: string, fromMe?: boolean, participant?: string }[]} keys
   * @param {string} [type]
   * @returns {Promise<void>}
   */
  async sendReceipts(keys, type) {
    if (type != null && typeof type !== 'string') throw new ShardError('sendReceipts: type must be a string such as "read"', 'INVALID_ARGUMENT')
    try {
      await this._shard.sendReceipts(keys ?? null, type ?? null)
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
  }

  /**
   * Sends one receipt for messages of one chat (and sender, in groups), like Baileys'
   * `sock.sendReceipt(jid, participant, messageIds, type)`.
   * @param {string} jid
   * @param {string | undefined} participant
   * @param {string[]} messageIds
   * @param {string} [type] undefined for a delivery receipt
   * @returns {Promise<void>}
   */
  async sendReceipt(jid, participant, messageIds, type) {
    if (typeof jid !== 'string') throw new ShardError('sendReceipt: jid must be a string', 'INVALID_ARGUMENT')
    if (participant != null && typeof participant !== 'string') throw new ShardError('sendReceipt: participant must be a string or undefined', 'INVALID_ARGUMENT')
    if (!Array.isArray(messageIds) || !messageIds.every((id) => typeof id === 'string')) {
      throw new ShardError('sendReceipt: messageIds must be an array of message ids', 'INVALID_ARGUMENT')
    }
    if (type != null && typeof type !== 'string') throw new ShardError('sendReceipt: type must be a string such as "read"', 'INVALID_ARGUMENT')
    try {
      await this._shard.sendReceipt(jid, participant ?? null, messageIds, type ?? null)
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
  }

  /**
   * Like Baileys' `sock.sendPresenceUpdate`: `'available'` / `'unavailable'` set the account's
   * presence; `'composing'`, `'recording'` and `'paused'` are chat states sent to `jid`.
   * @param {'available'|'unavailable'|'composing'|'recording'|'paused'} type
   * @param {string} [jid] the chat, required for the chat states
   * @returns {Promise<void>}
   */
  async sendPresenceUpdate(type, jid) {
    // As Baileys: the account's own presence is announced on `connection.update` first.
    if (type === 'available' || type === 'unavailable') this.ev.emit('connection.update', { isOnline: type === 'available' })
    try {
      await this._shard.sendPresenceUpdate(type ?? null, jid ?? null)
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
  }

  /**
   * Subscribes to a contact's presence, like Baileys' `sock.presenceSubscribe`; it then
   * arrives as `presence.update`.
   * @param {string} jid
   * @returns {Promise<void>}
   */
  async presenceSubscribe(jid) {
    try {
      await this._shard.presenceSubscribe(jid ?? null)
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
  }

  /**
   * Like Baileys 6.7.21's `sock.onWhatsApp(...numbers)`: phone numbers (`'+6281…'`, `'6281…'`
   * or `'6281…@s.whatsapp.net'`) → `[{ jid, exists: true, lid? }]` for those on WhatsApp;
   * numbers not on WhatsApp are left out of the result, as Baileys does.
   * @param {...string} phoneNumbers
   * @returns {Promise<{ jid: string, exists: boolean, lid?: string }[]>}
   */
  async onWhatsApp(...phoneNumbers) {
    try {
      return await this._shard.onWhatsApp(phoneNumbers.map((n) => n ?? null))
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
  }

  // --- Groups (Baileys 6.7.21's group calls). A request the server refuses (not an admin,
  // unknown group, revoked code, ...) rejects with INVALID_ARGUMENT naming the server's code;
  // a shard that is not connected with NOT_CONNECTED.

  /** @private Calls the native group method `method` for this shard. */
  async _group(method, ...args) {
    try {
      return await this._shard[method](...args.map((a) => a ?? null))
    } catch (err) {
      throw fromNative(err, 'INVALID_ARGUMENT')
    }
  }

  /**
   * Creates a group with us as its super-admin, like Baileys' `sock.groupCreate`. Numbers that
   * are not on WhatsApp are left out. Every member gets `groups.upsert`.
   * @param {string} subject
   * @param {string[]} participants jids (`'<number>@s.whatsapp.net'`)
   * @returns {Promise<import('..').GroupMetadata>}
   */
  groupCreate(subject, participants) {
    return this._group('groupCreate', subject, participants)
  }

  /**
   * The group's metadata, fresh from the server, like Baileys' `sock.groupMetadata`.
   * @param {string} jid the group (`'<id>@g.us'`)
   * @returns {Promise<import('..').GroupMetadata>}
   */
  groupMetadata(jid) {
    return this._group('groupMetadata', jid)
  }

  /**
   * Adds, removes, promotes or demotes members, like Baileys' `sock.groupParticipantsUpdate`:
   * one `{ status, jid, content }` per participant, `status` `'200'` or the server's error code
   * (`'403'`, `'404'`, `'409'`, ...). After a removal, what we send next is encrypted with a new
   * sender key the removed member does not get.
   * @param {string} jid the group
   * @param {string[]} participants
   * @param {import('..').ParticipantAction} action
   * @returns {Promise<import('..').GroupParticipantUpdateResult[]>}
   */
  groupParticipantsUpdate(jid, participants, action) {
    return this._group('groupParticipantsUpdate', jid, participants, action)
  }

  /**
   * Renames the group, like Baileys' `sock.groupUpdateSubject`.
   * @param {string} jid
   * @param {string} subject
   * @returns {Promise<void>}
   */
  groupUpdateSubject(jid, subject) {
    return this._group('groupUpdateSubject', jid, subject)
  }

  /**
   * Sets the group's description, or deletes it when `description` is empty or missing, like
   * Baileys' `sock.groupUpdateDescription`.
   * @param {string} jid
   * @param {string} [description]
   * @returns {Promise<void>}
   */
  groupUpdateDescription(jid, description) {
    return this._group('groupUpdateDescription', jid, description)
  }

  /**
   * Like Baileys' `sock.groupSettingUpdate`: `'announcement'` (only admins send) /
   * `'not_announcement'`, `'locked'` (only admins edit the group's info) / `'unlocked'`.
   * @param {string} jid
   * @param {import('..').GroupSetting} setting
   * @returns {Promise<void>}
   */
  groupSettingUpdate(jid, setting) {
    return this._group('groupSettingUpdate', jid, setting)
  }

  /**
   * The group's invite code (the link is `https://chat.whatsapp.com/<code>`), like Baileys'
   * `sock.groupInviteCode`. Admins only.
   * @param {string} jid
   * @returns {Promise<string>}
   */
  groupInviteCode(jid) {
    return this._group('groupInviteCode', jid)
  }

  /**
   * Revokes the invite code and resolves to the new one, like Baileys' `sock.groupRevokeInvite`.
   * @param {string} jid
   * @returns {Promise<string>}
   */
  groupRevokeInvite(jid) {
    return this._group('groupRevokeInvite', jid)
  }

  /**
   * Joins a group by invite code, like Baileys' `sock.groupAcceptInvite`. Resolves to the
   * group's jid, or undefined when the group needs an admin's approval first.
   * @param {string} code
   * @returns {Promise<string | undefined>}
   */
  async groupAcceptInvite(code) {
    return (await this._group('groupAcceptInvite', code)) ?? undefined
  }

  /**
   * Joins a group with a group invite message (the invitation an admin sends when our privacy
   * kept them from adding us), like Baileys' `sock.groupAcceptInviteV4`. `key` is the invite
   * message's key, or just the inviter's jid. With a full key the invite message is updated to
   * an expired one (`messages.update`); the join shows as a `GROUP_PARTICIPANT_ADD` stub
   * (`messages.upsert`). Resolves to the group's jid.
   * @param {string | import('..').WAMessageKey} key
   * @param {{ groupJid: string, inviteCode: string, inviteExpiration?: number, [field: string]: unknown }} inviteMessage
   * @returns {Promise<string>}
   */
  async groupAcceptInviteV4(key, inviteMessage) {
    key = typeof key === 'string' ? { remoteJid: key } : key
    if (typeof key?.remoteJid !== 'string') throw new ShardError('groupAcceptInviteV4: key must be the invite message\'s key or the inviter\'s jid', 'INVALID_ARGUMENT')
    if (!inviteMessage || typeof inviteMessage.groupJid !== 'string' || typeof inviteMessage.inviteCode !== 'string') {
      throw new ShardError('groupAcceptInviteV4: inviteMessage must be a groupInviteMessage { groupJid, inviteCode, inviteExpiration }', 'INVALID_ARGUMENT')
    }
    const expiration = Number(inviteMessage.inviteExpiration?.toString() ?? 0)
    const groupJid = await this._group('groupAcceptInviteV4', inviteMessage.groupJid, inviteMessage.inviteCode, Number.isFinite(expiration) ? expiration : 0, key.remoteJid)
    const events = []
    if (key.id) {
      const expired = { ...inviteMessage, inviteExpiration: 0, inviteCode: '' }
      events.push({ event: 'messages.update', data: [{ key, update: { message: { groupInviteMessage: expired } } }] })
    }
    const stub = {
      key: { remoteJid: inviteMessage.groupJid, id: generateMessageIDV2(this.user?.id), fromMe: false, participant: key.remoteJid },
      messageStubType: WA_STUB_GROUP_PARTICIPANT_ADD,
      messageStubParameters: [this.user?.id],
      participant: key.remoteJid,
      messageTimestamp: Math.floor(Date.now() / 1000),
    }
    events.push({ event: 'messages.upsert', data: { messages: [stub], type: 'notify' } })
    this.ev.emitTogether(events)
    return groupJid
  }

  /**
   * Withdraws the invitation (add request) sent to `invitedJid`, like Baileys'
   * `sock.groupRevokeInviteV4`; resolves to true.
   * @param {string} groupJid
   * @param {string} invitedJid
   * @returns {Promise<boolean>}
   */
  groupRevokeInviteV4(groupJid, invitedJid) {
    return this._group('groupRevokeInviteV4', groupJid, invitedJid)
  }

  /**
   * The metadata of the group an invite code leads to, without joining, like Baileys'
   * `sock.groupGetInviteInfo`.
   * @param {string} code
   * @returns {Promise<import('..').GroupMetadata>}
   */
  groupGetInviteInfo(code) {
    return this._group('groupGetInviteInfo', code)
  }

  /**
   * Leaves the group, like Baileys' `sock.groupLeave`.
   * @param {string} jid
   * @returns {Promise<void>}
   */
  groupLeave(jid) {
    return this._group('groupLeave', jid)
  }

  /**
   * Every group we are in, `{ [jid]: GroupMetadata }`, like Baileys'
   * `sock.groupFetchAllParticipating`; they are also emitted as `groups.update`, as Baileys does.
   * @returns {Promise<{ [jid: string]: import('..').GroupMetadata }>}
   */
  groupFetchAllParticipating() {
    return this._group('groupFetchAllParticipating')
  }

  /**
   * Whether joining by link needs an admin's approval, like Baileys' `sock.groupJoinApprovalMode`.
   * Members get `groups.update` `{ joinApprovalMode }`.
   * @param {string} jid
   * @param {'on' | 'off'} mode
   * @returns {Promise<void>}
   */
  groupJoinApprovalMode(jid, mode) {
    return this._group('groupJoinApprovalMode', jid, mode)
  }

  /**
   * Who may add members (`'admin_add'` or `'all_member_add'`), like Baileys'
   * `sock.groupMemberAddMode`. Members get `groups.update` `{ memberAddMode }`.
   * @param {string} jid
   * @param {'admin_add' | 'all_member_add'} mode
   * @returns {Promise<void>}
   */
  groupMemberAddMode(jid, mode) {
    return this._group('groupMemberAddMode', jid, mode)
  }

  /**
   * The pending join requests (each one's attributes: `jid`, `request_method`, `request_time`),
   * like Baileys' `sock.groupRequestParticipantsList`. Admins only.
   * @param {string} jid
   * @returns {Promise<{ [attr: string]: string }[]>}
   */
  groupRequestParticipantsList(jid) {
    return this._group('groupRequestParticipantsList', jid)
  }

  /**
   * Approves or rejects join requests, like Baileys' `sock.groupRequestParticipantsUpdate`:
   * `[{ status, jid }]`, `status` `'200'` or the server's code (`'404'`: no such request).
   * @param {string} jid
   * @param {string[]} participants
   * @param {'approve' | 'reject'} action
   * @returns {Promise<{ status: string, jid: string }[]>}
   */
  groupRequestParticipantsUpdate(jid, participants, action) {
    return this._group('groupRequestParticipantsUpdate', jid, participants, action)
  }

  /**
   * Turns disappearing messages on (`expiration` in seconds: 86400, 604800, 7776000) or off (0),
   * like Baileys' `sock.groupToggleEphemeral`.
   * @param {string} jid
   * @param {number} expiration
   * @returns {Promise<void>}
   */
  groupToggleEphemeral(jid, expiration) {
    return this._group('groupToggleEphemeral', jid, expiration)
  }
}

Object.assign(ShardSocket.prototype, protocolCalls, privacyCalls, appStateCalls, peerDataCalls, internalCalls, communityCalls, newsletterCalls, businessCalls)

module.exports = { ShardSocket }
