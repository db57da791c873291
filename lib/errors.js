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

// The addon throws (or rejects with) errors whose `code` is a ShardError code (src/errors.rs);
// N-API's own errors carry N-API status names instead. Loaded lazily: the addon loads after this.
let shardCodes = null
function isShardCode(code) {
  shardCodes ??= new Set(require('./native').errorCodes())
  return shardCodes.has(code)
}

// The N-API statuses of an argument it could not convert to what the Rust side takes.
const UNREADABLE_ARGUMENT = new Set(['InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected', 'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected', 'ArrayBufferExpected'])

/**
 * Turns an error thrown by the addon into a ShardError: the addon's own errors keep their
 * code, an argument N-API could not read is INVALID_ARGUMENT, anything else gets
 * `fallbackCode` (the code of the operation that failed).
 */
function fromNative(err, fallbackCode) {
  if (err instanceof ShardError) return err
  const message = err && err.message ? err.message : String(err)
  const code = err?.code
  const error = new ShardError(message, isShardCode(code) ? code : UNREADABLE_ARGUMENT.has(code) ? 'INVALID_ARGUMENT' : fallbackCode)
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

module.exports = { ShardError, fromNative, callNative, boom, isShardCode }
