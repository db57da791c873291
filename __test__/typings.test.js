'use strict'
// index.d.ts / testing.d.ts accept real usage and reject misuse (see typings/usage.ts).
const { execFileSync } = require('node:child_process')
const path = require('node:path')

test('the public typings type-check a real bot and reject misuse', () => {
  const tsc = path.join(__dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc')
  let output = ''
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, 'typings')], { stdio: 'pipe' })
  } catch (err) {
    output = `${err.stdout}${err.stderr}`
  }
  expect(output).toBe('')
})
