'use strict'
// Baileys' BufferJSON: `{ type: 'Buffer', data: base64 | number[] }` <-> Buffer.

function reviver(_key, value) {
  if (value && typeof value === 'object' && value.type === 'Buffer' && (typeof value.data === 'string' || Array.isArray(value.data))) {
    return typeof value.data === 'string' ? Buffer.from(value.data, 'base64') : Buffer.from(value.data)
  }
  return value
}

function replacer(_key, value) {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array || (value && value.type === 'Buffer')) {
    return { type: 'Buffer', data: Buffer.from(value.data || value).toString('base64') }
  }
  return value
}

/** Revives the Buffers in a plain object (deep). */
function revive(obj) {
  return JSON.parse(JSON.stringify(obj), reviver)
}

const BufferJSON = { reviver, replacer }

module.exports = { BufferJSON, revive }
