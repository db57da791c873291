'use strict'
// The README's drop-in counts come from __test__/drop-in/surface.js; this checks those lists
// against Baileys 6.7.21's own type declarations (nothing left out, nothing made up) and
// against our typings and README (what is counted as working is documented there).
const fs = require('node:fs')
const path = require('node:path')
const { EVENTS, CONTENT_KINDS, SEND_OPTIONS, SOCKET_OPTIONS, UTILITIES } = require('./drop-in/surface')

const BAILEYS_TYPES = path.join(path.dirname(require.resolve('baileys/package.json')), 'lib', 'Types')
const read = (file) => fs.readFileSync(file, 'utf8')
const typings = read(path.join(__dirname, '..', 'index.d.ts'))
const readme = read(path.join(__dirname, '..', 'README.md'))
const all = (lists) => Object.values(lists).flat()
/** The top-level keys of an interface-like block: lines indented by exactly four spaces. */
const keysOf = (text) => [...text.matchAll(/^ {4}'?([\w.-]+)'?\??:/gm)].map((m) => m[1])

test('every Baileys event is listed once, and those we emit are in our typings', () => {
  const baileysEvents = keysOf(read(path.join(BAILEYS_TYPES, 'Events.d.ts')).split('export type BufferedEventData')[0])
  expect(all(EVENTS).sort()).toEqual([...new Set(baileysEvents)].sort())
  const eventMap = typings.slice(typings.indexOf('export interface ShardSocketEventMap'))
  for (const event of [...EVENTS.works, ...EVENTS.partly]) expect([event, eventMap.includes(`'${event}'`) || eventMap.includes(`\n  ${event}:`)]).toEqual([event, true])
})

test('every SocketConfig option of Baileys is listed once and described in the README', () => {
  const socketTypes = read(path.join(BAILEYS_TYPES, 'Socket.d.ts'))
  // The nested fields of two options' object types are not options themselves.
  const options = keysOf(socketTypes).filter((k) => !['recipientJid', 'patch', 'snapshot'].includes(k))
  expect(all(SOCKET_OPTIONS).sort()).toEqual([...new Set(options)].sort())
  const section = readme.slice(readme.indexOf('### Socket options'), readme.indexOf("### Baileys' socket: what `sock` has"))
  for (const option of all(SOCKET_OPTIONS)) expect([option, section.includes(`\`${option}\``)]).toEqual([option, true])
})

test('content kinds and sendMessage options are Baileys\' own, and those that work are in our typings', () => {
  const messageTypes = read(path.join(BAILEYS_TYPES, 'Message.d.ts'))
  const media = ['image', 'video', 'audio', 'document', 'sticker']
  for (const kind of all(CONTENT_KINDS).filter((k) => !['edit'].includes(k))) {
    const known = messageTypes.includes(`${kind}:`) || messageTypes.includes(`${kind}?:`) || messageTypes.includes(`'${kind}'`)
    expect([kind, known || media.includes(kind)]).toEqual([kind, true])
  }
  const content = typings.slice(typings.indexOf('export type AnyMediaMessageContent'), typings.indexOf('export interface MiscMessageGenerationOptions'))
  for (const kind of [...CONTENT_KINDS.works, ...CONTENT_KINDS.partly]) expect([kind, new RegExp(`\\b${kind}\\??:`).test(content)]).toEqual([kind, true])
  for (const option of all(SEND_OPTIONS)) expect([option, messageTypes.includes(`${option}?:`) || messageTypes.includes(`${option}:`)]).toEqual([option, true])
  const options = typings.slice(typings.indexOf('export interface MiscMessageGenerationOptions'))
  for (const option of SEND_OPTIONS.works) expect([option, options.includes(`${option}?:`)]).toEqual([option, true])
})

test('the utilities counted as exported are exported by the package and by Baileys', async () => {
  const baileys = await import('baileys')
  const ours = require('..')
  for (const name of UTILITIES) expect([name, name in baileys]).toEqual([name, true])
  expect(UTILITIES.filter((u) => u in ours).length).toBeGreaterThanOrEqual(24)
})
