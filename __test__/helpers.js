'use strict'
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
const TEST_ADDON = path.join(ROOT, 'target', 'test-addon', 'baileys-shard.linux-x64-gnu.node')
const RELEASE_ADDON = path.join(ROOT, 'baileys-shard.linux-x64-gnu.node')

function tmpDir(prefix = 'bshard-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** An IPv4 address of this machine that is not loopback, or null. */
function outsideAddress() {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return null
}

/** Resolves with the first `event` payload matching `predicate`; rejects after `ms`. */
function waitFor(emitter, event, predicate = () => true, ms = 30000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener)
      reject(new Error(`timed out after ${ms} ms waiting for ${event}`))
    }, ms)
    function listener(payload) {
      if (!predicate(payload)) return
      clearTimeout(timer)
      emitter.off(event, listener)
      resolve(payload)
    }
    emitter.on(event, listener)
  })
}

/** Scans every QR a manager shows through the mock phone; returns a stop function. */
function autoScan(manager, mock) {
  const listener = ({ type, code }) => {
    if (type === 'qr') mock.scanQr(code).catch(() => {})
  }
  manager.on('login.update', listener)
  return () => manager.off('login.update', listener)
}

/**
 * A manager on a fresh session folder against `mock`, scanning every QR with the mock phone,
 * with the shards `ids` created and connected (`socketConfig` adds socket options, `config`
 * manager options). Resolves
 * with `{ manager, session, socks }`.
 */
async function pairedManager(mock, ids, socketConfig = {}, config = {}) {
  const { ShardManager } = require('..')
  const session = tmpDir()
  const manager = new ShardManager({ ...config, session, socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1], ...socketConfig } })
  autoScan(manager, mock)
  const connected = Promise.all(
    ids.map((id) => waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 60000)),
  )
  const socks = {}
  for (const id of ids) socks[id] = (await manager.createShard({ id })).sock
  await connected
  return { manager, session, socks }
}

/**
 * A mock server with two paired shards, `alice` and `bob`, on one manager. Resolves with
 * `{ mock, manager, alice, bob, aliceJid, bobJid, close }` (`alice`/`bob` are their sockets).
 */
async function aliceAndBob(socketConfig) {
  const { MockServer } = require('../testing')
  const mock = await MockServer.start({ port: 0 })
  const { manager, socks } = await pairedManager(mock, ['alice', 'bob'], socketConfig)
  const { alice, bob } = socks
  const close = async () => {
    await manager.close()
    await mock.close()
  }
  return { mock, manager, alice, bob, aliceJid: userJid(alice.user.id), bobJid: userJid(bob.user.id), close }
}

let exchanged = 0
/**
 * Sends `content` from the socket `from` to `jid` with a fresh fixed id and resolves with
 * `{ sent, got }`: the sent message and the one the shard `toShard` of `manager` received.
 */
async function exchange(manager, from, toShard, jid, content, options = {}) {
  const id = `3EB0AB${String(process.pid % 1000).padStart(3, '0')}${String(++exchanged).padStart(11, '0')}`
  const received = waitFor(manager, 'messages.upsert', (e) => e.shardId === toShard && e.data.messages.some((m) => m.key.id === id), 20000)
  const sent = await from.sendMessage(jid, content, { ...options, messageId: id })
  const event = await received
  return { sent, got: event.data.messages.find((m) => m.key.id === id) }
}

/** A user's jid without the device part: `123:4@s.whatsapp.net` → `123@s.whatsapp.net`. */
const userJid = (jid) => jid.replace(/:\d+@/, '@')

/**
 * Runs `script` (JS source) in a fresh Node process with the given addon; resolves with
 * `{ code, signal, lines }`, `lines` being the JSON lines it printed.
 */
function runChild(script, { addon = TEST_ADDON, env = {}, timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { ...process.env, BAILEYS_SHARD_NATIVE: addon, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`child did not exit within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err.slice(-4000)}`))
    }, timeoutMs)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      const lines = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
      resolve({ code, signal, lines, stderr: err })
    })
  })
}

