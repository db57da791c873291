'use strict'
// A panic inside the addon (a bug of ours) must not take the bot's process down: a synchronous
// call throws, an asynchronous one rejects with INTERNAL, and the addon keeps working. The
// test build exports a call that panics on purpose (`panicForTest`).
const native = require('../lib/native')

test('a panic in a synchronous call throws instead of aborting Node', () => {
  expect(() => native.panicForTest(true)).toThrow('test panic (synchronous)')
  expect(native.errorCodes()).toContain('INTERNAL')
})

test('a panic in an asynchronous call rejects with INTERNAL', async () => {
  const err = await native.panicForTest(false).then(
    () => null,
    (e) => e,
  )
  expect(err).toMatchObject({ code: 'INTERNAL' })
  expect(err.message).toMatch(/internal error in baileys-shard \(test panic \(asynchronous\)\)/)
  // Still alive and answering.
  expect(native.skipsCertificateChecks()).toBe(true)
})
