/// <reference types="node" />
import { EventEmitter } from 'node:events'
import type { Readable } from 'node:stream'

/** Baileys' socket options this package honours; other keys are accepted and ignored. */
export interface SocketConfig {
  /** Server URL (default `wss://web.whatsapp.com/ws/chat`). */
  waWebSocketUrl?: string
  /** WhatsApp Web version `[2, 3000, n]` announced at login. */
  version?: [number, number, number]
  /** `[os, browser, osVersion]`, shown in the phone's linked devices. */
  browser?: [string, string, string]
  qrTimeout?: number
  /** Gives up a connection attempt (TCP, TLS, WebSocket upgrade) after this long (default 20000). */
  connectTimeoutMs?: number
  keepAliveIntervalMs?: number
  /** false: the account is announced `unavailable` on every connect, so the phone keeps its notifications (default true). */
  markOnlineOnConnect?: boolean
  /**
   * true: the device asks the phone for its full history at pairing, and every history chunk is
   * emitted as `messaging-history.set` (default false: as in Baileys 6.7.21, no history is
   * emitted unless this or `shouldSyncHistoryMessage` is set).
   */
  syncFullHistory?: boolean
  /** Chooses which history chunks are emitted as `messaging-history.set` (return true to keep one). */
  shouldSyncHistoryMessage?: (notification: { syncType: number; progress: number | null; peerDataRequestSessionId: string | null }) => boolean
  /** A pino-compatible logger; each shard logs its lifecycle to `logger.child({ shardId })` (`sock.logger`). */
  logger?: ShardLogger
  /**
   * Finds a message the bot stored (e.g. from `messages.upsert`). Used to decrypt poll votes:
   * a vote's `messages.update` (`update.pollUpdates`) is emitted once this returns its poll.
   */
  getMessage?: (key: WAMessageKey) => Promise<WAMessageContent | undefined>
  /** true for a chat whose messages, receipts, notifications and presences are not emitted (e.g. `isJidBroadcast`). */
  shouldIgnoreJid?: (jid: string) => boolean | undefined
  /** false: `sendMessage` does not echo what it sent as `messages.upsert` (default true). */
  emitOwnEvents?: boolean
  /** Changes a message right before it is encrypted (`jids`: `[chatJid]`); what it returns is sent. */
  patchMessageBeforeSending?: (message: WAMessageContent, jids: string[]) => WAMessageContent | Promise<WAMessageContent>
  /** true: a link preview's image is uploaded too, so the chat shows it large (default false). */
  generateHighQualityLinkPreview?: boolean
  /** Width of a link preview's thumbnail (default 192). */
  linkPreviewImageThumbnailWidth?: number
  /** A proxy for the chat socket and media: `socks5://user:pass@host:1080`, `socks5h://…` or `http://…` (CONNECT). */
  proxy?: string | URL
  /** The chat socket's proxy, as a proxy agent (`new SocksProxyAgent(url)`, `new HttpsProxyAgent(url)`) or its URL. */
  agent?: ProxyAgentLike | string | URL
  /** The proxy of media uploads, as a proxy agent or its URL. */
  fetchAgent?: ProxyAgentLike | string | URL
  [option: string]: unknown
}

/** What this package reads from a proxy agent: the proxy it stands for. */
export interface ProxyAgentLike {
  proxy?: URL | string | { host: string; port: number; type?: number; userId?: string; password?: string } | { protocol: string; hostname?: string; host?: string; port?: string | number; auth?: string }
  shouldLookup?: boolean
}

export interface ShardConfig {
  /** Folder holding one session folder per shard (default `./sessions`). */
  session?: string
  /** Options for every shard's socket (Baileys names). */
  socketConfig?: SocketConfig
  /**
   * How many shards may be logging in (Noise handshake to login) at the same moment
   * (default 16). Keeps a fleet that reconnects after a server restart from stampeding.
   */
  maxConcurrentHandshakes?: number
  /**
   * How many received messages may wait in handlers at once, across all shards (default 1000).
   * A received message is acknowledged to WhatsApp only once every handler of its
   * `messages.upsert` has finished (async handlers: settled); beyond this limit the next
   * messages wait unacknowledged, so a slow handler slows intake instead of growing memory.
   */
  maxPendingMessages?: number
  /**
   * How long a received message waits for its handlers before it is acknowledged anyway
   * (default 10000 ms; 0: not at all, as Baileys). A handler may wait for the chat's next
   * message, which only comes once the previous one is acknowledged or this time has passed.
   */
  handlerTimeoutMs?: number
  /** Backoff after a dropped connection (428, 408, 500, 503, network errors). */
  reconnect?: ReconnectOptions
}

export interface ReconnectOptions {
  /** First retry after this long (default 1000 ms); doubles per failed attempt. */
  initialDelayMs?: number
  /** Cap of the delay (default 120000 ms). */
  maxDelayMs?: number
  /** A connection that stayed up this long resets the backoff (default 30000 ms). */
  stableAfterMs?: number
  /** ± this fraction of random jitter on each delay (default 0.2). */
  jitter?: number
}

export interface ShardOptions {
  /** Shard id, a plain folder name (default `shard-N`). */
  id?: string
  /**
   * Log in with a pairing code instead of a QR: the number (country code first, e.g.
   * `'15551234567'`; `+`, spaces and dashes are dropped) of the phone that will link this shard.
   * While the session is not paired, each connection asks for a code as soon as the server
   * accepts the request and reports it as `login.update` `{ type: 'pairing', code }`; an
   * expired code is replaced by a new one. A paired session never asks. Not 7–15 digits →
   * `ShardError` `INVALID_ARGUMENT`, before anything is written; a code that cannot be
   * obtained → `shard.error` `PAIRING_FAILED`.
   */
  phoneNumber?: string
  /** Socket options for this shard, over the manager's `socketConfig`. */
  socket?: SocketConfig
}

export type ShardErrorCode =
  | 'CREATE_FAILED'
  | 'RECREATE_FAILED'
  | 'CREDS_SAVE_FAILED'
  | 'PAIRING_FAILED'
  | 'SHARD_NOT_FOUND'
  | 'CONNECT_FAILED'
  | 'STOP_FAILED'
  | 'LOAD_FAILED'
  | 'NO_SESSIONS'
  | 'NOT_CONNECTED'
  | 'INVALID_ARGUMENT'
  /** A downloaded media file failed its MAC or hash check (altered or corrupt). */
  | 'MEDIA_INVALID'
  /** Media could not be read, uploaded or downloaded. */
  | 'MEDIA_FAILED'
  /** A Baileys call or option this package cannot carry out; the message says why. */
  | 'NOT_SUPPORTED'
  /** The session folder is in use by another shard (another manager or process). */
  | 'SESSION_LOCKED'
  /** A file of the session folder could not be used and was left out; the message names it (the file is kept). */
  | 'SESSION_DAMAGED'
  /** A received message could not be decrypted; it is also reported as a CIPHERTEXT stub in `messages.upsert`, and again if the sender's resend arrives. */
  | 'DECODE_FAILED'
  /** App state could not be sent (`chatModify`, labels, contacts), or what the server sent did not verify or sync; the shard stays connected and syncs again later. */
  | 'APP_STATE_FAILED'
  /** A bug of this package: a panic caught before it could end the process (please report it). */
  | 'INTERNAL'
  | 'UNKNOWN'

export class ShardError extends Error {
  constructor(message: string, code?: ShardErrorCode)
  name: 'ShardError'
  code: ShardErrorCode
}

export type ShardStatus = 'initializing' | 'connected' | 'disconnected' | 'logged_out' | 'stopped'

export class ShardInfo {
  constructor(fields: { id: string; index: number; total: number; phoneNumber?: string | null; status: ShardStatus; updatedAt?: number | Date })
  id: string
  /** 1-based position in creation order, always current. */
  index: number
  /** Number of shards in the manager, always current. */
  total: number
  phoneNumber: string | null
  status: ShardStatus
  updatedAt: Date
  update(fields: Partial<Omit<ShardInfo, 'update'>>): this
}

export interface SessionStatus {
  exists: boolean
  /** The folder proves a paired device (`me` and `account` present and well-formed). */
  registered: boolean
  /** It can log in as it is. */
  valid: boolean
  reason?: string
}

/** Baileys' `Contact` subset used for `sock.user`. */
export interface ShardUser {
  id: string
  name?: string
  lid?: string
}

/** Baileys' Boom error in `lastDisconnect.error`. */
export interface DisconnectError extends Error {
  isBoom: true
  output: { statusCode: number; payload: { statusCode: number; error: string; message: string }; headers: Record<string, string> }
  data: null
}

/** Baileys' `ConnectionState` update. */
export interface ConnectionUpdate {
  connection?: 'connecting' | 'open' | 'close'
  lastDisconnect?: { error: DisconnectError; date: Date }
  qr?: string
  isNewLogin?: boolean
  /** false while connecting; true once the server delivered what was queued while offline. */
  receivedPendingNotifications?: boolean
}

/** Baileys `BufferJSON` form of the credentials: Buffers where Baileys has Buffers. */
export interface KeyPair {
  private: Buffer
  public: Buffer
}

