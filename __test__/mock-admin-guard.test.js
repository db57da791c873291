'use strict'
// The mock's admin API answers only requests that name this machine: a web page cannot drive it
// through DNS rebinding (its own name as Host) or a cross-site request (its own Origin).
const http = require('node:http')
const { MockServer } = require('../testing')

let mock
beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
})
afterAll(async () => {
  await mock?.close()
})

/** GET /admin/health with the given headers; resolves to `{ status, body }`. */
function health(headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: mock.port, path: '/admin/health', headers }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

test('Host and Origin on this machine: answered', async () => {
  for (const headers of [{}, { Host: `localhost:${mock.port}` }, { Host: `[::1]:${mock.port}` }, { Origin: 'http://localhost:3000' }]) {
    expect(await health(headers)).toEqual({ status: 200, body: expect.stringContaining('ok') })
  }
})

test('a rebound host name, an outside address or a foreign Origin: 403, saying why', async () => {
  for (const [headers, why] of [
    [{ Host: `evil.example:${mock.port}` }, /Host "evil.example:\d+" is not a loopback/],
    [{ Host: '192.0.2.7' }, /Host "192.0.2.7"/],
    [{ Origin: 'http://evil.example' }, /Origin "http:\/\/evil.example" is not on this machine/],
    [{ Origin: 'null' }, /Origin "null"/],
  ]) {
    const { status, body } = await health(headers)
    expect({ headers, status }).toEqual({ headers, status: 403 })
    expect(body).toMatch(why)
  }
  // The QR endpoint, which pairs a device, is guarded the same way.
  const res = await fetch(`${mock.httpUrl}/admin/mock-phone/scan-qr`, { method: 'POST', body: 'x', headers: { Origin: 'https://evil.example' } })
  expect(res.status).toBe(403)
})
