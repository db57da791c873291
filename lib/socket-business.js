'use strict'
// Baileys 6.7.21's business-catalog members on `sock`: `getCatalog`, `getCollections`,
// `getOrderDetails`, `productCreate`, `productUpdate`, `productDelete`. whatsapp-rust has no
// catalog calls, so these send the `w:biz:catalog` / `fb:thrift_iq` stanzas Baileys sends
// through `sock.query` and read the answers into Baileys' shapes. Product pictures that are not
// on WhatsApp's CDN yet are uploaded first (`waUploadToServer`, unencrypted, as WhatsApp wants them).
const crypto = require('node:crypto')
const fs = require('node:fs/promises')
const os = require('node:os')
const path = require('node:path')
const { ShardError } = require('./errors')
const { jidNormalizedUser } = require('./baileys/jid')

const S_WHATSAPP_NET = 's.whatsapp.net'
const MEDIA_HOST = 'https://mmg.whatsapp.net'

const invalid = (message) => new ShardError(message, 'INVALID_ARGUMENT')

// --- Reading answers -------------------------------------------------------------------------

const { children: childrenOf } = require('./socket-internals')
const childOf = (node, tag) => childrenOf(node, tag)[0]
/** A child's text content (Baileys' `getBinaryNodeChildString`): undefined without that child. */
function textOf(node, tag) {
  const content = childOf(node, tag)?.content
  if (content == null) return undefined
  return typeof content === 'string' ? content : Buffer.from(content).toString('utf8')
}

/** A `<product>` as Baileys' `Product` (`parseProductNode`). */
function productOf(node) {
  const image = childOf(childOf(node, 'media'), 'image')
  return {
    id: textOf(node, 'id'),
    imageUrls: { requested: textOf(image, 'request_image_url'), original: textOf(image, 'original_image_url') },
    reviewStatus: { whatsapp: textOf(childOf(node, 'status_info'), 'status') },
    availability: 'in stock',
    name: textOf(node, 'name'),
    retailerId: textOf(node, 'retailer_id'),
    url: textOf(node, 'url'),
    description: textOf(node, 'description'),
    price: +textOf(node, 'price'),
    currency: textOf(node, 'currency'),
    isHidden: node?.attrs?.is_hidden === 'true',
  }
}

// --- Writing requests ------------------------------------------------------------------------

const textNode = (tag, value) => ({ tag, attrs: {}, content: Buffer.from(String(value)) })

/** A `<product>` to create (`id` undefined) or edit, from Baileys' `ProductCreate`/`ProductUpdate`. */
function productNode(id, product) {
  const attrs = {}
  const content = []
  if (id !== undefined) content.push(textNode('id', id))
  for (const [field, tag] of [['name', 'name'], ['description', 'description'], ['retailerId', 'retailer_id']]) {
    if (product[field] !== undefined) content.push(textNode(tag, product[field]))
  }
  if (product.images?.length) {
    content.push({ tag: 'media', attrs: {}, content: product.images.map((img) => ({ tag: 'image', attrs: {}, content: [textNode('url', img.url)] })) })
  }
  if (product.price !== undefined) content.push(textNode('price', product.price))
  if (product.currency !== undefined) content.push(textNode('currency', product.currency))
  if ('originCountryCode' in product) {
    if (product.originCountryCode === undefined) attrs.compliance_category = 'COUNTRY_ORIGIN_EXEMPT'
    else content.push({ tag: 'compliance_info', attrs: {}, content: [textNode('country_code_origin', product.originCountryCode)] })
  }
  if (product.isHidden !== undefined) attrs.is_hidden = String(product.isHidden)
  return { tag: 'product', attrs, content }
}

/** The bytes of a product picture given as a Buffer, `{ url }` (a file path or http(s) URL) or `{ stream }`. */
async function pictureBytes(img, what) {
  if (Buffer.isBuffer(img)) return img
  if (img?.stream) {
    const chunks = []
    for await (const chunk of img.stream) chunks.push(Buffer.from(chunk))
    return Buffer.concat(chunks)
  }
  const url = img?.url?.toString()
  if (!url) throw invalid(`${what}: each image must be a Buffer, { url } or { stream }`)
  if (/^https?:\/\//.test(url)) {
    const res = await fetch(url)
    if (!res.ok) throw new ShardError(`${what}: could not fetch ${url}: HTTP ${res.status}`, 'MEDIA_FAILED')
    return Buffer.from(await res.arrayBuffer())
  }
  return fs.readFile(url).catch((e) => {
    throw invalid(`${what}: cannot read the image ${url}: ${e.message}`)
  })
}

