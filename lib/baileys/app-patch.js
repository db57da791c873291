'use strict'
// Baileys 6.7.21's `chatModificationToAppPatch`: a `ChatModification` (what `sock.chatModify`
// takes) as the app-state patch `sock.appPatch` sends — which collection, index, action version
// and `SyncActionValue` WhatsApp expects for each kind of change. Same results as Baileys'
// (compared in __test__/chat-modify.test.js).
const { ShardError } = require('../errors')
const { isJidGroup, jidNormalizedUser } = require('./jid')

/** `proto.SyncdMutation.SyncdOperation`. */
const SET = 0
const REMOVE = 1

/** Baileys' `LabelAssociationType`: the first index part of a label association. */
const LabelAssociationType = Object.freeze({ Chat: 'label_jid', Message: 'label_message' })

const invalid = (message) => new ShardError(`chatModify: ${message}`, 'INVALID_ARGUMENT')
const toNumber = (v) => (v == null ? 0 : typeof v === 'object' && typeof v.toNumber === 'function' ? v.toNumber() : Number(v))

/**
 * `lastMessages` as the `messageRange` WhatsApp uses to settle concurrent changes: the newest
 * message's time and the keys (newest first, as Baileys asks). Anything but an array is passed
 * through, as Baileys does.
 */
function messageRange(lastMessages) {
  if (!Array.isArray(lastMessages)) return lastMessages
  const messages = lastMessages.map((m) => {
    const key = m?.key
    if (!key?.id || !key?.remoteJid) throw invalid('every message of lastMessages needs key.id and key.remoteJid')
    if (isJidGroup(key.remoteJid) && !key.fromMe && !key.participant) {
      throw invalid('a group message of lastMessages not sent by us needs key.participant')
    }
    if (!toNumber(m.messageTimestamp)) throw invalid('every message of lastMessages needs its messageTimestamp')
    return key.participant ? { ...m, key: { ...key, participant: jidNormalizedUser(key.participant) } } : m
  })
  return {
    lastMessageTimestamp: lastMessages[lastMessages.length - 1]?.messageTimestamp,
    messages: messages.length ? messages : undefined,
  }
}

const flag = (b) => (b ? '1' : '0')

/**
 * Each kind of change, in the order Baileys tries them (the first key present in the
 * modification wins): collection, action version, index, operation and action.
 * @type {Record<string, { type: string, apiVersion: number, index: (mod: any, jid: string) => string[], action: (mod: any) => object, operation?: (mod: any) => number }>}
 */
const KINDS = {
  mute: {
    type: 'regular_high',
    apiVersion: 2,
    index: (_, jid) => ['mute', jid],
    action: (mod) => ({ muteAction: { muted: !!mod.mute, muteEndTimestamp: mod.mute || undefined } }),
  },
  archive: {
    type: 'regular_low',
    apiVersion: 3,
    index: (_, jid) => ['archive', jid],
    action: (mod) => ({ archiveChatAction: { archived: !!mod.archive, messageRange: messageRange(mod.lastMessages) } }),
  },
  markRead: {
    type: 'regular_low',
    apiVersion: 3,
    index: (_, jid) => ['markChatAsRead', jid],
    action: (mod) => ({ markChatAsReadAction: { read: mod.markRead, messageRange: messageRange(mod.lastMessages) } }),
  },
  deleteForMe: {
    type: 'regular_high',
    apiVersion: 3,
    index: ({ deleteForMe: { key } }, jid) => ['deleteMessageForMe', jid, key.id, flag(key.fromMe), '0'],
    action: ({ deleteForMe: { deleteMedia, timestamp } }) => ({ deleteMessageForMeAction: { deleteMedia, messageTimestamp: timestamp } }),
  },
  clear: {
    type: 'regular_high',
    apiVersion: 6,
    // Baileys always asks to delete starred messages too ('1'), and never the media ('0').
    index: (_, jid) => ['clearChat', jid, '1', '0'],
    action: (mod) => ({ clearChatAction: { messageRange: messageRange(mod.lastMessages) } }),
  },
  pin: {
    type: 'regular_low',
    apiVersion: 5,
    index: (_, jid) => ['pin_v1', jid],
    action: (mod) => ({ pinAction: { pinned: !!mod.pin } }),
  },
  contact: {
    type: 'critical_unblock_low',
    apiVersion: 2,
    index: (_, jid) => ['contact', jid],
    action: (mod) => ({ contactAction: mod.contact || {} }),
    operation: (mod) => (mod.contact ? SET : REMOVE),
  },
  disableLinkPreviews: {
    type: 'regular',
    apiVersion: 8,
    index: () => ['setting_disableLinkPreviews'],
    action: (mod) => ({ privacySettingDisableLinkPreviewsAction: mod.disableLinkPreviews || {} }),
  },
  star: {
    type: 'regular_low',
    apiVersion: 2,
    // Baileys stars the first message of the list only.
    index: ({ star: { messages: [key] } }, jid) => ['star', jid, key.id, flag(key.fromMe), '0'],
    action: (mod) => ({ starAction: { starred: !!mod.star.star } }),
  },
  delete: {
    type: 'regular_high',
    apiVersion: 6,
    index: (_, jid) => ['deleteChat', jid, '1'],
    action: (mod) => ({ deleteChatAction: { messageRange: messageRange(mod.lastMessages) } }),
  },
  pushNameSetting: {
    type: 'critical_block',
    apiVersion: 1,
    index: () => ['setting_pushName'],
    action: (mod) => ({ pushNameSetting: { name: mod.pushNameSetting } }),
  },
  addLabel: {
    type: 'regular',
    apiVersion: 3,
    index: (mod) => ['label_edit', mod.addLabel.id],
    action: ({ addLabel: { name, color, predefinedId, deleted } }) => ({ labelEditAction: { name, color, predefinedId, deleted } }),
  },
  ...labelAssociation('addChatLabel', LabelAssociationType.Chat, true),
  ...labelAssociation('removeChatLabel', LabelAssociationType.Chat, false),
  ...labelAssociation('addMessageLabel', LabelAssociationType.Message, true),
  ...labelAssociation('removeMessageLabel', LabelAssociationType.Message, false),
}

