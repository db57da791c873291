'use strict'
// The npm bin `baileys-shard-mock` passes SIGTERM, SIGINT and SIGHUP on to the server: after
// the signal, the port is free again (no server left behind by the shim).
const { spawn } = require('node:child_process')
const net = require('node:net')
const path = require('node:path')
const { ROOT } = require('./helpers')

const SHIM = path.join(ROOT, 'bin', 'baileys-shard-mock.js')

/** Starts the shim on a free port; resolves to `{ shim, port }` once the server listens. */
function startShim() {
  return new Promise((resolve, reject) => {
    const shim = spawn(process.execPath, [SHIM, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    shim.stdout.on('data', (chunk) => {
      out += chunk
      const match = /ws:\/\/127\.0\.0\.1:(\d+)\//.exec(out)
      if (match) resolve({ shim, port: Number(match[1]) })
    })
    shim.on('error', reject)
    shim.on('exit', (code) => reject(new Error(`the shim exited (${code}) before the server listened: ${out}`)))
  })
}

/** true when something accepts TCP connections on the port. */
function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

describe.each(['SIGTERM', 'SIGINT', 'SIGHUP'])('baileys-shard-mock bin and %s', (signal) => {
  test('the server stops with the shim and the port is closed', async () => {
    const { shim, port } = await startShim()
    expect(await listening(port)).toBe(true)
    const exited = new Promise((resolve) => shim.on('exit', (code, sig) => resolve({ code, sig })))
    shim.kill(signal)
    const { code, sig } = await exited
    // The shim ends as the server did: a clean exit (the server shuts down on SIGTERM and
    // SIGINT) or the same signal.
    expect([{ code: 0, sig: null }, { code: null, sig: signal }]).toContainEqual({ code, sig })
    expect(await listening(port)).toBe(false)
  }, 20_000)
})