/** Checks a product's fields and uploads the pictures not on WhatsApp's CDN yet. */
async function preparedProduct(sock, what, product, creating) {
  if (!product || typeof product !== 'object') throw invalid(`${what}: the product must be an object`)
  if (creating && (typeof product.name !== 'string' || !product.name.trim())) throw invalid(`${what}: name must be a non-empty string`)
  if (creating && !Array.isArray(product.images)) throw invalid(`${what}: images must be an array`)
  if (product.price !== undefined && !Number.isFinite(Number(product.price))) throw invalid(`${what}: price must be a number`)
  if (product.images === undefined) return { ...product }
  if (!Array.isArray(product.images)) throw invalid(`${what}: images must be an array`)
  const images = await Promise.all(product.images.map(async (img) => {
    const url = img?.url?.toString()
    if (url && url.includes('.whatsapp.net')) return { url }
    const bytes = await pictureBytes(img, what)
    const file = path.join(os.tmpdir(), `bshard-product-${crypto.randomBytes(8).toString('hex')}`)
    await fs.writeFile(file, bytes)
    try {
      const fileEncSha256B64 = crypto.createHash('sha256').update(bytes).digest('base64')
      const { directPath } = await sock.waUploadToServer(file, { mediaType: 'product-catalog-image', fileEncSha256B64, timeoutMs: 30000 })
      return { url: MEDIA_HOST + directPath }
    } finally {
      await fs.rm(file, { force: true })
    }
  }))
  return { ...product, images }
}

const catalogQuery = (sock, type, content, extra = {}) =>
  sock.query({ tag: 'iq', attrs: { to: S_WHATSAPP_NET, type, xmlns: 'w:biz:catalog', ...extra }, content })

const ownJid = (sock, jid, what) => {
  const chosen = jid || sock.user?.id
  if (typeof chosen !== 'string') throw invalid(`${what}: jid must be a business's jid`)
  return jidNormalizedUser(chosen)
}

