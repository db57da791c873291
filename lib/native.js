'use strict'
// Loads the compiled addon, once per process. `BAILEYS_SHARD_NATIVE` points at another build
// (jest uses the debug test build); otherwise a build next to this package (`npm run build` in a
// clone), then the platform package npm installed (one optional dependency per platform).
// Each place holds two builds: `baileys-shard.<platform>.node`, the one users run, and
// `baileys-shard.<platform>.testing.node`, which trusts the mock server and is loaded only when
// baileys-shard/testing was required first (lib/flavour.js).
const path = require('node:path')
const fs = require('node:fs')
const { PLATFORMS, candidatePlatforms, describeMachine } = require('./platform')
const flavour = require('./flavour')

function load() {
  if (process.env.BAILEYS_SHARD_NATIVE) {
    flavour.loaded = 'custom'
    const addon = require(path.resolve(process.env.BAILEYS_SHARD_NATIVE))
    // Through baileys-shard/testing the user asked for a build that trusts the mock server.
    return flavour.wanted === 'testing' ? addon : warnIfInsecure(addon)
  }
  flavour.loaded = flavour.wanted
  const file = (name) => (flavour.wanted === 'testing' ? `baileys-shard.${name}.testing.node` : `baileys-shard.${name}.node`)
  const names = candidatePlatforms()
  for (const name of names) {
    const local = path.join(__dirname, '..', file(name))
    if (fs.existsSync(local)) return require(local)
    let dir
    try {
      dir = path.dirname(require.resolve(`baileys-shard-${name}/package.json`))
    } catch {
      continue // not installed: npm skips the platform packages that do not fit
    }
    try {
      return require(path.join(dir, file(name)))
    } catch (err) {
      throw unsupported(`the ${file(name)} of baileys-shard-${name} is installed but does not load here: ${err.message}`, err)
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

/**
 * An addon named by BAILEYS_SHARD_NATIVE may be a build that skips WhatsApp's certificate
 * checks. Such a build connects to this machine only, but a bot started with it in production
 * would never reach WhatsApp and nothing else would say why: say it loudly.
 */
function warnIfInsecure(addon) {
  if (addon.skipsCertificateChecks()) {
    process.emitWarning(
      `BAILEYS_SHARD_NATIVE loads ${process.env.BAILEYS_SHARD_NATIVE}, a testing build of baileys-shard: it skips WhatsApp's ` +
        'certificate checks and connects only to servers on this machine (the mock server). Unset BAILEYS_SHARD_NATIVE in production.',
      { code: 'BAILEYS_SHARD_INSECURE_ADDON' },
    )
  }
  return addon
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
