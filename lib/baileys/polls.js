'use strict'
// Poll results from votes: Baileys' getAggregateVotesInPollMessage over the `pollUpdates` a
// shard emits in `messages.update` (see lib/poll-votes.js).
const { createHash } = require('node:crypto')

/** The author of a message key: `meId` for our own, else the participant or the chat. */
function getKeyAuthor(key, meId = 'me') {
  return (key?.fromMe ? meId : key?.participant || key?.remoteJid) || ''
}

const optionHash = (name) => 'h' + createHash('sha256').update(Buffer.from(name || '')).digest('hex')
const hashKey = (bytes) => 'h' + Buffer.from(bytes).toString('hex')

/**
 * Tallies a poll's votes: `[{ name, voters: [jid] }]`, one entry per option in the poll's order,
 * then an `'Unknown'` entry per hash no option has.
 * @param {{ message?: object, pollUpdates?: { pollUpdateMessageKey?: object, vote?: { selectedOptions?: Uint8Array[] } }[] }} poll
 * @param {string} [meId] named as the voter of our own votes
 */
function getAggregateVotesInPollMessage({ message, pollUpdates }, meId) {
  const options = message?.pollCreationMessage?.options || message?.pollCreationMessageV2?.options || message?.pollCreationMessageV3?.options || []
  const tally = new Map()
  for (const option of options) tally.set(optionHash(option.optionName), { name: option.optionName || '', voters: [] })
  for (const update of pollUpdates || []) {
    for (const selected of update.vote?.selectedOptions || []) {
      const key = hashKey(selected)
      if (!tally.has(key)) tally.set(key, { name: 'Unknown', voters: [] })
      tally.get(key).voters.push(getKeyAuthor(update.pollUpdateMessageKey, meId))
    }
  }
  return [...tally.values()]
}

module.exports = { getAggregateVotesInPollMessage, getKeyAuthor }
