'use strict'
// Comparing our message objects with Baileys' for the same content (oracle tests).

/** Plain data for comparison: bytes as base64, Longs as numbers, no send-time stamps, no
 * device-list metadata the sender adds. */
function canon(value) {
  return JSON.parse(
    JSON.stringify(value, function (key, v) {
      const raw = this[key]
      if (raw instanceof Uint8Array) return Buffer.from(raw).toString('base64')
      if (['senderTimestampMs', 'timestampMs', 'deviceListMetadata', 'deviceListMetadataVersion'].includes(key)) return undefined
      if (v && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data).toString('base64')
      if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0 && key === 'messageContextInfo') return undefined
      return v
    }),
  )
}

/** `ours` without what the engine adds to every message it sends, as WhatsApp Web does (a
 * `messageSecret` and `reportingTokenVersion` in `messageContextInfo`), where Baileys 6.7.21
 * adds none. */
function withoutEngineAdditions(ours, theirs) {
  const copy = structuredClone(ours)
  const context = copy.messageContextInfo
  if (context) {
    if (!theirs.messageContextInfo?.messageSecret) delete context.messageSecret
    delete context.reportingTokenVersion
    if (Object.keys(context).length === 0) delete copy.messageContextInfo
  }
  return copy
}

module.exports = { canon, withoutEngineAdditions }
