'use strict'
// Baileys' privacy members on `sock`: `fetchPrivacySettings`, one `update*Privacy(value)`
// setter per privacy category, `updateDefaultDisappearingMode`, and `removeProfilePicture`.
const { ShardError, callNative: call } = require('./errors')

/** Baileys' setter → the privacy category it sets. */
const PRIVACY_SETTERS = {
  updateLastSeenPrivacy: 'last',
  updateOnlinePrivacy: 'online',
  updateProfilePicturePrivacy: 'profile',
  updateStatusPrivacy: 'status',
  updateReadReceiptsPrivacy: 'readreceipts',
  updateGroupsAddPrivacy: 'groupadd',
  updateCallPrivacy: 'calladd',
  updateMessagesPrivacy: 'messages',
}

/** @this {import('./socket').ShardSocket} */
const privacyCalls = {
  /**
   * The account's privacy settings, `{ last, online, profile, status, groupadd, readreceipts,
   * calladd, messages, ... }` (category → value), like Baileys' `sock.fetchPrivacySettings`.
   * Always read from the server (Baileys caches them unless `force`, and misses its own updates).
   * @param {boolean} [_force]
   * @returns {Promise<Record<string, string>>}
   */
  fetchPrivacySettings(_force) {
    return call(() => this._shard.fetchPrivacySettings())
  },

  /**
   * The timer new chats start with, in seconds (0 turns it off), like Baileys'
   * `sock.updateDefaultDisappearingMode`.
   * @param {number} duration
   * @returns {Promise<void>}
   */
  updateDefaultDisappearingMode(duration) {
    if (typeof duration !== 'number') return Promise.reject(new ShardError('updateDefaultDisappearingMode: duration must be a number of seconds', 'INVALID_ARGUMENT'))
    return call(() => this._shard.updateDefaultDisappearingMode(duration))
  },

  /**
   * Removes our own picture (`jid` = our jid) or a group's, like Baileys'
   * `sock.removeProfilePicture`.
   * @param {string} jid
   * @returns {Promise<void>}
   */
  removeProfilePicture(jid) {
    if (typeof jid !== 'string') return Promise.reject(new ShardError('removeProfilePicture: jid must be a string', 'INVALID_ARGUMENT'))
    return call(() => this._shard.removeProfilePicture(jid))
  },
}

for (const [name, category] of Object.entries(PRIVACY_SETTERS)) {
  // `value` is checked natively against the category's allowed values (INVALID_ARGUMENT).
  privacyCalls[name] = function (value) {
    return call(() => this._shard.updatePrivacy(name, category, typeof value === 'string' ? value : null))
  }
}

module.exports = { privacyCalls, PRIVACY_SETTERS }
