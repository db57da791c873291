'use strict'
// Baileys' jid helpers (`jidDecode`, `jidNormalizedUser`, `isJidGroup`, ...), with Baileys
// 6.7.21's results for every input, including the odd ones (an oracle test checks them).

/** `user[_agent][:device]@server`. */
function jidEncode(user, server, device, agent) {
  let jid = user || ''
  if (agent) jid += `_${agent}`
  if (device) jid += `:${device}`
  return `${jid}@${server}`
}

/**
 * `{ user, server, domainType, device }` of a jid (`domainType` 1 for LIDs), or undefined
 * for anything without an `@`.
 * @param {string | undefined | null} jid
 */
function jidDecode(jid) {
  if (typeof jid !== 'string') return undefined
  const at = jid.indexOf('@')
  if (at < 0) return undefined
  const server = jid.slice(at + 1)
  const [userAndAgent, device] = jid.slice(0, at).split(':')
  return { server, user: userAndAgent.split('_')[0], domainType: server === 'lid' ? 1 : 0, device: device ? Number(device) : undefined }
}

/** The user's jid without device or agent; `c.us` becomes `s.whatsapp.net`; `''` for a non-jid. */
function jidNormalizedUser(jid) {
  const decoded = jidDecode(jid)
  if (!decoded) return ''
  return jidEncode(decoded.user, decoded.server === 'c.us' ? 's.whatsapp.net' : decoded.server)
}

/** Whether two jids name the same user (devices aside). */
const areJidsSameUser = (a, b) => jidDecode(a)?.user === jidDecode(b)?.user

const endsWith = (suffix) => (jid) => (jid == null ? undefined : jid.endsWith(suffix))

const isJidUser = endsWith('@s.whatsapp.net')
const isLidUser = endsWith('@lid')
const isJidBroadcast = endsWith('@broadcast')
const isJidGroup = endsWith('@g.us')
const isJidNewsletter = endsWith('@newsletter')
const isJidMetaIa = endsWith('@bot')
const isJidStatusBroadcast = (jid) => jid === 'status@broadcast'
const isJidBot = (jid) => jid && /^1313555\d{4}$|^131655500\d{2}$/.test(jid.split('@')[0]) && jid.endsWith('@c.us')

const S_WHATSAPP_NET = '@s.whatsapp.net'
const STORIES_JID = 'status@broadcast'

module.exports = {
  jidEncode,
  jidDecode,
  jidNormalizedUser,
  areJidsSameUser,
  isJidUser,
  isLidUser,
  isJidBroadcast,
  isJidGroup,
  isJidNewsletter,
  isJidMetaIa,
  isJidStatusBroadcast,
  isJidBot,
  S_WHATSAPP_NET,
  STORIES_JID,
}
