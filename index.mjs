import lib from './index.js'
export const { ShardManager, ShardInfo, ShardError, DisconnectReason, BufferJSON } = lib
export default lib.default
