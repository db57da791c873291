'use strict'
// Baileys' `shouldIgnoreJid(jid)` socket option: what arrives from a chat it returns true for
// (messages, receipts, reactions, group and profile notifications, presences) is not emitted.
// Baileys checks the stanza's sender; each event here carries that chat as `key.remoteJid` or
// `id`. The server itself (`@s.whatsapp.net`) is never ignored, as in Baileys.

const byKey = (item) => item?.key?.remoteJid
const byId = (item) => item?.id

/** For each event: how to find an item's chat, and whether `data` is a list of items. */
const CHATS = {
  'messages.upsert': { chat: byKey, list: (d) => d.messages, rebuild: (d, messages) => ({ ...d, messages }) },
  'messages.update': { chat: byKey },
  'messages.reaction': { chat: byKey },
  'message-receipt.update': { chat: byKey },
  'groups.upsert': { chat: byId },
  'groups.update': { chat: byId },
  'chats.update': { chat: byId },
  'contacts.update': { chat: byId },
  'presence.update': { chat: byId, single: true },
  'group-participants.update': { chat: byId, single: true },
}

/**
 * `data` of `event` without what comes from ignored chats, or null when nothing is left.
 * A `shouldIgnoreJid` that throws ignores nothing (the error goes to `logger`).
 * @param {string} event
 * @param {any} data
 * @param {(jid: string) => boolean} shouldIgnoreJid
 * @param {{ warn: Function }} logger
 */
function withoutIgnored(event, data, shouldIgnoreJid, logger) {
  const rule = CHATS[event]
  if (!rule || data == null) return data
  const ignored = (item) => {
    const jid = rule.chat(item)
    if (!jid || jid === '@s.whatsapp.net') return false
    try {
      return !!shouldIgnoreJid(jid)
    } catch (err) {
      logger.warn({ err, jid }, 'shouldIgnoreJid threw; not ignoring')
      return false
    }
  }
  if (rule.single) return ignored(data) ? null : data
  const items = rule.list ? rule.list(data) : data
  if (!Array.isArray(items)) return data
  const kept = items.filter((item) => !ignored(item))
  if (kept.length === items.length) return data
  if (kept.length === 0) return null
  return rule.rebuild ? rule.rebuild(data, kept) : kept
}

/** A native batch (`[{ event, data }]`) without ignored chats; empty entries dropped. */
function batchWithoutIgnored(batch, shouldIgnoreJid, logger) {
  return batch
    .map(({ event, data }) => ({ event, data: withoutIgnored(event, data, shouldIgnoreJid, logger) }))
    .filter(({ data }) => data != null)
}

module.exports = { withoutIgnored, batchWithoutIgnored }
