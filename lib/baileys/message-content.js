'use strict'
// Baileys' helpers for message objects: `getContentType`, `normalizeMessageContent`,
// `extractMessageContent`, `getDevice`, `generateMessageID(V2)` and
// `generateWAMessageFromContent` (whose result `sock.relayMessage` sends).
const crypto = require('node:crypto')
const { jidDecode, jidNormalizedUser, isJidGroup, isJidNewsletter, isJidStatusBroadcast } = require('./jid')

/** The key of the content inside a `proto.IMessage` (`'conversation'`, `'imageMessage'`, ...). */
function getContentType(content) {
  if (!content) return undefined
  return Object.keys(content).find((k) => (k === 'conversation' || k.includes('Message')) && k !== 'senderKeyDistributionMessage')
}

// The wrappers whose `message` is the real content.
const WRAPPERS = ['ephemeralMessage', 'viewOnceMessage', 'documentWithCaptionMessage', 'viewOnceMessageV2', 'viewOnceMessageV2Extension', 'editedMessage']

/** Unwraps ephemeral, view-once, edited, ... messages (at most five levels) to their content. */
function normalizeMessageContent(content) {
  if (!content) return undefined
  for (let depth = 0; depth < 5; depth++) {
    const wrapper = WRAPPERS.map((w) => content?.[w]).find(Boolean)
    if (!wrapper) break
    content = wrapper.message
  }
  return content
}

/** What a template or buttons message shows, as a plain message. */
function fromTemplate(template) {
  for (const kind of ['imageMessage', 'documentMessage', 'videoMessage', 'locationMessage']) {
    if (template[kind]) return { [kind]: template[kind] }
  }
  const text = 'contentText' in template ? template.contentText : 'hydratedContentText' in template ? template.hydratedContentText : ''
  return { conversation: text }
}

/** The real content of a message: unwrapped, and templates/buttons reduced to what they show. */
function extractMessageContent(content) {
  content = normalizeMessageContent(content)
  if (content?.buttonsMessage) return fromTemplate(content.buttonsMessage)
  const template = content?.templateMessage
  const shown = template?.hydratedFourRowTemplate ?? template?.hydratedTemplate ?? template?.fourRowTemplate
  if (shown) return fromTemplate(shown)
  return content
}

/** The kind of device a message id says its sender used. */
function getDevice(id) {
  if (/^3A.{18}$/.test(id)) return 'ios'
  if (/^3E.{20}$/.test(id)) return 'web'
  if (/^(.{21}|.{32})$/.test(id)) return 'android'
  if (/^(3F|.{18}$)/.test(id)) return 'desktop'
  return 'unknown'
}

/** A random message id as Baileys makes them (`3EB0` + 36 hex digits). */
const generateMessageID = () => `3EB0${crypto.randomBytes(18).toString('hex').toUpperCase()}`

/** A message id as Baileys 6.7.21 makes them: `3EB0` + 18 hex digits of a hash of time, user and randomness. */
function generateMessageIDV2(userId) {
  const data = Buffer.alloc(44)
  data.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000)))
  const user = jidDecode(userId)?.user
  if (user) data.write(`${user}@c.us`, 8)
  crypto.randomBytes(16).copy(data, 28)
  return `3EB0${crypto.createHash('sha256').update(data).digest('hex').toUpperCase().slice(0, 18)}`
}

/**
 * A `WAMessage` around `message` to send to `jid`, like Baileys' `generateWAMessageFromContent`:
 * `{ key: { remoteJid, fromMe: true, id }, message, messageTimestamp, status: 1, ... }`, with
 * `options.quoted` turned into the reply's `contextInfo` and `options.ephemeralExpiration` set.
 * Send it with `sock.relayMessage(jid, msg.message, { messageId: msg.key.id })`. Plain objects,
 * where Baileys returns protobufjs instances (both encode the same).
 * @param {string} jid
 * @param {object} message a `proto.IMessage`
 * @param {{ userJid: string, timestamp?: Date, quoted?: object, messageId?: string, ephemeralExpiration?: number }} options
 */
function generateWAMessageFromContent(jid, message, options = {}) {
  const timestamp = Math.floor((options.timestamp ?? new Date()).getTime() / 1000)
  const inner = normalizeMessageContent(message)
  const kind = getContentType(inner)
  const { quoted, userJid } = options
  if (quoted && !isJidNewsletter(jid)) {
    const participant = quoted.key.fromMe ? userJid : quoted.participant || quoted.key.participant || quoted.key.remoteJid
    const quotedContent = normalizeMessageContent(quoted.message)
    const quotedKind = getContentType(quotedContent)
    // Only the quoted content itself, without its own context.
    let quotedBody = quotedContent?.[quotedKind]
    if (quotedBody && typeof quotedBody === 'object' && 'contextInfo' in quotedBody) {
      quotedBody = { ...quotedBody }
      delete quotedBody.contextInfo
    }
    const contextInfo = (inner[kind] && typeof inner[kind] === 'object' && inner[kind].contextInfo) || {}
    contextInfo.participant = jidNormalizedUser(participant)
    contextInfo.stanzaId = quoted.key.id
    contextInfo.quotedMessage = { [quotedKind]: quotedBody }
    if (jid !== quoted.key.remoteJid) contextInfo.remoteJid = quoted.key.remoteJid
    if (inner[kind] && typeof inner[kind] === 'object') inner[kind].contextInfo = contextInfo
  }
  if (options.ephemeralExpiration && kind !== 'protocolMessage' && kind !== 'ephemeralMessage' && !isJidNewsletter(jid)) {
    if (inner[kind] && typeof inner[kind] === 'object') {
      inner[kind].contextInfo = { ...inner[kind].contextInfo, expiration: options.ephemeralExpiration }
    }
  }
  const msg = {
    key: { remoteJid: jid, fromMe: true, id: options.messageId || generateMessageIDV2() },
    message,
    messageTimestamp: timestamp,
    messageStubParameters: [],
    status: 1,
  }
  if (isJidGroup(jid) || isJidStatusBroadcast(jid)) msg.participant = userJid
  return msg
}

module.exports = {
  getContentType,
  normalizeMessageContent,
  extractMessageContent,
  getDevice,
  generateMessageID,
  generateMessageIDV2,
  generateWAMessageFromContent,
}
