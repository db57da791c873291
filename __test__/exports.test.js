'use strict'
const { ShardManager, ShardInfo, ShardError } = require('..')
const lib = require('..')
const { execFileSync } = require('node:child_process')
const { ROOT } = require('./helpers')

describe('package exports', () => {
  test('CommonJS exports the three classes and a default holding them', () => {
    expect(typeof ShardManager).toBe('function')
    expect(new ShardManager({ session: require('./helpers').tmpDir() })).toBeInstanceOf(require('node:events').EventEmitter)
    expect(lib.default).toEqual({ ShardManager, ShardInfo, ShardError })
  })

  test('ESM import by package name gives the same classes, and require by name works', async () => {
    const script = `
      import { ShardManager, ShardError, ShardInfo } from 'baileys-shard'
      import lib from 'baileys-shard'
      import { MockServer } from 'baileys-shard/testing'
      import { createRequire } from 'node:module'
      const cjs = createRequire(import.meta.url)('baileys-shard')
      console.log(JSON.stringify({
        same: ShardManager === cjs.ShardManager && lib.ShardError === ShardError && lib.ShardInfo === ShardInfo,
        mock: typeof MockServer.start,
      }))
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: process.env })
    expect(JSON.parse(out.toString())).toEqual({ same: true, mock: 'function' })
  })

  test('ESM exports every name CommonJS exports, and nothing else', () => {
    const script = `
      import * as esm from 'baileys-shard'
      console.log(JSON.stringify(Object.keys(esm).filter((k) => k !== 'default').sort()))
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: process.env })
    expect(JSON.parse(out.toString())).toEqual(Object.keys(lib).filter((k) => k !== 'default').sort())
  })

  test('baileys-shard/testing: every name of baileys-shard and MockServer, in ESM as in CommonJS', () => {
    const testing = require('../testing')
    expect(Object.keys(testing).sort()).toEqual([...Object.keys(lib), 'MockServer'].sort())
    // jest loads the one test build for both (setup-env.js), so the classes are the same.
    expect(testing.ShardManager).toBe(ShardManager)
    const script = `
      import * as esm from 'baileys-shard/testing'
      console.log(JSON.stringify(Object.keys(esm).filter((k) => k !== 'default').sort()))
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: process.env })
    expect(JSON.parse(out.toString())).toEqual(Object.keys(testing).filter((k) => k !== 'default').sort())
  })

  test('ShardError carries name and code', () => {
    const e = new ShardError('boom', 'SHARD_NOT_FOUND')
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe('ShardError')
    expect(e.code).toBe('SHARD_NOT_FOUND')
    expect(new ShardError('x').code).toBe('UNKNOWN')
  })

  test('ShardInfo.update stamps updatedAt', () => {
    const info = new ShardInfo({ id: 'a', index: 1, total: 1, status: 'initializing', updatedAt: 0 })
    expect(info.updatedAt.getTime()).toBe(0)
    info.update({ status: 'connected' })
    expect(info.status).toBe('connected')
    expect(info.updatedAt.getTime()).toBeGreaterThan(0)
  })
})
