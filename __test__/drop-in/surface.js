'use strict'
// Where this package stands on the rest of Baileys 6.7.21's surface a bot uses: its events,
// sendMessage kinds and options, socket options and utilities. The data of the README's
// drop-in counts (`node scripts/drop-in-table.js --write`); surface.test.js checks each list
// against Baileys' own types and our typings, README and exports, so a count cannot drift.

/** `works`: as in Baileys, tested against the mock; `partly`: emitted for some causes only;
 * `not yet`: not emitted or honoured (the issue that brings it in brackets). */
const EVENTS = {
  works: ['connection.update', 'creds.update', 'messages.upsert', 'messages.update', 'messages.reaction', 'message-receipt.update',
    'presence.update', 'groups.upsert', 'groups.update', 'group-participants.update', 'blocklist.set', 'blocklist.update', 'call',
    'messaging-history.set', 'contacts.upsert', 'chats.delete', 'messages.delete', 'labels.edit', 'labels.association', 'group.join-request'],
  // chats.upsert only for groups we create or join; chats.update for groups and app state;
  // contacts.update for pictures and push names (issue #16).
  partly: ['chats.upsert', 'chats.update', 'contacts.update'],
  'not yet': ['chats.phoneNumberShare', 'messages.media-update',
    'newsletter.reaction', 'newsletter.view', 'newsletter-participants.update', 'newsletter-settings.update'],
}

/** `sendMessage` content kinds (and `viewOnce`, `linkPreview`, `ptv`, which modify one). */
const CONTENT_KINDS = {
  works: ['text', 'image', 'video', 'ptv', 'audio', 'document', 'sticker', 'react', 'delete', 'edit', 'location', 'contacts', 'poll', 'forward',
    'pin', 'groupInvite', 'buttonReply', 'listReply', 'disappearingMessagesInChat', 'sharePhoneNumber', 'requestPhoneNumber', 'viewOnce', 'contextInfo',
    'linkPreview'],
  partly: [],
  'not yet': ['product'],
}

/** `sendMessage` options (Baileys' `MiscMessageGenerationOptions`). */
const SEND_OPTIONS = {
  // broadcast: declared by Baileys 6.7.21 and read by nothing, here as there.
  works: ['messageId', 'quoted', 'timestamp', 'ephemeralExpiration', 'backgroundColor', 'font', 'statusJidList', 'broadcast'],
  // The engine keeps its own group metadata cache; media uploads have no separate timeout.
  'engine-owned': ['useCachedGroupMetadata', 'mediaUploadTimeoutMs'],
}

/** Baileys' `SocketConfig` options, as the README's socket options table describes them. */
const SOCKET_OPTIONS = {
  works: ['waWebSocketUrl', 'version', 'browser', 'syncFullHistory', 'shouldSyncHistoryMessage', 'markOnlineOnConnect', 'connectTimeoutMs', 'logger', 'emitOwnEvents',
    'shouldIgnoreJid', 'getMessage', 'patchMessageBeforeSending', 'agent', 'fetchAgent', 'generateHighQualityLinkPreview',
    'linkPreviewImageThumbnailWidth'],
  'engine-owned': ['auth', 'makeSignalRepository', 'transactionOpts', 'msgRetryCounterCache', 'userDevicesCache', 'callOfferCache',
    'placeholderResendCache', 'mediaCache', 'cachedGroupMetadata', 'retryRequestDelayMs', 'maxMsgRetryCount', 'fireInitQueries',
    'appStateMacVerification', 'customUploadHosts', 'options', 'printQRInTerminal', 'mobile', 'countryCode'],
  'not yet': ['keepAliveIntervalMs', 'qrTimeout', 'defaultQueryTimeoutMs'],
}

/** The utilities bots import from `baileys` that issue #13 asks for; which are exported is read
 * from the package itself. */
const UTILITIES = ['jidNormalizedUser', 'jidDecode', 'jidEncode', 'areJidsSameUser', 'isJidGroup', 'isJidBroadcast', 'isJidUser', 'isJidNewsletter',
  'isLidUser', 'getContentType', 'normalizeMessageContent', 'extractMessageContent', 'getDevice', 'downloadContentFromMessage',
  'downloadMediaMessage', 'generateWAMessageFromContent', 'generateWAMessageContent', 'prepareWAMessageMedia',
  'getAggregateVotesInPollMessage', 'delay', 'Browsers', 'DisconnectReason', 'WAMessageStubType', 'BufferJSON', 'proto',
  'fetchLatestBaileysVersion', 'makeCacheableSignalKeyStore', 'useMultiFileAuthState']

const count = (lists, status) => (lists[status] ?? []).length
const total = (lists) => Object.values(lists).flat().length

/** The README's count table. `exported`: the package's export names. */
function surfaceTable(exported) {
  const have = UTILITIES.filter((u) => exported.includes(u))
  const missing = UTILITIES.filter((u) => !have.includes(u))
  const row = (name, lists) => `| ${name} | ${total(lists)} | ${count(lists, 'works')} | ${count(lists, 'partly')} | ${count(lists, 'engine-owned')} | ${count(lists, 'not yet')} |`
  return [
    '| Baileys 6.7.21 surface | all | works | partly | owned by the engine (ignored) | not yet |',
    '| --- | --- | --- | --- | --- | --- |',
    row('events', EVENTS),
    row('`sendMessage` content kinds', CONTENT_KINDS),
    row('`sendMessage` options', SEND_OPTIONS),
    row('socket options', SOCKET_OPTIONS),
    `| utilities bots import | ${UTILITIES.length} | ${have.length} | 0 | 0 | ${missing.length}${missing.length ? ` (${missing.map((u) => `\`${u}\``).join(', ')})` : ''} |`,
  ].join('\n')
}

module.exports = { EVENTS, CONTENT_KINDS, SEND_OPTIONS, SOCKET_OPTIONS, UTILITIES, surfaceTable }
