'use strict'
// Baileys' `shouldSyncHistoryMessage(notification)` socket option: a history chunk is reported
// (`messaging-history.set`) only if it returns true. Baileys asks before downloading; the
// engine downloads first, so here the function is asked when the chunk arrives. It gets the
// notification's fields this side knows: `{ syncType, progress, peerDataRequestSessionId }`.

/**
 * `batch` without the history chunks `shouldSyncHistoryMessage` declines. Without the function
 * every chunk the native side reports is wanted (it reports them only with `syncFullHistory`).
 * A function that throws declines the chunk (the error goes to `logger`).
 * @param {{ event: string, data: any }[]} batch
 * @param {((notification: object) => boolean) | undefined} shouldSyncHistoryMessage
 * @param {{ warn: Function }} logger
 */
function wantedHistory(batch, shouldSyncHistoryMessage, logger) {
  if (typeof shouldSyncHistoryMessage !== 'function' || !batch.some((e) => e.event === 'messaging-history.set')) return batch
  return batch.filter(({ event, data }) => {
    if (event !== 'messaging-history.set') return true
    const { syncType, progress, peerDataRequestSessionId } = data
    try {
      return !!shouldSyncHistoryMessage({ syncType, progress, peerDataRequestSessionId })
    } catch (err) {
      logger.warn({ err }, 'shouldSyncHistoryMessage threw; skipping the history chunk')
      return false
    }
  })
}

module.exports = { wantedHistory }