/** The changed part of Baileys' `AuthenticationCreds`. */
export interface AuthenticationCredsUpdate {
  noiseKey?: KeyPair
  pairingEphemeralKeyPair?: KeyPair
  signedIdentityKey?: KeyPair
  signedPreKey?: { keyPair: KeyPair; signature: Buffer; keyId: number }
  registrationId?: number
  advSecretKey?: string
  me?: ShardUser
  account?: { details: string; accountSignatureKey: string; accountSignature: string; deviceSignature: string }
  signalIdentities?: { identifier: { name: string; deviceId: number }; identifierKey: Buffer }[]
  nextPreKeyId?: number
  firstUnuploadedPreKeyId?: number
  registered?: boolean
  routingInfo?: Buffer
  [field: string]: unknown
}

/** Raw Baileys events of one socket (`sock.ev`). */
export interface ShardSocketEventMap {
  'connection.update': [ConnectionUpdate]
  'creds.update': [AuthenticationCredsUpdate]
  'messages.upsert': [MessagesUpsert]
  'messages.update': [WAMessageUpdate[]]
  'messages.reaction': [MessageReaction[]]
  'message-receipt.update': [MessageUserReceiptUpdate[]]
  'presence.update': [PresenceUpdate]
  'groups.upsert': [GroupMetadata[]]
  'groups.update': [GroupUpdate[]]
  'group-participants.update': [GroupParticipantsUpdate]
  'chats.upsert': [ChatUpdate[]]
  'chats.update': [ChatUpdate[]]
  'contacts.update': [ContactUpdate[]]
  'chats.delete': [string[]]
  'contacts.upsert': [Contact[]]
  'messages.delete': [{ keys: WAMessageKey[] } | { jid: string; all: true }]
  'messaging-history.set': [MessagingHistorySet]
  'blocklist.set': [BlocklistSet]
  'blocklist.update': [BlocklistUpdate]
  'labels.edit': [LabelEdit]
  'labels.association': [LabelAssociationEvent]
  'group.join-request': [GroupJoinRequest]
  call: [WACallEvent[]]
}

/** Baileys' `labels.edit`: a label made, changed or deleted (`deleted: true`) on another device; unset fields are `null`. */
export interface LabelEdit {
  id: string
  name: string | null
  color: number | null
  deleted: boolean | null
  predefinedId?: string
}

/** `group.join-request` (to a group's admins): someone asked to join (`created`), an admin said no (`rejected`), or the asker withdrew (`revoked`). */
export interface GroupJoinRequest {
  id: string
  author?: string
  participant: string
  action: 'created' | 'rejected' | 'revoked'
  /** How they asked (`created` only), e.g. `'invite_link'`. */
  method?: string
}

/** Baileys' `labels.association`: a label put on (`'add'`) or taken off (`'remove'`) a chat. */
export interface LabelAssociationEvent {
  type: 'add' | 'remove'
  association: LabelAssociation
}

/** Baileys' `WACallEvent`: one signal of a voice or video call (`status: 'offer'` when it rings). */
export interface WACallEvent {
  /** The jid the `<call>` came from. */
  chatId: string
  /** Who called (pass to `rejectCall`). */
  from: string
  /** The call id (pass to `rejectCall`). */
  id: string
  date: Date
  /** Delivered from the offline queue (a call while the shard was away). */
  offline: boolean
  status: 'offer' | 'ringing' | 'timeout' | 'reject' | 'accept' | 'terminate'
  isVideo?: boolean
  isGroup?: boolean
  groupJid?: string
}

/** `contacts.update` item: a user's or group's picture changed (`imgUrl`), as Baileys 6.7.21 reports it. */
export interface ContactUpdate {
  id: string
  imgUrl?: 'changed' | 'removed'
  notify?: string
  verifiedName?: string
}

/** `contacts.upsert` item: a contact of the account (history sync, the address book in app state). */
export interface Contact {
  id: string
  lid?: string
  jid?: string
  /** The name in the account's address book. */
  name?: string
  /** The contact's own push name. */
  notify?: string
  verifiedName?: string
}

/** `messaging-history.set`: one chunk of the account's history, sent by the phone when a device links. */
export interface MessagingHistorySet {
  chats: (ChatUpdate & Record<string, unknown>)[]
  contacts: Contact[]
  messages: WAMessage[]
  isLatest?: boolean
  progress?: number | null
  /** `proto.HistorySync.HistorySyncType`: 0 INITIAL_BOOTSTRAP, 2 FULL, 3 RECENT, 4 PUSH_NAME, 6 ON_DEMAND. */
  syncType?: number
  peerDataRequestSessionId?: string | null
}

/** What a label was put on (or taken off). */
export type LabelAssociation =
  | { type: 'label_jid'; chatId: string; labelId: string }
  | { type: 'label_message'; chatId: string; messageId: string; labelId: string }

/** `blocklist.set`: the whole blocklist (reported when `fetchBlocklist` resolves). */
export interface BlocklistSet {
  blocklist: string[]
}

/** `blocklist.update`: jids blocked (`'add'`) or unblocked (`'remove'`). */
export interface BlocklistUpdate {
  blocklist: string[]
  type: 'add' | 'remove'
}

/** One entry of `fetchStatus`: Baileys 6.7.21's usync `result.list` item. */
export interface StatusResult {
  id: string
  /** Absent when the server returned nothing for this user. */
  status?: {
    /** The about text; null when empty, `''` when hidden by the user's privacy settings. */
    status: string | null
    /** When it was set (the epoch when the server did not say). */
    setAt: Date
  }
}

/** What `ev.process` handlers get: the events that happened together, by name. */
export type ShardSocketEventBatch = Partial<{ [E in keyof ShardSocketEventMap]: ShardSocketEventMap[E][0] }>

/** Baileys' event emitter (`sock.ev`). */
export interface ShardSocketEvents extends EventEmitter {
  on<E extends keyof ShardSocketEventMap>(event: E, listener: (...args: ShardSocketEventMap[E]) => void): this
  once<E extends keyof ShardSocketEventMap>(event: E, listener: (...args: ShardSocketEventMap[E]) => void): this
  off<E extends keyof ShardSocketEventMap>(event: E, listener: (...args: ShardSocketEventMap[E]) => void): this
  /** Emits a Baileys event; bufferable ones are held while buffering. */
  emit<E extends keyof ShardSocketEventMap>(event: E, ...args: ShardSocketEventMap[E]): boolean
  /**
   * Calls `handler` with the events delivered together (one stanza's, or a buffer's when it is
   * flushed, consolidated as Baileys does). Returns a function that unsubscribes it.
   */
  process(handler: (events: ShardSocketEventBatch) => void | Promise<void>): () => void
  /** Holds the bufferable events (messages, chats, contacts, receipts, ...) until `flush()`. */
  buffer(): void
  /** Delivers what was held, consolidated; false when nothing was being buffered. */
  flush(): boolean
  isBuffering(): boolean
  /** `work` with the events it causes delivered together when it settles. */
  createBufferedFunction<A extends unknown[], T>(work: (...args: A) => Promise<T>): (...args: A) => Promise<T>
}

/** Baileys' `BinaryNode`: one stanza. */
export interface BinaryNode {
  tag: string
  attrs: { [key: string]: string }
  content?: BinaryNode[] | string | Uint8Array
}

/** `sock.ws`: the shard's connection. */
export interface ShardConnection {
  /** 0 connecting (also between reconnects), 1 open, 3 closed. */
  readonly readyState: 0 | 1 | 3
  readonly isOpen: boolean
  readonly isConnecting: boolean
  readonly isClosed: boolean
  readonly isClosing: boolean
  /** Drops the connection; `connection.update` close follows and the shard reconnects by itself. */
  close(): Promise<void>
}

/** A pino-compatible logger (what the `logger` socket option takes and `sock.logger` is). */
export interface ShardLogger {
  level?: string
  child(bindings: Record<string, unknown>): ShardLogger
  trace(obj: unknown, msg?: string): void
  debug(obj: unknown, msg?: string): void
  info(obj: unknown, msg?: string): void
  warn(obj: unknown, msg?: string): void
  error(obj: unknown, msg?: string): void
  fatal(obj: unknown, msg?: string): void
}

/** The key types of Baileys' auth state (`authState.keys.get(type, ids)`). */
export type SignalKeyType = 'pre-key' | 'session' | 'sender-key' | 'sender-key-memory' | 'app-state-sync-key' | 'app-state-sync-version'

/** `sock.authState`: a read-only view of the session folder. */
export interface ShardAuthState {
  /** `creds.json` as Baileys reads it; undefined before the folder has one. */
  creds: AuthenticationCredsUpdate | undefined
  keys: {
    /** `{ [id]: value }` for the ids that have a key. An unknown type rejects with `INVALID_ARGUMENT`. */
    get(type: SignalKeyType, ids: string[]): Promise<{ [id: string]: unknown }>
    /** Always rejects with `NOT_SUPPORTED`: the shard owns its session store. */
    set(data: unknown): Promise<never>
  }
}

/** Baileys' `MessageRelayOptions`, as far as they are honoured. */
export interface MessageRelayOptions {
  messageId?: string
  /** Extra children of the `<message>` stanza (e.g. `biz` for buttons). */
  additionalNodes?: BinaryNode[]
  /** Rejects with `NOT_SUPPORTED`. */
  participant?: { jid: string; count: number }
  /** Rejects with `NOT_SUPPORTED`. */
  additionalAttributes?: { [key: string]: string }
  /** Who a post to `status@broadcast` goes to (user jids). */
  statusJidList?: string[]
  useUserDevicesCache?: boolean
}

