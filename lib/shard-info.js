'use strict'

/** Runtime information about one shard, as `getShardInfo` returns it. */
class ShardInfo {
  /**
   * @param {{ id: string, index: number, total: number, phoneNumber?: string | null, status: string, updatedAt?: number | Date }} fields
   */
  constructor({ id, index, total, phoneNumber = null, status = 'initializing', updatedAt = Date.now() }) {
    this.id = id
    this.index = index
    this.total = total
    this.phoneNumber = phoneNumber ?? null
    this.status = status
    this.updatedAt = updatedAt instanceof Date ? updatedAt : new Date(updatedAt)
  }

  /** Copies `fields` onto this object and stamps `updatedAt`. */
  update(fields) {
    Object.assign(this, fields)
    this.updatedAt = new Date()
    return this
  }
}

module.exports = { ShardInfo }
