'use strict'
// Baileys' `proto` namespace: WhatsApp's enums (`proto.Message.ProtocolMessage.Type.REVOKE`,
// `proto.WebMessageInfo.StubType`, `proto.HistorySync.HistorySyncType`, ...) and, on every
// message type, protobufjs' static methods over plain objects: `create`, `fromObject`,
// `toObject`, `encode(message).finish()`, `decode(bytes)`, `verify`. Encoding and decoding go
// through the addon's schema-driven codec, so objects have the shape of every other message this
// package gives (Buffers for bytes, numbers for 64-bit integers). Built on first use.
const native = require('../native')

/** A protobufjs-style enum: names → numbers as own keys, numbers → names through its prototype. */
function enumObject(values) {
  const byNumber = {}
  const e = Object.create(byNumber)
  for (const { name, number } of values) {
    if (!(number in byNumber)) byNumber[number] = name
    e[name] = number
  }
  return e
}

function bytesOf(input) {
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  throw new TypeError('decode: expected a Buffer or Uint8Array of protobuf bytes')
}

/** protobufjs' static methods for the message type at `path` (e.g. `Message.ImageMessage`). */
function codec(path) {
  const encode = (message) => native.encodeProto(path, message ?? {})
  const decode = (bytes) => native.decodeProto(path, bytesOf(bytes))
  return {
    /** A new message with these properties. */
    create: (properties = {}) => ({ ...properties }),
    /** A message from a plain object, normalised as protobufjs' `fromObject` (unknown keys dropped). */
    fromObject: (object) => decode(encode(object)),
    /** A plain copy (messages here are plain objects already; options are not needed). */
    toObject: (message) => decode(encode(message)),
    /** `{ finish() }` giving the encoded bytes, as protobufjs' Writer. */
    encode: (message) => {
      const bytes = encode(message)
      return { finish: () => bytes }
    },
    decode,
    /** null when `message` can be encoded, else why not. */
    verify: (message) => {
      try {
        encode(message)
        return null
      } catch (err) {
        return err.message
      }
    },
  }
}

/** The namespace, from the addon's list of message types and enums. */
function buildProto() {
  const { messages, enums } = native.protoSchema()
  const root = {}
  const at = (path) => path.split('.').reduce((node, part) => (node[part] ??= {}), root)
  // Parents before children, so a message's codec and its nested types share one object.
  for (const path of [...messages].sort((a, b) => a.split('.').length - b.split('.').length)) Object.assign(at(path), codec(path))
  for (const { path, values } of enums) {
    const dot = path.lastIndexOf('.')
    const parent = dot < 0 ? root : at(path.slice(0, dot))
    parent[path.slice(dot + 1)] = enumObject(values)
  }
  return root
}

let proto
module.exports = {
  get proto() {
    proto ??= buildProto()
    return proto
  },
}
