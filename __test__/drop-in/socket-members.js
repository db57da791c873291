'use strict'
// The members of Baileys 6.7.21's socket and where ours stands on each: the data of the
// key-enumeration test (socket-members.test.js) and of the README's drop-in table
// (`node scripts/drop-in-table.js --write`).

/**
 * Members a bot can still not use on our `sock`, by group. Every one of them will either work
 * as Baileys' does or reject with `NOT_SUPPORTED`; the test fails if one of these appears on
 * `sock` while still listed here, so the list only ever shrinks.
 */
const PENDING = {
  'messages and receipts': [
    'updateMediaMessage', 'sendPeerDataOperationMessage',
  ],
}

/** Members that exist but reject with `NOT_SUPPORTED`, with the reason (also in the README). */
const { NOT_SUPPORTED_REASONS: NOT_SUPPORTED } = require('../../lib/socket-internals')

/** The keys of a real Baileys 6.7.21 socket (made offline, then ended). */
async function baileysSocketKeys() {
  const { makeWASocket, initAuthCreds } = await import('baileys')
  const silent = { level: 'silent', child: () => silent, trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} }
  const sock = makeWASocket({
    // Nothing listens on port 9: the socket is made, fails to dial, and is ended.
    waWebSocketUrl: 'ws://127.0.0.1:9/ws/chat',
    logger: silent,
    auth: { creds: initAuthCreds(), keys: { get: async () => ({}), set: async () => {} } },
    connectTimeoutMs: 1000,
  })
  const keys = Object.keys(sock).sort()
  sock.ev.removeAllListeners()
  sock.end(undefined)
  return keys
}

/** The public members of one of our sockets: own properties and those of its class. */
function shardSocketKeys(sock) {
  const keys = new Set(Object.keys(sock).filter((k) => !k.startsWith('_')))
  for (let proto = Object.getPrototypeOf(sock); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const k of Object.getOwnPropertyNames(proto)) if (k !== 'constructor' && !k.startsWith('_')) keys.add(k)
  }
  return [...keys].sort()
}

/** The README's drop-in table, from Baileys' keys and ours. */
function dropInTable(baileysKeys, ourKeys) {
  const ours = new Set(ourKeys)
  const pending = Object.values(PENDING).flat()
  const notSupported = Object.keys(NOT_SUPPORTED)
  const implemented = baileysKeys.filter((k) => ours.has(k) && !notSupported.includes(k))
  const lines = [
    '| Baileys 6.7.21 socket members | count |',
    '| --- | --- |',
    `| members of \`makeWASocket(...)\` | ${baileysKeys.length} |`,
    `| on our \`sock\`, working as Baileys' | ${implemented.length} |`,
    `| on our \`sock\`, rejecting with \`NOT_SUPPORTED\` | ${notSupported.length} |`,
    `| not there yet | ${pending.length} |`,
    '',
    '| not there yet, by area | members |',
    '| --- | --- |',
    ...Object.entries(PENDING).map(([area, keys]) => `| ${area} (${keys.length}) | ${keys.map((k) => `\`${k}\``).join(', ')} |`),
  ]
  if (notSupported.length) {
    lines.push('', '| `NOT_SUPPORTED` | why |', '| --- | --- |', ...notSupported.map((k) => `| \`${k}\` | ${NOT_SUPPORTED[k]} |`))
  }
  return lines.join('\n')
}

/** Everything between the README's drop-in markers: the members, then the rest of the surface. */
function readmeTable(baileysKeys, ourKeys) {
  const { surfaceTable } = require('./surface')
  return dropInTable(baileysKeys, ourKeys) + '\n\n' + surfaceTable(Object.keys(require('../../lib/baileys')))
}

module.exports = { PENDING, NOT_SUPPORTED, baileysSocketKeys, shardSocketKeys, dropInTable, readmeTable }