/** Baileys' `WABusinessProfile`. */
export interface WABusinessProfile {
  wid?: string
  address?: string
  description: string
  website: string[]
  email?: string
  category?: string
  business_hours: { timezone?: string; business_config?: { day_of_week: string; mode: string; open_time?: string; close_time?: string }[] }
}

/** Baileys' `MediaConnInfo`. */
export interface MediaConnInfo {
  hosts: { hostname: string; maxContentLengthBytes: number }[]
  auth: string
  ttl: number
  fetchDate: Date
}

export type WAPrivacyValue = 'all' | 'contacts' | 'contact_blacklist' | 'none'
export type WAPrivacyOnlineValue = 'all' | 'match_last_seen'
export type WAReadReceiptsValue = 'all' | 'none'
export type WAPrivacyCallValue = 'all' | 'known' | 'contacts'
export type WAPrivacyMessagesValue = 'all' | 'contacts'

/** Baileys' `proto.IMessageKey`. */
export interface WAMessageKey {
  remoteJid?: string | null
  fromMe?: boolean | null
  id?: string | null
  participant?: string | null
  /** Group messages: the sender's LID when the server names it (`participant_lid`). */
  participantLid?: string | null
  /** Group messages: the sender's phone-number jid when the server names it (`participant_pn`). */
  participantPn?: string | null
}

/**
 * Baileys' `proto.IMessage`: protobuf field names in lowerCamelCase, bytes as Buffers, enums
 * as numbers, unset fields absent. 64-bit integers are plain numbers (BigInt past 2^53)
 * where Baileys gives `Long` objects.
 */
export interface WAMessageContent {
  conversation?: string
  extendedTextMessage?: { text?: string; contextInfo?: WAContextInfo; [field: string]: unknown }
  imageMessage?: WAMediaMessage
  videoMessage?: WAMediaMessage
  ptvMessage?: WAMediaMessage
  audioMessage?: WAMediaMessage
  documentMessage?: WAMediaMessage
  stickerMessage?: WAMediaMessage
  [messageType: string]: unknown
}

/** What `imageMessage`, `videoMessage`, ... carry (Baileys' `proto.Message.IImageMessage`, ...). */
export interface WAMediaMessage {
  url?: string
  directPath?: string
  mediaKey?: Uint8Array
  fileSha256?: Uint8Array
  fileEncSha256?: Uint8Array
  fileLength?: number | bigint
  mediaKeyTimestamp?: number | bigint
  mimetype?: string
  caption?: string
  jpegThumbnail?: Uint8Array
  contextInfo?: WAContextInfo
  [field: string]: unknown
}

export interface WAContextInfo {
  stanzaId?: string
  participant?: string
  quotedMessage?: WAMessageContent
  mentionedJid?: string[]
  [field: string]: unknown
}

/** Baileys' `WAMessage` (`proto.IWebMessageInfo`). */
export interface WAMessage {
  key: WAMessageKey
  message?: WAMessageContent | null
  messageTimestamp?: number | bigint
  pushName?: string
  broadcast?: boolean
  /** `proto.WebMessageInfo.Status`: 1 PENDING, 2 SERVER_ACK, 3 DELIVERY_ACK, 4 READ, 5 PLAYED. */
  status?: number
  /** Group messages we sent: our own jid (with device), as Baileys sets it. */
  participant?: string
  /** Group notifications: `proto.WebMessageInfo.StubType` (27 add, 28 remove, 21 subject, ...). */
  messageStubType?: number
  messageStubParameters?: string[]
}

/** Baileys' `GroupParticipant`: `id` as the server names it, `jid` the phone-number jid. */
export interface GroupParticipant {
  id: string
  jid: string
  lid?: string
  admin: 'admin' | 'superadmin' | null
}

/** A product to add to a catalog (Baileys 6.7.21's `ProductCreate`). */
export interface ProductCreate {
  name: string
  description?: string
  retailerId?: string
  /** In thousandths of the currency unit, as WhatsApp counts (1000 = 1.00). */
  price: number
  currency: string
  isHidden?: boolean
  /** Country of origin; present but undefined = exempt. */
  originCountryCode?: string
  images: (Buffer | { url: string | URL } | { stream: AsyncIterable<Uint8Array> })[]
}

/** A catalog product (Baileys 6.7.21's `Product`). */
export interface Product {
  id: string
  imageUrls: { requested?: string; original?: string }
  reviewStatus: { whatsapp?: string }
  availability: string
  name: string
  retailerId?: string
  url?: string
  description?: string
  price: number
  currency: string
  isHidden: boolean
}

/** A channel as WhatsApp's GraphQL describes it (`newsletterMetadata`; times and counts are strings). */
export interface NewsletterThread {
  id: string
  state: { type: string }
  thread_metadata: {
    creation_time: string
    name: { id: string; text: string; update_time: string }
    description: { id: string; text: string; update_time: string }
    handle: string | null
    invite: string
    picture: { id: string; type: string; direct_path: string } | null
    preview: { id: string; type: string; direct_path: string } | null
    subscribers_count: string
    verification: 'VERIFIED' | 'UNVERIFIED'
    [field: string]: unknown
  }
  viewer_metadata: { mute: 'ON' | 'OFF'; role: 'OWNER' | 'ADMIN' | 'SUBSCRIBER' | 'GUEST'; [field: string]: unknown }
  [field: string]: unknown
}

/** A channel as Baileys 6.7.21's `newsletterCreate` gives it. */
export interface NewsletterMetadata {
  id: string
  name: string
  /** Seconds since the epoch. */
  creation_time: number
  description: string
  invite: string
  subscribers: number
  verification: 'VERIFIED' | 'UNVERIFIED'
  picture: { id: string; directPath: string }
  mute_state: 'ON' | 'OFF'
}

/**
 * Baileys 6.7.21's community metadata (its `extractCommunityMetadata`): `size` counts the
 * participants, a participant is `{ id, admin }`; fields the server did not send are absent.
 */
export interface CommunityMetadata {
  id: string
  subject: string
  subjectOwner?: string
  subjectTime: number
  size: number
  creation: number
  owner?: string
  desc?: string
  descId?: string
  linkedParent?: string
  restrict: boolean
  announce: boolean
  isCommunity: boolean
  isCommunityAnnounce: boolean
  joinApprovalMode: boolean
  memberAddMode: boolean
  participants: { id: string; admin: 'admin' | 'superadmin' | null }[]
  ephemeralDuration?: number
  addressingMode: 'pn' | 'lid'
}

/** Baileys 6.7.21's `GroupMetadata`; fields the server did not send are absent. */
export interface GroupMetadata {
  id: string
  addressingMode: 'pn' | 'lid'
  subject: string
  subjectOwner?: string
  subjectOwnerJid?: string
  /** Seconds since the epoch. */
  subjectTime?: number
  size: number
  creation?: number
  owner?: string
  ownerJid?: string
  owner_country_code?: string
  desc?: string
  descId?: string
  descOwner?: string
  descOwnerJid?: string
  descTime?: number
  linkedParent?: string
  /** Only admins edit the group's info. */
  restrict: boolean
  /** Only admins send messages. */
  announce: boolean
  isCommunity: boolean
  isCommunityAnnounce: boolean
  joinApprovalMode: boolean
  /** Every member (not only admins) may add participants. */
  memberAddMode: boolean
  participants: GroupParticipant[]
  /** Disappearing-messages timer in seconds. */
  ephemeralDuration?: number
  /** `groups.upsert`: who created the group. */
  author?: string
}

export type ParticipantAction = 'add' | 'remove' | 'promote' | 'demote'

export type GroupSetting = 'announcement' | 'not_announcement' | 'locked' | 'unlocked'

/** One entry of `groupParticipantsUpdate`'s result. */
export interface GroupParticipantUpdateResult {
  /** `'200'`, or the server's error code for this participant (`'403'`, `'404'`, `'409'`, ...). */
  status: string
  jid: string
  /** The server's `<participant>` node, as Baileys' BinaryNode. */
  content: { tag: 'participant'; attrs: { jid: string; [attr: string]: string }; content?: { tag: string; attrs: { [attr: string]: string } }[] }
}

/** `groups.update` item: the group's changed fields and who changed them. */
export type GroupUpdate = Partial<GroupMetadata> & { id: string; author?: string; inviteCode?: string }

/** Baileys 6.7.21's `group-participants.update` payload (participants as jid strings). */
export interface GroupParticipantsUpdate {
  id: string
  author?: string
  participants: string[]
  action: ParticipantAction | 'modify'
}

/** `chats.upsert` / `chats.update` item: a group created or changed, or a chat changed on one of the account's devices. */
export interface ChatUpdate {
  id: string
  name?: string
  conversationTimestamp?: number
  ephemeralExpiration?: number | null
  ephemeralSettingTimestamp?: number
  archived?: boolean
  /** When the chat was pinned (ms), or null when unpinned. */
  pinned?: number | null
  /** Muted until (ms; -1 for ever), or null when unmuted. */
  muteEndTime?: number | null
  /** 0 when marked read, -1 when marked unread. */
  unreadCount?: number | null
}

/**
 * Baileys' `WAMediaUpload`: the bytes, a file path or http(s) URL, or a readable stream
 * (encrypted while it is read; never held whole).
 */
