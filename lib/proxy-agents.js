'use strict'
// Proxies per shard: the `proxy` socket option (a URL), or Baileys' `agent` (chat socket) and
// `fetchAgent` (media) given as the proxy agents bots use with Baileys (https-proxy-agent,
// http-proxy-agent, socks-proxy-agent). The connections themselves are native: this only
// reads which proxy an agent stands for.
const { ShardError } = require('./errors')

/** `host` as a URL host: IPv6 literals in brackets. */
const urlHost = (host) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host)

/**
 * The proxy URL behind `agent` (a URL, a string, or a proxy agent), or undefined for an agent
 * that is no proxy (a plain `http.Agent` only pools connections; the engine pools its own).
 * @param {unknown} agent
 * @param {string} option the socket option it came from, for errors
 */
function proxyUrlOf(agent, option) {
  if (agent == null) return undefined
  if (typeof agent === 'string') return agent
  if (agent instanceof URL) return agent.href
  if (typeof agent !== 'object') throw new ShardError(`socket option ${option} must be a proxy URL or a proxy agent`, 'INVALID_ARGUMENT')
  const proxy = agent.proxy
  if (proxy == null) return undefined
  if (typeof proxy === 'string') return proxy
  // https-proxy-agent 7, http-proxy-agent 7.
  if (proxy instanceof URL) return proxy.href
  // socks-proxy-agent: { host, port, type: 4 | 5, userId?, password? }.
  if (proxy.type === 4) throw new ShardError(`socket option ${option}: SOCKS4 proxies are not supported; use SOCKS5 or HTTP`, 'NOT_SUPPORTED')
  const auth = (user, pass) => (user ? `${encodeURIComponent(user)}:${encodeURIComponent(pass ?? '')}@` : '')
  if (proxy.type === 5) {
    // shouldLookup false: the proxy resolves names (socks5h).
    const scheme = agent.shouldLookup === false ? 'socks5h' : 'socks5'
    return `${scheme}://${auth(proxy.userId, proxy.password)}${urlHost(String(proxy.host))}:${proxy.port}`
  }
  // https-proxy-agent 5 (Node's url.parse): { protocol, hostname, port, auth: 'user:pass' }.
  if (typeof proxy.protocol === 'string' && (proxy.hostname || proxy.host)) {
    const [user, pass] = typeof proxy.auth === 'string' ? proxy.auth.split(/:(.*)/s) : []
    const port = proxy.port ? `:${proxy.port}` : ''
    return `${proxy.protocol}//${auth(user && decodeURIComponent(user), pass && decodeURIComponent(pass))}${urlHost(String(proxy.hostname ?? proxy.host))}${port}`
  }
  throw new ShardError(`socket option ${option}: cannot tell which proxy this agent uses; pass the proxy URL as the proxy option`, 'INVALID_ARGUMENT')
}

/**
 * The native proxy options for socket options `config`: `proxy` for the chat socket and
 * `mediaProxy` for media, from `proxy` (both), `agent` and `fetchAgent`.
 */
function proxyOptions(config) {
  const shared = proxyUrlOf(config.proxy, 'proxy')
  return {
    proxy: shared ?? proxyUrlOf(config.agent, 'agent') ?? null,
    mediaProxy: shared ?? proxyUrlOf(config.fetchAgent, 'fetchAgent') ?? null,
  }
}

module.exports = { proxyUrlOf, proxyOptions }
