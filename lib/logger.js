'use strict'
// `sock.logger`: Baileys hands every socket a pino logger. Ours is the user's `logger` socket
// option as `logger.child({ shardId })`, or a silent logger with the same methods.

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']

/** A pino-shaped logger that writes nothing. */
function silentLogger() {
  const logger = { level: 'silent', child: () => logger }
  for (const level of LEVELS) logger[level] = () => {}
  return logger
}

/**
 * @param {any} logger the `logger` socket option (pino or anything with pino's methods)
 * @param {string} shardId
 */
function shardLogger(logger, shardId) {
  if (logger == null) return silentLogger()
  return typeof logger.child === 'function' ? logger.child({ shardId }) : logger
}

/** Whether `value` can be used as a logger (checked when the option is given). */
function isLogger(value) {
  return value != null && typeof value === 'object' && LEVELS.every((l) => typeof value[l] === 'function')
}

module.exports = { shardLogger, isLogger }