export type WAMediaUpload = Buffer | { url: string | URL } | { stream: Readable }

/** Baileys' `AnyMediaMessageContent`; `mimetype` defaults per kind (documents need one). */
export type AnyMediaMessageContent = (
  | { image: WAMediaUpload; caption?: string; mentions?: string[]; width?: number; height?: number }
  /** `ptv: true`: a round video note (`ptvMessage`). */
  | { video: WAMediaUpload; caption?: string; gifPlayback?: boolean; ptv?: boolean; mentions?: string[]; width?: number; height?: number }
  /** `ptt`: a voice note. `seconds`: the duration shown. */
  | { audio: WAMediaUpload; ptt?: boolean; seconds?: number }
  | { sticker: WAMediaUpload; isAnimated?: boolean; width?: number; height?: number }
  | { document: WAMediaUpload; mimetype: string; fileName?: string; caption?: string }
) & { mimetype?: string }

/** Baileys' `urlInfo` of a link preview (`linkPreview` of a text). */
export interface WAUrlInfo {
  'canonical-url'?: string
  'matched-text': string
  title: string
  description?: string
  jpegThumbnail?: Buffer
  highQualityThumbnail?: { directPath?: string; mediaKey?: Uint8Array; mediaKeyTimestamp?: number; width?: number; height?: number; fileSha256?: Uint8Array; fileEncSha256?: Uint8Array }
  originalThumbnailUrl?: string
}

/** Baileys' `AnyMessageContent`: every kind Baileys 6.7.21 sends except `product`. */
export type AnyMessageContent = (
  | AnyMediaMessageContent
  /** `linkPreview`: the preview to show (`null`: none). */
  | { text: string; mentions?: string[]; edit?: WAMessageKey; linkPreview?: WAUrlInfo | null }
  | { react: { text: string; key: WAMessageKey } }
  | { delete: WAMessageKey }
  | { location: { degreesLatitude: number; degreesLongitude: number; name?: string; address?: string }; mentions?: string[] }
  | { contacts: { displayName?: string; contacts: { displayName?: string; vcard: string }[] } }
  /** `toAnnouncementGroup`: a poll for a community's announcement group (`pollCreationMessageV2`). */
  | { poll: { name: string; values: string[]; selectableCount?: number; messageSecret?: Uint8Array; toAnnouncementGroup?: boolean } }
  | { forward: WAMessage; force?: boolean }
  /** To a group: sets its timer (as `groupToggleEphemeral`) and resolves to undefined. `true` = 7 days. */
  | { disappearingMessagesInChat: boolean | number }
  | { groupInvite: { inviteCode: string; inviteExpiration?: number; text?: string; jid: string; subject?: string } }
  /** `type`: 1 pins for everyone, 2 unpins; `time`: how long a pin lasts (24 h by default). */
  | { pin: WAMessageKey; type: 1 | 2; time?: 86400 | 604800 | 2592000 }
  | { buttonReply: { displayText: string; id: string; index?: number }; type: 'template' | 'plain' }
  | { listReply: { title?: string; listType?: number; singleSelectReply?: { selectedRowId?: string }; description?: string; [field: string]: unknown } }
  | { sharePhoneNumber: boolean }
  | { requestPhoneNumber: boolean }
) & {
  /** Merged over the content's own `contextInfo` (mentions, reply) as Baileys does: `externalAdReply`, `isForwarded`, ... */
  contextInfo?: WAContextInfo
  /** Wraps the message in `viewOnceMessage`: it can be seen once. */
  viewOnce?: boolean
}

export interface MiscMessageGenerationOptions {
  /** Use this id instead of a generated one. */
  messageId?: string
  /** The message this one replies to. */
  quoted?: WAMessage
  /** The chat's disappearing timer in seconds: the message disappears as the chat's others do. */
  ephemeralExpiration?: number | string
  /** The `messageTimestamp` of the returned (and emitted) message. */
  timestamp?: Date
  /** A text's background colour: `'#1E6E4F'` or an ARGB number. */
  backgroundColor?: string | number
  /** A text's font: `proto.Message.ExtendedTextMessage.FontType`. */
  font?: number
  /** Who a post to `status@broadcast` goes to (user jids); required for a status. */
  statusJidList?: string[]
  /** Declared by Baileys 6.7.21 and read by nothing; accepted. */
  broadcast?: boolean
}

/** Baileys' `WAMessageUpdate`: receipts (`status`), edits and revokes. */
export interface WAMessageUpdate {
  key: WAMessageKey
  update: {
    status?: number
    message?: WAMessageContent | { editedMessage: { message: WAMessageContent } } | null
    messageStubType?: number
    messageTimestamp?: number | bigint
    key?: WAMessageKey
    /** A decrypted poll vote (needs the `getMessage` socket option to find the poll). */
    pollUpdates?: PollUpdate[]
  }
}

/** Baileys' `proto.IPollUpdate`: one voter's choice (`selectedOptions` are SHA-256 hashes of option names). */
export interface PollUpdate {
  pollUpdateMessageKey: WAMessageKey
  vote: { selectedOptions: Uint8Array[] }
  senderTimestampMs?: number
}

/** Baileys' `messages.reaction` item: `key` is the reacted-to message, from our point of view. */
export interface MessageReaction {
  key: WAMessageKey
  reaction: { key: WAMessageKey; text?: string; senderTimestampMs?: number | bigint; [field: string]: unknown }
}

/** Baileys' `MessageUserReceiptUpdate` (group receipts). */
export interface MessageUserReceiptUpdate {
  key: WAMessageKey
  receipt: { userJid: string; receiptTimestamp?: number; readTimestamp?: number }
}

export type WAPresence = 'unavailable' | 'available' | 'composing' | 'recording' | 'paused'

/** Baileys' `presence.update` payload. */
export interface PresenceUpdate {
  id: string
  presences: { [participant: string]: { lastKnownPresence: WAPresence; lastSeen?: number } }
}

/** Baileys' `messages.upsert` payload. */
export interface MessagesUpsert {
  messages: WAMessage[]
  type: 'notify' | 'append'
  /** A message the phone resent: the id of the `requestPlaceholderResend` request it answers. */
  requestId?: string
}

