'use strict'
// Baileys 6.7.21's utilities that bots import next to the socket, with Baileys' names,
// arguments and results (checked against Baileys in __test__/baileys-utils.test.js).
module.exports = {
  ...require('./jid'),
  ...require('./message-content'),
  ...require('./compat'),
  ...require('./polls'),
  ...require('./generate'),
  ...require('./app-patch'),
  BufferJSON: require('../buffer-json').BufferJSON,
  downloadMediaMessage: require('../media').downloadMediaMessage,
  getUrlInfo: require('../link-preview').getUrlInfo,
  extractUrlFromText: require('../link-preview').extractUrlFromText,
}

// `proto` needs the addon's schema: built when first read, so that requiring the pure-JS
// utilities (scripts do) does not load the addon.
Object.defineProperty(module.exports, 'proto', { enumerable: true, get: () => require('./proto').proto })
// Baileys: `WAMessageStubType = proto.WebMessageInfo.StubType`.
Object.defineProperty(module.exports, 'WAMessageStubType', { enumerable: true, get: () => require('./proto').proto.WebMessageInfo.StubType })
