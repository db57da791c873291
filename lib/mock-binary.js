'use strict'
// Finds the `baileys-shard-mock` executable: an explicit override, the per-platform npm
// package, or a cargo build inside this repository (development and CI).
const fs = require('node:fs')
const path = require('node:path')
const { candidatePlatforms } = require('./platform')

const EXE = process.platform === 'win32' ? 'baileys-shard-mock.exe' : 'baileys-shard-mock'

function candidates() {
  const list = []
  if (process.env.BAILEYS_SHARD_MOCK_BIN) list.push(process.env.BAILEYS_SHARD_MOCK_BIN)
  const root = path.join(__dirname, '..')
  for (const name of candidatePlatforms()) {
    try {
      list.push(path.join(path.dirname(require.resolve(`baileys-shard-${name}/package.json`)), EXE))
    } catch {
      // Not installed from npm: fall through to a local cargo build.
    }
    list.push(path.join(root, 'npm', name, EXE))
  }
  list.push(path.join(root, 'target', 'debug', EXE))
  list.push(path.join(root, 'target', 'release', EXE))
  return list
}

function findMockBinary() {
  const list = candidates()
  const found = list.find((p) => fs.existsSync(p))
  if (!found) {
    throw new Error(
      `baileys-shard-mock executable not found (looked in: ${list.join(', ')}). ` +
        'Build it with `cargo build -p baileys-shard-mock` or set BAILEYS_SHARD_MOCK_BIN.',
    )
  }
  return found
}

module.exports = { findMockBinary }
