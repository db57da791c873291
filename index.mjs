import lib from './index.js'

// The same names as require('baileys-shard'); __test__/exports.test.js checks that they match.
export const { ShardManager, ShardInfo, ShardError, jidEncode, jidDecode, jidNormalizedUser,
  areJidsSameUser, isJidUser, isLidUser, isJidBroadcast, isJidGroup, isJidNewsletter, isJidMetaIa,
  isJidStatusBroadcast, isJidBot, S_WHATSAPP_NET, STORIES_JID, getContentType,
  normalizeMessageContent, extractMessageContent, getDevice, generateMessageID,
  generateMessageIDV2, generateWAMessageFromContent, chatModificationToAppPatch, LabelAssociationType, DisconnectReason, delay, Browsers,
  fetchLatestBaileysVersion, useMultiFileAuthState, makeCacheableSignalKeyStore,
  downloadContentFromMessage, BufferJSON, downloadMediaMessage, getAggregateVotesInPollMessage,
  getKeyAuthor, proto, WAMessageStubType, prepareWAMessageMedia, generateWAMessageContent, getUrlInfo,
  extractUrlFromText } = lib
export default lib.default
