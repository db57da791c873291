'use strict'
// What a user gets from npm: the main package and the linux-x64-gnu platform package, packed as
// `npm publish` would pack them, installed into a fresh folder by a PATH without cargo or rustc,
// run the README's echo bot against the mock through baileys-shard/testing until it has answered
// a real Baileys 6.7.21 client. The same install is loaded as ESM and CommonJS, and a TypeScript
// bot type-checks against it.
const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')
const { execFileSync, spawn, spawnSync } = require('node:child_process')
const { ROOT, tmpDir, userJid, openBaileysPeer } = require('./helpers')

const PLATFORM_DIR = path.join(ROOT, 'npm', 'linux-x64-gnu')
const built = ['baileys-shard.linux-x64-gnu.node', 'baileys-shard.linux-x64-gnu.testing.node', 'baileys-shard-mock'].every((f) => fs.existsSync(path.join(PLATFORM_DIR, f)))

/** PATH without the folders that hold cargo or rustc: the user's machine has no Rust. */
function pathWithoutRust() {
  const hasRust = (dir) => ['cargo', 'rustc'].some((exe) => fs.existsSync(path.join(dir, exe)))
  return (process.env.PATH ?? '').split(path.delimiter).filter((dir) => dir && !hasRust(dir)).join(path.delimiter)
}

/** The README's bot: the code block that follows the marker naming this test. */
function readmeBot() {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const marker = readme.indexOf('<!-- __test__/packed-install.test.js')
  expect(marker).toBeGreaterThan(0)
  const block = /```js\n([\s\S]*?)```/.exec(readme.slice(marker))
  return block[1]
}

/** The bot's folder, where the packed packages are installed. */
let dir
let env
beforeAll(() => {
  if (!built) return
  const root = tmpDir()
  const packs = path.join(root, 'packs')
  fs.mkdirSync(packs)
  for (const pkg of [ROOT, PLATFORM_DIR]) execFileSync('npm', ['pack', '--silent', '--pack-destination', packs], { cwd: pkg, stdio: 'pipe' })
  dir = path.join(root, 'bot')
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'echo-bot', private: true }))
  // A user's environment: no BAILEYS_SHARD_NATIVE (that is this repository's test build), no Rust.
  env = { ...process.env, PATH: pathWithoutRust() }
  delete env.BAILEYS_SHARD_NATIVE
  delete env.BAILEYS_SHARD_MOCK_BIN
  const tarballs = fs.readdirSync(packs).map((f) => path.join(packs, f))
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], { cwd: dir, env, stdio: 'pipe' })
}, 180000)

