'use strict'
// Link previews for texts, as Baileys 6.7.21 makes them when the bot has link-preview-js
// installed (here it always is): the first https:// link of a text is fetched (3 s in all,
// redirects only within the same site), the page's title, description and image (its og:
// and meta tags, read by link-preview-js) become the preview, and the image a 192-px JPEG
// thumbnail made natively. With `generateHighQualityLinkPreview` the image is uploaded too
// (with link-thumbnail keys), so the chat shows it large.
const { prepareWAMessageMedia } = require('./baileys/generate')

/** The links Baileys previews: https, a named host (no credentials), optional port and path. */
const PREVIEWABLE_URL = /https:\/\/(?![^:@/\s]+:[^:@/\s]+@)[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}(?::\d+)?(?:\/\S*)?/

/** How much of a page is read for its tags, and of an image for its thumbnail. */
const PAGE_BYTES = 1024 * 1024
const IMAGE_BYTES = 8 * 1024 * 1024
const MAX_REDIRECTS = 5

/** The first link of `text` that gets a preview, like Baileys' `extractUrlFromText`. */
function extractUrlFromText(text) {
  return typeof text === 'string' ? text.match(PREVIEWABLE_URL)?.[0] : undefined
}

/** Same site: the same host, with or without `www.`. */
const sameSite = (a, b) => a.hostname === b.hostname || `www.${a.hostname}` === b.hostname || a.hostname === `www.${b.hostname}`

/**
 * GETs `url` before `deadline`, following redirects within the site, and reads at most
 * `limit` bytes of the body (`whole`: a longer body is an error, not cut).
 */
async function fetchLimited(url, { deadline, limit, whole = false }) {
  let current = new URL(url)
  for (let redirects = 0; ; redirects++) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`timed out fetching ${current.href}`)
    const response = await fetch(current, { redirect: 'manual', signal: AbortSignal.timeout(left) })
    const location = response.headers.get('location')
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, current)
      await response.body?.cancel()
      if (redirects >= MAX_REDIRECTS || !sameSite(current, next)) throw new Error(`${current.href} redirects to ${next.host}`)
      current = next
      continue
    }
    if (!response.ok) {
      await response.body?.cancel()
      throw new Error(`${current.href} answered HTTP ${response.status}`)
    }
    const chunks = []
    let size = 0
    for await (const chunk of response.body ?? []) {
      chunks.push(chunk)
      size += chunk.length
      if (size >= limit) {
        if (whole) throw new Error(`${current.href} is larger than ${limit >> 20} MiB`)
        break
      }
    }
    return { url: current.href, headers: Object.fromEntries(response.headers), body: Buffer.concat(chunks).subarray(0, limit) }
  }
}

/**
 * The preview of `url` as Baileys' `getUrlInfo` gives it: `{ 'canonical-url', 'matched-text',
 * title, description, originalThumbnailUrl, jpegThumbnail?, highQualityThumbnail? }`, or
 * undefined for a page without a title. Rejects when the page cannot be fetched.
 * @param {string} url
 * @param {{ thumbnailWidth?: number, fetchOpts?: { timeout?: number }, uploadImage?: Function, logger?: object }} [options]
 */
async function getUrlInfo(url, options = {}) {
  const { thumbnailWidth = 192, fetchOpts = {}, uploadImage, logger } = options
  const timeout = fetchOpts.timeout ?? 3000
  const link = /^https?:\/\//.test(url) ? url : `https://${url}`
  const page = await fetchLimited(link, { deadline: Date.now() + timeout, limit: PAGE_BYTES })
  const { getPreviewFromContent } = require('link-preview-js')
  const info = await getPreviewFromContent({ url: page.url, headers: page.headers, data: page.body.toString('utf8') })
  if (!info?.title) return undefined
  const [image] = info.images ?? []
  const urlInfo = { 'canonical-url': info.url, 'matched-text': url, title: info.title, description: info.description, originalThumbnailUrl: image }
  if (!image) return urlInfo
  try {
    const { body } = await fetchLimited(image, { deadline: Date.now() + timeout, limit: IMAGE_BYTES, whole: true })
    if (uploadImage) {
      const { imageMessage } = await prepareWAMessageMedia({ image: body }, { upload: uploadImage, mediaTypeOverride: 'thumbnail-link' })
      urlInfo.jpegThumbnail = imageMessage.jpegThumbnail
      urlInfo.highQualityThumbnail = imageMessage
    } else {
      urlInfo.jpegThumbnail = (await require('./native').imageThumbnail(body, thumbnailWidth)).jpegThumbnail
    }
  } catch (err) {
    // The preview goes without its picture, as Baileys' does when its image library fails.
    logger?.debug?.({ err: err?.message, url: image }, 'no thumbnail for the link preview')
  }
  return urlInfo
}

/**
 * `content` with the preview of its text's first link, as Baileys' `sendMessage` adds it:
 * only for `{ text }` without a `linkPreview` of its own (`linkPreview: null` means none). A
 * page that cannot be fetched leaves the text as it is (logged at warn, as in Baileys).
 * @param {object} content sendMessage content
 * @param {{ highQuality?: boolean, thumbnailWidth?: number, upload?: Function, logger?: object }} options
 */
async function withLinkPreview(content, { highQuality, thumbnailWidth, upload, logger }) {
  if (!content || typeof content.text !== 'string' || content.linkPreview !== undefined) return content
  const url = extractUrlFromText(content.text)
  if (!url) return content
  try {
    const linkPreview = await getUrlInfo(url, { thumbnailWidth, uploadImage: highQuality ? upload : undefined, logger })
    return linkPreview ? { ...content, linkPreview } : content
  } catch (err) {
    logger?.warn?.({ err: err?.message, url }, 'link preview failed')
    return content
  }
}

module.exports = { extractUrlFromText, getUrlInfo, withLinkPreview }