/** A Baileys-shaped socket for one shard. */
export interface ShardSocket {
  readonly shardId: string
  readonly type: 'md'
  /** The logged-in account, or undefined before pairing. */
  readonly user: ShardUser | undefined
  readonly ev: ShardSocketEvents
  /**
   * Sends a message. Resolves to the sent `WAMessage` (`status` 1 = PENDING), which is also
   * emitted as `messages.upsert` with `type: 'append'`. A malformed jid or an unsupported
   * content shape rejects with `INVALID_ARGUMENT`; a shard that is not connected with `NOT_CONNECTED`.
   */
  sendMessage(jid: string, content: AnyMessageContent, options?: MiscMessageGenerationOptions): Promise<WAMessage | undefined>
  /**
   * Sends read receipts for received messages (keys of your own messages are skipped; group
   * keys carry the sender in `participant`). The sender gets `messages.update` with `status` 4
   * (READ). A malformed key rejects with `INVALID_ARGUMENT`; a shard that is not connected with
   * `NOT_CONNECTED`.
   */
  readMessages(keys: WAMessageKey[]): Promise<void>
  /** Declines an incoming call: the `id` and `from` of its `call` event. */
  rejectCall(callId: string, callFrom: string): Promise<void>
  /** Emits a message as Baileys' `upsertMessage` does (`messages.upsert`, and the push name as `contacts.update`). */
  upsertMessage(msg: WAMessage, type: 'notify' | 'append'): Promise<void>
  /** The bots WhatsApp offers. */
  getBotListV2(): Promise<{ jid: string; personaId: string }[]>
  /** Sends WhatsApp analytics (Baileys' `encodeWAM` output); resolves to the server's reply. */
  sendWAMBuffer(wamBuffer: Uint8Array): Promise<BinaryNode>
  /** Tells the server a dirty bit was handled. */
  cleanDirtyBits(type: string, fromTimestamp?: number): Promise<void>
  /** Runs a Baileys `USyncQuery` (from `baileys`) and resolves to its parsed result. */
  executeUSyncQuery<T = unknown>(usyncQuery: { protocols: unknown[]; users: unknown[]; parseUSyncQueryResult(result: BinaryNode): T }): Promise<T>
  /** Each user's default disappearing-messages timer. */
  fetchDisappearingDuration(...jids: string[]): Promise<{ disappearing_mode?: { duration: number; setAt: Date }; id: string }[]>
  /** Asks the server for privacy tokens for these users; resolves to its reply. */
  getPrivacyTokens(jids: string[]): Promise<BinaryNode>
  /** Uploads `count` new pre-keys (default 812). */
  uploadPreKeys(count?: number): Promise<void>
  /** Uploads pre-keys only when the server is running low. */
  uploadPreKeysToServerIfRequired(): Promise<void>
  /** Sends one app-state patch to the account's other devices (a REMOVE operation rejects with `NOT_SUPPORTED`). */
  appPatch(patch: WAPatchCreate): Promise<void>
  /**
   * Changes a chat (or, with jid `''`, an account setting) on every device of the account. The
   * change comes back as the events a change from another device brings (`chats.update`, ...).
   */
  chatModify(mod: ChatModification, jid: string): Promise<void>
  /** Stars or unstars a message (the first of `messages`). */
  star(jid: string, messages: { id: string; fromMe?: boolean }[], star: boolean): Promise<void>
  /** Saves or renames a contact in the account's address book. */
  addOrEditContact(jid: string, contact: { fullName?: string; firstName?: string; saveOnPrimaryAddressbook?: boolean }): Promise<void>
  /** Creates, edits or deletes (`deleted: true`) a label. */
  addLabel(jid: string, labels: LabelActionBody): Promise<void>
  addChatLabel(jid: string, labelId: string): Promise<void>
  removeChatLabel(jid: string, labelId: string): Promise<void>
  addMessageLabel(jid: string, messageId: string, labelId: string): Promise<void>
  removeMessageLabel(jid: string, messageId: string, labelId: string): Promise<void>
  /** WhatsApp's own link-preview privacy setting (not this package's previews). */
  updateDisableLinkPreviewsPrivacy(isPreviewsDisabled: boolean): Promise<void>
  /** Syncs app-state collections from the server now (from scratch with `isInitialSync`), emitting what changed. */
  resyncAppState(collections: readonly WAPatchName[], isInitialSync?: boolean): Promise<void>
  /** The engine owns these; each rejects with `NOT_SUPPORTED` saying why. */
  removeContact(jid: string): Promise<never>
  createParticipantNodes(...args: unknown[]): Promise<never>
  sendMessageAck(...args: unknown[]): Promise<never>
  sendRetryRequest(...args: unknown[]): Promise<never>
  waitForMessage(...args: unknown[]): Promise<never>
  /** Every method rejects with `NOT_SUPPORTED`: Signal sessions live in the engine. */
  readonly signalRepository: Record<string, (...args: unknown[]) => Promise<never>>
  /** Receipts of `type` (`'read'`, `'read-self'`, `'played'`, `'sender'`, `'inactive'`, ...; undefined = delivery) for received messages. */
  sendReceipts(keys: WAMessageKey[], type?: string): Promise<void>
  /** One receipt for messages of one chat (and sender, in groups). */
  sendReceipt(jid: string, participant: string | undefined, messageIds: string[], type?: string): Promise<void>
  /**
   * `'available'` / `'unavailable'` set the account's presence; `'composing'`, `'recording'`
   * and `'paused'` are chat states sent to `jid` (required for them). An unknown type or a
   * malformed jid rejects with `INVALID_ARGUMENT`.
   */
  sendPresenceUpdate(type: WAPresence, jid?: string): Promise<void>
  /** Subscribes to a contact's presence; it then arrives as `presence.update`. */
  presenceSubscribe(jid: string): Promise<void>
  /**
   * Which phone numbers (`'+6281…'`, `'6281…'` or `'6281…@s.whatsapp.net'`) are on WhatsApp.
   * As in Baileys 6.7.21, only the registered ones are in the result (`exists` is always true);
   * a number that is not on WhatsApp is simply absent.
   */
  onWhatsApp(...phoneNumbers: string[]): Promise<{ jid: string; exists: boolean; lid?: string }[]>
  /** Closes the connection for good (the shard is stopped). */
  end(error?: Error): Promise<void>
  /** Logs this device out at WhatsApp and stops the shard; the session folder is kept. */
  logout(): Promise<void>
  /*
   * Groups, as in Baileys 6.7.21. A request the server refuses (not an admin, unknown group,
   * revoked code, ...) rejects with `INVALID_ARGUMENT` naming the server's code; malformed
   * arguments with `INVALID_ARGUMENT`; a shard that is not connected with `NOT_CONNECTED`.
   */
  /** Creates a group with us as super-admin; every member gets `groups.upsert`. */
  groupCreate(subject: string, participants: string[]): Promise<GroupMetadata>
  /** The group's metadata, fresh from the server. */
  groupMetadata(jid: string): Promise<GroupMetadata>
  /**
   * Adds, removes, promotes or demotes members; one result per participant. After a removal,
   * what we send next uses a new sender key the removed member does not get.
   */
  groupParticipantsUpdate(jid: string, participants: string[], action: ParticipantAction): Promise<GroupParticipantUpdateResult[]>
  groupUpdateSubject(jid: string, subject: string): Promise<void>
  /** An empty or missing description deletes it. */
  groupUpdateDescription(jid: string, description?: string): Promise<void>
  groupSettingUpdate(jid: string, setting: GroupSetting): Promise<void>
  /** The invite code (the link is `https://chat.whatsapp.com/<code>`); admins only. */
  groupInviteCode(jid: string): Promise<string>
  /** Revokes the invite code; resolves to the new one. */
  groupRevokeInvite(jid: string): Promise<string>
  /** Joins by invite code; the group's jid, or undefined while an admin must approve. */
  groupAcceptInvite(code: string): Promise<string | undefined>
  /** Joins with a group invite message (`key`: its key, or the inviter's jid); resolves to the group's jid. */
  groupAcceptInviteV4(key: string | WAMessageKey, inviteMessage: { groupJid: string; inviteCode: string; inviteExpiration?: number | bigint; [field: string]: unknown }): Promise<string>
  /** Withdraws the invitation sent to `invitedJid`. */
  groupRevokeInviteV4(groupJid: string, invitedJid: string): Promise<boolean>
  /** The metadata of the group a code leads to, without joining. */
  groupGetInviteInfo(code: string): Promise<GroupMetadata>
  groupLeave(jid: string): Promise<void>
  /** Every group we are in; also emitted as `groups.update`, as Baileys does. */
  groupFetchAllParticipating(): Promise<{ [jid: string]: GroupMetadata }>
  /** Disappearing messages after `expiration` seconds (86400, 604800, 7776000); 0 turns them off. */
  groupToggleEphemeral(jid: string, expiration: number): Promise<void>
  /** Whether joining by link needs an admin's approval; members get `groups.update` `{ joinApprovalMode }`. */
  groupJoinApprovalMode(jid: string, mode: 'on' | 'off'): Promise<void>
  /** Who may add members; members get `groups.update` `{ memberAddMode }`. */
  groupMemberAddMode(jid: string, mode: 'admin_add' | 'all_member_add'): Promise<void>
  /** The pending join requests, each one's attributes (`jid`, `request_method`, `request_time`). Admins only. */
  groupRequestParticipantsList(jid: string): Promise<{ [attr: string]: string }[]>
  /** Approves or rejects join requests: `status` `'200'` or the server's code per participant. */
  groupRequestParticipantsUpdate(jid: string, participants: string[], action: 'approve' | 'reject'): Promise<{ status: string; jid: string }[]>
  /*
   * Communities, as in Baileys 6.7.21. A community is a group (its parent group): the calls
   * that are also group calls behave as those, with errors naming the community call.
   */
  /** Creates a community (join approval on, members may create groups, with a general chat); its `GroupMetadata`. */
  communityCreate(subject: string, body?: string): Promise<GroupMetadata>
  /** The community's metadata, fresh from the server. */
  communityMetadata(jid: string): Promise<CommunityMetadata>
  /** Every community we are in; also emitted as `groups.update`, as Baileys does. */
  communityFetchAllParticipating(): Promise<{ [jid: string]: CommunityMetadata }>
  /** The metadata of the community a code leads to, without joining. */
  communityGetInviteInfo(code: string): Promise<CommunityMetadata>
  /** Leaves the community and every group of it we are in (`id`: its jid or bare id). */
  communityLeave(id: string): Promise<void>
  /** Whether joining needs an admin's approval. */
  communityJoinApprovalMode(jid: string, mode: 'on' | 'off'): Promise<void>
  communityUpdateSubject(jid: string, subject: string): Promise<void>
  /** An empty or missing description deletes it. */
  communityUpdateDescription(jid: string, description?: string): Promise<void>
  /** Members added or removed are added to or removed from the announcements group too. */
  communityParticipantsUpdate(jid: string, participants: string[], action: ParticipantAction): Promise<GroupParticipantUpdateResult[]>
  communityRequestParticipantsList(jid: string): Promise<{ [attr: string]: string }[]>
  communityRequestParticipantsUpdate(jid: string, participants: string[], action: 'approve' | 'reject'): Promise<{ status: string; jid: string }[]>
  communityInviteCode(jid: string): Promise<string>
  communityRevokeInvite(jid: string): Promise<string>
  /** Joins by invite code (and so the announcements group); the community's jid, or undefined while an admin must approve. */
  communityAcceptInvite(code: string): Promise<string | undefined>
  communityRevokeInviteV4(communityJid: string, invitedJid: string): Promise<boolean>
  communityAcceptInviteV4(key: string | WAMessageKey, inviteMessage: { groupJid: string; inviteCode: string; inviteExpiration?: number | bigint; [field: string]: unknown }): Promise<string>
  communityToggleEphemeral(jid: string, ephemeralExpiration: number): Promise<void>
  communitySettingUpdate(jid: string, setting: GroupSetting): Promise<void>
  communityMemberAddMode(jid: string, mode: 'admin_add' | 'all_member_add'): Promise<void>
  /*
   * Business catalog, as in Baileys 6.7.21 (`jid` defaults to ours). Pictures not on WhatsApp's
   * CDN are uploaded first.
   */
  getCatalog(options?: { jid?: string; limit?: number; cursor?: string }): Promise<{ products: Product[]; nextPageCursor?: string }>
  getCollections(jid?: string, limit?: number): Promise<{ collections: { id: string; name: string; products: Product[]; status: { status: string; canAppeal: boolean } }[] }>
  getOrderDetails(orderId: string, tokenBase64: string): Promise<{ price: { total: number; currency: string }; products: { id: string; name: string; imageUrl: string; price: number; currency: string; quantity: number }[] }>
  productCreate(create: ProductCreate): Promise<Product>
  productUpdate(productId: string, update: Partial<ProductCreate>): Promise<Product>
  productDelete(productIds: string[]): Promise<{ deleted: number }>
  /*
   * Channels (newsletters), as in Baileys 6.7.21: most results are the server's GraphQL
   * objects, as Baileys gives them. Refused requests reject with `INVALID_ARGUMENT` naming the
   * server's reason.
   */
  newsletterCreate(name: string, description?: string): Promise<NewsletterMetadata>
  /** Name, description or picture (base64 JPEG, `''` removes it); admins only. */
  newsletterUpdate(jid: string, updates: { name?: string; description?: string; picture?: string }): Promise<unknown>
  newsletterUpdateName(jid: string, name: string): Promise<unknown>
  newsletterUpdateDescription(jid: string, description: string): Promise<unknown>
  newsletterUpdatePicture(jid: string, content: Buffer | { url: string }): Promise<unknown>
  newsletterRemovePicture(jid: string): Promise<unknown>
  /** The channel as the server describes it (what Baileys 6.7.21 returns, whatever its typings say). */
  newsletterMetadata(type: 'jid' | 'invite', key: string): Promise<NewsletterThread | null>
  newsletterFollow(jid: string): Promise<unknown>
  newsletterUnfollow(jid: string): Promise<unknown>
  newsletterMute(jid: string): Promise<unknown>
  newsletterUnmute(jid: string): Promise<unknown>
  newsletterSubscribers(jid: string): Promise<{ subscribers: number }>
  newsletterAdminCount(jid: string): Promise<number>
  newsletterChangeOwner(jid: string, newOwnerJid: string): Promise<void>
  newsletterDemote(jid: string, userJid: string): Promise<void>
  newsletterDelete(jid: string): Promise<void>
  /** Reacts to the post `serverId`; no reaction takes ours back. */
  newsletterReactMessage(jid: string, serverId: string, reaction?: string): Promise<void>
  /** The server's reply node: `<message_updates><messages><message server_id id t type>` with `<plaintext>` and `<reactions>`. */
  newsletterFetchMessages(jid: string, count: number, since?: number, after?: number): Promise<BinaryNode>
  subscribeNewsletterUpdates(jid: string): Promise<{ duration: string } | null>
  /*
   * Profile and blocklist, as in Baileys 6.7.21. Malformed arguments reject with
   * `INVALID_ARGUMENT`; a shard that is not connected, or a refused request, with `NOT_CONNECTED`.
   */
  /** The URL of a user's or group's picture (`'preview'` default, or `'image'`), or undefined without one. */
  profilePictureUrl(jid: string, type?: 'preview' | 'image'): Promise<string | undefined>
  /** Sets our own picture (`jid` = our jid) or a group's (admins); the others get `contacts.update`. */
  updateProfilePicture(jid: string, content: Buffer | { url: string }): Promise<void>
  /** Sets our about text. */
  updateProfileStatus(status: string): Promise<void>
  /** Sets our push name (not empty). */
  updateProfileName(name: string): Promise<void>
  /** Each user's about text and when it was set. */
  fetchStatus(...jids: string[]): Promise<StatusResult[]>
  /** Blocks or unblocks a user; emits `blocklist.update` once the server accepted it. */
  updateBlockStatus(jid: string, action: 'block' | 'unblock'): Promise<void>
  /** The jids we blocked; also emitted as `blocklist.set`. */
  fetchBlocklist(): Promise<string[]>
  /** A business account's profile, or undefined for an account that is no business. */
  getBusinessProfile(jid: string): Promise<WABusinessProfile | undefined>
  /** Removes our own picture (`jid` = our jid) or a group's. */
  removeProfilePicture(jid: string): Promise<void>
  /*
   * Privacy, as in Baileys 6.7.21. A value the category does not take rejects with
   * `INVALID_ARGUMENT` naming the values it takes.
   */
  /** Category → value (`last`, `online`, `profile`, `status`, `groupadd`, `readreceipts`, `calladd`, `messages`). Always fresh. */
  fetchPrivacySettings(force?: boolean): Promise<{ [category: string]: string }>
  updateLastSeenPrivacy(value: WAPrivacyValue): Promise<void>
  updateOnlinePrivacy(value: WAPrivacyOnlineValue): Promise<void>
  updateProfilePicturePrivacy(value: WAPrivacyValue): Promise<void>
  updateStatusPrivacy(value: WAPrivacyValue): Promise<void>
  updateReadReceiptsPrivacy(value: WAReadReceiptsValue): Promise<void>
  updateGroupsAddPrivacy(value: WAPrivacyValue): Promise<void>
  updateCallPrivacy(value: WAPrivacyCallValue): Promise<void>
  updateMessagesPrivacy(value: WAPrivacyMessagesValue): Promise<void>
  /** The disappearing-messages timer new chats start with, in seconds (0 = off). */
  updateDefaultDisappearingMode(duration: number): Promise<void>
  /*
   * Peer data operations: requests to the account's own phone, as in Baileys 6.7.21.
   */
  /**
   * Asks the phone for up to `count` messages of `oldestMsgKey.remoteJid` older than that
   * message; resolves to the request's message id. The answer arrives as `messaging-history.set`
   * with `syncType` 6 (ON_DEMAND), reported only when history is processed (`syncFullHistory` or
   * `shouldSyncHistoryMessage`), as in Baileys.
   */
  fetchMessageHistory(count: number, oldestMsgKey: WAMessageKey, oldestMsgTimestamp: number | bigint | { toNumber(): number }): Promise<string>
  /**
   * Asks the phone to send again a message this device could not read; the answer arrives as
   * `messages.upsert` `{ messages, type: 'notify', requestId }`. Sent at once, once per message a day.
   */
  requestPlaceholderResend(messageKey: WAMessageKey): Promise<undefined>
  /*
   * Connection, session and logging.
   */
  /** A read-only view of the session: `creds` and `keys.get`. */
  readonly authState: ShardAuthState
  /** The connection; `ws.close()` forces a reconnect. */
  readonly ws: ShardConnection
  /** The `logger` socket option's `child({ shardId })`, or a silent logger. */
  readonly logger: ShardLogger
  /** Resolves when `check(update)` holds for a `connection.update`; rejects (Boom) when the connection closes first or after `timeoutMs`. */
  waitForConnectionUpdate(check: (update: ConnectionUpdate) => boolean | Promise<boolean>, timeoutMs?: number): Promise<void>
  /** Resolves once the connection is open. */
  waitForSocketOpen(): Promise<void>
  /** Logs an error on `logger`, as Baileys does. */
  onUnexpectedError(err: Error, msg: string): void
  /** Runs the functions given to `mutex` one at a time, in order. */
  readonly processingMutex: { mutex<T>(code: () => Promise<T> | T): Promise<T> }
  /** Asks for a pairing code for `phoneNumber` once a QR is shown; also emitted as `login.update` `pairing`. */
  requestPairingCode(phoneNumber: string, customPairingCode?: string): Promise<string>
  /** The media hosts and upload token. */
  refreshMediaConn(forceGet?: boolean): Promise<MediaConnInfo>
  /** Makes sure there is a Signal session with each device (every one with `force`); true when one was fetched. */
  assertSessions(jids: string[], force?: boolean): Promise<boolean>
  /** The users' devices without this one (and without device 0 with `ignoreZeroDevices`). */
  getUSyncDevices(jids: string[], useCache?: boolean, ignoreZeroDevices?: boolean): Promise<{ user: string; device: number }[]>
  /*
   * Raw stanzas and bot-built messages.
   */
  /** Sends an `<iq>` and resolves to the reply; an error reply rejects with `INVALID_ARGUMENT`. */
  query(node: BinaryNode, timeoutMs?: number): Promise<BinaryNode>
  sendNode(node: BinaryNode): Promise<void>
  /** Sends an encoded binary node (Baileys' `encodeBinaryNode` output). */
  sendRawMessage(data: Uint8Array): Promise<void>
  generateMessageTag(): string
  /** Sends a message the bot built (e.g. with Baileys' `generateWAMessageFromContent`); resolves to its id. Emits nothing. */
  relayMessage(jid: string, message: WAMessageContent, options?: MessageRelayOptions): Promise<string>
  /** Uploads encrypted media (a path or the bytes); pass it as `upload` to Baileys' `prepareWAMessageMedia`. */
  waUploadToServer(encrypted: string | Uint8Array, options: { mediaType: string; fileEncSha256B64: string; timeoutMs?: number }): Promise<{ mediaUrl: string; directPath: string }>
}

