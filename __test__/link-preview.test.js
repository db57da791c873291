'use strict'
// Link previews made by sendMessage, as Baileys makes them with link-preview-js: a local HTTPS
// site (its own certificate, trusted through NODE_EXTRA_CA_CERTS) stands for the web, and the
// bot runs in a child process whose DNS sends *.example.com and *.example.org there. The
// preview is compared with Baileys 6.7.21's own getUrlInfo of the same page.
const fs = require('node:fs')
const path = require('node:path')
const https = require('node:https')
const crypto = require('node:crypto')
const { execFileSync } = require('node:child_process')
const { PNG } = require('pngjs')
const { tmpDir, runChild } = require('./helpers')

let site
let dir
const requests = []

/** A 400×200 PNG. */
function cover() {
  const png = new PNG({ width: 400, height: 200 })
  for (let i = 0; i < png.data.length; i += 4) png.data.set([i % 251, 90, 200, 255], i)
  return PNG.sync.write(png)
}
const COVER = cover()

const PAGE = (base) => `<!doctype html><html><head>
<title>Fallback title</title>
<meta property="og:title" content="Shards in the wild">
<meta property="og:description" content="Running many WhatsApp accounts from one process.">
<meta property="og:image" content="${base}/cover.png">
</head><body>hello</body></html>`

beforeAll(async () => {
  dir = tmpDir()
  const key = path.join(dir, 'key.pem')
  const cert = path.join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=preview.example.com', '-addext', 'subjectAltName=DNS:preview.example.com,DNS:www.preview.example.com,DNS:other.example.org'], { stdio: 'ignore' })
  site = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
    requests.push(`${req.headers.host.split(':')[0]}${req.url}`)
    const base = `https://${req.headers.host}`
    if (req.url === '/article') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE(base))
    if (req.url === '/cover.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(COVER)
    if (req.url === '/moved') return res.writeHead(302, { location: `https://www.${req.headers.host}/article` }).end()
    if (req.url === '/away') return res.writeHead(302, { location: `https://other.example.org:${site.address().port}/article` }).end()
    if (req.url === '/untitled') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>no title</body></html>')
    res.writeHead(404).end()
  })
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve))
})
afterAll(() => new Promise((resolve) => site?.close(resolve)))

const BOT = (port) => `
const dns = require('node:dns')
const lookup = dns.lookup
dns.lookup = function (host, options, callback) {
  if (typeof options === 'function') [callback, options] = [options, {}]
  if (/\\.example\\.(com|org)$/.test(host)) return options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)
  return lookup.call(this, host, options, callback)
}
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { ShardManager, getUrlInfo } = require('./index.js')
const { MockServer } = require('./testing.js')
const out = (o) => console.log(JSON.stringify(o, (k, v) => (v && v.type === 'Buffer' && Array.isArray(v.data) ? { base64: Buffer.from(v.data).toString('base64') } : v)))
;(async () => {
  const mock = await MockServer.start({ port: 0 })
  const manager = new ShardManager({ session: fs.mkdtempSync(path.join(os.tmpdir(), 'bshard-lp-')), socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })
  manager.on('login.update', ({ type, code }) => { if (type === 'qr') mock.scanQr(code).catch(() => {}) })
  const ids = ['alice', 'hq', 'bob']
  const connected = Promise.all(ids.map((id) => new Promise((resolve) => manager.on('login.update', (u) => u.shardId === id && u.state === 'connected' && resolve()))))
  await manager.createShard({ id: 'alice' })
  await manager.createShard({ id: 'hq', socket: { generateHighQualityLinkPreview: true } })
  await manager.createShard({ id: 'bob' })
  await connected
  const bobJid = manager.socket('bob').user.id.replace(/:\\d+@/, '@')
  let n = 0
  async function send(from, content) {
    const id = '3EB0LP' + String(++n).padStart(14, '0')
    const got = new Promise((resolve) => manager.on('messages.upsert', (e) => { const m = e.shardId === 'bob' && e.data.messages.find((m) => m.key.id === id); if (m) resolve(m) }))
    await manager.socket(from).sendMessage(bobJid, content, { messageId: id })
    return (await got).message
  }
  const base = 'https://preview.example.com:${port}'
  out({ case: 'plain', message: await send('alice', { text: 'read ' + base + '/article now' }) })
  out({ case: 'redirect', message: await send('alice', { text: base + '/moved' }) })
  out({ case: 'away', message: await send('alice', { text: base + '/away' }) })
  out({ case: 'untitled', message: await send('alice', { text: base + '/untitled' }) })
  out({ case: 'optOut', message: await send('alice', { text: base + '/article', linkPreview: null }) })
  out({ case: 'http', message: await send('alice', { text: 'http://preview.example.com:${port}/article' }) })
  out({ case: 'hq', message: await send('hq', { text: base + '/article' }) })
  const baileys = await import('baileys')
  out({ case: 'oracle', ours: await getUrlInfo(base + '/article'), theirs: await baileys.getUrlInfo(base + '/article', { thumbnailWidth: 192, fetchOpts: { timeout: 3000 } }) })
  await manager.close()
  await mock.close()
})().catch((e) => { out({ error: String(e && e.stack) }); process.exit(1) })
`

