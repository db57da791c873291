'use strict'

/** An error of this package: `code` is stable (e.g. `SHARD_NOT_FOUND`), `message` says what to do. */
class ShardError extends Error {
  /**
   * @param {string} message
   * @param {string} [code]
   */
  constructor(message, code = 'UNKNOWN') {
    super(message)
    this.name = 'ShardError'
    this.code = code
  }
}

// The native side prefixes messages with `[CODE] ` (src/errors.rs).
const NATIVE_CODE = /^\[([A-Z_]+)\] ([\s\S]*)$/

/**
 * Turns an error thrown by the addon into a ShardError. Native input errors keep their own
 * code; anything else gets `fallbackCode` (the code of the operation that failed).
 */
function fromNative(err, fallbackCode) {
  if (err instanceof ShardError) return err
  const match = NATIVE_CODE.exec(err && err.message ? err.message : String(err))
  const error = match ? new ShardError(match[2], match[1]) : new ShardError(String(err && err.message ? err.message : err), fallbackCode)
  if (err && err.stack) error.cause = err
  return error
}

/**
 * Runs a call into the addon and turns what it throws into a ShardError (`fallbackCode` when
 * the error carries no code of its own).
 */
async function callNative(fn, fallbackCode = 'INVALID_ARGUMENT') {
  try {
    return await fn()
  } catch (err) {
    throw fromNative(err, fallbackCode)
  }
}

/**
 * A Baileys-style Boom error (`output.statusCode` carries the `DisconnectReason`), as bots read
 * `connection.update`'s `lastDisconnect.error`.
 */
function boom(message, statusCode) {
  const error = new Error(message)
  error.isBoom = true
  error.output = { statusCode, payload: { statusCode, error: 'Connection Failure', message }, headers: {} }
  error.data = null
  return error
}

module.exports = { ShardError, fromNative, callNative, boom }
