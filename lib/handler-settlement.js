'use strict'
// Which handlers a batch of received messages is waiting for. A received message is
// acknowledged to WhatsApp only once every handler of its events has finished (an async
// handler: once its promise settles), so a crash mid-handler loses nothing: the message is
// delivered again at the next start. Listeners are called through `emitCollecting`, which
// records the promises they return while a batch is being dispatched (`collecting`).

/** @type {Promise<unknown>[] | null} the promises of the batch being dispatched */
let collected = null

/**
 * Runs `dispatch` and returns the promises its listeners returned.
 * @param {() => void} dispatch
 * @returns {Promise<unknown>[]}
 */
function collecting(dispatch) {
  const outer = collected
  collected = []
  try {
    dispatch()
    return collected
  } finally {
    collected = outer
  }
}

/**
 * `emitter.emit(event, ...args)` — listeners in order, `once` ones removed, the first throw
 * propagated — that also records each listener's promise for `collecting`.
 * @returns {boolean} whether the event had listeners
 */
function emitCollecting(emitter, event, ...args) {
  const listeners = emitter.rawListeners(event)
  if (listeners.length === 0) return false
  for (const listener of listeners) {
    const result = Reflect.apply(listener, emitter, args)
    if (collected && result && typeof result.then === 'function') collected.push(result)
  }
  return true
}

/**
 * Resolves when every promise has settled. A rejection is left unhandled, as it would be
 * without this wait (the bot's own `unhandledRejection` policy applies).
 * @param {Promise<unknown>[]} promises
 */
async function allFinished(promises) {
  const results = await Promise.allSettled(promises)
  for (const result of results) if (result.status === 'rejected') Promise.reject(result.reason)
}

module.exports = { collecting, emitCollecting, allFinished }
