'use strict'
// Baileys 6.7.21's channel (newsletter) members on `sock`. Results are what Baileys gives: the
// server's GraphQL objects for most calls (src/newsletter_ops.rs says which operations run).
const { ShardError, callNative: call } = require('./errors')

/** @this {import('./socket').ShardSocket} */
const newsletterCalls = {
  /**
   * Creates a channel we own, like Baileys' `sock.newsletterCreate`: `{ id, name,
   * creation_time, description, invite, subscribers, verification, picture, mute_state }`.
   * @param {string} name
   * @param {string} [description]
   * @returns {Promise<import('..').NewsletterMetadata>}
   */
  newsletterCreate(name, description) {
    return call(() => this._shard.newsletterCreate(name ?? null, description ?? null))
  },

  /**
   * Changes the channel's name, description or picture (base64 JPEG; `''` removes it), like
   * Baileys' `sock.newsletterUpdate`; resolves to the server's answer. Admins only.
   * @param {string} jid
   * @param {{ name?: string, description?: string, picture?: string }} updates
   * @returns {Promise<unknown>}
   */
  newsletterUpdate(jid, updates) {
    return call(() => this._shard.newsletterUpdate(jid ?? null, updates ?? null))
  },

  /** @param {string} jid @param {string} name @returns {Promise<unknown>} */
  newsletterUpdateName(jid, name) {
    if (typeof name !== 'string') return Promise.reject(new ShardError('newsletterUpdateName: name must be a string', 'INVALID_ARGUMENT'))
    return this.newsletterUpdate(jid, { name })
  },

  /** @param {string} jid @param {string} description @returns {Promise<unknown>} */
  newsletterUpdateDescription(jid, description) {
    if (typeof description !== 'string') return Promise.reject(new ShardError('newsletterUpdateDescription: description must be a string', 'INVALID_ARGUMENT'))
    return this.newsletterUpdate(jid, { description })
  },

  /**
   * Sets the channel's picture from a Buffer or `{ url }` (a file path), like Baileys'
   * `sock.newsletterUpdatePicture` (the image is sent as given: make it a square JPEG).
   * @param {string} jid
   * @param {Buffer | { url: string }} content
   * @returns {Promise<unknown>}
   */
  async newsletterUpdatePicture(jid, content) {
    let image
    if (Buffer.isBuffer(content)) image = content
    else if (typeof content?.url === 'string') image = await call(() => require('node:fs/promises').readFile(content.url))
    if (!image?.length) throw new ShardError('newsletterUpdatePicture: content must be a non-empty Buffer or { url } of an image file', 'INVALID_ARGUMENT')
    return this.newsletterUpdate(jid, { picture: image.toString('base64') })
  },

  /** Removes the channel's picture, like Baileys' `sock.newsletterRemovePicture`. @param {string} jid */
  newsletterRemovePicture(jid) {
    return this.newsletterUpdate(jid, { picture: '' })
  },

  /**
   * The channel as the server describes it (`id`, `state`, `thread_metadata`,
   * `viewer_metadata`), by jid or invite code, like Baileys' `sock.newsletterMetadata`.
   * @param {'jid' | 'invite'} type
   * @param {string} key
   * @returns {Promise<import('..').NewsletterThread | null>}
   */
  newsletterMetadata(type, key) {
    return call(() => this._shard.newsletterMetadata(type ?? null, key ?? null))
  },

  /** Follows the channel, like Baileys' `sock.newsletterFollow`. @param {string} jid @returns {Promise<unknown>} */
  newsletterFollow(jid) {
    return call(() => this._shard.newsletterCall('follow', jid ?? null))
  },

  /** Stops following the channel, like Baileys' `sock.newsletterUnfollow`. @param {string} jid @returns {Promise<unknown>} */
  newsletterUnfollow(jid) {
    return call(() => this._shard.newsletterCall('unfollow', jid ?? null))
  },

  /** Mutes the channel's notifications, like Baileys' `sock.newsletterMute`. @param {string} jid @returns {Promise<unknown>} */
  newsletterMute(jid) {
    return call(() => this._shard.newsletterCall('mute', jid ?? null))
  },

  /** Unmutes the channel, like Baileys' `sock.newsletterUnmute`. @param {string} jid @returns {Promise<unknown>} */
  newsletterUnmute(jid) {
    return call(() => this._shard.newsletterCall('unmute', jid ?? null))
  },

  /**
   * How many follow the channel, `{ subscribers }`, like Baileys' `sock.newsletterSubscribers`.
   * @param {string} jid
   * @returns {Promise<{ subscribers: number }>}
   */
  newsletterSubscribers(jid) {
    return call(() => this._shard.newsletterCall('subscribers', jid ?? null))
  },

  /** The number of the channel's admins (its owner included), like Baileys' `sock.newsletterAdminCount`. @param {string} jid @returns {Promise<number>} */
  newsletterAdminCount(jid) {
    return call(() => this._shard.newsletterAdminCount(jid ?? null))
  },

  /**
   * Hands the channel to `newOwnerJid` (we stay an admin), like Baileys' `sock.newsletterChangeOwner`.
   * @param {string} jid
   * @param {string} newOwnerJid
   * @returns {Promise<void>}
   */
  newsletterChangeOwner(jid, newOwnerJid) {
    return call(() => this._shard.newsletterAdminChange(false, jid ?? null, newOwnerJid ?? null))
  },

  /**
   * Takes an admin's rights away, like Baileys' `sock.newsletterDemote`. Owner only.
   * @param {string} jid
   * @param {string} userJid
   * @returns {Promise<void>}
   */
  newsletterDemote(jid, userJid) {
    return call(() => this._shard.newsletterAdminChange(true, jid ?? null, userJid ?? null))
  },

  /** Deletes the channel, like Baileys' `sock.newsletterDelete`. Owner only. @param {string} jid @returns {Promise<void>} */
  newsletterDelete(jid) {
    return call(() => this._shard.newsletterDelete(jid ?? null))
  },

  /**
   * Reacts to the post `serverId` (no reaction takes ours back), like Baileys'
   * `sock.newsletterReactMessage`.
   * @param {string} jid
   * @param {string} serverId
   * @param {string} [reaction]
   * @returns {Promise<void>}
   */
  newsletterReactMessage(jid, serverId, reaction) {
    return call(() => this._shard.newsletterReactMessage(jid ?? null, serverId ?? null, reaction ?? null))
  },

  /**
   * The channel's newest `count` posts (since `since`, a time in seconds; after the post
   * `after`), as the server's reply node, like Baileys' `sock.newsletterFetchMessages`:
   * `<message_updates><messages><message server_id id t type><plaintext>` (the `Message`
   * protobuf) `<reactions>`.
   * @param {string} jid
   * @param {number} count
   * @param {number} [since]
   * @param {number} [after]
   * @returns {Promise<import('..').BinaryNode>}
   */
  newsletterFetchMessages(jid, count, since, after) {
    return call(() => this._shard.newsletterFetchMessages(jid ?? null, count ?? null, since ?? null, after ?? null))
  },

  /**
   * Asks the server for live updates of the channel (reaction counts, edits) for a while,
   * like Baileys' `sock.subscribeNewsletterUpdates`: `{ duration }` in seconds.
   * @param {string} jid
   * @returns {Promise<{ duration: string } | null>}
   */
  subscribeNewsletterUpdates(jid) {
    return call(() => this._shard.subscribeNewsletterUpdates(jid ?? null))
  },
}

module.exports = { newsletterCalls }