export type LoginUpdate =
  /** `image`: a PNG of the QR (5 px a module), as the original package emitted it. */
  | { shardId: string; state: 'connecting'; type: 'qr'; code: string; image: Buffer }
  | { shardId: string; state: 'connecting'; type: 'pairing'; code: string }
  | { shardId: string; state: 'connected' }
  /**
   * `statusCode` is Baileys' `DisconnectReason`: 515 and transient closes (428, 408, 500, 503)
   * reconnect by themselves; 440 (replaced), 408 with a QR that was never scanned, 402/405
   * (refused) end the shard — the reason says what to do.
   */
  | { shardId: string; state: 'disconnected'; reason: string; statusCode: number }
  /** WhatsApp ended the session (401/403/...); its folder is kept in `<session>/.logged-out/`. */
  | { shardId: string; state: 'logged_out'; reason: string; statusCode: number }
  | { shardId: string; state: 'creds_saved' }

export interface ForwardedEvent<T> {
  shardId: string
  sock: ShardSocket
  data: T
}

export interface ShardManagerEventMap {
  'login.update': [LoginUpdate]
  'shard.error': [{ shardId: string | null; error: ShardError }]
  /** `loadAllShards` handled one more saved session; `error` says why it was not started. */
  'load.progress': [{ shardId: string; done: number; total: number; error?: ShardError }]
  'creds.update': [ForwardedEvent<AuthenticationCredsUpdate>]
  'messages.upsert': [ForwardedEvent<MessagesUpsert>]
  'messages.update': [ForwardedEvent<WAMessageUpdate[]>]
  'messages.reaction': [ForwardedEvent<MessageReaction[]>]
  'message-receipt.update': [ForwardedEvent<MessageUserReceiptUpdate[]>]
  'presence.update': [ForwardedEvent<PresenceUpdate>]
  'groups.upsert': [ForwardedEvent<GroupMetadata[]>]
  'groups.update': [ForwardedEvent<GroupUpdate[]>]
  'group-participants.update': [ForwardedEvent<GroupParticipantsUpdate>]
  'chats.upsert': [ForwardedEvent<ChatUpdate[]>]
  'chats.update': [ForwardedEvent<ChatUpdate[]>]
  'contacts.update': [ForwardedEvent<ContactUpdate[]>]
  'blocklist.set': [ForwardedEvent<BlocklistSet>]
  'blocklist.update': [ForwardedEvent<BlocklistUpdate>]
  'chats.delete': [ForwardedEvent<string[]>]
  'messages.delete': [ForwardedEvent<{ keys: WAMessageKey[] } | { jid: string; all: true }>]
  'contacts.upsert': [ForwardedEvent<Contact[]>]
  'messaging-history.set': [ForwardedEvent<MessagingHistorySet>]
  'labels.edit': [ForwardedEvent<LabelEdit>]
  'labels.association': [ForwardedEvent<LabelAssociationEvent>]
  'group.join-request': [ForwardedEvent<GroupJoinRequest>]
  call: [ForwardedEvent<WACallEvent[]>]
}

