'use strict'
// Business catalogs end to end: a shard (alice) runs its catalog — products with pictures
// (uploaded to the mock's CDN), hidden ones, pages, updates, deletes — and reads collections
// and orders the mock seeds as the Business app would make them; bob (a shard) and carol (a real
// Baileys 6.7.21 client) read the same catalog, and Baileys' own calls are the oracle.
const { expectShardError, shardsAndBaileys } = require('./helpers')

let ctx
let peer
let alice
let bob
let aliceJid
let mug
let secret
/** As a value looks after crossing a JSON boundary (Baileys' `undefined` keys dropped). */
const plain = (v) => JSON.parse(JSON.stringify(v))
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 7)])

beforeAll(async () => {
  ctx = await shardsAndBaileys('carol-catalog')
  ;({ peer, alice, bob, aliceJid } = ctx)
})
afterAll(() => ctx?.close())

test('productCreate uploads the picture and gives the product as Baileys’ productCreate does', async () => {
  mug = await alice.productCreate({ name: 'Mug', description: 'blue', retailerId: 'MUG-1', price: 12000, currency: 'EUR', images: [JPEG] })
  expect(mug).toMatchObject({ name: 'Mug', description: 'blue', retailerId: 'MUG-1', price: 12000, currency: 'EUR', isHidden: false, availability: 'in stock', reviewStatus: { whatsapp: 'APPROVED' } })
  expect(mug.id).toMatch(/^\d+$/)
  expect(mug.imageUrls.original).toMatch(/^https:\/\/mmg\.whatsapp\.net\/v\//)
  // The picture is on the mock's CDN, unencrypted.
  const { pathname } = new URL(mug.imageUrls.original)
  const stored = await fetch(`${ctx.mock.httpUrl}${pathname}`)
  expect(Buffer.from(await stored.arrayBuffer())).toEqual(JPEG)

  const theirs = await peer.call('productCreate', { name: 'Mug', description: 'blue', retailerId: 'MUG-1', price: 12000, currency: 'EUR', images: [{ url: __filename }] })
  const neutral = (p) => ({ ...plain(p), id: 'X', imageUrls: 'U' })
  expect(neutral(mug)).toEqual(neutral(theirs))
  expect(Object.keys(mug)).toEqual(Object.keys(theirs))

  secret = await alice.productCreate({ name: 'Prototype', price: 1000, currency: 'EUR', isHidden: true, images: [] })
  expect(secret.isHidden).toBe(true)
})

test('getCatalog: others see the visible products (as Baileys does), the owner all, page by page', async () => {
  const ours = await bob.getCatalog({ jid: aliceJid })
  expect(ours.products.map((p) => p.name)).toEqual(['Mug'])
  expect(ours.nextPageCursor).toBeUndefined()
  expect(plain(ours)).toEqual(await peer.call('getCatalog', { jid: aliceJid }))

  expect((await alice.getCatalog()).products.map((p) => p.name)).toEqual(['Mug', 'Prototype'])
  const first = await alice.getCatalog({ limit: 1 })
  expect(first.products.map((p) => p.name)).toEqual(['Mug'])
  expect(first.nextPageCursor).toBeTruthy()
  const second = await alice.getCatalog({ limit: 1, cursor: first.nextPageCursor })
  expect(second.products.map((p) => p.name)).toEqual(['Prototype'])
  expect(second.nextPageCursor).toBeUndefined()
})

test('productUpdate changes a product and keeps pictures already on the CDN', async () => {
  const updated = await alice.productUpdate(mug.id, { price: 15000, description: 'bigger', images: [{ url: mug.imageUrls.original }] })
  expect(updated).toMatchObject({ id: mug.id, name: 'Mug', price: 15000, description: 'bigger', imageUrls: mug.imageUrls })
  const seen = await peer.call('getCatalog', { jid: aliceJid })
  expect(seen.products[0]).toMatchObject({ price: 15000, description: 'bigger' })
})

test('getCollections and getOrderDetails read what the Business app made, as Baileys reads them', async () => {
  const phone = aliceJid.split('@')[0]
  await ctx.mock.seedBusinessCatalog({
    phone,
    collections: [{ id: '7001', name: 'Kitchen', productIds: [mug.id, secret.id] }],
    orders: [{ id: '9001', token: 'dG9rZW4=', items: [{ productId: mug.id, quantity: 2 }] }],
  })
  const collections = await bob.getCollections(aliceJid)
  expect(collections.collections.map((c) => [c.id, c.name, c.products.map((p) => p.name), c.status])).toEqual([['7001', 'Kitchen', ['Mug'], { status: 'APPROVED', canAppeal: false }]])
  expect(plain(collections)).toEqual(await peer.call('getCollections', aliceJid))

  const order = await bob.getOrderDetails('9001', 'dG9rZW4=')
  expect(order).toEqual({ price: { total: 30000, currency: 'EUR' }, products: [{ id: mug.id, name: 'Mug', imageUrl: mug.imageUrls.original, price: 15000, currency: 'EUR', quantity: 2 }] })
  expect(order).toEqual(await peer.call('getOrderDetails', '9001', 'dG9rZW4='))
  await expectShardError(bob.getOrderDetails('9001', 'd3Jvbmc='), 'INVALID_ARGUMENT', /401/)
})

test('productDelete removes products and counts them', async () => {
  await expect(alice.productDelete([secret.id, '404404'])).resolves.toEqual({ deleted: 1 })
  expect((await alice.getCatalog()).products.map((p) => p.name)).toEqual(['Mug'])
})

test('bad arguments reject with INVALID_ARGUMENT naming the call; the shard stays connected', async () => {
  await expectShardError(alice.productCreate({ price: 1, currency: 'EUR', images: [] }), 'INVALID_ARGUMENT', /^productCreate: name/)
  await expectShardError(alice.productCreate({ name: 'X', price: 'cheap', currency: 'EUR', images: [] }), 'INVALID_ARGUMENT', /^productCreate: price/)
  await expectShardError(alice.productCreate({ name: 'X', price: 1, currency: 'EUR', images: [{ url: '/no/such/picture.jpg' }] }), 'INVALID_ARGUMENT', /^productCreate: cannot read the image/)
  await expectShardError(alice.productUpdate('', { price: 1 }), 'INVALID_ARGUMENT', /^productUpdate: productId/)
  await expectShardError(alice.productUpdate('404404', { price: 1 }), 'INVALID_ARGUMENT', /404/)
  await expectShardError(alice.productDelete('404404'), 'INVALID_ARGUMENT', /^productDelete: productIds/)
  await expectShardError(alice.getOrderDetails(9001, 'x'), 'INVALID_ARGUMENT', /^getOrderDetails: orderId/)
  expect((await alice.getCatalog()).products).toHaveLength(1)
})
