#!/usr/bin/env node
// Generates the session-folder fixtures of crates/shard-core/tests/fixtures/baileys-6.7.21/
// with the real Baileys 6.7.21 (npm) against our mock server:
//   1. two Baileys apps, `a` and `b`, pair with the mock phone and exchange 1:1 messages both
//      ways (so their session-*.json files have moved past the pre-key stage);
//   2. their folders are copied as they are when the apps stop (`a/`, `b/`);
//   3. test vectors, made by Baileys' own Signal repository on scratch copies of the folders
//      (the copied fixtures are not touched): the next 1:1 message a → b (`vectors.json`), and
//      a group sender key of `a` handed to `b` (the mock does not relay groups yet, so sender
//      keys come from Baileys' group cipher directly), written into `a/` and `b/` as Baileys
//      writes them, with a group message `b` must be able to decrypt.
// Needs `target/debug/baileys-shard-mock` (npm run build:test). Run: node scripts/gen-baileys-fixtures.mjs
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const OUT = path.join(ROOT, 'crates/shard-core/tests/fixtures/baileys-6.7.21')
const { MockServer } = require(path.join(ROOT, 'testing.js'))
const { BaileysChild } = require(path.join(ROOT, '__test__/baileys-peer.js'))
const baileys = await import('baileys')
const { useMultiFileAuthState, DEFAULT_CONNECTION_CONFIG, jidNormalizedUser } = baileys

const GROUP = '120363000000000001@g.us'

async function exchange(from, to, toJid, text) {
  from.command({ cmd: 'send', to: toJid, text })
  const sent = await from.waitFor(`${from.name} to send`, (e) => (e.event === 'sent' || e.event === 'cmd-error') && !e.consumed, 20000)
  sent.consumed = true
  if (sent.event !== 'sent') throw new Error(`${from.name} could not send: ${sent.message}`)
  const got = await to.waitFor(`${to.name} to get ${sent.key.id}`, (e) => e.event === 'upsert' && e.key.id === sent.key.id, 20000)
  if (got.text !== text) throw new Error(`${to.name} got ${JSON.stringify(got)} instead of ${text}`)
}

const mock = await MockServer.start({ port: 0 })
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'baileys-fixtures-'))
const peers = {}
try {
  for (const name of ['a', 'b']) {
    const dir = path.join(work, name)
    fs.mkdirSync(dir)
    peers[name] = new BaileysChild(name, mock, { authDir: dir })
  }
  const me = {}
  for (const [name, p] of Object.entries(peers)) {
    me[name] = (await p.waitFor(`${name} open`, (e) => e.event === 'open', 30000)).me
    await p.waitFor(`${name} offline sync`, (e) => e.event === 'pending-done', 15000)
  }
  const jid = (name) => jidNormalizedUser(me[name].id)
  await exchange(peers.a, peers.b, jid('b'), 'hello b')
  await exchange(peers.b, peers.a, jid('a'), 'hello a')
  await exchange(peers.a, peers.b, jid('b'), 'how are you')
  await exchange(peers.a, peers.b, jid('b'), 'still there?')
  await exchange(peers.b, peers.a, jid('a'), 'yes')
  await new Promise((r) => setTimeout(r, 1500)) // receipts and key writes settle
  for (const p of Object.values(peers)) {
    const problems = [...p.errors(), ...p.decryptionProblems()]
    if (problems.length) throw new Error(`${p.name} reported problems: ${JSON.stringify(problems)}`)
    p.command({ cmd: 'exit' })
    await p.waitFor(`${p.name} exit`, (e) => e.event === 'exit', 15000)
  }

  fs.rmSync(OUT, { recursive: true, force: true })
  fs.mkdirSync(OUT, { recursive: true })
  for (const name of ['a', 'b']) fs.cpSync(path.join(work, name), path.join(OUT, name), { recursive: true })

  // Sender keys, written by Baileys into the fixture folders themselves: a's own chain
  // (a/sender-key-GROUP--A--DEV.json) and b's copy of it (b/...).
  const repo = async (dir) => {
    const { state } = await useMultiFileAuthState(dir)
    return DEFAULT_CONNECTION_CONFIG.makeSignalRepository({ creds: state.creds, keys: state.keys })
  }
  const repoA = await repo(path.join(OUT, 'a'))
  const repoB = await repo(path.join(OUT, 'b'))
  const first = await repoA.encryptGroupMessage({ group: GROUP, meId: me.a.id, data: Buffer.from('group hello 1') })
  await repoB.processSenderKeyDistributionMessage({
    authorJid: me.a.id,
    item: { groupId: GROUP, axolotlSenderKeyDistributionMessage: first.senderKeyDistributionMessage },
  })
  const plain1 = await repoB.decryptGroupMessage({ group: GROUP, authorJid: me.a.id, msg: first.ciphertext })
  if (Buffer.from(plain1).toString() !== 'group hello 1') throw new Error('Baileys could not decrypt its own group message')

  // Vectors, on scratch copies so the fixtures stay as written above.
  const scratch = path.join(work, 'scratch-a')
  fs.cpSync(path.join(OUT, 'a'), scratch, { recursive: true })
  const repoScratch = await repo(scratch)
  const direct = await repoScratch.encryptMessage({ jid: me.b.id, data: Buffer.from('direct after the snapshot') })
  const group = await repoScratch.encryptGroupMessage({ group: GROUP, meId: me.a.id, data: Buffer.from('group after the snapshot') })

  const vectors = {
    baileysVersion: JSON.parse(fs.readFileSync(require.resolve('baileys/package.json'), 'utf8')).version,
    a: me.a,
    b: me.b,
    group: GROUP,
    direct: { from: me.a.id, to: me.b.id, type: direct.type, ciphertext: Buffer.from(direct.ciphertext).toString('base64'), plaintext: 'direct after the snapshot' },
    groupMessage: { from: me.a.id, ciphertext: Buffer.from(group.ciphertext).toString('base64'), plaintext: 'group after the snapshot' },
  }
  fs.writeFileSync(path.join(OUT, 'vectors.json'), JSON.stringify(vectors, null, 2) + '\n')
  console.log(`fixtures written to ${path.relative(ROOT, OUT)}:`)
  for (const name of ['a', 'b']) console.log(`  ${name}: ${fs.readdirSync(path.join(OUT, name)).sort().join(' ')}`)
} finally {
  for (const p of Object.values(peers)) await p.close()
  await mock.close()
  fs.rmSync(work, { recursive: true, force: true })
}