function labelAssociation(kind, associationType, labeled) {
  const index =
    associationType === LabelAssociationType.Chat
      ? (mod, jid) => [associationType, mod[kind].labelId, jid]
      : (mod, jid) => [associationType, mod[kind].labelId, jid, mod[kind].messageId, '0', '0']
  return { [kind]: { type: 'regular', apiVersion: 3, index, action: () => ({ labelAssociationAction: { labeled } }) } }
}

/** What each kind needs in the modification before its index can be built. */
function checkShape(kind, mod) {
  const value = mod[kind]
  const need = (ok, what) => {
    if (!ok) throw invalid(`${kind} needs ${what}`)
  }
  if (kind === 'deleteForMe') need(value?.key?.id, '{ key: { id, fromMe }, timestamp, deleteMedia }')
  if (kind === 'star') need(Array.isArray(value?.messages) && value.messages[0]?.id, '{ messages: [{ id, fromMe }], star }')
  if (kind === 'addLabel') need(value && value.id != null, '{ id, name, color, predefinedId?, deleted? }')
  if (kind.endsWith('ChatLabel')) need(value?.labelId != null, '{ labelId }')
  if (kind.endsWith('MessageLabel')) need(value?.labelId != null && value?.messageId != null, '{ labelId, messageId }')
}

/**
 * The app-state patch for a `ChatModification`, like Baileys' `chatModificationToAppPatch`:
 * `{ syncAction, index, type, apiVersion, operation }`, stamped with the current time.
 * @param {object} mod e.g. `{ archive: true, lastMessages: [msg] }`, `{ pin: true }`,
 *   `{ mute: untilMs | null }`, `{ star: { messages: [key], star: true } }`, `{ addChatLabel: { labelId } }`
 * @param {string} jid the chat (`''` for account settings such as `pushNameSetting`)
 */
function chatModificationToAppPatch(mod, jid) {
  if (mod == null || typeof mod !== 'object') throw invalid('the modification must be an object such as { archive: true }')
  const kind = Object.keys(KINDS).find((k) => k in mod)
  if (!kind) throw invalid(`not supported: the modification must have one of ${Object.keys(KINDS).join(', ')}`)
  checkShape(kind, mod)
  const { type, apiVersion, index, action, operation } = KINDS[kind]
  const syncAction = action(mod)
  syncAction.timestamp = Date.now()
  return { syncAction, index: index(mod, jid).map(String), type, apiVersion, operation: operation ? operation(mod) : SET }
}

module.exports = { chatModificationToAppPatch, LabelAssociationType }
