'use strict'
// The addon users get (`npm run build`) verifies WhatsApp's certificate chain, so it must
// refuse the mock server; the test build, same script, gets a QR from it.
const fs = require('node:fs')
const { MockServer } = require('../testing')
const { tmpDir, runChild, RELEASE_ADDON, TEST_ADDON } = require('./helpers')

let mock
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
})
afterAll(async () => {
  await mock?.close()
})

const script = (session, url) => `
  const { ShardManager } = require('./index.js')
  const m = new ShardManager({ session: ${JSON.stringify(session)}, socketConfig: { waWebSocketUrl: ${JSON.stringify(url)}, version: [2, 3000, 1] } })
  m.on('login.update', (u) => console.log(JSON.stringify({ state: u.state, type: u.type || null })))
  m.createShard({ id: 'probe' })
  setTimeout(async () => { await m.close(); process.exit(0) }, 8000)
`

const hasRelease = fs.existsSync(RELEASE_ADDON)
;(hasRelease ? test : test.skip)('the release addon refuses the mock server certificate; the test addon accepts it', async () => {
  const release = await runChild(script(tmpDir(), mock.url), { addon: RELEASE_ADDON })
  expect(release.code).toBe(0)
  expect(release.lines.filter((l) => l.type === 'qr')).toEqual([])
  expect(release.lines.filter((l) => l.state === 'connected')).toEqual([])

  const insecure = await runChild(script(tmpDir(), mock.url), { addon: TEST_ADDON })
  expect(insecure.code).toBe(0)
  expect(insecure.lines.some((l) => l.type === 'qr')).toBe(true)
})

if (!hasRelease && process.env.CI) {
  test('CI builds the release addon', () => {
    throw new Error(`release addon missing at ${RELEASE_ADDON}: run \`npm run build\` first`)
  })
}