;(built ? describe : describe.skip)('the packed packages, installed where there is no Rust', () => {
  test('the PATH the bot runs with has no cargo and no rustc', () => {
    for (const exe of ['cargo', 'rustc']) expect(spawnSync(exe, ['--version'], { env }).error?.code).toBe('ENOENT')
  })

  test("the README's echo bot, through baileys-shard/testing, connects to the mock and answers a real Baileys client", async () => {
    fs.writeFileSync(path.join(dir, 'echo-bot.js'), readmeBot())
    const bot = spawn(process.execPath, ['echo-bot.js'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    bot.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise((resolve) => bot.once('exit', (code, signal) => resolve({ code, signal })))
    const lines = readline.createInterface({ input: bot.stdout })
    const seen = []
    const line = (pattern) =>
      new Promise((resolve, reject) => {
        const found = seen.map((l) => pattern.exec(l)).find(Boolean)
        if (found) return resolve(found)
        const timer = setTimeout(() => reject(new Error(`the bot printed no line matching ${pattern}; stdout:\n${seen.join('\n')}\nstderr:\n${stderr}`)), 30000)
        const onLine = (l) => {
          const m = pattern.exec(l)
          if (!m) return
          clearTimeout(timer)
          lines.off('line', onLine)
          resolve(m)
        }
        lines.on('line', onLine)
      })
    lines.on('line', (l) => seen.push(l))
    let peer
    try {
      const [, url] = await line(/^mock server at (ws:\/\/\S+)$/)
      const [, botJid] = await line(/^bot-1 connected as (\S+)$/)
      // The installed package's mock, reached from here as any client would reach it.
      const httpUrl = `http://${new URL(url).host}`
      const mock = {
        url,
        scanQr: async (qr) => {
          const res = await fetch(`${httpUrl}/admin/mock-phone/scan-qr`, { method: 'POST', body: qr })
          if (!res.ok) throw new Error(`scan refused: ${res.status}`)
        },
      }
      ;({ peer } = await openBaileysPeer(mock, 'packed-peer'))
      const answer = peer.waitFor("the bot's answer", (e) => e.event === 'upsert' && e.text === 'bot-1 got: hello from Baileys', 30000)
      peer.command({ cmd: 'send', to: userJid(botJid), text: 'hello from Baileys' })
      const reply = await answer
      expect(reply.key.remoteJid).toBe(userJid(botJid))
    } finally {
      await peer?.close()
      bot.kill('SIGTERM')
    }
    expect(await exited).toEqual({ code: 0, signal: null })
  }, 120000)

  test('ESM import and CommonJS require both load the installed package; testing gives the testing build', () => {
    const esm = `
      import { ShardManager, jidNormalizedUser } from 'baileys-shard'
      import lib from 'baileys-shard'
      console.log(JSON.stringify({ esm: typeof ShardManager, jid: jidNormalizedUser('1:2@s.whatsapp.net'), def: typeof lib.ShardManager, skips: new ShardManager({ session: './esm-sessions' }).skipsCertificateChecks }))
    `
    expect(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', esm], { cwd: dir, env }).toString())).toEqual({ esm: 'function', jid: '1@s.whatsapp.net', def: 'function', skips: false })
    const cjs = `
      const { ShardManager, MockServer } = require('baileys-shard/testing')
      const same = require('baileys-shard').ShardManager === ShardManager
      console.log(JSON.stringify({ mock: typeof MockServer.start, same, skips: new ShardManager({ session: './cjs-sessions' }).skipsCertificateChecks }))
    `
    expect(JSON.parse(execFileSync(process.execPath, ['-e', cjs], { cwd: dir, env }).toString())).toEqual({ mock: 'function', same: true, skips: true })
    const esmTesting = `
      import { ShardManager, MockServer } from 'baileys-shard/testing'
      console.log(JSON.stringify({ mock: typeof MockServer.start, skips: new ShardManager({ session: './esm2-sessions' }).skipsCertificateChecks }))
    `
    expect(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', esmTesting], { cwd: dir, env }).toString())).toEqual({ mock: 'function', skips: true })
  })

  test('a TypeScript bot type-checks against the installed typings (tsc --noEmit)', () => {
    fs.writeFileSync(
      path.join(dir, 'bot.ts'),
      `import { ShardManager, type WAMessage } from 'baileys-shard'
import { MockServer } from 'baileys-shard/testing'

export async function run(): Promise<void> {
  const mock = await MockServer.start({ port: 0 })
  const manager = new ShardManager({ session: './ts-sessions', socketConfig: { waWebSocketUrl: mock.url } })
  manager.on('messages.upsert', async ({ sock, data }) => {
    for (const msg of data.messages as WAMessage[]) {
      if (!msg.key.fromMe && msg.key.remoteJid) await sock.sendMessage(msg.key.remoteJid, { text: 'hi' }, { quoted: msg })
    }
  })
  const { sock } = await manager.createShard({ id: 'ts-bot' })
  const id: string | undefined = sock.user?.id
  // @ts-expect-error sendMessage takes a jid and content
  await sock.sendMessage(42)
  console.log(id, manager.skipsCertificateChecks)
}
`,
    )
    // Node's types from this repository (a real bot has @types/node installed); the rest from the install.
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: false, typeRoots: [path.join(ROOT, 'node_modules', '@types')], types: ['node'] }, files: ['bot.ts'] }),
    )
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, env, encoding: 'utf8' })
    expect(`${result.stdout}${result.stderr}`).toBe('')
    expect(result.status).toBe(0)
  })
})

if (!built && process.env.CI) {
  test('CI builds the platform package before packing it', () => {
    throw new Error(`npm/linux-x64-gnu is not filled: run \`npm run build\` first`)
  })
}
