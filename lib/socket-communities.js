'use strict'
// Baileys 6.7.21's community members on `sock`. A community is a group (its parent group), so
// most `community*` calls are the group call of the same name: the same request, the same
// result, with errors naming the community call. Creating, reading, listing and leaving
// communities, and their join approval, differ (src/community_ops.rs).
const { callNative: call } = require('./errors')

/** @this {import('./socket').ShardSocket} */
const communityCalls = {
  /**
   * @private Runs the group call `groupCall` for the community call `name`: an error names `name`.
   * @param {string} groupCall
   * @param {string} name
   * @param {...unknown} args
   */
  async _asCommunity(groupCall, name, ...args) {
    try {
      return await this[groupCall](...args)
    } catch (err) {
      if (typeof err?.message === 'string' && err.message.startsWith(groupCall)) err.message = name + err.message.slice(groupCall.length)
      throw err
    }
  },

  /**
   * Creates a community with us as its super-admin, like Baileys' `sock.communityCreate`: joining
   * needs an admin's approval, members may create groups in it, and the server adds its
   * announcements group and a general chat. Resolves to the community's `GroupMetadata`
   * (`isCommunity: true`); every member gets `groups.upsert` for it and its groups.
   * @param {string} subject
   * @param {string} [body] the description
   * @returns {Promise<import('..').GroupMetadata>}
   */
  communityCreate(subject, body) {
    return call(() => this._shard.communityCreate(subject ?? null, body ?? null))
  },

  /**
   * The community's metadata, fresh from the server, like Baileys' `sock.communityMetadata`.
   * @param {string} jid the community (`'<id>@g.us'`)
   * @returns {Promise<import('..').CommunityMetadata>}
   */
  communityMetadata(jid) {
    return call(() => this._shard.communityMetadata(jid ?? null))
  },

  /**
   * Every community we are in, `{ [jid]: CommunityMetadata }`, like Baileys'
   * `sock.communityFetchAllParticipating`; also emitted as `groups.update`, as Baileys does.
   * @returns {Promise<{ [jid: string]: import('..').CommunityMetadata }>}
   */
  communityFetchAllParticipating() {
    return call(() => this._shard.communityFetchAllParticipating())
  },

  /**
   * The metadata of the community an invite code leads to, without joining, like Baileys'
   * `sock.communityGetInviteInfo`.
   * @param {string} code
   * @returns {Promise<import('..').CommunityMetadata>}
   */
  communityGetInviteInfo(code) {
    return call(() => this._shard.communityGetInviteInfo(code ?? null))
  },

  /**
   * Leaves the community and every group of it we are in, like Baileys' `sock.communityLeave`.
   * @param {string} id the community's jid (or its bare id)
   * @returns {Promise<void>}
   */
  communityLeave(id) {
    return call(() => this._shard.communityLeave(id ?? null))
  },

  /**
   * Whether joining the community needs an admin's approval, like Baileys'
   * `sock.communityJoinApprovalMode`. Members get `groups.update` `{ joinApprovalMode }`.
   * @param {string} jid
   * @param {'on' | 'off'} mode
   * @returns {Promise<void>}
   */
  communityJoinApprovalMode(jid, mode) {
    return call(() => this._shard.communityJoinApprovalMode(jid ?? null, mode ?? null))
  },

  /**
   * Renames the community, like Baileys' `sock.communityUpdateSubject`.
   * @param {string} jid
   * @param {string} subject
   * @returns {Promise<void>}
   */
  communityUpdateSubject(jid, subject) {
    return this._asCommunity('groupUpdateSubject', 'communityUpdateSubject', jid, subject)
  },

  /**
   * Sets the community's description, or deletes it when `description` is empty or missing,
   * like Baileys' `sock.communityUpdateDescription`.
   * @param {string} jid
   * @param {string} [description]
   * @returns {Promise<void>}
   */
  communityUpdateDescription(jid, description) {
    return this._asCommunity('groupUpdateDescription', 'communityUpdateDescription', jid, description)
  },

  /**
   * Adds, removes, promotes or demotes community members, like Baileys'
   * `sock.communityParticipantsUpdate`: one `{ status, jid, content }` per participant. Members
   * added to or removed from a community are added to or removed from its announcements group.
   * @param {string} jid
   * @param {string[]} participants
   * @param {'add' | 'remove' | 'promote' | 'demote'} action
   * @returns {Promise<{ status: string, jid: string, content: import('..').BinaryNode }[]>}
   */
  communityParticipantsUpdate(jid, participants, action) {
    return this._asCommunity('groupParticipantsUpdate', 'communityParticipantsUpdate', jid, participants, action)
  },

  /**
   * The pending requests to join the community, like Baileys' `sock.communityRequestParticipantsList`.
   * @param {string} jid
   * @returns {Promise<{ [attr: string]: string }[]>}
   */
  communityRequestParticipantsList(jid) {
    return this._asCommunity('groupRequestParticipantsList', 'communityRequestParticipantsList', jid)
  },

  /**
   * Approves or rejects requests to join the community, like Baileys'
   * `sock.communityRequestParticipantsUpdate`: `[{ status, jid }]`.
   * @param {string} jid
   * @param {string[]} participants
   * @param {'approve' | 'reject'} action
   * @returns {Promise<{ status: string, jid: string }[]>}
   */
  communityRequestParticipantsUpdate(jid, participants, action) {
    return this._asCommunity('groupRequestParticipantsUpdate', 'communityRequestParticipantsUpdate', jid, participants, action)
  },

  /**
   * The community's invite code, like Baileys' `sock.communityInviteCode`. Admins only.
   * @param {string} jid
   * @returns {Promise<string | undefined>}
   */
  communityInviteCode(jid) {
    return this._asCommunity('groupInviteCode', 'communityInviteCode', jid)
  },

  /**
   * Revokes the community's invite code and resolves to the new one, like Baileys'
   * `sock.communityRevokeInvite`.
   * @param {string} jid
   * @returns {Promise<string | undefined>}
   */
  communityRevokeInvite(jid) {
    return this._asCommunity('groupRevokeInvite', 'communityRevokeInvite', jid)
  },

  /**
   * Joins a community by invite code (and so its announcements group), like Baileys'
   * `sock.communityAcceptInvite`. Resolves to the community's jid, or undefined when joining
   * waits for an admin's approval.
   * @param {string} code
   * @returns {Promise<string | undefined>}
   */
  communityAcceptInvite(code) {
    return this._asCommunity('groupAcceptInvite', 'communityAcceptInvite', code)
  },

  /**
   * Withdraws the invitation sent to `invitedJid`, like Baileys' `sock.communityRevokeInviteV4`.
   * @param {string} communityJid
   * @param {string} invitedJid
   * @returns {Promise<boolean>}
   */
  communityRevokeInviteV4(communityJid, invitedJid) {
    return this._asCommunity('groupRevokeInviteV4', 'communityRevokeInviteV4', communityJid, invitedJid)
  },

  /**
   * Joins a community with an invitation message, like Baileys' `sock.communityAcceptInviteV4`
   * (the same events as `groupAcceptInviteV4`). Resolves to the community's jid.
   * @param {string | import('..').WAMessageKey} key
   * @param {{ groupJid: string, inviteCode: string, inviteExpiration?: number, [field: string]: unknown }} inviteMessage
   * @returns {Promise<string>}
   */
  communityAcceptInviteV4(key, inviteMessage) {
    return this._asCommunity('groupAcceptInviteV4', 'communityAcceptInviteV4', key, inviteMessage)
  },

  /**
   * Turns disappearing messages on (seconds) or off (0), like Baileys' `sock.communityToggleEphemeral`.
   * @param {string} jid
   * @param {number} ephemeralExpiration
   * @returns {Promise<void>}
   */
  communityToggleEphemeral(jid, ephemeralExpiration) {
    return this._asCommunity('groupToggleEphemeral', 'communityToggleEphemeral', jid, ephemeralExpiration)
  },

  /**
   * Like Baileys' `sock.communitySettingUpdate`: `'announcement'` / `'not_announcement'`,
   * `'locked'` / `'unlocked'`.
   * @param {string} jid
   * @param {'announcement' | 'not_announcement' | 'locked' | 'unlocked'} setting
   * @returns {Promise<void>}
   */
  communitySettingUpdate(jid, setting) {
    return this._asCommunity('groupSettingUpdate', 'communitySettingUpdate', jid, setting)
  },

  /**
   * Who may add members (`'admin_add'` or `'all_member_add'`), like Baileys'
   * `sock.communityMemberAddMode`.
   * @param {string} jid
   * @param {'admin_add' | 'all_member_add'} mode
   * @returns {Promise<void>}
   */
  communityMemberAddMode(jid, mode) {
    return this._asCommunity('groupMemberAddMode', 'communityMemberAddMode', jid, mode)
  },
}

module.exports = { communityCalls }
