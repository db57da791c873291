// Compiled (not run) by __test__/typings.test.js: the public typings must accept real usage
// and reject misuse. Lines marked @ts-expect-error must fail to type-check.
import { ShardManager, ShardError, ShardInfo, DisconnectReason, downloadMediaMessage, jidNormalizedUser, jidDecode, isJidGroup, getContentType, generateWAMessageFromContent, delay, Browsers, downloadContentFromMessage, fetchLatestBaileysVersion, getAggregateVotesInPollMessage, getKeyAuthor, prepareWAMessageMedia, generateWAMessageContent, type WAMessage, type LoginUpdate, type GroupMetadata, type CommunityMetadata, type NewsletterMetadata, type Product, type ShardErrorCode, type StatusResult } from 'baileys-shard'
import { Readable } from 'node:stream'
import { MockServer, ShardManager as TestingShardManager, jidNormalizedUser as testingJid } from 'baileys-shard/testing'
import testing from 'baileys-shard/testing'

async function main(): Promise<void> {
  const mock = await MockServer.start({ port: 0 })
  // baileys-shard/testing has the whole API, on the build that trusts the mock.
  const trusting: boolean = new TestingShardManager({ socketConfig: { waWebSocketUrl: mock.url } }).skipsCertificateChecks
  const sameHelpers: string = testingJid('1@s.whatsapp.net') + String(testing.MockServer === MockServer) + String(trusting)
  console.log(sameHelpers)
  const ringing: { id: string; devices: number } = await mock.ringCall('15550001111', '15550002222@s.whatsapp.net', { video: true, timeoutMs: 30000 })
  await mock.endCall(ringing.id)
  const callStatus: 'ringing' | 'rejected' | 'accepted' | 'timeout' | 'ended' = (await mock.callLog(ringing.id)).status
  console.log(callStatus)
  // @ts-expect-error timeoutMs is a number of milliseconds
  await mock.ringCall('15550001111', '15550002222', { timeoutMs: '30s' })
  const store = new Map<string, WAMessage>()
  const manager = new ShardManager({ session: './sessions', socketConfig: { waWebSocketUrl: mock.url, version: [2, 3000, 1], getMessage: async (key) => store.get(key.id ?? '')?.message ?? undefined, shouldIgnoreJid: (jid) => isJidGroup(jid), emitOwnEvents: false } })

  manager.on('login.update', (u: LoginUpdate) => {
    if (u.state === 'connecting' && u.type === 'qr') void mock.scanQr(u.code)
    if (u.state === 'disconnected' && u.statusCode === DisconnectReason.restartRequired) return
  })
  manager.on('shard.error', ({ shardId, error }) => {
    const code: string = error.code
    console.log(shardId, code, error instanceof ShardError)
  })
  manager.on('messages.upsert', async ({ shardId, sock, data }) => {
    for (const msg of data.messages) {
      const text: string | undefined = msg.message?.extendedTextMessage?.text ?? msg.message?.conversation
      if (!msg.key.fromMe && text && msg.key.remoteJid) {
        const sent: WAMessage | undefined = await sock.sendMessage(msg.key.remoteJid, { text: `${shardId}: ${text}` }, { quoted: msg })
        if (sent) await sock.sendMessage(msg.key.remoteJid, { react: { text: '👍', key: sent.key } })
      }
    }
  })
  manager.on('messages.update', ({ data }) => data.forEach((u) => console.log(u.key.id, u.update.status)))
  manager.on('presence.update', ({ data }) => console.log(data.id, Object.values(data.presences)[0]?.lastKnownPresence))

  const loaded: string[] = await manager.loadAllShards({ staggerMs: 50 })
  console.log(loaded.length)
  const { id, sock } = await manager.createShard({ id: 'bot-1', phoneNumber: '6281234567890' })
  await manager.recreateShard({ id, clearSession: false })
  await manager.connect(id)
  await manager.cleanupCorruptSessions()
  sock.ev.on('connection.update', (u) => console.log(u.connection, u.lastDisconnect?.error.output.statusCode))
  await sock.sendMessage('1@s.whatsapp.net', { poll: { name: 'Q', values: ['a', 'b'], selectableCount: 1 } })
  await sock.sendMessage('1@s.whatsapp.net', { location: { degreesLatitude: 1, degreesLongitude: 2 } })
  await sock.sendMessage('1@s.whatsapp.net', { text: 'ad', contextInfo: { externalAdReply: { title: 'Ad' }, isForwarded: true } })
  await sock.sendMessage('1@s.whatsapp.net', { image: Buffer.from('x'), viewOnce: true }, { ephemeralExpiration: 86400 })
  await sock.sendMessage('1@s.whatsapp.net', { video: { url: './note.mp4' }, ptv: true })
  await sock.sendMessage('1@s.whatsapp.net', { pin: { remoteJid: '1@s.whatsapp.net', id: 'X', fromMe: true }, type: 1, time: 604800 })
  await sock.sendMessage('1@s.whatsapp.net', { groupInvite: { inviteCode: 'abc', jid: '1-2@g.us', subject: 'Team', text: 'join' } })
  await sock.sendMessage('1-2@g.us', { disappearingMessagesInChat: true })
  await sock.sendMessage('1@s.whatsapp.net', { buttonReply: { displayText: 'Yes', id: 'yes' }, type: 'plain' })
  await sock.sendMessage('1@s.whatsapp.net', { sharePhoneNumber: true })
  manager.on('call', async ({ sock: callee, data }) => {
    for (const call of data) if (call.status === 'offer' && !call.isGroup) await callee.rejectCall(call.id, call.from)
  })
  sock.ev.on('messages.update', (updates) => {
    for (const { update } of updates) {
      if (update.pollUpdates) console.log(getAggregateVotesInPollMessage({ message: photo.message, pollUpdates: update.pollUpdates }, sock.user?.id), getKeyAuthor(photo.key, sock.user?.id))
    }
  })
  await sock.sendMessage('status@broadcast', { text: 'hi', linkPreview: null }, { backgroundColor: '#1E6E4F', font: 1, timestamp: new Date() })
  const info: ShardInfo | null = manager.getShardInfo(id)
  console.log(info?.status, info?.updatedAt.getTime(), sock.user?.id)
  const stopped: boolean = await manager.stopShard(id)
  console.log(stopped, (await manager.getSessionInfo(id)).registered)

  await sock.readMessages([{ remoteJid: '1@s.whatsapp.net', id: 'ABC', fromMe: false }])
  await sock.sendPresenceUpdate('recording', '1@s.whatsapp.net')
  await sock.presenceSubscribe('1@s.whatsapp.net')
  const [found] = await sock.onWhatsApp('+15551234567', '15557654321@s.whatsapp.net')
  console.log(found?.jid, found?.exists, found?.lid)
  const group: GroupMetadata = await sock.groupCreate('Team', ['15551234567@s.whatsapp.net'])
  const admins: string[] = group.participants.filter((p) => p.admin !== null).map((p) => p.id)
  console.log(admins, group.announce, group.restrict, group.desc?.length, group.ephemeralDuration ?? 0)
  const results = await sock.groupParticipantsUpdate(group.id, ['15557654321@s.whatsapp.net'], 'add')
  console.log(results.map((r) => `${r.jid}: ${r.status} ${r.content.attrs.jid}`))
  await sock.groupUpdateSubject(group.id, 'Renamed')
  await sock.groupUpdateDescription(group.id, 'About us')
  await sock.groupUpdateDescription(group.id)
  await sock.groupSettingUpdate(group.id, 'announcement')
  await sock.groupToggleEphemeral(group.id, 86400)
  const code: string = await sock.groupInviteCode(group.id)
  const fresh: string = await sock.groupRevokeInvite(group.id)
  const joined: string | undefined = await sock.groupAcceptInvite(fresh)
  const preview: GroupMetadata = await sock.groupGetInviteInfo(code)
  const all: { [jid: string]: GroupMetadata } = await sock.groupFetchAllParticipating()
  console.log(joined, preview.size, Object.keys(all), (await sock.groupMetadata(group.id)).subject)
  await sock.groupLeave(group.id)
  const community: GroupMetadata = await sock.communityCreate('Neighbours', 'street party')
  const about: CommunityMetadata = await sock.communityMetadata(community.id)
  console.log(about.isCommunity, about.participants.map((p) => p.admin), about.desc ?? '')
  const communities: { [jid: string]: CommunityMetadata } = await sock.communityFetchAllParticipating()
  const communityCode: string = await sock.communityInviteCode(community.id)
  console.log(Object.keys(communities), (await sock.communityGetInviteInfo(communityCode)).size)
  const joinedCommunity: string | undefined = await sock.communityAcceptInvite(communityCode)
  console.log(joinedCommunity, (await sock.communityParticipantsUpdate(community.id, ['15557654321@s.whatsapp.net'], 'add'))[0].status)
  await sock.communityUpdateSubject(community.id, 'Elm St')
  await sock.communityUpdateDescription(community.id)
  await sock.communitySettingUpdate(community.id, 'locked')
  await sock.communityToggleEphemeral(community.id, 0)
  await sock.communityMemberAddMode(community.id, 'all_member_add')
  await sock.communityJoinApprovalMode(community.id, 'off')
  const requests = await sock.communityRequestParticipantsList(community.id)
  await sock.communityRequestParticipantsUpdate(community.id, requests.map((r) => r.jid), 'approve')
  console.log(await sock.communityRevokeInvite(community.id), await sock.communityRevokeInviteV4(community.id, '15557654321@s.whatsapp.net'))
  await sock.communityAcceptInviteV4('15557654321@s.whatsapp.net', { groupJid: community.id, inviteCode: 'abc', inviteExpiration: 0 })
  await sock.communityLeave(community.id)
  const news: NewsletterMetadata = await sock.newsletterCreate('Daily news', 'every morning')
  const thread = await sock.newsletterMetadata('jid', news.id)
  console.log(news.invite, news.subscribers, thread?.thread_metadata.name.text, thread?.viewer_metadata.role === 'OWNER')
  await sock.newsletterFollow(news.id)
  const { subscribers }: { subscribers: number } = await sock.newsletterSubscribers(news.id)
  const channelAdmins: number = await sock.newsletterAdminCount(news.id)
  console.log(subscribers, channelAdmins)
  await sock.newsletterUpdateName(news.id, 'News')
  await sock.newsletterUpdatePicture(news.id, { url: './logo.jpg' })
  await sock.newsletterReactMessage(news.id, '100', '👍')
  const posts = await sock.newsletterFetchMessages(news.id, 10)
  console.log(posts.tag, (await sock.subscribeNewsletterUpdates(news.id))?.duration)
  await sock.newsletterMute(news.id)
  await sock.newsletterChangeOwner(news.id, '15557654321@s.whatsapp.net')
  await sock.newsletterDelete(news.id)
  const product: Product = await sock.productCreate({ name: 'Mug', price: 12000, currency: 'EUR', images: [Buffer.from('jpeg'), { url: './mug.jpg' }] })
  const page = await sock.getCatalog({ jid: '15551234567@s.whatsapp.net', limit: 5 })
  console.log(page.products.map((p) => p.price), page.nextPageCursor ?? 'last page', product.imageUrls.original)
  await sock.productUpdate(product.id, { price: 15000 })
  const { collections } = await sock.getCollections()
  const order = await sock.getOrderDetails('9001', 'dG9rZW4=')
  console.log(collections.length, order.price.total, (await sock.productDelete([product.id])).deleted)
  manager.on('group-participants.update', ({ data }) => {
    const who: string[] = data.participants
    if (data.action === 'add') console.log(data.id, data.author, who)
  })
  manager.on('groups.update', ({ data }) => data.forEach((g) => console.log(g.id, g.subject, g.announce, g.author)))
  manager.on('groups.upsert', ({ data }) => data.forEach((g) => console.log(g.id, g.subject, g.participants.length)))
  sock.ev.on('group-participants.update', (u) => console.log(u.participants.join(',')))
  manager.on('messages.upsert', ({ data }) => data.messages.forEach((m) => console.log(m.key.participant, m.messageStubType)))
  // Media: Buffer, { url } (string or URL) and { stream } sources, with Baileys' extra fields.
  const jid = '1@s.whatsapp.net'
  // Baileys types the result `WAMessage | undefined` (undefined for a group timer change).
  const photo: WAMessage = (await sock.sendMessage(jid, { image: Buffer.from('x'), caption: 'hi', mentions: [jid] }))!
  await sock.sendMessage(jid, { video: { url: new URL('https://example.com/v.mp4') }, gifPlayback: true, caption: 'gif' })
  await sock.sendMessage(jid, { audio: { stream: Readable.from([Buffer.from('a')]) }, ptt: true, seconds: 3, mimetype: 'audio/ogg; codecs=opus' })
  await sock.sendMessage(jid, { document: { url: './report.pdf' }, mimetype: 'application/pdf', fileName: 'report.pdf' })
  await sock.sendMessage(jid, { sticker: Buffer.from('s') })
  const bytes: Buffer = await downloadMediaMessage(photo, 'buffer', { mediaHost: '127.0.0.1:1234' })
  const stream: Readable = await downloadMediaMessage(photo, 'stream', {}, { logger: console })
  console.log(bytes.length, stream.readable)
  const mediaCodes: ShardErrorCode[] = ['MEDIA_INVALID', 'MEDIA_FAILED']
  console.log(mediaCodes)
  // Profile and blocklist.
  const url: string | undefined = await sock.profilePictureUrl(jid, 'image')
  await sock.updateProfilePicture(jid, Buffer.from('img'))
  await sock.updateProfilePicture(jid, { url: './me.jpg' })
  await sock.updateProfileStatus('busy')
  await sock.updateProfileName('Bot')
  const statuses: StatusResult[] = await sock.fetchStatus(jid, '2@s.whatsapp.net')
  console.log(url, statuses.map((s) => `${s.id} ${s.status?.status ?? ''} ${s.status?.setAt.getTime()}`))
  await sock.updateBlockStatus(jid, 'block')
  const blocked: string[] = await sock.fetchBlocklist()
  console.log(blocked)
  sock.ev.on('blocklist.update', (u) => console.log(u.type === 'add' ? 'blocked' : 'unblocked', u.blocklist))
  manager.on('blocklist.set', ({ data }) => console.log(data.blocklist.length))
  manager.on('contacts.update', ({ data }) => data.forEach((c) => console.log(c.id, c.imgUrl)))
  // Baileys' socket: ev.process, authState, ws, logger, raw stanzas, relayMessage, privacy.
  const unsubscribe: () => void = sock.ev.process(async (events) => {
    if (events['connection.update']?.receivedPendingNotifications) console.log('synced')
    for (const m of events['messages.upsert']?.messages ?? []) console.log(m.key.id)
  })
  unsubscribe()
  sock.ev.buffer()
  const flushed: boolean = sock.ev.flush()
  const buffered = sock.ev.createBufferedFunction(async (n: number) => n * 2)
  console.log(flushed, sock.ev.isBuffering(), await buffered(2))
  console.log(sock.authState.creds?.me?.id, Object.keys(await sock.authState.keys.get('pre-key', ['1'])))
  if (sock.ws.isOpen && sock.ws.readyState === 1) await sock.ws.close()
  sock.logger.info({ shardId: sock.shardId }, 'hello')
  await sock.waitForConnectionUpdate((u) => u.connection === 'open', 30000)
  await sock.waitForSocketOpen()
  sock.onUnexpectedError(new Error('x'), 'handler')
  const doubled: number = await sock.processingMutex.mutex(async () => 2)
  const reply = await sock.query({ tag: 'iq', attrs: { to: 's.whatsapp.net', type: 'get', xmlns: 'privacy' }, content: [{ tag: 'privacy', attrs: {} }] })
  console.log(doubled, reply.attrs.type, sock.generateMessageTag())
  await sock.sendNode({ tag: 'presence', attrs: { type: 'available' } })
  await sock.sendRawMessage(new Uint8Array([0]))
  const relayed: string = await sock.relayMessage(jid, { conversation: 'hi' }, { messageId: 'ABC', additionalNodes: [{ tag: 'biz', attrs: {} }] })
  const uploaded = await sock.waUploadToServer('/tmp/enc', { mediaType: 'image', fileEncSha256B64: 'x' })
  const pairing: string = await sock.requestPairingCode('15551234567')
  const media = await sock.refreshMediaConn(true)
  console.log(relayed, uploaded.directPath, pairing, media.hosts[0]?.hostname, media.fetchDate.getTime())
  const privacy: { [category: string]: string } = await sock.fetchPrivacySettings(true)
  await sock.updateLastSeenPrivacy('contacts')
  await sock.updateOnlinePrivacy('match_last_seen')
  await sock.updateCallPrivacy('known')
  await sock.updateDefaultDisappearingMode(86400)
  await sock.removeProfilePicture(jid)
  console.log(privacy.last)
  // Baileys' utilities from this package.
  const user: string = jidNormalizedUser(sock.user?.id)
  console.log(user, jidDecode(user)?.device, isJidGroup(user), getContentType(photo.message))
  const built = generateWAMessageFromContent(jid, { conversation: 'hi' }, { userJid: user, quoted: photo })
  await sock.relayMessage(jid, built.message, { messageId: built.key.id })
  const prepared = await prepareWAMessageMedia({ image: { url: './cat.jpg' }, caption: 'cat' }, { upload: sock.waUploadToServer })
  const generated = await generateWAMessageContent({ text: 'hi', mentions: [jid] })
  console.log(prepared.imageMessage?.directPath, generated.extendedTextMessage?.text)
  // @ts-expect-error: media needs an upload function
  await prepareWAMessageMedia({ image: Buffer.alloc(1) }, {})
  await delay(10)
  const { version } = await fetchLatestBaileysVersion()
  const stream2 = await downloadContentFromMessage({ mediaKey: Buffer.alloc(32), directPath: '/x' }, 'image')
  console.log(version[2], Browsers.ubuntu('Chrome')[0], stream2.readable)
  // @ts-expect-error: media types are a closed set
  await downloadContentFromMessage({}, 'photo')
  const quiet = new ShardManager({ socketConfig: { markOnlineOnConnect: false, logger: sock.logger, browser: Browsers.macOS('Desktop'), proxy: 'socks5://127.0.0.1:1080' } })
  await quiet.createShard({ id: 'proxied', socket: { agent: { proxy: new URL('http://127.0.0.1:3128') }, fetchAgent: 'socks5h://127.0.0.1:1080' } })
  await quiet.close()
  // @ts-expect-error: online privacy takes 'all' or 'match_last_seen'
  await sock.updateOnlinePrivacy('contacts')
  // @ts-expect-error: keys.get takes a known key type
  await sock.authState.keys.get('cookies', ['1'])
  // @ts-expect-error: a node needs a tag
  await sock.sendNode({ attrs: {} })
  // @ts-expect-error: a document needs its mimetype
  await sock.sendMessage(jid, { document: Buffer.from('d') })
  // @ts-expect-error: a media source is a Buffer, { url } or { stream }
  await sock.sendMessage(jid, { image: 'photo.jpg' })
  // @ts-expect-error: the download type is 'buffer' or 'stream'
  await downloadMediaMessage(photo, 'file')
  // @ts-expect-error: a stream download is not a Buffer
  const wrong: Buffer = await downloadMediaMessage(photo, 'stream')
  console.log(wrong)
  // @ts-expect-error: block actions are a closed set
  await sock.updateBlockStatus(jid, 'mute')
  // @ts-expect-error: picture types are a closed set
  await sock.profilePictureUrl(jid, 'full')
  // @ts-expect-error: participant actions are a closed set
  await sock.groupParticipantsUpdate(group.id, ['1@s.whatsapp.net'], 'kick')
  // @ts-expect-error: settings are a closed set
  await sock.groupSettingUpdate(group.id, 'open')
  // @ts-expect-error: participants are an array
  await sock.groupCreate('Team', '1@s.whatsapp.net')
  // @ts-expect-error: presence types are a closed set
  await sock.sendPresenceUpdate('typing', '1@s.whatsapp.net')
  // @ts-expect-error: readMessages takes an array of keys
  await sock.readMessages({ remoteJid: '1@s.whatsapp.net', id: 'ABC' })
  // @ts-expect-error: content needs a known kind
  await sock.sendMessage('1@s.whatsapp.net', { txt: 'typo' })
  // @ts-expect-error: stopShard takes an id
  await manager.stopShard()
  // @ts-expect-error: status is a closed set
  const bad: ShardInfo['status'] = 'online'
  console.log(bad)
  await manager.close()
  await mock.close()
}

void main()
