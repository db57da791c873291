'use strict'
// Poll votes arrive encrypted (`pollUpdateMessage`). With the `getMessage` socket option the
// shard finds the poll a vote belongs to, has the engine decrypt the vote with the poll's
// `messageSecret`, and emits Baileys' `messages.update`
// `{ key: pollKey, update: { pollUpdates: [{ pollUpdateMessageKey, vote, senderTimestampMs }] } }`,
// which bots tally with `getAggregateVotesInPollMessage`. Baileys 6.7.21 has this step
// commented out; its own example (and bots written from it) expect it, so we keep it.
const { getKeyAuthor } = require('./baileys/polls')
const { jidNormalizedUser } = require('./baileys/jid')

/** Bytes as getMessage stores may return them: Buffer, Uint8Array, base64, `{ type: 'Buffer', data }`. */
function bytes(value) {
  if (value == null) return null
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  if (typeof value === 'string') return Buffer.from(value, 'base64')
  if (Array.isArray(value?.data)) return Buffer.from(value.data)
  return null
}

const number = (v) => (v == null ? undefined : typeof v === 'object' && typeof v.toNumber === 'function' ? v.toNumber() : Number(v))

/**
 * For each poll vote among `events` (one native batch), emits its decrypted `messages.update`
 * on `sock.ev`. Failures are logged on `sock.logger`, never thrown: the vote itself was
 * already delivered in `messages.upsert`.
 * @param {import('./socket').ShardSocket} sock
 * @param {{ event: string, data: any }[]} events
 */
async function emitPollVotes(sock, events) {
  // Runs for every inbound batch: no allocation unless a vote is in it.
  let votes = null
  for (const { event, data } of events) {
    if (event !== 'messages.upsert') continue
    for (const m of data.messages) if (m.message?.pollUpdateMessage?.vote) (votes ??= []).push(m)
  }
  if (!votes) return
  const getMessage = sock._manager._socketOption(sock.shardId, 'getMessage')
  if (typeof getMessage !== 'function') return
  const me = jidNormalizedUser(sock.user?.id)
  for (const msg of votes) {
    const update = msg.message.pollUpdateMessage
    const pollKey = update.pollCreationMessageKey
    try {
      const poll = await getMessage(pollKey)
      const secret = bytes(poll?.messageContextInfo?.messageSecret)
      if (!secret) {
        sock.logger.warn({ key: pollKey }, 'poll creation message not found (getMessage), cannot decrypt the vote')
        continue
      }
      const selectedOptions = await sock._shard.decryptPollVote({
        encPayload: bytes(update.vote.encPayload),
        encIv: bytes(update.vote.encIv),
        pollEncKey: secret,
        pollMsgId: pollKey.id,
        pollCreatorJid: getKeyAuthor(pollKey, me),
        voterJid: getKeyAuthor(msg.key, me),
      })
      const pollUpdate = { pollUpdateMessageKey: msg.key, vote: { selectedOptions }, senderTimestampMs: number(update.senderTimestampMs) }
      sock.ev.emit('messages.update', [{ key: pollKey, update: { pollUpdates: [pollUpdate] } }])
    } catch (err) {
      sock.logger.warn({ err, key: pollKey }, 'failed to decrypt poll vote')
    }
  }
}

module.exports = { emitPollVotes }
