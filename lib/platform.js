'use strict'
// Which prebuilt build fits this machine: the names napi-rs gives its platform packages
// (`baileys-shard-<platform>`, file `baileys-shard.<platform>.node`), best first.
const fs = require('node:fs')

/** Every platform a package is published for (npm/<platform>/ holds each one's package.json). */
const PLATFORMS = ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc']

/** true on a Linux whose C library is musl (Alpine), where glibc builds cannot load. */
function isMusl() {
  // Node's own report names the glibc it runs on; a musl Node has none.
  const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null
  if (report?.header) return !report.header.glibcVersionRuntime
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {
    return false
  }
}

/**
 * The platform names to try on this machine, best first (a macOS universal build before the
 * per-architecture one). Empty when no build exists for it.
 * @param {NodeJS.Platform} [platform]
 * @param {string} [arch]
 * @param {() => boolean} [musl]
 */
function candidatePlatforms(platform = process.platform, arch = process.arch, musl = isMusl) {
  const names = []
  if (platform === 'darwin') names.push('darwin-universal', `darwin-${arch}`)
  else if (platform === 'win32') names.push(`win32-${arch}-msvc`)
  else if (platform === 'linux') names.push(`linux-${arch}-${musl() ? 'musl' : 'gnu'}`)
  return names.filter((name) => name === 'darwin-universal' || PLATFORMS.includes(name))
}

/** `linux x64 (glibc)`, for messages. */
function describeMachine() {
  const libc = process.platform === 'linux' ? (isMusl() ? ' (musl)' : ' (glibc)') : ''
  return `${process.platform} ${process.arch}${libc}`
}

module.exports = { PLATFORMS, isMusl, candidatePlatforms, describeMachine }
