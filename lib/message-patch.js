'use strict'
// Baileys' `patchMessageBeforeSending(message, jids)` socket option: the bot may change a message
// right before it is encrypted (e.g. wrap buttons in `viewOnceMessage`). The engine encrypts one
// message for every device of a chat, so a patch that returns different messages for different
// recipients is refused (Baileys allows that in 1:1 chats).
const { ShardError } = require('./errors')
const { isDeepStrictEqual } = require('node:util')

/**
 * The message to send for `message` to `jid` after the socket's patch, or `message` itself
 * when there is none. Resolves to a plain message; rejects with `NOT_SUPPORTED` for
 * per-recipient patches and `INVALID_ARGUMENT` when the patch returns no message.
 * @param {import('./socket').ShardSocket} sock
 */
async function patchedForSending(sock, message, jid) {
  const patch = sock._manager._socketOption(sock.shardId, 'patchMessageBeforeSending')
  if (typeof patch !== 'function') return message
  const patched = await patch(message, [jid])
  const list = Array.isArray(patched) ? patched : [patched]
  const messages = list.map((entry) => {
    if (!entry || typeof entry !== 'object') throw new ShardError('patchMessageBeforeSending must return the message (or [{ recipientJid, ...message }])', 'INVALID_ARGUMENT')
    const { recipientJid, ...rest } = entry
    return rest
  })
  if (messages.length === 0) throw new ShardError('patchMessageBeforeSending returned no message', 'INVALID_ARGUMENT')
  if (!messages.every((m) => isDeepStrictEqual(m, messages[0]))) {
    throw new ShardError('patchMessageBeforeSending returned different messages per recipient: the engine encrypts one message for all devices of a chat', 'NOT_SUPPORTED')
  }
  return messages[0]
}

module.exports = { patchedForSending }