/** Width and height in a JPEG's start-of-frame. */
function jpegSize(bytes) {
  for (let i = 2; i < bytes.length - 8; ) {
    const marker = bytes[i + 1]
    const length = bytes.readUInt16BE(i + 2)
    if (marker >= 0xc0 && marker <= 0xc3) return { width: bytes.readUInt16BE(i + 7), height: bytes.readUInt16BE(i + 5) }
    i += 2 + length
  }
  return undefined
}
const bytes = (v) => Buffer.from(v.base64, 'base64')

test('a text\'s first https link gets the page\'s preview, as Baileys makes it', async () => {
  const { code, lines } = await runChild(BOT(site.address().port), { env: { NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem') }, timeoutMs: 110000 })
  const byCase = Object.fromEntries(lines.map((l) => [l.case ?? 'error', l]))
  expect(byCase.error).toBeUndefined()
  expect(code).toBe(0)

  const plain = byCase.plain.message.extendedTextMessage
  expect(plain).toMatchObject({
    matchedText: `https://preview.example.com:${site.address().port}/article`,
    title: 'Shards in the wild',
    description: 'Running many WhatsApp accounts from one process.',
    previewType: 0,
  })
  expect(jpegSize(bytes(plain.jpegThumbnail))).toEqual({ width: 192, height: 96 })
  // Redirects within the site are followed; to another site, the text goes without a preview.
  expect(byCase.redirect.message.extendedTextMessage.title).toBe('Shards in the wild')
  for (const c of ['away', 'untitled', 'optOut', 'http']) {
    const message = byCase[c].message
    expect({ c, title: message.extendedTextMessage?.title, matched: message.extendedTextMessage?.matchedText }).toEqual({ c, title: undefined, matched: undefined })
  }
  expect(requests.filter((r) => r.startsWith('other.example.org'))).toEqual([])

  // High quality: the image is uploaded with link-thumbnail keys, as Baileys does.
  const hq = byCase.hq.message.extendedTextMessage
  expect(hq.thumbnailDirectPath).toMatch(/^\//)
  expect(bytes(hq.thumbnailSha256)).toEqual(crypto.createHash('sha256').update(COVER).digest())
  expect(hq).toMatchObject({ thumbnailWidth: 400, thumbnailHeight: 200, title: 'Shards in the wild' })
  expect(bytes(hq.mediaKey)).toHaveLength(32)
  expect(jpegSize(bytes(hq.jpegThumbnail))).toEqual({ width: 32, height: 16 })

  // Baileys' getUrlInfo of the same page: the same preview (its thumbnail is sharp's JPEG).
  const { ours, theirs } = byCase.oracle
  const withoutThumbnail = ({ jpegThumbnail, ...rest }) => rest
  expect(withoutThumbnail(ours)).toEqual(withoutThumbnail(theirs))
  expect(jpegSize(bytes(theirs.jpegThumbnail))).toEqual(jpegSize(bytes(ours.jpegThumbnail)))
})