/** Asserts `promise` rejects with a `ShardError` of `code` whose message matches `pattern`. */
async function expectShardError(promise, code, pattern) {
  const { ShardError } = require('..')
  const err = await promise.then(() => null, (e) => e)
  expect(err).toBeInstanceOf(ShardError)
  expect(err.code).toBe(code)
  if (pattern) expect(err.message).toMatch(pattern)
  return err
}

/**
 * A real Baileys 6.7.21 client (`__test__/baileys-peer.js`) paired with `mock`, once it is open
 * and has its offline queue. Resolves with `{ peer, me }` (`me` = its `creds.me`).
 */
async function openBaileysPeer(mock, name = 'peer', options = {}) {
  const { BaileysChild } = require('./baileys-peer')
  const peer = new BaileysChild(name, mock, options)
  const open = await peer.waitFor('Baileys to open', (e) => e.event === 'open' || e.event === 'pairing-refused', 60000)
  expect(open.event === 'open' ? 'open' : `pairing refused: ${open.message}`).toBe('open')
  await peer.waitFor('Baileys offline sync', (e) => e.event === 'pending-done', 15000)
  return { peer, me: open.me }
}

/**
 * A mock server, two paired shards `alice` and `bob` on one manager, and a real Baileys 6.7.21
 * client named `peerName` on the same server, open. Resolves with `{ mock, manager, alice, bob,
 * aliceJid, bobJid, peer, peerJid, close }`.
 */
async function shardsAndBaileys(peerName) {
  const ctx = await aliceAndBob()
  const { peer, me } = await openBaileysPeer(ctx.mock, peerName)
  const close = async () => {
    await peer.close()
    await ctx.close()
  }
  return { ...ctx, peer, peerJid: userJid(me.id), close }
}

/** The next `name` event of shard `shardId` on `manager` whose data matches `pred`; resolves with the data. */
function shardEvent(manager, shardId, name, pred = () => true, ms = 20000) {
  return waitFor(manager, name, (e) => e.shardId === shardId && pred(e.data), ms).then((e) => e.data)
}

/** The next `name` event the Baileys `peer` reports from now on whose data matches `pred`. */
function peerEvent(peer, name, pred = () => true, ms = 20000) {
  const from = peer.events.length
  return peer.waitFor(`Baileys ${name}`, (e) => peer.events.indexOf(e) >= from && e.event === name && pred(e.data), ms)
}

/**
 * A manager whose shard `id` links to the account `phone` as another device, by a pairing code
 * typed on the mock phone (seed the account first to give it contacts, chats and history).
 * Resolves with `{ manager, sock }` once connected.
 */
async function linkToAccount(mock, phone, id, socketConfig = {}) {
  const { ShardManager } = require('..')
  const manager = new ShardManager({ session: tmpDir(), socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1], ...socketConfig } })
  const pairing = waitFor(manager, 'login.update', (u) => u.shardId === id && u.type === 'pairing', 30000)
  const connected = waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 60000)
  const { sock } = await manager.createShard({ id, phoneNumber: phone })
  await mock.enterPairingCode(phone, (await pairing).code)
  await connected
  return { manager, sock }
}

/** A value as the Baileys peer reports it (baileys-peer.js `plainValue`): bytes as base64, 64-bit numbers as numbers, no undefined keys. */
function asPeerValue(value) {
  if (typeof value === 'bigint') return Number(value)
  if (value == null || typeof value !== 'object') return value
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString('base64') }
  if (Array.isArray(value)) return value.map(asPeerValue)
  return Object.fromEntries(Object.keys(value).filter((k) => value[k] !== undefined && typeof value[k] !== 'function').map((k) => [k, asPeerValue(value[k])]))
}

/**
 * Polls `check` until it returns something truthy (which it resolves to); fails after `ms`
 * naming `what` (a string, or a function called then, to say what was seen instead).
 */
async function until(what, check, ms = 30000) {
  const end = Date.now() + ms
  for (;;) {
    const value = check()
    if (value) return value
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

module.exports = { until, linkToAccount, asPeerValue, ROOT, TEST_ADDON, RELEASE_ADDON, tmpDir, outsideAddress, waitFor, autoScan, pairedManager, aliceAndBob, exchange, userJid, runChild, expectShardError, openBaileysPeer, shardsAndBaileys, shardEvent, peerEvent }
