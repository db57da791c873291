'use strict'
// Crash safety: a process SIGKILLed in the middle of heavy session writes (messages going out,
// so Signal ratchets, pre-keys and credentials are being written) leaves a session that still
// loads and logs in without a QR — every time.
const { spawn } = require('node:child_process')
const { MockServer } = require('../testing')
const { ROOT, TEST_ADDON, pairedManager, userJid } = require('./helpers')

const ROUNDS = Number(process.env.CRASH_ROUNDS || 50)

let mock
let peer
let session
let peerJid
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  const victim = await pairedManager(mock, ['victim'])
  session = victim.session
  await victim.manager.close()
  peer = await pairedManager(mock, ['peer'])
  peerJid = userJid(peer.socks.peer.user.id)
}, 120000)
afterAll(async () => {
  await peer?.manager.close()
  await mock?.close()
})

// The child: log in from the folder, report how, then send as fast as it can until killed.
const CHILD = `
const { ShardManager } = require('.')
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n')
const manager = new ShardManager({ session: process.env.SESSION, socketConfig: { waWebSocketUrl: process.env.MOCK_URL, version: [2, 3000, 1] } })
manager.on('login.update', async ({ shardId, state, type }) => {
  if (type === 'qr') { out({ qr: true }); process.exit(3) }
  if (state !== 'connected') return
  out({ connected: true })
  const sock = manager.socket(shardId)
  let n = 0
  const sendLoop = async () => { for (;;) { await sock.sendMessage(process.env.PEER, { text: 'crash ' + n++ }).catch(() => {}) } }
  for (let i = 0; i < 4; i++) sendLoop()
})
manager.createShard({ id: 'victim' }).catch((e) => { out({ error: e.message }); process.exit(4) })
`

/** One round: start the child, wait for its login, kill it `afterMs` later. */
function crashRound(afterMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD], {
      cwd: ROOT,
      env: { ...process.env, BAILEYS_SHARD_NATIVE: TEST_ADDON, SESSION: session, MOCK_URL: mock.url, PEER: peerJid },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    let connected = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`no login within 30 s\nstdout: ${out}\nstderr: ${err.slice(-3000)}`))
    }, 30000)
    child.stderr.on('data', (d) => (err += d))
    child.stdout.on('data', (d) => {
      out += d
      if (!connected && out.includes('"connected":true')) {
        connected = true
        setTimeout(() => child.kill('SIGKILL'), afterMs)
      }
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (connected && signal === 'SIGKILL') resolve()
      else reject(new Error(`round failed (code ${code}, signal ${signal})\nstdout: ${out}\nstderr: ${err.slice(-3000)}`))
    })
  })
}

test(`a session survives ${ROUNDS} SIGKILLs during heavy writes and logs in without a QR each time`, async () => {
  let received = 0
  peer.manager.on('messages.upsert', ({ data }) => (received += data.messages.filter((m) => !m.key.fromMe).length))
  for (let round = 0; round < ROUNDS; round++) {
    // Kill points spread over the first few hundred ms of writing, when most files change.
    await crashRound(20 + ((round * 37) % 400))
  }
  const status = await peer.manager.checkSessionStatus(`${session}/victim`)
  expect(status).toMatchObject({ exists: true, registered: true, valid: true })
  // The writes were real: the peer decrypted messages from the killed processes.
  expect(received).toBeGreaterThan(ROUNDS)
}, 600000)
