'use strict'
// The npm layout: one platform package per napi target (npm/<platform>/), each listed in the
// main package's optionalDependencies at the same version, and a loader that picks the one
// that fits the machine — or says clearly that none does.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { ROOT } = require('./helpers')
const { PLATFORMS, candidatePlatforms } = require('../lib/platform')

const main = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))

/** napi's platform name of a Rust target triple (`x86_64-unknown-linux-gnu` → `linux-x64-gnu`). */
function platformOf(triple) {
  const [arch, , system, abi] = triple.split('-')
  const cpu = { x86_64: 'x64', aarch64: 'arm64' }[arch]
  if (system === 'darwin') return `darwin-${cpu}`
  if (system === 'windows') return `win32-${cpu}-${abi}`
  return `linux-${cpu}-${abi}`
}

describe('platform packages', () => {
  const platforms = main.napi.targets.map(platformOf)

  test('one npm/<platform> folder per napi target, and the loader knows the same list', () => {
    const dirs = fs.readdirSync(path.join(ROOT, 'npm')).sort()
    expect(dirs).toEqual([...platforms].sort())
    expect([...PLATFORMS].sort()).toEqual([...platforms].sort())
  })

  test.each(main.napi.targets.map((t) => [platformOf(t)]))('%s: its package.json fits its platform', (platform) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', platform, 'package.json'), 'utf8'))
    const [system, cpu, abi] = platform.split('-')
    expect(pkg.name).toBe(`baileys-shard-${platform}`)
    expect(pkg.version).toBe(main.version)
    expect(pkg.main).toBe(`baileys-shard.${platform}.node`)
    expect(pkg.files).toEqual([pkg.main, `baileys-shard.${platform}.testing.node`, system === 'win32' ? 'baileys-shard-mock.exe' : 'baileys-shard-mock'])
    expect(pkg.os).toEqual([system])
    expect(pkg.cpu).toEqual([cpu])
    if (system === 'linux') expect(pkg.libc).toEqual([abi === 'musl' ? 'musl' : 'glibc'])
    else expect(pkg.libc).toBeUndefined()
    expect(pkg.license).toBe(main.license)
  })

  test('the main package lists every platform package as an optional dependency at its own version', () => {
    expect(main.optionalDependencies).toEqual(Object.fromEntries(platforms.map((p) => [`baileys-shard-${p}`, main.version])))
  })
})

describe('the loader', () => {
  test('picks the build that fits: libc on Linux, the universal build first on macOS', () => {
    expect(candidatePlatforms('linux', 'x64', () => false)).toEqual(['linux-x64-gnu'])
    expect(candidatePlatforms('linux', 'x64', () => true)).toEqual(['linux-x64-musl'])
    expect(candidatePlatforms('linux', 'arm64', () => true)).toEqual(['linux-arm64-musl'])
    expect(candidatePlatforms('darwin', 'arm64')).toEqual(['darwin-universal', 'darwin-arm64'])
    expect(candidatePlatforms('darwin', 'x64')).toEqual(['darwin-universal', 'darwin-x64'])
    expect(candidatePlatforms('win32', 'x64')).toEqual(['win32-x64-msvc'])
    expect(candidatePlatforms('win32', 'ia32')).toEqual([])
    expect(candidatePlatforms('freebsd', 'x64')).toEqual([])
  })

  test('this machine is a glibc Linux x64 (the platform CI builds)', () => {
    expect(candidatePlatforms()).toEqual(['linux-x64-gnu'])
  })

  test('without an installed build it fails with UNSUPPORTED_PLATFORM, naming the machine and what to do', () => {
    // The loader alone, where neither a local build nor a platform package is.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loader-'))
    fs.mkdirSync(path.join(dir, 'lib'))
    for (const file of ['native.js', 'platform.js', 'flavour.js']) fs.copyFileSync(path.join(ROOT, 'lib', file), path.join(dir, 'lib', file))
    const env = { ...process.env }
    delete env.BAILEYS_SHARD_NATIVE
    const out = execFileSync(
      process.execPath,
      ['-e', "try { require('./lib/native') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }"],
      { cwd: dir, env, encoding: 'utf8' },
    )
    const { code, message } = JSON.parse(out)
    expect(code).toBe('UNSUPPORTED_PLATFORM')
    expect(message).toContain('linux x64 (glibc)')
    expect(message).toContain('baileys-shard-linux-x64-gnu')
    expect(message).toContain('--omit=optional')
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
