'use strict'
// Two small local proxies for the proxy tests: an HTTP CONNECT proxy and a SOCKS5 proxy, each
// with optional username/password, each listing the `host:port` of every tunnel it opened.
const net = require('node:net')
const http = require('node:http')

/** Pipes two sockets both ways, `first` already read from `client`. */
function splice(client, upstream, first) {
  if (first?.length) upstream.write(first)
  upstream.pipe(client)
  client.pipe(upstream)
  upstream.on('error', () => client.destroy())
  client.on('error', () => upstream.destroy())
}

/** Keeps every socket of `server` so that close() can end tunnels still open. */
function tracked(server) {
  const sockets = new Set()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  return {
    add: (s) => sockets.add(s),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const credentials = (user, pass) => (user ? `${encodeURIComponent(user)}:${encodeURIComponent(pass)}@` : '')

/** An HTTP proxy that opens CONNECT tunnels (and refuses anything else). */
async function startConnectProxy({ user, pass } = {}) {
  const tunnels = []
  const server = http.createServer((req, res) => res.writeHead(405).end())
  const sockets = tracked(server)
  server.on('connect', (req, client, head) => {
    sockets.add(client)
    client.on('error', () => {})
    const expected = user && `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`
    if (expected && req.headers['proxy-authorization'] !== expected) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n')
      return
    }
    const at = req.url.lastIndexOf(':')
    const host = req.url.slice(0, at).replace(/^\[|\]$/g, '')
    tunnels.push(req.url)
    const upstream = net.connect(Number(req.url.slice(at + 1)), host, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n')
      splice(client, upstream, head)
    })
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'))
  })
  await listen(server)
  return { url: `http://${credentials(user, pass)}127.0.0.1:${server.address().port}`, tunnels, close: sockets.close }
}

/** Reads exact byte counts from a socket until the handshake is over. */
function byteReader(socket) {
  let buffered = Buffer.alloc(0)
  let waiting = null
  const onData = (chunk) => {
    buffered = Buffer.concat([buffered, chunk])
    waiting?.()
  }
  socket.on('data', onData)
  return {
    async read(n) {
      while (buffered.length < n) {
        await new Promise((resolve, reject) => {
          waiting = resolve
          socket.once('close', () => reject(new Error('closed')))
        })
      }
      const out = buffered.subarray(0, n)
      buffered = buffered.subarray(n)
      return out
    },
    /** Stops reading; returns what arrived after the handshake. */
    release() {
      socket.off('data', onData)
      return buffered
    },
  }
}

/** A SOCKS5 proxy (RFC 1928, username/password per RFC 1929), CONNECT only. */
async function startSocks5Proxy({ user, pass } = {}) {
  const tunnels = []
  const server = net.createServer(async (client) => {
    client.on('error', () => {})
    const reader = byteReader(client)
    try {
      const [version, count] = await reader.read(2)
      const methods = [...(await reader.read(count))]
      const method = user ? 2 : 0
      if (version !== 5 || !methods.includes(method)) return client.end(Buffer.from([5, 0xff]))
      client.write(Buffer.from([5, method]))
      if (user) {
        const [, userLength] = await reader.read(2)
        const gotUser = (await reader.read(userLength)).toString()
        const [passLength] = await reader.read(1)
        const gotPass = (await reader.read(passLength)).toString()
        const ok = gotUser === user && gotPass === pass
        client.write(Buffer.from([1, ok ? 0 : 1]))
        if (!ok) return client.end()
      }
      const [, command, , addressType] = await reader.read(4)
      let host
      if (addressType === 1) host = [...(await reader.read(4))].join('.')
      else if (addressType === 3) host = (await reader.read((await reader.read(1))[0])).toString()
      else host = (await reader.read(16)).toString('hex').match(/.{4}/g).join(':')
      const port = (await reader.read(2)).readUInt16BE(0)
      if (command !== 1) return client.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]))
      tunnels.push(`${host}:${port}`)
      const upstream = net.connect(port, host, () => {
        client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]))
        splice(client, upstream, reader.release())
      })
      upstream.on('error', () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])))
    } catch {
      client.destroy()
    }
  })
  const sockets = tracked(server)
  await listen(server)
  return { url: `socks5://${credentials(user, pass)}127.0.0.1:${server.address().port}`, tunnels, close: sockets.close }
}

module.exports = { startConnectProxy, startSocks5Proxy }
