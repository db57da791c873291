'use strict'
// The two builds a platform package carries (`npm run build`), loaded as users load them — no
// BAILEYS_SHARD_NATIVE: `require('baileys-shard')` gives the addon that verifies WhatsApp's
// certificate chain and refuses the mock; `require('baileys-shard/testing')` gives the testing
// addon, which trusts the mock and so dials nothing but loopback addresses, checked on the
// addresses a host name resolves to.
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const { execFileSync, spawnSync } = require('node:child_process')
const { ROOT, TEST_ADDON, tmpDir, runChild, outsideAddress } = require('./helpers')

const TESTING_ADDON = path.join(ROOT, 'baileys-shard.linux-x64-gnu.testing.node')
const built = fs.existsSync(TESTING_ADDON)
// runChild sets BAILEYS_SHARD_NATIVE to this; empty, the loader finds the builds as it does for users.
const AS_INSTALLED = { addon: '' }

/** A child that logs a shard in against a mock of its own with the ShardManager of `entry`. */
const loginScript = (entry, session) => `
  (async () => {
    const { ShardManager } = require(${JSON.stringify(entry)})
    const { MockServer } = require('./lib/mock-server')
    const mock = await MockServer.start({ port: 0 })
    const m = new ShardManager({ session: ${JSON.stringify(session)}, socketConfig: { waWebSocketUrl: mock.url, connectTimeoutMs: 3000 } })
    let qr = false
    const connected = new Promise((resolve) => m.on('login.update', (u) => {
      if (u.type === 'qr') { qr = true; mock.scanQr(u.code).catch(() => {}) }
      if (u.state === 'connected') resolve(true)
    }))
    await m.createShard({ id: 'probe' })
    const ok = await Promise.race([connected, new Promise((resolve) => setTimeout(() => resolve(false), 8000))])
    console.log(JSON.stringify({ connected: ok, qr, skips: m.skipsCertificateChecks }))
    await m.close()
    await mock.close()
    process.exit(0)
  })().catch((e) => { console.log(JSON.stringify({ error: e.message })); process.exit(1) })
`

;(built ? describe : describe.skip)('the builds users install', () => {
  test('baileys-shard/testing connects to the mock; baileys-shard refuses it', async () => {
    const testing = await runChild(loginScript('./testing.js', tmpDir()), AS_INSTALLED)
    expect(testing.lines).toEqual([{ connected: true, qr: true, skips: true }])
    const release = await runChild(loginScript('./index.js', tmpDir()), AS_INSTALLED)
    expect(release.lines).toEqual([{ connected: false, qr: false, skips: false }])
  })

  /** What a testing-build shard does with `url`: TCP connections a listener here saw, and what it reported. */
  async function dialFromTesting(host) {
    const server = net.createServer((socket) => socket.destroy())
    let connections = 0
    server.on('connection', () => connections++)
    await new Promise((resolve) => server.listen(0, '0.0.0.0', resolve))
    const url = `ws://${host}:${server.address().port}/ws/chat`
    const script = `
      const { ShardManager } = require('./testing.js')
      const m = new ShardManager({ session: ${JSON.stringify(tmpDir())}, socketConfig: { waWebSocketUrl: ${JSON.stringify(url)}, connectTimeoutMs: 1000 } })
      m.on('login.update', (u) => console.log(JSON.stringify({ state: u.state, error: u.error?.message ?? null })))
      m.on('shard.error', ({ error }) => console.log(JSON.stringify({ code: error.code, error: error.message })))
      m.createShard({ id: 'probe' })
      setTimeout(async () => { await m.close(); process.exit(0) }, 3000)
    `
    try {
      const { lines } = await runChild(script, AS_INSTALLED)
      return { connections, reports: lines }
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  }

  const outside = outsideAddress()
  ;(outside ? test : test.skip)('the testing build never dials an address outside loopback, nor a host name that resolves to one', async () => {
    // The resolver reads a bare number as an IPv4 address (3221225986 is 192.0.2.2): a host
    // name to a check on names, an outside address once resolved.
    const asNumber = String(outside.split('.').reduce((n, part) => n * 256 + Number(part), 0))
    for (const host of [outside, asNumber]) {
      const { connections, reports } = await dialFromTesting(host)
      expect({ host, connections }).toEqual({ host, connections: 0 })
      expect(reports).toContainEqual({ code: 'CONNECT_FAILED', error: expect.stringContaining(`connects only to servers on this machine (loopback addresses); ${host} is ${outside}`) })
    }
    // The same listener, through loopback, is dialled.
    expect((await dialFromTesting('127.0.0.1')).connections).toBeGreaterThan(0)
  })
})

describe('which build a process loads', () => {
  const run = (args, env = {}) => {
    const childEnv = { ...process.env, ...env }
    if (!env.BAILEYS_SHARD_NATIVE) delete childEnv.BAILEYS_SHARD_NATIVE
    const out = execFileSync(process.execPath, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    return JSON.parse(out.toString())
  }

  ;(built ? test : test.skip)('baileys-shard/testing required after baileys-shard: its ShardManager says what to do; MockServer still works', () => {
    const result = run([
      '-e',
      `const { ShardManager } = require('./index.js')
       const testing = require('./testing.js')
       let error = null
       try { new testing.ShardManager() } catch (e) { error = { code: e.code, message: e.message } }
       console.log(JSON.stringify({ error, mock: typeof testing.MockServer.start, release: new ShardManager({ session: ${JSON.stringify(tmpDir())} }).skipsCertificateChecks }))`,
    ])
    expect(result.error.code).toBe('RELEASE_ADDON_LOADED')
    expect(result.error.message).toMatch(/before anything requires baileys-shard.*node -r baileys-shard\/testing/)
    expect(result).toMatchObject({ mock: 'function', release: false })
  })

  ;(built ? test : test.skip)('node -r baileys-shard/testing: the bot\'s own require("baileys-shard") gets the testing build', () => {
    const result = run(['-r', './testing.js', '-e', `console.log(JSON.stringify({ skips: new (require('./index.js').ShardManager)({ session: ${JSON.stringify(tmpDir())} }).skipsCertificateChecks }))`])
    expect(result).toEqual({ skips: true })
  })

  test('BAILEYS_SHARD_NATIVE naming a testing build warns, unless baileys-shard/testing asked for it', () => {
    const stderrOf = (entry) =>
      spawnSync(process.execPath, ['-e', `require(${JSON.stringify(entry)})`], { cwd: ROOT, env: { ...process.env, BAILEYS_SHARD_NATIVE: TEST_ADDON }, encoding: 'utf8' }).stderr
    expect(stderrOf('./index.js')).toMatch(/BAILEYS_SHARD_INSECURE_ADDON.*skips WhatsApp's certificate checks/)
    expect(stderrOf('./testing.js')).not.toMatch(/BAILEYS_SHARD_INSECURE_ADDON/)
  })
})
