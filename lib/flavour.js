'use strict'
// Which build of the addon this process loads. lib/native.js reads `wanted` once, when it is
// first required, and records what it loaded in `loaded`; the process keeps that addon.
//  - 'release': the addon users run, which verifies WhatsApp's certificate chain.
//  - 'testing': asked for by requiring baileys-shard/testing first. It trusts the mock server's
//    certificate (the engine's `danger-skip-cert-chain-verify`) and therefore dials loopback
//    addresses only.
//  - 'custom': BAILEYS_SHARD_NATIVE named a file; it wins over both.
module.exports = { wanted: 'release', loaded: null }
