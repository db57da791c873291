'use strict'
// Loads the compiled addon. `BAILEYS_SHARD_NATIVE` points at another build (the test build
// that trusts the mock server); otherwise a build next to this package (`npm run build` in a
// clone), then the platform package npm installed (one optional dependency per platform).
const path = require('node:path')
const fs = require('node:fs')
const { PLATFORMS, candidatePlatforms, describeMachine } = require('./platform')

function load() {
  if (process.env.BAILEYS_SHARD_NATIVE) return require(path.resolve(process.env.BAILEYS_SHARD_NATIVE))
  const names = candidatePlatforms()
  for (const name of names) {
    const local = path.join(__dirname, '..', `baileys-shard.${name}.node`)
    if (fs.existsSync(local)) return require(local)
    let entry
    try {
      entry = require.resolve(`baileys-shard-${name}`)
    } catch {
      continue // not installed: npm skips the platform packages that do not fit
    }
    try {
      return require(entry)
    } catch (err) {
      throw unsupported(`the addon of baileys-shard-${name} is installed but does not load here: ${err.message}`, err)
    }
  }
  throw unsupported(
    names.length
      ? `no prebuilt addon is installed for ${describeMachine()} (looked for baileys-shard-${names.join(', baileys-shard-')}). ` +
          'It comes as an optional dependency: reinstall without --omit=optional (npm also skips it when package-lock.json ' +
          'was made on another platform: delete the lockfile and node_modules, then install again).'
      : `there is no prebuilt addon for ${describeMachine()}; builds exist for ${PLATFORMS.join(', ')}.`,
  )
}

/** The load failure, saying what the user can do. */
function unsupported(reason, cause) {
  const error = new Error(
    `baileys-shard: ${reason} To build the addon yourself, install a Rust toolchain and run \`npm run build\` in a clone of baileys-shard, ` +
      'then point BAILEYS_SHARD_NATIVE at the .node file it writes.',
  )
  error.code = 'UNSUPPORTED_PLATFORM'
  if (cause) error.cause = cause
  return error
}

module.exports = load()
