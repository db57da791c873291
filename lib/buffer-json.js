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

const BufferJSON = { reviver, replacer }

module.exports = { BufferJSON }
