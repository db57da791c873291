'use strict'
// Loads the compiled addon. `BAILEYS_SHARD_NATIVE` points at another build (the test build
// that trusts the mock server); otherwise the release build next to this package, then the
// per-platform npm package.
const path = require('node:path')
const fs = require('node:fs')

function load() {
  if (process.env.BAILEYS_SHARD_NATIVE) return require(path.resolve(process.env.BAILEYS_SHARD_NATIVE))
  const triple = `${process.platform}-${process.arch}-gnu`
  const local = path.join(__dirname, '..', `baileys-shard.${triple}.node`)
  if (fs.existsSync(local)) return require(local)
  try {
    return require(`baileys-shard-${triple}`)
  } catch (err) {
    throw new Error(
      `baileys-shard: no native addon for ${triple}. Build it with \`npm run build\` ` +
        `(needs a Rust toolchain) or install the platform package baileys-shard-${triple}. (${err.message})`,
    )
  }
}

module.exports = load()
