'use strict'
// Proxies per shard: the `proxy` socket option, and Baileys' `agent` / `fetchAgent` given as
// the proxy agents bots use with Baileys. Two local proxies (HTTP CONNECT and SOCKS5, both
// with credentials) list every tunnel they open: a proxied shard's chat connections and media
// uploads go through its proxy, and a shard without one uses neither.
const crypto = require('node:crypto')
const { SocksProxyAgent } = require('socks-proxy-agent')
const { HttpsProxyAgent } = require('https-proxy-agent')
const { ShardManager } = require('..')
const { MockServer } = require('../testing')
const { waitFor, autoScan, tmpDir, expectShardError, userJid } = require('./helpers')
const { startConnectProxy, startSocks5Proxy } = require('./proxy-servers')

let mock
let manager
let httpProxy
let socksProxy
let mockHost

beforeAll(async () => {
  mock = await MockServer.start({ port: 0 })
  mockHost = new URL(mock.url).host
  httpProxy = await startConnectProxy({ user: 'bot', pass: 's3cret:x' })
  socksProxy = await startSocks5Proxy({ user: 'bot@fleet', pass: 'p@ss' })
  manager = new ShardManager({ session: tmpDir(), socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1] } })
  autoScan(manager, mock)
  const shards = {
    // Our option: one URL for everything.
    viaHttp: { proxy: httpProxy.url },
    // Baileys' options, as bots set them.
    viaSocks: { agent: new SocksProxyAgent(socksProxy.url), fetchAgent: new SocksProxyAgent(socksProxy.url) },
    direct: {},
  }
  const connected = Promise.all(Object.keys(shards).map((id) => waitFor(manager, 'login.update', (u) => u.shardId === id && u.state === 'connected', 60000)))
  for (const [id, socket] of Object.entries(shards)) await manager.createShard({ id, socket })
  await connected
})
afterAll(async () => {
  await manager?.close()
  await mock?.close()
  await httpProxy?.close()
  await socksProxy?.close()
})

const counts = () => ({ http: httpProxy.tunnels.length, socks: socksProxy.tunnels.length })

test('each proxied shard connected through its own proxy, to the chat server', () => {
  expect(httpProxy.tunnels.length).toBeGreaterThanOrEqual(1)
  expect(socksProxy.tunnels.length).toBeGreaterThanOrEqual(1)
  expect(new Set(httpProxy.tunnels)).toEqual(new Set([mockHost]))
  expect(new Set(socksProxy.tunnels)).toEqual(new Set([mockHost]))
})

test('media uploads go through the shard\'s proxy; a shard without one uses none', async () => {
  const to = userJid(manager.socket('direct').user.id)
  for (const [id, proxy] of [['viaHttp', 'http'], ['viaSocks', 'socks']]) {
    const before = counts()
    const image = crypto.randomBytes(20000)
    const got = waitFor(manager, 'messages.upsert', (e) => e.shardId === 'direct' && e.data.messages.some((m) => m.message?.imageMessage), 20000)
    await manager.socket(id).sendMessage(to, { image })
    await got
    const after = counts()
    expect({ id, more: after[proxy] > before[proxy] }).toEqual({ id, more: true })
  }
  const before = counts()
  const back = userJid(manager.socket('viaHttp').user.id)
  await manager.socket('direct').sendMessage(back, { image: crypto.randomBytes(20000) })
  await manager.socket('direct').sendMessage(back, { text: 'direct' })
  expect(counts()).toEqual(before)
})

test('a reconnect dials through the proxy again', async () => {
  const before = counts()
  const reconnected = waitFor(manager, 'login.update', (u) => u.shardId === 'viaSocks' && u.state === 'connected', 30000)
  manager.socket('viaSocks').ws.close()
  await reconnected
  expect(counts().socks).toBeGreaterThan(before.socks)
  expect(counts().http).toBe(before.http)
})

test('bad proxies are refused before anything is written', async () => {
  await expectShardError(manager.createShard({ id: 'badScheme', socket: { proxy: 'ftp://user:hunter2@127.0.0.1:21' } }), 'INVALID_ARGUMENT', /socks5:\/\//)
  await expectShardError(manager.createShard({ id: 'socks4', socket: { agent: new SocksProxyAgent('socks4://127.0.0.1:1080') } }), 'NOT_SUPPORTED', /SOCKS4/)
  await expectShardError(manager.createShard({ id: 'number', socket: { proxy: 8080 } }), 'INVALID_ARGUMENT', /proxy/)
  // https-proxy-agent stands for an http:// proxy it tunnels through.
  const agent = new HttpsProxyAgent(httpProxy.url)
  const { proxyUrlOf } = require('../lib/proxy-agents')
  expect(proxyUrlOf(agent, 'agent')).toBe(`${httpProxy.url}/`)
  expect(manager.getAllShardInfo().map((s) => s.id).sort()).toEqual(['direct', 'viaHttp', 'viaSocks'])
})
