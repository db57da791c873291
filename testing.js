'use strict'
/**
 * Test helpers: the built-in mock WhatsApp server.
 *
 * The mock runs in a child process of its own (so a benchmark measures only the bot's process)
 * and speaks the real protocol: Noise XX, binary nodes, QR pairing through a mock phone.
 *
 * @example
 * const { MockServer } = require('baileys-shard/testing')
 * const mock = await MockServer.start({ port: 0 })
 * const manager = new ShardManager({ socketConfig: { waWebSocketUrl: mock.url } })
 * manager.on('login.update', ({ state, type, code }) => { if (type === 'qr') mock.scanQr(code) })
 * // ...
 * await mock.close()
 */
const { spawn } = require('node:child_process')
const readline = require('node:readline')
const { findMockBinary } = require('./lib/mock-binary')

class MockServer {
  /** @private */
  constructor(child, url) {
    this._child = child
    /** WebSocket URL clients connect to, e.g. `ws://127.0.0.1:41234/ws/chat`. */
    this.url = url
    const u = new URL(url)
    /** TCP port the mock listens on. */
    this.port = Number(u.port)
    /** Base URL of the admin HTTP API (same port). */
    this.httpUrl = `http://${u.host}`
    this._exited = new Promise((resolve) => child.once('exit', resolve))
  }

  /**
   * Starts a mock server process. Its log (stderr) shows warnings and errors; set `MOCK_LOG`
   * (`info`, `debug`, `trace`) in the environment or in `options.env` to see more.
   * @param {{ port?: number, env?: Record<string, string>, startTimeoutMs?: number }} [options]
   * @returns {Promise<MockServer>}
   */
  static start(options = {}) {
    const { port = 0, env = {}, startTimeoutMs = 15000 } = options
    const bin = findMockBinary()
    const child = spawn(bin, ['--port', String(port)], {
      env: { ...process.env, MOCK_LOG: process.env.MOCK_LOG ?? 'warn', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`mock server did not print its URL within ${startTimeoutMs} ms`))
      }, startTimeoutMs)
      const lines = readline.createInterface({ input: child.stdout })
      lines.once('line', (line) => {
        clearTimeout(timer)
        // Keep draining stdout so the child never blocks on a full pipe.
        child.stdout.resume()
        resolve(new MockServer(child, line.trim()))
      })
      child.once('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`mock server exited before start (code ${code}, signal ${signal})`))
      })
    })
  }

  /**
   * Makes the mock phone scan a QR string (as shown in `login.update`), pairing that client.
   * @param {string} qr
   * @returns {Promise<void>} rejects when the mock refuses the QR (unknown or expired ref).
   */
  async scanQr(qr) {
    const res = await fetch(`${this.httpUrl}/admin/mock-phone/scan-qr`, { method: 'POST', body: qr })
    if (!res.ok) throw new Error(`mock phone refused the QR: HTTP ${res.status} ${await res.text()}`)
  }

  /** Stops the mock server process. */
  async close() {
    if (this._child.exitCode === null && this._child.signalCode === null) this._child.kill('SIGTERM')
    await this._exited
  }
}

module.exports = { MockServer }