export interface ShardEvents extends EventEmitter {
  on<E extends keyof ShardManagerEventMap>(event: E, listener: (...args: ShardManagerEventMap[E]) => void): this
  once<E extends keyof ShardManagerEventMap>(event: E, listener: (...args: ShardManagerEventMap[E]) => void): this
  off<E extends keyof ShardManagerEventMap>(event: E, listener: (...args: ShardManagerEventMap[E]) => void): this
}

export class ShardManager extends EventEmitter {
  constructor(config?: ShardConfig)
  /** Absolute path of the sessions folder. */
  readonly sessionDir: string
  /**
   * True when this process runs a testing build of the addon (`baileys-shard/testing`): it trusts
   * the mock server, skips WhatsApp's certificate checks and connects to this machine only.
   */
  readonly skipsCertificateChecks: boolean
  /** How many received messages are in handlers now, not yet acknowledged (see `maxPendingMessages`). */
  readonly pendingMessages: number
  /** Creates (or returns the running) shard and starts logging it in; resolves at once. */
  createShard(options?: ShardOptions): Promise<{ id: string; sock: ShardSocket }>
  /**
   * Starts every saved session (one after another, `staggerMs` apart, default 100). Resolves to
   * the ids started; unusable folders are reported as `LOAD_FAILED`, none at all as `NO_SESSIONS`.
   * `maxConcurrentHandshakes` already paces the logins, so a large fleet may pass `staggerMs: 0`.
   */
  loadAllShards(options?: { staggerMs?: number }): Promise<string[]>
  /** Restarts a shard on its folder; `clearSession` moves the folder to `.cleared/` and starts fresh. */
  recreateShard(options: { id: string; clearSession?: boolean; forceRecreate?: boolean }): Promise<{ id: string; sock: ShardSocket }>
  /** Returns a running shard as it is, or starts it again on its folder (`CONNECT_FAILED` on failure). */
  connect(id: string): Promise<{ id: string; sock: ShardSocket }>
  /** Moves a folder whose creds.json is unreadable to `<session>/.corrupt/`; registered sessions are never touched. */
  validateAndCleanSession(sessionDirectory: string): Promise<void>
  /** `validateAndCleanSession` over every saved session that is not running (also run by the constructor). */
  cleanupCorruptSessions(): Promise<void>
  /** Stops a shard for good. Unknown id: rejects with `SHARD_NOT_FOUND`. */
  stopShard(id: string): Promise<boolean>
  /** Stops every shard and flushes their credentials. */
  close(): Promise<void>
  socket(id: string): ShardSocket | undefined
  /** The same emitter of that shard's events on every call, or null for an unknown id. */
  shard(id: string): ShardEvents | null
  getShardInfo(id: string): ShardInfo | null
  getAllShardInfo(): ShardInfo[]
  getSessionInfo(id: string): Promise<SessionStatus>
  checkSessionStatus(sessionDirectory: string): Promise<SessionStatus>