/** @this {import('./socket').ShardSocket} */
const businessCalls = {
  /**
   * A business's products (ours without `jid`), 10 a page unless `limit`, like Baileys'
   * `sock.getCatalog`: `{ products, nextPageCursor }` (give the cursor back for the next page).
   * @param {{ jid?: string, limit?: number, cursor?: string }} [options]
   * @returns {Promise<{ products: import('..').Product[], nextPageCursor?: string }>}
   */
  async getCatalog({ jid, limit, cursor } = {}) {
    const params = [textNode('limit', limit || 10), textNode('width', 100), textNode('height', 100)]
    if (cursor) params.push({ tag: 'after', attrs: {}, content: cursor })
    const owner = ownJid(this, jid, 'getCatalog')
    const reply = await catalogQuery(this, 'get', [{ tag: 'product_catalog', attrs: { jid: owner, allow_shop_source: 'true' }, content: params }])
    const catalog = childOf(reply, 'product_catalog')
    const paging = childOf(catalog, 'paging')
    return { products: childrenOf(catalog, 'product').map(productOf), nextPageCursor: paging ? textOf(paging, 'after') : undefined }
  },

  /**
   * A business's collections, each with its products, like Baileys' `sock.getCollections`.
   * @param {string} [jid]
   * @param {number} [limit]
   * @returns {Promise<{ collections: { id: string, name: string, products: import('..').Product[], status: { status: string, canAppeal: boolean } }[] }>}
   */
  async getCollections(jid, limit = 51) {
    const owner = ownJid(this, jid, 'getCollections')
    const params = [textNode('collection_limit', limit), textNode('item_limit', limit), textNode('width', 100), textNode('height', 100)]
    const reply = await catalogQuery(this, 'get', [{ tag: 'collections', attrs: { biz_jid: owner }, content: params }], { smax_id: '35' })
    const collections = childrenOf(childOf(reply, 'collections'), 'collection').map((node) => {
      const status = childOf(node, 'status_info')
      return {
        id: textOf(node, 'id'),
        name: textOf(node, 'name'),
        products: childrenOf(node, 'product').map(productOf),
        status: { status: textOf(status, 'status'), canAppeal: textOf(status, 'can_appeal') === 'true' },
      }
    })
    return { collections }
  },

  /**
   * An order's products and total (the order id and token come with the order message), like
   * Baileys' `sock.getOrderDetails`.
   * @param {string} orderId
   * @param {string} tokenBase64
   * @returns {Promise<{ price: { total: number, currency: string }, products: { id: string, name: string, imageUrl: string, price: number, currency: string, quantity: number }[] }>}
   */
  async getOrderDetails(orderId, tokenBase64) {
    if (typeof orderId !== 'string' || !orderId) throw invalid('getOrderDetails: orderId must be a non-empty string')
    if (typeof tokenBase64 !== 'string') throw invalid('getOrderDetails: tokenBase64 must be a string')
    const dimensions = { tag: 'image_dimensions', attrs: {}, content: [textNode('width', 100), textNode('height', 100)] }
    const reply = await this.query({
      tag: 'iq',
      attrs: { to: S_WHATSAPP_NET, type: 'get', xmlns: 'fb:thrift_iq', smax_id: '5' },
      content: [{ tag: 'order', attrs: { op: 'get', id: orderId }, content: [dimensions, textNode('token', tokenBase64)] }],
    })
    const order = childOf(reply, 'order')
    const price = childOf(order, 'price')
    return {
      price: { total: +textOf(price, 'total'), currency: textOf(price, 'currency') },
      products: childrenOf(order, 'product').map((p) => ({
        id: textOf(p, 'id'),
        name: textOf(p, 'name'),
        imageUrl: textOf(childOf(p, 'image'), 'url'),
        price: +textOf(p, 'price'),
        currency: textOf(p, 'currency'),
        quantity: +textOf(p, 'quantity'),
      })),
    }
  },

  /**
   * Adds a product to our catalog, like Baileys' `sock.productCreate`; pictures (Buffers,
   * files, URLs or streams) are uploaded first. Resolves to the product as WhatsApp stored it.
   * @param {import('..').ProductCreate} create
   * @returns {Promise<import('..').Product>}
   */
  async productCreate(create) {
    const product = await preparedProduct(this, 'productCreate', create && { ...create, isHidden: !!create.isHidden }, true)
    const reply = await catalogQuery(this, 'set', [{ tag: 'product_catalog_add', attrs: { v: '1' }, content: [productNode(undefined, product), textNode('width', 100), textNode('height', 100)] }])
    return productOf(childOf(childOf(reply, 'product_catalog_add'), 'product'))
  },

  /**
   * Changes a product of our catalog, like Baileys' `sock.productUpdate`.
   * @param {string} productId
   * @param {Partial<import('..').ProductCreate>} update
   * @returns {Promise<import('..').Product>}
   */
  async productUpdate(productId, update) {
    if (typeof productId !== 'string' || !productId) throw invalid('productUpdate: productId must be a non-empty string')
    const product = await preparedProduct(this, 'productUpdate', update, false)
    const reply = await catalogQuery(this, 'set', [{ tag: 'product_catalog_edit', attrs: { v: '1' }, content: [productNode(productId, product), textNode('width', 100), textNode('height', 100)] }])
    return productOf(childOf(childOf(reply, 'product_catalog_edit'), 'product'))
  },

  /**
   * Removes products from our catalog, like Baileys' `sock.productDelete`: `{ deleted }`.
   * @param {string[]} productIds
   * @returns {Promise<{ deleted: number }>}
   */
  async productDelete(productIds) {
    if (!Array.isArray(productIds) || productIds.some((id) => typeof id !== 'string')) throw invalid('productDelete: productIds must be an array of product ids')
    const content = productIds.map((id) => ({ tag: 'product', attrs: {}, content: [textNode('id', id)] }))
    const reply = await catalogQuery(this, 'set', [{ tag: 'product_catalog_delete', attrs: { v: '1' }, content }])
    return { deleted: +(childOf(reply, 'product_catalog_delete')?.attrs.deleted_count || 0) }
  },
}

module.exports = { businessCalls }
