#!/usr/bin/env node
'use strict'
// npm bin shim: runs the native mock server with the given arguments. Signals sent to the shim
// (a supervisor's SIGTERM, a test runner's SIGINT, a closed terminal's SIGHUP) go on to the
// server, so it never outlives the shim holding its port; the shim then ends as the server did.
const { spawn } = require('node:child_process')
const { findMockBinary } = require('../lib/mock-binary')

const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP']

const server = spawn(findMockBinary(), process.argv.slice(2), { stdio: 'inherit' })
const forward = (signal) => server.kill(signal)
for (const signal of FORWARDED) process.on(signal, forward)

server.on('error', (err) => {
  console.error(`baileys-shard-mock: ${err.message}`)
  process.exit(1)
})
server.on('exit', (code, signal) => {
  for (const s of FORWARDED) process.off(s, forward)
  // Ended by a signal: end the same way, so the caller sees what the server saw.
  if (signal) process.kill(process.pid, signal)
  else process.exit(code ?? 1)
})
