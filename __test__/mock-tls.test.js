'use strict'
/**
 * The mock's HTTP front as real clients use it: a QR posted with a chunked body (no
 * Content-Length, as `http.request` + `req.write` sends it) pairs a Baileys client; and with
 * `tls: true`, two real Baileys 6.7.21 clients log in over `wss://`, one sends the other an
 * image through Baileys' own upload to `https://<media_conn host>/mms/…` (no adapter), and the
 * receiver downloads it over `https://` from the URL in the message. The children trust the
 * mock's self-signed certificate through `NODE_EXTRA_CA_CERTS` (baileys-peer.js sets it).
 *
 * Build the mock first: `cargo build -p baileys-shard-mock`.
 */
const crypto = require('node:crypto')
const http = require('node:http')
const https = require('node:https')
const { MockServer } = require('../testing')
const { BaileysChild } = require('./baileys-peer')

/** POSTs the QR to the mock phone as a chunked body; resolves with the answer's status and text. */
function scanQrChunked(mock, qr) {
  const url = new URL('/admin/mock-phone/scan-qr', mock.httpUrl)
  const client = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const req = client.request(url, { method: 'POST', ...(mock.certificate ? { ca: mock.certificate } : {}) }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode, text, chunked: req.getHeader('content-length') === undefined }))
    })
    req.on('error', reject)
    // Two writes without a length: Node sends `Transfer-Encoding: chunked`.
    const half = Math.floor(qr.length / 2)
    req.write(qr.slice(0, half))
    req.write(qr.slice(half))
    req.end()
  })
}

/** The mock as BaileysChild sees it, but its QR is scanned with a chunked POST. */
function scanningChunked(mock, answers) {
  return {
    url: mock.url,
    certPath: mock.certPath,
    async scanQr(qr) {
      const answer = await scanQrChunked(mock, qr)
      answers.push(answer)
      if (answer.status !== 200) throw new Error(`mock phone refused the QR: HTTP ${answer.status} ${answer.text}`)
    },
  }
}

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex')

describe('mock HTTP front', () => {
  const kids = []
  const mocks = []

  afterEach(async () => {
    for (const k of kids.splice(0)) await k.close()
    for (const m of mocks.splice(0)) await m.close()
  })

  test('a QR posted with a chunked body pairs a Baileys client', async () => {
    const mock = await MockServer.start({ port: 0 })
    mocks.push(mock)
    const answers = []
    const a = new BaileysChild('chunked', scanningChunked(mock, answers))
    kids.push(a)
    const open = await a.waitFor('the client to open', (e) => e.event === 'open', 30000)
    expect(open.event).toBe('open')
    expect(await a.scan).toBe('ok')
    expect(answers).toHaveLength(1)
    expect(answers[0]).toMatchObject({ status: 200, chunked: true })
    const userOf = (jid) => jid.split(/[:@]/)[0]
    expect(userOf(JSON.parse(answers[0].text).jid)).toBe(userOf(open.me.id))
  }, 60000)

  test('with tls: Baileys logs in over wss:// and sends an image downloaded over https://', async () => {
    const mock = await MockServer.start({ port: 0, tls: true })
    mocks.push(mock)
    expect(mock.url).toBe(`wss://127.0.0.1:${mock.port}/ws/chat`)
    expect(mock.httpUrl).toBe(`https://127.0.0.1:${mock.port}`)
    expect(mock.certificate).toMatch(/^-----BEGIN CERTIFICATE-----/)
    // The admin helpers speak https with the mock's certificate.
    expect((await mock.stats()).handshakes).toBeDefined()

    // A is paired by a chunked QR over https, B by the helper's scanQr.
    const answers = []
    const a = new BaileysChild('tls-A', scanningChunked(mock, answers))
    kids.push(a)
    const openA = await a.waitFor('A to open', (e) => e.event === 'open', 30000)
    expect(openA.event).toBe('open')
    expect(answers[0]).toMatchObject({ status: 200, chunked: true })
    const b = new BaileysChild('tls-B', mock)
    kids.push(b)
    const openB = await b.waitFor('B to open', (e) => e.event === 'open', 30000)
    expect(openB.event).toBe('open')
    expect(await b.scan).toBe('ok')
    await a.waitFor('A to finish its offline sync', (e) => e.event === 'pending-done', 15000)
    await b.waitFor('B to finish its offline sync', (e) => e.event === 'pending-done', 15000)

    const picture = crypto.randomBytes(120_000)
    a.command({ cmd: 'sendMedia', to: openB.me.id, content: { image: { base64: picture.toString('base64') }, caption: 'over https' } })
    const sent = await a.waitFor('A to send the image', (e) => e.event === 'sent' || e.event === 'cmd-error', 30000)
    expect(sent.event).toBe('sent')
    // Baileys' own upload went to the host media_conn named: the mock, over https.
    expect(sent.message.imageMessage.url.startsWith(`https://127.0.0.1:${mock.port}/v/`)).toBe(true)

    await b.waitFor('B to receive the image', (e) => e.event === 'upsert' && e.key.id === sent.key.id, 30000)
    b.command({ cmd: 'downloadUrl', id: sent.key.id })
    const done = await b.waitFor('B to download', (e) => (e.event === 'downloaded' && e.id === sent.key.id) || e.event === 'cmd-error', 30000)
    expect(done).toMatchObject({ event: 'downloaded', url: sent.message.imageMessage.url, length: picture.length, sha256: sha256(picture) })
    expect(a.errors()).toEqual([])
    expect(b.errors()).toEqual([])
  }, 120000)
})
