'use strict'
// Disk faults while a shard works: the session folder's file system fills up, or turns
// read-only, while messages go out and come in. The shard may fail calls (with clear errors)
// but must not crash the process or damage the session: once the fault is gone, the same
// folder logs in without a QR and messages flow both ways — including those that arrived
// during the fault (they were not acknowledged, so the server delivers them again).
// Needs to mount a small tmpfs (root with CAP_SYS_ADMIN, as on CI); skipped where it cannot.
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { MockServer, ShardManager } = require('../testing')
const { autoScan, pairedManager, tmpDir, userJid, waitFor, shardEvent } = require('./helpers')

const mountPoint = tmpDir('bshard-tmpfs-')
const canMount = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountPoint], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
const maybe = canMount ? test : test.skip

let mock
let peer
let peerJid
beforeAll(async () => {
  if (!canMount) return
  mock = await MockServer.start({ port: 0 })
  peer = await pairedManager(mock, ['peer'])
  peerJid = userJid(peer.socks.peer.user.id)
}, 120000)
afterAll(async () => {
  await peer?.manager.close()
  await mock?.close()
  if (canMount) execFileSync('umount', ['-l', mountPoint])
})

const textOf = (m) => m.message?.conversation ?? m.message?.extendedTextMessage?.text
const newManager = (session) => new ShardManager({ session, socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })

/** Pairs shard `id` in `session` (on the tmpfs) and resolves with its manager and jid. */
async function pairedOnTmpfs(session, id) {
  const manager = newManager(session)
  autoScan(manager, mock)
  const connected = waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 60000)
  const { sock } = await manager.createShard({ id })
  await connected
  return { manager, sock, jid: userJid(sock.user.id) }
}

/** Logs the folder in again after the fault: no QR, and a message each way gets through. */
async function stillWorks(session, id, jid, arrivedDuringFault) {
  const manager = newManager(session)
  manager.on('login.update', ({ type }) => {
    if (type === 'qr') throw new Error('the session needed a QR after the fault')
  })
  try {
    const connected = waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 30000)
    const redelivered = arrivedDuringFault.map((text) => shardEvent(manager, id, 'messages.upsert', (d) => d.messages.some((m) => textOf(m) === text), 30000))
    const { sock } = await manager.createShard({ id })
    await connected
    await Promise.all(redelivered)
    const toPeer = waitFor(peer.manager, 'messages.upsert', (e) => e.data.messages.some((m) => textOf(m) === `after ${id}`), 20000)
    await sock.sendMessage(peerJid, { text: `after ${id}` })
    await toPeer
    const fromPeer = shardEvent(manager, id, 'messages.upsert', (d) => d.messages.some((m) => textOf(m) === `reply ${id}`), 20000)
    await peer.socks.peer.sendMessage(jid, { text: `reply ${id}` })
    await fromPeer
  } finally {
    await manager.close()
  }
}

/** Remounts the tmpfs read-only; retried, as a write in flight at that moment makes it busy. */
async function remountReadOnly() {
  for (let attempt = 0; ; attempt++) {
    try {
      execFileSync('mount', ['-o', 'remount,ro', mountPoint], { stdio: 'pipe' })
      return
    } catch (err) {
      if (attempt === 50) throw err
      await new Promise((r) => setTimeout(r, 20))
    }
  }
}

/** Sends and receives a few messages while the fault is on; nothing may throw but the sends. */
async function trafficDuringFault(sock, jid, label) {
  const texts = [1, 2, 3].map((n) => `${label} in ${n}`)
  for (const text of texts) await peer.socks.peer.sendMessage(jid, { text })
  const outcomes = []
  for (let n = 1; n <= 3; n++) {
    outcomes.push(await sock.sendMessage(peerJid, { text: `${label} out ${n}` }).then(() => 'sent', (e) => e.code ?? e.message))
  }
  // Let the incoming ones reach the shard (and fail to be recorded).
  await new Promise((r) => setTimeout(r, 1500))
  return { texts, outcomes }
}

maybe('a full disk while messages flow: nothing crashes, the session logs in afterwards and gets what arrived meanwhile', async () => {
  const session = path.join(mountPoint, 'full')
  fs.mkdirSync(session)
  const { manager, sock, jid } = await pairedOnTmpfs(session, 'full')
  const errors = []
  manager.on('shard.error', ({ error }) => errors.push(error.code))
  const filler = path.join(mountPoint, 'filler')
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' })
  } catch {
    // dd stops with ENOSPC: the file system is full now.
  }
  const { texts, outcomes } = await trafficDuringFault(sock, jid, 'full')
  for (const o of outcomes) expect(['sent', 'CREDS_SAVE_FAILED', 'NOT_CONNECTED', 'INVALID_ARGUMENT', 'INTERNAL']).toContain(o)
  await manager.close()
  fs.rmSync(filler)
  await stillWorks(session, 'full', jid, texts)
}, 180000)

maybe('a read-only file system while messages flow: same guarantees', async () => {
  const session = path.join(mountPoint, 'ro')
  fs.mkdirSync(session)
  const { manager, sock, jid } = await pairedOnTmpfs(session, 'ro')
  await remountReadOnly()
  let texts
  try {
    ;({ texts } = await trafficDuringFault(sock, jid, 'ro'))
    await manager.close()
  } finally {
    execFileSync('mount', ['-o', 'remount,rw', mountPoint])
  }
  await stillWorks(session, 'ro', jid, texts)
}, 180000)
