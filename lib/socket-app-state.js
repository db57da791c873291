'use strict'
// Baileys' app-state members on `sock`: `appPatch` and everything built on it — `chatModify`,
// `star`, the label calls, `addOrEditContact`,
// `updateDisableLinkPreviewsPrivacy` — and `resyncAppState`. A change goes to the account's
// other devices, and comes back as the same events a change made elsewhere brings
// (`chats.update`, `contacts.upsert`, `labels.edit`, ...), as Baileys' `emitOwnEvents` does.
const { ShardError, callNative: call } = require('./errors')
const { chatModificationToAppPatch } = require('./baileys/app-patch')

const COLLECTIONS = ['critical_block', 'critical_unblock_low', 'regular_high', 'regular_low', 'regular']

/** Runs `build` (which may throw a ShardError for bad input) and sends its patch. */
function sendPatch(sock, build) {
  let patch
  try {
    patch = build()
  } catch (err) {
    return Promise.reject(err)
  }
  return sock.appPatch(patch)
}

function chatJid(what, jid) {
  if (typeof jid !== 'string' || !jid.includes('@')) throw new ShardError(`${what}: jid must be a chat's jid, e.g. '123@s.whatsapp.net'`, 'INVALID_ARGUMENT')
  return jid
}

/** @this {import('./socket').ShardSocket} */
const appStateCalls = {
  /**
   * Sends one app-state patch (Baileys' `WAPatchCreate`: `{ syncAction, index, type, apiVersion,
   * operation }`) to the account's other devices, like Baileys' `sock.appPatch`. A REMOVE
   * operation rejects with `NOT_SUPPORTED` (see the README).
   * @param {import('..').WAPatchCreate} patch
   * @returns {Promise<void>}
   */
  appPatch(patch) {
    return call(() => this._shard.appPatch(patch))
  },

  /**
   * Changes a chat (or an account setting, with jid `''`) on every device of the account, like
   * Baileys' `sock.chatModify`: `{ archive, lastMessages }`, `{ pin }`, `{ mute: untilMs | null }`,
   * `{ markRead, lastMessages }`, `{ delete: true, lastMessages }`, `{ clear: true, lastMessages }`,
   * `{ deleteForMe: { key, timestamp, deleteMedia } }`, `{ star: { messages, star } }`,
   * `{ contact }`, `{ pushNameSetting }`, `{ disableLinkPreviews }` and the label changes.
   * @param {import('..').ChatModification} mod
   * @param {string} jid
   * @returns {Promise<void>}
   */
  chatModify(mod, jid) {
    return sendPatch(this, () => chatModificationToAppPatch(mod, typeof jid === 'string' ? jid : chatJid('chatModify', jid)))
  },

  /**
   * Stars or unstars a message (the first of `messages`), like Baileys' `sock.star`.
   * @param {string} jid
   * @param {{ id: string, fromMe?: boolean }[]} messages
   * @param {boolean} star
   */
  star(jid, messages, star) {
    return sendPatch(this, () => chatModificationToAppPatch({ star: { messages, star } }, chatJid('star', jid)))
  },

  /**
   * Saves or renames a contact in the account's address book, like Baileys' `sock.addOrEditContact`.
   * @param {string} jid
   * @param {{ fullName?: string, firstName?: string, saveOnPrimaryAddressbook?: boolean }} contact
   */
  addOrEditContact(jid, contact) {
    if (contact == null || typeof contact !== 'object') return Promise.reject(new ShardError('addOrEditContact: contact must be an object such as { fullName }', 'INVALID_ARGUMENT'))
    return sendPatch(this, () => chatModificationToAppPatch({ contact }, chatJid('addOrEditContact', jid)))
  },

  /**
   * Creates, edits or deletes (`deleted: true`) a label, like Baileys' `sock.addLabel`.
   * @param {string} jid
   * @param {{ id: string, name?: string, color?: number, predefinedId?: number, deleted?: boolean }} labels
   */
  addLabel(jid, labels) {
    return sendPatch(this, () => chatModificationToAppPatch({ addLabel: { ...labels } }, typeof jid === 'string' ? jid : ''))
  },

  /** Labels a chat, like Baileys' `sock.addChatLabel`. @param {string} jid @param {string} labelId */
  addChatLabel(jid, labelId) {
    return sendPatch(this, () => chatModificationToAppPatch({ addChatLabel: { labelId } }, chatJid('addChatLabel', jid)))
  },

  /** Unlabels a chat, like Baileys' `sock.removeChatLabel`. @param {string} jid @param {string} labelId */
  removeChatLabel(jid, labelId) {
    return sendPatch(this, () => chatModificationToAppPatch({ removeChatLabel: { labelId } }, chatJid('removeChatLabel', jid)))
  },

  /** Labels a message, like Baileys' `sock.addMessageLabel`. @param {string} jid @param {string} messageId @param {string} labelId */
  addMessageLabel(jid, messageId, labelId) {
    return sendPatch(this, () => chatModificationToAppPatch({ addMessageLabel: { messageId, labelId } }, chatJid('addMessageLabel', jid)))
  },

  /** Unlabels a message, like Baileys' `sock.removeMessageLabel`. @param {string} jid @param {string} messageId @param {string} labelId */
  removeMessageLabel(jid, messageId, labelId) {
    return sendPatch(this, () => chatModificationToAppPatch({ removeMessageLabel: { messageId, labelId } }, chatJid('removeMessageLabel', jid)))
  },

  /**
   * Turns WhatsApp's link previews off (or on) for the account, like Baileys'
   * `sock.updateDisableLinkPreviewsPrivacy` (a privacy setting, not this package's previews).
   * @param {boolean} isPreviewsDisabled
   */
  updateDisableLinkPreviewsPrivacy(isPreviewsDisabled) {
    return sendPatch(this, () => chatModificationToAppPatch({ disableLinkPreviews: { isPreviewsDisabled } }, ''))
  },

  /**
   * Syncs app-state collections from the server now (from scratch with `isInitialSync`),
   * emitting what changed, like Baileys' `sock.resyncAppState`.
   * @param {readonly string[]} collections e.g. `['regular_low', 'critical_unblock_low']`
   * @param {boolean} [isInitialSync]
   * @returns {Promise<void>}
   */
  resyncAppState(collections, isInitialSync) {
    if (!Array.isArray(collections) || collections.some((c) => !COLLECTIONS.includes(c))) {
      return Promise.reject(new ShardError(`resyncAppState: collections must be an array of ${COLLECTIONS.join(', ')}`, 'INVALID_ARGUMENT'))
    }
    return call(() => this._shard.resyncAppState([...collections], !!isInitialSync))
  },
}

module.exports = { appStateCalls }
