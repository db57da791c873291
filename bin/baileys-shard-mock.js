#!/usr/bin/env node
'use strict'
// npm bin shim: runs the native mock server with the given arguments.
const { spawnSync } = require('node:child_process')
const { findMockBinary } = require('../lib/mock-binary')

const result = spawnSync(findMockBinary(), process.argv.slice(2), { stdio: 'inherit' })
process.exit(result.status === null ? 1 : result.status)