  on<E extends keyof ShardManagerEventMap>(event: E, listener: (...args: ShardManagerEventMap[E]) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
  once<E extends keyof ShardManagerEventMap>(event: E, listener: (...args: ShardManagerEventMap[E]) => void): this
  once(event: string | symbol, listener: (...args: any[]) => void): this
}

export declare const DisconnectReason: {
  readonly connectionClosed: 428
  readonly connectionLost: 408
  readonly connectionReplaced: 440
  readonly timedOut: 408
  readonly loggedOut: 401
  readonly badSession: 500
  readonly restartRequired: 515
  readonly multideviceMismatch: 411
  readonly forbidden: 403
  readonly unavailableService: 503
}

export declare const BufferJSON: {
  replacer(key: string, value: unknown): unknown
  reviver(key: string, value: unknown): unknown
}

/** Baileys' `MediaDownloadOptions`, plus `mediaHost` for a test CDN. */
export interface MediaDownloadOptions {
  /**
   * `'127.0.0.1:PORT'`: download over plain HTTP from that host (the mock server:
   * `new URL(mock.url).host`). Never set it for WhatsApp.
   */
  mediaHost?: string
  /** Refused (`INVALID_ARGUMENT`): a partial file cannot be verified. */
  startByte?: number
  /** Refused (`INVALID_ARGUMENT`): a partial file cannot be verified. */
  endByte?: number
  /** Baileys' axios options: accepted and not used. */
  options?: Record<string, unknown>
}

/** Baileys' `DownloadMediaMessageContext`: accepted and not used (no re-upload requests). */
export interface DownloadMediaMessageContext {
  reuploadRequest?: (msg: WAMessage) => Promise<WAMessage>
  logger?: unknown
}

/**
 * Downloads and decrypts a message's media like Baileys' `downloadMediaMessage`, but verifies
 * the file's MAC and hashes: an altered file rejects with `ShardError` `MEDIA_INVALID` (a
 * `'stream'` errors at its end: discard what it gave). Transfer failures are `MEDIA_FAILED`;
 * a message without media is `INVALID_ARGUMENT`, and so is a `directPath` that is not one
 * absolute path (the sender chooses it; it would aim the request at another host). A CDN that
 * sends more than the message's `fileLength` announces is `MEDIA_INVALID`.
 */
export declare function downloadMediaMessage(message: WAMessage, type: 'buffer', options?: MediaDownloadOptions, ctx?: DownloadMediaMessageContext): Promise<Buffer>
export declare function downloadMediaMessage(message: WAMessage, type: 'stream', options?: MediaDownloadOptions, ctx?: DownloadMediaMessageContext): Promise<Readable>

/*
 * Baileys 6.7.21's utilities, with its names, arguments and results, so a bot's
 * `import { ... } from 'baileys'` becomes `from 'baileys-shard'`.
 */
/** `{ user, server, domainType, device }` of a jid (`domainType` 1 for LIDs); undefined without an `@`. */
export declare function jidDecode(jid: string | undefined | null): { server: string; user: string; domainType: number; device?: number } | undefined
export declare function jidEncode(user: string | number | null | undefined, server: string, device?: number, agent?: number): string
/** The user's jid without device or agent (`c.us` → `s.whatsapp.net`); `''` for a non-jid. */
export declare function jidNormalizedUser(jid: string | undefined | null): string
export declare function areJidsSameUser(a: string | undefined | null, b: string | undefined | null): boolean
export declare function isJidUser(jid: string | undefined | null): boolean | undefined
export declare function isLidUser(jid: string | undefined | null): boolean | undefined
export declare function isJidBroadcast(jid: string | undefined | null): boolean | undefined
export declare function isJidGroup(jid: string | undefined | null): boolean | undefined
export declare function isJidNewsletter(jid: string | undefined | null): boolean | undefined
export declare function isJidMetaIa(jid: string | undefined | null): boolean | undefined
export declare function isJidStatusBroadcast(jid: string | undefined | null): boolean
export declare function isJidBot(jid: string | undefined | null): boolean | '' | null | undefined
export declare const S_WHATSAPP_NET: '@s.whatsapp.net'
export declare const STORIES_JID: 'status@broadcast'
/** The key of the content in a message (`'conversation'`, `'imageMessage'`, ...). */
export declare function getContentType(content: WAMessageContent | undefined | null): string | undefined
/** Unwraps ephemeral, view-once and edited wrappers. */
export declare function normalizeMessageContent(content: WAMessageContent | undefined | null): WAMessageContent | undefined
/** Unwraps, and reduces templates and buttons to what they show. */
export declare function extractMessageContent(content: WAMessageContent | undefined | null): WAMessageContent | undefined
export declare function getDevice(id: string): 'ios' | 'web' | 'android' | 'desktop' | 'unknown'
export declare function generateMessageID(): string
export declare function generateMessageIDV2(userId?: string): string
/** A `WAMessage` around `message` (plain objects where Baileys gives protobufjs instances); send it with `sock.relayMessage`. */
export declare function generateWAMessageFromContent(
  jid: string,
  message: WAMessageContent,
  options: { userJid: string; timestamp?: Date; quoted?: WAMessage; messageId?: string; ephemeralExpiration?: number },
): WAMessage & { key: { remoteJid: string; fromMe: true; id: string }; message: WAMessageContent }
/** An app-state collection. */
export type WAPatchName = 'critical_block' | 'critical_unblock_low' | 'regular_high' | 'regular_low' | 'regular'
/** Baileys' `WAPatchCreate`: one app-state mutation, as `chatModificationToAppPatch` builds it. */
export interface WAPatchCreate {
  /** A `proto.ISyncActionValue`, e.g. `{ archiveChatAction: { archived: true }, timestamp }` (stamped now when absent). */
  syncAction: Record<string, unknown>
  /** The mutation's index, e.g. `['archive', jid]`. */
  index: string[]
  type: WAPatchName
  /** The action's version, e.g. 3 for archive. */
  apiVersion: number
  /** `proto.SyncdMutation.SyncdOperation`: 0 SET, 1 REMOVE. */
  operation: 0 | 1
}
/** Baileys' `LabelActionBody`. */
export interface LabelActionBody {
  id: string
  name?: string
  color?: number
  predefinedId?: number
  deleted?: boolean
}
/** The messages a change covers, newest last (Baileys' `LastMessageList`). */
export type LastMessageList = { key: WAMessageKey; messageTimestamp?: number | { toNumber(): number } }[]
/** Baileys' `ChatModification`: what `sock.chatModify` takes. */
export type ChatModification =
  | { archive: boolean; lastMessages?: LastMessageList }
  | { pushNameSetting: string }
  | { pin: boolean }
  | { mute: number | null }
  | { clear: boolean; lastMessages?: LastMessageList }
  | { deleteForMe: { deleteMedia: boolean; key: WAMessageKey; timestamp: number } }
  | { star: { messages: { id: string; fromMe?: boolean }[]; star: boolean } }
  | { markRead: boolean; lastMessages?: LastMessageList }
  | { delete: true; lastMessages?: LastMessageList }
  | { contact: { fullName?: string; firstName?: string; saveOnPrimaryAddressbook?: boolean } | null }
  | { disableLinkPreviews: { isPreviewsDisabled: boolean } }
  | { addLabel: LabelActionBody }
  | { addChatLabel: { labelId: string } }
  | { removeChatLabel: { labelId: string } }
  | { addMessageLabel: { labelId: string; messageId: string } }
  | { removeMessageLabel: { labelId: string; messageId: string } }
/** The app-state patch for a `ChatModification`, as Baileys builds it (send it with `sock.appPatch`). */
export declare function chatModificationToAppPatch(mod: ChatModification, jid: string): WAPatchCreate
/** The first index part of a label association. */
export declare const LabelAssociationType: { readonly Chat: 'label_jid'; readonly Message: 'label_message' }
/** Baileys' upload function: uploads an encrypted file (`sock.waUploadToServer` is one). */
export type WAMediaUploadFunction = (encFilePath: string, options: { fileEncSha256B64: string; mediaType: string; timeoutMs?: number }) => Promise<{ mediaUrl: string; directPath: string }>
export interface MediaGenerationOptions {
  /** Uploads the encrypted file: pass `sock.waUploadToServer`. */
  upload: WAMediaUploadFunction
  /** Media keys of another type, e.g. `'thumbnail-link'`. */
  mediaTypeOverride?: string
  mediaUploadTimeoutMs?: number
}
/** Encrypts and uploads media; resolves to the `proto.IMessage` carrying it (`{ imageMessage: { url, directPath, mediaKey, ... } }`). */
export declare function prepareWAMessageMedia(message: AnyMessageContent, options: MediaGenerationOptions): Promise<WAMessageContent>
/** The `proto.IMessage` for any content, as `sendMessage` builds it (media uploaded with `options.upload`); send it with `relayMessage`. */
export declare function generateWAMessageContent(
  message: AnyMessageContent,
  options?: Partial<MediaGenerationOptions> & { backgroundColor?: string; font?: number; getUrlInfo?: (url: string) => Promise<WAUrlInfo | undefined> },
): Promise<WAMessageContent>
/** The first https link of a text that gets a preview, as Baileys finds it. */
export declare function extractUrlFromText(text: string): string | undefined
/** Fetches a page's preview (title, description, 192-px thumbnail), like Baileys' `getUrlInfo`; undefined for a page without a title. */
export declare function getUrlInfo(
  url: string,
  options?: { thumbnailWidth?: number; fetchOpts?: { timeout?: number }; uploadImage?: WAMediaUploadFunction; logger?: ShardLogger },
): Promise<WAUrlInfo | undefined>
/** protobufjs' static methods of one message type, over plain objects. */
export interface ProtoCodec<T = Record<string, unknown>> {
  create(properties?: Partial<T>): T
  fromObject(object: Record<string, unknown>): T
  toObject(message: T): T
  encode(message: T): { finish(): Buffer }
  decode(bytes: Uint8Array): T
  verify(message: unknown): string | null
}
/** A protobufjs-style enum: `Type.REVOKE === 0`, and `Type[0] === 'REVOKE'`. */
export type ProtoEnum = { readonly [name: string]: number }
/**
 * Baileys' `proto` namespace: every WhatsApp message type (`proto.Message`,
 * `proto.Message.ImageMessage`, `proto.WebMessageInfo`, ...) with `create`/`fromObject`/
 * `toObject`/`encode`/`decode`/`verify`, and every enum (`proto.Message.ProtocolMessage.Type`).
 */
export declare const proto: {
  Message: ProtoCodec<WAMessageContent> & { [nested: string]: any }
  WebMessageInfo: ProtoCodec<WAMessage> & { StubType: ProtoEnum; Status: ProtoEnum; [nested: string]: any }
  HistorySync: ProtoCodec & { HistorySyncType: ProtoEnum; [nested: string]: any }
  [type: string]: any
}
/** Baileys' `WAMessageStubType` (`proto.WebMessageInfo.StubType`). */
export declare const WAMessageStubType: ProtoEnum
/** The author of a message key: `meId` for our own, else the participant or the chat. */
export declare function getKeyAuthor(key: WAMessageKey | undefined | null, meId?: string): string
/** A poll's results from its `pollUpdates`: one entry per option (then `'Unknown'` hashes), each with its voters. */
export declare function getAggregateVotesInPollMessage(
  poll: { message?: WAMessageContent | null; pollUpdates?: PollUpdate[] | null },
  meId?: string,
): { name: string; voters: string[] }[]
export declare function delay(ms: number): Promise<void>
/** `[os, browser, osVersion]` for the `browser` socket option. */
export declare const Browsers: {
  ubuntu(browser: string): [string, string, string]
  macOS(browser: string): [string, string, string]
  baileys(browser: string): [string, string, string]
  windows(browser: string): [string, string, string]
  appropriate(browser: string): [string, string, string]
}
/** The built-in WhatsApp Web version; nothing is fetched (`isLatest` is false). */
export declare function fetchLatestBaileysVersion(options?: unknown): Promise<{ version: [number, number, number]; isLatest: boolean }>
/** Kept so Baileys start-up code runs: the manager owns the session folders; this reads and writes nothing. */
export declare function useMultiFileAuthState(folder: string): Promise<{
  state: { creds: Record<string, unknown>; keys: { get(type: string, ids: string[]): Promise<Record<string, unknown>>; set(data: unknown): Promise<void> } }
  saveCreds(): Promise<void>
}>
/** Returns `store` as it is: the engine caches keys itself. */
export declare function makeCacheableSignalKeyStore<T>(store: T, logger?: unknown, cache?: unknown): T
/** Downloads and verifies media from its `{ mediaKey, directPath, url }` (e.g. `msg.message.imageMessage`). */
export declare function downloadContentFromMessage(
  downloadable: { mediaKey?: Uint8Array | null; directPath?: string | null; url?: string | null; [field: string]: unknown },
  type: 'image' | 'video' | 'gif' | 'ptv' | 'audio' | 'ptt' | 'document' | 'sticker',
  options?: { mediaHost?: string },
): Promise<Readable>

declare const _default: { ShardManager: typeof ShardManager; ShardInfo: typeof ShardInfo; ShardError: typeof ShardError }
export default _default
