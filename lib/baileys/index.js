'use strict'
// Baileys 6.7.21's utilities that bots import next to the socket, with Baileys' names,
// arguments and results (checked against Baileys in __test__/baileys-utils.test.js).
module.exports = {
  ...require('./jid'),
  ...require('./message-content'),
  ...require('./compat'),
  ...require('./polls'),
  BufferJSON: require('../buffer-json').BufferJSON,
  downloadMediaMessage: require('../media').downloadMediaMessage,
}
