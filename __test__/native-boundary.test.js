'use strict'
// The boundary between the JS layer and the addon, checked against the typings napi-rs
// generates from the Rust code (`npm run build` writes them to target/native.d.ts): every
// native method or function the JS layer calls exists with at least as many parameters as it
// passes, and every one the addon exports is called somewhere (no dead exports). A Rust
// rename, a removed method or a changed parameter list fails here, not in a user's bot.
const fs = require('node:fs')
const path = require('node:path')
const { ROOT } = require('./helpers')

const NATIVE_DTS = path.join(ROOT, 'target', 'native.d.ts')

/** `{ classes: { Name: { method: paramCount } }, functions: { name: paramCount } }` from the d.ts. */
function nativeSurface(dts) {
  // Null prototypes: a class's `constructor` entry must be its own, not Object's.
  const classes = Object.create(null)
  const functions = Object.create(null)
  let current = null
  for (const line of dts.split('\n')) {
    const cls = /^export declare class (\w+)/.exec(line)
    if (cls) {
      current = classes[cls[1]] = Object.create(null)
      continue
    }
    if (current && line.startsWith('}')) {
      current = null
      continue
    }
    const fn = /^export declare function (\w+)\((.*)\)/.exec(line)
    if (fn) functions[fn[1]] = paramCount(fn[2])
    const method = /^ {2}(?:static )?(\w+)\((.*)\)/.exec(line)
    if (current && method) current[method[1]] = paramCount(method[2])
  }
  return { classes, functions }
}

/** The number of top-level parameters in a TS parameter list. */
function paramCount(list) {
  if (!list.trim()) return 0
  let depth = 0
  let count = 1
  for (const ch of list) {
    if ('<({['.includes(ch)) depth++
    else if ('>)}]'.includes(ch)) depth--
    else if (ch === ',' && depth === 0) count++
  }
  return count
}

/** The number of top-level arguments in the source right after an opening parenthesis (a trailing comma adds none). */
function argCount(source, from) {
  let depth = 0
  let commas = 0
  let sinceComma = false // something other than blanks since the last top-level comma (or the start)
  let quote = null
  for (let i = from; i < source.length; i++) {
    const ch = source[i]
    if (quote) {
      if (ch === '\\') i++
      else if (ch === quote) quote = null
      continue
    }
    if (depth === 0 && ch === ')') return commas + (sinceComma ? 1 : 0)
    if (depth === 0 && ch === ',') {
      commas++
      sinceComma = false
      continue
    }
    if (!/\s/.test(ch)) sinceComma = true
    if (ch === "'" || ch === '"' || ch === '`') quote = ch
    else if ('({['.includes(ch)) depth++
    else if (')}]'.includes(ch)) depth--
  }
  return -1
}

function jsFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsFiles(path.join(dir, e.name)) : e.name.endsWith('.js') ? [path.join(dir, e.name)] : []))
}

/**
 * Every call into the addon in the JS layer: `{ kind, name, args, where }`, `kind` being
 * `manager` (a `NativeShardManager` method), `shard` (a `NativeShard` method: `sock._shard`),
 * `function` or `class`.
 */
