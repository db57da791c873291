'use strict'
// The linux-x64-gnu release build (`npm run build`) links against glibc 2.17, so it loads on
// every glibc Linux server still in use: no symbol it imports may need a newer glibc.
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { ROOT } = require('./helpers')

const BASELINE = [2, 17]

/** The highest `GLIBC_x.y[.z]` symbol version a binary imports, as [x, y, z]. */
function highestGlibc(file) {
  const dump = execFileSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 << 20 })
  const versions = [...dump.matchAll(/GLIBC_(\d+)\.(\d+)(?:\.(\d+))?/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)])
  expect(versions.length).toBeGreaterThan(0) // a dynamically linked glibc binary
  return versions.reduce((a, b) => (b[0] - a[0] || b[1] - a[1] || b[2] - a[2]) > 0 ? b : a)
}

const atMostBaseline = ([major, minor]) => major < BASELINE[0] || (major === BASELINE[0] && minor <= BASELINE[1])

test.each([
  ['the release addon', path.join(ROOT, 'baileys-shard.linux-x64-gnu.node')],
  ['the testing addon (baileys-shard/testing)', path.join(ROOT, 'baileys-shard.linux-x64-gnu.testing.node')],
  ['the release mock server', path.join(ROOT, 'npm', 'linux-x64-gnu', 'baileys-shard-mock')],
])('%s needs no glibc newer than 2.17', (_, file) => {
  expect(fs.existsSync(file)).toBe(true)
  const highest = highestGlibc(file)
  expect({ file: path.relative(ROOT, file), highest: highest.join('.'), ok: atMostBaseline(highest) }).toEqual({ file: path.relative(ROOT, file), highest: highest.join('.'), ok: true })
})

test('the check itself: this machine\'s own build of a C program needs a newer glibc than 2.17', () => {
  // Proves the check reads real symbol versions: the test addon is linked against this
  // machine's glibc (2.36 here), which exports newer versions of common symbols.
  const testAddon = path.join(ROOT, 'target', 'test-addon', 'baileys-shard.linux-x64-gnu.node')
  expect(atMostBaseline(highestGlibc(testAddon))).toBe(false)
})
