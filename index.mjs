import lib from './index.js'
export const { ShardManager, ShardInfo, ShardError, DisconnectReason, BufferJSON, downloadMediaMessage } = lib
export default lib.default