function nativeCalls() {
  const calls = []
  for (const file of [...jsFiles(path.join(ROOT, 'lib')), path.join(ROOT, 'index.js'), path.join(ROOT, 'testing.js')]) {
    const source = fs.readFileSync(file, 'utf8')
    const where = path.relative(ROOT, file)
    const patterns = [
      [/\b_native\.(\w+)\(/g, 'manager'],
      // `shard`: `this._shard` held by a closure (socket.js `authState`).
      [/\b_?shard\.(\w+)\(/g, 'shard'],
      // The group calls name their native method as a string (socket.js `_group`).
      [/\b_group\('(\w+)'(,|\))/g, 'shard'],
      [/\bnew native\.(\w+)\(/g, 'class'],
      [/(?<![\w.]|new )native\.(\w+)\(/g, 'function'],
      [/require\('\.\.?\/native'\)\.(\w+)\(/g, 'function'],
    ]
    for (const [re, kind] of patterns) {
      for (const m of source.matchAll(re)) {
        const openParen = m.index + m[0].lastIndexOf('(') + 1
        // `_group('name', a, b)` passes its own arguments after the name.
        const args = m[0].startsWith('_group') ? (m[2] === ')' ? 0 : argCount(source, m.index + m[0].indexOf('(') + 1) - 1) : argCount(source, openParen)
        calls.push({ kind, name: m[1], args, where })
      }
    }
  }
  return calls
}

const surface = fs.existsSync(NATIVE_DTS) ? nativeSurface(fs.readFileSync(NATIVE_DTS, 'utf8')) : null

test('the generated typings exist (npm run build writes them)', () => {
  expect(surface).not.toBeNull()
  expect(Object.keys(surface.classes.NativeShardManager ?? {}).length).toBeGreaterThan(10)
  expect(Object.keys(surface.classes.NativeShard ?? {}).length).toBeGreaterThan(50)
})

test('every native call of the JS layer exists in the addon with enough parameters', () => {
  const problems = []
  for (const call of nativeCalls()) {
    const declared = call.kind === 'manager' ? surface.classes.NativeShardManager[call.name] : call.kind === 'shard' ? surface.classes.NativeShard[call.name] : call.kind === 'class' ? surface.classes[call.name]?.constructor : surface.functions[call.name] ?? (surface.classes[call.name] ? 0 : undefined)
    if (declared === undefined) problems.push(`${call.where}: ${call.kind} ${call.name} is not in the addon`)
    else if (call.args > declared) problems.push(`${call.where}: ${call.name} gets ${call.args} arguments, the addon takes ${declared}`)
  }
  expect(problems).toEqual([])
})

test('every method and function the addon exports is used by the JS layer (or, for test hooks, by a test)', () => {
  const testSources = fs.readdirSync(__dirname).filter((f) => f.endsWith('.js')).map((f) => fs.readFileSync(path.join(__dirname, f), 'utf8')).join('\n')
  const used = new Set([...nativeCalls().map((c) => c.name), ...[...testSources.matchAll(/\bnative\.(\w+)\(/g)].map((m) => m[1])])
  const methods = (cls) => Object.keys(surface.classes[cls]).filter((m) => m !== 'constructor')
  const exported = [...methods('NativeShardManager'), ...methods('NativeShard'), ...Object.keys(surface.functions)]
  expect(exported.filter((name) => !used.has(name))).toEqual([])
})

/** The top-level field names of the `{ ... }` block that starts at `from` in `text`. */
function blockFields(text, from) {
  const open = text.indexOf('{', from)
  let depth = 0
  const names = []
  for (let i = open; i < text.length; i++) {
    const ch = text[i]
    if (ch === '{') depth++
    else if (ch === '}' && --depth === 0) break
    else if (depth === 1 && /\w/.test(ch) && !/\w/.test(text[i - 1])) {
      const m = /^(\w+)\??:/.exec(text.slice(i))
      if (m) names.push(m[1])
    }
  }
  return names.sort()
}

/** Fields of `export interface Name` / `export class Name` (constructor and methods left out). */
function declared(text, name) {
  const fieldsOnly = text.replace(/\n\s*(constructor|\w+)\(.*(?=\n)/g, '')
  const m = new RegExp(`export (?:declare )?(?:interface|class) ${name}\\b`).exec(fieldsOnly)
  if (!m) throw new Error(`${name} is not declared`)
  return blockFields(fieldsOnly, m.index)
}

test('the result structs the addon gives users as they are have the fields index.d.ts promises', () => {
  const native = fs.readFileSync(NATIVE_DTS, 'utf8')
  const index = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8')
  const inline = (signature) => blockFields(index, index.indexOf(signature) + signature.length)
  const pairs = [
    ['ShardUser', declared(index, 'ShardUser')],
    ['SessionStatusFields', declared(index, 'SessionStatus')],
    ['ShardInfoFields', declared(index, 'ShardInfo')],
    ['StatusEntry', declared(index, 'StatusResult')],
    ['OnWhatsAppEntry', inline('onWhatsApp(...phoneNumbers: string[]): Promise<')],
    ['JidWithDevice', inline('ignoreZeroDevices?: boolean): Promise<')],
    ['UploadedMedia', inline('timeoutMs?: number }): Promise<')],
  ]
  expect(pairs.every(([, fields]) => fields.length >= 2)).toBe(true)
  for (const [nativeName, publicFields] of pairs) {
    expect({ [nativeName]: declared(native, nativeName) }).toEqual({ [nativeName]: publicFields })
  }
})
