'use strict'
// Every member of a real Baileys 6.7.21 socket is on our `sock`, or listed as not there yet
// (__test__/drop-in/socket-members.js), and the README's table says exactly that.
const fs = require('node:fs')
const { PENDING, NOT_SUPPORTED, baileysSocketKeys, shardSocketKeys, readmeTable } = require('./drop-in/socket-members')
const { README, sampleSocket, withTable } = require('../scripts/drop-in-table')

let baileysKeys
let ourKeys

beforeAll(async () => {
  baileysKeys = await baileysSocketKeys()
  ourKeys = shardSocketKeys(sampleSocket())
})

test('Baileys 6.7.21 has the 142 members this list was made from', () => {
  expect(baileysKeys).toHaveLength(142)
})

test('every member of Baileys\' socket is on ours or listed as not there yet, and nothing listed is there', () => {
  const ours = new Set(ourKeys)
  const pending = Object.values(PENDING).flat()
  expect(new Set(pending).size).toBe(pending.length)
  expect(baileysKeys.filter((k) => !ours.has(k) && !pending.includes(k))).toEqual([])
  expect(pending.filter((k) => ours.has(k))).toEqual([])
  expect(pending.filter((k) => !baileysKeys.includes(k))).toEqual([])
  expect(Object.keys(NOT_SUPPORTED).filter((k) => !ours.has(k))).toEqual([])
})

test('the README\'s drop-in table is the one the script generates', () => {
  const readme = fs.readFileSync(README, 'utf8')
  expect(withTable(readme, readmeTable(baileysKeys, ourKeys))).toBe(readme)
})
